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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    FileItem,
    GeoFields,
    MessageFields,
    ParseContext,
    Plugin,
    Record,
    SqliteSignature,
    Targets,
    TimeValue,
    from_cocoa_seconds,
    select_list,
    table_columns,
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


_MESSAGE_COLUMNS = (
    "Z_PK",
    "ZISFROMME",
    "ZMESSAGETYPE",
    "ZGROUPEVENTTYPE",
    "ZMESSAGEDATE",
    "ZSENTDATE",
    "ZFROMJID",
    "ZTOJID",
    "ZTEXT",
    "ZSTARRED",
    "ZSTANZAID",
    "ZCHATSESSION",
    "ZGROUPMEMBER",
    "ZMEDIAITEM",
)


class WhatsAppIosPlugin(Plugin):
    """Reads WhatsApp messages, chats, group senders and media references on iOS."""

    name = "whatsapp_ios"
    version = "1.0.0"
    description = "WhatsApp messages on iOS (ChatStorage.sqlite: ZWAMESSAGE + chat, member, media)"
    targets = Targets(
        globs=("**/ChatStorage.sqlite",),
        magic=(SQLITE_MAGIC,),
        sqlite=SqliteSignature.of(
            ZWAMESSAGE=("Z_PK", "ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZCHATSESSION"),
            ZWACHATSESSION=("Z_PK", "ZCONTACTJID"),
        ),
    )
    emits = (WhatsAppIosMessage,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[WhatsAppIosMessage]:
        con = ctx.open_sqlite(item)
        sessions = {
            row[0]: (row[1], row[2])
            for row in con.execute(
                "SELECT Z_PK, ZCONTACTJID, "
                f"{select_list(table_columns(con, 'ZWACHATSESSION'), ['ZPARTNERNAME'])} FROM ZWACHATSESSION"
            )
        }
        members: dict[int, tuple[str | None, str | None]] = {}
        member_cols = table_columns(con, "ZWAGROUPMEMBER")
        if member_cols:
            query = (
                f"SELECT Z_PK, {select_list(member_cols, ['ZMEMBERJID', 'ZCONTACTNAME'])} FROM ZWAGROUPMEMBER"
            )
            members = {row[0]: (row[1], row[2]) for row in con.execute(query)}
        media: dict[int, dict[str, object]] = {}
        media_cols = table_columns(con, "ZWAMEDIAITEM")
        if media_cols:
            wanted = [
                "ZLATITUDE",
                "ZLONGITUDE",
                "ZMEDIALOCALPATH",
                "ZXMPPTHUMBPATH",
                "ZMEDIAURL",
                "ZFILESIZE",
                "ZTITLE",
            ]
            query = f"SELECT Z_PK, {select_list(media_cols, wanted)} FROM ZWAMEDIAITEM"
            media = {row[0]: dict(zip(wanted, tuple(row)[1:], strict=True)) for row in con.execute(query)}

        cols = table_columns(con, "ZWAMESSAGE")
        query = f"SELECT {select_list(cols, _MESSAGE_COLUMNS)} FROM ZWAMESSAGE ORDER BY Z_PK"
        for row in con.execute(query):
            pk = row["Z_PK"]
            chat_jid, chat_name = sessions.get(row["ZCHATSESSION"], (None, None))
            if row["ZCHATSESSION"] is not None and row["ZCHATSESSION"] not in sessions:
                ctx.warn(f"chat session {row['ZCHATSESSION']} not found", locator=f"ZWAMESSAGE.Z_PK={pk}")
            member_jid, member_name = members.get(row["ZGROUPMEMBER"], (None, None))
            m = media.get(row["ZMEDIAITEM"], {})
            is_location = row["ZMESSAGETYPE"] == LOCATION
            from_me = None if row["ZISFROMME"] is None else bool(row["ZISFROMME"])
            yield WhatsAppIosMessage(
                source=item.source,
                locator=f"ZWAMESSAGE.Z_PK={pk}",
                rowid=pk,
                timestamp=from_cocoa_seconds(row["ZMESSAGEDATE"]),
                sent_time=from_cocoa_seconds(row["ZSENTDATE"]),
                body=row["ZTEXT"],
                from_me=from_me,
                party=chat_jid,
                conversation=chat_jid,
                message_type=row["ZMESSAGETYPE"],
                group_event_type=row["ZGROUPEVENTTYPE"],
                from_jid=row["ZFROMJID"],
                to_jid=row["ZTOJID"],
                chat_jid=chat_jid,
                chat_name=chat_name,
                group_member_jid=member_jid,
                group_member_name=member_name,
                starred=row["ZSTARRED"],
                stanza_id=row["ZSTANZAID"],
                media_local_path=_str(m.get("ZMEDIALOCALPATH")),
                media_thumbnail_path=_str(m.get("ZXMPPTHUMBPATH")),
                media_url=_str(m.get("ZMEDIAURL")),
                media_size=_int(m.get("ZFILESIZE")),
                media_title=_str(m.get("ZTITLE")),
                latitude=_float(m.get("ZLATITUDE")) if is_location else None,
                longitude=_float(m.get("ZLONGITUDE")) if is_location else None,
            )


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
