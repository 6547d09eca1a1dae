"""MD5, SHA-1 and SHA-256 of evidence in one read pass, the digests running in parallel.

Why this shape: acquisition must read the media exactly once (it may be slow, fragile or huge)
and still record the three digests courts and tools expect. Done naively - one loop updating three
hashes - the digests run one after another on one core, ~1.7x the time of ``md5sum``. hashlib
releases the GIL while it digests a buffer larger than 2 KiB, so digests can run in other threads
while the calling thread keeps reading:

    caller thread:  read chunk ─put─▶ [bounded queue] ─▶ lane thread: md5.update(chunk)
                    sha1.update(chunk); sha256.update(chunk)     (the cheapest lane, inline)

Chunks are immutable ``bytes`` shared by every lane (no copies); the bounded queues (a few 4 MiB
chunks each) give back-pressure, so memory stays small whatever the media size. Algorithms are
packed into at most one lane per CPU, balanced by a one-off micro-benchmark of each algorithm on
this machine (longest-processing-time-first). With SHA-NI on a 2-core machine MD5 (~770 MiB/s)
is the slowest and gets a lane to itself; SHA-1 and SHA-256 (~1.9 GB/s each) share the other, and
that cheapest lane runs in the calling thread between reads, so there are only as many busy
threads as cores. MD5 is inherently sequential: its single lane is the floor, and OpenSSL's MD5
is a little faster than coreutils' ``md5sum``, hence a ratio below 1.

Measured on the 2-core build machine, 1 GiB in page cache, while it was quiet (ratios to an
``md5sum`` of the same file in the same run, ~1.46 s): single-thread loop over the three digests
2.49 s (1.71x); one thread per digest 0.97-1.0x; MD5 thread + SHA-1/SHA-256 thread + reader
0.89-0.96x; the shipped layout (MD5 thread, SHA-1+SHA-256 inline) best 0.91x. 1 MiB and 4 MiB
chunks measure the same, 16 MiB is slower. The three digests need ~2.6 CPU-seconds per GiB
whatever the layout, so when other processes hold a core every layout degrades alike (1.3-1.9x
seen with one core busy elsewhere): ``bench/acquire_vs_md5sum.py`` prints CPU seconds to tell.

Streams of a single chunk (small files, archive members) are hashed inline: starting threads
would cost more than it saves.

``exhibit acquire`` runs all this in a thread of its own while the command is still starting up
(:mod:`custody.early_read`), so the "calling thread" above is then that thread, and the command's
main thread, importing SQLAlchemy and opening the case meanwhile, is a third thread wanting the
GIL: early_read lowers the interpreter's switch interval while they overlap, so that a lane
finishing a chunk gets the GIL back within 0.5 ms rather than 5.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from custody.errors import EvidenceError

if TYPE_CHECKING:
    from custody.media import ImageReader

DEFAULT_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256")
CHUNK_SIZE = 4 * 1024 * 1024  # 1 MiB and 4 MiB measure the same; 16 MiB is slower (cache misses)
QUEUE_DEPTH = 4  # chunks in flight per lane: enough to absorb jitter, small enough for memory

Progress = Callable[[int], None]


def _check_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(a.lower() for a in algorithms))
    if not names:
        raise ValueError("no hash algorithm given")
    for name in names:
        hashlib.new(name)  # ValueError for an unknown algorithm, before any evidence is read
    return names


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@functools.cache
def _relative_cost(name: str) -> float:
    """Seconds this machine needs to digest 1 MiB with ``name`` (best of 3 short runs)."""
    block = b"\xa5" * (256 * 1024)
    best = float("inf")
    for _ in range(3):
        h = hashlib.new(name)
        start = time.perf_counter()
        for _ in range(4):
            h.update(block)
        best = min(best, time.perf_counter() - start)
    return best


def plan_lanes(algorithms: Sequence[str], lanes: int | None = None) -> list[tuple[str, ...]]:
    """Group ``algorithms`` into at most ``lanes`` threads (default: one per CPU) of similar cost.

    Longest-processing-time-first: the costliest algorithm goes to the least loaded lane. Lanes
    come out costliest first (so the last is the cheapest: :func:`hash_stream` runs it inline).
    """
    names = _check_algorithms(algorithms)
    count = max(1, min(len(names), lanes if lanes is not None else _cpu_count()))
    loads = [0.0] * count
    groups: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(names, key=_relative_cost, reverse=True):
        lane = loads.index(min(loads))
        groups[lane].append(name)
        loads[lane] += _relative_cost(name)
    order = sorted(range(count), key=lambda i: loads[i], reverse=True)
    return [tuple(groups[i]) for i in order if groups[i]]


_STOP = object()


class _Lane(threading.Thread):
    """A thread feeding every chunk it is given to its hashes.

    It never dies early: after an error it keeps draining its queue (so the reader never blocks
    on a full queue) and the error is re-raised by the caller after ``join``.
    """

    def __init__(self, names: tuple[str, ...], depth: int) -> None:
        super().__init__(name=f"hash-{'+'.join(names)}", daemon=True)
        self.hashes = {name: hashlib.new(name) for name in names}
        self.queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None

    def run(self) -> None:
        updates = [h.update for h in self.hashes.values()]
        while True:
            chunk = self.queue.get()
            if chunk is _STOP:
                return
            if self.error is not None:
                continue
            try:
                for update in updates:
                    update(chunk)  # type: ignore[arg-type]
            except BaseException as exc:
                self.error = exc


def hash_stream(
    read_chunks: Iterable[bytes],
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Digest every chunk of ``read_chunks`` with each of ``algorithms``; one pass, parallel lanes.

    ``read_chunks`` is consumed in the calling thread (so a reader that is not thread-safe stays
    in one thread); chunks must not be mutated afterwards (``bytes`` never are). ``progress``, if
    given, is called in the calling thread with the cumulative number of bytes read after each
    chunk (the digests lag by at most a few chunks). Returns ``{algorithm: lower-case hex}``.
    An exception from the iterable stops the lanes and propagates unchanged.
    """
    names = _check_algorithms(algorithms)
    chunks = iter(read_chunks)
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if second is None:  # zero or one chunk: threads would only add overhead
        hashes = {name: hashlib.new(name) for name in names}
        if first is not None:
            for h in hashes.values():
                h.update(first)
            if progress is not None:
                progress(len(first))
        return {name: h.hexdigest() for name, h in hashes.items()}

    assert first is not None
    groups = plan_lanes(names)
    # With two or more lanes, the calling thread is one of them (the cheapest, as it also reads):
    # one thread fewer than lanes+reader means one fewer to fight for the CPUs.
    inline = {name: hashlib.new(name) for name in groups.pop()} if len(groups) > 1 else {}
    inline_updates = [h.update for h in inline.values()]
    lanes = [_Lane(group, QUEUE_DEPTH) for group in groups]
    for lane in lanes:
        lane.start()
    done = 0
    try:
        for chunk in itertools.chain((first, second), chunks):
            for lane in lanes:
                lane.queue.put(chunk)
            for update in inline_updates:
                update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
            if any(lane.error is not None for lane in lanes):
                break
    finally:
        for lane in lanes:
            lane.queue.put(_STOP)
        for lane in lanes:
            lane.join()
    for lane in lanes:
        if lane.error is not None:
            raise lane.error
    digests = {name: h.hexdigest() for name, h in inline.items()}
    for lane in lanes:
        digests.update((name, h.hexdigest()) for name, h in lane.hashes.items())
    return {name: digests[name] for name in names}


