"""Skype "classic" (the desktop client up to version 7, and the Android app before 2017): ``main.db``.

Where: one folder per Skype account, named after the account's Skype name, holding ``main.db``:
``%APPDATA%\\Skype\\<account>\\main.db`` on Windows (``C:\\Users\\<user>\\AppData\\Roaming\\Skype\\``),
``~/Library/Application Support/Skype/<account>/main.db`` on macOS, ``~/.Skype/<account>/main.db``
on Linux and ``/data/data/com.skype.raider/files/<account>/main.db`` on Android. (Skype 8 and
later, and the Windows Store app, keep their data elsewhere, in other formats: not read here.)
Any SQLite file with the tables and columns of :data:`SIGNATURE` is read,
whatever its name, since exported copies are often renamed.

What is read, one record per row, all times **Unix seconds** (UTC) as stored, 0 meaning "none":

- ``Messages`` -> ``chat/skype/message``: ``author`` (Skype name) and ``from_dispname``,
  ``body_xml`` kept raw (``body_xml``) and as plain text (``body``: the markup Skype writes,
  ``<a href>``, ``<ss type>`` emoticons, ``<quote>``, is dropped and ``&apos;``-style entities
  resolved; an ``<sms>``, ``<files>`` or ``<URIObject>`` element gives its ``alt`` text). The XML is
  parsed with the standard library wrapped in a root element, so a document type declaration,
  and with it any entity definition, cannot occur: text that does not parse is stripped of tags
  and unescaped instead. ``timestamp``; ``edited_timestamp`` and ``edited_by``; ``type``
  (``message_type``, SkypeKit's ``Message.TYPE``: 61 posted text, 60 emote, 64 SMS, 68 files,
  50 contact request, 51 granted authorisation, 10 added, 13 left, 30/39 call started/ended,
  ...), ``chatmsg_type`` (legacy code: 3 ordinary message, 7 SMS/file/emote, 18 call/contact
  event, ... as observed by Skyperious) and ``chatmsg_status`` (also ``status``: 1 sending,
  2 sent, 3 received, 4 read, the order of the legacy Skype API's chat message states; the corpus
  agrees, the owner's messages are 1 or 2, the partner's 4), SkypeKit's ``sending_status``
  (1 sending, 2 sent, 3 failed) and ``consumption_status`` (0 consumed, 1-3 unconsumed), raw with
  labels at render time.
  The thread: ``chatname`` (the legacy chat, a row of ``Chats``: ``friendlyname``, space-separated
  ``participants``, ``type`` 2 one-to-one dialog / 4 group, as observed) and ``convo_id`` (a row of
  ``Conversations``: ``identity``, the Skype name of the partner or the group's id, ``type`` 1
  dialog / 2 conference). ``conversation`` is the conversation's ``identity`` when ``convo_id``
  names one, else ``chatname``; ``conversation_title`` its ``displayname``, else the chat's
  ``friendlyname``. ``from_me`` compares ``author`` with the account's ``skypename``
  (``Accounts``; ``None`` without one); ``recipients`` are the chat's participants but the author
  (else ``dialog_partner``), the ``identities`` of an SMS message; ``party`` the partner of a
  one-to-one conversation.
- ``SMSes`` -> ``chat/skype/sms``: SMS sent through Skype: ``timestamp``, ``body``,
  ``target_numbers`` (space-separated: ``recipients``), ``type`` (SkypeKit ``SMS.TYPE``: 1
  incoming, 2 outgoing), ``status`` (6 delivered, ...), price, ``chatmsg_id`` (its ``Messages`` row).
- ``Calls`` with their ``CallMembers`` (``call_db_id`` = ``Calls.id``) -> ``chat/skype/call``:
  ``begin_timestamp`` (``timestamp``), ``is_incoming`` (``from_me`` is its negation),
  ``host_identity``, ``name``, ``topic``, ``is_conference``, ``duration``; per member ``identity``,
  ``dispname``, ``start_timestamp`` (when the member joined: ``accept_time`` is the earliest),
  ``call_duration`` (``duration`` when ``Calls.duration`` is empty), ``guid``, ``status``,
  ``videostatus``. ``party`` is the member of a one-to-one call.
- ``Transfers`` -> ``chat/skype/transfer`` (with the message fields, so they show in ``exhibit
  chats``): ``type`` (1 incoming, 2 outgoing), ``status`` (SkypeKit ``Transfer.STATUS``: 0 new,
  1 connecting, 2 waiting for accept, 3 transferring, 7 cancelled, 8 completed, 9 failed, ...),
  ``partner_handle``/``partner_dispname``, ``filepath``, ``filename``, ``filesize`` (stored as
  text), ``bytestransferred``, ``starttime``, ``accepttime``, ``finishtime``, ``convo_id``, and
  ``pk_id``/``parent_id`` (a transfer offered to several people has a parent row). The file is
  one :class:`~triage.plugin.Attachment` (name and recorded path; the evidence is not searched).
- ``Chats`` -> ``chat/skype/chat`` and ``Conversations`` with their ``Participants`` ->
  ``chat/skype/conversation``: the threads and who was in them.
- ``Accounts`` -> ``chat/skype/account`` and ``Contacts`` -> ``chat/skype/contact``, both with
  the contact fields: ``skypename``, ``fullname``/``displayname``, the phone numbers
  (``pstnnumber``, ``phone_home``, ``phone_office``, ``phone_mobile``, ``assigned_phone1-3``), the
  space-separated ``emails``, ``birthday`` raw (an integer ``YYYYMMDD``, 0 when unset), profile,
  last-online and last-used times.

Expected on the public corpus (``chats/skype_main.db``, plaso test data), as plaso's ``skype``
test says of the same file (24 events: 15 chat, 1 SMS, 1 account, 4 file-transfer, 3 call): 15
messages, 1 SMS (``+34123456789``, 2013-07-01 22:14:22), 1 account (``gen.beringer``), 2 transfers
of ``secret-project.pdf`` (69986 bytes; ``id`` 1090 offered 2013-10-24 21:49:32, status 2;
``id`` 1094 started and accepted 21:49:35, finished 21:49:37, status 8: plaso's four events),
1 call (``id`` 110 to ``european.bbq.competitor``, begun 2013-07-01 22:12:17, joined then, 646 s:
plaso's three events), 5 chats, 2 conversations and 2 contacts. The file was edited by hand for
the test: message 61 stores ``timestamp`` 13727168620 (ten times its SMS's time, the year 2405),
reported as stored.
"""

