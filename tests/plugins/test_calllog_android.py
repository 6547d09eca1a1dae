"""Android call log (``calls`` of ``contacts2.db`` up to Android 6, of ``calllog.db`` from Android 7).

Real data: the corpus ``chats/contacts2.db`` (plaso test data, Android 4.x), compared with the
database itself and with plaso's ``android_calls`` test, which expects 5 events from its 3 calls
(a start per call, an end for each call that lasted): events[0] MISSED 5404561685 started
2013-11-06 21:17:16.690, events[3] started 2013-11-07 00:03:36.690, events[4] ended 00:14:15.690
after 639 s. Newer layouts are fixtures from the AOSP ContactsProvider schema
(``CallLogDatabaseHelper`` version 12; version 10 and the Android 7 ``contacts2.db`` ``calls`` as in
that project's test assets, whose rows some fixtures reproduce; see android_fixtures.py).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plugins import BUILTIN_PLUGINS
from plugins.chat.calllog_android import AndroidCall, AndroidCallLogPlugin
from tests.conftest import need
from tests.plugins.android_fixtures import (
    CALLLOG,
    CALLS_V10,
    CALLS_V12,
    check_bad_copies,
    fingerprint,
    insert,
    make_db,
    ro,
    run,
)
from triage.engine.dispatch import match_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch

CONTACTS2 = "/data/data/com.android.providers.contacts/databases/contacts2.db"
CALLLOG_DB = f"/{CALLLOG}/databases/calllog.db"

# plaso tests/parsers/sqlite_plugins/android_calls.py
PLASO_EVENTS = 5
PLASO_FIRST = ("2013-11-06 21:17:16.690", "MISSED", "5404561685", "Call Started")
PLASO_FOURTH_START = "2013-11-07 00:03:36.690"
PLASO_FIFTH_END = ("2013-11-07 00:14:15.690", 639, "Call Ended")


def _calls(records: list[object]) -> list[AndroidCall]:
    return [r for r in records if isinstance(r, AndroidCall)]


def _plaso_time(utc: str | None, plus_s: int = 0) -> str:
    assert utc is not None
    when = datetime.fromisoformat(utc.replace("Z", "+00:00")) + timedelta(seconds=plus_s)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def test_corpus_calls_match_the_database_and_plaso(corpus: Path, tmp_path: Path) -> None:
    path = need(corpus / "chats" / "contacts2.db")
    before = fingerprint(path)
    records, warnings = run([AndroidCallLogPlugin()], FileItem.from_path(path, fs_path=CONTACTS2), tmp_path)
    calls = _calls(records)
    assert warnings == []

    # the database itself
    con = ro(path)
    rows = con.execute("SELECT _id, number, date, duration, type, name FROM calls ORDER BY _id").fetchall()
    con.close()
    assert [(c.rowid, c.number, c.timestamp.raw if c.timestamp else None, c.duration, c.call_type, c.name)
            for c in calls] == [tuple(r) for r in rows]  # fmt: skip
    assert [c.rowid for c in calls] == [714, 715, 717]  # 716 was deleted (sqlite_sequence is 717)
    assert all(c.timestamp is not None and c.timestamp.encoding == "unix_ms" for c in calls)

    # plaso: a start event per call, an end event per call that lasted, in time order
    events = sorted(
        [(_plaso_time(c.timestamp.utc if c.timestamp else None), "Call Started", c) for c in calls]
        + [
            (_plaso_time(c.timestamp.utc if c.timestamp else None, int(c.duration)), "Call Ended", c)
            for c in calls
            if c.duration
        ],
        key=lambda e: e[0],
    )
    assert len(events) == PLASO_EVENTS
    when, desc, first = events[0]
    assert (when, label_for(AndroidCall, "call_type", first.call_type), first.number, desc) == (
        PLASO_FIRST[0],
        PLASO_FIRST[1].lower(),
        PLASO_FIRST[2],
        PLASO_FIRST[3],
    )
    assert events[3][0] == PLASO_FOURTH_START and events[3][1] == "Call Started"
    assert (events[4][0], events[4][2].duration, events[4][1]) == PLASO_FIFTH_END

    missed, outgoing, incoming = calls
    assert (missed.from_me, outgoing.from_me, incoming.from_me) == (False, True, False)
    assert outgoing.timestamp is not None and outgoing.timestamp.utc == "2013-11-06T21:18:53.283000Z"
    assert outgoing.duration == 126 and outgoing.party == "5404561685" and outgoing.name == "Barney"
    assert outgoing.normalized_number == "+15404561685" and outgoing.geocoded_location == "Bedrock"
    assert all(
        c.account is None and c.video is None and c.deleted is False for c in calls
    )  # Android 4: no columns
    assert label_for(AndroidCall, "status", missed.status) == "missed"
    assert record_to_dict(missed)["record_type"] == "chat/android/phone/call"
    assert fingerprint(path) == before


def test_corpus_contacts2_is_offered_to_the_call_log_only(corpus: Path, tmp_path: Path) -> None:
    """The stripped contacts2.db has no raw_contacts: the contacts plugin says it skipped it."""
    path = need(corpus / "chats" / "contacts2.db")
    item = FileItem.from_path(path, fs_path=CONTACTS2)
    (tmp_path / "s").mkdir()
    with Scratch(tmp_path / "s") as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, [cls() for cls in BUILTIN_PLUGINS], ctx)
    assert [p.name for p in chosen] == ["calllog_android"]
    [warning] = ctx.warnings
    assert warning.plugin == "contacts_android" and warning.path == CONTACTS2
    assert warning.message.startswith("database skipped by contacts_android: it lacks the tables")


def test_viber_calls_are_not_the_android_call_log(corpus: Path, tmp_path: Path) -> None:
    """Viber's viber_data has calls(number, date, duration, type) too, but not Android's columns."""
    path = need(corpus / "chats" / "viber_data")
    item = FileItem.from_path(path, fs_path="/data/data/com.viber.voip/databases/viber_data")
    (tmp_path / "s").mkdir()
    with Scratch(tmp_path / "s") as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [AndroidCallLogPlugin()], ctx) == []
        assert ctx.warnings == []


def _calllog(tmp_path: Path) -> Path:
    db = make_db(tmp_path / "phone" / CALLLOG_DB.lstrip("/"), CALLS_V12)
    telephony = "com.android.phone/com.android.services.telephony.TelephonyConnectionService"
    common = {
        "subscription_component_name": telephony,
        "subscription_id": "8901260131505653369F",
        "phone_account_address": "+15559990000",
        "new": 0,
        "numbertype": 2,
        "countryiso": "US",
    }
    for rowid, ctype, duration in (
        (1, 1, 61),
        (2, 2, 5),
        (3, 3, 0),
        (4, 4, 18),
        (5, 5, 0),
        (6, 6, 0),
        (7, 7, 42),
        (8, 99, 1),
    ):
        insert(db, "calls", _id=rowid, number="+15551230001", date=1_700_000_000_000 + rowid * 60_000,
               duration=duration, type=ctype, name="Pier master", **common)  # fmt: skip
    insert(db, "calls", _id=9, number="+15551230002", date=1_700_000_600_000, duration=300, type=2,
           features=1, post_dial_digits=",1234", via_number="+15550000000", **common)  # fmt: skip
    insert(db, "calls", _id=10, number="", presentation=2, date=1_700_000_700_000, duration=12, type=1,
           new=1, numbertype=0)  # fmt: skip
    insert(db, "calls", _id=11, number="+15551230003", date=1_700_000_800_000, duration=9, type=4, deleted=1,
           new=0, numbertype=0, voicemail_uri="content://com.android.voicemail/voicemail/11")  # fmt: skip
    return db


def test_android_7_calllog(tmp_path: Path) -> None:
    db = _calllog(tmp_path)
    records, warnings = run([AndroidCallLogPlugin()], FileItem.from_path(db, fs_path=CALLLOG_DB), tmp_path)
    assert warnings == []
    calls = {c.rowid: c for c in _calls(records)}
    assert sorted(calls) == list(range(1, 12))
    # a known instant: 1 700 000 060 000 ms after the epoch
    first = calls[1]
    assert first.timestamp is not None and first.timestamp.utc == "2023-11-14T22:14:20.000000Z"
    assert first.timestamp.raw == 1_700_000_060_000 and first.timestamp.encoding == "unix_ms"
    labels = [label_for(AndroidCall, "call_type", calls[i].call_type) for i in range(1, 9)]
    assert labels == [
        "incoming",
        "outgoing",
        "missed",
        "voicemail",
        "rejected",
        "blocked",
        "answered externally",
        None,
    ]
    assert [calls[i].from_me for i in range(1, 9)] == [False, True, False, False, False, False, False, None]
    assert first.account == "+15559990000" and first.phone_account_id == "8901260131505653369F"
    assert first.video is False and first.duration == 61 and first.party == "+15551230001"
    video = calls[9]
    assert video.video is True and video.features == 1 and video.from_me is True
    assert video.post_dial_digits == ",1234" and video.via_number == "+15550000000"
    withheld = calls[10]
    assert withheld.party is None and withheld.number == "" and withheld.account is None
    assert label_for(AndroidCall, "presentation", withheld.presentation) == "restricted"
    voicemail = calls[11]
    assert voicemail.deleted is True and voicemail.marked_deleted == 1 and calls[1].deleted is False


# Android 7 contacts2.db before the call log moved (AOSP tests/assets/calllogmigration/contacts2.db).
CONTACTS2_1109_CALLS = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,
  post_dial_digits TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,data_usage INTEGER,type INTEGER,
  features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,subscription_id TEXT,
  phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,sub_id INTEGER DEFAULT -1,
  new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,
  geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,
  photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,add_for_all_users INTEGER NOT NULL DEFAULT 1,
  _data TEXT,has_content INTEGER,mime_type TEXT,source_data TEXT,source_package TEXT,transcription TEXT,
  state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0, last_modified INTEGER DEFAULT 0);
"""


