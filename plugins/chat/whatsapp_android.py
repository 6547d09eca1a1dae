"""WhatsApp on Android: messages and calls from ``msgstore.db``, contacts from ``wa.db``.

**Messages.** ``/data/data/com.whatsapp/databases/msgstore.db`` has had two layouts:

- *legacy* (to 2021): one table ``messages`` keyed by the WhatsApp message key
  ``(key_remote_jid, key_from_me, key_id)``; ``data`` is the text, ``media_wa_type`` the kind
  (declared TEXT, read as its integer), ``remote_resource`` the group member who wrote a group
  message, ``latitude``/``longitude`` a shared position. From about 2019 the file path of a
  media message is in ``message_media.file_path`` (``message_row_id`` = ``messages._id``); before
  that it is only inside ``thumb_image``, a Java-serialised object this plugin does not decode
  (the attachment then keeps the app's name, MIME type and size but no path).
- *2021+*: ``message`` (``chat_row_id``, ``from_me``, ``key_id``, ``sender_jid_row_id``,
  ``text_data``, ``message_type``), ``chat`` (``jid_row_id``, ``subject``), ``jid``
  (``raw_string``, or ``user@server``), ``message_media`` and ``message_location``.
- *in transition*, a database holds both. Both are read, and a message is reported once: a
  ``messages`` row whose key ``(chat JID, from_me, key_id)`` is also in ``message`` is left out,
  because the ``message`` copy wins. It is the row the app reads and writes after the migration
  (later status changes, receipts and edits go there only) and the one its media and location
  tables point at; the legacy copy is an older snapshot of the same message. Legacy rows whose key
  is *not* in ``message`` are reported (``schema="legacy"``); a message deleted after the
  migration can survive only there. The comparison is one ``NOT IN`` over a subquery, which SQLite
  evaluates once into a temporary index (no query per row). The key is the whole WhatsApp key, not
  ``key_id`` alone, because that is what the app itself keeps unique (``messages_key_index``);
  where the schema cannot name the chat of a ``message`` row (no ``jid.raw_string``), the
  comparison falls back to ``(from_me, key_id)``. Legacy rows of a transitional database do not
  take a ``message_media`` path (its ``message_row_id`` then points at ``message`` rows).
  ``messages`` rows whose ``key_remote_jid`` is ``-1`` are the app's placeholder row, not messages,
  and are left out.

Times are Unix milliseconds (``timestamp``, ``received_timestamp``, ``send_timestamp``,
``receipt_server_timestamp``), converted with ``from_unix_ms``. ``from_me`` is the owner's side;
``sender`` is the member JID (groups), the chat JID (one-to-one), or ``None`` for the owner.
The owner's own JID is not stored in msgstore.db: ``account`` (with ``account_name``, the profile
name, and ``account_from``, the file) is read from the app's preferences beside it
(``../shared_prefs/com.whatsapp_preferences_light.xml`` and the older names, see
:func:`plugins.chat._whatsapp.android_owner`) and is ``None`` when the extraction lacks them; the
views show it as the sender of the owner's messages, marked as derived. ``recipients`` is the
chat JID for the owner's messages. ``party`` is the chat JID of one-to-one chats only. Names come from
``wa.db`` found beside the database (``item.find("wa.db")``: ``display_name``, else ``wa_name``);
``names_from`` names that file. ``message_type`` labels follow ALEAPP's WhatsApp module.

**Media.** ``message_media.file_path`` is relative to the WhatsApp folder of shared storage
(``Media/WhatsApp Images/IMG-...jpg``) or, in old versions, absolute. The files are found with
one ``find`` for ``**/WhatsApp/Media/**`` in the same evidence (``/sdcard/WhatsApp/``,
``/storage/emulated/0/WhatsApp/``, ``/data/media/0/WhatsApp/``, and Android 11+'s
``/sdcard/Android/media/com.whatsapp/WhatsApp/``), matched on the part from ``Media/`` on; an
attachment's ``path`` and ``size`` describe the file found, ``None`` when it is not in the
evidence. WhatsApp Business (``WhatsApp Business/Media``) is not resolved.

**Calls.** ``call_log`` (``jid_row_id`` the other party, ``from_me``, ``timestamp`` ms,
``duration`` s, ``video_call``, ``call_result`` raw and unlabelled: no published source defines
its values), with the participants of group calls from ``call_log_participant_v2``. Legacy
databases without ``call_log`` recorded calls as messages; those stay messages.

**Contacts.** A separate plugin reads ``wa.db``'s ``wa_contacts``: its records must carry wa.db's
own provenance (source, hash, ``wa_contacts._id=N``), and wa.db is evidence even when msgstore.db
is missing or encrypted. ``status_timestamp`` is Unix ms.

Not read: encrypted backups (``msgstore.db.crypt12/14/15``: a warning says so), reactions,
quoted messages, receipts per recipient. No public
msgstore.db is redistributable, so the tests build msgstore.db and wa.db from the published
schemas (the app's own ``CREATE TABLE`` statements as dumped from transitional databases, and
ALEAPP's queries).
"""

