"""The worker processes of a run: each opens the evidence itself and reads its share of the files.

The run's files are cut into chunks (at most :data:`CHUNK_FILES` files or about
:data:`CHUNK_BYTES`): one chunk is one task for a worker and one transaction for the run, big
enough that the per-chunk costs (pickling, a commit and its fsync) vanish and small enough to
balance two workers. :func:`processing` hands the chunks to a pool of forked processes (one per
core), or reads them in this process when one worker is asked for or there is a single chunk,
and gives back each chunk's :class:`~triage.engine.results.FileResult` list as it finishes.

The forked workers inherit the run's job list and get only ``(start, stop)`` ranges of it, never
pickled entries; they return results, and never touch the database.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from triage.engine.per_file import FileJob, FileProcessor, PathIndex
from triage.engine.results import FileResult
from triage.plugin.contract import ParseContext, Plugin
from triage.plugin.options import PluginOptions
from triage.plugin.scratch import Scratch
from triage.sources.open import open_source

CHUNK_FILES = 1024
CHUNK_BYTES = 128 * 1024 * 1024

#: A finished chunk: its jobs and their results, in the same order.
Finished = tuple[Sequence[FileJob], list[FileResult]]


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


def chunks(jobs: Sequence[FileJob]) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of ``jobs``: at most CHUNK_FILES files or about CHUNK_BYTES."""
    spans = []
    first = 0
    size = 0
    for i, job in enumerate(jobs):
        size += job.entry.size
        if i + 1 - first >= CHUNK_FILES or size >= CHUNK_BYTES:
            spans.append((first, i + 1))
            first, size = i + 1, 0
    if first < len(jobs):
        spans.append((first, len(jobs)))
    return spans


@contextmanager
def processing(
    jobs: Sequence[FileJob], setup: WorkerSetup, workers: int, index: PathIndex | None = None
) -> Iterator[Iterator[Finished]]:
    """Read ``jobs`` with up to ``workers`` processes: yields an iterator of finished chunks.

    On entry the workers are forked and given their first chunks, so the caller can store other
    rows while they read (opening its database connection only now: a forked worker must not
    inherit one). Chunks arrive in the order they finish. Leaving early (an error, Ctrl-C) cancels
    the chunks not started and waits for the workers.
    """
    global _index
    _index = index  # inherited by forked workers, as the job list is
    try:
        with _processing(jobs, setup, workers) as finished:
            yield finished
    finally:
        _index = None


@contextmanager
def _processing(jobs: Sequence[FileJob], setup: WorkerSetup, workers: int) -> Iterator[Iterator[Finished]]:
    spans = chunks(jobs)
    if workers > 1 and len(spans) > 1:
        with _pool(jobs, spans, setup, workers) as finished:
            yield finished
        return
    _init_worker(setup, 1)
    try:
        yield ((jobs[start:stop], process_chunk(jobs[start:stop])) for start, stop in spans)
    finally:
        _close_worker()


@contextmanager
def _pool(
    jobs: Sequence[FileJob], spans: list[tuple[int, int]], setup: WorkerSetup, workers: int
) -> Iterator[Iterator[Finished]]:
    global _jobs
    _jobs = jobs  # inherited by the forked workers; see _process_span
    # Keep the collector off what the workers inherit: a collection in a worker would write to
    # every inherited object (copy-on-write faults for the whole walk).
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_pool_worker,
            initargs=(os.getpid(), setup, workers),
        ) as pool:
            pending: dict[Future[list[FileResult]], tuple[int, int]] = {}
            queue = iter(spans)
            for span in queue:
                pending[pool.submit(_process_span, *span)] = span
                if len(pending) >= workers * 2:
                    break

            def finished() -> Iterator[Finished]:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        start, stop = pending.pop(fut)
                        nxt = next(queue, None)
                        if nxt is not None:  # keep the workers fed while the caller stores
                            pending[pool.submit(_process_span, *nxt)] = nxt
                        yield jobs[start:stop], fut.result()

            try:
                yield finished()
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _jobs = ()
        gc.unfreeze()


def die_with_parent(parent_pid: int) -> None:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then exit at once if ``parent_pid`` is already gone.

    The one the engine uses. ``triage.sources._fastwalk`` has the same call in C for the walk
    guard's child (triage/sources/walkguard.py), but that module is built only where libtsk-dev
    and a compiler are present, and workers run for every kind of evidence (folders, archives,
    E01 through pytsk3), so the engine cannot rely on it.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util
        import signal

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the run died before the request took effect
        os._exit(1)


def _init_pool_worker(parent_pid: int, setup: WorkerSetup, workers: int) -> None:
    """Initializer of a pool worker: die with the run, then open the evidence.

    A worker must never outlive its run (``kill -9`` of the run would otherwise leave workers
    reading the evidence): ask Linux to SIGKILL this process when its parent dies, then check
    the parent is still the run, since it may have died between the fork and the request.
    """
    die_with_parent(parent_pid)
    _init_worker(setup, workers)


def _init_worker(setup: WorkerSetup, workers: int) -> None:
    global _worker
    plugins = [cls() for cls in setup.plugin_classes]
    processor = FileProcessor(
        open_source(setup.source_path, setup.kind, options=setup.source_options),
        setup.exhibit,
        setup.hashes,
        plugins,
        _index,
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
    return process_chunk(_jobs[start:stop])


def process_chunk(jobs: Sequence[FileJob]) -> list[FileResult]:
    """Read each of ``jobs`` in this worker, with one scratch folder for the chunk."""
    assert _worker is not None, "not a worker: _init_worker was not called"
    with Scratch(_worker.scratch_parent, limit=_worker.scratch_share) as scratch:
        ctx = ParseContext(scratch=scratch, run_options=_worker.plugin_options)
        return [_worker.processor.process(job, ctx, scratch) for job in jobs]
