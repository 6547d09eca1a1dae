"""WhatsApp on iOS: messages (``ChatStorage.sqlite``), contacts (``ContactsV2.sqlite``) and calls
(``CallHistory.sqlite``), all in the app group folder
``/private/var/mobile/Containers/Shared/AppGroup/<UUID>/``.

**Messages.** ``ZWAMESSAGE`` holds one row per message (text, media, location, group/system
events); ``ZWACHATSESSION`` names the conversation (contact or group JID and display name);
``ZWAMEDIAITEM`` holds media paths and, for location messages only, the coordinates (for photos
the same ``ZLATITUDE``/``ZLONGITUDE`` columns hold other numbers, the pixel size, so they are read
as a position only when the message type is 5, location). ``ZWAGROUPMEMBER`` names the sender in
groups, and each of its rows is also reported as a group member (``chat/ios/whatsapp/group-member``:
chat, member JID, name, admin and active flags). Times are Core Data TIMESTAMP columns: seconds
since 2001-01-01 UTC (Cocoa), often fractional. ``sender`` is the group member (or ``ZFROMJID``,
or the chat's JID) for received messages and ``None`` for the owner's. The store does not hold
the owner's own JID: ``account`` (with ``account_name`` and ``account_from``, the file) is read
from the app group's ``Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist``
(``OwnJabberID``, see :func:`plugins.chat._whatsapp.ios_owner`), for messages and calls, and is
``None`` when the extraction lacks it; ``recipients`` is the chat's JID for the owner's
messages; ``party`` is the chat's JID in one-to-one chats only; ``status`` is the raw
``ZMESSAGESTATUS``. A media item's ``ZMEDIALOCALPATH`` (``Media/<jid>/x/y/<uuid>.jpg``) is relative
to the app group's ``Message/`` folder: the files are found with one ``find`` of
``Message/Media/**`` beside the database, and the attachment gives the file's evidence path and
size, or ``None`` when it is not in the evidence. ``ZVCARDSTRING`` holds the media MIME type
(``image/jpeg``) except on contact cards, where it is the vCard; it is the attachment's ``mime``
only when it has the form of a MIME type.

Expected on the public corpus (``chats/whatsapp_ios_ChatStorage.sqlite``, Josh Hickman's iOS 15
image via iLEAPP's test case): 32 messages in 5 chats, matching iLEAPP's output in
``chats/expected/whatsapp_ios_messages.json`` row for row; 8 group members. Its media files are
not in the corpus, so its attachments are recorded without a path.

**Contacts.** ``ContactsV2.sqlite``, ``ZWAADDRESSBOOKCONTACT``: one row per phone number of an
address-book contact (a contact with two numbers has two rows, the same ``ZIDENTIFIER``), with
``ZFULLNAME``, ``ZPHONENUMBER``, ``ZPHONENUMBERLABEL`` (Apple's stored form, ``_$!<Mobile>!$_``,
labelled at render time; a custom label such as ``TextNow`` is stored as typed), ``ZWHATSAPPID``
(the JID, when the number is on WhatsApp), ``ZABOUTTEXT`` and ``ZABOUTTIMESTAMP`` (Cocoa seconds).
The corpus has iLEAPP's output for such a file (``chats/expected/whatsapp_ios_contacts.json``,
9 contacts) but not the file; the test rebuilds it from those rows and compares.

**Calls.** ``CallHistory.sqlite``: ``ZWACDCALLEVENT`` is one call (``ZDATE`` Cocoa seconds,
``ZDURATION`` seconds, ``ZOUTCOME`` raw; the labels ended/missed/rejected for 0/1/4 are iLEAPP's
observation, not a vendor definition), ``ZWAAGGREGATECALLEVENT`` the group of calls it belongs to
(``Z1CALLEVENTS``: ``ZINCOMING``, ``ZVIDEO``, ``ZMISSED``), and ``ZWACDCALLEVENTPARTICIPANT`` the
other parties, joined on ``Z1PARTICIPANTS = Z1CALLEVENTS`` as iLEAPP's WhatsApp module does. An
aggregate can cover several calls, so its flags describe the group. ``from_me`` is ``not
ZINCOMING``; where the aggregate is missing it is derived from ``ZGROUPCALLCREATORUSERJIDSTRING``
(the creator is a participant: incoming). No real CallHistory.sqlite is in the corpus: the test
builds one from the columns iLEAPP's published query reads.
"""

from __future__ import annotations

