"""Apple Messages: SMS, MMS and iMessage on iOS (``sms.db``) and macOS (``chat.db``).

**Where.** iOS keeps every SMS, MMS and iMessage in ``/private/var/mobile/Library/SMS/sms.db``
(``/HomeDomain/Library/SMS/sms.db`` in an iTunes/Finder backup, whose attachments are under
``/MediaDomain/Library/SMS/Attachments``); macOS keeps the same schema in
``~/Library/Messages/chat.db``. A file named ``chat.db`` gives ``chat/macos/imessage/message``
records, any other name ``chat/ios/imessage/message``; the iOS 3 to 5 layout gives
``chat/ios/imessage-legacy/message``. A database named like one of these whose tables are neither
layout is reported as an unsupported schema, not read as "no messages".

**iOS 6 and later, macOS** (``message``, ``handle``, ``chat``, joins). One record per ``message``
row. ``service`` says SMS, iMessage or RCS. ``from_me`` is ``is_from_me``; ``sender`` is the
handle (``handle.id``: a phone number or e-mail address) of an incoming message and the owner's
account for an outgoing one; ``account`` is ``destination_caller_id`` or else ``message.account``
without its ``e:``/``p:`` type prefix (the raw value is ``message_account``). The conversation is
the chat the message is joined to (``chat_message_join``): ``conversation`` is ``chat.guid``,
``conversation_title`` its ``display_name`` (group names), ``recipients`` of an outgoing message
the chat's members (``chat_handle_join``); ``party`` is the other side of a one-to-one chat
(``chat.style`` 45; 43 is a group). A message joined to several chats names the first (lowest
``chat_id``) and lists all in ``chat_ids``. Tapbacks are rows of their own
(``associated_message_guid``/``_type``, labelled 2000 loved ... 3005 removed).

**The words.** ``text`` is the body. Where it is NULL (most messages from iOS 16 / macOS 13 on)
the body is read from ``attributedBody``, an NSArchiver archive of the rich text, by this
project's own minimal reader (``_typedstream``); ``body_source`` says which column it came from.
When both exist and say different things (a database edited after the fact, as two rows of the
public test file are) ``text`` stays the body and the archive's words are kept beside it in
``attributed_body_text``, so the examiner sees both. An archive that cannot be read is named in
``attributed_body_note`` (and a warning when it was the only text). The edit history of iOS 16
(``message_summary_info``) is not decoded; ``edited_time``/``retracted_time`` are given.

**Times and their unit.** Every time is kept raw with its encoding and converted explicitly:

- iOS 3 to 5 (``message`` with ``flags``/``address``; ``madrid_*`` columns from iOS 5): ``date``
  is **Unix seconds** for an SMS row and **seconds since 2001** for an iMessage row
  (``is_madrid`` = 1), as is ``madrid_date_read``/``_delivered``. The row's ``is_madrid`` decides;
  a database without madrid columns (iOS 4 or older) holds only SMS, Unix seconds.
- iOS 6 to 10: seconds since 2001. iOS 11 / macOS 10.13 and later: **nanoseconds** since 2001.
  The schema decides where it can: a ``message`` table with ``thread_originator_guid`` (iOS 14),
  ``date_edited`` or ``date_retracted`` (iOS 16) postdates the change, so its times are
  nanoseconds. Otherwise (iOS 6 to 13 share the same columns) the **magnitude** decides, per
  value: ``|value| >= 1e11`` is nanoseconds, smaller is seconds. No real date is ambiguous under
  this rule: 1e11 seconds after 2001 is the year 5170, 1e11 nanoseconds is 100 seconds after the
  epoch. ``time_basis`` on each record says which rule was used; each time's ``encoding``
  (``cocoa_s``/``cocoa_ns``/``unix_s``) says the unit chosen. Attachment dates (``created_date``)
  are always decided by magnitude.

**Attachments.** ``attachment`` rows joined by ``message_attachment_join`` (iOS 5:
``madrid_attachment``; MMS parts of iOS 3 to 5: ``msg_pieces``, recorded but not located):
``name`` is ``transfer_name``, ``mime`` the recorded MIME type, ``recorded_path`` the ``filename``
as stored. The file is looked for in the same evidence: ``~`` is the home folder of the user the
database belongs to (two folders above it: ``/private/var/mobile`` for
``/private/var/mobile/Library/SMS/sms.db``), ``/var/mobile/...`` is also tried as
``/private/var/mobile/...``, a backup's ``HomeDomain`` database finds its attachments in
``MediaDomain``, and a database exported beside its ``Attachments`` folder finds them there.
``path``/``size`` describe the file found (its hash is the walk's); ``attachment_details`` keeps the
raw attachment columns (GUID, UTI, recorded size, transfer state, dates).

Deleted ``message`` rows still in free space, the ``-wal`` or the ``-journal`` are recovered by
the table base and flagged (docs/plugins.md, "Deleted records"); the corpus file gives none (its
freelist is zeroed). **Not read.** ``deleted_messages`` (GUIDs only, no content), group-call and FaceTime rows beyond what ``message`` says, and
stickers' or apps' payloads (``payload_data``).

Expected on the public corpus (``chats/imessage_chat.db``, a macOS chat.db in plaso's test data):
10 messages, 8 in chat 1 and 2 in chat 2, every ``date`` in seconds since 2001; plaso asserts its
8th, "Did you try to send me a message?", from ``xxxxxx2015@icloud.com`` over iMessage, read, at
2015-11-30 10:48:40 UTC. Rows 6 and 10 say "Open Office" in ``text`` and "Microsoft Office" in
``attributedBody``.
"""

