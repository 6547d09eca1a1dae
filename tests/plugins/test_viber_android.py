"""Viber for Android: calls and contacts of ``viber_data``, messages of ``viber_messages``.

Real data: the corpus ``chats/viber_data`` (plaso test data ``test_data/android/viber_data``),
compared with plaso's own test of it (``tests/parsers/sqlite_plugins/android_viber_call.py``:
4 call events, no warning; event 3 is ``call_type`` 2, ``viber_call_type`` 4, ``+19198887386``,
start 2022-11-25T20:43:08.267, end 20:44:53.267, 105 s) and with the values the ``sqlite3``
command-line tool shows (``sqlite3 viber_data "SELECT _id, number, date, duration, type,
viber_call_type FROM calls"`` gives 1|+19198887386|1669408465582|98|1|1, 2|...|1669408627737|100|2|1,
3|...|1669408824137|95|1|4, 4|...|1669408988267|105|2|4; ``phonebookcontact`` has the 5 rows
_id 1, 21, 22, 23, 24 and ``phonebookdata`` 10 rows, all ``mime_type`` 0).

``viber_messages``: no public database exists, so the fixture below is **built from the published
schema**, the tables and columns that two published Viber parsers query (facts only, no code):
ALEAPP ``scripts/artifacts/Viber.py`` (``messages.msg_date``/``body``/``send_type``/``unread``/
``extra_uri``/``conversation_id``/``participant_id``, ``participants._id``/``conversation_id``/
``participant_info_id``, ``participants_info._id``/``number``; ``send_type`` 1 outgoing) and
Autopsy ``InternalPythonModules/android/viber.py`` (the same tables; ``send_type`` 0 incoming,
1 outgoing; ``calls.type`` 1 incoming, 2 outgoing, 3 missed; ``viber_call_type`` 1 audio,
4 video). ``messages.deleted``, ``extra_mime``, ``participants_info.display_name`` and
``conversations.name`` are columns the plugin reads only when present; the fixture has them, and
a second fixture with only the cited columns shows they are optional.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from custody import cli
from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from plugins import BUILTIN_PLUGINS
from plugins.chat.viber_android import (
    ViberCall,
    ViberContact,
    ViberDataPlugin,
    ViberMessage,
    ViberMessagesPlugin,
)
from tests.conftest import need
from tests.plugins.android_fixtures import check_bad_copies, fingerprint, make_db, ro, run
from triage.engine.dispatch import match_plugins
from triage.engine.run import TriageOptions, run_triage
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch

VIBER_DIR = "/data/data/com.viber.voip/databases"
DATA_PATH = f"{VIBER_DIR}/viber_data"
MESSAGES_PATH = f"{VIBER_DIR}/viber_messages"

# plaso tests/parsers/sqlite_plugins/android_viber_call.py
PLASO_EVENTS = 4
PLASO_EVENT_3 = {
    "call_type": 2,
    "duration": 105,
    "end_time": "2022-11-25T20:44:53.267",
    "phone_number": "+19198887386",
    "start_time": "2022-11-25T20:43:08.267",
    "viber_call_type": 4,
}


def _of(kind: type, records: list[object]) -> list:
    return [r for r in records if isinstance(r, kind)]


def test_corpus_viber_data_matches_plaso_and_sqlite3(corpus: Path, tmp_path: Path) -> None:
    path = need(corpus / "chats" / "viber_data")
    before = fingerprint(path)
    records, warnings = run([ViberDataPlugin()], FileItem.from_path(path, fs_path=DATA_PATH), tmp_path)
    assert warnings == []
    calls: list[ViberCall] = _of(ViberCall, records)
    every_contact: list[ViberContact] = _of(ViberContact, records)
    # The table base also carves deleted rows (triage/plugin/sqlite_table.py): one older copy of
    # Liz's row (native_id 22, a shorter lookup key than the live row's) lies in a freeblock of
    # page 7, its rowid overwritten. It is reported, flagged, never mixed with the live rows.
    carved = [c for c in every_contact if c.recovered]
    assert [(c.name, c.native_id, c.recovered, c.deleted, c.locator) for c in carved] == [
        ("Liz", 22, "freeblock", True, "phonebookcontact._id=?@freeblock:page=7,offset=3645")
    ]
    contacts = [c for c in every_contact if not c.recovered]
    assert (len(calls), len(contacts)) == (PLASO_EVENTS, 5)

    # the database itself (the sqlite3 tool's output is in the module docstring)
    con = ro(path)
    rows = con.execute(
        "SELECT _id, number, date, duration, type, viber_call_type, canonized_number FROM calls ORDER BY _id"
    ).fetchall()
    con.close()
    assert [
        (c.rowid, c.number, c.timestamp.raw if c.timestamp else None, c.duration, c.call_type,
         c.viber_call_type, c.canonized_number)
        for c in calls
    ] == [tuple(r) for r in rows]  # fmt: skip
    assert [(c.timestamp.raw if c.timestamp else None) for c in calls] == [
        1669408465582,
        1669408627737,
        1669408824137,
        1669408988267,
    ]

    # plaso's event 3 (the fourth call)
    fourth = calls[3]
    assert fourth.timestamp is not None and fourth.timestamp.utc is not None
    assert fourth.timestamp.utc[:23] == PLASO_EVENT_3["start_time"]
    assert fourth.timestamp.utc == "2022-11-25T20:43:08.267000Z" and fourth.timestamp.encoding == "unix_ms"
    end_ms = fourth.timestamp.raw + fourth.duration * 1000  # type: ignore[operator]
    assert end_ms == 1669409093267  # 2022-11-25T20:44:53.267 UTC
    assert (fourth.call_type, fourth.duration, fourth.party, fourth.viber_call_type) == (
        PLASO_EVENT_3["call_type"],
        PLASO_EVENT_3["duration"],
        PLASO_EVENT_3["phone_number"],
        PLASO_EVENT_3["viber_call_type"],
    )

    assert [(c.from_me, c.video) for c in calls] == [
        (False, False),
        (True, False),
        (False, True),
        (True, True),
    ]
    assert [label_for(ViberCall, "call_type", c.call_type) for c in calls] == [
        "incoming",
        "outgoing",
        "incoming",
        "outgoing",
    ]
    assert [label_for(ViberCall, "viber_call_type", c.viber_call_type) for c in calls] == [
        "audio",
        "audio",
        "video",
        "video",
    ]
    assert all(c.account is None and c.deleted is False and c.viber_call == 1 for c in calls)
    assert record_to_dict(fourth)["record_type"] == "chat/android/viber/call"

    by_id = {c.rowid: c for c in contacts}
    assert sorted(by_id) == [1, 21, 22, 23, 24]
    assert (by_id[1].name, by_id[1].phones, by_id[1].data_rows) == ("ThisIs DFIRThree", (), 0)
    josh = by_id[21]
    assert josh.name == "Josh Hickman" and josh.phones == ("+19195790479", "+19193912507")
    assert josh.typed_numbers == ("9195790479", "9193912507")
    assert josh.formatted_numbers == ("(919) 579-0479", "(919) 391-2507")
    assert (by_id[22].name, by_id[22].phones, by_id[22].data_rows) == ("Liz", ("+19192084530",), 3)
    two = by_id[23]
    assert (two.name, two.phones, two.viber) == ("This Is DFIR Two", ("+19198887386",), 1)
    assert two.joined_date is not None and two.joined_date.utc == "2022-08-16T23:11:33.950000Z"
    assert (by_id[24].name, by_id[24].phones) == ("Thom De'Fer", ("+19198027080",))
    assert sum(c.data_rows for c in contacts) == 10
    assert all(c.other_data == () and c.deleted is False for c in contacts)
    assert fingerprint(path) == before


def test_corpus_viber_data_goes_to_viber_only(corpus: Path, tmp_path: Path) -> None:
    """Of every built-in plugin only viber_android takes viber_data (the call log needs new, numbertype)."""
    path = need(corpus / "chats" / "viber_data")
    item = FileItem.from_path(path, fs_path=DATA_PATH)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, [cls() for cls in BUILTIN_PLUGINS], ctx)
    assert [p.name for p in chosen] == ["viber_android"]
    assert ctx.warnings == []
    # and the Viber plugin does not take Android's call log
    contacts2 = need(corpus / "chats" / "contacts2.db")
    item = FileItem.from_path(
        contacts2, fs_path="/data/data/com.android.providers.contacts/databases/contacts2.db"
    )
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [ViberDataPlugin(), ViberMessagesPlugin()], ctx) == []


def test_viber_data_bad_input(corpus: Path, tmp_path: Path) -> None:
    """A row with text that is not UTF-8 is one warning; damaged copies give warnings, not tracebacks."""
    good = need(corpus / "chats" / "viber_data")
    db = tmp_path / "copy" / "viber_data"
    db.parent.mkdir()
    shutil.copy(good, db)
    con = sqlite3.connect(db)
    con.execute("UPDATE calls SET number = CAST(X'ff00' AS TEXT) WHERE _id = 2")
    con.execute("UPDATE phonebookdata SET contact_id = 'twenty-one' WHERE _id = 18")  # a wrong type
    con.commit()
    con.close()
    records, warnings = run([ViberDataPlugin()], FileItem.from_path(db, fs_path=DATA_PATH), tmp_path / "r")
    assert [c.rowid for c in _of(ViberCall, records)] == [1, 3, 4]
    assert warnings == [
        ("viber_android", "calls._id=2", "row skipped: text that is not UTF-8 in number (ff00)")
    ]
    josh = next(c for c in _of(ViberContact, records) if c.rowid == 21)
    assert josh.phones == ("+19193912507",)  # its other number now points at no contact
    found = check_bad_copies(ViberDataPlugin(), good, VIBER_DIR, tmp_path / "bad")
    assert found["truncated"], found


# --- viber_messages -------------------------------------------------------------------------------

# The tables and columns ALEAPP's and Autopsy's Viber parsers query, with types as SQLite affinity
# would give them; deleted, extra_mime, display_name, contact_name and name are the optional ones.
MESSAGES_SCHEMA = """
CREATE TABLE conversations (_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
CREATE TABLE participants_info (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,
  display_name TEXT, contact_name TEXT);
CREATE TABLE participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER,
  participant_info_id INTEGER);
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER,
  participant_id INTEGER, msg_date LONG, body TEXT, send_type INTEGER, unread INTEGER,
  extra_uri TEXT, extra_mime INTEGER, deleted INTEGER DEFAULT 0);
