"""WhatsApp iOS on real data, compared row by row with iLEAPP's published output for the same file."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugins.chat.whatsapp_ios import (
    WhatsAppIosCall,
    WhatsAppIosCallsPlugin,
    WhatsAppIosContact,
    WhatsAppIosContactsPlugin,
    WhatsAppIosGroupMember,
    WhatsAppIosMessage,
    WhatsAppIosPlugin,
)
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Plugin, Record
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

EXPECTED_MESSAGES = 32  # corpus README: 32 ZWAMESSAGE rows, 5 chat sessions
EXPECTED_CHATS = 5
EXPECTED_MEMBERS = 8  # corpus README / groundtruth/sqlite-tablecounts.tsv: ZWAGROUPMEMBER 8 rows
APP_GROUP = "/private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
FS_PATH = f"{APP_GROUP}/ChatStorage.sqlite"
OWNER = "19195794674@s.whatsapp.net"  # the local user, as iLEAPP's "To ID" of received rows shows


def _run_all(item: FileItem, tmp_path: Path, plugin: Plugin | None = None) -> tuple[list[Record], list[str]]:
    plugin = plugin or WhatsAppIosPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    assert result.failed == []
    return list(result.records), [w.message for w in result.warnings]


def _run(item: FileItem, tmp_path: Path) -> tuple[list[WhatsAppIosMessage], list[str]]:
    records, warnings = _run_all(item, tmp_path)
    return [r for r in records if isinstance(r, WhatsAppIosMessage)], warnings


def _unix_seconds(utc: str | None) -> int:
    assert utc is not None
    return int(datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def test_matches_ileapp_ground_truth(corpus: Path, tmp_path: Path) -> None:
    db = need(corpus / "chats" / "whatsapp_ios_ChatStorage.sqlite")
    expected = json.loads(need(corpus / "chats" / "expected" / "whatsapp_ios_messages.json").read_text())
    headers = expected["headers"]
    rows = [dict(zip(headers, row, strict=True)) for row in expected["data"]]
    assert len(rows) == EXPECTED_MESSAGES

    records, warnings = _run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert warnings == []
    assert len(records) == EXPECTED_MESSAGES
    assert len({r.chat_jid for r in records}) == EXPECTED_CHATS

    for rec, exp in zip(records, rows, strict=True):  # both in Z_PK order
        where = rec.locator
        assert rec.timestamp is not None
        # iLEAPP prints whole Unix seconds (Cocoa seconds + 978307200, truncated)
        assert _unix_seconds(rec.timestamp.utc) == exp["Timestamp"], where
        assert rec.body == exp["Message"], where
        if rec.from_me:
            assert exp["Sender Name"] == "Local User", where
            assert exp["Receiver"] == rec.chat_name, where
            assert exp["To ID"] == rec.to_jid, where
        else:
            assert exp["Sender Name"] == rec.chat_name, where
            assert exp["From ID"] == rec.from_jid, where
            assert exp["To ID"] == rec.to_jid, where
        if exp["Latitude"] != "":
            assert rec.latitude == exp["Latitude"] and rec.longitude == exp["Longitude"], where
            assert label_for(WhatsAppIosMessage, "message_type", rec.message_type) == "location"
        else:
            assert rec.latitude is None and rec.longitude is None, where
        # iLEAPP replaces media names with mock hashes of the file's UUID: compare the UUID
        if exp["Attachment File"]:
            uuid = exp["Attachment File"].removeprefix("mock_hash_for_").rsplit(".", 1)[0]
            assert rec.media_local_path is not None and uuid in rec.media_local_path, where
        if exp["Thumb"]:
            uuid = exp["Thumb"].removeprefix("mock_hash_for_").rsplit(".", 1)[0]
            assert rec.media_thumbnail_path is not None and uuid in rec.media_thumbnail_path, where

    first_text = next(r for r in records if r.body)
    assert first_text.body == "I’m here!" and first_text.from_me is True
    assert first_text.timestamp is not None
    assert first_text.timestamp.raw == 704735807.2214981 and first_text.timestamp.encoding == "cocoa_s"
    assert first_text.timestamp.utc == "2023-05-02T15:56:47.221498Z"
    # photos keep their dimensions out of the position fields
    photo = next(r for r in records if r.message_type == 1)
    assert photo.latitude is None and photo.media_size == 42073


def _sha256_and_mtime(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_common_fields_on_the_corpus(corpus: Path, tmp_path: Path) -> None:
    """The shared message fields against the database itself (queried read-only) and iLEAPP."""
    db = need(corpus / "chats" / "whatsapp_ios_ChatStorage.sqlite")
    expected = json.loads(need(corpus / "chats" / "expected" / "whatsapp_ios_messages.json").read_text())
    rows = [dict(zip(expected["headers"], row, strict=True)) for row in expected["data"]]
    before = _sha256_and_mtime(db)
    records, warnings = _run_all(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert _sha256_and_mtime(db) == before  # evidence untouched
    assert warnings == []
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    truth = con.execute(
        "SELECT m.Z_PK, m.ZISFROMME, m.ZMESSAGESTATUS, s.ZCONTACTJID, s.ZPARTNERNAME, g.ZMEMBERJID, "
        "i.ZMEDIALOCALPATH, m.ZMESSAGEDATE FROM ZWAMESSAGE m JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION "
        "LEFT JOIN ZWAGROUPMEMBER g ON g.Z_PK = m.ZGROUPMEMBER LEFT JOIN ZWAMEDIAITEM i ON i.Z_PK = m.ZMEDIAITEM "
        "ORDER BY m.Z_PK"
    ).fetchall()
    members = con.execute(
        "SELECT g.Z_PK, g.ZMEMBERJID, s.ZCONTACTJID, g.ZISADMIN, g.ZISACTIVE FROM ZWAGROUPMEMBER g "
        "JOIN ZWACHATSESSION s ON s.Z_PK = g.ZCHATSESSION ORDER BY g.Z_PK"
    ).fetchall()
    con.close()
    messages = [r for r in records if isinstance(r, WhatsAppIosMessage)]
    assert len(messages) == len(truth) == EXPECTED_MESSAGES
    for rec, (pk, from_me, status, chat, title, member, local, date), exp in zip(
        messages, truth, rows, strict=True
    ):
        where = rec.locator
        assert rec.rowid == pk and rec.status == status and rec.conversation == chat, where
        assert rec.conversation_title == title and rec.timestamp is not None, where
        assert rec.timestamp.raw == date and rec.timestamp.encoding == "cocoa_s", where
        group = chat.endswith("@g.us")
        assert rec.party == (None if group else chat), where
        if from_me:
            assert rec.sender is None and rec.recipients == (chat,), where
            assert exp["Sender Name"] == "Local User" and exp["Receiver"] == title, where
        else:
            assert rec.sender == (member or rec.from_jid) and rec.recipients == (), where
            assert exp["Receiver"] == "Local User" and exp["Sender Name"] == title, where
        assert rec.account is None, where  # the store does not name its owner
        if local:
            [attachment] = rec.attachments
            assert attachment.recorded_path == local and attachment.name == local.rsplit("/", 1)[-1], where
            assert attachment.mime == "image/jpeg", where
            assert attachment.path is None and attachment.size is None, where  # media not in the corpus
        else:
            assert rec.attachments == (), where
    assert WhatsAppIosMessage.app == "whatsapp"
    # the deleted-for-everyone message (Z_PK 28) is absent, as in iLEAPP's output
    assert 28 not in {m.rowid for m in messages}
    group_members = [r for r in records if isinstance(r, WhatsAppIosGroupMember)]
    assert len(group_members) == len(members) == EXPECTED_MEMBERS
    for rec, (pk, jid, chat, admin, active) in zip(group_members, members, strict=True):
        assert (rec.rowid, rec.member_jid, rec.chat_jid, rec.is_admin, rec.is_active) == (
            pk,
            jid,
            chat,
            admin,
            active,
        )
        assert rec.locator == f"ZWAGROUPMEMBER.Z_PK={pk}"
    # the owner is an active admin of each group; the LID member has left
    assert {m.chat_jid for m in group_members if m.member_jid == OWNER and m.is_admin == 1} == {
        m.chat_jid for m in group_members
    }
    lid = [m for m in group_members if m.member_jid == "205690463334636@lid"]
    assert len(lid) == 4 and {m.is_active for m in lid} == {0}
    assert label_for(WhatsAppIosGroupMember, "is_active", 0) == "left"


def test_media_files_are_found_in_the_app_group(tmp_path: Path) -> None:
    """A store whose media file is in the extraction: the attachment names it, with its size."""
    root = tmp_path / "extraction"
    group = root / APP_GROUP.lstrip("/")
    group.mkdir(parents=True)
    db = group / "ChatStorage.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        MINIMAL_SCHEMA
        + """
        CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, ZFILESIZE INTEGER, ZLATITUDE FLOAT,
          ZLONGITUDE FLOAT, ZMEDIALOCALPATH VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR);
        ALTER TABLE ZWAMESSAGE ADD COLUMN ZMEDIAITEM INTEGER;
        ALTER TABLE ZWAMESSAGE ADD COLUMN ZMESSAGETYPE INTEGER;
        INSERT INTO ZWAMEDIAITEM VALUES (1, 6, 452.0, 603.0, 'Media/441234567890@s.whatsapp.net/a/b/1.jpg',
          'image/jpeg', NULL);
        INSERT INTO ZWAMEDIAITEM VALUES (2, 9, 0, 0, 'Media/441234567890@s.whatsapp.net/c/d/2.vcf',
          'BEGIN:VCARD', NULL);
        UPDATE ZWAMESSAGE SET ZMEDIAITEM = 1, ZMESSAGETYPE = 1 WHERE Z_PK = 1;
        INSERT INTO ZWAMESSAGE (Z_PK, ZISFROMME, ZMESSAGEDATE, ZTEXT, ZCHATSESSION, ZMEDIAITEM, ZMESSAGETYPE)
          VALUES (3, 0, 700000000, NULL, 1, 2, 4);
        """
    )
    con.close()
    media = group / "Message/Media/441234567890@s.whatsapp.net/a/b/1.jpg"
    media.parent.mkdir(parents=True)
    media.write_bytes(b"\xff\xd8\xffjpg")
    messages, warnings = _run(FileItem.from_path(db, fs_path=FS_PATH, root=root), tmp_path)
    assert warnings == ["chat session 7 not found"]
    photo, card = messages[0], messages[2]
    [image] = photo.attachments
    assert image.path == f"{APP_GROUP}/Message/Media/441234567890@s.whatsapp.net/a/b/1.jpg"
    assert image.size == 6 and image.mime == "image/jpeg" and image.name == "1.jpg"
    assert photo.latitude is None and photo.media_size == 6  # pixel sizes are not a position
    [vcard] = card.attachments
    assert vcard.mime is None and vcard.path is None  # a vCard, not a MIME type; not in the evidence


MINIMAL_SCHEMA = """
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID VARCHAR);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZISFROMME INTEGER, ZMESSAGEDATE TIMESTAMP,
  ZTEXT VARCHAR, ZCHATSESSION INTEGER, ZFROMJID VARCHAR);