from __future__ import annotations

import copy
import posixpath
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from plugins.chat._whatsapp import (
    MediaIndex,
    OwnerFields,
    android_owner,
    as_int,
    as_text,
    owner_fields,
    table_columns_by_name,
)
from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    CallFields,
    ContactFields,
    FileItem,
    GeoFields,
    Join,
    MessageFields,
    NotMyFormat,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    build_record,
    from_unix_ms,
    read_rows,
    sqlite_signature,
)

MESSAGE_TYPE_LABELS: Mapping[object, str] = {
    0: "text",
    1: "image",
    2: "audio",
    3: "video",
    5: "location",
    7: "system",
    9: "document",
    16: "live location",
}
_LOCATION_TYPES = frozenset({5, 16})
_GROUP_SERVER = "@g.us"


@dataclass(frozen=True, kw_only=True)
class WhatsAppAndroidMessage(MessageFields, GeoFields, Record):
    """One WhatsApp message: a ``message`` row (``schema="2021"``) or a ``messages`` row
    (``schema="legacy"``). ``timestamp`` is the message time, ``received_time`` when the device
    received it, ``sent_time`` (legacy ``send_timestamp``) and ``server_receipt_time`` the server's
    acknowledgement. ``media_size`` is the size the app recorded; an attachment's ``size`` is the
    file found in the evidence."""

    record_type: ClassVar[str] = "chat/android/whatsapp/message"
    app: ClassVar[str] = "whatsapp"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"message_type": MESSAGE_TYPE_LABELS}

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    schema: str
    key_id: str | None = None
    chat_jid: str | None = None
    chat_name: str | None = None
    sender_jid: str | None = None
    sender_name: str | None = None
    message_type: int | None = None
    received_time: TimeValue | None = None
    sent_time: TimeValue | None = None
    server_receipt_time: TimeValue | None = None
    starred: int | None = None
    recipient_count: int | None = None
    caption: str | None = None
    media_mime: str | None = None
    media_name: str | None = None
    media_size: int | None = None
    media_url: str | None = None
    media_hash: str | None = None
    media_duration: int | None = None
    place_name: str | None = None
    names_from: str | None = None
    account_name: str | None = None
    account_from: str | None = None


@dataclass(frozen=True, kw_only=True)
class WhatsAppAndroidCall(CallFields, Record):
    """One ``call_log`` row: ``party`` is the other side (the group's JID for a group call is
    ``group_jid``), ``participants`` the JIDs in ``call_log_participant_v2``, ``status`` the raw
    ``call_result``, ``duration`` in seconds."""

    record_type: ClassVar[str] = "chat/android/whatsapp/call"
    app: ClassVar[str] = "whatsapp"

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    call_id: str | None = None
    party_name: str | None = None
    group_jid: str | None = None
    participants: tuple[str, ...] = ()
    bytes_transferred: int | None = None
    names_from: str | None = None
    account_name: str | None = None
    account_from: str | None = None


@dataclass(frozen=True, kw_only=True)
class WhatsAppAndroidContact(ContactFields, Record):
    """One ``wa_contacts`` row of wa.db: ``name`` is ``display_name`` (the address book's name),
    else ``wa_name`` (the name the person set in WhatsApp); ``about`` is ``status``."""

    record_type: ClassVar[str] = "chat/android/whatsapp/contact"
    app: ClassVar[str] = "whatsapp"

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    jid: str | None = None
    is_whatsapp_user: int | None = None
    display_name: str | None = None
    wa_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    nickname: str | None = None
    company: str | None = None
    number: str | None = None
    phone_label: str | None = None
    about: str | None = None
    about_time: TimeValue | None = None
    raw_contact_id: int | None = None


