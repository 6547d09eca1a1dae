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
    from_webkit_us,
    select_list,
    table_columns,
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

    visit_id: int
    url_id: int | None = None
    from_visit: int | None = None
    transition: int | None = None
    transition_core: int | None = None
    visit_duration_us: int | None = None
    visit_count: int | None = None
    typed_count: int | None = None
    hidden: int | None = None
    url_last_visit: TimeValue | None = None


_VISIT_COLUMNS = ("id", "url", "visit_time", "from_visit", "transition", "visit_duration")
_URL_COLUMNS = ("url", "title", "visit_count", "typed_count", "last_visit_time", "hidden")


class ChromeHistoryPlugin(Plugin):
    """Reads page visits from Chrome/Chromium ``History`` (visits joined with urls)."""

    name = "browser_chrome"
    version = "1.0.0"
    description = "Chrome/Chromium browsing history visits (History: visits + urls), WebKit time"
    targets = Targets(
        globs=("**/History",),
        magic=(SQLITE_MAGIC,),
        sqlite=SqliteSignature.of(
            visits=("id", "url", "visit_time", "transition"),
            urls=("id", "url", "title"),
        ),
    )
    emits = (ChromeVisit,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[ChromeVisit]:
        con = ctx.open_sqlite(item)
        vcols = select_list(table_columns(con, "visits"), _VISIT_COLUMNS, prefix="v.")
        ucols = select_list(table_columns(con, "urls"), _URL_COLUMNS, prefix="u.", alias_prefix="u_")
        query = (
            f"SELECT {vcols}, u.id AS u_id, {ucols} "
            "FROM visits v LEFT JOIN urls u ON u.id = v.url ORDER BY v.id"
        )
        for row in con.execute(query):
            visit_id = row["id"]
            if row["u_id"] is None:
                ctx.warn(f"visit points to missing urls.id {row['url']}", locator=f"visits.id={visit_id}")
            transition = row["transition"]
            yield ChromeVisit(
                source=item.source,
                locator=f"visits.id={visit_id}",
                visit_id=visit_id,
                url_id=row["url"],
                url=row["u_url"],
                title=row["u_title"],
                visit_time=from_webkit_us(row["visit_time"]),
                from_visit=row["from_visit"],
                transition=transition,
                transition_core=transition & 0xFF if isinstance(transition, int) else None,
                visit_duration_us=row["visit_duration"],
                visit_count=row["u_visit_count"],
                typed_count=row["u_typed_count"],
                hidden=row["u_hidden"],
                url_last_visit=from_webkit_us(row["u_last_visit_time"]),
            )