INSERT INTO ZWACHATSESSION VALUES (1, '441234567890@s.whatsapp.net');
INSERT INTO ZWAMESSAGE VALUES (1, 0, 0.5, 'hi', 1, '441234567890@s.whatsapp.net');
INSERT INTO ZWAMESSAGE VALUES (2, 1, 700000000, 'orphan', 7, NULL);
"""


def test_minimal_schema_variant(tmp_path: Path) -> None:
    """An older/stripped store: no media, member or partner-name columns; a dangling chat id."""
    db = tmp_path / "ChatStorage.sqlite"
    con = sqlite3.connect(db)
    con.executescript(MINIMAL_SCHEMA)
    con.close()
    records, warnings = _run(FileItem.from_path(db), tmp_path)
    assert [r.rowid for r in records] == [1, 2]
    hi, orphan = records
    assert hi.timestamp is not None and hi.timestamp.utc == "2001-01-01T00:00:00.500000Z"
    assert hi.chat_jid == "441234567890@s.whatsapp.net" and hi.chat_name is None and hi.from_me is False
    assert orphan.chat_jid is None
    assert warnings == ["chat session 7 not found"]


# --- ContactsV2.sqlite ----------------------------------------------------------------------------

# ZWAADDRESSBOOKCONTACT as a Core Data table: the columns iLEAPP's whatsAppContacts query reads
# (ZFULLNAME, ZABOUTTEXT, ZABOUTTIMESTAMP, ZPHONENUMBER, ZPHONENUMBERLABEL, ZWHATSAPPID,
# ZIDENTIFIER) and the name/LID columns of the same entity other public readers query.
CONTACTS_SCHEMA = """
CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZABOUTTIMESTAMP TIMESTAMP, ZABOUTTEXT VARCHAR, ZBUSINESSNAME VARCHAR, ZFULLNAME VARCHAR,
  ZGIVENNAME VARCHAR, ZLASTNAME VARCHAR, ZIDENTIFIER VARCHAR, ZLID VARCHAR, ZPHONENUMBER VARCHAR,
  ZPHONENUMBERLABEL VARCHAR, ZWHATSAPPID VARCHAR);
