"""Telegram for Android: messages, calls and contacts from its cache database ``cache4.db``.

Where: ``/data/data/org.telegram.messenger/files/cache4.db`` for the first account and
``files/account<N>/cache4.db`` for the others (forks built on the same code, such as
``org.telegram.messenger.web``, keep the same file). The app writes it in WAL mode: the ``-wal``
beside it is replayed on the scratch copy, so messages still only in the WAL are read.

What is read (facts from the app's open-source ``MessagesStorage.java`` and the published TL schema):

- ``messages_v2`` (app versions from 8.0, 2021, database ``user_version`` 84 and later) or
  ``messages`` (older ones; the migration copied it into ``messages_v2`` and dropped it): one row
  per message the device holds, ``mid`` (the message id), ``uid`` (the dialog id), ``date`` (Unix
  seconds), ``out`` (1 for outgoing or scheduled), ``read_state`` (bit 0: read, bit 1: media
  played; on outgoing messages "read" is the other side's read receipt), ``send_state`` (0 sent,
  1 sending, 2 failed, 3 being edited), ``ttl`` and ``data``, the message as a TL object. The
  row's own columns give the time, the dialog and the direction; everything else (text, sender,
  reply, forward, attachment) comes from decoding ``data``.
- ``users`` (``uid``, ``name``: the lower-case search name "first last;;;username", ``status``:
  Unix seconds the user was last seen or is online until, or -100/-101/-102 for "recently",
  "within a week", "within a month"; ``data``: the TL ``User``): one contact record each, and the
  names used for senders and conversations. The owner of the account is the user whose ``self``
  flag is set; its id is every record's ``account``.
- ``chats`` (TL ``Chat``: group and channel titles) and ``enc_chats`` (secret chats: ``uid`` the
  secret chat id, ``user`` the other party) for conversation names. Their key material
  (``authkey``...) is never read.

Dialog ids as the app writes them: a user's id (positive); minus a group's or channel's id; for a
secret chat ``0x4000000000000000 | chat id`` (``messages_v2``) or ``chat id << 32``
(``messages``). ``conversation``, ``party`` and ``sender`` use that form, as text (``"777000"``,
``"-1234"``; not the Bot API's ``-100...``); ``peer`` and the other peer fields say ``user:``,
``chat:`` or ``channel:``.

Decoding ``data``: a blob names its own constructor (its layer's layout), and every layer from 54
to 229 and Telegram Android's own older and secret-chat forms are in the table
(:mod:`plugins.chat._telegram_schema`), read by a bounded reader (:mod:`plugins.chat._telegram_tl`,
which says why Telethon's is not used). A message is read up to its attachment: the attachment's
kind is kept (``media_kind``: photo, document, geo, venue, contact, web_page, poll...), with the
position of a location (``latitude``/``longitude``, WGS-84 degrees as sent), the phone and name
of a shared contact, a document's file name, MIME type, size and type (voice, video, sticker...),
a link preview's URL and title. A service message keeps its action's kind (``action``) and, for a
group's creation or renaming, the title; a phone-call action becomes a call record instead (its
duration, whether video, and why it ended: missed, busy, hangup, disconnect).

Problems, and what is done: a blob whose constructor is unknown (a newer layer, or not TL at all) is
counted, and reported once per constructor and file ("N messages with unknown constructor 0x...
(first at ...)"); its record still carries what the row's columns say, with ``body`` None. The
same count covers an unknown constructor nested inside a message: the fields read before it are
kept. Messages whose text comes after an object the table lists only in part (a reply quoting a
link preview from another chat) are counted the same way, with ``body`` None. A truncated or malformed blob is one warning naming its row (the first 20 per table; the
rest are counted), and the record keeps what was read before the damage.

Known limits: attachments are described as the app recorded them, never looked up in the evidence
(the local path Telegram keeps for a sent file is at the end of the blob, after fields this reader
does not model); a caption stored inside the attachment by layers before 54 and some
pre-2016 attachment forms are not decoded (the kind is); ``scheduled_messages_v2``,
``messages_topics`` (forum topics), the ``replydata`` copy of the replied-to message and the
address-book tables (``user_contacts_v7``, ``user_phones_v7``) are not read; the pre-2014 user and
chat forms fall back to the ``name`` column (lower case). The secret-chat message form is read as
the app's 9.x code stores it (sender as a 32-bit id).

No public copy of a Telegram cache exists to test against: the tests build ``cache4.db`` files from
the app's schema and serialise their blobs with a TL writer of their own, from the published schema.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from plugins.chat._telegram_schema import SCHEMA as _SCHEMA_TEXT
from plugins.chat._telegram_tl import Decoded, Schema, UnknownConstructor, decode
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
    from_unix_seconds,
    read_rows,
    sqlite_signature,
    table_columns,
)

SCHEMA = Schema(_SCHEMA_TEXT)

SEND_STATE_LABELS: Mapping[object, str] = {0: "sent", 1: "sending", 2: "send failed", 3: "being edited"}
READ_STATE_LABELS: Mapping[object, str] = {
    0: "not read, media not played",
    1: "read, media not played",
    2: "not read",
    3: "read",
}
USER_STATUS_LABELS: Mapping[object, str] = {
    0: "no status",
    -100: "last seen recently",
    -101: "last seen within a week",
    -102: "last seen within a month",
}

#: Corrupt-blob warnings listed per table; further ones are counted in one closing warning.
MAX_BLOB_WARNINGS = 20

_SECRET_DIALOG = 1 << 62  # DialogObject.makeEncryptedDialogId (app 8.0+)
_LOW32 = 0xFFFFFFFF

# flag bits the reader leaves in the flags words (the ``true`` fields of the schema)
_MSG_OUT = 1 << 1
_USER_SELF, _USER_CONTACT, _USER_MUTUAL, _USER_DELETED, _USER_BOT = (1 << b for b in range(10, 15))
_CALL_VIDEO = 1 << 2
_AUDIO_VOICE = 1 << 10
_VIDEO_ROUND = 1 << 0


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TelegramAndroidMessage(MessageFields, GeoFields, Record):
    """One row of ``messages_v2`` (or ``messages``), its ``data`` blob decoded.

    ``timestamp`` is the row's ``date``; ``from_me`` its ``out``; ``status`` its ``send_state``;
    ``conversation`` its ``uid`` (the dialog id). ``message_id`` and the fields after it come
    from the blob: ``peer``/``from_peer`` as ``user:``/``chat:``/``channel:`` ids,
    ``reply_to_msg_id`` (and ``reply_to_peer`` when the reply quotes another chat, or
    ``reply_to_random_id`` in a secret chat), ``fwd_from``/``fwd_from_name``/``fwd_date`` for a
    forwarded message, ``media_kind`` for an attachment, ``action`` for a service message.
    ``tl_constructor`` is the blob's constructor id, ``tl_layers`` the layers that have it, and
    ``decode_problem`` says what could not be read (``body`` is None when the text was not reached).
    """

    record_type: ClassVar[str] = "chat/android/telegram/message"
    app: ClassVar[str] = "telegram"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "status": SEND_STATE_LABELS,
        "read_state": READ_STATE_LABELS,
    }

    table: str
    mid: int | None = None
    dialog_id: int | None = None
    read_state: int | None = None
    ttl: int | None = None
    secret_chat_id: int | None = None
    message_id: int | None = None
    peer: str | None = None
    from_peer: str | None = None
    sender_name: str | None = None
    reply_to_msg_id: int | None = None
    reply_to_peer: str | None = None
    reply_to_random_id: int | None = None
    fwd_from: str | None = None
    fwd_from_name: str | None = None
    fwd_date: TimeValue | None = None
    via_bot_id: int | None = None
    media_kind: str | None = None
    document_type: str | None = None
    media_size: int | None = None
    media_duration: float | None = None
    media_url: str | None = None
    media_title: str | None = None
    venue_address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    action: str | None = None
    action_title: str | None = None
    tl_constructor: str | None = None
    tl_name: str | None = None
    tl_layers: str | None = None
    decode_problem: str | None = None


@dataclass(frozen=True, kw_only=True)
class TelegramAndroidCall(CallFields, Record):
    """A phone call, as the service message Telegram keeps in the chat with the other party.

    ``timestamp`` is the row's ``date``, ``from_me`` its ``out`` (an outgoing call); ``duration``
    (seconds), ``video``, ``call_id`` and ``status`` (why the call ended: ``missed``, ``busy``,
    ``hangup``, ``disconnect``...; None when not recorded) come from the action in the blob.
    """

    record_type: ClassVar[str] = "chat/android/telegram/call"
    app: ClassVar[str] = "telegram"

    table: str
    mid: int | None = None
    dialog_id: int | None = None
    party_name: str | None = None
    message_id: int | None = None
    call_id: int | None = None
    tl_constructor: str | None = None
    decode_problem: str | None = None


@dataclass(frozen=True, kw_only=True)
class TelegramAndroidContact(ContactFields, Record):
    """One row of ``users``: a Telegram user the account has met (contact, group member, bot).

    ``name`` is first and last name from the blob (else the lower-case search name of the ``name``
    column); ``phones`` the phone number as Telegram gave it (digits, no ``+``; often hidden);
    ``account_ids`` the user id and, when set, the username. ``status`` is the raw column and
    ``last_seen`` its time when it holds one.
    """

    record_type: ClassVar[str] = "chat/android/telegram/contact"
    app: ClassVar[str] = "telegram"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"status": USER_STATUS_LABELS}

    user_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_self: bool | None = None
    is_contact: bool | None = None
    is_mutual_contact: bool | None = None
    is_deleted: bool | None = None
    is_bot: bool | None = None
    status: int | None = None
    last_seen: TimeValue | None = None
    search_name: str | None = None
    tl_constructor: str | None = None
    tl_name: str | None = None
    tl_layers: str | None = None
    decode_problem: str | None = None


# --- tables ---------------------------------------------------------------------------------------

MESSAGES_V2 = Table(
    "messages_v2",
    key="rowid",  # the primary key is (mid, uid): mid alone repeats across channels
    required=("mid", "uid", "date", "data", "out"),
    optional=("read_state", "send_state", "ttl"),
    label="Telegram messages",
)
MESSAGES = Table(
    "messages",
    key="mid",
    required=("uid", "date", "data", "out"),
    optional=("read_state", "send_state", "ttl"),
    label="Telegram messages",
)
USERS = Table("users", key="uid", required=("name", "status", "data"), label="Telegram users")
CHATS = Table("chats", key="uid", required=("name", "data"), label="Telegram chats")
DIALOGS = Table("dialogs", key="did", required=("date",))
SECRET_CHATS = Table("enc_chats", key="uid", optional=("user",))


# --- decoded rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _User:
    """A decoded ``users`` row (or only its ``name`` column when the blob was unreadable)."""

    first: str | None = None
    last: str | None = None
    username: str | None = None
    phone: str | None = None
    flags: int | None = None
    search_name: str | None = None
    decoded: Decoded | None = None

    @property
    def name(self) -> str | None:
        full = " ".join(p for p in (self.first, self.last) if p)
        if full:
            return full
        if self.search_name:  # "first last;;;username", lower case
            return self.search_name.split(";;;", 1)[0] or None
        return None

    def flag(self, bit: int) -> bool | None:
        return None if self.flags is None else bool(self.flags & bit)


class _Tally:
    """One file's blob problems: unknown constructors counted (one warning each at the end),
    corrupt blobs warned row by row up to :data:`MAX_BLOB_WARNINGS` per table, then counted."""

    def __init__(self) -> None:
        self.unknown: dict[tuple[str, int, str], list[Any]] = {}
        self.part_read: dict[tuple[str, str], list[Any]] = {}
        self.corrupt: dict[str, int] = {}

    def problem(
        self, table: str, what: str, result: Decoded, locator: str, warn: Callable[[str], None]
    ) -> str | None:
        """Count or warn about what stopped ``result`` early; the text for ``decode_problem``."""
        err = result.error
        if err is None:
            return None
        if isinstance(err, UnknownConstructor):
            where = re.sub(r"\[\d+\]", "[]", err.where)
            entry = self.unknown.setdefault((table, err.cid, where), [0, locator, what, err.expected])
            entry[0] += 1
            return f"unknown constructor 0x{err.cid:08x} for {err.expected} at {err.where}"
        n = self.corrupt[table] = self.corrupt.get(table, 0) + 1
        text = f"undecodable {what} blob: {err}"
        if n <= MAX_BLOB_WARNINGS:
            warn(text)
        return text

    def text_not_reached(self, table: str, where: str, locator: str) -> str:
        """A message whose text lies after a constructor the table lists only in part."""
        entry = self.part_read.setdefault((table, re.sub(r"\[\d+\]", "[]", where)), [0, locator])
        entry[0] += 1
        return f"text not reached: {where} is read only in part"

    def bad_text(self, table: str, fields: tuple[str, ...], warn: Callable[[str], None]) -> str:
        """Text that was not UTF-8, kept with ``\\x`` escapes: said (a stored ``\\xff`` and typed
        text would otherwise read the same)."""
        n = self.corrupt[table] = self.corrupt.get(table, 0) + 1
        text = f"text that is not UTF-8 in {', '.join(fields)}: its bytes are shown as \\x escapes"
        if n <= MAX_BLOB_WARNINGS:
            warn(text)
        return text

    def no_blob(self, table: str, what: str, warn: Callable[[str], None], held: object = None) -> str:
        n = self.corrupt[table] = self.corrupt.get(table, 0) + 1
        # what the column held instead (found in review: text and integers were "no data blob")
        kind = "NULL" if held is None else f"{type(held).__name__} {str(held)[:40]!r}"
        text = f"{what} row has no data blob: its data column holds {kind}"
        if n <= MAX_BLOB_WARNINGS:
            warn(text)
        return text

    def report(self, ctx: ParseContext) -> None:
        for (table, cid, where), (count, first, what, expected) in self.unknown.items():
            inside = (
                "" if "." not in where else f" in {where.split('.', 1)[1]}; the fields before it are kept"
            )
            ctx.warn(
                f"{count} {what}{'s' if count != 1 else ''} in {table} with unknown {expected} constructor "
                f"0x{cid:08x}{inside} (first at {first})"
            )
        for (table, where), (count, first) in self.part_read.items():
            ctx.warn(
                f"{count} message{'s' if count != 1 else ''} in {table} whose text was not decoded: it follows "
                f"{where.split('.', 1)[-1]}, which this reader reads only in part (first at {first})"
            )
        for table, count in self.corrupt.items():
            if count > MAX_BLOB_WARNINGS:
                ctx.warn(
                    f"table {table}: {count - MAX_BLOB_WARNINGS} more undecodable blob(s) not listed "
                    f"(the first {MAX_BLOB_WARNINGS} are)"
                )


@dataclass
class Lookups:
    """Per file: users, chat titles and secret chats by id, the owner, and the blob tally."""

    users: dict[int, _User]
    chats: dict[int, str | None]
    secret_chats: dict[int, int | None]
    owner: int | None
    legacy_ids: bool
    tally: _Tally = field(default_factory=_Tally)


# --- the plugin -----------------------------------------------------------------------------------


class TelegramAndroidPlugin(SqliteTablePlugin[Lookups]):
    """Reads Telegram for Android's ``cache4.db``: messages (text, sender, reply, forward,
    attachment kind, location), phone calls and the users it knows, from TL-serialised blobs.

    ``tables`` are those of app versions from 8.0; a database of an older version (``messages``
    instead of ``messages_v2``) is read with the same mapping by :class:`_LegacyTelegramAndroid`.
    """

    name = "telegram_android"
    version = "1.1.0"
    description = "Telegram messages, calls and contacts on Android (cache4.db: messages_v2/messages, users)"
    tables = (MESSAGES_V2, USERS)
    targets = Targets(
        globs=("**/cache4.db",),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(USERS, CHATS, DIALOGS),  # the tables every app version has
    )
    emits = (TelegramAndroidMessage, TelegramAndroidCall, TelegramAndroidContact)

    _lookups: Lookups | None = None

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """Messages (``messages_v2``, else the older ``messages``) and calls, then the users; then
        one warning per unknown constructor met in the file."""
        con = ctx.open_sqlite(item)
        try:
            if table_columns(con, MESSAGES_V2.name):
                reader: TelegramAndroidPlugin = type(self)()  # one per file: it holds the file's lookups
            elif table_columns(con, MESSAGES.name):
                reader = _LegacyTelegramAndroid()
            else:
                ctx.warn(
                    f"unsupported schema: {item.path} has no messages_v2 or messages table; {self.name} read nothing"
                )
                return
            missing = [
                f"{t.name}.{c}"
                for t in reader.tables
                for c in t.required
                if c.lower() not in table_columns(con, t.name)
            ]
        finally:
            con.close()
        if missing:
            ctx.warn(f"unsupported schema: {item.path} lacks {', '.join(missing)}; {self.name} read nothing")
            return
        yield from SqliteTablePlugin.parse(reader, item, ctx)
        if reader._lookups is not None:
            reader._lookups.tally.report(ctx)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """Users (decoded), chat titles and secret chats by id, read once per file."""
        tally = _Tally()
        users: dict[int, _User] = {}
        for row in read_rows(con, ctx, USERS):
            uid = row["uid"]
            if isinstance(uid, int):
                users[uid] = _read_user(row, tally, USERS.locator(uid), ctx)
        chats: dict[int, str | None] = {}
        for row in read_rows(con, ctx, CHATS):
            uid = row["uid"]
            if isinstance(uid, int):
                chats[uid] = _read_chat(row, tally, CHATS.locator(uid), ctx)
        secret: dict[int, int | None] = {}
        for row in read_rows(con, ctx, SECRET_CHATS):
            if isinstance(row["uid"], int):
                secret[row["uid"]] = row["user"] if isinstance(row["user"], int) else None
        owner = next((uid for uid, u in users.items() if u.flag(_USER_SELF)), None)
        legacy = MESSAGES in self.tables
        self._lookups = Lookups(users, chats, secret, owner, legacy, tally)
        return self._lookups

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """A message or call of a message row, or a contact of a ``users`` row."""
        if at.table == USERS.name:
            return _contact(row, at)
        return _message(row, at)


class _LegacyTelegramAndroid(TelegramAndroidPlugin):
    """The same reading for app versions before 8.0, whose messages are in ``messages`` (keyed by
    ``mid``; secret-chat dialog ids are ``chat id << 32``). Not registered: the plugin above
    chooses it per file."""

    tables = (MESSAGES, USERS)


def _warner(ctx: ParseContext, locator: str) -> Callable[[str], None]:
    return lambda text: ctx.warn(text, locator=locator)


def _read_user(row: sqlite3.Row, tally: _Tally, locator: str, ctx: ParseContext) -> _User:
    search = row["name"] if isinstance(row["name"], str) else None
    blob = row["data"]
    if not isinstance(blob, bytes):
        tally.no_blob(USERS.name, "user", _warner(ctx, locator), blob)
        return _User(search_name=search)
    result = decode(blob, "User", SCHEMA, root="user")
    tally.problem(USERS.name, "user", result, locator, _warner(ctx, locator))
    obj = result.obj or {}
    return _User(
        first=_text(obj.get("first_name")),
        last=_text(obj.get("last_name")),
        username=_text(obj.get("username")),
        phone=_text(obj.get("phone")),
        flags=obj.get("flags") if isinstance(obj.get("flags"), int) else None,
        search_name=search,
        decoded=result,
    )


def _read_chat(row: sqlite3.Row, tally: _Tally, locator: str, ctx: ParseContext) -> str | None:
    blob = row["data"]
    if isinstance(blob, bytes):
        result = decode(blob, "Chat", SCHEMA, root="chat")
        tally.problem(CHATS.name, "chat", result, locator, _warner(ctx, locator))
        title = _text((result.obj or {}).get("title"))
        if title:
            return title
    return row["name"] if isinstance(row["name"], str) and row["name"] else None  # lower case


# --- users ----------------------------------------------------------------------------------------


def _contact(row: sqlite3.Row, at: RowContext[Lookups]) -> TelegramAndroidContact:
    look = at.lookups
    uid = row["uid"] if isinstance(row["uid"], int) else None
    user = look.users.get(uid) if uid is not None else None
    if user is None:  # the same rows were read for the lookups: only a key that is no integer
        user = _User(search_name=row["name"] if isinstance(row["name"], str) else None)
    result = user.decoded
    con = result.constructor if result else None
    status = row["status"] if isinstance(row["status"], int) else None
    ids = tuple(str(x) for x in (uid, user.username) if x is not None)
    problem = None
    if result is None:
        problem = "no data blob"
    elif result.error is not None:
        problem = str(result.error)
    return TelegramAndroidContact(
        source=at.source,
        locator=at.locator,
        name=user.name,
        phones=(user.phone,) if user.phone else (),
        account_ids=ids,
        account=_str(look.owner),
        user_id=uid,
        first_name=user.first,
        last_name=user.last,
        username=user.username,
        is_self=user.flag(_USER_SELF),
        is_contact=user.flag(_USER_CONTACT),
        is_mutual_contact=user.flag(_USER_MUTUAL),
        is_deleted=user.flag(_USER_DELETED),
        is_bot=user.flag(_USER_BOT),
        status=status,
        last_seen=from_unix_seconds(status) if status is not None and status > 0 else None,
        search_name=user.search_name,
        tl_constructor=f"0x{con.cid:08x}" if con else None,
        tl_name=con.name if con else None,
        tl_layers=con.layers if con else None,
        decode_problem=problem,
    )


# --- messages -------------------------------------------------------------------------------------


def _message(row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
    look = at.lookups
    dialog = row["uid"] if isinstance(row["uid"], int) else None
    out = row["out"]
    from_me = None if out is None else bool(out)
    secret_id = _secret_chat_id(dialog, look.legacy_ids)
    party_id = _party(dialog, secret_id, look)
    party = _str(party_id)
    title = _title(dialog, secret_id, party_id, look)
    account = _str(look.owner)
    blob = row["data"]
    view: dict[str, Any] = {}
    problem: str | None
    decoded: Decoded | None = None
    if isinstance(blob, bytes):
        decoded = decode(blob, "Message", SCHEMA, root="message")
        where = f"{at.locator}: mid {row['mid']}, dialog {dialog}"  # names the first one in a summary
        problem = look.tally.problem(at.table, "message", decoded, where, at.warn)
        view = _message_view(decoded.obj or {})
        unread = decoded.obj is not None and "body" not in view and "action" not in view
        if problem is None and unread and decoded.ended_at:  # a part-read constructor before the text
            problem = look.tally.text_not_reached(at.table, decoded.ended_at, where)
        if problem is None and decoded.bad_text:
            problem = look.tally.bad_text(at.table, decoded.bad_text, at.warn)
    else:
        problem = look.tally.no_blob(at.table, "message", at.warn, blob)
    con = decoded.constructor if decoded else None
    common: dict[str, Any] = {
        "source": at.source,
        "locator": at.locator,
        "table": at.table,
        "mid": row["mid"] if isinstance(row["mid"], int) else None,
        "dialog_id": dialog,
        "message_id": view.get("message_id"),
        "tl_constructor": f"0x{con.cid:08x}" if con else None,
        "decode_problem": problem,
    }
    timestamp = from_unix_seconds(row["date"])
    from_peer = view.get("from")
    if view.get("action") == "phone_call":
        call = view.get("call", {})
        return TelegramAndroidCall(
            **common,
            timestamp=timestamp,
            duration=call.get("duration"),
            from_me=from_me,
            party=party,
            account=account,
            status=call.get("reason"),
            video=call.get("video"),
            party_name=title,
            call_id=call.get("call_id"),
        )
    if from_me:
        sender = account
    elif from_peer is not None:
        sender = str(_dialog_of(from_peer))
    else:
        sender = party
    recipients: tuple[str, ...] = ()
    if party is not None:
        recipients = (party,) if from_me else ((account,) if account else ())
    sender_name = None
    if from_peer is not None and from_peer[0] == "user":
        sender_name = _user_name(look, from_peer[1])
    elif from_me and look.owner is not None:
        sender_name = _user_name(look, look.owner)
    media = view.get("media", {})
    return build_record(
        TelegramAndroidMessage,
        **common,
        timestamp=timestamp,
        body=view.get("body"),
        from_me=from_me,
        party=party,
        conversation=_str(dialog),
        conversation_title=title,
        account=account,
        sender=sender,
        recipients=recipients,
        attachments=media.get("attachments", ()),
        status=row["send_state"] if isinstance(row["send_state"], int) else None,
        latitude=media.get("lat"),
        longitude=media.get("long"),
        read_state=row["read_state"] if isinstance(row["read_state"], int) else None,
        ttl=row["ttl"] if isinstance(row["ttl"], int) else None,
        secret_chat_id=secret_id,
        peer=_peer_text(view.get("peer")),
        from_peer=_peer_text(from_peer),
        sender_name=sender_name,
        reply_to_msg_id=view.get("reply_to_msg_id"),
        reply_to_peer=_peer_text(view.get("reply_to_peer")),
        reply_to_random_id=view.get("reply_to_random_id"),
        fwd_from=_peer_text(view.get("fwd_from")),
        fwd_from_name=view.get("fwd_from_name"),
        fwd_date=from_unix_seconds(view["fwd_date"]) if "fwd_date" in view else None,
        via_bot_id=view.get("via_bot_id"),
        media_kind=media.get("kind"),
        document_type=media.get("document_type"),
        media_size=media.get("size"),
        media_duration=media.get("duration"),
        media_url=media.get("url"),
        media_title=media.get("title"),
        venue_address=media.get("address"),
        contact_name=media.get("contact_name"),
        contact_phone=media.get("contact_phone"),
        contact_user_id=media.get("contact_user_id"),
        action=view.get("action"),
        action_title=view.get("action_title"),
        tl_name=con.name if con else None,
        tl_layers=con.layers if con else None,
    )


Peer = tuple[str, int]  # ("user" | "chat" | "channel", id)


def _message_view(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields a record needs from a decoded message, whatever its layer's field names."""
    view: dict[str, Any] = {}
    if _int(obj.get("id")) is not None:
        view["message_id"] = obj["id"]
    peer = _peer(obj.get("peer_id", obj.get("to_id")))
    if peer:
        view["peer"] = peer
    sender = obj.get("from_id")
    sender_peer = (
        _peer(sender)
        if isinstance(sender, dict)
        else (("user", sender) if _int(sender) is not None else None)
    )
    if sender_peer:
        view["from"] = sender_peer
    if _int(obj.get("via_bot_id")) is not None:
        view["via_bot_id"] = obj["via_bot_id"]
    _forward(obj, view)
    _reply(obj, view)
    media = obj.get("media")
    if isinstance(media, dict) and "_" in media and media["_"] != "messageMediaEmpty":
        view["media"] = _media(media)
    text = obj.get("message")
    if isinstance(text, str):
        caption = view.get("media", {}).get("caption")
        view["body"] = caption or text or None  # layers <= 74 kept a photo's caption in the media
    action = obj.get("action")
    if isinstance(action, dict) and "_" in action:
        kind = _kind(action["_"], "messageAction")
        view["action"] = kind
        if isinstance(action.get("title"), str):
            view["action_title"] = action["title"]
        if kind == "phone_call":
            flags = _int(action.get("flags")) or 0
            reason = action.get("reason")
            view["call"] = {
                "call_id": _int(action.get("call_id")),
                "duration": _int(action.get("duration")),
                "video": bool(flags & _CALL_VIDEO),
                "reason": _kind(reason["_"], "phoneCallDiscardReason")
                if isinstance(reason, dict) and "_" in reason
                else None,
            }
    return view


