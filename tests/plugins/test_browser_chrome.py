"""Chrome history on real data (plaso's History) and on a newer schema built from SQL text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plugins.browser.chrome import ChromeHistoryPlugin, ChromeVisit
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for
from triage.plugin.scratch import Scratch

# Expected values: groundtruth/sqlite-tablecounts.tsv (visits 69, urls 55).
EXPECTED_VISITS = 69
EXPECTED_URLS = 55


def _run(item: FileItem, tmp_path: Path) -> tuple[list[ChromeVisit], list[str]]:
    plugin = ChromeHistoryPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    return [r for r in result.records if isinstance(r, ChromeVisit)], [w.message for w in result.warnings]


def test_chrome_history_corpus(corpus: Path, tmp_path: Path) -> None:
    path = need(corpus / "browsers" / "chrome_History")
    records, warnings = _run(
        FileItem.from_path(path, fs_path="/home/u/.config/google-chrome/Default/History"), tmp_path
    )
    assert warnings == []
    assert len(records) == EXPECTED_VISITS
    assert len({r.url_id for r in records}) <= EXPECTED_URLS
    first = records[0]
    assert first.url == "http://start.ubuntu.com/10.04/Google/"
    assert first.title == "Ubuntu Start Page"
    assert first.visit_time is not None
    assert first.visit_time.utc == "2011-04-07T12:03:11.000000Z"
    assert first.visit_time.raw == 12946651391000000 and first.visit_time.encoding == "webkit_us"
    assert first.transition == 805306368 and first.transition_core == 0
    assert label_for(ChromeVisit, "transition_core", first.transition_core) == "link"
    assert all(r.visit_time is not None and r.visit_time.utc for r in records)
    assert all(r.url for r in records)


NEW_SCHEMA = """
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL, incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,
  opener_visit INTEGER, originator_cache_guid TEXT);
INSERT INTO urls VALUES (1, 'https://example.org/', 'Example', 1, 1, 13300000000000000, 0);
INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration)
  VALUES (5, 1, 13300000000000000, 0, 805306369, 1500000);
INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration)
  VALUES (6, 9, 13300000001000000, 5, 8, 0);
"""


def test_newer_schema_and_dangling_url(tmp_path: Path) -> None:
    db = tmp_path / "History"
    con = sqlite3.connect(db)
    con.executescript(NEW_SCHEMA)
    con.close()
    records, warnings = _run(FileItem.from_path(db), tmp_path)
    assert [r.visit_id for r in records] == [5, 6]
    typed, dangling = records
    assert typed.visit_duration_us == 1500000 and typed.transition_core == 1
    assert typed.visit_time is not None and typed.visit_time.utc == "2022-06-18T04:26:40.000000Z"
    assert dangling.url is None and dangling.transition_core == 8
    assert warnings == ["visit points to missing urls.id 9"]
