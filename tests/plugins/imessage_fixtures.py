"""Apple Messages databases built from SQL text, for the layouts the public corpus lacks.

No real iOS 3 to 5 or iOS 16 ``sms.db`` is redistributable, so these follow the published schemas:

- iOS 16+ / macOS 13+ (``MODERN_SCHEMA``, kept in app_schemas.py with the demo's phone builder):
  the ``.schema`` dump of a current ``chat.db`` published in
  savquinn/savs_ai ``project_information/chat_db_info.md`` (message, chat, handle); the
  attachment and join tables as in the corpus's own ``imessage_chat.db`` plus the columns iLEAPP's
  ``scripts/artifacts/sms.py`` reads;
- iOS 5: the ``message``, ``msg_group``, ``group_member``, ``madrid_attachment``, ``madrid_chat``
  and ``msg_pieces`` tables listed on theiphonewiki's "Messages" page (iOS 5.0.1) and dumped in
  toffer/iphone-sms-backup's README; ``flags``/``madrid_flags`` values and the two epochs as read
  by jkeen/forever-chat-imessage-export ``queries/ios5_*.sql``;
- the ``attributedBody`` archive layout of the corpus's own rows (``NSMutableAttributedString``
  holding an ``NSMutableString``), built by :func:`archive` below.

Only the facts (table and column names, value meanings) come from those sources.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.plugins.app_schemas import IMESSAGE_MODERN

COCOA = 978307200  # Unix seconds at 2001-01-01T00:00:00Z


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x8000:
        return b"\x81" + n.to_bytes(2, "little")
    return b"\x82" + n.to_bytes(4, "little")


def archive(text: str, *, mutable: bool = True) -> bytes:
    """An ``attributedBody``: an NSArchiver typedstream of an attributed string holding ``text``."""
    data = text.encode("utf-8")
    head = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@"
    if mutable:  # as in every row of the corpus's chat.db
        classes = (
            b"\x84\x84\x84\x19NSMutableAttributedString\x00\x84\x84\x12NSAttributedString\x00"
            b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x0fNSMutableString\x01\x84\x84\x08NSString\x01\x95"
        )
    else:  # NSAttributedString of an NSString: NSObject is then object 2 (reference 0x94)
        classes = b"\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94"
    runs = (
        b"\x86\x84\x02iI\x01"
        + _length(len(text))
        + b"\x92\x84\x84\x84\x0cNSDictionary\x00\x95\x84\x01i\x01\x92\x84\x98\x98\x1d__kIMMessagePartAttributeName"
        b"\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84\x07NSValue\x00\x95\x84\x01*\x84\x9b\x9b\x00\x86\x86\x86"
    )
    return head + classes + b"\x84\x01+" + _length(len(data)) + data + runs


Row = tuple[object, ...] | dict[str, object]


def build(path: Path, sql: str, rows: dict[str, list[Row]] | None = None) -> Path:
    """A database at ``path`` from ``sql``, then ``rows`` (a tuple fills every column, a dict names them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(sql)
    for table, values in (rows or {}).items():
        for value in values:
            if isinstance(value, dict):
                names = ", ".join(value)
                con.execute(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(value))})",
                    tuple(value.values()),
                )
            else:
                con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(value))})", value)
    con.commit()
    con.close()
    return path


# iOS 16+ (macOS 13+): nanosecond dates, date_edited, thread_originator_guid, text often NULL.
MODERN_SCHEMA = IMESSAGE_MODERN


# The iOS 6 to 13 message table: the columns of the corpus file (macOS 10.11), no iOS 14+ column.
IOS10_SCHEMA = """
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
  service TEXT NOT NULL, uncanonicalized_id TEXT, UNIQUE (id, service));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER,
  state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT,
  account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT,
  group_id TEXT);
CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, PRIMARY KEY (chat_id, message_id));
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
  created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,
  transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,
  total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER, attachment_id INTEGER,
  UNIQUE(message_id, attachment_id));
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
  replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
  attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
  account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
  is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
  is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
  is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
  is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
  is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
  is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
  was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0,
  is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0, other_handle INTEGER DEFAULT 0,
  group_title TEXT, group_action_type INTEGER DEFAULT 0, share_status INTEGER DEFAULT 0,
  share_direction INTEGER DEFAULT 0, is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0,
  message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0);
"""

# iOS 5.0.1 (madrid columns); an iOS 4 database is the same without madrid_* and is_madrid.
IOS5_SCHEMA = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER, newest_message INTEGER,
  unread_count INTEGER, hash INTEGER);
CREATE TABLE group_member (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER, address TEXT,
  country TEXT);
CREATE TABLE msg_pieces (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER, data BLOB,
  part_id INTEGER, preview_part INTEGER, content_type TEXT, height INTEGER, version INTEGER, flags INTEGER,
  content_id TEXT, content_loc TEXT, headers BLOB);
CREATE TABLE madrid_attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, attachment_guid TEXT,
  created_date INTEGER, start_date INTEGER, filename TEXT, uti_type TEXT, mime_type TEXT,
  transfer_state INTEGER, is_incoming INTEGER, message_id INTEGER);
CREATE TABLE madrid_chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, style INTEGER, state INTEGER,
  account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, guid TEXT, room_name TEXT,
  account_login TEXT, participants BLOB);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, text TEXT,
  flags INTEGER, replace INTEGER, svc_center TEXT, group_id INTEGER, association_id INTEGER, height INTEGER,
  UIFlags INTEGER, version INTEGER, subject TEXT, country TEXT, headers BLOB, recipients BLOB, read INTEGER,
  madrid_attributedBody BLOB, madrid_handle TEXT, madrid_version INTEGER, madrid_guid TEXT,
  madrid_type INTEGER, madrid_roomname TEXT, madrid_service TEXT, madrid_account TEXT,
  madrid_account_guid TEXT, madrid_flags INTEGER, madrid_attachmentInfo BLOB, madrid_url TEXT,
  madrid_error INTEGER, is_madrid INTEGER, madrid_date_read INTEGER, madrid_date_delivered INTEGER);
"""

IOS4_SCHEMA = """
CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER, newest_message INTEGER,
  unread_count INTEGER);
CREATE TABLE group_member (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER, address TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, text TEXT,
  flags INTEGER, replace INTEGER, svc_center TEXT, group_id INTEGER, association_id INTEGER, height INTEGER,
  UIFlags INTEGER, version INTEGER);
"""