def _forward(obj: dict[str, Any], view: dict[str, Any]) -> None:
    fwd = obj.get("fwd_from")
    if isinstance(fwd, dict):
        src = fwd.get("from_id")
        peer = _peer(src) if isinstance(src, dict) else (("user", src) if _int(src) is not None else None)
        if peer is None and _int(fwd.get("channel_id")) is not None:  # layers before 119
            peer = ("channel", fwd["channel_id"])
        if peer:
            view["fwd_from"] = peer
        if isinstance(fwd.get("from_name"), str):
            view["fwd_from_name"] = fwd["from_name"]
        if _int(fwd.get("date")) is not None:
            view["fwd_date"] = fwd["date"]
        return
    legacy = obj.get("fwd_from_id")  # the Android app's forms before layer 54
    peer = (
        _peer(legacy)
        if isinstance(legacy, dict)
        else (("user", legacy) if _int(legacy) is not None else None)
    )
    if peer:
        view["fwd_from"] = peer
    if _int(obj.get("fwd_date")) is not None:
        view["fwd_date"] = obj["fwd_date"]


def _reply(obj: dict[str, Any], view: dict[str, Any]) -> None:
    reply = obj.get("reply_to")
    if isinstance(reply, dict):
        if _int(reply.get("reply_to_msg_id")) is not None:
            view["reply_to_msg_id"] = reply["reply_to_msg_id"]
        peer = _peer(reply.get("reply_to_peer_id"))
        if peer:
            view["reply_to_peer"] = peer
    elif _int(obj.get("reply_to_msg_id")) is not None:
        view["reply_to_msg_id"] = obj["reply_to_msg_id"]
    if _int(obj.get("reply_to_random_id")) is not None:
        view["reply_to_random_id"] = obj["reply_to_random_id"]


