"""WhatsApp on Android (msgstore.db, wa.db) on fixtures built from the published schemas.

No real msgstore.db or wa.db is in the corpus (no redistributable copy exists), so every database
here is built from SQL text that follows the app's own schema: the ``CREATE TABLE`` statements of
``messages``, ``message``, ``chat``, ``jid``, ``message_media``, ``message_location``,
``call_log`` and ``call_log_participant_v2`` as dumped from a transitional msgstore.db (a public
schema dump read through the search tool), ``chat_list`` of the legacy layout, and ``wa_contacts``
as the app creates it (``CREATE TABLE wa_contacts`` in WhatsApp's ContactsDatabaseHelper, database
version 69), cross-checked with ALEAPP's WhatsApp module queries (``message_media.file_path``,
``message_location``, ``call_log`` joined to ``jid``). Only the columns the tests need are
filled; the rest keep the app's declarations. Every time is checked at a known instant.
"""

from __future__ import annotations

import os
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from plugins.chat.whatsapp_android import (
    WhatsAppAndroidCall,
    WhatsAppAndroidContact,
    WhatsAppAndroidContactsPlugin,
    WhatsAppAndroidMessage,
    WhatsAppAndroidPlugin,
)
from tests.plugins.app_schemas import WHATSAPP_MEDIA, WHATSAPP_MSGSTORE, WHATSAPP_WA_CONTACTS
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Record
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

DB_DIR = "data/data/com.whatsapp/databases"

# The app's declarations (column lists as in the published dumps; indexes the app creates).
LEGACY_SCHEMA = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
  key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT,
  timestamp INTEGER, media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER,
  media_name TEXT, media_caption TEXT, media_hash TEXT, media_duration INTEGER, origin INTEGER,
  latitude REAL, longitude REAL, thumb_image TEXT, remote_resource TEXT, received_timestamp INTEGER,
  send_timestamp INTEGER, receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER,
  read_device_timestamp INTEGER, played_device_timestamp INTEGER, raw_data BLOB,
  recipient_count INTEGER, participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER,
  mentioned_jids TEXT, multicast_id TEXT, edit_version INTEGER, media_enc_hash TEXT,
  payment_transaction_id TEXT, forwarded INTEGER, preview_type INTEGER, send_count INTEGER,
  lookup_tables INTEGER, future_message_type INTEGER);
CREATE UNIQUE INDEX messages_key_index on messages (key_remote_jid, key_from_me, key_id);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE,
  message_table_id INTEGER, subject TEXT, creation INTEGER);
"""

NEW_SCHEMA = WHATSAPP_MSGSTORE

MEDIA_SCHEMA = WHATSAPP_MEDIA

WA_SCHEMA = (
    WHATSAPP_WA_CONTACTS
    + """
INSERT INTO wa_contacts (_id, jid, is_whatsapp_user, status, status_timestamp, number, display_name,
  given_name, family_name, wa_name, phone_label)
VALUES
  (1, '15551230001@s.whatsapp.net', 1, 'Busy', 1609459200000, '+1 555-123-0001', 'Alice Adams',
   'Alice', 'Adams', 'ali', 'Mobile'),
  (2, '15551230002@s.whatsapp.net', 1, NULL, NULL, '+15551230002', NULL, NULL, NULL, 'Bobby', NULL),
  (3, '120363000000000001@g.us', 1, NULL, NULL, NULL, 'Shipment', NULL, NULL, NULL, NULL);
"""
)

ALICE = "15551230001@s.whatsapp.net"
BOB = "15551230002@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
T0 = 1609459200000  # 2021-01-01T00:00:00Z in Unix ms

NEW_ROWS = f"""
INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES
  (1, '15551230001', 's.whatsapp.net', 0, 0, 0, '{ALICE}'),
  (2, '120363000000000001', 'g.us', 0, 0, 1, '{GROUP}'),
  (3, '15551230002', 's.whatsapp.net', 0, 0, 0, '{BOB}');