import copy
import posixpath
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from plugins.chat._whatsapp import MediaIndex, OwnerFields, as_int, as_text, ios_owner, owner_fields
from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    CallFields,
    ContactFields,
    FileItem,
    GeoFields,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    build_record,
    from_cocoa_seconds,
    read_rows,
    sqlite_signature,
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
_GROUP_SERVER = "@g.us"
_MIME = re.compile(r"^[a-z]+/[A-Za-z0-9.+_-]+$")


@dataclass(frozen=True, kw_only=True)
class WhatsAppIosMessage(MessageFields, GeoFields, Record):
    """One ``ZWAMESSAGE`` row joined with its chat, group member and media item.

    ``timestamp`` is ``ZMESSAGEDATE``; ``sent_time`` is ``ZSENTDATE`` (set for messages that went
    through the server). ``conversation``/``chat_jid`` are the chat's JID; ``latitude``/``longitude``
    are set only for location messages; ``media_size`` is the size the app recorded.
    """

    record_type: ClassVar[str] = "chat/ios/whatsapp/message"
    app: ClassVar[str] = "whatsapp"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"message_type": MESSAGE_TYPE_LABELS}

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
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
    account_name: str | None = None
    account_from: str | None = None


@dataclass(frozen=True, kw_only=True)
class WhatsAppIosGroupMember(Record):
    """One ``ZWAGROUPMEMBER`` row: a member (``member_jid``, ``@s.whatsapp.net`` or ``@lid``) of
    the group chat ``chat_jid``, with the flags as stored (1/0)."""

    record_type: ClassVar[str] = "chat/ios/whatsapp/group-member"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "is_admin": {0: "member", 1: "admin"},
        "is_active": {0: "left", 1: "active"},
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    chat_jid: str | None = None
    chat_name: str | None = None
    member_jid: str | None = None
    contact_name: str | None = None
    first_name: str | None = None
    is_admin: int | None = None
    is_active: int | None = None


MESSAGES = Table(
    "ZWAMESSAGE",
    key="Z_PK",
    required=("ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZCHATSESSION"),
    optional=(
        "ZMESSAGETYPE",
        "ZGROUPEVENTTYPE",
        "ZMESSAGESTATUS",
        "ZSENTDATE",
        "ZFROMJID",
        "ZTOJID",
        "ZSTARRED",
        "ZSTANZAID",
        "ZGROUPMEMBER",
        "ZMEDIAITEM",
    ),
    label="WhatsApp message",
)
SESSIONS = Table("ZWACHATSESSION", key="Z_PK", required=("ZCONTACTJID",), optional=("ZPARTNERNAME",))
MEMBERS = Table(
    "ZWAGROUPMEMBER",
    key="Z_PK",
    optional=("ZMEMBERJID", "ZCONTACTNAME", "ZFIRSTNAME", "ZCHATSESSION", "ZISADMIN", "ZISACTIVE"),
    label="WhatsApp group member",
)
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
        "ZVCARDSTRING",
    ),
)


@dataclass(frozen=True)
class Lookups:
    """Chats, group members and media items by ``Z_PK``: one row each per chat, member or
    attachment, held in memory for the file (messages outnumber them); and the media files found
    in the evidence."""

    sessions: dict[object, sqlite3.Row]
    members: dict[object, sqlite3.Row]
    media: dict[object, sqlite3.Row]
    files: MediaIndex
    owner: OwnerFields  # account, account_name, account_from (empty when unknown)