def _media(media: dict[str, Any]) -> dict[str, Any]:
    kind = _kind(media["_"], "messageMedia")
    out: dict[str, Any] = {"kind": kind}
    if isinstance(media.get("caption"), str):
        out["caption"] = media["caption"]
    geo = media.get("geo")
    if isinstance(geo, dict) and isinstance(geo.get("lat"), float) and isinstance(geo.get("long"), float):
        out["lat"], out["long"] = geo["lat"], geo["long"]
    for key, name in (("title", "title"), ("address", "address")):
        if isinstance(media.get(key), str):
            out[name] = media[key]
    if kind == "contact":
        name = " ".join(p for p in (_text(media.get("first_name")), _text(media.get("last_name"))) if p)
        out["contact_name"] = name or None
        out["contact_phone"] = _text(media.get("phone_number"))
        out["contact_user_id"] = _int(media.get("user_id")) or None
    elif kind == "photo":
        out["attachments"] = (Attachment(),)
    elif kind == "document" and isinstance(media.get("document"), dict):
        _document(media["document"], out)
    elif kind == "web_page" and isinstance(media.get("webpage"), dict):
        page = media["webpage"]
        out["url"] = _text(page.get("url"))
        out["title"] = _text(page.get("title"))
    return out


def _document(doc: dict[str, Any], out: dict[str, Any]) -> None:
    if doc.get("_") == "documentEmpty":
        return
    file_name = None
    doc_type = "file"
    for attr in doc.get("attributes", ()):
        name = attr.get("_")
        flags = _int(attr.get("flags")) or 0
        if name == "documentAttributeFilename":
            file_name = _text(attr.get("file_name"))
        elif name == "documentAttributeAudio":
            doc_type = "voice" if flags & _AUDIO_VOICE else "audio"
            out["duration"] = attr.get("duration")
            if doc_type == "audio":
                out["title"] = (
                    " - ".join(p for p in (_text(attr.get("performer")), _text(attr.get("title"))) if p)
                    or None
                )
        elif name == "documentAttributeVideo":
            doc_type = "round video" if flags & _VIDEO_ROUND else "video"
            out["duration"] = attr.get("duration")
        elif name == "documentAttributeSticker" and doc_type == "file":
            doc_type = "sticker"
        elif name == "documentAttributeAnimated" and doc_type in ("file", "video"):
            doc_type = "animation"
    out["document_type"] = doc_type if "attributes" in doc else None
    out["size"] = _int(doc.get("size"))
    out["attachments"] = (Attachment(name=file_name, mime=_text(doc.get("mime_type"))),)