from __future__ import annotations

import plistlib
import posixpath
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from plugins.chat._typedstream import TypedStreamError, attributed_string_text
from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    FileItem,
    Join,
    MessageFields,
    NotMyFormat,
    ParseContext,
    Plugin,
    Record,
    RowContext,
    RowGroups,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    build_record,
    from_cocoa_ns,
    from_cocoa_seconds,
    from_unix_seconds,
    read_rows,
    sqlite_signature,
    table_columns,
)

# --- time units ------------------------------------------------------------------------------------

#: ``|value|`` from which a Messages time is nanoseconds rather than seconds (see the docstring).
NS_THRESHOLD = 10**11
#: Columns of ``message`` added after Messages moved to nanoseconds (iOS 11 / macOS 10.13).
NS_ERA_COLUMNS = ("thread_originator_guid", "date_edited", "date_retracted")

MAGNITUDE_RULE = "magnitude: nanoseconds since 2001 when |value| >= 1e11, else seconds since 2001"


def _is_ns_by_size(raw: object) -> bool:
    if isinstance(raw, bool):
        return False
    if isinstance(raw, int | float):
        return abs(raw) >= NS_THRESHOLD
    if isinstance(raw, str):
        try:
            return abs(float(raw)) >= NS_THRESHOLD
        except ValueError:
            return False
    return False


def apple_time(raw: object, ns_by_schema: bool) -> TimeValue | None:
    """A Messages time (iOS 6+): nanoseconds when the schema says so, else by magnitude."""
    if raw is None:
        return None
    value: Any = raw
    if ns_by_schema or _is_ns_by_size(raw):
        return from_cocoa_ns(value)
    return from_cocoa_seconds(value)


# --- records ---------------------------------------------------------------------------------------

CHAT_STYLE_LABELS: Mapping[object, str] = {43: "group", 45: "one-to-one"}
TAPBACK_LABELS: Mapping[object, str] = {
    2000: "loved",
    2001: "liked",
    2002: "disliked",
    2003: "laughed",
    2004: "emphasized",
    2005: "questioned",
    3000: "removed love",
    3001: "removed like",
    3002: "removed dislike",
    3003: "removed laugh",
    3004: "removed emphasis",
    3005: "removed question",
}


