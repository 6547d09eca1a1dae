"""Kik Messenger on iOS (``kik.sqlite``).

Real data: the corpus ``chats/kik_ios.sqlite`` (plaso's test file ``kik_ios.sqlite``), compared with
the database itself (read with sqlite3, immutable) and with plaso's ``kik_ios`` plugin test
(log2timeline/plaso, tests/parsers/sqlite_plugins/kik_ios.py), which publishes for this very file:
60 events, 0 warnings, and its event 1 (storage order: its query's order, the messages by key):
body "Hello", displayname "Ken Doh", username "ken.doh", message_status (ZSTATE) 94,
message_type (ZTYPE) 2, timestamp 2015-06-29 12:26:11 (``ZRECEIVEDTIMESTAMP`` cut to whole seconds).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugins.chat.kik_ios import KikContact, KikIosPlugin, KikMessage
from tests.plugins.android_fixtures import check_bad_copies, fingerprint, ro, run
from tests.plugins.triage_e2e import exhibit, triaged_folder
from triage.plugin import FileItem
from triage.plugin.records import label_for, record_to_dict

APP_DIR = "private/var/mobile/Containers/Shared/AppGroup/3A1F0C2E-5B7D-4E8A-9C61-2F4B8D0E7A15/cores/private/0a1b2c3d"
FS_PATH = f"/{APP_DIR}/kik.sqlite"

# plaso tests/parsers/sqlite_plugins/kik_ios.py, for kik_ios.sqlite
PLASO_EVENTS = 60
PLASO_EVENT_1 = {
    "body": "Hello",
    "displayname": "Ken Doh",
    "message_status": 94,
    "message_type": 2,
    "timestamp": "2015-06-29 12:26:11.000000",
    "username": "ken.doh",
}


def _corpus(corpus: Path) -> Path:
    path = corpus / "chats" / "kik_ios.sqlite"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    return path


def _cocoa_whole_seconds(raw: float) -> str:
    """plaso's conversion: ``int(ZRECEIVEDTIMESTAMP)`` seconds after 2001-01-01 UTC."""
    return (datetime(2001, 1, 1, tzinfo=UTC) + timedelta(seconds=int(raw))).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_corpus_matches_the_database_and_plaso(corpus: Path, tmp_path: Path) -> None:
    path = _corpus(corpus)
    before = fingerprint(path)
    records, warnings = run([KikIosPlugin()], FileItem.from_path(path, fs_path=FS_PATH), tmp_path)
    assert warnings == []  # plaso: number_of_warnings 0
    messages = [r for r in records if isinstance(r, KikMessage)]
    contacts = [r for r in records if isinstance(r, KikContact)]
    assert (len(messages), len(contacts)) == (60, 25)  # the corpus README: ZKIKMESSAGE 60, ZKIKUSER 25

    # plaso: one event per message joined with its user (on ZEXTRA; equal to Z_PK in this file)
    con = ro(path)
    plaso_rows = con.execute(
        "SELECT a.Z_PK AS id, b.ZUSERNAME, b.ZDISPLAYNAME, a.ZRECEIVEDTIMESTAMP, a.ZSTATE, a.ZTYPE, a.ZBODY"
        " FROM ZKIKMESSAGE a JOIN ZKIKUSER b ON b.ZEXTRA = a.ZUSER"
    ).fetchall()
    assert len(plaso_rows) == PLASO_EVENTS == len(messages)
    ours = [
        (
            m.rowid,
            m.username,
            m.display_name,
            m.received_time.raw if m.received_time else None,
            m.message_status,
            m.message_type,
            m.body,
        )
        for m in messages
    ]
    # the same 60 rows, but for message 1: plaso's join takes ZKIKUSER.ZEXTRA for a user key; it
    # links to ZKIKUSEREXTRA, and users 1 and 2 are crossed there, so plaso names jon.doh2015 as
    # the other side of Kik's welcome message, which is kikteam's (ZUSER 2, the user of chat 1)
    plaso = [(r[0], r[1] or None, *r[2:]) for r in plaso_rows]  # an empty username reads as None here
    assert plaso[1:] == ours[1:]
    assert tuple(plaso_rows[0])[:3] == (1, "jon.doh2015", "Andy Murraymints")
    assert ours[0][:3] == (1, "kikteam", "Kik Team") and messages[0].conversation == "kikteam@talk.kik.com"
    first = messages[1]
    assert first.received_time is not None and isinstance(first.received_time.raw, float)
    assert {
        "body": first.body,
        "displayname": first.display_name,
        "message_status": first.message_status,
        "message_type": first.message_type,
        "timestamp": _cocoa_whole_seconds(first.received_time.raw),
        "username": first.username,
    } == PLASO_EVENT_1
    # the same instant to the microsecond, both columns kept (equal for the owner's messages)
    assert (
        first.received_time.utc == "2015-06-29T12:26:11.584834Z" and first.received_time.encoding == "cocoa_s"
    )
    assert first.timestamp is not None and first.timestamp.raw == first.received_time.raw

    # the database itself
    rows = con.execute(
        "SELECT Z_PK, ZTIMESTAMP, ZRECEIVEDTIMESTAMP, ZTYPE, ZUSER, ZFLAGS FROM ZKIKMESSAGE ORDER BY Z_PK"
    ).fetchall()
    assert [
        (m.rowid, m.timestamp.raw if m.timestamp else None, m.received_time.raw if m.received_time else None,
         m.message_type, m.user_pk, m.flags)
        for m in messages
    ] == [tuple(r) for r in rows]  # fmt: skip
    chat_jids = {
        r[0]
        for r in con.execute("SELECT u.ZJID FROM ZKIKCHAT c JOIN ZKIKUSER u ON u.Z_PK = c.ZUSER")  # 6 chats
    }
    per_type = dict(con.execute("SELECT ZTYPE, count(*) FROM ZKIKMESSAGE GROUP BY ZTYPE").fetchall())
    con.close()
    assert len(chat_jids) == 6 and {m.conversation for m in messages} == chat_jids

    # direction from ZTYPE (iLEAPP's labels): 1 received, 2 sent, 3 group admin, 4 group message
    by_type = {t: [m for m in messages if m.message_type == t] for t in (1, 2, 3, 4)}
    assert {t: len(ms) for t, ms in by_type.items()} == per_type == {1: 31, 2: 24, 3: 3, 4: 2}
    assert all(m.from_me is False and m.sender == m.username for m in by_type[1])
    assert all(
        m.from_me is True and m.sender is None and m.recipients == (m.conversation,) for m in by_type[2]
    )
    assert all(m.from_me is None and m.sender is None for m in by_type[3])
    assert label_for(KikMessage, "message_type", 3) == "group admin"

    # message 2 is in chats 2 (the group) and 6 (Ken Doh): it goes to the chat of its own user
    assert (first.chats, first.chat_pk, first.conversation, first.party, first.conversation_title) == (
        (2, 6),
        6,
        "ken.doh_khv@talk.kik.com",
        "ken.doh_khv@talk.kik.com",
        "Ken Doh",
    )
    group = {m.rowid: m for m in messages}[19]  # Ken Doh writing in the group, read 31 min later
    assert (group.conversation, group.party, group.sender, group.conversation_title) == (
        "1100024090445_g@groups.kik.com",
        None,
        "ken.doh",
        "EveryoneButRoss",
    )
    assert group.timestamp is not None and group.timestamp.utc == "2015-06-30T09:18:55.795000Z"
    assert group.received_time is not None and group.received_time.utc == "2015-06-30T09:50:18.046809Z"
    with_files = [m for m in messages if m.attachments]
    assert [(m.rowid, m.flags, [a.name for a in m.attachments], m.attachment_types) for m in with_files] == [
        (20, 4, ["a7160843-c595-4afb-a359-4151dcd79157"], (6,)),
        (26, 4, ["b98fc1f4-8862-48fd-9cba-cc0fc4d12037"], (6,)),
    ]

    ken = {c.rowid: c for c in contacts}[8]
    assert (ken.username, ken.name, ken.account_ids, ken.chat_pk, ken.is_group) == (
        "ken.doh",
        "Ken Doh",
        ("ken.doh", "ken.doh_khv@talk.kik.com"),
        6,
        False,
    )
    assert ken.profile_pic_time is not None and ken.profile_pic_time.utc == "2015-06-30T09:26:10.961000Z"
    assert [c.rowid for c in contacts if c.is_group] == [24]
    assert record_to_dict(first)["record_type"] == "chat/ios/kik/message"
    assert fingerprint(path) == before