# --- dialogs and peers ----------------------------------------------------------------------------


def _peer(obj: object) -> Peer | None:
    if not isinstance(obj, dict):
        return None
    for kind, key in (("user", "user_id"), ("chat", "chat_id"), ("channel", "channel_id")):
        if obj.get("_") == f"peer{kind.title()}" and _int(obj.get(key)) is not None:
            return kind, obj[key]
    return None


def _peer_text(peer: Peer | None) -> str | None:
    return None if peer is None else f"{peer[0]}:{peer[1]}"


def _dialog_of(peer: Peer) -> int:
    """The app's dialog id of a peer: a user's id, minus a group's or channel's."""
    return peer[1] if peer[0] == "user" else -peer[1]


def _secret_chat_id(dialog: int | None, legacy: bool) -> int | None:
    if dialog is None:
        return None
    if legacy:  # before app 8.0: chat id << 32
        return dialog >> 32 if dialog != 0 and dialog & _LOW32 == 0 else None
    if dialog > 0 and dialog & _SECRET_DIALOG:
        chat = dialog & _LOW32
        return chat - (1 << 32) if chat & 0x80000000 else chat
    return None


def _party(dialog: int | None, secret_id: int | None, look: Lookups) -> int | None:
    """The other user of a one-to-one dialog (a secret chat's from ``enc_chats``), else None."""
    if secret_id is not None:
        return look.secret_chats.get(secret_id)
    if dialog is not None and dialog > 0:
        return dialog
    return None


def _title(dialog: int | None, secret_id: int | None, party: int | None, look: Lookups) -> str | None:
    if party is not None:
        return _user_name(look, party)
    if secret_id is None and dialog is not None and dialog < 0:
        return look.chats.get(-dialog)
    return None


def _user_name(look: Lookups, uid: int) -> str | None:
    user = look.users.get(uid)
    return user.name if user else None


# --- small helpers --------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _kind(name: str, prefix: str) -> str:
    """``messageMediaGeoLive`` -> ``geo_live``: a constructor's name without its type's prefix."""
    rest = name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name
    return _CAMEL.sub("_", rest).lower()


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)