INSERT INTO chat (_id, jid_row_id, subject) VALUES (1, 1, NULL), (2, 2, 'Shipment');
INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp,
  received_timestamp, receipt_server_timestamp, message_type, text_data, starred) VALUES
  (1, 1, 0, 'A1', 0, 0, {T0}, {T0 + 1500}, 0, 0, 'hi', 0),
  (2, 1, 1, 'A2', 0, 13, {T0 + 60123}, 0, {T0 + 61000}, 0, 'hello back', 1),
  (3, 2, 0, 'G1', 3, 0, {T0 + 120000}, {T0 + 121000}, 0, 0, 'the truck leaves at 6', 0),
  (4, 1, 1, 'A3', 0, 13, {T0 + 180000}, 0, 0, 1, 'photo caption', 0),
  (5, 2, 0, 'G2', 3, 0, {T0 + 240000}, 0, 0, 3, NULL, 0),
  (6, 1, 0, 'A4', 0, 0, {T0 + 300000}, 0, 0, 9, NULL, 0),
  (7, 1, 0, 'A5', 0, 0, {T0 + 360000}, 0, 0, 5, NULL, 0),
  (8, 99, 0, 'X1', 0, 0, {T0 + 420000}, 0, 0, 0, 'orphan', 0);
INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type, media_name,
  file_hash, media_duration, message_url) VALUES
  (4, 1, 'Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg', 9, 'image/jpeg', NULL, 'aGFzaA==', 0,
   'https://mmg.whatsapp.net/x'),
  (5, 2, 'Media/WhatsApp Video/VID-20210101-WA0002.mp4', 11, 'video/mp4', NULL, NULL, 7, NULL),
  (6, 1, 'Media/WhatsApp Documents/manifest.pdf', 1234, 'application/pdf', 'manifest.pdf', NULL, 0, NULL);
INSERT INTO message_location (message_row_id, chat_row_id, latitude, longitude, place_name) VALUES
  (7, 1, 41.3851, 2.1734, 'Port');
INSERT INTO call_log (_id, jid_row_id, from_me, call_id, timestamp, video_call, duration, call_result,
  bytes_transferred, group_jid_row_id) VALUES
  (1, 1, 1, 'CALL1', {T0 + 500000}, 0, 65, 5, 120000, 0),
  (2, 3, 0, 'CALL2', {T0 + 600000}, 1, 0, 2, 0, 2);
INSERT INTO call_log_participant_v2 (call_log_row_id, jid_row_id, call_result) VALUES (2, 1, 5), (2, 3, 5);
"""

LEGACY_ROWS = f"""
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp) VALUES
  (1, '-1', 0, '-1', -1, NULL, 0);
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp,
  received_timestamp, send_timestamp, media_wa_type, remote_resource) VALUES
  (2, '{ALICE}', 0, 'L1', 0, 'old hello', 1500000000000, 1500000000999, -1, '0', NULL),
  (3, '{GROUP}', 0, 'L2', 0, 'legacy group text', 1500000060000, 0, -1, '0', '{BOB}'),
  (4, '{ALICE}', 1, 'L3', 13, NULL, 1500000120000, 0, 1500000121000, '1', '');
UPDATE messages SET media_mime_type = 'image/jpeg', media_size = 9, media_caption = 'the dock'
  WHERE _id = 4;
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type,
  media_mime_type, media_name, media_size, thumb_image) VALUES
  (5, '{ALICE}', 0, 'L4', 0, NULL, 1500000180000, '9', 'application/pdf', 'old.pdf', 2048, 'java-object');
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type,
  latitude, longitude) VALUES
  (6, '{ALICE}', 0, 'L5', 0, NULL, 1500000240000, '5', -33.8688, 151.2093),
  (7, '{ALICE}', 0, 'L6', 0, 'not a place', 1500000300000, '0', 0.0, 0.0);
