"""Android SMS on real data (plaso's mmssms.db) and on an older schema built from SQL text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plugins.chat.sms_android import AndroidSms, AndroidSmsPlugin
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch

# Expected values: corpus README / plaso's own test of this file.
EXPECTED_TOTAL = 9
EXPECTED_SENT = 5
EXPECTED_RECEIVED = 4
FIRST_BODY = "Yo Fred this is my new number."
FIRST_UTC = "2013-10-29T16:56:28.038000Z"


def _run(item: FileItem, tmp_path: Path) -> tuple[list[AndroidSms], list[str]]:
    plugin = AndroidSmsPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    records = [r for r in result.records if isinstance(r, AndroidSms)]
    return records, [w.message for w in result.warnings]


def test_mmssms_corpus(corpus: Path, tmp_path: Path) -> None:
    path = need(corpus / "chats" / "mmssms.db")
    item = FileItem.from_path(path, fs_path="/data/data/com.android.providers.telephony/databases/mmssms.db")
    records, warnings = _run(item, tmp_path)
    assert warnings == []
    assert len(records) == EXPECTED_TOTAL
    assert sum(r.sms_type == 2 for r in records) == EXPECTED_SENT
    assert sum(r.sms_type == 1 for r in records) == EXPECTED_RECEIVED
    first = records[0]
    assert first.body == FIRST_BODY
    assert first.timestamp is not None and first.timestamp.utc == FIRST_UTC
    assert first.timestamp.raw == 1383065788038 and first.timestamp.encoding == "unix_ms"
    assert first.from_me is True and first.party == "1 555-521-5554"
    assert first.locator == "sms._id=1"
    assert first.source.sha256 == item.source.sha256
    assert label_for(AndroidSms, "sms_type", first.sms_type) == "sent"
    # received messages carry the network's send time; sent ones store 0 there
    received = [r for r in records if r.sms_type == 1]
    assert all(r.sent_time is not None and r.sent_time.utc for r in received)
    assert all(r.sent_time is not None and r.sent_time.utc is None for r in records if r.sms_type == 2)
    d = record_to_dict(first)
    assert d["record_type"] == "chat/android/sms" and d["sms_type"] == 2


# Android 2.x: no date_sent, no seen; a row with a type outside the known mailboxes.
OLD_SCHEMA = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER,
  reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT, locked INTEGER DEFAULT 0);
INSERT INTO sms (_id, thread_id, address, date, read, type, body)
  VALUES (1, 3, '+15551234567', 1262304000000, 1, 1, 'happy new year');
INSERT INTO sms (_id, thread_id, address, date, read, type, body)
  VALUES (2, 3, '+15551234567', 0, 0, 99, NULL);
"""


def test_old_schema_variant(tmp_path: Path) -> None:
    db = tmp_path / "mmssms.db"
    con = sqlite3.connect(db)
    con.executescript(OLD_SCHEMA)
    con.close()
    records, warnings = _run(FileItem.from_path(db), tmp_path)
    assert warnings == []
    assert [r.rowid for r in records] == [1, 2]
    a, b = records
    assert a.timestamp is not None and a.timestamp.utc == "2010-01-01T00:00:00.000000Z"
    assert a.sent_time is None and a.seen is None  # column absent in this schema
    assert a.from_me is False and a.conversation == "3"
    assert b.timestamp is not None and b.timestamp.utc is None and b.timestamp.raw == 0
    assert b.sms_type == 99 and b.from_me is None and label_for(AndroidSms, "sms_type", 99) is None