def test_damaged_copies_give_warnings_not_tracebacks(corpus: Path, tmp_path: Path) -> None:
    good = tmp_path / "good" / "kik.sqlite"
    good.parent.mkdir()
    shutil.copy(_corpus(corpus), good)
    found = check_bad_copies(KikIosPlugin(), good, "/" + APP_DIR, tmp_path)
    # half the pages: SQLite finds the copy malformed; one warning, no record, no traceback
    assert found["truncated"] == [
        "database skipped by kik_ios: unreadable SQLite database: database disk image is malformed"
        "; neither its rows nor its deleted records were read (copy it out with 'exhibit export' for a repair tool)"
    ]


def test_rows_of_the_wrong_types_give_warnings_and_the_rest_is_read(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "hostile" / "kik.sqlite"
    copy.parent.mkdir()
    shutil.copy(_corpus(corpus), copy)
    con = sqlite3.connect(copy)
    con.executescript(
        """
        UPDATE ZKIKMESSAGE SET ZTIMESTAMP = 'soon', ZUSER = 'eight' WHERE Z_PK = 2;
        UPDATE ZKIKMESSAGE SET ZBODY = CAST(X'48FF' AS TEXT) WHERE Z_PK = 3;
        UPDATE ZKIKMESSAGE SET ZTYPE = X'02', ZRECEIVEDTIMESTAMP = X'00' WHERE Z_PK = 5;
        UPDATE ZKIKMESSAGE SET ZUSER = 4242 WHERE Z_PK = 6;
        UPDATE ZKIKUSER SET ZUSERNAME = X'00' WHERE Z_PK = 25;
        """
    )
    con.commit()
    con.close()
    records, warnings = run([KikIosPlugin()], FileItem.from_path(copy, fs_path=FS_PATH), tmp_path)
    messages = {m.rowid: m for m in records if isinstance(m, KikMessage)}
    assert sorted(messages) == [i for i in range(1, 61) if i != 3]  # 3 skipped, the rest read
    by_locator: dict[str | None, list[str]] = {}
    for plugin, locator, message in warnings:
        assert plugin == "kik_ios"
        by_locator.setdefault(locator, []).append(message)
    assert by_locator["ZKIKMESSAGE.Z_PK=3"] == ["row skipped: text that is not UTF-8 in ZBODY (48ff)"]
    assert by_locator["ZKIKMESSAGE.Z_PK=2"] == [
        "ZUSER is not an integer (str): not read",
        "ZTIMESTAMP is not a number: 'soon'",
    ]
    assert messages[2].timestamp is not None and messages[2].timestamp.utc is None
    assert messages[2].body == "Hello" and messages[2].username is None
    assert by_locator["ZKIKMESSAGE.Z_PK=5"] == [
        "ZTYPE is not an integer (bytes): not read",
        "ZRECEIVEDTIMESTAMP is not a number (bytes): no time",
    ]
    assert messages[5].from_me is None
    assert by_locator["ZKIKMESSAGE.Z_PK=6"] == ["user 4242 not found in ZKIKUSER"]
    assert by_locator["ZKIKUSER.Z_PK=25"] == ["ZUSERNAME is not text (bytes): not read"]
    assert len([r for r in records if isinstance(r, KikContact)]) == 25


def test_a_store_without_its_chat_join_table(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "nojoin" / "kik.sqlite"
    copy.parent.mkdir()
    shutil.copy(_corpus(corpus), copy)
    con = sqlite3.connect(copy)
    con.execute("DROP TABLE Z_3MESSAGES")
    con.commit()
    con.close()
    records, warnings = run([KikIosPlugin()], FileItem.from_path(copy, fs_path=FS_PATH), tmp_path)
    messages = [m for m in records if isinstance(m, KikMessage)]
    assert len(messages) == 60 and all(m.conversation is None for m in messages)
    assert warnings == [
        ("kik_ios", None, "no chat-message join table (Z_<n>MESSAGES): messages read without their chat")
    ]


def test_exhibit_triage_then_chats_and_contacts(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole engine: a folder holding kik.sqlite where iOS keeps it, triaged, then the views."""
    path = _corpus(corpus)
    with triaged_folder(tmp_path, monkeypatch, {f"{APP_DIR}/kik.sqlite": path}, "kik_ios"):
        chats = exhibit("chats", "--json").lines()
        contacts = exhibit("contacts", "--json").lines()
    assert len(chats) == 60 and {(m["app"], m["plugin"], m["record_type"]) for m in chats} == {
        ("kik", "kik_ios", "chat/ios/kik/message")
    }
    assert len({m["conversation"] for m in chats}) == 6
    [hello] = [m for m in chats if m["locator"] == "ZKIKMESSAGE.Z_PK=2"]
    assert (hello["conversation"], hello["direction"], hello["body"], hello["source"]["path"]) == (
        "ken.doh_khv@talk.kik.com",
        "outgoing",
        "Hello",
        FS_PATH,
    )
    assert hello["timestamp"] == "2015-06-29T12:26:11.584834Z"
    assert len(contacts) == 25 and {c["record_type"] for c in contacts} == {"chat/ios/kik/contact"}


def test_a_damaged_page_in_the_messages_keeps_the_rows_before_it(corpus: Path, tmp_path: Path) -> None:
    """ZKIKMESSAGE of the corpus spans two leaf pages (45 and 46, of 4096 bytes, as dbstat
    reports); the second is overwritten: the rows of the first are read, one warning says where
    the table ended, and the users are read all the same."""
    copy = tmp_path / "damaged" / "kik.sqlite"
    copy.parent.mkdir()
    shutil.copy(_corpus(corpus), copy)
    con = ro(copy)
    pages = [
        r[0]
        for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'ZKIKMESSAGE' AND pagetype = 'leaf'")
    ]
    keys = [r[0] for r in con.execute("SELECT Z_PK FROM ZKIKMESSAGE ORDER BY Z_PK")]
    con.close()
    assert pages == [45, 46] and len(keys) == 60
    data = bytearray(copy.read_bytes())
    data[45 * 4096 : 46 * 4096] = b"\xff" * 4096  # page 46 (pages count from 1)
    copy.write_bytes(bytes(data))
    records, warnings = run([KikIosPlugin()], FileItem.from_path(copy, fs_path=FS_PATH), tmp_path)
    messages = [m for m in records if isinstance(m, KikMessage)]
    assert [m.rowid for m in messages] == keys[:34]  # the rows of page 45
    assert len([r for r in records if isinstance(r, KikContact)]) == 25
    assert warnings == [
        (
            "kik_ios",
            None,
            "damaged Kik message database: reading table ZKIKMESSAGE stopped after 34 row(s):"
            " database disk image is malformed",
        )
    ]