from __future__ import annotations

import html
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    CallFields,
    ContactFields,
    FileItem,
    GroupedRows,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    column_int,
    column_text,
    column_time,
    from_unix_seconds,
    read_rows,
    sqlite_signature,
    table_columns,
)

# --- labels (raw values kept; applied at render time) ---------------------------------------------

#: SkypeKit ``Message.TYPE`` (the ``Messages.type`` column).
MESSAGE_TYPE_LABELS: Mapping[object, str] = {
    2: "set metadata (topic, picture)",
    4: "spawned conference",
    10: "added participants",
    11: "added applicants",
    12: "removed participants",
    13: "left",
    21: "set rank",
    30: "call started",
    39: "call ended",
    50: "contact request",
    51: "granted authorisation",
    53: "blocked",
    60: "emote",
    61: "text",
    63: "posted contacts",
    64: "SMS",
    65: "alert",
    67: "voice message",
    68: "files",
    69: "invoice",
    110: "birthday",
}
#: Legacy ``chatmsg_type`` codes, as observed by Skyperious (suurjaak/Skyperious, skypedata.py).
CHATMSG_TYPE_LABELS: Mapping[object, str] = {
    1: "added participants",
    2: "added participants / file transfer notice",
    3: "ordinary message",
    4: "left",
    5: "changed topic",
    6: "accepted file transfer",
    7: "SMS, file transfer or emote",
    8: "sent contacts",
    11: "removed participants",
    15: "changed picture",
    18: "call, contact or transfer event",
}
#: ``chatmsg_status``: the legacy Skype API's chat message states, in their order (see the module).
CHATMSG_STATUS_LABELS: Mapping[object, str] = {1: "sending", 2: "sent", 3: "received", 4: "read"}
#: SkypeKit ``Message.SENDING_STATUS`` and ``Message.CONSUMPTION_STATUS``.
SENDING_STATUS_LABELS: Mapping[object, str] = {1: "sending", 2: "sent", 3: "failed to send"}
CONSUMPTION_STATUS_LABELS: Mapping[object, str] = {
    0: "consumed",
    1: "unconsumed (suppressed)",
    2: "unconsumed",
    3: "unconsumed (elevated)",
}
#: ``Chats.type``: 2 a one-to-one dialog, 4 a group chat (observed: corpus and published queries).
CHAT_TYPE_LABELS: Mapping[object, str] = {2: "dialog", 4: "group"}
#: SkypeKit ``Conversation.TYPE``.
CONVERSATION_TYPE_LABELS: Mapping[object, str] = {
    1: "dialog",
    2: "conference",
    3: "terminated conference",
    4: "legacy voice conference",
    5: "legacy shared group",
}
#: SkypeKit ``Transfer.TYPE`` and ``Transfer.STATUS``.
TRANSFER_TYPE_LABELS: Mapping[object, str] = {1: "incoming", 2: "outgoing"}
TRANSFER_STATUS_LABELS: Mapping[object, str] = {
    0: "new",
    1: "connecting",
    2: "waiting for accept",
    3: "transferring",
    4: "transferring over relay",
    5: "paused",
    6: "remotely paused",
    7: "cancelled",
    8: "completed",
    9: "failed",
    10: "placeholder",
    11: "offer from other instance",
    12: "cancelled by remote",
}
#: SkypeKit ``SMS.TYPE`` and ``SMS.STATUS``.
SMS_TYPE_LABELS: Mapping[object, str] = {
    1: "incoming",
    2: "outgoing",
    3: "confirmation code request",
    4: "confirmation code submit",
}
SMS_STATUS_LABELS: Mapping[object, str] = {
    1: "received",
    2: "read",
    3: "composing",
    4: "sending to server",
    5: "sent to server",
    6: "delivered",
    7: "some targets failed",
    8: "failed",
}
INCOMING_CALL_LABELS: Mapping[object, str] = {0: "outgoing", 1: "incoming"}

