"""The worker's side of a job: find the files by key in the evidence, read them, return results.

Each worker process walks the evidence once per run (at the path recorded at acquisition, which
every worker must see: shared storage) and keeps the walk for the run's next jobs: the files by
row key, and every file by path for the plugins' related files, as the run's own walk has them.
A job is then read exactly as a local worker reads its chunk (triage/engine/per_file.py), with a
scratch folder of this machine. Nothing here touches the database or the ledger.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.distributed.codec import RunSettings, decode_setup, encode_result
from triage.engine.per_file import FileJob, FileProcessor, PathIndex
from triage.engine.run import SIBLINGS
from triage.engine.writes import keyed_entries
from triage.errors import DistributedError
from triage.keywords.match import KeywordSet
from triage.plugin.contract import ParseContext
from triage.plugin.scratch import Scratch
from triage.sources.entry import FileEntry, Source
from triage.sources.open import open_source


@dataclass
class WorkerConfig:
    """How this worker was started (``exhibit worker``): set before its processes are forked."""

    scratch: Path  # scratch folders of the jobs are made in it
    processes: int  # the run's scratch limit is shared by them


config = WorkerConfig(Path(tempfile.gettempdir()), 1)


@dataclass
class _Walk:
    """One run's walk of the evidence in this worker process."""

    run_id: str
    source: Source
    processor: FileProcessor
    files: dict[str, FileEntry]  # row key -> entry, every file the walk listed
    by_path: dict[tuple[int | None, str], FileEntry]  # the allocated files (for the SQLite siblings)
    settings: RunSettings
    scratch: Path

    def job(self, key: str) -> FileJob | None:
        e = self.files.get(key)
        if e is None:
            return None
        siblings = {
            suffix: self.by_path[(e.partition, e.path + suffix)]
            for suffix in SIBLINGS
            if (e.partition, e.path + suffix) in self.by_path
        }
        return FileJob(key, e, siblings)

    def close(self) -> None:
        self.source.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


_walk: _Walk | None = None


def _walk_for(settings: RunSettings, worker: str) -> _Walk:
    """This process's walk of the run's evidence (made at the run's first job here)."""
    global _walk
    if _walk is not None and _walk.run_id == settings.run_id:
        return _walk
    if _walk is not None:
        _walk.close()
        _walk = None
    try:
        source = open_source(settings.source_path, settings.kind, options=settings.source_options)
    except Exception as exc:
        raise DistributedError(
            f"worker {worker} cannot open the evidence at {settings.source_path}: {type(exc).__name__}: {exc}",
            hint="every worker must see the evidence at the path recorded at acquisition (shared storage)",
        ) from exc
    try:
        entries = list(source.entries(None, recursive=True))
        files = {key: e for key, e in keyed_entries(settings.exhibit, entries) if e.type == "file"}
        by_path = {(e.partition, e.path): e for e in entries if e.type == "file" and not e.deleted}
        processor = FileProcessor(
            source,
            settings.exhibit,
            settings.hashes,
            [cls() for cls in settings.plugin_classes],
            PathIndex(entries),
            spill_dir=None,  # records come back in the result, never through a local file
            keywords=KeywordSet(settings.keywords) if settings.keywords is not None else None,
        )
        config.scratch.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"exhibit-{settings.run_id}-", dir=config.scratch))
    except BaseException:
        source.close()
        raise
    _walk = _Walk(settings.run_id, source, processor, files, by_path, settings, scratch)
    return _walk


def read_job(task: Any, message: dict[str, Any]) -> dict[str, Any]:
    """The Celery task: read the files ``message["keys"]`` names; their results as JSON.

    A job this worker cannot do (the evidence not there, other plugins) comes back as
    ``{"worker", "error", "hint"}``: the message and what to do reach the coordinator as they are
    (an exception through Celery's JSON would lose the hint)."""
    worker = str(task.request.hostname or "unknown worker")
    try:
        return _read(worker, message)
    except DistributedError as exc:
        return {"worker": worker, "error": str(exc), "hint": exc.hint}


def _read(worker: str, message: dict[str, Any]) -> dict[str, Any]:
    settings = decode_setup(message, worker)
    walk = _walk_for(settings, worker)
    jobs: list[FileJob] = []
    missing: list[str] = []
    for key in message["keys"]:
        job = walk.job(key)
        if job is None:
            missing.append(key)
        else:
            jobs.append(job)
    if missing:
        raise DistributedError(
            f"worker {worker}: {len(missing)} file(s) of the job are not in the evidence at "
            f"{settings.source_path} as this worker reads it (first key {missing[0]})",
            hint="every worker must see the same evidence at the path recorded at acquisition",
        )
    share = max(1, settings.scratch_limit // max(1, config.processes))
    with Scratch(walk.scratch, limit=share) as scratch:
        ctx = ParseContext(scratch=scratch, run_options=settings.plugin_options)
        results = [walk.processor.process(job, ctx, scratch) for job in jobs]
    return {"worker": worker, "results": [encode_result(r) for r in results]}