@dataclass(frozen=True, kw_only=True)
class IosMessage(MessageFields, Record):
    """One ``message`` row of an iOS ``sms.db`` (iOS 6 and later) with its handle, chat and files.

    ``timestamp`` is ``date``; ``read_time``, ``delivered_time``, ``played_time``,
    ``edited_time`` and ``retracted_time`` the other date columns; ``time_basis`` the rule that
    chose their unit. ``body`` is ``text``, or the text of ``attributedBody`` when ``text`` is NULL
    (``body_source``); ``attributed_body_text`` holds that archive's text when it differs from
    ``text``. Flags (``is_read``, ``is_delivered``, ``is_sent``, ...) are raw integers.
    """

    record_type: ClassVar[str] = "chat/ios/imessage/message"
    app: ClassVar[str] = "imessage"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "chat_style": CHAT_STYLE_LABELS,
        "associated_message_type": TAPBACK_LABELS,
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    guid: str | None = None
    service: str | None = None
    time_basis: str | None = None
    read_time: TimeValue | None = None
    delivered_time: TimeValue | None = None
    played_time: TimeValue | None = None
    edited_time: TimeValue | None = None
    retracted_time: TimeValue | None = None
    body_source: str | None = None
    attributed_body_text: str | None = None
    attributed_body_note: str | None = None
    subject: str | None = None
    handle_id: int | None = None
    handle: str | None = None
    handle_service: str | None = None
    message_account: str | None = None
    destination_caller_id: str | None = None
    chat_ids: tuple[int, ...] = ()
    chat_identifier: str | None = None
    chat_style: int | None = None
    chat_service: str | None = None
    is_read: int | None = None
    is_delivered: int | None = None
    is_sent: int | None = None
    is_finished: int | None = None
    is_audio_message: int | None = None
    is_system_message: int | None = None
    error: int | None = None
    message_type: int | None = None
    item_type: int | None = None
    other_handle: int | None = None
    group_title: str | None = None
    group_action_type: int | None = None
    associated_message_guid: str | None = None
    associated_message_type: int | None = None
    thread_originator_guid: str | None = None
    reply_to_guid: str | None = None
    balloon_bundle_id: str | None = None
    expressive_send_style_id: str | None = None
    cache_has_attachments: int | None = None
    attachment_details: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class MacMessage(IosMessage):
    """One ``message`` row of a macOS ``chat.db``: the same schema and fields as iOS's ``sms.db``."""

    record_type: ClassVar[str] = "chat/macos/imessage/message"


SMS_FLAG_LABELS: Mapping[object, str] = {
    2: "received",
    3: "sent",
    33: "send failed",
    129: "deleted",
    16387: "sent",
}
MADRID_FLAG_LABELS: Mapping[object, str] = {
    12289: "received",
    77825: "received",
    36869: "sent",
    45061: "sent",
    102405: "sent",
}
_SENT_FLAGS = {3, 33, 16387}
_RECEIVED_FLAGS = {2}


@dataclass(frozen=True, kw_only=True)
class IosLegacyMessage(MessageFields, Record):
    """One ``message`` row of an iOS 3 to 5 ``sms.db``: an SMS/MMS, or an iMessage (``is_madrid`` 1).

    ``timestamp`` is ``date`` in Unix seconds for SMS and seconds since 2001 for iMessage rows
    (``time_basis``). ``flags`` (SMS) and ``madrid_flags`` (iMessage) are raw; ``from_me`` is set
    only for the values whose meaning public parsers agree on (see ``labels``).
    """

    record_type: ClassVar[str] = "chat/ios/imessage-legacy/message"
    app: ClassVar[str] = "imessage"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "flags": SMS_FLAG_LABELS,
        "madrid_flags": MADRID_FLAG_LABELS,
        "is_madrid": {0: "SMS", 1: "iMessage"},
        "group_type": {0: "one-to-one", 1: "group"},
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    is_madrid: int | None = None
    time_basis: str | None = None
    read_time: TimeValue | None = None
    delivered_time: TimeValue | None = None
    body_source: str | None = None
    attributed_body_text: str | None = None
    attributed_body_note: str | None = None
    address: str | None = None
    flags: int | None = None
    group_id: int | None = None
    group_type: int | None = None
    subject: str | None = None
    country: str | None = None
    read: int | None = None
    madrid_handle: str | None = None
    madrid_flags: int | None = None
    madrid_guid: str | None = None
    madrid_roomname: str | None = None
    madrid_service: str | None = None
    madrid_account: str | None = None
    madrid_error: int | None = None
    attachment_details: tuple[Mapping[str, Any], ...] = ()


# --- shared helpers --------------------------------------------------------------------------------

_TYPE_PREFIX = re.compile(r"^[EePp]:")


def _account(value: object) -> str | None:
    """``e:name@example.org`` / ``p:+4477...`` without the type prefix Messages puts on accounts."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _TYPE_PREFIX.sub("", value.strip(), count=1) or None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: object) -> bool | None:
    return None if _int(value) is None else bool(value)


@dataclass(frozen=True)
class _Body:
    body: str | None
    source: str | None
    archived: str | None  # the archive's text when it differs from ``text``
    note: str | None


def _body(text: object, archive: object) -> _Body:
    """``text``, or the attributed string's text when ``text`` is NULL; both kept when they differ."""
    decoded: str | None = None
    note: str | None = None
    if isinstance(archive, bytes) and archive:
        try:
            decoded = attributed_string_text(archive)
        except TypedStreamError as exc:
            note = f"attributedBody not read: {exc}"
    elif archive is not None and not isinstance(archive, bytes):
        note = f"attributedBody is {type(archive).__name__}, not an archive"
    if isinstance(text, str):
        return _Body(text, "text", decoded if decoded is not None and decoded != text else None, note)
    if decoded is not None:
        return _Body(decoded, "attributedBody", None, note)
    return _Body(None, None, None, note)


