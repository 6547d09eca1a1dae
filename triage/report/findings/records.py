"""Web history, identifiers, keyword hits, hash-set hits, every other record type, and the timeline.

Rows that must be ordered by a value inside the stored record (a visit's time, an identifier's
value, a keyword's term) are sorted on disk through :class:`triage.views.spool.SortedRows`, as the
views do; the other records come page by page in (record type, id) order
(:func:`triage.report.findings.stream.findings_in_order`). Every row carries its provenance and
its fields raw, with the plugin's labels beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from triage.report.context import ReportContext
from triage.report.findings.common import (
    fields_of,
    first_time,
    pages_of,
    provenance_of,
    provenance_of_view,
    text,
    time_of,
    wanted_exhibits,
)
from triage.report.findings.stream import findings_in_order
from triage.views.findings import StoredFinding, stream_findings
from triage.views.spool import SortedRows, encode_key, sort_key
from triage.views.timeline import timeline

KEYWORD = "keyword/hit"
HASH_HIT = "hash/hit"
#: Fields a web visit shows in its own columns (the others follow in its details).
_VISIT = ("url", "title", "visit_time")
_IDENTIFIER = ("kind", "value", "raw", "detail", "context")
_KEYWORD = ("term", "line", "area", "matched", "context")
_HASH = ("set_name", "set_sha256", "kind", "category", "algorithm", "hash", "target", "distance")


def _base(f: StoredFinding) -> dict[str, Any]:
    return {
        "record_type": f.record_type,
        "deleted": bool(f.data.get("deleted")),
        "recovered": text(f.data.get("recovered")),
        "prov": provenance_of(f),
    }


def _sorted(
    ctx: ReportContext,
    types: tuple[str, ...],
    row: Callable[[StoredFinding], dict[str, Any]],
    key: Callable[[StoredFinding], tuple[str | None, ...]],
    name: str,
) -> Iterator[dict[str, Any]]:
    """Pages of ``row(finding)`` for the findings of ``types``, sorted by ``key`` on disk."""

    def rows() -> Iterator[tuple[bytes, dict[str, Any]]]:
        for f in stream_findings(ctx.case.engine, wanted_exhibits(ctx), types):
            yield encode_key(*key(f), f.exhibit, f"{f.id:012d}"), row(f)

    for page in pages_of(SortedRows(ctx.case.scratch_dir, rows)):
        yield {name: page}


def web_pages(ctx: ReportContext, types: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Browser visits in time order (undated last)."""

    def row(f: StoredFinding) -> dict[str, Any]:
        d = f.data
        return {
            **_base(f),
            "browser": f.record_type.split("/")[1] if f.record_type.count("/") >= 2 else f.record_type,
            "time": first_time(d, ("visit_time",)),
            "url": text(d.get("url")),
            "title": text(d.get("title")),
            "fields": fields_of(f.record_type, d, skip=_VISIT),
        }

    def key(f: StoredFinding) -> tuple[str | None, ...]:
        time = first_time(f.data, ("visit_time",))
        return (sort_key(time["shown"]) if time else None,)

    yield from _sorted(ctx, types, row, key, "visits")


def identifier_pages(ctx: ReportContext, types: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Identifiers found in records and texts, by kind and value."""

    def row(f: StoredFinding) -> dict[str, Any]:
        d = f.data
        return {
            **_base(f),
            "kind": text(d.get("kind")),
            "value": text(d.get("value")),
            "raw": text(d.get("raw")),
            "detail": text(d.get("detail")),
            "context": text(d.get("context")),
            "fields": fields_of(f.record_type, d, skip=_IDENTIFIER),
        }

    def key(f: StoredFinding) -> tuple[str | None, ...]:
        return (text(f.data.get("kind")), text(f.data.get("value")))

    yield from _sorted(ctx, types, row, key, "identifiers")


def _around(context: str | None, matched: str | None, redact: Callable[[str], str]) -> dict[str, str] | None:
    """The keyword's context cut around the match (``before``, ``match``, ``after``), redacted as
    a whole first so that no listed name can escape by being cut in two; ``None`` when the match
    is not found in the (redacted) context."""
    if not context or not matched:
        return None
    whole, hit = redact(context), redact(matched)
    at = whole.find(hit)
    if at < 0 or not hit:
        return None
    return {"before": whole[:at], "match": hit, "after": whole[at + len(hit) :]}


def keyword_pages(ctx: ReportContext) -> Iterator[dict[str, Any]]:
    """Keyword hits by term (in the keyword file's order), exhibit and place."""
    redact = ctx.redactor.text

    def row(f: StoredFinding) -> dict[str, Any]:
        d = f.data
        return {
            **_base(f),
            "term": text(d.get("term")),
            "line": text(d.get("line")),
            "area": text(d.get("area")),
            "matched": text(d.get("matched")),
            "context": text(d.get("context")),
            "around": _around(text(d.get("context")), text(d.get("matched")), redact),
            "fields": fields_of(f.record_type, d, skip=_KEYWORD),
        }

    def key(f: StoredFinding) -> tuple[str | None, ...]:
        line = f.data.get("line")
        return (f"{line:09d}" if isinstance(line, int) else None, text(f.data.get("term")), f.path)

    yield from _sorted(ctx, (KEYWORD,), row, key, "hits")


def hash_pages(ctx: ReportContext) -> Iterator[dict[str, Any]]:
    """Hash-set hits by set, exhibit and path; known-bad sets first."""

    def row(f: StoredFinding) -> dict[str, Any]:
        d = f.data
        return {
            **_base(f),
            **{name: text(d.get(name)) for name in _HASH},
            "perceptual": bool(d.get("perceptual")),
            "fields": fields_of(f.record_type, d, skip=_HASH),
        }

    def key(f: StoredFinding) -> tuple[str | None, ...]:
        kind = f.data.get("kind")
        return ("0" if kind == "known-bad" else "1", text(f.data.get("set_name")), f.path)

    yield from _sorted(ctx, (HASH_HIT,), row, key, "hits")


def other_pages(ctx: ReportContext, types: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Every other record type, generically: by record type, then as stored; each record's fields
    raw, with the labels its plugin declares (:func:`triage.views.findings.labels_for`)."""

    def rows() -> Iterator[dict[str, Any]]:
        for f in findings_in_order(ctx.case.engine, wanted_exhibits(ctx), types, order="type"):
            yield {**_base(f), "fields": fields_of(f.record_type, f.data)}

    for page in pages_of(rows()):
        yield {"records": page}


def timeline_pages(ctx: ReportContext) -> Iterator[dict[str, Any]]:
    """Every dated event of the findings in time order (``exhibit timeline``: local times marked)."""

    def rows() -> Iterator[dict[str, Any]]:
        events = timeline(ctx.case, wanted_exhibits(ctx), kinds=list(ctx.kinds) if ctx.kinds else None)
        for e in events:
            value = e.get("time_value")
            yield {
                "time": e["time"],
                "local": e["time_local"],
                "raw": time_of(value) if isinstance(value, Mapping) else None,
                "kind": e["kind"],
                "summary": e["summary"],
                "hashset": e.get("hashset"),
                "prov": provenance_of_view(e),
            }

    for page in pages_of(rows()):
        yield {"events": page}


__all__ = [
    "HASH_HIT",
    "KEYWORD",
    "hash_pages",
    "identifier_pages",
    "keyword_pages",
    "other_pages",
    "timeline_pages",
    "web_pages",
]