"""
COCOA_OFFSET = 978_307_200  # seconds from 1970-01-01 to 2001-01-01
# iLEAPP strips Apple's label markers (_$!<Mobile>!$_ -> Mobile); the store keeps them
STORED_LABEL = {"Mobile": "_$!<Mobile>!$_", "Main": "_$!<Main>!$_", "": None}


def _contacts_db(path: Path, rows: list[dict[str, object]]) -> Path:
    """A ContactsV2.sqlite holding exactly iLEAPP's rows, stored as the app stores them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(CONTACTS_SCHEMA)
    for pk, row in enumerate(rows, start=1):
        about_time = row["About Text Timestamp"]
        label = str(row["Phone Number Label"])
        con.execute(
            "INSERT INTO ZWAADDRESSBOOKCONTACT (Z_PK, Z_ENT, Z_OPT, ZABOUTTIMESTAMP, ZABOUTTEXT, ZFULLNAME,"
            " ZIDENTIFIER, ZPHONENUMBER, ZPHONENUMBERLABEL, ZWHATSAPPID) VALUES (?, 3, 1, ?, ?, ?, ?, ?, ?, ?)",
            (
                pk,
                None if about_time is None else int(str(about_time)) - COCOA_OFFSET,
                row["About Text"],
                row["Fullname"],
                row["Identifier"],
                row["Phone Number"],
                STORED_LABEL.get(label, label),
                row["Whatsapp ID"],
            ),
        )
    con.commit()
    con.close()
    return path


