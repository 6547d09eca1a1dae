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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    FileItem,
    ParseContext,
    Plugin,
    Record,
    SqliteSignature,
    Targets,
    TimeValue,
    UrlVisitFields,
    from_prtime_us,
    select_list,
    table_columns,
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

    visit_id: int
    place_id: int | None = None
    from_visit: int | None = None
    visit_type: int | None = None
    visit_count: int | None = None
    typed: int | None = None
    hidden: int | None = None
    place_last_visit: TimeValue | None = None


_VISIT_COLUMNS = ("id", "place_id", "visit_date", "from_visit", "visit_type")
_PLACE_COLUMNS = ("url", "title", "visit_count", "typed", "hidden", "last_visit_date")


class FirefoxHistoryPlugin(Plugin):
    """Reads page visits from Firefox ``places.sqlite`` (moz_historyvisits + moz_places)."""

    name = "browser_firefox"
    version = "1.0.0"
    description = "Firefox browsing history visits (places.sqlite: moz_historyvisits + moz_places), PRTime"
    targets = Targets(
        globs=("**/places.sqlite",),
        magic=(SQLITE_MAGIC,),
        sqlite=SqliteSignature.of(
            moz_historyvisits=("id", "place_id", "visit_date"),
            moz_places=("id", "url"),
        ),
    )
    emits = (FirefoxVisit,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[FirefoxVisit]:
        con = ctx.open_sqlite(item)
        vcols = select_list(table_columns(con, "moz_historyvisits"), _VISIT_COLUMNS, prefix="v.")
        pcols = select_list(table_columns(con, "moz_places"), _PLACE_COLUMNS, prefix="p.", alias_prefix="p_")
        query = (
            f"SELECT {vcols}, p.id AS p_id, {pcols} "
            "FROM moz_historyvisits v LEFT JOIN moz_places p ON p.id = v.place_id ORDER BY v.id"
        )
        for row in con.execute(query):
            visit_id = row["id"]
            if row["p_id"] is None:
                ctx.warn(
                    f"visit points to missing moz_places.id {row['place_id']}",
                    locator=f"moz_historyvisits.id={visit_id}",
                )
            yield FirefoxVisit(
                source=item.source,
                locator=f"moz_historyvisits.id={visit_id}",
                visit_id=visit_id,
                place_id=row["place_id"],
                url=row["p_url"],
                title=row["p_title"],
                visit_time=from_prtime_us(row["visit_date"]),
                from_visit=row["from_visit"],
                visit_type=row["visit_type"],
                visit_count=row["p_visit_count"],
                typed=row["p_typed"],
                hidden=row["p_hidden"],
                place_last_visit=from_prtime_us(row["p_last_visit_date"]),
            )
