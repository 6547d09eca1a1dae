"""Findings read back page by page: keyset pagination over ``triage_findings`` in a stable order.

Each query fetches at most one page of rows after the last one seen (``WHERE (a, b, id) > (...)
ORDER BY a, b, id LIMIT n``), so a section of 100,000 rows never has more than one page of them
in memory and no cursor stays open while a page is rendered.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, and_, inspect, or_, select
from sqlalchemy.sql.elements import ColumnElement

from triage.report.sections import PAGE_ROWS
from triage.store.models import Finding
from triage.views.findings import FINDING_COLUMNS, StoredFinding, stored_finding


def findings_in_order(
    engine: Engine,
    exhibits: Sequence[str] | None,
    record_types: Collection[str],
    order: str = "path",
    batch: int = PAGE_ROWS,
) -> Iterator[StoredFinding]:
    """Findings of ``record_types`` (of ``exhibits``; ``None``: all) by ``order``: ``path``
    (exhibit, path, id) or ``type`` (record type, id), fetched ``batch`` rows at a time."""
    if not record_types or not inspect(engine).has_table(Finding.name):
        return
    keys = (Finding.c.exhibit, Finding.c.path) if order == "path" else (Finding.c.record_type,)
    last: tuple[Any, ...] | None = None
    while True:
        query = select(*FINDING_COLUMNS).where(Finding.c.record_type.in_(sorted(record_types)))
        if exhibits:
            query = query.where(Finding.c.exhibit.in_(list(exhibits)))
        if last is not None:
            query = query.where(_after((*keys, Finding.c.id), last))
        query = query.order_by(*keys, Finding.c.id).limit(batch)
        with engine.connect() as conn:
            rows = list(conn.execute(query))
        for r in rows:
            yield stored_finding(r)
        if len(rows) < batch:
            return
        r = rows[-1]
        last = (r[1], r[7], r[0]) if order == "path" else (r[2], r[0])


def _after(columns: Sequence[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``(c1, c2, ...) > (v1, v2, ...)`` written out (portable to SQLite and PostgreSQL)."""
    terms = []
    for i, (column, value) in enumerate(zip(columns, values, strict=True)):
        equal = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        terms.append(and_(*equal, column > value))
    return or_(*terms)