def test_contacts_match_ileapp(corpus: Path, tmp_path: Path) -> None:
    """The corpus has iLEAPP's output for a ContactsV2.sqlite but not the file: rebuilt from
    those 9 rows, the plugin's records give them back, column for column."""
    expected = json.loads(need(corpus / "chats" / "expected" / "whatsapp_ios_contacts.json").read_text())
    rows = [dict(zip(expected["headers"], row, strict=True)) for row in expected["data"]]
    assert len(rows) == expected["metadata"]["number_of_rows"] == 9
    db = _contacts_db(tmp_path / "extraction" / APP_GROUP.lstrip("/") / "ContactsV2.sqlite", rows)
    item = FileItem.from_path(db, fs_path=f"{APP_GROUP}/ContactsV2.sqlite")
    records, warnings = _run_all(item, tmp_path, WhatsAppIosContactsPlugin())
    assert warnings == []
    contacts = [r for r in records if isinstance(r, WhatsAppIosContact)]
    assert len(contacts) == 9
    for rec, exp in zip(contacts, rows, strict=True):
        where = rec.locator
        assert rec.name == exp["Fullname"], where
        assert rec.about == exp["About Text"], where
        assert rec.about_time is not None, where
        if exp["About Text Timestamp"] is None:
            assert rec.about_time.utc is None, where
        else:
            assert _unix_seconds(rec.about_time.utc) == exp["About Text Timestamp"], where
        assert rec.phone_number == exp["Phone Number"], where
        shown = label_for(WhatsAppIosContact, "phone_label", rec.phone_label) or rec.phone_label or ""
        assert shown == exp["Phone Number Label"], where
        assert rec.whatsapp_id == exp["Whatsapp ID"] and rec.identifier == exp["Identifier"], where
        assert rec.phones == ((exp["Phone Number"],) if exp["Phone Number"] else ()), where
        assert rec.account_ids == ((exp["Whatsapp ID"],) if exp["Whatsapp ID"] else ()), where
    two = next(r for r in contacts if r.about)
    assert two.name == "This Is DFIR Two" and two.about_time is not None
    assert two.about_time.utc == "2023-05-02T15:54:15.000000Z" and two.about_time.encoding == "cocoa_s"
    # one person, two numbers: two rows with the same identifier
    josh = [r for r in contacts if r.name == "Josh Hickman"]
    assert len(josh) == 2 and len({r.identifier for r in josh}) == 1
    assert {r.phone_label for r in josh} == {"_$!<Mobile>!$_", "TextNow"}
    assert record_to_dict(two)["record_type"] == "chat/ios/whatsapp/contact"