POSTED_SMS = 64
DIALOG_CHAT = 2
DIALOG_CONVERSATION = 1
OUTGOING = 2

# --- plain text of body_xml -----------------------------------------------------------------------

#: Elements whose ``alt`` attribute is the text Skype shows for them (their content is markup).
_ALT_ELEMENTS = frozenset({"sms", "files", "uriobject", "partlist", "contacts"})
_TAG = re.compile(r"<[^>]*>")


def plain_text(body_xml: str) -> str:
    """The text a reader sees in ``body_xml``: markup dropped, entities resolved.

    Parsed as the content of a wrapping element, so no ``<!DOCTYPE`` (hence no entity
    definition, no external entity) can be in effect; text that is not well-formed XML (a bare
    ``&``) is stripped of tags and HTML-unescaped instead.
    """
    if "<" not in body_xml and "&" not in body_xml:
        return body_xml
    try:
        root = ET.fromstring(f"<body>{body_xml}</body>")
    except ET.ParseError:
        return html.unescape(_TAG.sub("", body_xml))
    parts = [root.text or ""]
    for child in root:
        alt = child.get("alt")
        if child.tag.lower() in _ALT_ELEMENTS and alt is not None:
            parts.append(alt)
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SkypeMessage(MessageFields, Record):
    """One ``Messages`` row: ``timestamp``, ``author`` (``sender``), ``body`` (plain text) and
    ``body_xml`` (raw), the chat (``chatname``) and conversation (``convo_id``) it belongs to."""

    record_type: ClassVar[str] = "chat/skype/message"
    app: ClassVar[str] = "skype"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "message_type": MESSAGE_TYPE_LABELS,
        "chatmsg_type": CHATMSG_TYPE_LABELS,
        "chatmsg_status": CHATMSG_STATUS_LABELS,
        "status": CHATMSG_STATUS_LABELS,
        "sending_status": SENDING_STATUS_LABELS,
        "consumption_status": CONSUMPTION_STATUS_LABELS,
    }

    rowid: int
    author: str | None = None
    from_dispname: str | None = None
    body_xml: str | None = None
    chatname: str | None = None
    convo_id: int | None = None
    conversation_identity: str | None = None
    chat_participants: tuple[str, ...] = ()
    dialog_partner: str | None = None
    identities: str | None = None
    edited_by: str | None = None
    edited_time: TimeValue | None = None
    message_type: int | None = None
    chatmsg_type: int | None = None
    chatmsg_status: int | None = None
    sending_status: int | None = None
    consumption_status: int | None = None
    reason: str | None = None
    leavereason: int | None = None
    participant_count: int | None = None
    remote_id: int | None = None
    call_guid: str | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeSms(MessageFields, Record):
    """One ``SMSes`` row: an SMS sent (or received) through Skype; ``recipients`` are its
    ``target_numbers``; ``chatmsg_id`` the ``Messages`` row that shows it in a chat."""

    record_type: ClassVar[str] = "chat/skype/sms"
    app: ClassVar[str] = "skype"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "sms_type": SMS_TYPE_LABELS,
        "sms_status": SMS_STATUS_LABELS,
        "status": SMS_STATUS_LABELS,
    }

    rowid: int
    sms_type: int | None = None
    sms_status: int | None = None
    target_numbers: str | None = None
    failure_reason: int | None = None
    price: int | None = None
    price_precision: int | None = None
    price_currency: str | None = None
    chatmsg_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeCall(CallFields, Record):
    """One ``Calls`` row and its ``CallMembers``: ``timestamp`` is ``begin_timestamp``,
    ``accept_time`` the earliest member ``start_timestamp``, ``duration`` seconds."""

    record_type: ClassVar[str] = "chat/skype/call"
    app: ClassVar[str] = "skype"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"is_incoming": INCOMING_CALL_LABELS}

    rowid: int
    accept_time: TimeValue | None = None
    is_incoming: int | None = None
    host_identity: str | None = None
    call_name: str | None = None
    topic: str | None = None
    is_conference: int | None = None
    call_type: int | None = None
    calls_duration: int | None = None
    members: tuple[str, ...] = ()
    member_names: tuple[str, ...] = ()
    member_durations: tuple[int | None, ...] = ()
    member_guids: tuple[str, ...] = ()
    member_statuses: tuple[int | None, ...] = ()
    member_videostatuses: tuple[int | None, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SkypeTransfer(MessageFields, Record):
    """One ``Transfers`` row: a file sent or offered (``attachments`` holds it); ``timestamp`` is
    ``starttime``; ``party`` the ``partner_handle``."""

    record_type: ClassVar[str] = "chat/skype/transfer"
    app: ClassVar[str] = "skype"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "transfer_type": TRANSFER_TYPE_LABELS,
        "transfer_status": TRANSFER_STATUS_LABELS,
        "status": TRANSFER_STATUS_LABELS,
    }

    rowid: int
    transfer_type: int | None = None
    transfer_status: int | None = None
    partner_handle: str | None = None
    partner_dispname: str | None = None
    filepath: str | None = None
    filename: str | None = None
    filesize: int | str | None = None
    bytes_transferred: int | str | None = None
    accept_time: TimeValue | None = None
    finish_time: TimeValue | None = None
    convo_id: int | None = None
    pk_id: int | None = None
    parent_id: int | None = None
    offer_send_list: str | None = None
    failure_reason: int | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeChat(Record):
    """One ``Chats`` row: a legacy chat (``name``, what messages call ``chatname``) and its people."""

    record_type: ClassVar[str] = "chat/skype/chat"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"chat_type": CHAT_TYPE_LABELS}

    rowid: int
    name: str | None = None
    friendlyname: str | None = None
    topic: str | None = None
    chat_type: int | None = None
    participants: tuple[str, ...] = ()
    posters: tuple[str, ...] = ()
    active_members: tuple[str, ...] = ()
    dialog_partner: str | None = None
    adder: str | None = None
    created: TimeValue | None = None
    activity_time: TimeValue | None = None
    conv_dbid: int | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeConversation(Record):
    """One ``Conversations`` row and its ``Participants``: the thread messages name by ``convo_id``."""

    record_type: ClassVar[str] = "chat/skype/conversation"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"conversation_type": CONVERSATION_TYPE_LABELS}

    rowid: int
    identity: str | None = None
    conversation_type: int | None = None
    displayname: str | None = None
    given_displayname: str | None = None
    meta_topic: str | None = None
    participants: tuple[str, ...] = ()
    created: TimeValue | None = None
    last_activity_time: TimeValue | None = None
    inbox_time: TimeValue | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeContact(ContactFields, Record):
    """One ``Contacts`` row: ``account_ids`` holds the ``skypename``; ``birthday`` raw (YYYYMMDD)."""

    record_type: ClassVar[str] = "chat/skype/contact"
    app: ClassVar[str] = "skype"

    rowid: int
    skypename: str | None = None
    fullname: str | None = None
    displayname: str | None = None
    given_displayname: str | None = None
    pstnnumber: str | None = None
    phone_home: str | None = None
    phone_office: str | None = None
    phone_mobile: str | None = None
    emails_raw: str | None = None
    birthday: int | str | None = None
    gender: int | None = None
    country: str | None = None
    province: str | None = None
    city: str | None = None
    languages: str | None = None
    homepage: str | None = None
    about: str | None = None
    mood_text: str | None = None
    profile_time: TimeValue | None = None
    lastonline_time: TimeValue | None = None
    lastused_time: TimeValue | None = None
    contact_type: int | None = None
    buddystatus: int | None = None
    isauthorized: int | None = None
    isblocked: int | None = None