INSERT INTO chat_list (key_remote_jid, subject) VALUES ('{ALICE}', NULL), ('{GROUP}', 'Shipment');
"""


def _db(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(script)
    con.close()
    return path


def _phone(tmp_path: Path, msgstore_script: str, *, wa: bool = True, media: bool = True) -> Path:
    """An extraction folder: msgstore.db (and wa.db) under /data/data, media under /sdcard."""
    root = tmp_path / "extraction"
    _db(root / DB_DIR / "msgstore.db", msgstore_script)
    if wa:
        _db(root / DB_DIR / "wa.db", WA_SCHEMA)
    if media:
        image = root / "sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg"
        video = (
            root / "sdcard/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Video/VID-20210101-WA0002.mp4"
        )
        for path, data in ((image, b"\xff\xd8\xff jpeg!"), (video, b"mp4 content")):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def _item(root: Path, name: str = "msgstore.db") -> FileItem:
    return FileItem.from_path(root / DB_DIR / name, fs_path=f"/{DB_DIR}/{name}", root=root)


def _run(
    item: FileItem,
    tmp_path: Path,
    plugin: WhatsAppAndroidPlugin | WhatsAppAndroidContactsPlugin | None = None,
) -> tuple[list[Record], list[str]]:
    plugin = plugin or WhatsAppAndroidPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    assert result.failed == []
    return list(result.records), [w.message for w in result.warnings]


def _messages(records: list[Record]) -> list[WhatsAppAndroidMessage]:
    return [r for r in records if isinstance(r, WhatsAppAndroidMessage)]


def _calls(records: list[Record]) -> list[WhatsAppAndroidCall]:
    return [r for r in records if isinstance(r, WhatsAppAndroidCall)]


def test_2021_schema_messages_media_locations_calls(tmp_path: Path) -> None:
    root = _phone(tmp_path, NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS)
    records, warnings = _run(_item(root), tmp_path)
    assert warnings == ["chat 99 not found"]
    messages = _messages(records)
    assert [m.rowid for m in messages] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert {m.schema for m in messages} == {"2021"}
    hi, back, group, photo, video, doc, place, orphan = messages

    assert hi.locator == "message._id=1" and hi.key_id == "A1"
    assert hi.timestamp is not None and hi.timestamp.utc == "2021-01-01T00:00:00.000000Z"
    assert hi.timestamp.raw == T0 and hi.timestamp.encoding == "unix_ms"
    assert hi.received_time is not None and hi.received_time.utc == "2021-01-01T00:00:01.500000Z"
    assert hi.body == "hi" and hi.from_me is False
    assert (hi.party, hi.conversation, hi.sender, hi.recipients) == (ALICE, ALICE, ALICE, ())
    # one-to-one chats are titled with the wa.db name; the sender too
    assert hi.conversation_title == "Alice Adams" and hi.sender_name == "Alice Adams"
    assert hi.names_from == f"/{DB_DIR}/wa.db"
    assert label_for(WhatsAppAndroidMessage, "message_type", hi.message_type) == "text"

    assert back.from_me is True and back.sender is None and back.recipients == (ALICE,)
    assert back.timestamp is not None and back.timestamp.utc == "2021-01-01T00:01:00.123000Z"
    assert (
        back.server_receipt_time is not None and back.server_receipt_time.utc == "2021-01-01T00:01:01.000000Z"
    )
    assert back.status == 13 and back.starred == 1

    assert group.party is None and group.conversation == GROUP and group.conversation_title == "Shipment"
    assert group.sender == BOB and group.sender_jid == BOB and group.sender_name == "Bobby"
    assert group.chat_name == "Shipment"

    [image] = photo.attachments
    assert image.recorded_path == "Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg"
    assert image.path == "/sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg"
    assert image.size == 9 and image.mime == "image/jpeg" and image.name == "IMG-20210101-WA0001.jpg"
    assert photo.body == "photo caption" and photo.media_size == 9 and photo.media_hash == "aGFzaA=="
    assert label_for(WhatsAppAndroidMessage, "message_type", photo.message_type) == "image"
    # Android 11+ scoped storage
    [clip] = video.attachments
    assert clip.path == (
        "/sdcard/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Video/VID-20210101-WA0002.mp4"
    )
    assert clip.size == 11 and video.media_duration == 7
    # recorded, not in the evidence
    [pdf] = doc.attachments
    assert pdf.recorded_path == "Media/WhatsApp Documents/manifest.pdf" and pdf.name == "manifest.pdf"
    assert pdf.path is None and pdf.size is None and doc.media_size == 1234

    assert (place.latitude, place.longitude, place.place_name) == (41.3851, 2.1734, "Port")
    assert hi.latitude is None and photo.attachments and not place.attachments
    assert orphan.conversation is None and orphan.body == "orphan"

    one, group_call = _calls(records)
    assert one.locator == "call_log._id=1" and one.party == ALICE and one.party_name == "Alice Adams"
    assert one.from_me is True and one.video is False and one.duration == 65 and one.status == 5
    assert one.timestamp is not None and one.timestamp.utc == "2021-01-01T00:08:20.000000Z"
    assert one.call_id == "CALL1" and one.bytes_transferred == 120000 and one.participants == ()
    assert group_call.group_jid == GROUP and group_call.participants == (ALICE, BOB)
    assert group_call.video is True and group_call.from_me is False
    d = record_to_dict(photo)
    assert d["record_type"] == "chat/android/whatsapp/message"
    assert d["attachments"][0]["size"] == 9
    assert WhatsAppAndroidMessage.app == "whatsapp" and WhatsAppAndroidCall.app == "whatsapp"


def test_legacy_schema(tmp_path: Path) -> None:
    """The pre-2021 layout: ``messages`` keyed by the WhatsApp key, ``chat_list`` subjects, no
    call_log, and (2019+) ``message_media`` pointing at ``messages._id``."""
    script = (
        LEGACY_SCHEMA
        + MEDIA_SCHEMA
        + LEGACY_ROWS
        + """INSERT INTO message_media (message_row_id, file_path, file_size, mime_type)
             VALUES (4, 'Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg', 9, 'image/jpeg');"""
    )
    root = _phone(tmp_path, script)
    records, warnings = _run(_item(root), tmp_path)
    assert warnings == []
    messages = _messages(records)
    # the placeholder row (key_remote_jid -1) is not a message
    assert [m.rowid for m in messages] == [2, 3, 4, 5, 6, 7]
    assert all(m.schema == "legacy" and m.locator == f"messages._id={m.rowid}" for m in messages)
    hello, group, photo, doc, place, not_place = messages
    assert hello.timestamp is not None and hello.timestamp.utc == "2017-07-14T02:40:00.000000Z"
    assert hello.received_time is not None and hello.received_time.utc == "2017-07-14T02:40:00.999000Z"
    assert hello.sender == ALICE and hello.party == ALICE and hello.conversation_title == "Alice Adams"
    assert group.sender == BOB and group.party is None and group.conversation_title == "Shipment"
    assert photo.from_me is True and photo.sender is None and photo.recipients == (ALICE,)
    assert photo.body == "the dock" and photo.caption == "the dock" and photo.message_type == 1
    assert photo.sent_time is not None and photo.sent_time.utc == "2017-07-14T02:42:01.000000Z"
    [image] = photo.attachments
    assert image.path == "/sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg"
    # before message_media the file path is inside thumb_image (not decoded): what the app recorded
    [old] = doc.attachments
    assert (old.name, old.mime, old.recorded_path, old.path) == ("old.pdf", "application/pdf", None, None)
    assert doc.media_size == 2048 and label_for(WhatsAppAndroidMessage, "message_type", 9) == "document"
    assert (place.latitude, place.longitude) == (-33.8688, 151.2093)
    assert (not_place.latitude, not_place.longitude) == (None, None)  # 0.0 on a text row is no position
    assert _calls(records) == []


# The oldest layout (about 2014): no message_media, media_caption, starred or quoted columns.
OLDEST_SCHEMA = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
  key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT,
  timestamp INTEGER, media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER,
  media_name TEXT, media_hash TEXT, latitude REAL, longitude REAL, thumb_image TEXT,
  remote_resource TEXT, received_timestamp INTEGER, send_timestamp INTEGER,
  receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER, raw_data BLOB,
  recipient_count INTEGER, media_duration INTEGER, origin INTEGER);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE,
  message_table_id INTEGER, subject TEXT, creation INTEGER);
"""