_HOME_DB_DIRS = ("/library/sms", "/library/messages")
_MOBILE_HOME = re.compile(r"^(?:/private)?/var/mobile/(.*)$", re.DOTALL)
_MAC_HOME = re.compile(r"^/Users/[^/]+/(.*)$", re.DOTALL)


def attachment_candidates(db_path: str, recorded: str) -> list[str]:
    """Absolute paths in the same evidence where the file Messages recorded as ``recorded`` may be.

    ``~`` and a ``/var/mobile`` or ``/Users/<name>`` prefix are the home of the database's user:
    two folders above ``Library/SMS/sms.db`` (or ``Library/Messages/chat.db``). A backup's
    ``HomeDomain`` home has its attachments in ``MediaDomain``; a database copied out beside its
    ``Attachments`` folder has them next to it.
    """
    db_dir = posixpath.dirname(db_path) or "/"
    home: str | None = None
    for suffix in _HOME_DB_DIRS:
        if db_dir.lower().endswith(suffix):
            home = db_dir[: -len(suffix)] or "/"
    out: list[str] = []
    rest: str | None = None
    if recorded.startswith("~/"):
        rest = recorded[2:]
    elif recorded.startswith("/"):
        out.append(recorded)
        if recorded.startswith("/var/"):
            out.append("/private" + recorded)
        match = _MOBILE_HOME.match(recorded) or _MAC_HOME.match(recorded)
        rest = match.group(1) if match else None
    else:
        out.append(posixpath.join(db_dir, recorded))
    if rest:
        if home is not None:
            out.append(posixpath.join(home, rest))
            if posixpath.basename(home) == "HomeDomain":
                out.append(posixpath.join(posixpath.dirname(home), "MediaDomain", rest))
        for lib in ("Library/SMS/", "Library/Messages/"):
            if rest.startswith(lib):
                out.append(posixpath.join(db_dir, rest[len(lib) :]))
    seen: set[str] = set()
    unique = []
    for path in out:
        norm = posixpath.normpath(path)
        norm = "/" + norm.lstrip("/")
        if norm not in seen:
            seen.add(norm)
            unique.append(norm)
    return unique


def locate(item: FileItem, recorded: object) -> tuple[str | None, int | None]:
    """The path and size of the recorded attachment in the same evidence, or ``(None, None)``."""
    if not isinstance(recorded, str) or not recorded.strip():
        return None, None
    for candidate in attachment_candidates(item.path, recorded):
        for found in item.find(candidate):
            if found.path == candidate:  # find() reads * and ? as wildcards: keep the exact file
                return found.path, found.size
    return None, None


# --- iOS 6+ / macOS --------------------------------------------------------------------------------

MESSAGES = Table(
    "message",
    key="ROWID",
    required=("guid", "text", "handle_id", "date", "is_from_me"),
    optional=(
        "service",
        "account",
        "destination_caller_id",
        "attributedBody",
        "subject",
        "date_read",
        "date_delivered",
        "date_played",
        "date_edited",
        "date_retracted",
        "is_read",
        "is_delivered",
        "is_sent",
        "is_finished",
        "is_audio_message",
        "is_system_message",
        "error",
        "type",
        "item_type",
        "other_handle",
        "group_title",
        "group_action_type",
        "associated_message_guid",
        "associated_message_type",
        "thread_originator_guid",
        "reply_to_guid",
        "balloon_bundle_id",
        "expressive_send_style_id",
        "cache_has_attachments",
    ),
    label="Messages",
)
HANDLES = Table("handle", key="ROWID", required=("id",), optional=("service", "country"))
CHATS = Table(
    "chat",
    key="ROWID",
    required=("guid",),
    optional=("chat_identifier", "display_name", "style", "service_name", "account_login"),
)
CHAT_MEMBERS = Table("chat_handle_join", key="chat_id", required=("handle_id",))
CHAT_OF_MESSAGE = Table(
    "chat_message_join",
    key="message_id",
    required=("chat_id",),
    order_by="chat_message_join.message_id, chat_message_join.chat_id",
)
ATTACHMENTS = Table(
    "message_attachment_join",
    key="message_id",
    required=("attachment_id",),
    joins=(
        Join(
            "attachment",
            on="attachment_id",
            key="ROWID",
            optional=(
                "guid",
                "filename",
                "mime_type",
                "uti",
                "transfer_name",
                "total_bytes",
                "transfer_state",
                "is_outgoing",
                "created_date",
            ),
        ),
    ),
    order_by="message_attachment_join.message_id, message_attachment_join.attachment_id",
)