def iter_reader(reader: ImageReader, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The media data of ``reader`` from offset 0 to ``reader.size``, in ``chunk_size`` pieces.

    A short read before the end means the media shrank or a segment vanished: that is an
    :class:`EvidenceError`, never a silently shorter hash.
    """
    size = reader.size
    offset = 0
    while offset < size:
        want = min(chunk_size, size - offset)
        data = reader.read_at(offset, want)
        if not data:
            name = reader.segments[0] if reader.segments else "<image>"
            raise EvidenceError(
                f"{name}: media ended at byte {offset}, {size - offset} bytes before its size of {size}",
                hint="a segment file may have been truncated or removed while reading",
            )
        offset += len(data)
        yield data


def hash_reader(
    reader: ImageReader,
    progress: Progress | None = None,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, str]:
    """Digests of the media data of ``reader`` (not of its container files)."""
    return hash_stream(iter_reader(reader, chunk_size), algorithms, progress)


def iter_fd(fd: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Every byte of the open file ``fd`` from offset 0, by ``pread`` (the file offset is not moved)."""
    offset = 0
    while True:
        data = os.pread(fd, chunk_size, offset)
        if not data:
            return
        offset += len(data)
        yield data


def hash_file(
    path: Path | str,
    progress: Progress | None = None,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, str]:
    """Digests of the bytes of the file ``path``, opened read-only (``O_NOATIME`` when permitted)."""
    from custody.media import open_readonly

    try:
        fd = open_readonly(path)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    try:
        return hash_stream(iter_fd(fd, chunk_size), algorithms, progress)
    finally:
        os.close(fd)


def hash_bytes(data: bytes, algorithms: Sequence[str] = DEFAULT_ALGORITHMS) -> dict[str, str]:
    """Digests of a small in-memory value (a manifest text, say)."""
    return {name: hashlib.new(name, data).hexdigest() for name in _check_algorithms(algorithms)}