@dataclass(frozen=True, kw_only=True)
class SkypeAccount(SkypeContact):
    """One ``Accounts`` row: the owner of this ``main.db`` (``account`` is the ``skypename``)."""

    record_type: ClassVar[str] = "chat/skype/account"
    app: ClassVar[str] = "skype"

    liveid_membername: str | None = None
    registration_timestamp: int | None = None


# --- tables ---------------------------------------------------------------------------------------

MESSAGES = Table(
    "Messages",
    key="id",
    required=("chatname", "author", "timestamp", "body_xml"),
    optional=(
        "convo_id",
        "from_dispname",
        "dialog_partner",
        "edited_by",
        "edited_timestamp",
        "type",
        "chatmsg_type",
        "chatmsg_status",
        "sending_status",
        "consumption_status",
        "identities",
        "reason",
        "leavereason",
        "participant_count",
        "remote_id",
        "call_guid",
    ),
    label="Skype message",
)
SMSES = Table(
    "SMSes",
    key="id",
    optional=(
        "type",
        "status",
        "failurereason",
        "timestamp",
        "price",
        "price_precision",
        "price_currency",
        "target_numbers",
        "body",
        "chatmsg_id",
    ),
    label="Skype SMS",
)
CALLS = Table(
    "Calls",
    key="id",
    required=("begin_timestamp",),
    optional=("is_incoming", "host_identity", "name", "topic", "is_conference", "type", "duration"),
    label="Skype call",
)
CALL_MEMBERS = Table(
    "CallMembers",
    key="id",
    optional=(
        "call_db_id",
        "identity",
        "dispname",
        "call_duration",
        "start_timestamp",
        "guid",
        "status",
        "videostatus",
    ),
    label="Skype call member",
)
TRANSFERS = Table(
    "Transfers",
    key="id",
    optional=(
        "type",
        "status",
        "failurereason",
        "partner_handle",
        "partner_dispname",
        "starttime",
        "accepttime",
        "finishtime",
        "filepath",
        "filename",
        "filesize",
        "bytestransferred",
        "convo_id",
        "pk_id",
        "parent_id",
        "offer_send_list",
    ),
    label="Skype transfer",
)
CHATS = Table(
    "Chats",
    key="id",
    required=("name",),
    optional=(
        "friendlyname",
        "topic",
        "type",
        "participants",
        "posters",
        "activemembers",
        "dialog_partner",
        "adder",
        "timestamp",
        "activity_timestamp",
        "conv_dbid",
    ),
    label="Skype chat",
)
CONVERSATIONS = Table(
    "Conversations",
    key="id",
    required=("identity",),
    optional=(
        "type",
        "displayname",
        "given_displayname",
        "meta_topic",
        "creation_timestamp",
        "last_activity_timestamp",
        "inbox_timestamp",
    ),
    label="Skype conversation",
)
PARTICIPANTS = Table(
    "Participants", key="id", optional=("convo_id", "identity"), label="Skype conversation participant"
)
_PROFILE = (
    "fullname",
    "displayname",
    "given_displayname",
    "pstnnumber",
    "phone_home",
    "phone_office",
    "phone_mobile",
    "emails",
    "birthday",
    "gender",
    "country",
    "province",
    "city",
    "languages",
    "homepage",
    "about",
    "mood_text",
    "profile_timestamp",
    "lastonline_timestamp",
    "lastused_timestamp",
    "type",
)
ACCOUNTS = Table(
    "Accounts",
    key="id",
    required=("skypename",),
    optional=(*_PROFILE, "liveid_membername", "registration_timestamp"),
    label="Skype account",
)
CONTACTS = Table(
    "Contacts",
    key="id",
    required=("skypename",),
    optional=(
        *_PROFILE,
        "assigned_phone1",
        "assigned_phone2",
        "assigned_phone3",
        "buddystatus",
        "isauthorized",
        "isblocked",
    ),
    label="Skype contacts",
)