def test_oldest_legacy_schema(tmp_path: Path) -> None:
    script = (
        OLDEST_SCHEMA
        + f"""INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp,
                media_wa_type, media_mime_type, media_name) VALUES
              (1, '{ALICE}', 1, 'O1', 5, 'from 2014', 1400000000000, '0', NULL, NULL),
              (2, '{ALICE}', 0, 'O2', 0, NULL, 1400000060000, '1', 'image/jpeg', NULL);"""
    )
    root = _phone(tmp_path, script, wa=False, media=False)
    records, warnings = _run(_item(root), tmp_path)
    assert warnings == []
    text, image = _messages(records)
    assert text.timestamp is not None and text.timestamp.utc == "2014-05-13T16:53:20.000000Z"
    assert text.body == "from 2014" and text.caption is None and text.starred is None
    assert text.received_time is not None and text.received_time.utc is None  # column there, value NULL
    assert image.attachments[0].mime == "image/jpeg" and image.attachments[0].recorded_path is None
    assert text.conversation_title is None and text.names_from is None


TRANSITION_ROWS = f"""
INSERT INTO jid (_id, user, server, raw_string) VALUES (1, '15551230001', 's.whatsapp.net', '{ALICE}'),
  (3, '15551230002', 's.whatsapp.net', '{BOB}');
INSERT INTO chat (_id, jid_row_id) VALUES (1, 1), (3, 3);
INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp,
  message_type, text_data) VALUES
  (10, 1, 0, 'K1', 0, 0, {T0}, 0, 'migrated'),
  (11, 1, 1, 'K2', 0, 13, {T0 + 1000}, 0, 'read after migration'),
  (12, 1, 0, 'K4', 0, 0, {T0 + 2000}, 1, NULL);
INSERT INTO message_media (message_row_id, file_path, mime_type) VALUES
  (12, 'Media/WhatsApp Images/Sent/IMG-20210101-WA0001.jpg', 'image/jpeg');
INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type) VALUES
  (1, '-1', 0, '-1', -1, NULL, 0, '0'),
  (10, '{ALICE}', 0, 'K1', 0, 'migrated', {T0}, '0'),
  (11, '{ALICE}', 1, 'K2', 4, 'read after migration', {T0 + 1000}, '0'),
  (12, '{ALICE}', 0, 'K3', 0, 'only in the legacy table', {T0 - 5000}, '0'),
  (13, '{BOB}', 0, 'K1', 0, 'same key id, another chat', {T0 - 4000}, '0'),
  (14, '{ALICE}', 1, 'K1', 0, 'same key id, other direction', {T0 - 3000}, '0');
"""