@dataclass
class _Lookups:
    handles: dict[object, sqlite3.Row]
    chats: dict[object, sqlite3.Row]
    members: dict[object, list[object]]
    chat_of: RowGroups
    attachments: RowGroups
    ns_column: str | None


class _Messages(SqliteTablePlugin[_Lookups]):
    """Reads the ``message`` table of iOS 6+ / macOS Messages (run by :class:`IMessagePlugin`)."""

    tables = (MESSAGES,)

    def __init__(self, item: FileItem, record_class: type[IosMessage]) -> None:
        self.item = item
        self.record_class = record_class

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> _Lookups:
        """Handles, chats and members in memory (small); chats and files per message in step."""
        columns = table_columns(con, "message")
        ns_column = next((c for c in NS_ERA_COLUMNS if c in columns), None)
        handles = {row["ROWID"]: row for row in read_rows(con, ctx, HANDLES)}
        if not table_columns(con, "handle"):
            ctx.warn("table handle is missing: senders and recipients are not named")
        members: dict[object, list[object]] = {}
        for row in read_rows(con, ctx, CHAT_MEMBERS):
            members.setdefault(row["chat_id"], []).append(row["handle_id"])
        return _Lookups(
            handles=handles,
            chats={row["ROWID"]: row for row in read_rows(con, ctx, CHATS)},
            members=members,
            chat_of=RowGroups(con, ctx, CHAT_OF_MESSAGE, by="message_id"),
            attachments=RowGroups(con, ctx, ATTACHMENTS, by="message_id"),
            ns_column=ns_column,
        )

    def _handle(self, lookups: _Lookups, handle_id: object) -> str | None:
        row = lookups.handles.get(handle_id)
        return None if row is None else _str(row["id"])

    def record(self, row: sqlite3.Row, at: RowContext[_Lookups]) -> IosMessage:
        """One ``message`` row with its handle, chat, members and attachments."""
        look = at.lookups
        ns = look.ns_column is not None
        basis = (
            f"schema: message.{look.ns_column} exists (after iOS 11): nanoseconds since 2001"
            if ns
            else MAGNITUDE_RULE
        )
        chat_ids = tuple(
            sorted({r["chat_id"] for r in look.chat_of.take(row["ROWID"]) if _int(r["chat_id"])})
        )
        chat = look.chats.get(chat_ids[0]) if chat_ids else None
        if chat_ids and chat is None:
            at.warn(f"chat {chat_ids[0]} not found")
        member_ids = look.members.get(chat_ids[0], []) if chat_ids else []
        members = tuple(h for h in (self._handle(look, m) for m in member_ids) if h)
        handle_id = _int(row["handle_id"])
        handle = self._handle(look, handle_id) if handle_id else None
        if handle_id and handle is None and look.handles:
            at.warn(f"handle {handle_id} not found")
        style = _int(chat["style"]) if chat is not None else None
        group = style == 43 or len(members) > 1
        from_me = _flag(row["is_from_me"])
        account = (
            _str(row["destination_caller_id"])
            or _account(row["account"])
            or (_account(chat["account_login"]) if chat is not None else None)
        )
        if group:
            party = None
        else:
            party = handle or (members[0] if members else None)
            if party is None and chat is not None:
                party = _str(chat["chat_identifier"])
        if from_me:
            sender = account
            recipients = members or ((handle,) if handle else ())
        else:
            sender = handle
            recipients = ()
        text = _body(row["text"], row["attributedBody"])
        if text.note and text.body is None:
            at.warn(text.note)
        files, details = self._attachments(look, row["ROWID"])
        handle_row = look.handles.get(handle_id) if handle_id else None
        title = _str(chat["display_name"]) if chat is not None else None
        return build_record(
            self.record_class,
            source=at.source,
            locator=at.locator,
            rowid=row["ROWID"],
            guid=_str(row["guid"]),
            service=_str(row["service"]),
            timestamp=apple_time(row["date"], ns),
            time_basis=basis,
            read_time=apple_time(row["date_read"], ns),
            delivered_time=apple_time(row["date_delivered"], ns),
            played_time=apple_time(row["date_played"], ns),
            edited_time=apple_time(row["date_edited"], ns),
            retracted_time=apple_time(row["date_retracted"], ns),
            body=text.body,
            body_source=text.source,
            attributed_body_text=text.archived,
            attributed_body_note=text.note,
            subject=_str(row["subject"]),
            from_me=from_me,
            party=party,
            sender=sender,
            recipients=recipients,
            account=account,
            conversation=_str(chat["guid"]) if chat is not None else None,
            conversation_title=title or None,
            attachments=files,
            attachment_details=details,
            handle_id=handle_id,
            handle=handle,
            handle_service=_str(handle_row["service"]) if handle_row is not None else None,
            message_account=_str(row["account"]),
            destination_caller_id=_str(row["destination_caller_id"]),
            chat_ids=chat_ids,
            chat_identifier=_str(chat["chat_identifier"]) if chat is not None else None,
            chat_style=style,
            chat_service=_str(chat["service_name"]) if chat is not None else None,
            is_read=_int(row["is_read"]),
            is_delivered=_int(row["is_delivered"]),
            is_sent=_int(row["is_sent"]),
            is_finished=_int(row["is_finished"]),
            is_audio_message=_int(row["is_audio_message"]),
            is_system_message=_int(row["is_system_message"]),
            error=_int(row["error"]),
            message_type=_int(row["type"]),
            item_type=_int(row["item_type"]),
            other_handle=_int(row["other_handle"]),
            group_title=_str(row["group_title"]),
            group_action_type=_int(row["group_action_type"]),
            associated_message_guid=_str(row["associated_message_guid"]),
            associated_message_type=_int(row["associated_message_type"]),
            thread_originator_guid=_str(row["thread_originator_guid"]),
            reply_to_guid=_str(row["reply_to_guid"]),
            balloon_bundle_id=_str(row["balloon_bundle_id"]),
            expressive_send_style_id=_str(row["expressive_send_style_id"]),
            cache_has_attachments=_int(row["cache_has_attachments"]),
        )

    def _attachments(
        self, look: _Lookups, message_id: object
    ) -> tuple[tuple[Attachment, ...], tuple[Mapping[str, Any], ...]]:
        files: list[Attachment] = []
        details: list[Mapping[str, Any]] = []
        for att in look.attachments.take(message_id):
            if att["attachment.ROWID"] is None:
                details.append({"attachment_id": att["attachment_id"], "missing": True})
                continue
            recorded = _str(att["attachment.filename"])
            path, size = locate(self.item, recorded)
            files.append(
                Attachment(
                    name=_str(att["attachment.transfer_name"]),
                    mime=_str(att["attachment.mime_type"]),
                    recorded_path=recorded,
                    path=path,
                    size=size,
                )
            )
            created = att["attachment.created_date"]
            details.append(
                {
                    "attachment_id": att["attachment.ROWID"],
                    "guid": _str(att["attachment.guid"]),
                    "uti": _str(att["attachment.uti"]),
                    "total_bytes": _int(att["attachment.total_bytes"]),
                    "transfer_state": _int(att["attachment.transfer_state"]),
                    "is_outgoing": _int(att["attachment.is_outgoing"]),
                    "created": apple_time(created, False) if created is not None else None,
                }
            )
        return tuple(files), tuple(details)