def test_older_layouts_from_aosp_test_assets(tmp_path: Path) -> None:
    """Rows of AOSP's own test databases: calllog.db version 10 and an Android 7 contacts2.db."""
    v10 = make_db(tmp_path / "v10" / "calllog.db", CALLS_V10)
    insert(v10, "calls", _id=1, number="15393839948", date=1556834383000, duration=24, type=4, new=0,
           numbertype=0, subscription_component_name="com.android.phone/com.android.services.telephony."
           "TelephonyConnectionService", subscription_id="8901260131505653369F")  # fmt: skip
    records, warnings = run(
        [AndroidCallLogPlugin()], FileItem.from_path(v10, fs_path=CALLLOG_DB), tmp_path / "a"
    )
    [call] = _calls(records)
    assert warnings == []
    assert call.timestamp is not None and call.timestamp.utc == "2019-05-02T21:59:43.000000Z"
    assert call.duration == 24 and label_for(AndroidCall, "call_type", call.call_type) == "voicemail"

    c2 = make_db(tmp_path / "c2" / "contacts2.db", CONTACTS2_1109_CALLS)
    insert(c2, "calls", _id=4, number="15554542222", date=1450476646196, duration=0, type=3, new=0,
           countryiso="US", is_read=1, geocoded_location="California", normalized_number="+15554542222",
           formatted_number="1 555-454-2222", subscription_id="8901260250039")  # fmt: skip
    insert(c2, "calls", _id=5, number="+55584542222", date=1450476642000, duration=7, type=4, new=0,
           numbertype=2, name="{-name-", deleted=1, phone_account_address="abc")  # fmt: skip
    records, warnings = run(
        [AndroidCallLogPlugin()], FileItem.from_path(c2, fs_path=CONTACTS2), tmp_path / "b"
    )
    assert warnings == []
    missed, voicemail = _calls(records)
    assert missed.timestamp is not None and missed.timestamp.utc == "2015-12-18T22:10:46.196000Z"
    assert (
        missed.from_me is False and missed.number_type is None and missed.phone_account_id == "8901260250039"
    )
    assert voicemail.deleted is True and voicemail.account == "abc" and voicemail.name == "{-name-"


