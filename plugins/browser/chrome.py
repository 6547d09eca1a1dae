"""Google Chrome / Chromium browsing history: every visit of every URL, from ``History``.

``visits`` holds one row per page load and points to ``urls`` (address, title, counters). Times
are WebKit timestamps: microseconds since 1601-01-01 UTC. ``transition`` is a bit field whose low
byte is the core transition type (link, typed, reload...) and whose high bits are qualifiers
(redirect, chain start/end); both the raw value and the core byte are kept, labels for the core
byte are applied at render time.

Expected on the public corpus (``browsers/chrome_History``, plaso test data): 69 visits of
55 URLs (``groundtruth/sqlite-tablecounts.tsv``); the first visit, of
``http://start.ubuntu.com/10.04/Google/``, at 2011-04-07 12:03:11 UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Join,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    UrlVisitFields,
    from_webkit_us,
    sqlite_signature,
)

CORE_TRANSITION_LABELS: Mapping[object, str] = {
    0: "link",
    1: "typed",
    2: "auto bookmark",
    3: "auto subframe",
    4: "manual subframe",
    5: "generated",
    6: "auto toplevel",
    7: "form submit",
    8: "reload",
    9: "keyword",
    10: "keyword generated",
}


@dataclass(frozen=True, kw_only=True)
class ChromeVisit(UrlVisitFields, Record):
    """One ``visits`` row with its ``urls`` row; ``visit_time`` is ``visits.visit_time``."""

    record_type: ClassVar[str] = "browser/chrome/visit"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"transition_core": CORE_TRANSITION_LABELS}

    visit_id: int | None  # None: a recovered deleted row whose id was overwritten
    url_id: int | None = None
    from_visit: int | None = None
    transition: int | None = None
    transition_core: int | None = None
    visit_duration_us: int | None = None
    visit_count: int | None = None
    typed_count: int | None = None
    hidden: int | None = None
    url_last_visit: TimeValue | None = None


VISITS = Table(
    "visits",
    key="id",
    required=("url", "visit_time", "transition"),
    optional=("from_visit", "visit_duration"),
    joins=(
        Join(
            "urls",
            on="url",
            key="id",
            required=("url", "title"),
            optional=("visit_count", "typed_count", "last_visit_time", "hidden"),
        ),
    ),
)


class ChromeHistoryPlugin(SqliteTablePlugin[None]):
    """Reads page visits from Chrome/Chromium ``History`` (visits joined with urls)."""

    name = "browser_chrome"
    version = "1.1.0"
    description = "Chrome/Chromium browsing history visits (History: visits + urls), WebKit time"
    tables = (VISITS,)
    targets = Targets(globs=("**/History",), magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables))
    emits = (ChromeVisit,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> ChromeVisit:
        """One ``visits`` row with its ``urls`` row (a warning when the visit points to none)."""
        if row["urls.id"] is None:
            at.warn(f"visit points to missing urls.id {row['url']}")
        transition = row["transition"]
        return ChromeVisit(
            source=at.source,
            locator=at.locator,
            visit_id=row["id"],
            url_id=row["url"],
            url=row["urls.url"],
            title=row["urls.title"],
            visit_time=from_webkit_us(row["visit_time"]),
            from_visit=row["from_visit"],
            transition=transition,
            transition_core=transition & 0xFF if isinstance(transition, int) else None,
            visit_duration_us=row["visit_duration"],
            visit_count=row["urls.visit_count"],
            typed_count=row["urls.typed_count"],
            hidden=row["urls.hidden"],
            url_last_visit=from_webkit_us(row["urls.last_visit_time"]),
        )
