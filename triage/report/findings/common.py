"""What every findings section shares: which record types the report holds, the provenance line,
times (UTC beside the stored value), fields shown raw beside their labels, and paging.

Everything a template prints is a string or a number made here: templates never format evidence
values themselves, so every printed value passes whole through the report's redaction (a name
cut in two pieces would escape it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, inspect, select

from triage.report.context import ReportContext
from triage.report.sections import PAGE_ROWS
from triage.store.models import Finding
from triage.views.findings import StoredFinding, labels_for, stream_findings

T = TypeVar("T")

#: Fields of a stored record shown in its provenance line rather than among its values.
PROVENANCE_FIELDS = frozenset({"record_type", "source", "locator", "recovered"})
#: Longest value printed whole in a generic field list (longer ones end with a note of the rest).
LONGEST_VALUE = 4000


def wanted_exhibits(ctx: ReportContext) -> list[str] | None:
    """The exhibits asked for, or ``None`` for the whole case."""
    return list(ctx.exhibits) if ctx.exhibits else None


def type_counts(ctx: ReportContext) -> dict[str, int]:
    """How many findings of each record type the report's exhibits hold (types ``--kind`` keeps)."""
    engine = ctx.case.engine
    if not inspect(engine).has_table(Finding.name):
        return {}
    query = select(Finding.c.record_type, func.count()).group_by(Finding.c.record_type)
    wanted = wanted_exhibits(ctx)
    if wanted:
        query = query.where(Finding.c.exhibit.in_(wanted))
    with engine.connect() as conn:
        counts = {str(t): int(n) for t, n in conn.execute(query)}
    return {t: n for t, n in sorted(counts.items()) if ctx.wants(t)}


def pages_of(rows: Iterable[T], size: int = PAGE_ROWS) -> Iterator[list[T]]:
    """``rows`` cut into lists of at most ``size`` (the last may be shorter; none when empty)."""
    page: list[T] = []
    for row in rows:
        page.append(row)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def text(value: object) -> str | None:
    """A value as the text a report prints (``None`` stays ``None``: printed as nothing)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def time_of(value: object) -> dict[str, str | bool | None] | None:
    """A stored time value for printing: ``shown`` (UTC, else the wall-clock reading with
    ``local`` true, else ``None``), the ``raw`` value and its ``encoding``, and the ``note`` of a
    value that holds no instant. ``None`` when ``value`` is not a time value."""
    if not isinstance(value, Mapping) or "encoding" not in value:
        return None
    utc, local = value.get("utc"), value.get("local")
    shown: str | None = None
    is_local = False
    if isinstance(utc, str) and utc:
        shown = utc
    elif isinstance(local, str) and local:
        shown, is_local = local, True
    return {
        "shown": shown,
        "local": is_local,
        "raw": text(value.get("raw")),
        "encoding": text(value.get("encoding")),
        "offset": text(value.get("offset")),
        "note": text(value.get("note")),
    }


def _within(source: Mapping[str, Any] | None) -> list[dict[str, str | None]]:
    """The archives a file was read from, innermost first."""
    out = []
    parent = source.get("parent") if isinstance(source, Mapping) else None
    while isinstance(parent, Mapping):
        out.append(
            {
                "path": text(parent.get("path")),
                "partition": text(parent.get("partition")),
                "sha256": text(parent.get("sha256")),
            }
        )
        parent = parent.get("parent")
    return out


def provenance(
    exhibit: str,
    path: str | None,
    *,
    partition: int | None = None,
    inode: int | None = None,
    stream: str | None = None,
    sha256: str | None = None,
    locator: str | None = None,
    plugin: str | None = None,
    version: str | None = None,
    source: Mapping[str, Any] | None = None,
    finding: int | None = None,
) -> dict[str, Any]:
    """One provenance line: exhibit, file (partition, inode, stream, SHA-256), the place in the file
    (table + rowid or offset: the locator), the plugin and its version, the archives on the way."""
    return {
        "exhibit": exhibit,
        "path": path,
        "partition": text(partition),
        "inode": text(inode),
        "stream": stream,
        "sha256": sha256,
        "locator": locator,
        "plugin": plugin,
        "version": version,
        "within": _within(source),
        "finding": text(finding),
    }


def provenance_of(f: StoredFinding) -> dict[str, Any]:
    return provenance(
        f.exhibit,
        f.path,
        partition=f.partition,
        inode=f.inode,
        stream=f.stream,
        sha256=f.file_sha256,
        locator=f.locator,
        plugin=f.plugin,
        version=f.plugin_version,
        source=f.data.get("source") if isinstance(f.data.get("source"), Mapping) else None,
        finding=f.id,
    )


def provenance_of_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance line of a row of :mod:`triage.views.conversations` or the timeline."""
    src = view["source"]
    return provenance(
        str(view["exhibit"]),
        src.get("path"),
        partition=src.get("partition"),
        inode=src.get("inode"),
        stream=src.get("stream"),
        sha256=src.get("sha256"),
        locator=view.get("locator"),
        plugin=view.get("plugin"),
        version=view.get("plugin_version"),
        source=src,
        finding=view.get("id", view.get("finding")),
    )


def clipped(value: str, limit: int = LONGEST_VALUE) -> tuple[str, int]:
    """``value`` cut at ``limit`` characters, and how many were left out."""
    if len(value) <= limit:
        return value, 0
    return value[:limit], len(value) - limit


def fields_of(record_type: str, data: Mapping[str, Any], skip: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every non-empty field of a record in stored order: ``name``, ``value`` (raw, as text),
    ``label`` (the render-time interpretation, if any), ``time`` (a time value's parts) and
    ``more`` (characters left out of a very long value)."""
    leave = PROVENANCE_FIELDS | set(skip)
    labels = labels_for(record_type, dict(data))
    out = []
    for name, value in data.items():
        if name in leave or value is None or value == "" or value == [] or value == {}:
            continue
        time = time_of(value)
        shown, more = (None, 0) if time is not None else clipped(text(value) or "")
        out.append({"name": name, "value": shown, "label": labels.get(name), "time": time, "more": more})
    return out


def has_dated(ctx: ReportContext) -> bool:
    """Whether some finding the report holds has a time (the timeline then has an event):
    findings are read until the first one with a time value."""
    from triage.views.timeline import time_fields

    for f in stream_findings(
        ctx.case.engine, wanted_exhibits(ctx), prefixes=list(ctx.kinds) if ctx.kinds else None
    ):
        if next(time_fields(f.data), None) is not None:
            return True
    return False


def first_time(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
    """The first of ``names`` that holds a time value, for printing (see :func:`time_of`)."""
    for name in names:
        time = time_of(data.get(name))
        if time is not None and time["shown"]:
            return time
    return None
