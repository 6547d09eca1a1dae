"""WhatsApp messages on iOS, from the Core Data store ``ChatStorage.sqlite``.

``ZWAMESSAGE`` holds one row per message (text, media, location, group/system events);
``ZWACHATSESSION`` names the conversation (contact or group JID and display name);
``ZWAMEDIAITEM`` holds media paths and, for location messages only, the coordinates (for photos
the same ``ZLATITUDE``/``ZLONGITUDE`` columns hold other numbers, so they are read as a position
only when the message type is 5, location). ``ZWAGROUPMEMBER`` names the sender in groups.
Times are Core Data TIMESTAMP columns: seconds since 2001-01-01 UTC (Cocoa), often fractional.

Expected on the public corpus (``chats/whatsapp_ios_ChatStorage.sqlite``, Josh Hickman's iOS 15
image via iLEAPP's test case): 32 messages in 5 chats, matching iLEAPP's output in
``chats/expected/whatsapp_ios_messages.json`` row for row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    GeoFields,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    from_cocoa_seconds,
    read_rows,
    sqlite_signature,
)

MESSAGE_TYPE_LABELS: Mapping[object, str] = {
    0: "text",
    1: "image",
    2: "video",
    3: "audio",
    4: "contact",
    5: "location",
    6: "group event",
    7: "link",
    8: "document",
}

LOCATION = 5


@dataclass(frozen=True, kw_only=True)
class WhatsAppIosMessage(MessageFields, GeoFields, Record):
    """One ``ZWAMESSAGE`` row joined with its chat, group member and media item.

    ``timestamp`` is ``ZMESSAGEDATE``; ``sent_time`` is ``ZSENTDATE`` (set for messages that went
    through the server). ``party``/``conversation`` are the chat's JID; ``latitude``/``longitude``
    are set only for location messages.
    """

    record_type: ClassVar[str] = "chat/ios/whatsapp/message"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"message_type": MESSAGE_TYPE_LABELS}

    rowid: int
    sent_time: TimeValue | None = None
    message_type: int | None = None
    group_event_type: int | None = None
    from_jid: str | None = None
    to_jid: str | None = None
    chat_jid: str | None = None
    chat_name: str | None = None
    group_member_jid: str | None = None
    group_member_name: str | None = None
    starred: int | None = None
    stanza_id: str | None = None
    media_local_path: str | None = None
    media_thumbnail_path: str | None = None
    media_url: str | None = None
    media_size: int | None = None
    media_title: str | None = None


MESSAGES = Table(
    "ZWAMESSAGE",
    key="Z_PK",
    required=("ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZCHATSESSION"),
    optional=(
        "ZMESSAGETYPE",
        "ZGROUPEVENTTYPE",
        "ZSENTDATE",
        "ZFROMJID",
        "ZTOJID",
        "ZSTARRED",
        "ZSTANZAID",
        "ZGROUPMEMBER",
        "ZMEDIAITEM",
    ),
)
SESSIONS = Table("ZWACHATSESSION", key="Z_PK", required=("ZCONTACTJID",), optional=("ZPARTNERNAME",))
MEMBERS = Table("ZWAGROUPMEMBER", key="Z_PK", optional=("ZMEMBERJID", "ZCONTACTNAME"))
MEDIA = Table(
    "ZWAMEDIAITEM",
    key="Z_PK",
    optional=(
        "ZLATITUDE",
        "ZLONGITUDE",
        "ZMEDIALOCALPATH",
        "ZXMPPTHUMBPATH",
        "ZMEDIAURL",
        "ZFILESIZE",
        "ZTITLE",
    ),
)


@dataclass(frozen=True)
class Lookups:
    """Chats, group members and media items by ``Z_PK``: one row each per chat, member or
    attachment, held in memory for the file (messages outnumber them)."""

    sessions: dict[object, sqlite3.Row]
    members: dict[object, sqlite3.Row]
    media: dict[object, sqlite3.Row]


class WhatsAppIosPlugin(SqliteTablePlugin[Lookups]):
    """Reads WhatsApp messages, chats, group senders and media references on iOS."""

    name = "whatsapp_ios"
    version = "1.0.0"
    description = "WhatsApp messages on iOS (ChatStorage.sqlite: ZWAMESSAGE + chat, member, media)"
    tables = (MESSAGES,)
    targets = Targets(
        globs=("**/ChatStorage.sqlite",),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables, SESSIONS),
    )
    emits = (WhatsAppIosMessage,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """The chat sessions, group members and media items (the last two absent in old stores)."""
        return Lookups(
            sessions={row["Z_PK"]: row for row in read_rows(con, ctx, SESSIONS)},
            members={row["Z_PK"]: row for row in read_rows(con, ctx, MEMBERS)},
            media={row["Z_PK"]: row for row in read_rows(con, ctx, MEDIA)},
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> WhatsAppIosMessage:
        """One ``ZWAMESSAGE`` row with its chat, group member and media item."""
        session = at.lookups.sessions.get(row["ZCHATSESSION"])
        if row["ZCHATSESSION"] is not None and session is None:
            at.warn(f"chat session {row['ZCHATSESSION']} not found")
        chat_jid = _get(session, "ZCONTACTJID")
        member = at.lookups.members.get(row["ZGROUPMEMBER"])
        media = at.lookups.media.get(row["ZMEDIAITEM"])
        is_location = row["ZMESSAGETYPE"] == LOCATION
        return WhatsAppIosMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            timestamp=from_cocoa_seconds(row["ZMESSAGEDATE"]),
            sent_time=from_cocoa_seconds(row["ZSENTDATE"]),
            body=row["ZTEXT"],
            from_me=None if row["ZISFROMME"] is None else bool(row["ZISFROMME"]),
            party=chat_jid,
            conversation=chat_jid,
            message_type=row["ZMESSAGETYPE"],
            group_event_type=row["ZGROUPEVENTTYPE"],
            from_jid=row["ZFROMJID"],
            to_jid=row["ZTOJID"],
            chat_jid=chat_jid,
            chat_name=_get(session, "ZPARTNERNAME"),
            group_member_jid=_get(member, "ZMEMBERJID"),
            group_member_name=_get(member, "ZCONTACTNAME"),
            starred=row["ZSTARRED"],
            stanza_id=row["ZSTANZAID"],
            media_local_path=_str(_get(media, "ZMEDIALOCALPATH")),
            media_thumbnail_path=_str(_get(media, "ZXMPPTHUMBPATH")),
            media_url=_str(_get(media, "ZMEDIAURL")),
            media_size=_int(_get(media, "ZFILESIZE")),
            media_title=_str(_get(media, "ZTITLE")),
            latitude=_float(_get(media, "ZLATITUDE")) if is_location else None,
            longitude=_float(_get(media, "ZLONGITUDE")) if is_location else None,
        )


def _get(row: sqlite3.Row | None, column: str) -> Any:
    """``row[column]``, or None when there is no row (a message without chat, member or media)."""
    return None if row is None else row[column]


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
