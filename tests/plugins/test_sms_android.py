"""Android SMS on real data (plaso's mmssms.db) and on older and newer schemas built from SQL text.

The corpus file is compared with plaso's ``android_sms`` test (9 messages, 5 sent, 4 received; the
first at 2013-10-29 16:56:28.038 UTC, "Yo Fred this is my new number.") and with the database
itself, row by row. The Android 10+ layout (``sub_id``, ``creator``) is a fixture from the AOSP
TelephonyProvider schema (tests/plugins/android_fixtures.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plugins.chat.sms_android import AndroidSms, AndroidSmsPlugin
from tests.conftest import need
from tests.plugins.android_fixtures import (
    SMS_V69,
    TELEPHONY,
    check_bad_copies,
    fingerprint,
    insert,
    make_db,
    ro,
)
from tests.plugins.android_fixtures import run as run_all
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
    before = fingerprint(path)
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
    # the common fields: the owner's number is not in mmssms.db, so the owner's side stays empty
    assert AndroidSms.app == "sms" and all(r.account is None for r in records)
    assert first.sender is None and first.recipients == ("1 555-521-5554",)
    assert received[0].sender == "15555215554" and received[0].recipients == ()
    assert {r.conversation_title for r in records} == {"1 555-521-5554"}  # threads + canonical_addresses
    assert first.error_code == 0 and first.locked == 0 and first.sub_id is None and first.creator is None

    # row by row against the database itself
    con = ro(path)
    rows = con.execute(
        "SELECT _id, address, date, date_sent, type, body, read, status FROM sms ORDER BY _id"
    ).fetchall()
    con.close()
    assert [
        (r.rowid, r.address, r.timestamp.raw if r.timestamp else None, r.sent_time.raw if r.sent_time else None,
         r.sms_type, r.body, r.read, r.status)
        for r in records
    ] == [tuple(row) for row in rows]  # fmt: skip
    assert fingerprint(path) == before


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


def test_android_10_schema(tmp_path: Path) -> None:
    """sub_id and creator (Android 5.1+), a thread of two participants, a message of unknown type."""
    db = make_db(tmp_path / "phone" / TELEPHONY / "databases" / "mmssms.db", SMS_V69)
    insert(db, "canonical_addresses", _id=4, address="+31612345678")
    insert(db, "canonical_addresses", _id=7, address="+31687654321")
    insert(db, "threads", _id=2, recipient_ids="4 7")
    insert(db, "sms", _id=10, thread_id=2, address="+31612345678", date=1_767_261_600_000,
           date_sent=1_767_261_598_000, type=1, body="Container arrives Friday", sub_id=2,
           creator="com.android.phone")  # fmt: skip
    insert(db, "sms", _id=11, thread_id=2, address="+31687654321", date=1_767_261_900_000, type=4,
           body="Pier 7, 22:00", creator="com.google.android.apps.messaging")  # fmt: skip
    insert(db, "sms", _id=12, thread_id=9, address="+31687654321", date=1_767_262_000_000, type=0, body="?")
    records, warnings = _run(FileItem.from_path(db, fs_path=f"/{TELEPHONY}/databases/mmssms.db"), tmp_path)
    assert warnings == []
    received, outbox, unknown = records
    assert received.timestamp is not None and received.timestamp.utc == "2026-01-01T10:00:00.000000Z"
    assert received.sent_time is not None and received.sent_time.utc == "2026-01-01T09:59:58.000000Z"
    assert received.sub_id == 2 and received.creator == "com.android.phone"
    assert received.sender == "+31612345678" and received.recipients == () and received.from_me is False
    assert received.conversation == "2" and received.conversation_title == "+31612345678, +31687654321"
    assert outbox.from_me is True and outbox.sender is None and outbox.recipients == ("+31687654321",)
    assert label_for(AndroidSms, "sms_type", outbox.sms_type) == "outbox"
    assert unknown.from_me is None and unknown.sender is None and unknown.recipients == ()
    assert unknown.conversation == "9" and unknown.conversation_title is None  # no such thread


def test_rows_only_in_the_wal_are_read(tmp_path: Path) -> None:
    """A message committed to the -wal but not checkpointed into the database is still found."""
    db = make_db(tmp_path / "live" / "mmssms.db", SMS_V69)
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "INSERT INTO sms (_id, address, date, type, body) VALUES (1, '+1555', 1700000000000, 1, 'in the wal')"
    )
    writer.commit()
    seized = tmp_path / "seized"
    seized.mkdir()
    for suffix in ("", "-wal"):
        (seized / f"mmssms.db{suffix}").write_bytes((db.parent / f"mmssms.db{suffix}").read_bytes())
    writer.close()
    before = fingerprint(seized / "mmssms.db-wal")
    records, warnings = _run(FileItem.from_path(seized / "mmssms.db"), tmp_path)
    assert [r.body for r in records] == ["in the wal"] and warnings == []
    assert fingerprint(seized / "mmssms.db-wal") == before


def test_bad_input(tmp_path: Path) -> None:
    db = make_db(tmp_path / "phone" / "mmssms.db", SMS_V69)
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO sms (address, date, type, body) VALUES ('+1555', ?, 1, ?)",
        ((1_700_000_000_000 + i, f"message {i} " + "x" * 150) for i in range(300)),
    )
    con.execute("UPDATE sms SET body = CAST(X'e282' AS TEXT) WHERE _id = 5")  # one corrupt row
    con.commit()
    con.close()
    records, warnings = run_all(
        [AndroidSmsPlugin()], FileItem.from_path(db, fs_path="/x/mmssms.db"), tmp_path / "one"
    )
    assert len(records) == 299 and 5 not in {r.rowid for r in records if isinstance(r, AndroidSms)}
    assert warnings == [("sms_android", "sms._id=5", "row skipped: text that is not UTF-8 in body (e282)")]
    found = check_bad_copies(AndroidSmsPlugin(), db, f"/{TELEPHONY}/databases", tmp_path)
    assert any("damaged SMS database" in m or "malformed" in m for m in found["truncated"])

    no_sms = make_db(tmp_path / "nosms" / "mmssms.db", SMS_V69 + "DROP TABLE sms;")
    records, warnings = run_all(
        [AndroidSmsPlugin()],
        FileItem.from_path(no_sms, fs_path="/x/mmssms.db"),
        tmp_path / "two",
        expect_match=False,
    )
    assert records == [] and warnings[0][2].startswith("database skipped by sms_android: it lacks")
