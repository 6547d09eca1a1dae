"""Run the C walk of one file system in a forked child, so damaged evidence cannot hang or drown us.

Why: libtsk can be driven by a crafted or damaged file system into states no caller can undo from
inside the process. A mutated ISO 9660 makes ``tsk_fs_dir_find_orphans`` wait for ever on TSK's
own lock (``fls`` hangs the same way), and a corrupt ext3 inode makes it allocate gigabytes (``fls
-r`` reaches 6.6 GB on a 5 MB image). The deadlocked thread holds TSK's lock and the GIL, so no
timer, signal handler or thread of ours could recover in-process. So each file system is walked in
a child process (fork: no re-import, the evidence reader is inherited) that:

* has its address space capped (``RLIMIT_AS``: what it has at the fork plus
  ``EXHIBIT_WALK_MEMORY_MB``, 1024 by default), so an allocation storm ends in a failed
  allocation inside the child instead of in the examiner's machine swapping;
* bumps a counter in memory shared with the parent at every image read and every entry (one
  store, see ``progress`` in triage/sources/_fastwalk.c); the parent ends the child when the counter has
  not moved for ``EXHIBIT_WALK_STALL_SECONDS`` (60 by default) while the parent itself was waiting.
  Time spent delivering output (``exhibit ls -r | less`` waiting for the reader) does not count,
  in the parent or in a child writing to stdout (it flags that in the shared page);
* streams everything back through a pipe: entries in batches of 4096 (``marshal``), warnings one
  by one, ``ls`` lines in the C walk's 256 KB blocks (or writes those to stdout itself, for
  ``exhibit ls``: no copy through the pipe), so a walk that is abandoned still leaves what it
  had found;
* dies with its parent (``PR_SET_PDEATHSIG``): it holds the evidence open.

A file system whose walk is abandoned raises :class:`~triage.errors.WalkAbandoned` naming its
offset, type and the reason; callers record it and go on with the other file systems.

Limits: the guard covers the C walk (listing and triage's entry walk), not the pytsk3 fallback
walk nor content reads; ``EXHIBIT_WALK_GUARD=0`` walks in-process (no guard) for debugging.
"""

from __future__ import annotations

import marshal
import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from triage.errors import TriageError, WalkAbandoned

STALL_ENV = "EXHIBIT_WALK_STALL_SECONDS"
MEMORY_ENV = "EXHIBIT_WALK_MEMORY_MB"
GUARD_ENV = "EXHIBIT_WALK_GUARD"
DEFAULT_STALL_SECONDS = 60.0
DEFAULT_MEMORY_MB = 1024