def test_transition_reads_both_tables_without_duplicates(tmp_path: Path) -> None:
    root = _phone(tmp_path, LEGACY_SCHEMA + NEW_SCHEMA + MEDIA_SCHEMA + TRANSITION_ROWS)
    records, warnings = _run(_item(root), tmp_path)
    assert warnings == []
    got = [(m.schema, m.rowid, m.conversation, m.from_me, m.key_id, m.body) for m in _messages(records)]
    assert got == [
        ("2021", 10, ALICE, False, "K1", "migrated"),
        ("2021", 11, ALICE, True, "K2", "read after migration"),
        ("2021", 12, ALICE, False, "K4", None),
        # legacy rows whose whole key (chat, from_me, key_id) is not in `message`
        ("legacy", 12, ALICE, False, "K3", "only in the legacy table"),
        ("legacy", 13, BOB, False, "K1", "same key id, another chat"),
        ("legacy", 14, ALICE, True, "K1", "same key id, other direction"),
    ]
    keys = [(m.conversation, m.from_me, m.key_id) for m in _messages(records)]
    assert len(keys) == len(set(keys))
    # the `message` copy wins: its status (13 read), not the stale legacy one (4)
    assert next(m for m in _messages(records) if m.key_id == "K2").status == 13
    # a legacy row never takes message_media of the `message` row that shares its _id
    legacy_12 = next(m for m in _messages(records) if m.schema == "legacy" and m.rowid == 12)
    assert legacy_12.attachments == ()
    new_12 = next(m for m in _messages(records) if m.schema == "2021" and m.rowid == 12)
    assert new_12.attachments[0].size == 9


def test_transition_without_jid_names_compares_from_me_and_key_id(tmp_path: Path) -> None:
    script = (
        LEGACY_SCHEMA
        + """CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER NOT NULL,
               from_me INTEGER NOT NULL, key_id TEXT NOT NULL, timestamp INTEGER, text_data TEXT);
             INSERT INTO message VALUES (1, 5, 0, 'K1', 1000, 'new');"""
        + f"""INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, timestamp, data) VALUES
             (1, '{ALICE}', 0, 'K1', 1000, 'old'), (2, '{ALICE}', 0, 'K2', 2000, 'kept');"""
    )
    root = _phone(tmp_path, script, wa=False, media=False)
    records, warnings = _run(_item(root), tmp_path)
    assert warnings == ["chat 5 not found"]
    assert [(m.schema, m.body) for m in _messages(records)] == [("2021", "new"), ("legacy", "kept")]
    assert all(m.names_from is None for m in _messages(records))