# --- iOS 3 to 5 ------------------------------------------------------------------------------------

LEGACY_MESSAGES = Table(
    "message",
    key="ROWID",
    required=("address", "date", "text", "flags"),
    optional=(
        "group_id",
        "subject",
        "country",
        "read",
        "is_madrid",
        "madrid_attributedBody",
        "madrid_handle",
        "madrid_guid",
        "madrid_roomname",
        "madrid_service",
        "madrid_account",
        "madrid_flags",
        "madrid_error",
        "madrid_date_read",
        "madrid_date_delivered",
    ),
    label="Messages",
)
GROUPS = Table("msg_group", key="ROWID", optional=("type",))
GROUP_MEMBERS = Table("group_member", key="ROWID", required=("group_id", "address"))
MADRID_CHATS = Table("madrid_chat", key="ROWID", required=("room_name",), optional=("participants",))
MADRID_ATTACHMENTS = Table(
    "madrid_attachment",
    key="ROWID",
    required=("message_id",),
    optional=("attachment_guid", "filename", "mime_type", "uti_type", "transfer_state", "is_incoming"),
    order_by="madrid_attachment.message_id, madrid_attachment.ROWID",
)
PIECES = Table(
    "msg_pieces",
    key="ROWID",
    required=("message_id",),
    optional=("part_id", "content_type", "content_loc"),
    order_by="msg_pieces.message_id, msg_pieces.part_id, msg_pieces.ROWID",
)