class WhatsAppIosPlugin(SqliteTablePlugin[Lookups]):
    """Reads WhatsApp messages, chats, group senders, group members and media files on iOS."""

    name = "whatsapp_ios"
    version = "1.3.0"
    description = (
        "WhatsApp messages and group members on iOS (ChatStorage.sqlite: ZWAMESSAGE + chat, member, media)"
    )
    tables = (MESSAGES, MEMBERS)
    targets = Targets(
        globs=("**/ChatStorage.sqlite",),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(MESSAGES, SESSIONS),
    )
    emits = (WhatsAppIosMessage, WhatsAppIosGroupMember)
    _item: FileItem | None = None  # the file being parsed (set on a per-file copy by parse)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """As the base, on a per-file copy that knows the file (for finding its media)."""
        run = copy.copy(self)
        run._item = item
        yield from super(WhatsAppIosPlugin, run).parse(item, ctx)

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        """The messages, and the group members where the store has that table (old ones do not)."""
        return (MESSAGES, MEMBERS) if table_columns(con, MEMBERS.name) else (MESSAGES,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """The chat sessions, group members and media items (the last two absent in old stores),
        and the files under the app group's ``Message/Media``."""
        if self._item is None:
            raise RuntimeError("lookups() is called through parse()")
        folder = posixpath.dirname(self._item.path).rstrip("/") + "/Message/"
        files = MediaIndex.build(
            self._item, ctx, "Message/Media/**", lambda p: p[len(folder) :] if p.startswith(folder) else None
        )
        return Lookups(
            sessions={row["Z_PK"]: row for row in read_rows(con, ctx, SESSIONS)},
            members={row["Z_PK"]: row for row in read_rows(con, ctx, MEMBERS)},
            media={row["Z_PK"]: row for row in read_rows(con, ctx, MEDIA)},
            files=files,
            owner=owner_fields(ios_owner(self._item, ctx)),
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """One ``ZWAMESSAGE`` row with its chat, group member and media item, or one member."""
        if at.table == MEMBERS.name:
            return self._member(row, at)
        session = at.lookups.sessions.get(row["ZCHATSESSION"])
        if row["ZCHATSESSION"] is not None and session is None:
            at.warn(f"chat session {row['ZCHATSESSION']} not found")
        chat_jid = _str(_get(session, "ZCONTACTJID"))
        group = chat_jid is not None and chat_jid.endswith(_GROUP_SERVER)
        member = at.lookups.members.get(row["ZGROUPMEMBER"])
        member_jid = _str(_get(member, "ZMEMBERJID"))
        media = at.lookups.media.get(row["ZMEDIAITEM"])
        is_location = row["ZMESSAGETYPE"] == LOCATION
        from_me = None if row["ZISFROMME"] is None else bool(row["ZISFROMME"])
        from_jid = as_text(row["ZFROMJID"])
        if from_me:
            sender, recipients = None, (chat_jid,) if chat_jid else ()
        else:
            sender, recipients = member_jid or from_jid or (None if group else chat_jid), ()
        local_path = as_text(_get(media, "ZMEDIALOCALPATH"))
        attachments: tuple[Attachment, ...] = ()
        if local_path is not None:
            mime = as_text(_get(media, "ZVCARDSTRING"))
            attachments = (
                at.lookups.files.attachment(
                    local_path, local_path, mime=mime if mime is not None and _MIME.match(mime) else None
                ),
            )
        return build_record(
            WhatsAppIosMessage,
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            timestamp=from_cocoa_seconds(row["ZMESSAGEDATE"]),
            sent_time=from_cocoa_seconds(row["ZSENTDATE"]),
            body=row["ZTEXT"],
            from_me=from_me,
            party=None if group else chat_jid,
            conversation=chat_jid,
            conversation_title=_str(_get(session, "ZPARTNERNAME")),
            sender=sender,
            recipients=recipients,
            attachments=attachments,
            status=row["ZMESSAGESTATUS"],
            message_type=row["ZMESSAGETYPE"],
            group_event_type=row["ZGROUPEVENTTYPE"],
            from_jid=row["ZFROMJID"],
            to_jid=row["ZTOJID"],
            chat_jid=chat_jid,
            chat_name=_get(session, "ZPARTNERNAME"),
            group_member_jid=member_jid,
            group_member_name=_get(member, "ZCONTACTNAME"),
            starred=row["ZSTARRED"],
            stanza_id=row["ZSTANZAID"],
            media_local_path=local_path,
            media_thumbnail_path=_str(_get(media, "ZXMPPTHUMBPATH")),
            media_url=_str(_get(media, "ZMEDIAURL")),
            media_size=_int(_get(media, "ZFILESIZE")),
            media_title=_str(_get(media, "ZTITLE")),
            latitude=_float(_get(media, "ZLATITUDE")) if is_location else None,
            longitude=_float(_get(media, "ZLONGITUDE")) if is_location else None,
            **at.lookups.owner,
        )

    def _member(self, row: sqlite3.Row, at: RowContext[Lookups]) -> WhatsAppIosGroupMember:
        session = at.lookups.sessions.get(row["ZCHATSESSION"])
        if row["ZCHATSESSION"] is not None and session is None:
            at.warn(f"chat session {row['ZCHATSESSION']} not found")
        return WhatsAppIosGroupMember(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            chat_jid=_str(_get(session, "ZCONTACTJID")),
            chat_name=_str(_get(session, "ZPARTNERNAME")),
            member_jid=as_text(row["ZMEMBERJID"]),
            contact_name=as_text(row["ZCONTACTNAME"]),
            first_name=as_text(row["ZFIRSTNAME"]),
            is_admin=row["ZISADMIN"],
            is_active=row["ZISACTIVE"],
        )


# --- ContactsV2.sqlite ----------------------------------------------------------------------------

#: Apple's address-book label constants as stored (kABPersonPhone*Label); custom labels are text.
PHONE_LABELS: Mapping[object, str] = {
    "_$!<Mobile>!$_": "Mobile",
    "_$!<Main>!$_": "Main",
    "_$!<Home>!$_": "Home",
    "_$!<Work>!$_": "Work",
    "_$!<Other>!$_": "Other",
    "_$!<HomeFAX>!$_": "Home fax",
    "_$!<WorkFAX>!$_": "Work fax",
    "_$!<OtherFAX>!$_": "Other fax",
    "_$!<Pager>!$_": "Pager",
}


@dataclass(frozen=True, kw_only=True)
class WhatsAppIosContact(ContactFields, Record):
    """One ``ZWAADDRESSBOOKCONTACT`` row: an address-book contact's number as WhatsApp saw it.
    ``account_ids`` holds the JID (``ZWHATSAPPID``) and the LID (``ZLID``) when stored;
    ``about_time`` is ``ZABOUTTIMESTAMP``."""

    record_type: ClassVar[str] = "chat/ios/whatsapp/contact"
    app: ClassVar[str] = "whatsapp"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"phone_label": PHONE_LABELS}

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    identifier: str | None = None
    whatsapp_id: str | None = None
    lid: str | None = None
    given_name: str | None = None
    last_name: str | None = None
    business_name: str | None = None
    phone_number: str | None = None
    phone_label: str | None = None
    about: str | None = None
    about_time: TimeValue | None = None


CONTACTS = Table(
    "ZWAADDRESSBOOKCONTACT",
    key="Z_PK",
    required=("ZWHATSAPPID",),
    optional=(
        "ZFULLNAME",
        "ZGIVENNAME",
        "ZLASTNAME",
        "ZBUSINESSNAME",
        "ZPHONENUMBER",
        "ZPHONENUMBERLABEL",
        "ZIDENTIFIER",
        "ZLID",
        "ZABOUTTEXT",
        "ZABOUTTIMESTAMP",
    ),
    label="WhatsApp contacts",
)


class WhatsAppIosContactsPlugin(SqliteTablePlugin[None]):
    """Reads the address book WhatsApp keeps on iOS (ContactsV2.sqlite): names, numbers, JIDs,
    "about" texts."""

    name = "whatsapp_ios_contacts"
    version = "1.1.0"
    description = "WhatsApp contacts on iOS (ContactsV2.sqlite: ZWAADDRESSBOOKCONTACT)"
    tables = (CONTACTS,)
    targets = Targets(
        globs=("**/ContactsV2.sqlite",), magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables)
    )
    emits = (WhatsAppIosContact,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> WhatsAppIosContact:
        """One ``ZWAADDRESSBOOKCONTACT`` row."""
        jid, lid = as_text(row["ZWHATSAPPID"]), as_text(row["ZLID"])
        phone = as_text(row["ZPHONENUMBER"])
        return WhatsAppIosContact(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            name=as_text(row["ZFULLNAME"]),
            phones=(phone,) if phone else (),
            account_ids=tuple(i for i in (jid, lid) if i),
            identifier=as_text(row["ZIDENTIFIER"]),
            whatsapp_id=jid,
            lid=lid,
            given_name=as_text(row["ZGIVENNAME"]),
            last_name=as_text(row["ZLASTNAME"]),
            business_name=as_text(row["ZBUSINESSNAME"]),
            phone_number=phone,
            phone_label=as_text(row["ZPHONENUMBERLABEL"]),
            about=as_text(row["ZABOUTTEXT"]),
            about_time=from_cocoa_seconds(row["ZABOUTTIMESTAMP"]) if at.has("ZABOUTTIMESTAMP") else None,
        )


# --- CallHistory.sqlite ---------------------------------------------------------------------------

OUTCOME_LABELS: Mapping[object, str] = {0: "ended", 1: "missed", 4: "rejected"}


@dataclass(frozen=True, kw_only=True)
class WhatsAppIosCall(CallFields, Record):
    """One ``ZWACDCALLEVENT`` row: ``status`` is the raw ``ZOUTCOME``; ``participants`` the
    other parties' JIDs; ``party`` the only one in a one-to-one call; ``incoming``, ``missed``
    and ``video`` come from the aggregate event (``aggregate_id``) as stored."""

    record_type: ClassVar[str] = "chat/ios/whatsapp/call"
    app: ClassVar[str] = "whatsapp"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"status": OUTCOME_LABELS}

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    call_id: str | None = None
    participants: tuple[str, ...] = ()
    group_jid: str | None = None
    creator_jid: str | None = None
    aggregate_id: int | None = None
    incoming: int | None = None
    missed: int | None = None
    missed_reason: int | None = None
    bytes_sent: int | None = None
    bytes_received: int | None = None
    account_name: str | None = None
    account_from: str | None = None