def test_wa_db_contacts(tmp_path: Path) -> None:
    root = _phone(tmp_path, NEW_SCHEMA, media=False)
    records, warnings = _run(_item(root, "wa.db"), tmp_path, WhatsAppAndroidContactsPlugin())
    assert warnings == []
    contacts = [r for r in records if isinstance(r, WhatsAppAndroidContact)]
    assert [c.locator for c in contacts] == ["wa_contacts._id=1", "wa_contacts._id=2", "wa_contacts._id=3"]
    alice, bob, group = contacts
    assert alice.name == "Alice Adams" and alice.phones == ("+1 555-123-0001",)
    assert alice.account_ids == (ALICE,) and alice.about == "Busy" and alice.wa_name == "ali"
    assert alice.about_time is not None and alice.about_time.utc == "2021-01-01T00:00:00.000000Z"
    assert (alice.given_name, alice.family_name, alice.phone_label) == ("Alice", "Adams", "Mobile")
    assert bob.name == "Bobby" and bob.display_name is None and bob.about_time is not None
    assert bob.about_time.utc is None  # no time stored
    assert group.name == "Shipment" and group.phones == ()
    assert WhatsAppAndroidContact.app == "whatsapp"
    assert record_to_dict(alice)["record_type"] == "chat/android/whatsapp/contact"


def test_msgstore_does_not_write_to_evidence(tmp_path: Path) -> None:
    root = _phone(tmp_path, NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS)
    files = [root / DB_DIR / "msgstore.db", root / DB_DIR / "wa.db"]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    _run(_item(root), tmp_path)
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == before
    assert sorted(p.name for p in (root / DB_DIR).iterdir()) == ["msgstore.db", "wa.db"]


# --- bad input ------------------------------------------------------------------------------------


def _raw(root: Path, name: str, data: bytes) -> FileItem:
    path = root / DB_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _item(root, name)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("msgstore.db.crypt14", b"\x00\x01" + os.urandom(400)),  # an encrypted backup
        ("msgstore.db", os.urandom(4096)),  # encrypted / not SQLite
        ("msgstore.db", b"\x00" * 8192),  # zero-filled
    ],
)
def test_a_msgstore_that_is_not_sqlite_is_reported(tmp_path: Path, name: str, data: bytes) -> None:
    item = _raw(tmp_path / "extraction", name, data)
    records, warnings = _run(item, tmp_path)
    assert records == []
    [warning] = warnings
    assert warning.startswith(f"unsupported schema: /{DB_DIR}/{name} is named like WhatsApp's message store")
    assert "plugin whatsapp_android" in warning


def test_a_wal_without_its_database_is_reported(tmp_path: Path) -> None:
    item = _raw(tmp_path / "extraction", "msgstore.db-wal", b"\x37\x7f\x06\x82" + b"\x00" * 60)
    records, warnings = _run(item, tmp_path)
    assert records == []
    assert warnings == [
        f"unsupported schema: /{DB_DIR}/msgstore.db-wal is the write-ahead log of a WhatsApp message "
        "store whose database msgstore.db is not in the evidence: plugin whatsapp_android read nothing"
    ]
    # beside its database, the WAL is read with it and says nothing itself
    root = _phone(tmp_path / "with-db", NEW_SCHEMA, wa=False, media=False)
    (root / DB_DIR / "msgstore.db-wal").write_bytes(b"")
    assert _run(_item(root, "msgstore.db-wal"), tmp_path) == ([], [])