@dataclass
class _LegacyLookups:
    groups: dict[object, sqlite3.Row]
    members: dict[object, list[str]]
    rooms: dict[object, tuple[str, ...]]
    attachments: RowGroups
    pieces: RowGroups
    madrid: bool


def _participants(blob: object) -> tuple[str, ...]:
    """The handles of an iOS 5 ``madrid_chat.participants`` property list (an array of strings)."""
    if not isinstance(blob, bytes) or not blob:
        return ()
    try:
        value = plistlib.loads(blob)
    except Exception:  # plistlib raises several types on bad input; a bad list names nobody
        return ()
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


class _LegacyMessages(SqliteTablePlugin[_LegacyLookups]):
    """Reads the ``message`` table of iOS 3 to 5 Messages (run by :class:`IMessagePlugin`)."""

    tables = (LEGACY_MESSAGES,)

    def __init__(self, item: FileItem) -> None:
        self.item = item

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> _LegacyLookups:
        """Threads and their members, group chats, and per message its attachments and MMS parts."""
        members: dict[object, list[str]] = {}
        for row in read_rows(con, ctx, GROUP_MEMBERS):
            if isinstance(row["address"], str):
                members.setdefault(row["group_id"], []).append(row["address"])
        return _LegacyLookups(
            groups={row["ROWID"]: row for row in read_rows(con, ctx, GROUPS)},
            members=members,
            rooms={
                row["room_name"]: _participants(row["participants"])
                for row in read_rows(con, ctx, MADRID_CHATS)
            },
            attachments=RowGroups(con, ctx, MADRID_ATTACHMENTS, by="message_id"),
            pieces=RowGroups(con, ctx, PIECES, by="message_id"),
            madrid="is_madrid" in table_columns(con, "message"),
        )

    def record(self, row: sqlite3.Row, at: RowContext[_LegacyLookups]) -> IosLegacyMessage:
        """One ``message`` row: SMS/MMS in Unix seconds, iMessage in seconds since 2001."""
        look = at.lookups
        is_madrid = _int(row["is_madrid"])
        if is_madrid == 1:
            timestamp = from_cocoa_seconds(row["date"])
            basis = "schema: iOS 5 iMessage row (is_madrid = 1): seconds since 2001"
        elif look.madrid:
            timestamp = from_unix_seconds(row["date"])
            basis = f"schema: iOS 5 SMS row (is_madrid = {is_madrid}): Unix seconds"
        else:
            timestamp = from_unix_seconds(row["date"])
            basis = "schema: no madrid columns (iOS 4 or older, SMS only): Unix seconds"
        flags = _int(row["flags"])
        madrid_flags = _int(row["madrid_flags"])
        from_me: bool | None = None
        if is_madrid == 1:
            label = MADRID_FLAG_LABELS.get(madrid_flags)
            from_me = None if label is None else label == "sent"
        elif flags in _SENT_FLAGS:
            from_me = True
        elif flags in _RECEIVED_FLAGS:
            from_me = False
        group_id = _int(row["group_id"])
        group = look.groups.get(group_id) if group_id else None
        group_type = _int(group["type"]) if group is not None else None
        room = _str(row["madrid_roomname"])
        members = tuple(look.members.get(group_id, ())) if group_id else ()
        if room:
            members = look.rooms.get(room, ()) or members
        other = _str(row["madrid_handle"]) if is_madrid == 1 else _str(row["address"])
        is_group = bool(room) or group_type == 1 or len(members) > 1
        account = _account(row["madrid_account"])
        text = _body(row["text"], row["madrid_attributedBody"])
        if text.note and text.body is None:
            at.warn(text.note)
        files, details = self._attachments(look, row["ROWID"])
        if group_id:
            conversation: str | None = str(group_id)
        else:
            conversation = room or other
        return IosLegacyMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["ROWID"],
            timestamp=timestamp,
            time_basis=basis,
            read_time=from_cocoa_seconds(row["madrid_date_read"]) if is_madrid == 1 else None,
            delivered_time=from_cocoa_seconds(row["madrid_date_delivered"]) if is_madrid == 1 else None,
            body=text.body,
            body_source=text.source,
            attributed_body_text=text.archived,
            attributed_body_note=text.note,
            from_me=from_me,
            party=None if is_group else other,
            sender=account if from_me else (other if from_me is False else None),
            recipients=(members or ((other,) if other else ())) if from_me else (),
            account=account,
            conversation=conversation,
            status=madrid_flags if is_madrid == 1 else flags,
            attachments=files,
            attachment_details=details,
            is_madrid=is_madrid,
            address=_str(row["address"]),
            flags=flags,
            group_id=group_id,
            group_type=group_type,
            subject=_str(row["subject"]),
            country=_str(row["country"]),
            read=_int(row["read"]),
            madrid_handle=_str(row["madrid_handle"]),
            madrid_flags=madrid_flags,
            madrid_guid=_str(row["madrid_guid"]),
            madrid_roomname=room,
            madrid_service=_str(row["madrid_service"]),
            madrid_account=_str(row["madrid_account"]),
            madrid_error=_int(row["madrid_error"]),
        )

    def _attachments(
        self, look: _LegacyLookups, message_id: object
    ) -> tuple[tuple[Attachment, ...], tuple[Mapping[str, Any], ...]]:
        files: list[Attachment] = []
        details: list[Mapping[str, Any]] = []
        for att in look.attachments.take(message_id):
            recorded = _str(att["filename"])
            path, size = locate(self.item, recorded)
            files.append(
                Attachment(
                    name=posixpath.basename(recorded) if recorded else None,
                    mime=_str(att["mime_type"]),
                    recorded_path=recorded,
                    path=path,
                    size=size,
                )
            )
            details.append(
                {
                    "table": "madrid_attachment",
                    "attachment_id": att["ROWID"],
                    "guid": _str(att["attachment_guid"]),
                    "uti": _str(att["uti_type"]),
                    "transfer_state": _int(att["transfer_state"]),
                    "is_incoming": _int(att["is_incoming"]),
                }
            )
        for piece in look.pieces.take(message_id):
            mime = _str(piece["content_type"])
            if mime and mime.lower() == "application/smil":
                continue  # the MMS layout, not content
            files.append(Attachment(name=_str(piece["content_loc"]), mime=mime))
            details.append(
                {"table": "msg_pieces", "piece_id": piece["ROWID"], "part_id": _int(piece["part_id"])}
            )
        return tuple(files), tuple(details)