_HEADER = struct.Struct("<cI")  # frame: kind, payload length
_OUT, _WARN, _ROWS, _DONE, _ERROR, _NOMEM = b"O", b"W", b"R", b"D", b"E", b"M"


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a walk may make no progress, and how much memory beyond the fork it may take."""

    stall_seconds: float
    memory_mb: int


def _env_number(name: str, default: float, *, integer: bool) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = -1
    if not value > 0 or value != value or value == float("inf"):
        raise TriageError(
            f"{name}={raw!r} is not a positive {'whole ' if integer else ''}number",
            hint=f"set {name} to e.g. {int(default)} or unset it (see docs/examiner.md)",
        )
    return value


def limits_from_env() -> Limits:
    """The limits the environment sets (docs/examiner.md), or the defaults."""
    return Limits(
        stall_seconds=_env_number(STALL_ENV, DEFAULT_STALL_SECONDS, integer=False),
        memory_mb=int(_env_number(MEMORY_ENV, DEFAULT_MEMORY_MB, integer=True)),
    )


def guard_enabled() -> bool:
    """False when ``EXHIBIT_WALK_GUARD=0`` or this platform cannot fork."""
    return hasattr(os, "fork") and os.environ.get(GUARD_ENV, "1") != "0"


def run_guarded(
    walk: Callable[..., int],
    how: dict[str, Any],
    *,
    offset: int,
    fs_type: str,
    limits: Limits | None = None,
    out_fd: int | None = None,
) -> int:
    """``walk(**how)`` in a child process; returns its entry count.

    ``how`` holds the C walk's keyword options; its ``write``, ``warn`` and ``collect`` are served
    in this process with what the child sends. With ``out_fd`` (``exhibit ls`` writing to stdout)
    the child writes the output blocks to that descriptor itself instead (no copy through the
    pipe); the caller has flushed whatever it buffered for it. Raises OSError as the walk does (libtsk cannot open
    the file system), :class:`WalkAbandoned` when the child hangs, runs out of memory or dies.
    """
    limits = limits or limits_from_env()
    progress = mmap.mmap(-1, mmap.PAGESIZE)  # anonymous and shared with the child
    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its behaviour is tested through the parent
        os.close(read_fd)
        _child(walk, how, write_fd, progress, parent, limits.memory_mb, out_fd)
    os.close(write_fd)
    child = _Child(pid)
    try:
        return _serve(child, read_fd, progress, how, offset, fs_type, limits)
    finally:
        os.close(read_fd)
        child.reap(kill=True)
        progress.close()


def _widen(fd: int) -> None:
    """A 1 MiB pipe (Linux) instead of 64 KiB: fewer switches between child and parent per block."""
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    if sys.platform.startswith("linux"):
        try:
            fcntl.fcntl(fd, set_size, 1 << 20)
        except OSError:  # above /proc/sys/fs/pipe-max-size for this user: the default works too
            return


# -- the child --------------------------------------------------------------------------------------


def _child(
    walk: Callable[..., int],
    how: dict[str, Any],
    fd: int,
    progress: mmap.mmap,
    parent: int,
    memory_mb: int,
    out_fd: int | None,
) -> None:
    """Walk and send; never returns (``os._exit``: no atexit handler or buffer of the parent's).

    Exit status 0 after a report was sent (done or an error), 3 when out of memory, 4 when even the
    report could not be sent; the parent explains any child that ends without a report.
    """

    def send(kind: bytes, payload: bytes) -> None:
        data = memoryview(_HEADER.pack(kind, len(payload)) + payload)
        while data:
            data = data[os.write(fd, data) :]

    report: tuple[bytes, bytes]
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it
        from triage.sources import _fastwalk

        _fastwalk.die_with_parent(parent)
        _cap_memory(memory_mb)
        options = dict(how)
        if how.get("write") is not None and out_fd is not None:

            def write_out(block: bytes) -> None:
                progress[8] = 1  # blocked on the reader of the output (a pager): not a stall
                data = memoryview(block)
                while data:
                    data = data[os.write(out_fd, data) :]
                progress[8] = 0

            options["write"] = write_out
        elif how.get("write") is not None:
            options["write"] = lambda block: send(_OUT, bytes(block))
        options["warn"] = lambda where, problem: send(_WARN, marshal.dumps((where, problem)))
        if how.get("collect") is not None:
            rows: list[tuple[Any, ...]] = []

            def flush_rows() -> None:
                send(_ROWS, marshal.dumps(rows))
                rows.clear()

            options["collect"] = rows
            options["flush_rows"] = flush_rows
        options["progress"] = progress
        report = (_DONE, marshal.dumps(walk(**options)))
    except MemoryError:
        report = (_NOMEM, b"")
    except BaseException as exc:  # sent to the parent, which raises it there
        try:  # the exception itself, so an evidence error keeps its type and hint
            pickled = pickle.dumps(exc)
        except Exception:
            pickled = b""
        report = (_ERROR, marshal.dumps((type(exc).__name__, str(exc), pickled)))
    code = 3 if report[0] == _NOMEM else 0
    try:
        send(*report)
    except BaseException:  # the pipe is gone or memory is: the exit status tells the parent
        code = code or 4
    os._exit(code)


def _cap_memory(memory_mb: int) -> None:
    """Cap the address space at what the child has now plus ``memory_mb``."""
    import resource

    try:
        with open("/proc/self/statm", "rb") as f:
            current = int(f.read().split()[0]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        current = 0  # no /proc: cap the budget alone, which is stricter
    cap = current + memory_mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or cap < soft:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


# -- the parent -------------------------------------------------------------------------------------


class _Child:
    """The walk's process; reaped once (its pid must never be signalled after, it may be reused)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None

    def reap(self, *, kill: bool) -> int:
        """Wait for the child (after SIGKILL when ``kill``) and return its wait status."""
        if self.status is None:
            if kill:
                os.kill(self.pid, signal.SIGKILL)  # not reaped yet, so the pid is still ours
            self.status = os.waitpid(self.pid, 0)[1]
        return self.status


def _serve(
    child: _Child,
    fd: int,
    progress: mmap.mmap,
    how: dict[str, Any],
    offset: int,
    fs_type: str,
    limits: Limits,
) -> int:
    """Deliver what the child sends until it is done; end it when it makes no progress."""
    where = f"the {fs_type} file system at byte {offset}"
    buffer = bytearray()
    last_tick = -1
    last_progress = time.monotonic()
    poll = min(1.0, limits.stall_seconds / 4)
    while True:
        ready, _, _ = select.select([fd], [], [], poll)
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= _HEADER.size:
                kind, size = _HEADER.unpack_from(buffer)
                if len(buffer) < _HEADER.size + size:
                    break
                with memoryview(buffer) as view:
                    payload = bytes(view[_HEADER.size : _HEADER.size + size])  # one copy
                del buffer[: _HEADER.size + size]
                done = _deliver(kind, payload, how, offset, fs_type, limits)
                if done is not None:
                    return done
            last_progress = time.monotonic()  # delivering may block (a pager): not the child's stall
            continue
        tick, writing = struct.unpack_from("=QB", progress)
        now = time.monotonic()
        if tick != last_tick or writing:
            last_tick, last_progress = tick, now
        elif now - last_progress >= limits.stall_seconds:
            child.reap(kill=True)
            raise WalkAbandoned(
                f"{where} could not be walked: The Sleuth Kit made no progress for "
                f"{limits.stall_seconds:g} s (damaged structures can make it wait for ever); "
                "entries found before that are kept",
                offset=offset,
                fs_type=fs_type,
                hint="the file system is damaged or crafted: examine it with TSK's fsstat and istat; "
                f"{STALL_ENV} sets the wait (docs/examiner.md)",
            )
    status = child.reap(kill=False)
    if os.WIFSIGNALED(status):
        why = f"the walk was ended by signal {signal.Signals(os.WTERMSIG(status)).name}"
        why += f" (a damaged structure, or more than the {limits.memory_mb} MB of memory it may use)"
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
        why = f"it needed more than the {limits.memory_mb} MB of memory a walk may use"
    else:
        why = "the walk ended without finishing"
    raise WalkAbandoned(
        f"{where} could not be walked: {why}; entries found before that are kept",
        offset=offset,
        fs_type=fs_type,
        hint="the file system is damaged or crafted: examine it with TSK's fsstat and istat; "
        f"{MEMORY_ENV} sets the memory a walk may use (docs/examiner.md)",
    )


def _deliver(
    kind: bytes, payload: bytes, how: dict[str, Any], offset: int, fs_type: str, limits: Limits
) -> int | None:
    """Hand one frame to the caller's callbacks; the entry count once the child is done."""
    where = f"the {fs_type} file system at byte {offset}"
    if kind == _OUT:
        how["write"](payload)
    elif kind == _WARN:
        how["warn"](*marshal.loads(payload))
    elif kind == _ROWS:
        how["collect"].extend(marshal.loads(payload))
    elif kind == _DONE:
        return int(marshal.loads(payload))
    elif kind == _NOMEM:
        raise WalkAbandoned(
            f"{where} could not be walked: it needed more than the {limits.memory_mb} MB of memory a "
            "walk may use (a damaged structure can ask for any amount); entries found before that are kept",
            offset=offset,
            fs_type=fs_type,
            hint=f"if the file system is sound and very large, raise {MEMORY_ENV} (docs/examiner.md)",
        )
    elif kind == _ERROR:
        name, message, pickled = marshal.loads(payload)
        if pickled:
            try:  # from our own forked child: the walk's exception, as raised there
                error = pickle.loads(pickled)
            except Exception:
                error = None
            if isinstance(error, BaseException):
                raise error
        if name == "OSError":
            raise OSError(message)
        if name == "KeyboardInterrupt":
            raise KeyboardInterrupt
        if name == "BrokenPipeError":  # `exhibit ls -r | head`: the reader has gone
            raise BrokenPipeError(message)
        raise RuntimeError(f"the walk of {where} failed: {name}: {message}")
    return None