# --- declarations ---------------------------------------------------------------------------------

_MEDIA_COLUMNS = (
    "file_path",
    "file_size",
    "mime_type",
    "media_name",
    "file_hash",
    "media_duration",
    "message_url",
)

MESSAGE = Table(
    "message",
    key="_id",
    required=("chat_row_id", "from_me", "key_id", "timestamp"),
    optional=(
        "sender_jid_row_id",
        "status",
        "message_type",
        "text_data",
        "received_timestamp",
        "receipt_server_timestamp",
        "starred",
        "recipient_count",
    ),
    joins=(
        Join("message_media", on="_id", key="message_row_id", optional=_MEDIA_COLUMNS),
        Join(
            "message_location",
            on="_id",
            key="message_row_id",
            optional=("latitude", "longitude", "place_name"),
        ),
    ),
    label="WhatsApp message",
)

_LEGACY_COLUMNS = (
    "status",
    "data",
    "media_wa_type",
    "media_mime_type",
    "media_name",
    "media_size",
    "media_caption",
    "media_url",
    "media_hash",
    "media_duration",
    "latitude",
    "longitude",
    "remote_resource",
    "received_timestamp",
    "send_timestamp",
    "receipt_server_timestamp",
    "starred",
    "recipient_count",
)
_LEGACY_REQUIRED = ("key_remote_jid", "key_from_me", "key_id", "timestamp")
_NOT_PLACEHOLDER = "messages.key_remote_jid <> '-1'"

LEGACY = Table(
    "messages",
    key="_id",
    required=_LEGACY_REQUIRED,
    optional=_LEGACY_COLUMNS,
    joins=(Join("message_media", on="_id", key="message_row_id", optional=_MEDIA_COLUMNS),),
    where=_NOT_PLACEHOLDER,
    label="WhatsApp legacy message",
)


def _unmigrated(where_not_in: str) -> Table:
    """``messages`` rows with no copy in ``message`` (a transitional database)."""
    return Table(
        "messages",
        key="_id",
        required=_LEGACY_REQUIRED,
        optional=_LEGACY_COLUMNS,
        where=f"{_NOT_PLACEHOLDER} AND ({where_not_in})",
        label="WhatsApp legacy message",
    )


# The whole key when the chat of a ``message`` row can be named, else (from_me, key_id). A NULL
# on either side would make NOT IN unknown (the row dropped), so NULL keys are kept explicitly.
LEGACY_UNMIGRATED = _unmigrated(
    "messages.key_id IS NULL OR messages.key_from_me IS NULL OR "
    "(messages.key_remote_jid, messages.key_from_me, messages.key_id) NOT IN ("
    "SELECT j.raw_string, m.from_me, m.key_id FROM message AS m "
    "JOIN chat AS c ON c._id = m.chat_row_id JOIN jid AS j ON j._id = c.jid_row_id "
    "WHERE j.raw_string IS NOT NULL AND m.from_me IS NOT NULL AND m.key_id IS NOT NULL)"
)
LEGACY_UNMIGRATED_BY_ID = _unmigrated(
    "messages.key_id IS NULL OR messages.key_from_me IS NULL OR "
    "(messages.key_from_me, messages.key_id) NOT IN ("
    "SELECT m.from_me, m.key_id FROM message AS m WHERE m.from_me IS NOT NULL AND m.key_id IS NOT NULL)"
)

CALLS = Table(
    "call_log",
    key="_id",
    required=("jid_row_id", "from_me", "timestamp"),
    optional=("call_id", "video_call", "duration", "call_result", "bytes_transferred", "group_jid_row_id"),
    label="WhatsApp call log",
)

JIDS = Table("jid", key="_id", optional=("user", "server", "raw_string"))
CHATS = Table("chat", key="_id", optional=("jid_row_id", "subject"))
CHAT_LIST = Table("chat_list", key="_id", optional=("key_remote_jid", "subject"))
PARTICIPANTS = Table("call_log_participant_v2", key="_id", optional=("call_log_row_id", "jid_row_id"))
WA_NAMES = Table("wa_contacts", key="_id", required=("jid",), optional=("display_name", "wa_name"))

