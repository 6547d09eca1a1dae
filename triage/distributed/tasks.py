"""The worker's side of a job: find the files by key in the evidence, read them, return results.

Each worker process walks the evidence once per run (at the path recorded at acquisition, which
every worker must see: shared storage) and keeps the walk for the run's next jobs: the files by
row key, and every file by path for the plugins' related files, as the run's own walk has them.
A job is then read exactly as a local worker reads its chunk (triage/engine/per_file.py), with a
scratch folder of this machine. Nothing here touches the database or the ledger.

The later rounds' files are not in that walk, and their jobs say where they are
(triage/distributed/codec.py):

* **archive members** come by outermost archive: the evidence's file (by key) and how many
  members the run walked before it. The process walks that archive again as the run did
  (triage/sources/nested.py, the run's limits, big archives spooled in this process's share of
  the run's scratch limit), finds the members by key, and reads them through their archives as
  a local worker does; the related files a plugin finds are the evidence's and that archive's
  (triage/engine/per_file.py). The walks of the last :data:`KEEP_ARCHIVES` archives stay, and the
  archives they opened stay open (a few: nested.py), across the run's jobs, so the members of one
  big archive, spread over many jobs, do not each cost a read of the whole archive. They are
  given back when a job of another round comes, or of another run.
* **carved files** come with their image extents, read through ``CarvedSource``
  (triage/sources/carve.py) as the run's own workers read them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.distributed.codec import JobFiles, RunSettings, decode_job, decode_setup, encode_result
from triage.engine.per_file import FileJob, FileProcessor, PathIndex
from triage.engine.remote import CarvedAt
from triage.engine.results import FileResult
from triage.engine.rowkeys import file_key, keyed_entries
from triage.engine.run import SIBLINGS
from triage.errors import DistributedError
from triage.keywords.match import KeywordSet
from triage.plugin.contract import ParseContext
from triage.plugin.scratch import Scratch
from triage.sources.carve import CarvedSource, carved_entry
from triage.sources.entry import FileEntry, Source
from triage.sources.nested import NestedSource, NestLimits
from triage.sources.open import open_source

#: Outermost archives whose walk (their members by key) a worker process keeps for the run's
#: next jobs; the archives themselves are kept open as nested.py keeps them (a few at once).
KEEP_ARCHIVES = 4


@dataclass
class WorkerConfig:
    """How this worker was started (``exhibit worker``): set before its processes are forked."""

    scratch: Path  # scratch folders of the jobs are made in it
    processes: int  # the run's scratch limit is shared by them


config = WorkerConfig(Path(tempfile.gettempdir()), 1)


@dataclass
class _Archive:
    """An outermost archive walked again in this process: its members' jobs by key and the index
    of their related files; or why it could not be opened here (``error``)."""

    jobs: dict[str, FileJob]
    entries: list[FileEntry]
    index: PathIndex | None
    error: str | None = None


@dataclass
class _Members:
    """The archive members of one run in this process: the archives walked again, kept open in
    one scratch folder (this process's share of the run's limit) for the run's next jobs."""

    limits: NestLimits
    scratch: Scratch
    nested: NestedSource
    processor: FileProcessor
    archives: OrderedDict[tuple[str, int], _Archive] = field(default_factory=OrderedDict)

    def close(self) -> None:
        self.nested.close_archives()  # the walk's source stays open: it is not ours
        self.scratch.close()


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
    members: _Members | None = None
    carved: tuple[CarvedSource, FileProcessor] | None = None  # the carve round's reader (made once)

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

    def processor_for(self, source: Source, index: PathIndex) -> FileProcessor:
        """A processor reading ``source`` with this walk's plugins, hashes and keywords."""
        base = self.processor
        return FileProcessor(
            source, base.exhibit, base.hashes, base.plugins, index, spill_dir=None, keywords=base.keywords
        )

    def members_for(self, limits: NestLimits, share: int) -> _Members:
        """The run's archive members in this process (made at its first job of them)."""
        if self.members is not None and self.members.limits == limits:
            return self.members
        self.release_members()
        scratch = Scratch(self.scratch, limit=share)
        nested = NestedSource(self.source, limits=limits, scratch=scratch)
        assert self.processor.index is not None
        self.members = _Members(limits, scratch, nested, self.processor_for(nested, self.processor.index))
        return self.members

    def release_members(self) -> None:
        """Close the archives kept open and give their scratch back (a job of another round)."""
        if self.members is not None:
            self.members.close()
            self.members = None

    def close(self) -> None:
        self.release_members()
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
    files = decode_job(message)
    walk = _walk_for(settings, worker)
    share = max(1, settings.scratch_limit // max(1, config.processes))
    if files.within is not None:
        assert files.limits is not None
        results = _read_members(walk, files, share, worker)
    else:
        walk.release_members()  # the members' round is over: its scratch is this job's
        if files.carved is not None:
            jobs, processor = _carved_jobs(walk, files.keys, files.carved, worker)
        else:
            jobs, processor = _walk_jobs(walk, files.keys, worker), walk.processor
        with Scratch(walk.scratch, limit=share) as scratch:
            ctx = ParseContext(scratch=scratch, run_options=settings.plugin_options)
            results = [processor.process(job, ctx, scratch) for job in jobs]
    return {"worker": worker, "results": [encode_result(r) for r in results]}


def _missing(
    worker: str, settings: RunSettings, missing: list[str], what: str = "file(s)"
) -> DistributedError:
    return DistributedError(
        f"worker {worker}: {len(missing)} {what} of the job are not in the evidence at "
        f"{settings.source_path} as this worker reads it (first key {missing[0]})",
        hint="every worker must see the same evidence at the path recorded at acquisition",
    )


def _walk_jobs(walk: _Walk, keys: list[str], worker: str) -> list[FileJob]:
    jobs: list[FileJob] = []
    missing: list[str] = []
    for key in keys:
        job = walk.job(key)
        if job is None:
            missing.append(key)
        else:
            jobs.append(job)
    if missing:
        raise _missing(worker, walk.settings, missing)
    return jobs


def _carved_jobs(
    walk: _Walk, keys: list[str], carved: list[CarvedAt], worker: str
) -> tuple[list[FileJob], FileProcessor]:
    """The carved files of a job, made again from where they are, and a processor reading them
    from their extents (the carve round's: no related files, no archives)."""
    extents: dict[tuple[int | None, str], tuple[tuple[int, int], ...]] = {}
    jobs: list[FileJob] = []
    for key, at in zip(keys, carved, strict=True):
        e = carved_entry(at.partition, at.offset, at.length, at.kind)
        if file_key(walk.settings.exhibit, e) != key:  # the coordinator's entry is another
            raise _missing(worker, walk.settings, [key], "carved file(s)")
        extents[(e.partition, e.path)] = at.extents
        jobs.append(FileJob(key, e, {}))
    if walk.carved is None:
        source = CarvedSource(walk.source, {})
        walk.carved = source, walk.processor_for(source, PathIndex(()))
    walk.carved[0].carved = extents  # this job's files only
    return jobs, walk.carved[1]


def _read_members(walk: _Walk, files: JobFiles, share: int, worker: str) -> list[FileResult]:
    """Read the archive members of a job: each outermost archive walked again (or kept from an
    earlier job of the run), its members found by key and read through their archives."""
    assert files.within is not None and files.limits is not None
    members = walk.members_for(files.limits, share)
    processor = members.processor
    ctx = ParseContext(scratch=members.scratch, run_options=walk.settings.plugin_options)
    results: list[FileResult] = []
    for archive_key, walked, keys in files.within:
        archive = _archive(walk, members, archive_key, walked, worker)
        missing = [key for key in keys if archive.error is None and key not in archive.jobs]
        if missing:
            raise _missing(worker, walk.settings, missing, "archive member(s)")
        processor.index = archive.index
        for key in keys:
            if archive.error is not None:
                results.append(_unread(key, archive.error))
            else:
                results.append(processor.process(archive.jobs[key], ctx, members.scratch))
    return results


def _archive(walk: _Walk, members: _Members, key: str, walked: int, worker: str) -> _Archive:
    """The outermost archive of row ``key``, walked again as the run walked it (``walked``
    members before it): kept for the run's next jobs, the oldest dropped past KEEP_ARCHIVES."""
    kept = members.archives.get((key, walked))
    if kept is not None:
        members.archives.move_to_end((key, walked))
        return kept
    entry = walk.files.get(key)
    if entry is None:
        raise _missing(worker, walk.settings, [key], "archive(s)")
    nested = members.nested
    before = len(nested.warnings)
    try:
        try:
            nested.hold(entry)  # raises what a local worker's read of a member raises
        # Broad on purpose, as a local read of the member is (per_file.py): the archive cannot be
        # opened here (this process's share of the scratch limit, the evidence's reader), so its
        # members come back unread, with the reason, and the run goes on.
        except Exception as exc:
            archive = _Archive({}, [], None, f"{type(exc).__name__}: {exc}")
        else:
            nested.walked = walked
            entries = list(nested.expand(entry))
            by_path = {(e.partition, e.path): e for e in entries if e.type == "file" and not e.deleted}
            jobs = {}
            for member_key, e in keyed_entries(walk.settings.exhibit, entries):
                if e.type == "file":
                    siblings = {
                        suffix: by_path[(e.partition, e.path + suffix)]
                        for suffix in SIBLINGS
                        if (e.partition, e.path + suffix) in by_path
                    }
                    jobs[member_key] = FileJob(member_key, e, siblings)
            assert walk.processor.index is not None
            archive = _Archive(jobs, entries, walk.processor.index.overlaid(entries, nested.members))
    finally:
        del nested.warnings[before:]  # the run's walk of the archive reported them
    members.archives[(key, walked)] = archive
    while len(members.archives) > KEEP_ARCHIVES:
        _, old = members.archives.popitem(last=False)
        for e in old.entries:
            nested.members.pop((e.partition, e.path), None)
    return archive


def _unread(key: str, why: str) -> FileResult:
    """The result of a member whose archive this worker could not open: unread, with the reason
    (no hashes: a later run reads it again)."""
    return FileResult.unread(key, f"its archive cannot be opened on this worker: {why}")