# --- CallHistory.sqlite ---------------------------------------------------------------------------

# The three entities iLEAPP's whatsAppCallHistory query joins, with the columns it reads.
CALLS_SCHEMA = """
CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZINCOMING INTEGER, ZMISSED INTEGER, ZMISSEDREASON INTEGER, ZVIDEO INTEGER, ZFIRSTDATE TIMESTAMP);
CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZOUTCOME INTEGER, Z1CALLEVENTS INTEGER, ZBYTESRECEIVED INTEGER, ZBYTESSENT INTEGER,
  ZDATE TIMESTAMP, ZDURATION FLOAT, ZCALLIDSTRING VARCHAR, ZGROUPCALLCREATORUSERJIDSTRING VARCHAR,
  ZGROUPJIDSTRING VARCHAR);
CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
"""
TWO = "19198887386@s.whatsapp.net"
CALL_ROWS = f"""
INSERT INTO ZWAAGGREGATECALLEVENT (Z_PK, ZINCOMING, ZMISSED, ZMISSEDREASON, ZVIDEO) VALUES
  (1, 0, 0, NULL, 0), (2, 1, 0, NULL, 0), (3, 1, 1, 1, 1), (4, 0, 0, NULL, 0);
INSERT INTO ZWACDCALLEVENT (Z_PK, ZOUTCOME, Z1CALLEVENTS, ZBYTESRECEIVED, ZBYTESSENT, ZDATE, ZDURATION,
  ZCALLIDSTRING, ZGROUPCALLCREATORUSERJIDSTRING, ZGROUPJIDSTRING) VALUES
  (1, 0, 1, 5000, 6000, 704736700.5, 95.5, 'C1', '{OWNER}', NULL),
  (2, 0, 2, 7000, 8000, 704736900, 120, 'C2', '{TWO}', NULL),
  (3, 1, 3, 0, 0, 704737400, 0, 'C3', '{TWO}', NULL),
  (4, 4, 4, 0, 0, 704737500, 0, 'C4', '{OWNER}', '120363023356659014@g.us'),
  (5, 0, 9, 0, 0, 704737600, 10, 'C5', '{OWNER}', NULL);
INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z1PARTICIPANTS, ZJIDSTRING) VALUES
  (1, '{TWO}'), (2, '{TWO}'), (3, '{TWO}'), (4, '{TWO}'), (4, '19195790479@s.whatsapp.net');
"""