MSGSTORE_GLOBS = (
    "**/com.whatsapp/databases/msgstore.db",
    "**/msgstore*.db",
    "**/msgstore*.db.crypt*",
    "**/msgstore*.db-wal",
)


@dataclass(frozen=True)
class Lookups:
    """The small tables every row refers to, read once per file: JIDs, chats (JID and subject),
    names from wa.db, group-call participants, and the media files found in the evidence."""

    jids: dict[object, str]
    chats: dict[object, tuple[str | None, str | None]]
    subjects: dict[str, str]
    names: dict[str, str]
    names_from: str | None
    participants: dict[object, tuple[str, ...]]
    media: MediaIndex
    owner: OwnerFields  # account, account_name, account_from (empty when unknown)


# --- the message store ----------------------------------------------------------------------------


class WhatsAppAndroidPlugin(SqliteTablePlugin[Lookups]):
    """Reads WhatsApp messages (legacy ``messages``, 2021+ ``message``, or both without
    duplicates) and calls (``call_log``) from Android's msgstore.db, with names from wa.db and
    media files resolved in the same evidence."""

    name = "whatsapp_android"
    version = "1.2.0"
    description = (
        "WhatsApp messages and calls on Android (msgstore.db: message/messages, call_log; wa.db names)"
    )
    tables = (MESSAGE, LEGACY, CALLS)  # which of them a database holds is decided by tables_in
    targets = Targets(
        globs=MSGSTORE_GLOBS
    )  # by name only: no one signature fits every layout (see tables_in)
    emits = (WhatsAppAndroidMessage, WhatsAppAndroidCall)
    _item: FileItem | None = None  # the file being parsed (set on a per-file copy by parse)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """As the base; a file named like msgstore.db that is not SQLite (an encrypted backup) is
        reported, not passed over."""
        if item.name.lower().endswith("-wal"):  # read with its database; alone it is reported
            database = item.name[: -len("-wal")]
            if next(iter(item.find(database)), None) is None:
                ctx.warn(
                    f"unsupported schema: {item.path} is the write-ahead log of a WhatsApp message store "
                    f"whose database {database} is not in the evidence: plugin {self.name} read nothing"
                )
            return
        if _named_msgstore(item) and not item.head.startswith(SQLITE_MAGIC[1]):
            ctx.warn(
                f"unsupported schema: {item.path} is named like WhatsApp's message store but is not a "
                f"SQLite database (first bytes {item.head[:16].hex()}; an encrypted .crypt backup needs "
                f"its key): plugin {self.name} read nothing from it"
            )
            return
        run = copy.copy(self)  # this file's own instance: lookups() finds wa.db and media beside it
        run._item = item
        yield from super(WhatsAppAndroidPlugin, run).parse(item, ctx)

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        """``message`` and/or ``messages`` (the latter without rows ``message`` also holds), then
        ``call_log`` when present."""
        schema = table_columns_by_name(con)
        new = _has(schema, MESSAGE)
        old = _has(schema, LEGACY)
        chosen: list[Table] = []
        if new:
            chosen.append(MESSAGE)
        if old and new:
            named = "raw_string" in schema.get("jid", ()) and "jid_row_id" in schema.get("chat", ())
            chosen.append(LEGACY_UNMIGRATED if named else LEGACY_UNMIGRATED_BY_ID)
        elif old:
            chosen.append(LEGACY)
        if not chosen:
            if _named_msgstore(item):
                ctx.warn(
                    f"unsupported schema: {item.path} has neither a WhatsApp 'message' table "
                    f"(chat_row_id, from_me, key_id, timestamp) nor a legacy 'messages' table "
                    f"(key_remote_jid, key_from_me, key_id, timestamp): plugin {self.name} read nothing"
                )
                return ()
            raise NotMyFormat("no WhatsApp message or messages table")
        if _has(schema, CALLS):
            chosen.append(CALLS)
        return tuple(chosen)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """JIDs, chats and call participants from msgstore.db; names from wa.db beside it."""
        jids: dict[object, str] = {}
        for row in read_rows(con, ctx, JIDS):
            jid = as_text(row["raw_string"])
            if jid is None and row["user"] is not None and row["server"] is not None:
                jid = f"{row['user']}@{row['server']}"
            if jid is not None:
                jids[row["_id"]] = jid
        chats: dict[object, tuple[str | None, str | None]] = {}
        subjects: dict[str, str] = {}
        for row in read_rows(con, ctx, CHATS):
            jid = jids.get(row["jid_row_id"])
            subject = as_text(row["subject"])
            chats[row["_id"]] = (jid, subject)
            if jid is not None and subject is not None:
                subjects[jid] = subject
        for row in read_rows(con, ctx, CHAT_LIST):  # legacy chats, when there is no chat table
            jid, subject = as_text(row["key_remote_jid"]), as_text(row["subject"])
            if jid is not None and subject is not None:
                subjects.setdefault(jid, subject)
        grouped: dict[object, list[str]] = {}
        for row in read_rows(con, ctx, PARTICIPANTS):
            jid = jids.get(row["jid_row_id"])
            if jid is not None:
                grouped.setdefault(row["call_log_row_id"], []).append(jid)
        if self._item is None:
            raise RuntimeError("lookups() is called through parse()")
        names, names_from = _wa_names(self._item, ctx)
        media = MediaIndex.build(self._item, ctx, "/**/WhatsApp/Media/**", _media_key)
        return Lookups(
            owner=owner_fields(android_owner(self._item, ctx)),
            jids=jids,
            chats=chats,
            subjects=subjects,
            names=names,
            names_from=names_from,
            participants={k: tuple(v) for k, v in grouped.items()},
            media=media,
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """One row of ``message``, ``messages`` or ``call_log``."""
        if at.table == "call_log":
            return _call(row, at)
        if at.table == "messages":
            return _legacy_message(row, at)
        return _message(row, at)


def _has(schema: Mapping[str, frozenset[str]], table: Table) -> bool:
    columns = schema.get(table.name.lower())
    return columns is not None and all(c.lower() in columns for c in (table.key, *table.required))


def _named_msgstore(item: FileItem) -> bool:
    name = item.name.lower()
    return name.startswith("msgstore") and (name.endswith(".db") or ".db.crypt" in name)


def _media_key(path: str) -> str | None:
    """``Media/...`` of a file under some ``.../WhatsApp/Media/`` folder."""
    at = path.rfind("/WhatsApp/Media/")
    return None if at < 0 else path[at + len("/WhatsApp/") :]


def _recorded_key(recorded: str | None) -> str | None:
    """The index key of a path the app recorded: relative ``Media/...``, or absolute under
    ``.../WhatsApp/Media/``."""
    if not recorded:
        return None
    path = recorded.replace("\\", "/")
    if path.startswith("Media/"):
        return path
    return _media_key(path if path.startswith("/") else "/" + path)


def _wa_names(item: FileItem, ctx: ParseContext) -> tuple[dict[str, str], str | None]:
    """``{jid: name}`` from wa.db beside msgstore.db (``display_name``, else ``wa_name``)."""
    found = next(iter(item.find("wa.db")), None)
    if found is None:
        return {}, None
    try:
        con = ctx.open_sqlite(found.item())
        names: dict[str, str] = {}
        for row in read_rows(con, ctx, WA_NAMES):
            jid = as_text(row["jid"])
            name = as_text(row["display_name"]) or as_text(row["wa_name"])
            if jid is not None and name is not None:
                names.setdefault(jid, name)
    except (NotMyFormat, sqlite3.DatabaseError, OSError) as exc:
        ctx.warn(f"contact names not read from {found.path}: {exc}")
        return {}, None
    return names, found.path


def _direction(
    from_me: bool | None, chat_jid: str | None, member: str | None
) -> tuple[str | None, tuple[str, ...], str | None]:
    """(sender, recipients, party) of a message in the chat ``chat_jid``."""
    group = chat_jid is not None and chat_jid.endswith(_GROUP_SERVER)
    party = None if group else chat_jid
    if from_me:
        return None, (chat_jid,) if chat_jid else (), party
    return member or (None if group else chat_jid), (), party


def _position(message_type: int | None, lat: object, lon: object) -> tuple[float | None, float | None]:
    if (
        message_type not in _LOCATION_TYPES
        or not isinstance(lat, int | float)
        or not isinstance(lon, int | float)
    ):
        return None, None
    return float(lat), float(lon)


def _media(row: sqlite3.Row, at: RowContext[Lookups], *, name: str | None, mime: str | None) -> Attachment:
    recorded = as_text(row["message_media.file_path"])
    return at.lookups.media.attachment(
        recorded,
        _recorded_key(recorded),
        name=name or (posixpath.basename(recorded) if recorded else None),
        mime=mime,
    )


def _message(row: sqlite3.Row, at: RowContext[Lookups]) -> WhatsAppAndroidMessage:
    lk = at.lookups
    chat_row = row["chat_row_id"]
    chat = lk.chats.get(chat_row)
    if chat is None and isinstance(chat_row, int) and chat_row > 0:
        at.warn(f"chat {chat_row} not found")
    chat_jid, subject = chat or (None, None)
    from_me = None if row["from_me"] is None else bool(row["from_me"])
    sender_row = row["sender_jid_row_id"]
    member = lk.jids.get(sender_row) if sender_row else None
    sender, recipients, party = _direction(from_me, chat_jid, member)
    message_type = as_int(row["message_type"])
    has_media = row["message_media.message_row_id"] is not None
    mime, media_name = as_text(row["message_media.mime_type"]), as_text(row["message_media.media_name"])
    lat, lon = _position(message_type, row["message_location.latitude"], row["message_location.longitude"])
    return build_record(
        WhatsAppAndroidMessage,
        source=at.source,
        locator=at.locator,
        rowid=row["_id"],
        schema="2021",
        timestamp=from_unix_ms(row["timestamp"]),
        received_time=from_unix_ms(row["received_timestamp"]) if at.has("received_timestamp") else None,
        server_receipt_time=(
            from_unix_ms(row["receipt_server_timestamp"]) if at.has("receipt_server_timestamp") else None
        ),
        body=as_text(row["text_data"]),
        from_me=from_me,
        party=party,
        conversation=chat_jid,
        conversation_title=subject or (lk.names.get(chat_jid) if chat_jid else None),
        sender=sender,
        recipients=recipients,
        attachments=(_media(row, at, name=media_name, mime=mime),) if has_media else (),
        status=row["status"],
        latitude=lat,
        longitude=lon,
        key_id=as_text(row["key_id"]),
        chat_jid=chat_jid,
        chat_name=subject,
        sender_jid=member,
        sender_name=lk.names.get(sender) if sender else None,
        message_type=message_type,
        starred=row["starred"],
        recipient_count=row["recipient_count"],
        media_mime=mime,
        media_name=media_name,
        media_size=as_int(row["message_media.file_size"]),
        media_url=as_text(row["message_media.message_url"]),
        media_hash=as_text(row["message_media.file_hash"]),
        media_duration=as_int(row["message_media.media_duration"]),
        place_name=as_text(row["message_location.place_name"]),
        names_from=lk.names_from,
        **lk.owner,
    )


def _legacy_message(row: sqlite3.Row, at: RowContext[Lookups]) -> WhatsAppAndroidMessage:
    lk = at.lookups
    chat_jid = as_text(row["key_remote_jid"])
    from_me = None if row["key_from_me"] is None else bool(row["key_from_me"])
    member = as_text(row["remote_resource"])
    sender, recipients, party = _direction(from_me, chat_jid, member)
    message_type = as_int(row["media_wa_type"])
    subject = lk.subjects.get(chat_jid) if chat_jid else None
    mime, media_name = as_text(row["media_mime_type"]), as_text(row["media_name"])
    attachments: tuple[Attachment, ...] = ()
    if at.has("message_media.message_row_id") and row["message_media.message_row_id"] is not None:
        attachments = (
            _media(row, at, name=media_name, mime=mime or as_text(row["message_media.mime_type"])),
        )
    elif mime or media_name or as_text(row["media_url"]):
        attachments = (Attachment(name=media_name, mime=mime),)  # the path is in thumb_image (not decoded)
    lat, lon = _position(message_type, row["latitude"], row["longitude"])
    caption = as_text(row["media_caption"])
    return build_record(
        WhatsAppAndroidMessage,
        source=at.source,
        locator=at.locator,
        rowid=row["_id"],
        schema="legacy",
        timestamp=from_unix_ms(row["timestamp"]),
        received_time=from_unix_ms(row["received_timestamp"]) if at.has("received_timestamp") else None,
        sent_time=from_unix_ms(row["send_timestamp"]) if at.has("send_timestamp") else None,
        server_receipt_time=(
            from_unix_ms(row["receipt_server_timestamp"]) if at.has("receipt_server_timestamp") else None
        ),
        body=as_text(row["data"]) or caption,
        from_me=from_me,
        party=party,
        conversation=chat_jid,
        conversation_title=subject or (lk.names.get(chat_jid) if chat_jid else None),
        sender=sender,
        recipients=recipients,
        attachments=attachments,
        status=row["status"],
        latitude=lat,
        longitude=lon,
        key_id=as_text(row["key_id"]),
        chat_jid=chat_jid,
        chat_name=subject,
        sender_jid=member,
        sender_name=lk.names.get(sender) if sender else None,
        message_type=message_type,
        starred=row["starred"],
        recipient_count=row["recipient_count"],
        caption=caption,
        media_mime=mime,
        media_name=media_name,
        media_size=as_int(row["media_size"]),
        media_url=as_text(row["media_url"]),
        media_hash=as_text(row["media_hash"]),
        media_duration=as_int(row["media_duration"]),
        names_from=lk.names_from,
        **lk.owner,
    )


def _call(row: sqlite3.Row, at: RowContext[Lookups]) -> WhatsAppAndroidCall:
    lk = at.lookups
    party = lk.jids.get(row["jid_row_id"])
    if party is None and row["jid_row_id"]:
        at.warn(f"jid {row['jid_row_id']} not found")
    group_row = row["group_jid_row_id"]
    return WhatsAppAndroidCall(
        source=at.source,
        locator=at.locator,
        rowid=row["_id"],
        timestamp=from_unix_ms(row["timestamp"]),
        duration=row["duration"] if isinstance(row["duration"], int | float) else None,
        from_me=None if row["from_me"] is None else bool(row["from_me"]),
        party=party,
        status=row["call_result"],
        video=None if row["video_call"] is None else bool(row["video_call"]),
        call_id=as_text(row["call_id"]),
        party_name=lk.names.get(party) if party else None,
        group_jid=lk.jids.get(group_row) if group_row else None,
        participants=lk.participants.get(row["_id"], ()),
        bytes_transferred=as_int(row["bytes_transferred"]),
        names_from=lk.names_from,
        **lk.owner,
    )


# --- wa.db ----------------------------------------------------------------------------------------

CONTACTS = Table(
    "wa_contacts",
    key="_id",
    required=("jid",),
    optional=(
        "is_whatsapp_user",
        "status",
        "status_timestamp",
        "number",
        "raw_contact_id",
        "display_name",
        "phone_label",
        "given_name",
        "family_name",
        "wa_name",
        "nickname",
        "company",
    ),
    label="WhatsApp contacts",
)


class WhatsAppAndroidContactsPlugin(SqliteTablePlugin[None]):
    """Reads WhatsApp's contact list on Android (wa.db, ``wa_contacts``): each address-book
    contact and group the app knows, with its JID, number, names and "about" text."""

    name = "whatsapp_android_contacts"
    version = "1.1.0"
    description = "WhatsApp contacts on Android (wa.db: wa_contacts)"
    tables = (CONTACTS,)
    targets = Targets(
        globs=("**/com.whatsapp/databases/wa.db", "**/wa.db"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables),
    )
    emits = (WhatsAppAndroidContact,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> WhatsAppAndroidContact:
        """One ``wa_contacts`` row."""
        jid = as_text(row["jid"])
        number = as_text(row["number"])
        given, family = as_text(row["given_name"]), as_text(row["family_name"])
        full = " ".join(p for p in (given, family) if p) or None
        display, wa_name = as_text(row["display_name"]), as_text(row["wa_name"])
        return WhatsAppAndroidContact(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            name=display or wa_name or full,
            phones=(number,) if number else (),
            account_ids=(jid,) if jid else (),
            jid=jid,
            is_whatsapp_user=row["is_whatsapp_user"],
            display_name=display,
            wa_name=wa_name,
            given_name=given,
            family_name=family,
            nickname=as_text(row["nickname"]),
            company=as_text(row["company"]),
            number=number,
            phone_label=as_text(row["phone_label"]),
            about=as_text(row["status"]),
            about_time=from_unix_ms(row["status_timestamp"]) if at.has("status_timestamp") else None,
            raw_contact_id=as_int(row["raw_contact_id"]),
        )
