"""The one schema of conversations: messages, calls and contacts of every app share their fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import Record, SourceRef
from triage.plugin.records import Attachment, CallFields, ContactFields, MessageFields, record_to_dict
from triage.plugin.timeconv import from_unix_ms


@dataclass(frozen=True, kw_only=True)
class _Msg(MessageFields, Record):
    record_type: ClassVar[str] = "chat/test/message"
    app: ClassVar[str] = "testchat"
    rowid: int


@dataclass(frozen=True, kw_only=True)
class _Call(CallFields, Record):
    record_type: ClassVar[str] = "chat/test/call"
    app: ClassVar[str] = "testchat"


@dataclass(frozen=True, kw_only=True)
class _Contact(ContactFields, Record):
    record_type: ClassVar[str] = "chat/test/contact"
    app: ClassVar[str] = "testchat"


SRC = SourceRef(item="EX-1", path="/data/app.db", sha256="0" * 64)


def test_a_message_with_attachments_is_json_with_raw_values() -> None:
    msg = _Msg(
        source=SRC,
        locator="messages.rowid=7",
        rowid=7,
        timestamp=from_unix_ms(1_296_000_000_123),
        body="Meet [at pier 7]",
        from_me=False,
        sender="+1 555 0100",
        recipients=("owner",),
        attachments=(Attachment(name="IMG_1.jpg", mime="image/jpeg", recorded_path="Media/IMG_1.jpg"),),
        status=13,
        deleted=True,
    )
    data = record_to_dict(msg)
    assert data["record_type"] == "chat/test/message"
    assert (
        data["timestamp"]["raw"] == 1_296_000_000_123
        and data["timestamp"]["utc"] == "2011-01-26T00:00:00.123000Z"
    )
    assert data["attachments"] == [
        {
            "name": "IMG_1.jpg",
            "mime": "image/jpeg",
            "recorded_path": "Media/IMG_1.jpg",
            "path": None,
            "size": None,
            "sha256": None,
        }
    ]
    assert data["recipients"] == ["owner"] and data["deleted"] is True and data["status"] == 13
    assert "app" not in data  # a class attribute: the app is the record type's, not a stored value
    json.dumps(data)


def test_calls_and_contacts_share_their_fields() -> None:
    call = record_to_dict(_Call(source=SRC, duration=61, party="+15550100", from_me=True, video=False))
    contact = record_to_dict(
        _Contact(source=SRC, name="Ana", phones=("+1 555 0100",), emails=("a@example.org",))
    )
    assert {"timestamp", "duration", "party", "from_me", "status", "video", "deleted", "account"} <= set(call)
    assert contact["phones"] == ["+1 555 0100"] and contact["emails"] == ["a@example.org"]


def test_a_time_whose_raw_value_is_bytes_is_json() -> None:
    """Found by bench/fuzz_triage.py (seed 2029): a damaged Chrome History stored a BLOB in a time
    column; the TimeValue kept the bytes raw and storing the record failed with a TypeError (an
    internal error of the whole run). Raw bytes inside a time, a source or an attachment are hex."""
    from triage.plugin.timeconv import from_webkit_us

    msg = _Msg(source=SRC, rowid=1, timestamp=from_webkit_us(b"\x00\x01\xff"))  # type: ignore[arg-type]
    data = record_to_dict(msg)
    assert data["timestamp"]["raw"] == {"hex": "0001ff"}
    json.dumps(data)
