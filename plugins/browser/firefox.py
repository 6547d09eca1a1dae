"""Mozilla Firefox browsing history: every visit of every place, from ``places.sqlite``.

``moz_historyvisits`` holds one row per page load and points to ``moz_places`` (URL, title,
counters). Times are PRTime: microseconds since 1970-01-01 UTC. ``visit_type`` is kept raw
(1 link, 2 typed, 3 bookmark, 4 embed, 5 permanent redirect, 6 temporary redirect, 7 download,
8 framed link, 9 reload) and labelled at render time.

Expected on the public corpus (``browsers/firefox_places.sqlite``, plaso test data): 1 visit
(``groundtruth/sqlite-tablecounts.tsv``), of ``http://news.google.com/`` ("Google News"),
typed, at 2011-07-01 11:16:21.371935 UTC.
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
    from_prtime_us,
    sqlite_signature,
)

VISIT_TYPE_LABELS: Mapping[object, str] = {
    1: "link",
    2: "typed",
    3: "bookmark",
    4: "embed",
    5: "redirect (permanent)",
    6: "redirect (temporary)",
    7: "download",
    8: "framed link",
    9: "reload",
}


@dataclass(frozen=True, kw_only=True)
class FirefoxVisit(UrlVisitFields, Record):
    """One ``moz_historyvisits`` row with its ``moz_places`` row."""

    record_type: ClassVar[str] = "browser/firefox/visit"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"visit_type": VISIT_TYPE_LABELS}

    visit_id: int | None  # None: a recovered deleted row whose id was overwritten
    place_id: int | None = None
    from_visit: int | None = None
    visit_type: int | None = None
    visit_count: int | None = None
    typed: int | None = None
    hidden: int | None = None
    place_last_visit: TimeValue | None = None


VISITS = Table(
    "moz_historyvisits",
    key="id",
    required=("place_id", "visit_date"),
    optional=("from_visit", "visit_type"),
    joins=(
        Join(
            "moz_places",
            on="place_id",
            key="id",
            required=("url",),
            optional=("title", "visit_count", "typed", "hidden", "last_visit_date"),
        ),
    ),
)


class FirefoxHistoryPlugin(SqliteTablePlugin[None]):
    """Reads page visits from Firefox ``places.sqlite`` (moz_historyvisits + moz_places)."""

    name = "browser_firefox"
    version = "1.1.0"
    description = "Firefox browsing history visits (places.sqlite: moz_historyvisits + moz_places), PRTime"
    tables = (VISITS,)
    targets = Targets(globs=("**/places.sqlite",), magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables))
    emits = (FirefoxVisit,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> FirefoxVisit:
        """One ``moz_historyvisits`` row with its ``moz_places`` row (a warning when there is none)."""
        if row["moz_places.id"] is None:
            at.warn(f"visit points to missing moz_places.id {row['place_id']}")
        return FirefoxVisit(
            source=at.source,
            locator=at.locator,
            visit_id=row["id"],
            place_id=row["place_id"],
            url=row["moz_places.url"],
            title=row["moz_places.title"],
            visit_time=from_prtime_us(row["visit_date"]),
            from_visit=row["from_visit"],
            visit_type=row["visit_type"],
            visit_count=row["moz_places.visit_count"],
            typed=row["moz_places.typed"],
            hidden=row["moz_places.hidden"],
            place_last_visit=from_prtime_us(row["moz_places.last_visit_date"]),
        )