def test_bad_input(tmp_path: Path) -> None:
    db = _calllog(tmp_path)
    con = sqlite3.connect(db)  # enough rows that half the file loses some
    con.executemany(
        "INSERT INTO calls (number, date, duration, type, new, numbertype, name) VALUES (?, ?, 1, 1, 0, 0, ?)",
        ((f"+1555{i:07d}", 1_700_000_000_000 + i, "x" * 100) for i in range(300)),
    )
    con.execute("UPDATE calls SET number = CAST(X'ff00' AS TEXT) WHERE _id = 2")  # one corrupt row
    con.commit()
    con.close()
    records, warnings = run(
        [AndroidCallLogPlugin()], FileItem.from_path(db, fs_path=CALLLOG_DB), tmp_path / "one"
    )
    assert len(_calls(records)) == 310 and 2 not in {c.rowid for c in _calls(records)}
    assert warnings == [
        ("calllog_android", "calls._id=2", "row skipped: text that is not UTF-8 in number (ff00)")
    ]
    found = check_bad_copies(AndroidCallLogPlugin(), db, CALLLOG_DB.rsplit("/", 1)[0], tmp_path)
    assert any("damaged call log database" in m or "malformed" in m for m in found["truncated"])


def test_a_calllog_without_calls_is_reported(tmp_path: Path) -> None:
    db = make_db(tmp_path / "calllog.db", CALLS_V12 + "DROP TABLE calls;")
    records, warnings = run(
        [AndroidCallLogPlugin()], FileItem.from_path(db, fs_path=CALLLOG_DB), tmp_path, expect_match=False
    )
    assert records == []
    [(plugin, _, message)] = warnings
    assert plugin == "calllog_android" and message.startswith("database skipped by calllog_android: it lacks")
