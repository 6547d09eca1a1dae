"""Viber on Android: calls and contacts from ``viber_data``, messages from ``viber_messages``.

Where: ``/data/data/com.viber.voip/databases/viber_data`` and ``.../viber_messages`` (no file
name extension). Two plugins, one per file, so each record carries its own file's provenance.

**Calls** (``viber_data``, table ``calls``; one record per row). ``date`` is the start of the call
in Unix **milliseconds**, ``duration`` seconds as stored (the end is ``date + duration``).
``type`` is the direction, kept raw in ``call_type`` and ``status``: 1 incoming, 2 outgoing,
3 missed (the values Autopsy's Viber module uses; ALEAPP reads 2 as outgoing and the rest as
incoming). Only 2 is the owner's call (``from_me`` true); 1 and 3 come in; another value leaves
``from_me`` ``None``. ``viber_call_type`` is the medium: 1 audio, 4 video (both tools agree);
``video`` is true for 4, false for 1, ``None`` otherwise. ``party`` is ``number`` as stored
(``canonized_number`` is kept beside it); the owner's own number is not in the table. The
other columns (``viber_call``, ``start_reason``, ``end_reason``, ``token``, ``looked``,
``conference_info``, ``group_id``, ``flags``) are kept raw, unlabelled: no published source
defines their values. A ``calls`` table is told from
Android's own call log by ``viber_call_type`` (and the call log by ``new`` and ``numbertype``,
which this table lacks), so neither plugin claims the other's file.

**Contacts** (``viber_data``: ``phonebookcontact`` with its ``phonebookdata`` rows; one record
per ``phonebookcontact`` row). Viber copies the phone's address book: ``display_name`` is the
name, ``native_id`` (by its name, the contact's id in Android's contacts provider). Each
``phonebookdata`` row (``contact_id`` = ``phonebookcontact._id``) of ``mime_type`` 0 is a phone
number: ``data1`` as typed, ``data2`` its canonical E.164 form, ``data3`` as formatted for display
(as the corpus file shows them). ``phones`` holds
``data2`` (else ``data1``, else ``data3``, the order ALEAPP uses), each number once, in row
order; ``typed_numbers`` and ``formatted_numbers`` keep ``data1`` and ``data3`` of the same rows,
in parallel. Rows of any other ``mime_type`` are kept as ``other_data`` (``data1``) with
``other_mime_types`` (no source defines those kinds). ``viber``, ``starred`` and
``joined_date`` (Unix ms; 0 when unset; on the corpus only the contact with ``viber`` 1 has one)
are kept raw; no published source documents them beyond their names. ``deleted`` is true when the
``phonebookcontact.deleted`` column holds 1 (by its name, a contact Viber marked deleted).
``phonebookdata`` is read once, ordered by contact, beside ``phonebookcontact`` (a streamed merge
join), never held in memory whole.

**Messages** (``viber_messages``; one record per ``messages`` row). ``msg_date`` is Unix
**milliseconds**; ``send_type`` is the direction, kept raw in ``send_type``: 1 outgoing (the
owner's, ``from_me`` true), 0 incoming; another value leaves ``from_me`` ``None``. The sender is
``participant_id`` -> ``participants._id`` -> ``participants.participant_info_id`` ->
``participants_info._id``, whose ``number`` is the sender's phone number (``sender``; ``None`` for
the owner's messages, whose own number is not the point of the row). ``conversation_id`` is the
thread (``conversation``); the conversation's members are the ``participants`` rows with that
``conversation_id``. ``recipients`` are the numbers of the members other than the sender (as
Autopsy and ALEAPP build them). ``party`` is the other side of a conversation of two members:
the sender of an incoming message, the only recipient of an outgoing one; ``None`` in a group.
``conversation_title`` is ``conversations.name`` when that table has it. ``extra_uri`` (the
attachment's URI, as ALEAPP reads it) becomes an :class:`Attachment` with that ``recorded_path``
and ``extra_mime`` kept raw (Viber's own numeric kind, unlabelled). ``unread`` is kept raw.
``deleted`` is the ``messages.deleted`` flag where the column exists (a message the user
deleted, row kept); it stays false without it. These tables and columns are those ALEAPP's
``Viber.py`` and Autopsy's ``viber.py`` query; ``extra_mime``, ``deleted``,
``participants_info.display_name`` / ``contact_name`` and ``conversations.name`` are read only
when present.

Expected on the public corpus (``chats/viber_data``, plaso test data, a Viber of 2022): 4 calls,
all with ``+19198887386`` on 2022-11-25: ``_id`` 1 incoming audio at 20:34:25.582 UTC for 98 s,
2 outgoing audio at 20:37:07.737 for 100 s, 3 incoming video at 20:40:24.137 for 95 s, 4 outgoing
video at 20:43:08.267 for 105 s (ended 20:44:53.267, as plaso's ``android_viber_call`` test
expects); and 5 contacts from 10 ``phonebookdata`` rows ("ThisIs DFIRThree" without a number,
"Josh Hickman" with two, "Liz", "This Is DFIR Two" (a Viber user) and "Thom De'Fer" with one
each after de-duplication). No public ``viber_messages`` exists: the tests build one from the
schema those two tools query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    CallFields,
    ContactFields,
    GroupedRows,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    from_unix_ms,
    read_rows,
    sqlite_signature,
)

CALL_TYPE_LABELS: Mapping[object, str] = {1: "incoming", 2: "outgoing", 3: "missed"}
VIBER_CALL_TYPE_LABELS: Mapping[object, str] = {1: "audio", 4: "video"}
SEND_TYPE_LABELS: Mapping[object, str] = {0: "incoming", 1: "outgoing"}
OUTGOING_CALL = 2
VIDEO_CALL = 4
OUTGOING_MESSAGE = 1
PHONE_MIME = 0

APP_DIR = "**/com.viber.voip/databases"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- viber_data: calls and contacts ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ViberCall(CallFields, Record):
    """One row of ``calls``: ``timestamp`` is ``date`` (call start), ``duration`` seconds as stored.

    ``call_type`` and ``status`` are the raw ``type`` (direction), ``viber_call_type`` the raw
    medium (audio/video); the rest are ``calls`` columns as stored.
    """

    record_type: ClassVar[str] = "chat/android/viber/call"
    app: ClassVar[str] = "viber"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "call_type": CALL_TYPE_LABELS,
        "status": CALL_TYPE_LABELS,
        "viber_call_type": VIBER_CALL_TYPE_LABELS,
    }

    rowid: int
    call_type: int | None = None
    viber_call_type: int | None = None
    number: str | None = None
    canonized_number: str | None = None
    viber_call: int | None = None
    call_id: int | None = None
    aggregate_hash: int | None = None
    start_reason: int | None = None
    end_reason: int | None = None
    token: int | None = None
    looked: int | None = None
    conference_info: str | None = None
    group_id: int | None = None
    flags: int | None = None


@dataclass(frozen=True, kw_only=True)
class ViberContact(ContactFields, Record):
    """One ``phonebookcontact`` row with its ``phonebookdata`` rows (see the module docstring)."""

    record_type: ClassVar[str] = "chat/android/viber/contact"
    app: ClassVar[str] = "viber"

    rowid: int
    native_id: int | None = None
    typed_numbers: tuple[str | None, ...] = ()
    formatted_numbers: tuple[str | None, ...] = ()
    other_data: tuple[str | None, ...] = ()
    other_mime_types: tuple[int | str | None, ...] = ()
    viber: int | None = None
    starred: int | None = None
    joined_date: TimeValue | None = None
    contact_lookup_key: str | None = None
    marked_deleted: int | None = None
    data_rows: int = 0


CALLS = Table(
    "calls",
    key="_id",
    # viber_call_type tells Viber's calls from Android's call log (which has no such column)
    required=("number", "date", "duration", "type", "viber_call_type"),
    optional=(
        "canonized_number",
        "viber_call",
        "call_id",
        "aggregate_hash",
        "start_reason",
        "end_reason",
        "token",
        "looked",
        "conference_info",
        "group_id",
        "flags",
    ),
    label="Viber call",
)
PHONEBOOK = Table(
    "phonebookcontact",
    key="_id",
    required=("display_name",),
    optional=("native_id", "viber", "starred", "joined_date", "contact_lookup_key", "deleted"),
    label="Viber contacts",
)
PHONEBOOK_DATA = Table(
    "phonebookdata",
    key="_id",
    required=("contact_id",),
    optional=("data1", "data2", "data3", "mime_type"),
    label="Viber contact data",
)


class ViberDataPlugin(SqliteTablePlugin[GroupedRows]):
    """Reads Viber's ``viber_data``: one record per call (``calls``) and per address-book contact.

    Emits ``chat/android/viber/call`` records (``calls``) and ``chat/android/viber/contact``
    records (``phonebookcontact`` with its ``phonebookdata`` phone numbers).
    """

    name = "viber_android"
    version = "1.0.0"
    description = "Viber for Android viber_data: calls, and the contacts Viber copied (phonebookcontact)"
    tables = (CALLS, PHONEBOOK)
    targets = Targets(
        globs=(f"{APP_DIR}/viber_data", "**/viber_data"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables, PHONEBOOK_DATA),
    )
    emits = (ViberCall, ViberContact)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> GroupedRows:
        """``phonebookdata`` in contact order, read beside ``phonebookcontact``."""
        return GroupedRows(con, ctx, PHONEBOOK_DATA, by="contact_id")

    def record(self, row: sqlite3.Row, at: RowContext[GroupedRows]) -> Record:
        """A ``calls`` or a ``phonebookcontact`` row."""
        if at.table == CALLS.name:
            return self._call(row, at)
        return self._contact(row, at)

    def _call(self, row: sqlite3.Row, at: RowContext[GroupedRows]) -> ViberCall:
        call_type = row["type"]
        medium = row["viber_call_type"]
        duration = row["duration"]
        return ViberCall(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=from_unix_ms(row["date"]),
            duration=duration if isinstance(duration, int | float) else None,
            from_me=(call_type == OUTGOING_CALL) if call_type in CALL_TYPE_LABELS else None,
            party=_text(row["number"]),
            status=call_type,
            video=(medium == VIDEO_CALL) if medium in VIBER_CALL_TYPE_LABELS else None,
            call_type=call_type,
            viber_call_type=medium,
            number=row["number"],
            canonized_number=row["canonized_number"],
            viber_call=row["viber_call"],
            call_id=row["call_id"],
            aggregate_hash=row["aggregate_hash"],
            start_reason=row["start_reason"],
            end_reason=row["end_reason"],
            token=row["token"],
            looked=row["looked"],
            conference_info=row["conference_info"],
            group_id=row["group_id"],
            flags=row["flags"],
        )

    def _contact(self, row: sqlite3.Row, at: RowContext[GroupedRows]) -> ViberContact:
        data = at.lookups.take(row["_id"])
        phones: list[str] = []
        typed: list[str | None] = []
        formatted: list[str | None] = []
        other: list[str | None] = []
        other_types: list[int | str | None] = []
        for d in data:
            mime = d["mime_type"]
            if mime not in (PHONE_MIME, None):
                other.append(_text(d["data1"]))
                other_types.append(mime if isinstance(mime, int | str) else None)
                continue
            number = _text(d["data2"]) or _text(d["data1"]) or _text(d["data3"])
            if number is None or number in phones:
                continue
            phones.append(number)
            typed.append(_text(d["data1"]))
            formatted.append(_text(d["data3"]))
        joined = row["joined_date"]
        return ViberContact(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            name=_text(row["display_name"]),
            phones=tuple(phones),
            typed_numbers=tuple(typed),
            formatted_numbers=tuple(formatted),
            other_data=tuple(other),
            other_mime_types=tuple(other_types),
            native_id=row["native_id"],
            viber=row["viber"],
            starred=row["starred"],
            joined_date=None if joined is None else from_unix_ms(joined),
            contact_lookup_key=row["contact_lookup_key"],
            deleted=row["deleted"] == 1,
            marked_deleted=row["deleted"],
            data_rows=len(data),
        )


# --- viber_messages: messages ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ViberMessage(MessageFields, Record):
    """One ``messages`` row: ``timestamp`` is ``msg_date``; ``send_type`` the raw direction.

    ``participant_id`` is the sending member (``participants._id``); ``conversation`` the raw
    ``conversation_id``; ``sender_name`` the sender's ``participants_info`` name where stored.
    """

    record_type: ClassVar[str] = "chat/android/viber/message"
    app: ClassVar[str] = "viber"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"send_type": SEND_TYPE_LABELS}

    rowid: int
    send_type: int | None = None
    participant_id: int | None = None
    sender_name: str | None = None
    unread: int | None = None
    extra_uri: str | None = None
    extra_mime: int | str | None = None
    marked_deleted: int | None = None


MESSAGES = Table(
    "messages",
    key="_id",
    required=("conversation_id", "participant_id", "msg_date", "body", "send_type"),
    optional=("unread", "extra_uri", "extra_mime", "deleted"),
    label="Viber messages",
)
PARTICIPANTS = Table("participants", key="_id", required=("conversation_id", "participant_info_id"))
PARTICIPANTS_INFO = Table(
    "participants_info", key="_id", required=("number",), optional=("display_name", "contact_name")
)
CONVERSATIONS = Table("conversations", key="_id", optional=("name",))


@dataclass(frozen=True)
class Members:
    """Who is in which conversation, read once per file (small next to the messages)."""

    info_of: dict[object, object]  # participants._id -> participant_info_id
    members: dict[object, list[object]]  # conversation_id -> participants._id, in table order
    info: dict[object, sqlite3.Row]  # participants_info._id -> row
    titles: dict[object, str]  # conversations._id -> name

    def number(self, participant: object) -> str | None:
        row = self.info.get(self.info_of.get(participant))
        return _text(row["number"]) if row is not None else None

    def name(self, participant: object) -> str | None:
        row = self.info.get(self.info_of.get(participant))
        if row is None:
            return None
        return _text(row["display_name"]) or _text(row["contact_name"])


class ViberMessagesPlugin(SqliteTablePlugin[Members]):
    """Reads Viber's ``viber_messages``: one record per ``messages`` row.

    Emits ``chat/android/viber/message`` records with the sender's number (``participants`` ->
    ``participants_info``), the conversation's other members, and the attachment URI.
    """

    name = "viber_android_messages"
    version = "1.0.0"
    description = "Viber for Android viber_messages: messages, with senders from participants_info"
    tables = (MESSAGES,)
    targets = Targets(
        globs=(f"{APP_DIR}/viber_messages", "**/viber_messages"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables, PARTICIPANTS, PARTICIPANTS_INFO),
    )
    emits = (ViberMessage,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Members:
        """Members of each conversation, their numbers, and the conversations' names."""
        info_of: dict[object, object] = {}
        members: dict[object, list[object]] = {}
        for r in read_rows(con, ctx, PARTICIPANTS):
            info_of[r["_id"]] = r["participant_info_id"]
            members.setdefault(r["conversation_id"], []).append(r["_id"])
        return Members(
            info_of=info_of,
            members=members,
            info={r["_id"]: r for r in read_rows(con, ctx, PARTICIPANTS_INFO)},
            titles={
                r["_id"]: r["name"]
                for r in read_rows(con, ctx, CONVERSATIONS)
                if _text(r["name"]) is not None
            },
        )

    def record(self, row: sqlite3.Row, at: RowContext[Members]) -> ViberMessage:
        """One ``messages`` row."""
        look = at.lookups
        send_type = row["send_type"]
        from_me = (send_type == OUTGOING_MESSAGE) if send_type in SEND_TYPE_LABELS else None
        sender_id = row["participant_id"]
        conversation = row["conversation_id"]
        if sender_id not in look.info_of:
            at.warn(f"participant_id {sender_id!r} not in participants")
        elif look.number(sender_id) is None:
            at.warn(f"participant_id {sender_id!r}: no number in participants_info")
        members = look.members.get(conversation, [])
        others = [m for m in members if m != sender_id]
        recipients = tuple(n for n in (look.number(m) for m in others) if n is not None)
        sender = None if from_me else look.number(sender_id)
        party: str | None = None
        if len(members) == 2:  # a one-to-one conversation
            party = (recipients[0] if recipients else None) if from_me else sender
        uri = _text(row["extra_uri"])
        mime = row["extra_mime"]
        body = row["body"]
        return ViberMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=from_unix_ms(row["msg_date"]),
            body=body if isinstance(body, str) else None,
            from_me=from_me,
            party=party,
            conversation=None if conversation is None else str(conversation),
            conversation_title=look.titles.get(conversation),
            sender=sender,
            sender_name=look.name(sender_id),
            recipients=recipients,
            attachments=(Attachment(recorded_path=uri),) if uri is not None else (),
            deleted=row["deleted"] == 1,
            send_type=send_type,
            participant_id=sender_id,
            unread=row["unread"],
            extra_uri=row["extra_uri"],
            extra_mime=mime if isinstance(mime, int | str) else None,
            marked_deleted=row["deleted"],
        )
