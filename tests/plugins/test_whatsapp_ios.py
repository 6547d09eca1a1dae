"""WhatsApp iOS on real data, compared row by row with iLEAPP's published output for the same file."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from plugins.chat.whatsapp_ios import WhatsAppIosMessage, WhatsAppIosPlugin
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for
from triage.plugin.scratch import Scratch

EXPECTED_MESSAGES = 32  # corpus README: 32 ZWAMESSAGE rows, 5 chat sessions
EXPECTED_CHATS = 5
FS_PATH = (
    "/private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite"
)


def _run(item: FileItem, tmp_path: Path) -> tuple[list[WhatsAppIosMessage], list[str]]:
    plugin = WhatsAppIosPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    records = [r for r in result.records if isinstance(r, WhatsAppIosMessage)]
    return records, [w.message for w in result.warnings]


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