#: What makes a file Skype's main.db: messages with their chat names and XML bodies, the chats,
#: and the account and contact tables keyed by Skype name.
SIGNATURE = sqlite_signature(MESSAGES, CHATS, ACCOUNTS, CONTACTS)

_OPTIONAL_TABLES = (SMSES, CALLS, TRANSFERS, CHATS, CONVERSATIONS, ACCOUNTS, CONTACTS)

_text = column_text
_int = partial(column_int, digits=True)  # Skype stores some numbers as text
_time = partial(column_time, convert=from_unix_seconds, encoding="unix_s")


# --- helpers --------------------------------------------------------------------------------------


def _words(value: object) -> tuple[str, ...]:
    """Space-separated identifiers (``participants``, ``emails``, ``target_numbers``)."""
    return tuple(value.split()) if isinstance(value, str) else ()


def _get(row: sqlite3.Row | None, column: str) -> object:
    return None if row is None else row[column]


@dataclass(frozen=True)
class Lookups:
    """The account owner's Skype name, chats by name and conversations by id (small tables next
    to the messages), and the call members read in step with the calls."""

    owner: str | None
    chats: dict[str, sqlite3.Row]
    conversations: dict[object, sqlite3.Row]
    members: GroupedRows
    participants: GroupedRows


# --- the plugin -----------------------------------------------------------------------------------


