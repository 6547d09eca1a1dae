"""Firefox history on real data (plaso's places.sqlite) and on a fixture with a dangling place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plugins.browser.firefox import FirefoxHistoryPlugin, FirefoxVisit
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for
from triage.plugin.scratch import Scratch

EXPECTED_VISITS = 1  # groundtruth/sqlite-tablecounts.tsv: moz_historyvisits 1


def _run(item: FileItem, tmp_path: Path) -> tuple[list[FirefoxVisit], list[str]]:
    plugin = FirefoxHistoryPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    return [r for r in result.records if isinstance(r, FirefoxVisit)], [w.message for w in result.warnings]


def test_places_corpus(corpus: Path, tmp_path: Path) -> None:
    path = need(corpus / "browsers" / "firefox_places.sqlite")
    records, warnings = _run(
        FileItem.from_path(path, fs_path="/home/u/.mozilla/firefox/x.default/places.sqlite"), tmp_path
    )
    assert warnings == []
    assert len(records) == EXPECTED_VISITS
    [visit] = records
    assert (visit.url, visit.title) == ("http://news.google.com/", "Google News")
    assert visit.visit_time is not None and visit.visit_time.utc == "2011-07-01T11:16:21.371935Z"
    assert visit.visit_time.raw == 1309518981371935 and visit.visit_time.encoding == "prtime_us"
    assert label_for(FirefoxVisit, "visit_type", visit.visit_type) == "typed"


FIXTURE = """
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER,
  visit_date INTEGER, visit_type INTEGER);
INSERT INTO moz_places VALUES (1, 'https://example.org/', NULL);
INSERT INTO moz_historyvisits VALUES (1, 0, 1, 1600000000000000, 1);
INSERT INTO moz_historyvisits VALUES (2, 1, 5, 0, 9);
"""


def test_minimal_schema_and_dangling_place(tmp_path: Path) -> None:
    db = tmp_path / "places.sqlite"
    con = sqlite3.connect(db)
    con.executescript(FIXTURE)
    con.close()
    records, warnings = _run(FileItem.from_path(db), tmp_path)
    first, dangling = records
    assert first.visit_time is not None and first.visit_time.utc == "2020-09-13T12:26:40.000000Z"
    assert first.visit_count is None  # column absent in this schema
    assert dangling.url is None and dangling.visit_time is not None and dangling.visit_time.utc is None
    assert warnings == ["visit points to missing moz_places.id 5"]
