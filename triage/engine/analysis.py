"""Running the analyzers of a run, after its file plugins, over the records the run stored.

Each analyzer (:mod:`triage.plugin.analyzer`) is handed the run's findings of the record types
it reads, oldest first, fetched a page at a time by id (no read transaction stays open while its
output is written, and the engine never holds all of them); what it yields is stored, in batches,
as findings of the same run under the analyzer's name and version, so the run's digest and the
ledger entry cover them. An analyzer that fails is one warning naming it; what it yielded
before the failure is kept, and the other analyzers still run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, or_, select

from triage.engine import writes
from triage.engine.dispatch import library_warnings
from triage.engine.results import TriageWarning
from triage.plugin.analyzer import AnalysisContext, Analyzer, StoredRecord
from triage.plugin.options import PluginOptions
from triage.plugin.records import Record, SourceRef, record_json
from triage.processes import Ahead, AheadFailed
from triage.store.models import Finding

PAGE = 1000  # findings fetched per query, and findings stored per transaction


def run_analyzers(
    engine: Engine,
    exhibit: str,
    run_id: str,
    analyzers: Sequence[type[Analyzer]],
    options: PluginOptions | None = None,
    scratch: Path | None = None,
) -> tuple[int, list[TriageWarning]]:
    """Run each analyzer over this run's stored records; returns (new findings, warnings).

    An analyzer that takes each record on its own (``Analyzer.independent``) over a run of more
    than :data:`SPLIT_IDS` finding ids, given a ``scratch`` folder, reads the second half of the
    records in a forked process (:meth:`_Pass.second_half`) while this one reads the first; what
    the helper found is stored after this process's half, so the stored rows are the same as one
    process's, in the same order; a run-wide warning both halves give is given once.
    """
    stored = 0
    warnings: list[TriageWarning] = []
    for cls in analyzers:
        one = _Pass(engine, exhibit, run_id, cls, options)
        ids = _run_ids(engine, run_id) if cls.independent and scratch is not None else None
        if scratch is None or ids is None or ids[1] - ids[0] <= SPLIT_IDS:
            _, new, found = one.analyze(None)
        else:
            new, found = one.in_halves(ids, scratch)
        stored += new
        warnings.extend(found)
    return stored, warnings


#: An independent analyzer over a run whose findings span more ids than this is read by two processes.
SPLIT_IDS = 20_000


@dataclass(frozen=True)
class _Pass:
    """One analyzer over one run's records."""

    engine: Engine
    exhibit: str
    run_id: str
    cls: type[Analyzer]
    options: PluginOptions | None

    def analyze(
        self, ids: tuple[int, int] | None, out: Callable[[list[dict[str, Any]]], int] | None = None
    ) -> tuple[bool, int, list[TriageWarning]]:
        """The analyzer over the run's records (those with ids in ``ids``, above the first and
        up to the second, when given), with a context of its own; its rows go to ``out`` a page
        at a time (default: stored). Returns (whether it failed, new findings stored, warnings)."""
        engine, cls = self.engine, self.cls
        ctx = AnalysisContext(
            exhibit=self.exhibit,
            run_id=self.run_id,
            analyzer=cls.name,
            options=self.options.of(cls.name) if self.options is not None else {},
        )
        store = out or (lambda rows: _store(engine, rows))
        stored = 0
        failed = False
        warnings: list[TriageWarning] = []
        batch: list[dict[str, Any]] = []
        library_warnings.start()
        try:
            for record in cls().analyze(_records(engine, self.run_id, cls.reads, ids), ctx):
                batch.append(_row(self.exhibit, self.run_id, cls, record))
                if len(batch) >= PAGE:
                    stored += store(batch)
                    batch = []
        except Exception as exc:  # the analyzer's failure, not the run's: recorded, and on we go
            failed = True
            warnings.append(
                TriageWarning(
                    cls.name, None, f"analyzer failed: {type(exc).__name__}: {exc}", traceback.format_exc()
                )
            )
        finally:
            kept = library_warnings.stop()
        stored += store(batch)
        warnings.extend(TriageWarning(w.plugin, w.path or None, w.text, None) for w in ctx.warnings)
        warnings.extend(TriageWarning(cls.name, None, text, None) for text in kept)
        return failed, stored, warnings

    def in_halves(self, ids: tuple[int, int], scratch: Path) -> tuple[int, list[TriageWarning]]:
        """The first half of the run's ids read here, the second by a forked helper meanwhile
        (read here after all if the helper cannot be started or fails)."""
        middle = (ids[0] + ids[1]) // 2
        second = (middle, ids[1])
        fd, path = tempfile.mkstemp(dir=scratch, prefix="analysis-", suffix=".rows")
        os.close(fd)
        helper: Ahead[tuple[bool, list[TriageWarning]]] | None = None
        try:
            with contextlib.suppress(OSError):  # no process left: this one reads both halves
                helper = Ahead(self.second_half, second, path)
            failed, stored, warnings = self.analyze((ids[0] - 1, middle))
            if failed:  # one process would have stopped here too: the second half is not read
                return stored, warnings
            theirs: list[TriageWarning] | None = None
            if helper is not None:
                try:
                    _, theirs = helper.result()
                except AheadFailed:
                    theirs = None
                helper = None
            if theirs is None:
                _, new, theirs = self.analyze(second)
            else:
                new = _store_file(self.engine, path)
            # a warning about the whole run (no file) that both halves gave is given once
            overall = {w for w in warnings if w.path is None}
            warnings.extend(w for w in theirs if w.path is not None or w not in overall)
            return stored + new, warnings
        finally:
            if helper is not None:  # this half failed or was interrupted: the helper is not waited for
                helper.cancel()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def second_half(self, ids: tuple[int, int], path: str) -> tuple[bool, list[TriageWarning]]:
        """In the forked helper: the analyzer over the records with ids in ``ids``; its finding
        rows written to ``path`` (marshal data: lists of the rows' dicts of plain values), which
        the run stores after its own half; returns (whether it failed, its warnings)."""
        self.engine.dispose(close=False)  # the run's pooled connections stay the run's; new ones here
        with open(path, "wb") as f:

            def write(rows: list[dict[str, Any]]) -> int:
                if rows:
                    marshal.dump(rows, f)
                return 0

            failed, _, warnings = self.analyze(ids, write)
        return failed, warnings