def _calls(tmp_path: Path, script: str) -> tuple[list[WhatsAppIosCall], list[str]]:
    db = tmp_path / "extraction" / APP_GROUP.lstrip("/") / "CallHistory.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db)
    con.executescript(script)
    con.close()
    item = FileItem.from_path(db, fs_path=f"{APP_GROUP}/CallHistory.sqlite")
    records, warnings = _run_all(item, tmp_path, WhatsAppIosCallsPlugin())
    return [r for r in records if isinstance(r, WhatsAppIosCall)], warnings


def test_calls(tmp_path: Path) -> None:
    """No real CallHistory.sqlite is in the corpus: a fixture from the published query's columns."""
    calls, warnings = _calls(tmp_path, CALLS_SCHEMA + CALL_ROWS)
    assert warnings == ["aggregate call event 9 not found"]
    out, incoming, missed, group, orphan = calls
    assert out.locator == "ZWACDCALLEVENT.Z_PK=1" and out.call_id == "C1"
    assert out.timestamp is not None and out.timestamp.utc == "2023-05-02T16:11:40.500000Z"
    assert out.timestamp.encoding == "cocoa_s" and out.duration == 95.5
    assert out.from_me is True and out.party == TWO and out.video is False and out.status == 0
    assert (out.bytes_sent, out.bytes_received) == (6000, 5000)
    assert label_for(WhatsAppIosCall, "status", out.status) == "ended"
    assert incoming.from_me is False and incoming.incoming == 1 and incoming.duration == 120
    assert (
        missed.from_me is False and missed.video is True and missed.missed == 1 and missed.missed_reason == 1
    )
    assert label_for(WhatsAppIosCall, "status", missed.status) == "missed"
    assert group.party is None and group.participants == (TWO, "19195790479@s.whatsapp.net")
    assert (
        group.group_jid == "120363023356659014@g.us" and label_for(WhatsAppIosCall, "status", 4) == "rejected"
    )
    # no aggregate row: the direction comes from the call's creator (the owner, not a participant)
    assert orphan.from_me is None and orphan.participants == () and orphan.video is None
    assert WhatsAppIosCall.app == "whatsapp"
    assert record_to_dict(out)["record_type"] == "chat/ios/whatsapp/call"


def test_calls_of_an_old_store_without_aggregates(tmp_path: Path) -> None:
    """iOS 14-era stores: no aggregate table and no creator column; calls are still read."""
    script = """
    CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, ZOUTCOME INTEGER, Z1CALLEVENTS INTEGER,
      ZDATE TIMESTAMP, ZDURATION FLOAT);
    CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
    INSERT INTO ZWACDCALLEVENT VALUES (1, 0, NULL, 600000000, 30);
    """
    calls, warnings = _calls(tmp_path, script)
    assert warnings == []
    [call] = calls
    assert call.timestamp is not None and call.timestamp.utc == "2020-01-06T10:40:00.000000Z"
    assert call.from_me is None and call.creator_jid is None and call.duration == 30


def test_call_direction_from_the_creator_when_no_aggregate_says(tmp_path: Path) -> None:
    script = (
        CALLS_SCHEMA
        + f"""
        INSERT INTO ZWACDCALLEVENT (Z_PK, Z1CALLEVENTS, ZDATE, ZGROUPCALLCREATORUSERJIDSTRING) VALUES
          (1, 7, 704736700, '{TWO}'), (2, 8, 704736800, '{OWNER}');
        INSERT INTO ZWAAGGREGATECALLEVENT (Z_PK, ZINCOMING) VALUES (7, NULL), (8, NULL);
        INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z1PARTICIPANTS, ZJIDSTRING) VALUES (7, '{TWO}'), (8, '{TWO}');
        """
    )
    calls, warnings = _calls(tmp_path, script)
    assert warnings == []
    assert [c.from_me for c in calls] == [False, True]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"\x00" * 8192, os.urandom(4096)], ids=["zero-filled", "encrypted"])