"""
OWNER, ANNA, BORIS = "+15550000001", "+15550000002", "+15550000003"


def _messages_db(path: Path, schema: str = MESSAGES_SCHEMA) -> Path:
    optional = "display_name" in schema
    info = [(1, OWNER, None, None), (2, ANNA, "Anna", "Anna K."), (3, BORIS, None, "Boris")]
    rows: dict[str, list[tuple[object, ...]]] = {
        "participants_info": info if optional else [(i, n) for i, n, _, _ in info],
        "conversations": [(1, None), (2, "Pier crew")] if optional else [],
        # conversation 1: owner and Anna; conversation 2 (a group): owner, Anna and Boris
        "participants": [(1, 1, 1), (2, 1, 2), (3, 2, 1), (4, 2, 2), (5, 2, 3)],
    }
    db = make_db(path, schema, {k: v for k, v in rows.items() if v})
    con = sqlite3.connect(db)
    extra = ", extra_mime, deleted" if optional else ""
    marks = ", ?, ?" if optional else ""
    for values in (
        (1, 1, 2, 1_700_000_000_000, "hello from Anna", 0, 0, None, 0, 0),
        (2, 1, 1, 1_700_000_060_000, "hi Anna", 1, 0, None, 0, 0),
        (3, 2, 5, 1_700_000_120_000, "Boris to the crew", 0, 1, None, 0, 0),
        (4, 2, 3, 1_700_000_180_000, None, 1, 0, "file:///sdcard/Viber/media/IMG-1.jpg", 1, 0),
        (5, 1, 2, 1_700_000_240_000, "deleted later", 0, 0, None, 0, 1),
    ):
        con.execute(
            "INSERT INTO messages (_id, conversation_id, participant_id, msg_date, body, send_type, unread,"
            f" extra_uri{extra}) VALUES (?, ?, ?, ?, ?, ?, ?, ?{marks})",
            values if optional else values[:8],
        )
    con.commit()
    con.close()
    return db


def test_viber_messages_fixture(tmp_path: Path) -> None:
    db = _messages_db(tmp_path / "phone" / "viber_messages")
    records, warnings = run([ViberMessagesPlugin()], FileItem.from_path(db, fs_path=MESSAGES_PATH), tmp_path)
    assert warnings == []
    msgs: dict[int, ViberMessage] = {m.rowid: m for m in _of(ViberMessage, records)}
    assert sorted(msgs) == [1, 2, 3, 4, 5]
    incoming, outgoing, group_in, group_out, deleted = (msgs[i] for i in range(1, 6))
    assert incoming.timestamp is not None and incoming.timestamp.utc == "2023-11-14T22:13:20.000000Z"
    assert incoming.timestamp.encoding == "unix_ms" and incoming.timestamp.raw == 1_700_000_000_000
    assert (incoming.from_me, incoming.sender, incoming.sender_name, incoming.party) == (
        False,
        ANNA,
        "Anna",
        ANNA,
    )
    assert incoming.recipients == (OWNER,) and incoming.conversation == "1"
    assert label_for(ViberMessage, "send_type", incoming.send_type) == "incoming"
    assert (outgoing.from_me, outgoing.sender, outgoing.party, outgoing.recipients) == (
        True,
        None,
        ANNA,
        (ANNA,),
    )
    assert label_for(ViberMessage, "send_type", outgoing.send_type) == "outgoing"
    assert (group_in.sender, group_in.sender_name, group_in.party) == (BORIS, "Boris", None)
    assert group_in.recipients == (OWNER, ANNA) and group_in.conversation_title == "Pier crew"
    assert group_in.unread == 1
    assert group_out.from_me is True and group_out.recipients == (ANNA, BORIS) and group_out.body is None
    [att] = group_out.attachments
    assert att.recorded_path == "file:///sdcard/Viber/media/IMG-1.jpg" and att.path is None
    assert group_out.extra_mime == 1
    assert deleted.deleted is True and deleted.marked_deleted == 1 and incoming.deleted is False
    assert record_to_dict(incoming)["record_type"] == "chat/android/viber/message"


def test_viber_messages_with_only_the_cited_columns(tmp_path: Path) -> None:
    """Only ALEAPP's and Autopsy's columns: the optional ones read as absent, nothing fails."""
    schema = (
        MESSAGES_SCHEMA.replace(",\n  display_name TEXT, contact_name TEXT", "")
        .replace(", extra_mime INTEGER, deleted INTEGER DEFAULT 0", "")
        .replace("CREATE TABLE conversations (_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);\n", "")
    )
    db = _messages_db(tmp_path / "viber_messages", schema)
    records, warnings = run([ViberMessagesPlugin()], FileItem.from_path(db, fs_path=MESSAGES_PATH), tmp_path)
    assert warnings == []
    msgs = {m.rowid: m for m in _of(ViberMessage, records)}
    assert len(msgs) == 5 and all(m.deleted is False and m.marked_deleted is None for m in msgs.values())
    assert msgs[1].sender == ANNA and msgs[1].sender_name is None and msgs[3].conversation_title is None


def test_viber_messages_bad_input(tmp_path: Path) -> None:
    db = _messages_db(tmp_path / "one" / "viber_messages")
    con = sqlite3.connect(db)
    con.execute("UPDATE messages SET body = CAST(X'c3' AS TEXT) WHERE _id = 2")
    con.execute("INSERT INTO messages (_id, conversation_id, participant_id, msg_date, body, send_type)"
                " VALUES (6, 1, 99, 1700000300000, 'who?', 0)")  # fmt: skip
    con.commit()
    con.close()
    records, warnings = run([ViberMessagesPlugin()], FileItem.from_path(db, fs_path=MESSAGES_PATH), tmp_path)
    assert sorted(m.rowid for m in _of(ViberMessage, records)) == [1, 3, 4, 5, 6]
    assert warnings == [
        ("viber_android_messages", "messages._id=2", "row skipped: text that is not UTF-8 in body (c3)"),
        ("viber_android_messages", "messages._id=6", "participant_id 99 not in participants"),
    ]
    found = check_bad_copies(
        ViberMessagesPlugin(), _messages_db(tmp_path / "good" / "viber_messages"), VIBER_DIR, tmp_path / "b"
    )
    assert found["truncated"]


@pytest.mark.parametrize("name", ["viber_android", "viber_android_messages"])
def test_plugins_are_registered(name: str) -> None:
    assert name in [cls.name for cls in BUILTIN_PLUGINS]


def exhibit_json(*args: str) -> list[dict[str, Any]]:
    """``exhibit ARGS --json`` run in this process; its JSON lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            cli.main([*args, "--json"])
        except SystemExit as exc:
            assert not exc.code, out.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_engine_puts_viber_in_the_views(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``exhibit triage`` of a folder holding both databases; chats, calls and contacts show them."""
    phone = tmp_path / "phone" / VIBER_DIR.lstrip("/")
    phone.mkdir(parents=True)
    shutil.copy(need(corpus / "chats" / "viber_data"), phone / "viber_data")
    _messages_db(phone / "viber_messages")
    case = init_case(tmp_path / "case", case_number="2026/9", title="viber")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, tmp_path / "phone", exhibit="EX-001", actor="asmith", description="phone folder")
        summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
        assert summary.status == "complete" and summary.counts["errors"] == 0, summary
        assert not summary.warnings, summary.warnings
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    chats = [m for m in exhibit_json("chats", "EX-001") if m["app"] == "viber"]
    assert sorted(m["body"] or "" for m in chats) == sorted(
        ["hello from Anna", "hi Anna", "Boris to the crew", "", "deleted later"]
    )
    calls = [c for c in exhibit_json("calls", "EX-001") if c["app"] == "viber"]
    assert len(calls) == 4 and {c["party"] for c in calls} == {"+19198887386"}
    contacts = [c for c in exhibit_json("contacts", "EX-001") if c["app"] == "viber"]
    assert sorted(c["name"] for c in contacts if not c["recovered"]) == sorted(
        ["ThisIs DFIRThree", "Josh Hickman", "Liz", "This Is DFIR Two", "Thom De'Fer"]
    )
    assert [(c["name"], c["recovered"]) for c in contacts if c["recovered"]] == [("Liz", "freeblock")]
