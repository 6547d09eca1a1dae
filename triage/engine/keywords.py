"""Keyword search as part of a triage run, and after the fact (``exhibit search``).

During ``exhibit triage EX --keywords FILE`` the workers search every file's bytes as they read
them for hashing (triage/engine/per_file.py: no second read of a file) and a document's text from
the content kept for the plugins; then :func:`search_after_files` searches the text fields of the
records the run stored and, for a disk image, every byte of the image (a second, sequential read
of the image: slack, unallocated space and metadata are in no file).

``exhibit search EX... --keywords FILE`` (:func:`run_search`) does the same for exhibits already
triaged: it walks the evidence again and reads every file (deleted ones too) through the same
sources and workers, read-only, with no plugin; searches every stored record of the exhibit and
the image; and stores the hits as findings of a run of its own (``triage_runs``, arguments
``{"command": "search", ...}``), whose ``triage.run`` ledger entry signs the digest of the
exhibit's rows, hits included. The stored rows are checked against the latest signed digest
first: a search never signs rows that were changed (``exhibit custody verify`` names them).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, update

from triage.engine import writes
from triage.engine.results import TriageWarning, found_records, origin, remove_batches
from triage.engine.rowkeys import keyed_entries
from triage.errors import TriageError
from triage.keywords.match import KeywordSet
from triage.keywords.records import ENGINE_NAME, VERSION, KeywordHit
from triage.keywords.stored import finding_row, image_records, open_image_reader, range_hits, record_hits
from triage.keywords.terms import KeywordSpec

if TYPE_CHECKING:
    from custody.case import Case

__all__ = ["SearchSummary", "run_search", "search_after_files", "store_hits"]

PAGE = 1000  # hits stored per transaction

Progress = Callable[[int, int], None]  # (files done, bytes done)


def _searched_rest(
    engine: Any,
    exhibit: str,
    run_id: str,
    item: Any,
    keywords: KeywordSet,
    warnings: list[TriageWarning],
    own_records_only: bool,
    workers: int | None = None,
) -> int:
    """Search the stored records and (a disk image) the whole image; store the hits; new hits."""
    from triage.sources.open import IMAGE_KINDS

    def warn(message: str) -> None:
        warnings.append(TriageWarning(ENGINE_NAME, None, message))

    new = store_hits(
        engine,
        exhibit,
        run_id,
        record_hits(engine, exhibit, keywords, warn, run_id=run_id if own_records_only else None),
    )
    if item.kind in IMAGE_KINDS:
        hits = search_image(item.source_path, exhibit, item.hashes.get("sha256"), keywords, warn, workers)
        new += store_hits(engine, exhibit, run_id, hits)
    return new


def store_hits(engine: Engine, exhibit: str, run_id: str, records: Iterable[KeywordHit]) -> int:
    """Store the hits as findings of ``run_id`` (a transaction per batch); returns how many were new."""
    new = 0
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(finding_row(exhibit, run_id, record))
        if len(batch) >= PAGE:
            with engine.begin() as conn:
                new += writes.store_findings(conn, batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            new += writes.store_findings(conn, batch)
    return new


IMAGE_RANGE_MIN = 4 << 20  # bytes of the image one task searches, at least
IMAGE_RANGE_MAX = 256 << 20  # and at most

_image: tuple[Any, KeywordSet] | None = None  # in an image-search worker: its reader and terms


def _init_image_worker(parent: int, source_path: str, spec: KeywordSpec) -> None:
    global _image
    from triage.engine.workers import die_with_parent

    die_with_parent(parent)
    _image = (open_image_reader(source_path), KeywordSet(spec))


def _image_range(start: int, stop: int) -> tuple[list[Any], dict[int, int], list[str], dict[int, int]]:
    assert _image is not None
    reader, keywords = _image
    warnings: list[str] = []
    hits, dropped = range_hits(reader, start, stop, keywords, warnings.append)
    timeouts = dict(keywords.regex_timeouts)
    keywords.regex_timeouts.clear()
    return hits, dropped, warnings, timeouts


def search_image(
    source_path: str,
    exhibit: str,
    image_sha256: str | None,
    keywords: KeywordSet,
    warn: Callable[[str], None],
    workers: int | None = None,
) -> list[KeywordHit]:
    """Every byte of the disk image: ranges searched by ``workers`` forked processes (one per
    core), each opening the image itself; hits across a range's end are found whole (the range
    is searched on by the overlap) and kept by the range they start in."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        reader = open_image_reader(source_path)
    except Exception as exc:  # custody's EvidenceError and the OS's: named; the files were searched
        warn(f"image not searched: cannot open {source_path}: {exc}")
        return []
    count = max(1, workers or os.cpu_count() or 1)
    try:
        size = int(reader.size)
        step = min(IMAGE_RANGE_MAX, max(IMAGE_RANGE_MIN, -(-size // (count * 4))))
        ranges = [(a, min(a + step, size)) for a in range(0, size, step)]
        hits: list[Any] = []
        dropped: dict[int, int] = {}
        timeouts: dict[int, int] = {}
        if count == 1 or len(ranges) == 1:
            for a, b in ranges:
                found, over = range_hits(reader, a, b, keywords, warn)
                hits += found
                for t, n in over.items():
                    dropped[t] = dropped.get(t, 0) + n
            timeouts = dict(keywords.regex_timeouts)
            keywords.regex_timeouts.clear()
        else:
            with ProcessPoolExecutor(
                min(count, len(ranges)),
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_image_worker,
                initargs=(os.getpid(), source_path, keywords.spec),
            ) as pool:
                for found, over, problems, late in pool.map(_image_range, *zip(*ranges, strict=True)):
                    hits += found
                    for t, n in over.items():
                        dropped[t] = dropped.get(t, 0) + n
                    for t, n in late.items():
                        timeouts[t] = timeouts.get(t, 0) + n
                    for p in problems:
                        warn(p)
    finally:
        reader.close()
    for t, n in sorted(timeouts.items()):
        warn(
            f"image: regular expression {keywords.terms[t].text!r} stopped after its time limit in {n} "
            "window(s): hits there may be missing"
        )
    return image_records(hits, dropped, exhibit, image_sha256, keywords, warn)


def search_after_files(run: Any, summary: Any) -> None:
    """The part of a triage run's keyword search after the files: its records and the image
    (``run`` a :class:`~triage.engine.run.TriageRun`, ``summary`` its RunSummary)."""
    assert run.options.keywords is not None
    keywords = KeywordSet(run.options.keywords)
    warnings: list[TriageWarning] = []
    if summary.counts.get("skipped"):
        warnings.append(
            TriageWarning(
                ENGINE_NAME,
                None,
                f"{summary.counts['skipped']} files read by an earlier run were not searched for the "
                f"keywords (a run reads each file once): 'exhibit search {run.exhibit} --keywords FILE' "
                "searches them",
            )
        )
    new = _searched_rest(
        run.engine, run.exhibit, run.run_id, run.item, keywords, warnings, True, run.options.workers
    )
    summary.counts["findings"] += new
    if warnings:
        with run.engine.begin() as conn:
            writes.store_warnings(conn, writes.warning_rows(run.exhibit, run.run_id, warnings))
        summary.counts["warnings"] += len(warnings)
        summary.warnings.extend(w.as_dict() for w in warnings)


@dataclass
class SearchSummary:
    run_id: str
    exhibit: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "exhibit": self.exhibit,
            "status": self.status,
            "counts": self.counts,
            "warnings": self.warnings,
        }


def run_search(
    case: Case,
    exhibit: str,
    spec: KeywordSpec,
    *,
    actor: str,
    workers: int | None = None,
    option_values: Sequence[str] = (),
    option_files: Sequence[Path] = (),
    progress: Progress | None = None,
    on_total: Callable[[int, int], None] | None = None,
) -> SearchSummary:
    """Search ``exhibit`` for the terms of ``spec`` after the fact: the library call behind
    ``exhibit search`` (see the module docstring)."""
    from custody import timefmt
    from custody.actors import signing_keys
    from custody.items import get_item, tool_version
    from custody.ledger import Draft
    from triage.engine import integrity, writes
    from triage.engine import lock as exhibit_lock
    from triage.engine.options import run_options, source_options
    from triage.store import ensure_schema
    from triage.store.models import Run

    item = get_item(case, exhibit)
    engine = case.engine
    keys = signing_keys(case, [actor])
    ensure_schema(engine)
    evidence = source_options(run_options([], option_values, option_files))
    run_id = str(uuid.uuid4())
    started = timefmt.stamp()
    versions = {"tool": tool_version(), "plugins": {}, "keywords": VERSION}
    arguments: dict[str, Any] = {"command": "search", "keywords": spec.for_record(), "workers": workers}
    counts = {"files": 0, "bytes": 0, "findings": 0, "warnings": 0, "errors": 0}
    summary = SearchSummary(run_id, exhibit, "running", counts)
    keywords = KeywordSet(spec)
    with exhibit_lock.holding(engine, exhibit, run_id):
        anchor = integrity.latest_anchors(case.ledger, exhibit).get(exhibit)
        if anchor is not None:
            with engine.connect() as conn:
                diffs = integrity.compare(conn, exhibit, anchor)
            if diffs:
                raise TriageError(
                    f"the stored triage rows of {exhibit} differ from what run {anchor.run} signed; "
                    "a search would sign them",
                    hint=f"'exhibit custody verify' names them; 'exhibit triage {exhibit}' reads the evidence again",
                )
        archives = _archive_arguments(engine, exhibit)
        if archives is not None:  # so verify --rehash walks archives as the triage run did
            arguments["archives"] = archives
        with engine.begin() as conn:
            conn.execute(
                insert(Run).values(
                    id=run_id,
                    exhibit=exhibit,
                    status="running",
                    started_utc=started.utc,
                    started_offset=started.offset,
                    actor=actor,
                    arguments=json.dumps(arguments),
                    versions=json.dumps(versions),
                    counts="{}",
                    resumed_from=None,
                )
            )
        try:
            _search_files(case, item, exhibit, run_id, spec, evidence, workers, summary, progress, on_total)
            warnings: list[TriageWarning] = []
            counts["findings"] += _searched_rest(
                engine, exhibit, run_id, item, keywords, warnings, False, workers
            )
            with engine.begin() as conn:
                writes.store_warnings(conn, writes.warning_rows(exhibit, run_id, warnings))
            counts["warnings"] += len(warnings)
            summary.warnings.extend(w.as_dict() for w in warnings)
            with engine.connect() as conn:
                state = integrity.state_of(conn, exhibit)
            draft = Draft(
                kind=integrity.RUN_KIND,
                actor=actor,
                exhibit=exhibit,
                data={
                    "run": run_id,
                    "versions": versions,
                    "arguments": arguments,
                    "counts": dict(counts),
                    "derived": 0,
                    "started": {"utc": started.utc, "offset": started.offset},
                    "resumed_from": None,
                    "digest": integrity.digest_of(state),
                },
            )
            case.ledger.append([draft], keys, checkpoint_signer=actor)
            with engine.begin() as conn:
                integrity.store_anchors(conn, exhibit, run_id, state)
            counts["derived"] = 0  # as a triage run's row: the signed counts plus "derived"
            summary.status = "complete"
        except BaseException:
            with engine.begin() as conn:
                conn.execute(
                    update(Run).where(Run.c.id == run_id).values(status="failed", counts=json.dumps(counts))
                )
            raise
        with engine.begin() as conn:
            conn.execute(
                update(Run)
                .where(Run.c.id == run_id)
                .values(status="complete", finished_utc=timefmt.stamp().utc, counts=json.dumps(counts))
            )
    return summary


def _archive_arguments(engine: Engine, exhibit: str) -> Any:
    """The archive limits the exhibit's latest complete triage run recorded (None: the defaults)."""
    from sqlalchemy import select

    from triage.store.models import Run

    with engine.connect() as conn:
        rows = conn.execute(
            select(Run.c.arguments)
            .where(Run.c.exhibit == exhibit, Run.c.status == "complete")
            .order_by(Run.c.started_utc.desc())
        ).all()
    for (text,) in rows:
        try:
            arguments = json.loads(text)
        except ValueError:
            continue
        if isinstance(arguments, dict) and arguments.get("command") != "search":
            return arguments.get("archives")
    return None


def _search_files(
    case: Case,
    item: Any,
    exhibit: str,
    run_id: str,
    spec: KeywordSpec,
    evidence: dict[str, object],
    workers: int | None,
    summary: SearchSummary,
    progress: Progress | None,
    on_total: Callable[[int, int], None] | None,
) -> None:
    """Read every file of the evidence (deleted ones too) with the engine's workers, keywords only."""
    from triage.engine import workers as engine_workers
    from triage.engine.per_file import FileJob
    from triage.plugin.options import PluginOptions
    from triage.plugin.scratch import scratch_limit
    from triage.sources.open import open_source

    counts = summary.counts
    with open_source(item.source_path, item.kind, options=evidence) as source:
        entries = list(source.entries(None, recursive=True))
        walk_warnings = [TriageWarning(None, None, str(w)) for w in source.warnings]
    jobs = [FileJob(key, e, {}) for key, e in keyed_entries(exhibit, entries) if e.type == "file"]
    if on_total is not None:
        on_total(len(jobs), sum(j.entry.size for j in jobs))
    scratch_parent = case.scratch_dir / run_id
    (scratch_parent / engine_workers.SPILL_FOLDER).mkdir(parents=True, exist_ok=True)
    setup = engine_workers.WorkerSetup(
        source_path=item.source_path,
        kind=item.kind,
        source_options=evidence,
        plugin_options=PluginOptions({}, {}),
        plugin_classes=(),
        exhibit=exhibit,
        hashes=("sha256",),
        scratch_parent=scratch_parent,
        scratch_limit=scratch_limit(None),
        keywords=spec,
    )
    engine = case.engine
    try:
        with engine.begin() as conn:
            writes.store_warnings(conn, writes.warning_rows(exhibit, run_id, walk_warnings))
        counts["warnings"] += len(walk_warnings)
        summary.warnings.extend(w.as_dict() for w in walk_warnings)
        with engine_workers.processing(jobs, setup, workers or os.cpu_count() or 1) as finished:
            for chunk, results in finished:
                rows: list[dict[str, Any]] = []
                warnings: list[TriageWarning] = []
                for job, result in zip(chunk, results, strict=True):
                    counts["files"] += 1
                    counts["bytes"] += result.bytes_read
                    warnings.extend(result.warnings)
                    if result.error:
                        counts["errors"] += 1
                        warnings.append(TriageWarning(None, job.entry.path, f"cannot read: {result.error}"))
                    where = origin(job.key, job.entry, result.sha256)
                    rows.extend(writes.finding_rows(exhibit, where, found_records(result), run_id))
                with engine.begin() as conn:
                    counts["findings"] += writes.store_findings(conn, rows)
                    writes.store_warnings(conn, writes.warning_rows(exhibit, run_id, warnings))
                for result in results:
                    remove_batches(result)
                counts["warnings"] += len(warnings)
                summary.warnings.extend(w.as_dict() for w in warnings)
                if progress is not None:
                    progress(counts["files"], counts["bytes"])
    finally:
        shutil.rmtree(scratch_parent, ignore_errors=True)