def test_a_chat_storage_that_is_not_sqlite_is_reported(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "ChatStorage.sqlite"
    path.write_bytes(data)
    plugin = WhatsAppIosPlugin()
    item = FileItem.from_path(path, fs_path=FS_PATH)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == []
    [warning] = ctx.warnings
    assert (warning.plugin, warning.path) == ("whatsapp_ios", FS_PATH)
    assert warning.message.startswith("database skipped by whatsapp_ios: not a SQLite 3 database")


def test_a_store_with_a_dropped_table_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "ChatStorage.sqlite"
    con = sqlite3.connect(path)
    con.executescript(MINIMAL_SCHEMA + "DROP TABLE ZWAMESSAGE;")
    con.close()
    item = FileItem.from_path(path, fs_path=FS_PATH)
    plugin = WhatsAppIosPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == []
    [warning] = ctx.warnings
    assert (
        warning.plugin == "whatsapp_ios"
        and "lacks the tables and columns the plugin reads" in warning.message
    )
    assert "ZWAMESSAGE(" in warning.message


def test_one_corrupt_row_among_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "ChatStorage.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        MINIMAL_SCHEMA
        + "INSERT INTO ZWAMESSAGE VALUES (3, 0, 700000001, CAST(X'C3' AS TEXT), 1, NULL);"
        + "INSERT INTO ZWAMESSAGE VALUES (4, 0, 'not a date', 'still read', 1, NULL);"
    )
    con.close()
    messages, warnings = _run(FileItem.from_path(path), tmp_path)
    assert [m.rowid for m in messages] == [1, 2, 4]
    assert warnings == ["chat session 7 not found", "row skipped: text that is not UTF-8 in ZTEXT (c3)"]
    bad_date = messages[2].timestamp
    assert bad_date is not None and bad_date.utc is None and bad_date.note == "not a number"


ROWS = 50_000


@pytest.mark.slow
def test_a_big_message_table_is_streamed_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 messages of 100 bytes: the plugin holds its lookups and the current row only."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    db = tmp_path / "ChatStorage.sqlite"
    con = sqlite3.connect(db)
    con.executescript(MINIMAL_SCHEMA + "DELETE FROM ZWAMESSAGE;")
    con.executemany(
        "INSERT INTO ZWAMESSAGE VALUES (?, ?, ?, ?, 1, ?)",
        (
            (
                i,
                i % 2,
                700000000 + i / 10,
                f"{i:08d}" + "m" * 92,
                None if i % 2 else "441234567890@s.whatsapp.net",
            )
            for i in range(1, ROWS + 1)
        ),
    )
    con.commit()
    con.close()
    bound = ROWS * 100 // 50  # 2% of the table's text
    plugin = WhatsAppIosPlugin()
    item = FileItem.from_path(db)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)  # the scratch copy is made before measuring
        tracemalloc.start()
        try:
            count = sum(1 for _ in plugin.parse(item, ctx))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == ROWS and ctx.warnings == []
    assert peak < bound


def test_chats_show_the_position_a_message_shares(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iLEAPP's expected rows give four shared positions (the oracle). Found in review: ``exhibit
    chats`` read those messages as "(no text)"; it shows their position, and --json has it."""
    from tests.plugins.triage_e2e import exhibit, triaged_folder

    db = need(corpus / "chats" / "whatsapp_ios_ChatStorage.sqlite")
    expected = json.loads(need(corpus / "chats" / "expected" / "whatsapp_ios_messages.json").read_text())
    rows = [dict(zip(expected["headers"], row, strict=True)) for row in expected["data"]]
    positions = sorted((r["Latitude"], r["Longitude"]) for r in rows if r["Latitude"] != "")
    assert len(positions) == 4
    with triaged_folder(tmp_path, monkeypatch, {FS_PATH.lstrip("/"): db}, "whatsapp_ios"):
        lines = [json.loads(x) for x in exhibit("chats", "--json").out.splitlines()]
        listing = exhibit("chats").out
    shown = sorted((m["location"]["latitude"], m["location"]["longitude"]) for m in lines if m["location"])
    assert shown == positions
    for lat, lon in positions:
        assert f"(location {lat}, {lon})" in listing