def _run_ids(engine: Engine, run_id: str) -> tuple[int, int] | None:
    """The smallest and largest id of the run's findings (None: none, or an in-memory database
    a forked process could not read)."""
    if engine.url.database in (None, "", ":memory:") and engine.dialect.name == "sqlite":
        return None
    with engine.connect() as conn:
        low, high = conn.execute(
            select(func.min(Finding.c.id), func.max(Finding.c.id)).where(Finding.c.run_id == run_id)
        ).one()
    return None if low is None else (int(low), int(high))


def _store_file(engine: Engine, path: str) -> int:
    """Store the rows the helper wrote, in its order."""
    stored = 0
    with open(path, "rb") as f:
        while True:
            try:
                rows = marshal.load(f)  # data only (never code): lists of dicts of plain values
            except EOFError:
                return stored
            stored += _store(engine, rows)


def _records(
    engine: Engine, run_id: str, reads: Sequence[str], ids: tuple[int, int] | None = None
) -> Iterator[StoredRecord]:
    wanted = or_(
        *(
            or_(Finding.c.record_type == r, Finding.c.record_type.startswith(r.rstrip("/") + "/"))
            for r in reads
        )
    )
    last, upto = ids if ids is not None else (0, None)
    sources = _Sources()
    while True:
        query = (
            select(Finding.c.id, Finding.c.record_type, Finding.c.data, Finding.c.locator, Finding.c.plugin)
            .where(Finding.c.run_id == run_id, Finding.c.id > last, wanted)
            .order_by(Finding.c.id)
            .limit(PAGE)
        )
        if upto is not None:
            query = query.where(Finding.c.id <= upto)
        with engine.connect() as conn:  # one short read per page
            page = conn.execute(query).all()
        if not page:
            return
        for row in page:
            data = json.loads(row.data)
            yield StoredRecord(
                record_type=row.record_type,
                data=data,
                source=sources.of(data["source"]),
                locator=row.locator,
                plugin=row.plugin,
            )
        last = page[-1].id


class _Sources:
    """The SourceRef of a stored record's ``source``, made once per file: the records of one
    database (a million messages) share it, and equal SourceRefs are interchangeable."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], SourceRef] = {}

    def of(self, data: dict[str, Any]) -> SourceRef:
        if "parent" in data:  # a member of an archive: rare, made each time
            return SourceRef.from_dict(data)
        key = tuple(data.items())
        try:
            ref = self._made.get(key)
        except TypeError:  # a value that is not a scalar (altered data): SourceRef decides
            return SourceRef.from_dict(data)
        if ref is None:
            if len(self._made) >= 10_000:
                self._made.clear()
            ref = self._made[key] = SourceRef.from_dict(data)
        return ref


def _row(exhibit: str, run_id: str, cls: type[Analyzer], record: Record) -> dict[str, Any]:
    data = record_json(record)
    record_type = type(record).record_type
    source = record.source
    fingerprint = hashlib.sha256(
        "\x00".join(
            [exhibit, cls.name, cls.version, record_type, "analysis", str(record.locator), data]
        ).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return {
        "fingerprint": fingerprint,
        "exhibit": exhibit,
        "record_type": record_type,
        "plugin": cls.name,
        "plugin_version": cls.version,
        "partition": source.partition,
        "inode": source.inode,
        "path": source.path,
        "stream": source.stream,
        "file_sha256": source.sha256,
        "locator": record.locator,
        "data": data,
        "run_id": run_id,
    }


def _store(engine: Engine, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    with engine.begin() as conn:
        return writes.store_findings(conn, rows)
