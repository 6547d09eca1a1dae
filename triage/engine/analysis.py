"""Running the analyzers of a run, after its file plugins, over the records the run stored.

Each analyzer (:mod:`triage.plugin.analyzer`) is handed the run's findings of the record types
it reads, oldest first, fetched a page at a time by id (no read transaction stays open while its
output is written, and the engine never holds all of them); what it yields is stored, in batches,
as findings of the same run under the analyzer's name and version, so the run's digest and the
ledger entry cover them. An analyzer that fails is one warning naming it; what it yielded
before the failure is kept, and the other analyzers still run.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, or_, select

from triage.engine import writes
from triage.engine.results import TriageWarning
from triage.plugin.analyzer import AnalysisContext, Analyzer, StoredRecord
from triage.plugin.options import PluginOptions
from triage.plugin.records import Record, SourceRef, record_json
from triage.store.models import Finding

PAGE = 1000  # findings fetched per query, and findings stored per transaction


def run_analyzers(
    engine: Engine,
    exhibit: str,
    run_id: str,
    analyzers: Sequence[type[Analyzer]],
    options: PluginOptions | None = None,
) -> tuple[int, list[TriageWarning]]:
    """Run each analyzer over this run's stored records; returns (new findings, warnings)."""
    stored = 0
    warnings: list[TriageWarning] = []
    for cls in analyzers:
        ctx = AnalysisContext(
            exhibit=exhibit,
            run_id=run_id,
            analyzer=cls.name,
            options=options.of(cls.name) if options is not None else {},
        )
        batch: list[dict[str, Any]] = []
        try:
            for record in cls().analyze(_records(engine, run_id, cls.reads), ctx):
                batch.append(_row(exhibit, run_id, cls, record))
                if len(batch) >= PAGE:
                    stored += _store(engine, batch)
                    batch = []
        except Exception as exc:  # the analyzer's failure, not the run's: recorded, and on we go
            warnings.append(
                TriageWarning(
                    cls.name, None, f"analyzer failed: {type(exc).__name__}: {exc}", traceback.format_exc()
                )
            )
        stored += _store(engine, batch)
        warnings.extend(TriageWarning(w.plugin, w.path or None, w.message, None) for w in ctx.warnings)
    return stored, warnings


def _records(engine: Engine, run_id: str, reads: Sequence[str]) -> Iterator[StoredRecord]:
    wanted = or_(
        *(or_(Finding.record_type == r, Finding.record_type.startswith(r.rstrip("/") + "/")) for r in reads)
    )
    last = 0
    sources = _Sources()
    while True:
        with engine.connect() as conn:  # one short read per page
            page = conn.execute(
                select(Finding.id, Finding.record_type, Finding.data, Finding.locator, Finding.plugin)
                .where(Finding.run_id == run_id, Finding.id > last, wanted)
                .order_by(Finding.id)
                .limit(PAGE)
            ).all()
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