class SkypePlugin(SqliteTablePlugin[Lookups]):
    """Reads Skype classic ``main.db``: messages, SMS, calls with their members, file transfers,
    chats, conversations with their participants, the account and the contacts."""

    name = "skype"
    version = "1.0.0"
    description = "Skype classic main.db (Messages, SMSes, Calls, Transfers, Chats, Conversations, Contacts)"
    tables = (MESSAGES, SMSES, CALLS, TRANSFERS, CHATS, CONVERSATIONS, ACCOUNTS, CONTACTS)
    targets = Targets(
        globs=("**/Skype/*/main.db", "**/.Skype/*/main.db", "**/com.skype.raider/files/*/main.db"),
        magic=(SQLITE_MAGIC,),
        sqlite=SIGNATURE,
    )
    emits = (
        SkypeMessage,
        SkypeSms,
        SkypeCall,
        SkypeTransfer,
        SkypeChat,
        SkypeConversation,
        SkypeAccount,
        SkypeContact,
    )

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        """The messages, and each other table this database has (versions differ)."""
        present = {t.name for t in _OPTIONAL_TABLES if table_columns(con, t.name)}
        return tuple(t for t in self.tables if t is MESSAGES or t.name in present)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """The owner (first ``Accounts`` row), chats by name, conversations by id."""
        owner = None
        for row in read_rows(con, ctx, ACCOUNTS):
            name = row["skypename"]
            if isinstance(name, str) and name:
                owner = name
                break
        chats: dict[str, sqlite3.Row] = {}
        for row in read_rows(con, ctx, CHATS):
            if isinstance(row["name"], str):
                chats.setdefault(row["name"], row)
        conversations = {row["id"]: row for row in read_rows(con, ctx, CONVERSATIONS)}
        return Lookups(
            owner=owner,
            chats=chats,
            conversations=conversations,
            members=GroupedRows(con, ctx, CALL_MEMBERS, "call_db_id"),
            participants=GroupedRows(con, ctx, PARTICIPANTS, "convo_id"),
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """One row of whichever table is being read."""
        if at.table == MESSAGES.name:
            return self._message(row, at)
        if at.table == SMSES.name:
            return self._sms(row, at)
        if at.table == CALLS.name:
            return self._call(row, at)
        if at.table == TRANSFERS.name:
            return self._transfer(row, at)
        if at.table == CHATS.name:
            return self._chat(row, at)
        if at.table == CONVERSATIONS.name:
            return self._conversation(row, at)
        return self._profile(row, at, account=at.table == ACCOUNTS.name)

    def _message(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeMessage:
        owner = at.lookups.owner
        author = _text(row["author"], "author", at)
        chatname = _text(row["chatname"], "chatname", at)
        body_xml = _text(row["body_xml"], "body_xml", at)
        convo_id = _int(row["convo_id"], "convo_id", at)
        chat = at.lookups.chats.get(chatname) if chatname else None
        conv = at.lookups.conversations.get(convo_id) if convo_id is not None else None
        identity = _text(_get(conv, "identity"), "Conversations.identity")
        participants = _words(_get(chat, "participants"))
        dialog_partner = _text(row["dialog_partner"], "dialog_partner", at)
        message_type = _int(row["type"], "type", at)
        identities = _text(row["identities"], "identities", at)
        if message_type == POSTED_SMS and identities:
            recipients = _words(identities)
        else:
            others = tuple(p for p in participants if p != author)
            recipients = others or ((dialog_partner,) if dialog_partner else ())
        if conv is not None and _get(conv, "type") == DIALOG_CONVERSATION:
            party = identity
        elif chat is not None and _get(chat, "type") == DIALOG_CHAT:
            party = _text(_get(chat, "dialog_partner"), "Chats.dialog_partner")
        else:
            party = None
        title = _text(_get(conv, "displayname"), "Conversations.displayname") or _text(
            _get(chat, "friendlyname"), "Chats.friendlyname"
        )
        status = _int(row["chatmsg_status"], "chatmsg_status", at)
        return SkypeMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            timestamp=_time(row["timestamp"], "timestamp", at),
            body=plain_text(body_xml) if body_xml is not None else None,
            from_me=(author == owner) if owner and author else None,
            party=party,
            conversation=identity or chatname,
            conversation_title=title,
            account=owner,
            sender=author,
            recipients=recipients,
            status=status,
            author=author,
            from_dispname=_text(row["from_dispname"], "from_dispname", at),
            body_xml=body_xml,
            chatname=chatname,
            convo_id=convo_id,
            conversation_identity=identity,
            chat_participants=participants,
            dialog_partner=dialog_partner,
            identities=identities,
            edited_by=_text(row["edited_by"], "edited_by", at),
            edited_time=_time(row["edited_timestamp"], "edited_timestamp", at),
            message_type=message_type,
            chatmsg_type=_int(row["chatmsg_type"], "chatmsg_type", at),
            chatmsg_status=status,
            sending_status=_int(row["sending_status"], "sending_status", at),
            consumption_status=_int(row["consumption_status"], "consumption_status", at),
            reason=_text(row["reason"], "reason", at),
            leavereason=_int(row["leavereason"], "leavereason", at),
            participant_count=_int(row["participant_count"], "participant_count", at),
            remote_id=_int(row["remote_id"], "remote_id", at),
            call_guid=_text(row["call_guid"], "call_guid", at),
        )

    def _sms(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeSms:
        sms_type = _int(row["type"], "type", at)
        status = _int(row["status"], "status", at)
        targets = _text(row["target_numbers"], "target_numbers", at)
        recipients = _words(targets)
        outgoing = sms_type == OUTGOING
        return SkypeSms(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            timestamp=_time(row["timestamp"], "timestamp", at),
            body=_text(row["body"], "body", at),
            from_me=outgoing if sms_type in (1, 2) else None,
            party=recipients[0] if len(recipients) == 1 else None,
            account=at.lookups.owner,
            sender=at.lookups.owner if outgoing else None,
            recipients=recipients,
            status=status,
            sms_type=sms_type,
            sms_status=status,
            target_numbers=targets,
            failure_reason=_int(row["failurereason"], "failurereason", at),
            price=_int(row["price"], "price", at),
            price_precision=_int(row["price_precision"], "price_precision", at),
            price_currency=_text(row["price_currency"], "price_currency", at),
            chatmsg_id=_int(row["chatmsg_id"], "chatmsg_id", at),
        )

    def _call(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeCall:
        members = at.lookups.members.take(row["id"])
        owner = at.lookups.owner
        identities = tuple(i for m in members if (i := _text(m["identity"], "CallMembers.identity")))
        starts = [s for m in members if (s := _int(m["start_timestamp"], "CallMembers.start_timestamp"))]
        durations = tuple(_int(m["call_duration"], "CallMembers.call_duration") for m in members)
        calls_duration = _int(row["duration"], "duration", at)
        known = [d for d in durations if d]
        duration = calls_duration if calls_duration else (max(known) if known else calls_duration)
        incoming = _int(row["is_incoming"], "is_incoming", at)
        others = tuple(i for i in identities if i != owner)
        return SkypeCall(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            timestamp=_time(row["begin_timestamp"], "begin_timestamp", at),
            duration=duration,
            from_me=(incoming == 0) if incoming in (0, 1) else None,
            party=others[0] if len(others) == 1 else None,
            account=owner,
            accept_time=from_unix_seconds(min(starts)) if starts else None,
            is_incoming=incoming,
            host_identity=_text(row["host_identity"], "host_identity", at),
            call_name=_text(row["name"], "name", at),
            topic=_text(row["topic"], "topic", at),
            is_conference=_int(row["is_conference"], "is_conference", at),
            call_type=_int(row["type"], "type", at),
            calls_duration=calls_duration,
            members=identities,
            member_names=tuple(n for m in members if (n := _text(m["dispname"], "CallMembers.dispname"))),
            member_durations=durations,
            member_guids=tuple(g for m in members if (g := _text(m["guid"], "CallMembers.guid"))),
            member_statuses=tuple(_int(m["status"], "CallMembers.status") for m in members),
            member_videostatuses=tuple(_int(m["videostatus"], "CallMembers.videostatus") for m in members),
        )

    def _transfer(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeTransfer:
        kind = _int(row["type"], "type", at)
        status = _int(row["status"], "status", at)
        partner = _text(row["partner_handle"], "partner_handle", at)
        filepath = _text(row["filepath"], "filepath", at)
        filename = _text(row["filename"], "filename", at)
        size = row["filesize"]
        convo_id = _int(row["convo_id"], "convo_id", at)
        conv = at.lookups.conversations.get(convo_id) if convo_id is not None else None
        owner = at.lookups.owner
        outgoing = kind == OUTGOING
        attachment = Attachment(name=filename, recorded_path=filepath)
        return SkypeTransfer(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            timestamp=_time(row["starttime"], "starttime", at),
            from_me=outgoing if kind in (1, 2) else None,
            party=partner,
            conversation=_text(_get(conv, "identity"), "Conversations.identity"),
            conversation_title=_text(_get(conv, "displayname"), "Conversations.displayname"),
            account=owner,
            sender=owner if outgoing else partner if kind == 1 else None,
            recipients=(partner,) if outgoing and partner else (),
            attachments=(attachment,) if filename or filepath else (),
            status=status,
            transfer_type=kind,
            transfer_status=status,
            partner_handle=partner,
            partner_dispname=_text(row["partner_dispname"], "partner_dispname", at),
            filepath=filepath,
            filename=filename,
            filesize=_int(size, "filesize", at) if size is not None else None,
            bytes_transferred=_int(row["bytestransferred"], "bytestransferred", at),
            accept_time=_time(row["accepttime"], "accepttime", at),
            finish_time=_time(row["finishtime"], "finishtime", at),
            convo_id=convo_id,
            pk_id=_int(row["pk_id"], "pk_id", at),
            parent_id=_int(row["parent_id"], "parent_id", at),
            offer_send_list=_text(row["offer_send_list"], "offer_send_list", at),
            failure_reason=_int(row["failurereason"], "failurereason", at),
        )

    def _chat(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeChat:
        return SkypeChat(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            name=_text(row["name"], "name", at),
            friendlyname=_text(row["friendlyname"], "friendlyname", at),
            topic=_text(row["topic"], "topic", at),
            chat_type=_int(row["type"], "type", at),
            participants=_words(row["participants"]),
            posters=_words(row["posters"]),
            active_members=_words(row["activemembers"]),
            dialog_partner=_text(row["dialog_partner"], "dialog_partner", at),
            adder=_text(row["adder"], "adder", at),
            created=_time(row["timestamp"], "timestamp", at),
            activity_time=_time(row["activity_timestamp"], "activity_timestamp", at),
            conv_dbid=_int(row["conv_dbid"], "conv_dbid", at),
        )

    def _conversation(self, row: sqlite3.Row, at: RowContext[Lookups]) -> SkypeConversation:
        people = at.lookups.participants.take(row["id"])
        return SkypeConversation(
            source=at.source,
            locator=at.locator,
            rowid=row["id"],
            identity=_text(row["identity"], "identity", at),
            conversation_type=_int(row["type"], "type", at),
            displayname=_text(row["displayname"], "displayname", at),
            given_displayname=_text(row["given_displayname"], "given_displayname", at),
            meta_topic=_text(row["meta_topic"], "meta_topic", at),
            participants=tuple(i for p in people if (i := _text(p["identity"], "Participants.identity"))),
            created=_time(row["creation_timestamp"], "creation_timestamp", at),
            last_activity_time=_time(row["last_activity_timestamp"], "last_activity_timestamp", at),
            inbox_time=_time(row["inbox_timestamp"], "inbox_timestamp", at),
        )

    def _profile(self, row: sqlite3.Row, at: RowContext[Lookups], *, account: bool) -> SkypeContact:
        skypename = _text(row["skypename"], "skypename", at)
        fullname = _text(row["fullname"], "fullname", at)
        displayname = _text(row["displayname"], "displayname", at)
        given = _text(row["given_displayname"], "given_displayname", at)
        phone_columns = ["pstnnumber", "phone_home", "phone_office", "phone_mobile"]
        if not account:
            phone_columns += ["assigned_phone1", "assigned_phone2", "assigned_phone3"]
        phones: list[str] = []
        for column in phone_columns:
            value = _text(row[column], column, at)
            if value and value not in phones:
                phones.append(value)
        emails_raw = _text(row["emails"], "emails", at)
        birthday = row["birthday"]
        if birthday is not None and not isinstance(birthday, int | str):
            at.warn(f"birthday is not a number ({type(birthday).__name__}): not read")
            birthday = None
        common = {
            "source": at.source,
            "locator": at.locator,
            "name": given or fullname or displayname,
            "phones": tuple(phones),
            "emails": _words(emails_raw),
            "account_ids": (skypename,) if skypename else (),
            "account": skypename if account else at.lookups.owner,
            "rowid": row["id"],
            "skypename": skypename,
            "fullname": fullname,
            "displayname": displayname,
            "given_displayname": given,
            "pstnnumber": _text(row["pstnnumber"], "pstnnumber", at),
            "phone_home": _text(row["phone_home"], "phone_home", at),
            "phone_office": _text(row["phone_office"], "phone_office", at),
            "phone_mobile": _text(row["phone_mobile"], "phone_mobile", at),
            "emails_raw": emails_raw,
            "birthday": birthday,
            "gender": _int(row["gender"], "gender", at),
            "country": _text(row["country"], "country", at),
            "province": _text(row["province"], "province", at),
            "city": _text(row["city"], "city", at),
            "languages": _text(row["languages"], "languages", at),
            "homepage": _text(row["homepage"], "homepage", at),
            "about": _text(row["about"], "about", at),
            "mood_text": _text(row["mood_text"], "mood_text", at),
            "profile_time": _time(row["profile_timestamp"], "profile_timestamp", at),
            "lastonline_time": _time(row["lastonline_timestamp"], "lastonline_timestamp", at),
            "lastused_time": _time(row["lastused_timestamp"], "lastused_timestamp", at),
            "contact_type": _int(row["type"], "type", at),
        }
        if account:
            return SkypeAccount(
                **common,
                liveid_membername=_text(row["liveid_membername"], "liveid_membername", at),
                registration_timestamp=_int(row["registration_timestamp"], "registration_timestamp", at),
            )
        return SkypeContact(
            **common,
            buddystatus=_int(row["buddystatus"], "buddystatus", at),
            isauthorized=_int(row["isauthorized"], "isauthorized", at),
            isblocked=_int(row["isblocked"], "isblocked", at),
        )
