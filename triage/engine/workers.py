"""The worker processes of a run: each opens the evidence itself and reads its share of the files.

The run's files are cut into chunks (at most :data:`CHUNK_FILES` files or about
:data:`CHUNK_BYTES`): one chunk is one task for a worker and one savepoint of the run's storing
transaction (writes.ChunkGroup: a few chunks to a commit), big enough that the per-chunk costs
(pickling, storing) vanish and small enough to balance two workers. :func:`processing` hands
the chunks to a pool of forked processes (one per core), or reads them in this process when one
worker is asked for or there is a single chunk, and gives back each chunk's
:class:`~triage.engine.results.FileResult` list as it finishes. Disk images are always read in
pool workers, watched for a read that makes no progress
(triage/engine/stall.py): such a worker is ended, its file returned as unread, and the chunks
not finished are read again by a new pool.

The forked workers inherit the run's job list and get only ``(start, stop)`` ranges of it, never
pickled entries; they return results, and never touch the database.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from triage.engine.per_file import FileJob, FileProcessor, PathIndex
from triage.engine.results import FileResult
from triage.engine.stall import NO_HEARTBEAT, STALL_ENV, Heartbeat, ReadWatch, stall_seconds
from triage.keywords.match import KeywordSet
from triage.keywords.terms import KeywordSpec
from triage.plugin.contract import ParseContext, Plugin
from triage.plugin.options import PluginOptions
from triage.plugin.scratch import Scratch
from triage.processes import die_with_parent
from triage.sources.open import IMAGE_KINDS, open_source

CHUNK_FILES = 1024
SPILL_FOLDER = "spill"  # in the run's scratch folder: files' many records (per_file.SpilledRecords)
CHUNK_BYTES = 128 * 1024 * 1024
TAIL_SHARE = 4  # near the end, a chunk holds at most 1/(TAIL_SHARE x workers) of the files left
TAIL_FILES = 32  # ... and at least this many (each chunk costs a result to pickle and store)

#: A finished chunk: its jobs and their results, in the same order.
Finished = tuple[Sequence[FileJob], list[FileResult]]
#: Seconds between two calls of ``Meanwhile.waiting`` while the workers read.
WAIT_SECONDS = 0.2
#: A single chunk is read by a forked worker (not in the run's process) when one of its files is
#: at least this big: its records (a chat database's) can then be stored while it is read.
POOL_FOR_BYTES = 16 * 1024 * 1024


class Meanwhile(Protocol):
    """What the run does while workers read (published.Published's storing)."""

    def waiting(self) -> None:
        """Called about every :data:`WAIT_SECONDS` while no chunk is finished (forked workers),
        and before each chunk read in this process."""

    def restarting(self) -> None:
        """The pool broke (a stalled worker was ended): called before the chunks it did not
        finish are given to a new pool."""


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker needs to read files for the run (made once, by the run)."""

    source_path: str
    kind: str  # as recorded at acquisition (custody.media.detect_source)
    source_options: dict[str, object]  # what opening the evidence needs (a backup's password)
    plugin_options: PluginOptions  # every plugin's --option values; each plugin sees its own
    plugin_classes: tuple[type[Plugin], ...]  # the run's plugins (a worker makes its own instances)
    exhibit: str
    hashes: tuple[str, ...]
    scratch_parent: Path  # each chunk's scratch folder is made in it
    scratch_limit: int  # bytes of scratch the whole run may hold at once, shared by the workers
    keywords: KeywordSpec | None = None  # terms searched in every file read (triage/keywords)


@dataclass(frozen=True, slots=True)
class _Worker:
    """This process as a worker: its reader and its share of the scratch budget."""

    processor: FileProcessor
    scratch_parent: Path
    scratch_share: int
    plugin_options: PluginOptions


_worker: _Worker | None = None  # set by _init_worker, in each worker (or in the run for one worker)
_jobs: Sequence[FileJob] = ()  # the run's jobs, set before the fork, inherited by the workers
_index: PathIndex | None = None  # the walk's files by path (FileItem.find), inherited likewise


def chunks(
    jobs: Sequence[FileJob], max_files: int | None = None, max_bytes: int | None = None, workers: int = 0
) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of ``jobs``: at most ``max_files`` files or about ``max_bytes``
    (a distributed run may cut smaller jobs to spread them over more machines).

    With ``workers`` the chunks shrink towards the end of the list (guided scheduling): each holds
    at most the files left divided by :data:`TAIL_SHARE` times ``workers``, and at least
    :data:`TAIL_FILES` (never more than ``max_files``); a list of at most ``max_files`` files stays
    one chunk. The files of a folder are walked together, and a folder of photos costs a hundred
    times a folder of caches: cut by count alone, a phone's last chunk (1,024 pictures, seven
    seconds of perceptual hashing) was read by one worker while the other had nothing left.
    ``max_files`` and ``max_bytes`` default to :data:`CHUNK_FILES` and :data:`CHUNK_BYTES` as they
    are when called (tests set them smaller).
    """
    if max_files is None:
        max_files = CHUNK_FILES
    if max_bytes is None:
        max_bytes = CHUNK_BYTES
    spans = []
    first = 0
    size = 0
    total = len(jobs)

    def most(start: int) -> int:
        if not workers or total <= max_files:  # one chunk, read as before (in this process for a folder)
            return max_files
        return min(max_files, max(TAIL_FILES, -(-(total - start) // (TAIL_SHARE * workers))))

    limit = most(0)
    for i, job in enumerate(jobs):
        size += job.entry.size
        if i + 1 - first >= limit or size >= max_bytes:
            spans.append((first, i + 1))
            first, size = i + 1, 0
            limit = most(first)
    if first < len(jobs):
        spans.append((first, len(jobs)))
    return spans


@contextmanager
def processing(
    jobs: Sequence[FileJob],
    setup: WorkerSetup,
    workers: int,
    index: PathIndex | None = None,
    meanwhile: Meanwhile | None = None,
) -> Iterator[Iterator[Finished]]:
    """Read ``jobs`` with up to ``workers`` processes: yields an iterator of finished chunks.

    On entry the workers are forked and given their first chunks, so the caller can store other
    rows while they read (opening its database connection only now: a forked worker must not
    inherit one). Chunks arrive in the order they finish; while none does, ``meanwhile`` is
    called (forked workers only). Leaving early (an error, Ctrl-C) cancels the chunks not
    started and waits for the workers.
    """
    global _index
    _index = index  # inherited by forked workers, as the job list is
    try:
        with _processing(jobs, setup, workers, meanwhile) as finished:
            yield finished
    finally:
        _index = None


@contextmanager
def _processing(
    jobs: Sequence[FileJob], setup: WorkerSetup, workers: int, meanwhile: Meanwhile | None
) -> Iterator[Iterator[Finished]]:
    spans = chunks(jobs, workers=workers)
    # Disk images are read by The Sleuth Kit, which a crafted file system can keep inside one
    # call for minutes: they are always read in watched pool workers (one fork, even for one
    # chunk), so a stalled read can be ended (triage/engine/stall.py).
    watch = (
        ReadWatch(max(1, min(workers, len(spans))), stall_seconds()) if setup.kind in IMAGE_KINDS else None
    )
    # One chunk of a folder is read in this process, unless a big file in it may give records
    # to store while it is read.
    overlap = meanwhile is not None and any(job.entry.size >= POOL_FOR_BYTES for job in jobs)
    if spans and (watch is not None or (workers > 1 and (len(spans) > 1 or overlap))):
        runner = _Pool(jobs, spans, setup, min(workers, len(spans)), watch, meanwhile)
        try:
            yield runner.finished()
        except BaseException:
            runner.close(cancel=True)
            raise
        runner.close(cancel=False)
        return
    _init_worker(setup, 1)
    try:
        yield _read_here(jobs, spans, meanwhile)
    finally:
        _close_worker()


def _read_here(
    jobs: Sequence[FileJob], spans: list[tuple[int, int]], meanwhile: Meanwhile | None
) -> Iterator[Finished]:
    """The chunks read in this process, one after the other; ``meanwhile`` is told before each
    read, as the pool tells it while its workers read (the run then commits what it stored: it
    holds no transaction open while files are read)."""
    for start, stop in spans:
        if meanwhile is not None:
            meanwhile.waiting()
        yield jobs[start:stop], process_chunk(jobs[start:stop], start)


class _Pool:
    """The forked workers of a run, restarted when a stalled worker had to be ended.

    A worker stuck in one read (:class:`~triage.engine.stall.ReadWatch`) is killed; the pool is
    then broken (concurrent.futures ends the other workers too), so the chunks not finished are
    given to a new pool, cut around the abandoned file, which is returned as unread.
    """

    def __init__(
        self,
        jobs: Sequence[FileJob],
        spans: list[tuple[int, int]],
        setup: WorkerSetup,
        workers: int,
        watch: ReadWatch | None,
        meanwhile: Meanwhile | None = None,
    ) -> None:
        global _jobs
        self.jobs = jobs
        self.queue = deque(spans)
        self.setup = setup
        self.workers = workers
        self.watch = watch
        self.meanwhile = meanwhile
        self.pending: dict[Future[list[FileResult]], tuple[int, int]] = {}
        self.abandoned: dict[int, float] = {}  # job index -> seconds it was stalled when ended
        self.reported: set[int] = set()
        _jobs = jobs  # inherited by the forked workers; see _process_span
        # Keep the collector off what the workers inherit: a collection in a worker would write to
        # every inherited object (copy-on-write faults for the whole walk).
        gc.freeze()
        self.executor = self._start()
        self._feed()

    def _start(self) -> ProcessPoolExecutor:
        if self.watch is not None:
            self.watch.reset()
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_pool_worker,
            initargs=(os.getpid(), self.setup, self.workers, self.watch),
        )

    def _feed(self) -> None:
        """Keep two chunks per worker queued, so the workers stay busy while the caller stores."""
        while self.queue and len(self.pending) < self.workers * 2:
            span = self.queue.popleft()
            self.pending[self.executor.submit(_process_span, *span)] = span

    def finished(self) -> Iterator[Finished]:
        poll = None if self.watch is None else min(1.0, self.watch.limit / 4)
        if self.meanwhile is not None:
            poll = min(poll or WAIT_SECONDS, WAIT_SECONDS)
        while self.pending:
            done, _ = wait(self.pending, timeout=poll, return_when=FIRST_COMPLETED)
            if not done and self.meanwhile is not None:
                self.meanwhile.waiting()
            broken = False
            for fut in done:
                start, stop = self.pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    yield self.jobs[start:stop], fut.result()
                elif isinstance(exc, BrokenProcessPool) and self.abandoned:
                    self.queue.appendleft((start, stop))  # a worker we ended took the pool down
                    broken = True
                else:
                    raise exc
            if broken:
                yield from self._restart()
            else:
                self._end_stalled()
            self._feed()

    def _end_stalled(self) -> None:
        if self.watch is None:
            return
        for stalled in self.watch.stalled():
            if stalled.job not in self.abandoned:
                self.abandoned[stalled.job] = stalled.seconds
                with contextlib.suppress(ProcessLookupError):  # it finished meanwhile
                    os.kill(stalled.pid, signal.SIGKILL)

    def _restart(self) -> Iterator[Finished]:
        """Collect what the broken pool finished, start a new one for the rest."""
        for fut in list(self.pending):  # the broken pool fails all of them promptly
            start, stop = self.pending.pop(fut)
            if fut.exception() is None:
                yield self.jobs[start:stop], fut.result()
            else:
                self.queue.appendleft((start, stop))
        self.executor.shutdown(wait=True)
        if self.meanwhile is not None:
            self.meanwhile.restarting()
        spans = []
        for start, stop in sorted(self.queue):
            first = start
            for index in range(start, stop):
                if index in self.abandoned and index not in self.reported:
                    self.reported.add(index)
                    if first < index:
                        spans.append((first, index))
                    first = index + 1
                    yield [self.jobs[index]], [_abandoned(self.jobs[index], self.abandoned[index])]
            if first < stop:
                spans.append((first, stop))
        self.queue = deque(spans)
        self.executor = self._start()

    def close(self, cancel: bool) -> None:
        global _jobs
        try:
            self.executor.shutdown(wait=True, cancel_futures=cancel)
        finally:
            _jobs = ()
            gc.unfreeze()


def _abandoned(job: FileJob, seconds: float) -> FileResult:
    """The result of a file whose read was ended: unread, with the reason as its error."""
    return FileResult.unread(
        job.key,
        f"ReadAbandoned: the evidence reader made no progress on this file for {seconds:.0f} s "
        f"and was ended ({STALL_ENV} sets the limit); a damaged or crafted file system can keep "
        "The Sleuth Kit inside one file for minutes (icat is as slow)",
    )


def _init_pool_worker(parent_pid: int, setup: WorkerSetup, workers: int, watch: ReadWatch | None) -> None:
    """Initializer of a pool worker: die with the run, then open the evidence.

    A worker must never outlive its run (``kill -9`` of the run would otherwise leave workers
    reading the evidence): ask Linux to SIGKILL this process when its parent dies, then check
    the parent is still the run, since it may have died between the fork and the request.
    """
    die_with_parent(parent_pid)
    heartbeat = NO_HEARTBEAT if watch is None else watch.claim()
    _init_worker(setup, workers, heartbeat)


def _init_worker(setup: WorkerSetup, workers: int, heartbeat: Heartbeat = NO_HEARTBEAT) -> None:
    global _worker
    plugins = [cls() for cls in setup.plugin_classes]
    processor = FileProcessor(
        open_source(setup.source_path, setup.kind, options=setup.source_options),
        setup.exhibit,
        setup.hashes,
        plugins,
        _index,
        heartbeat,
        setup.scratch_parent / SPILL_FOLDER,
        KeywordSet(setup.keywords) if setup.keywords is not None else None,
    )
    # the run's limit split between the workers, so together they never exceed it
    _worker = _Worker(processor, setup.scratch_parent, setup.scratch_limit // workers, setup.plugin_options)


def _close_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.processor.source.close()
        _worker = None


def _process_span(start: int, stop: int) -> list[FileResult]:
    """Process ``jobs[start:stop]`` of the job list this forked worker inherited from the run."""
    return process_chunk(_jobs[start:stop], start)


def process_chunk(jobs: Sequence[FileJob], first: int = 0) -> list[FileResult]:
    """Read each of ``jobs`` (numbers ``first``... of the run's list) in this worker, with one
    scratch folder for the chunk."""
    assert _worker is not None, "not a worker: _init_worker was not called"
    processor = _worker.processor
    heartbeat = processor.heartbeat
    with Scratch(_worker.scratch_parent, limit=_worker.scratch_share) as scratch:
        ctx = ParseContext(scratch=scratch, run_options=_worker.plugin_options)
        results = []
        for number, job in enumerate(jobs, first):
            heartbeat.begin(number)
            results.append(processor.process(job, ctx, scratch))
        heartbeat.idle()
        return results