def test_an_unsupported_schema_is_a_warning_and_other_databases_are_not_mine(tmp_path: Path) -> None:
    root = tmp_path / "extraction"
    _db(root / DB_DIR / "msgstore.db", "CREATE TABLE props (_id INTEGER PRIMARY KEY, key TEXT, value TEXT);")
    records, warnings = _run(_item(root), tmp_path)
    assert records == []
    [warning] = warnings
    assert warning.startswith(f"unsupported schema: /{DB_DIR}/msgstore.db has neither a WhatsApp 'message'")
    # a SQLite database of another app, under another name: not this plugin's, silently
    other = _db(
        root / "data/data/other/databases/chat.db", "CREATE TABLE message (ROWID INTEGER PRIMARY KEY);"
    )
    plugin = WhatsAppAndroidPlugin()
    item = FileItem.from_path(other, fs_path="/data/data/other/databases/chat.db", root=root)
    with Scratch(tmp_path) as scratch:
        result = run_plugins(item, [plugin], ParseContext(scratch=scratch))
    assert result.records == [] and result.warnings == [] and result.runs[0].outcome == "not-my-format"


def test_a_dropped_chat_table_and_a_corrupt_row(tmp_path: Path) -> None:
    script = (
        NEW_SCHEMA
        + MEDIA_SCHEMA
        + NEW_ROWS.replace("(8, 99, 0, 'X1', 0, 0,", "(8, 1, 0, 'X1', 0, 0,")
        + "DROP TABLE chat;"
        + "UPDATE message SET text_data = CAST(X'48FF' AS TEXT) WHERE _id = 2;"
        + "UPDATE message SET timestamp = 'garbage' WHERE _id = 3;"
    )
    root = _phone(tmp_path, script, media=False)
    records, warnings = _run(_item(root), tmp_path)
    messages = _messages(records)
    assert [m.rowid for m in messages] == [1, 3, 4, 5, 6, 7, 8]  # row 2 skipped, the rest read
    assert "row skipped: text that is not UTF-8 in text_data (48ff)" in warnings
    assert warnings.count("chat 1 not found") == 5 and warnings.count("chat 2 not found") == 2
    garbage = messages[1].timestamp
    assert garbage is not None and garbage.utc is None and garbage.note == "not a number"
    assert len(_calls(records)) == 2  # call_log is read all the same


def test_a_truncated_msgstore_is_a_warning_and_the_run_goes_on(tmp_path: Path) -> None:
    """Half a database: SQLite refuses it as malformed when the scratch copy is opened, which the
    dispatcher reports as this plugin's failure on this file (with the traceback); the next
    plugin and file are read as usual."""
    rows = ", ".join(f"({i}, 1, 0, 'K{i}', {T0 + i}, 0, '{'x' * 200}')" for i in range(1, 2001))
    script = (
        "PRAGMA page_size = 1024;"
        + NEW_SCHEMA
        + f"INSERT INTO message (_id, chat_row_id, from_me, key_id, timestamp, message_type, text_data) VALUES {rows};"
    )
    root = _phone(tmp_path, script, media=False)
    db = root / DB_DIR / "msgstore.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    contacts = WhatsAppAndroidContactsPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        broken = run_plugins(_item(root), [WhatsAppAndroidPlugin()], ctx)
        fine = run_plugins(_item(root, "wa.db"), [contacts], ctx)
    [warning] = broken.warnings
    assert (warning.plugin, warning.path) == ("whatsapp_android", f"/{DB_DIR}/msgstore.db")
    assert "database disk image is malformed" in warning.message
    assert len(fine.records) == 3 and fine.warnings == []


ROWS = 50_000


@pytest.mark.slow
def test_a_big_message_table_is_streamed_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 messages of 100 bytes: the mapping holds lookups and the current row, not the table."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    root = tmp_path / "extraction"
    db = _db(
        root / DB_DIR / "msgstore.db", NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS.split("INSERT INTO message ")[0]
    )
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type,"
        " text_data) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        (
            (i, 1 + i % 2, i % 3 == 0, f"K{i:08d}", 3 if i % 2 else 0, T0 + i, f"{i:08d}" + "m" * 92)
            for i in range(1, ROWS + 1)
        ),
    )
    con.commit()
    con.close()
    bound = ROWS * 100 // 50  # 2% of the table's text
    plugin = WhatsAppAndroidPlugin()
    item = _item(root)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)  # the scratch copy is made before measuring
        tracemalloc.start()
        try:
            count = sum(1 for _ in plugin.parse(item, ctx))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == ROWS
    assert ctx.warnings == []
    assert peak < bound