CALL_EVENTS = Table(
    "ZWACDCALLEVENT",
    key="Z_PK",
    required=("ZDATE",),
    optional=(
        "Z1CALLEVENTS",
        "ZDURATION",
        "ZOUTCOME",
        "ZCALLIDSTRING",
        "ZGROUPCALLCREATORUSERJIDSTRING",
        "ZGROUPJIDSTRING",
        "ZBYTESSENT",
        "ZBYTESRECEIVED",
    ),
    label="WhatsApp call history",
)
AGGREGATES = Table(
    "ZWAAGGREGATECALLEVENT", key="Z_PK", optional=("ZINCOMING", "ZVIDEO", "ZMISSED", "ZMISSEDREASON")
)
CALL_PARTICIPANTS = Table("ZWACDCALLEVENTPARTICIPANT", key="Z_PK", optional=("Z1PARTICIPANTS", "ZJIDSTRING"))


@dataclass(frozen=True)
class CallLookups:
    """Aggregate events by ``Z_PK`` and participant JIDs by ``Z1PARTICIPANTS``."""

    aggregates: dict[object, sqlite3.Row]
    participants: dict[object, tuple[str, ...]]
    owner: OwnerFields  # account, account_name, account_from (empty when unknown)


class WhatsAppIosCallsPlugin(SqliteTablePlugin[CallLookups]):
    """Reads WhatsApp's call history on iOS (CallHistory.sqlite): time, duration, direction,
    outcome, video, participants."""

    name = "whatsapp_ios_calls"
    version = "1.2.0"
    description = "WhatsApp calls on iOS (CallHistory.sqlite: ZWACDCALLEVENT + aggregate, participants)"
    tables = (CALL_EVENTS,)
    targets = Targets(
        globs=("**/CallHistory.sqlite",), magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables)
    )
    emits = (WhatsAppIosCall,)
    _item: FileItem | None = None  # the file being parsed (set on a per-file copy by parse)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """As the base, on a per-file copy that knows the file (for the owner's preferences)."""
        run = copy.copy(self)
        run._item = item
        yield from super(WhatsAppIosCallsPlugin, run).parse(item, ctx)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> CallLookups:
        """The aggregate events and the participants (small next to the calls)."""
        grouped: dict[object, list[str]] = {}
        for row in read_rows(con, ctx, CALL_PARTICIPANTS):
            jid = as_text(row["ZJIDSTRING"])
            if jid is not None:
                grouped.setdefault(row["Z1PARTICIPANTS"], []).append(jid)
        return CallLookups(
            aggregates={row["Z_PK"]: row for row in read_rows(con, ctx, AGGREGATES)},
            participants={k: tuple(v) for k, v in grouped.items()},
            owner=owner_fields(ios_owner(self._item, ctx) if self._item is not None else None),
        )

    def record(self, row: sqlite3.Row, at: RowContext[CallLookups]) -> WhatsAppIosCall:
        """One ``ZWACDCALLEVENT`` row with its aggregate event and participants."""
        aggregate_id = row["Z1CALLEVENTS"]
        aggregate = at.lookups.aggregates.get(aggregate_id)
        if aggregate_id is not None and aggregate is None:
            at.warn(f"aggregate call event {aggregate_id} not found")
        participants = at.lookups.participants.get(aggregate_id, ()) if aggregate_id is not None else ()
        creator = as_text(row["ZGROUPCALLCREATORUSERJIDSTRING"])
        incoming = _get(aggregate, "ZINCOMING")
        if incoming is not None:
            from_me: bool | None = not incoming
        elif creator is not None and participants:
            from_me = creator not in participants
        else:
            from_me = None
        video = _get(aggregate, "ZVIDEO")
        duration = row["ZDURATION"]
        return WhatsAppIosCall(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            timestamp=from_cocoa_seconds(row["ZDATE"]),
            duration=duration if isinstance(duration, int | float) else None,
            from_me=from_me,
            party=participants[0] if len(participants) == 1 else None,
            status=row["ZOUTCOME"],
            video=None if video is None else bool(video),
            call_id=as_text(row["ZCALLIDSTRING"]),
            participants=participants,
            group_jid=as_text(row["ZGROUPJIDSTRING"]),
            creator_jid=creator,
            aggregate_id=aggregate_id,
            incoming=incoming,
            missed=_get(aggregate, "ZMISSED"),
            missed_reason=_get(aggregate, "ZMISSEDREASON"),
            bytes_sent=as_int(row["ZBYTESSENT"]),
            bytes_received=as_int(row["ZBYTESRECEIVED"]),
            **at.lookups.owner,
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