# --- the plugin ------------------------------------------------------------------------------------

_NAMED = re.compile(r"(?:^|/)(?:sms\.db|library/messages/chat\.db)$", re.IGNORECASE)


class IMessagePlugin(Plugin):
    """Reads Apple Messages databases: iOS ``sms.db`` (iOS 3 and later) and macOS ``chat.db``.

    Emits one record per ``message`` row: :class:`IosMessage` (iOS 6+), :class:`MacMessage`
    (a file named ``chat.db``) or :class:`IosLegacyMessage` (iOS 3 to 5), choosing the layout
    from the ``message`` table's columns. A file named like a Messages database whose tables are
    neither layout is reported as an unsupported schema.
    """

    name = "imessage"
    version = "1.1.0"
    description = "Apple Messages: SMS, MMS and iMessage (iOS sms.db, iOS 3 to current; macOS chat.db)"
    targets = Targets(
        globs=("**/Library/SMS/sms.db", "**/sms.db", "**/Library/Messages/chat.db"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(Table("message", key="ROWID", required=("date", "text"))),
    )
    emits = (IosMessage, MacMessage, IosLegacyMessage)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """The layout is chosen from the ``message`` table's columns, then read row by row."""
        columns = table_columns(ctx.open_sqlite(item), "message")
        reader: SqliteTablePlugin[Any]
        if {"guid", "handle_id", "is_from_me"} <= columns:
            reader = _Messages(item, MacMessage if item.name.lower() == "chat.db" else IosMessage)
        elif {"address", "flags"} <= columns:
            reader = _LegacyMessages(item)
        elif _NAMED.search(item.path):
            ctx.warn(
                f"unsupported schema: {item.path} is named like a Messages database but its message "
                f"table ({', '.join(sorted(columns)) or 'absent'}) is neither the iOS 6+ layout "
                f"(guid, handle_id, is_from_me) nor the iOS 3 to 5 one (address, flags); "
                f"plugin {self.name} read nothing"
            )
            return
        else:
            raise NotMyFormat("message table is not Apple Messages'")
        yield from reader.parse(item, ctx)
