"""Signal on Android: messages and recipients from the encrypted ``signal.db``.

Where: ``/data/data/org.thoughtcrime.securesms/databases/signal.db`` (with ``signal.db-wal``: the
app keeps it in WAL mode). The file is a **SQLCipher** database: without its key it is random
bytes (no SQLite header), so the plugin is chosen by its name, not by magic or schema.

**The key.** Signal keys the database with its *database secret*, 32 random bytes kept in
``shared_prefs`` encrypted by a key of the Android keystore (``DatabaseSecretProvider``); the
examiner recovers those 32 bytes with a keystore extraction and gives them as 64 hex digits:
``exhibit triage EX --option signal_android.key=HEX`` (a secret option: it is never stored,
logged or signed; the run records only that it was given). Signal-Android opens the database
(``SignalDatabase``, ``SqlCipherDatabaseHook``) with the secret's lower-case hex text as the
SQLCipher *passphrase* (``DatabaseSecret.asString()``), not as a raw key, and these settings:
``cipher_compatibility = 3`` (SQLCipher 3 format: AES-256-CBC, HMAC-SHA1, PBKDF2-HMAC-SHA1),
``kdf_iter = 1`` (the secret is already random; one PBKDF2 round), ``cipher_page_size = 4096``.
The plugin does the same with SQLCipher 4 (``sqlcipher3``); when that does not open the file it
tries the secret as a raw key (``PRAGMA key = "x'<hex>'"``) with SQLCipher 4's defaults, and
``cipher`` in each record says which opened it (``"signal-android"`` or ``"raw-key-sqlcipher4"``).
Without a key, or when neither opens the file, there is one warning naming the file and saying
what to pass, and no record. A ``signal.db`` that already is plain SQLite (decrypted by the
examiner) is read as it is, with no key (``cipher`` ``"none"``).

Only a scratch copy is opened: the file (with its ``-wal`` and ``-journal``) is copied into the
run's scratch area, the copy is decrypted there into a plain SQLite file (``sqlcipher_export``),
and that is read read-only; both copies are deleted when the file is done.

**Messages**, one record per row of ``message`` (Signal from 2023, ``MessageTable``), or of ``sms``
and ``mms`` (earlier versions; ``sms`` first). Times are Unix **milliseconds**: ``timestamp`` is
``date_sent`` (the sender's clock, the time Signal shows; ``mms.date`` in the old layout),
``date_received`` when this phone stored it (``sms.date``, ``mms.date_received``), ``date_server``
when the server received it (-1: unknown). ``type`` (``mms.msg_box``) is a bit field, kept raw;
``base_type`` is its low five bits (``type & 0x1F``, ``MessageTypes.BASE_TYPE_MASK``), labelled at
render time: 20 inbox, 21 outbox, 22 sending, 23 sent, 24 sent failed, 25/26 pending SMS
fallback, 27 draft; 1/2/3 incoming/outgoing/missed audio call, 8/10/11 missed/incoming/outgoing
video call, 12 group call, 4 joined Signal, 7 profile change, others update events. ``from_me`` is
true for the outgoing base types (21-26, 2, 11: ``MessageTypes.OUTGOING_MESSAGE_TYPES``), false
for 20, 1, 3, 8 and 10, ``None`` for the others. Other bits of ``type``: 0x800000 secure,
0x200000 push (sent over Signal rather than SMS), 0x10000 group update, 0x80000 group v2,
0x40000 expiration timer update, 0xF00000000 special types (story reactions, payments).

The conversation is ``thread_id`` -> ``thread`` (``recipient_id``; ``thread_recipient_id``
before 2023) -> ``recipient``. ``party`` is the thread's recipient unless it is a group;
``conversation_title`` its name (a group's ``groups.title``). The row's recipient column
(``from_recipient_id`` since late 2023; ``recipient_id`` before, ``address`` in older ``sms``/
``mms``, which holds a recipient id despite its name) is the sender of an incoming message; for an
outgoing one the old column names the destination (``recipients``), the new layout names the
owner (``account``) and the destination in ``to_recipient_id``. A recipient is shown by its
phone number (``e164``, ``phone`` before 2023), else its ACI (``aci``, ``uuid`` before), else its
e-mail, group id or username, else ``recipient:<_id>``. ``remote_deleted`` (1: deleted for
everyone by its sender; the body is gone) is kept raw.

**Contacts**: one record per ``recipient`` row that is a person (no ``group_id``, no
``distribution_list_id``): ``name`` is the owner's nickname for them (``nickname_joined_name``),
else the phone's contact name (``system_joined_name``, ``system_display_name`` before 2023), else
their Signal profile name (``profile_joined_name``, ``signal_profile_name`` in old versions);
``phones`` the phone number, ``account_ids`` the ACI, PNI and username, ``emails`` the e-mail.

**Attachments**: the ``attachment`` rows of a ``message`` (``message_id``; ``part`` rows of an
``mms``, ``mid``, before 2023), read beside the messages in message order: ``file_name``,
``content_type`` (``ct``), ``data_size``, and ``data_file`` (``_data``), the app's own file under
``app_parts/`` as ``recorded_path``. Signal encrypts those files with another secret (the
attachment secret), so they are not looked for or hashed (``path`` stays ``None``).

Not read: reactions, quotes, mentions, group membership, calls (``call``), stories'
distribution lists, the key-value store. No public
``signal.db`` exists: the tests build one from the published schema (``MessageTable``,
``ThreadTable``, ``RecipientTable``) and encrypt it as Signal does.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    ContactFields,
    FileItem,
    GroupedRows,
    MessageFields,
    NotMyFormat,
    Option,
    ParseContext,
    ParseWarning,
    Plugin,
    Record,
    Table,
    Targets,
    TimeValue,
    build_record,
    from_unix_ms,
    read_rows,
    table_columns,
)

OPTION = "signal_android.key"
KEY_BYTES = 32
BASE_TYPE_MASK = 0x1F
OUTGOING_BASE_TYPES = frozenset({21, 22, 23, 24, 25, 26, 2, 11})
INCOMING_BASE_TYPES = frozenset({20, 1, 3, 8, 10})
BASE_TYPE_LABELS: Mapping[object, str] = {
    1: "incoming audio call",
    2: "outgoing audio call",
    3: "missed audio call",
    4: "joined Signal",
    5: "unsupported message",
    6: "invalid message",
    7: "profile change",
    8: "missed video call",
    9: "group v1 migration",
    10: "incoming video call",
    11: "outgoing video call",
    12: "group call",
    13: "bad decrypt",
    14: "change number",
    15: "donation request",
    16: "thread merge",
    17: "SMS export",
    18: "session switchover",
    20: "inbox",
    21: "outbox",
    22: "sending",
    23: "sent",
    24: "sent failed",
    25: "pending secure SMS fallback",
    26: "pending insecure SMS fallback",
    27: "draft",
}
SIGNAL_ANDROID = "signal-android"
RAW_KEY = "raw-key-sqlcipher4"
PLAINTEXT = "none"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: object) -> TimeValue | None:
    if value is None:
        return None
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return from_unix_ms(value)
    raise TypeError(f"a time column holds {type(value).__name__}")


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SignalMessage(MessageFields, Record):
    """One message row: ``timestamp`` is ``date_sent``; ``type`` the raw bit field (see module).

    ``table`` names the table it came from (``message``, ``sms`` or ``mms``); ``thread_id``,
    ``from_recipient_id`` / ``to_recipient_id`` are the raw ids; ``cipher`` how the file was opened.
    """

    record_type: ClassVar[str] = "chat/android/signal/message"
    app: ClassVar[str] = "signal"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"base_type": BASE_TYPE_LABELS}

    rowid: int
    table: str
    type: int | None = None
    base_type: int | None = None
    thread_id: int | None = None
    from_recipient_id: int | None = None
    to_recipient_id: int | None = None
    date_received: TimeValue | None = None
    date_server: TimeValue | None = None
    read: int | None = None
    remote_deleted: int | None = None
    expires_in: int | None = None
    view_once: int | None = None
    sender_name: str | None = None
    cipher: str = SIGNAL_ANDROID


@dataclass(frozen=True, kw_only=True)
class SignalRecipient(ContactFields, Record):
    """One person of ``recipient``: identifiers and the names the app holds (see the module docstring)."""

    record_type: ClassVar[str] = "chat/android/signal/contact"
    app: ClassVar[str] = "signal"

    rowid: int
    aci: str | None = None
    pni: str | None = None
    username: str | None = None
    system_name: str | None = None
    profile_name: str | None = None
    nickname: str | None = None
    blocked: int | None = None
    registered: int | None = None
    cipher: str = SIGNAL_ANDROID


# --- tables ---------------------------------------------------------------------------------------

_COMMON = ("body", "read", "remote_deleted", "date_server", "expires_in", "view_once")
MESSAGE = Table(
    "message",
    key="_id",
    required=("thread_id", "type", "date_sent", "date_received"),
    optional=("from_recipient_id", "to_recipient_id", "recipient_id", *_COMMON),
    label="Signal messages",
)
SMS = Table(
    "sms",
    key="_id",
    required=("thread_id", "type", "date_sent", "date"),
    optional=("recipient_id", "address", *_COMMON),
    label="Signal SMS",
)
MMS = Table(
    "mms",
    key="_id",
    required=("thread_id", "msg_box", "date", "date_received"),
    optional=("recipient_id", "address", *_COMMON),
    label="Signal MMS",
)
THREAD = Table("thread", key="_id", optional=("recipient_id", "thread_recipient_id"))
RECIPIENT = Table(
    "recipient",
    key="_id",
    optional=(
        "e164",
        "phone",
        "aci",
        "uuid",
        "pni",
        "email",
        "username",
        "group_id",
        "distribution_list_id",
        "nickname_joined_name",
        "system_joined_name",
        "system_display_name",
        "profile_joined_name",
        "signal_profile_name",
        "blocked",
        "registered",
    ),
    label="Signal recipients",
)
GROUPS = Table("groups", key="_id", optional=("group_id", "title"))
ATTACHMENT = Table(
    "attachment",
    key="_id",
    required=("message_id",),
    optional=("content_type", "file_name", "data_file", "data_size"),
    label="Signal attachments",
)
PART = Table(
    "part",
    key="_id",
    required=("mid",),
    optional=("ct", "file_name", "_data", "data_size"),
    label="Signal attachments",
)
#: the attachment table of each message table, and its column naming the message
ATTACHMENTS: Mapping[str, tuple[Table, str]] = {"message": (ATTACHMENT, "message_id"), "mms": (PART, "mid")}


@dataclass(frozen=True)
class _Lookups:
    recipients: dict[object, sqlite3.Row]
    thread_recipient: dict[object, object]
    group_titles: dict[str, str]

    def ident(self, recipient_id: object) -> str | None:
        row = self.recipients.get(recipient_id)
        if row is None:
            return None if recipient_id is None else f"recipient:{recipient_id}"
        for column in ("e164", "phone", "aci", "uuid", "email", "group_id", "username"):
            value = _text(row[column])
            if value is not None:
                return value
        return f"recipient:{recipient_id}"

    def name(self, recipient_id: object) -> str | None:
        row = self.recipients.get(recipient_id)
        if row is None:
            return None
        group = _text(row["group_id"])
        if group is not None:
            return self.group_titles.get(group)
        return _person_name(row)[0]

    def is_group(self, recipient_id: object) -> bool:
        row = self.recipients.get(recipient_id)
        return row is not None and (
            _text(row["group_id"]) is not None or row["distribution_list_id"] is not None
        )


def _person_name(row: sqlite3.Row) -> tuple[str | None, str | None, str | None, str | None]:
    """(best name, nickname, system name, profile name) of a recipient row."""
    nickname = _text(row["nickname_joined_name"])
    system = _text(row["system_joined_name"]) or _text(row["system_display_name"])
    profile = _text(row["profile_joined_name"]) or _text(row["signal_profile_name"])
    return nickname or system or profile, nickname, system, profile


# --- opening the database -------------------------------------------------------------------------


class _Scratch:
    """The plugin's own scratch folder for one file: charged to the run's budget, removed after."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.charged = 0
        # inside the run's scratch area, never inside the evidence
        self.dir = Path(tempfile.mkdtemp(prefix="signal-", dir=ctx.scratch_dir))

    def copy(self, item: FileItem, name: str) -> Path:
        dest = self.dir / name
        self.charged += self.ctx.scratch.copy_in(item, dest)
        return dest

    def charge(self, path: Path) -> None:
        size = path.stat().st_size
        self.ctx.scratch.charge(size, f"{self.ctx.path}: decrypted scratch copy")
        self.charged += size

    def close(self) -> None:
        self.ctx.scratch.uncharge(self.charged)
        self.charged = 0
        shutil.rmtree(self.dir, ignore_errors=True)


def _keyed(sqlcipher: Any, path: Path, key: bytes, how: str) -> Any:
    """A SQLCipher connection on ``path`` keyed as ``how`` says; the key is checked on first read."""
    con = sqlcipher.connect(str(path))
    with contextlib.suppress(Exception):  # builds without the log pragma: nothing to silence
        con.execute("PRAGMA cipher_log_level = NONE")
    if how == SIGNAL_ANDROID:
        con.execute(f"PRAGMA key = '{key.hex()}'")  # the hex text is the passphrase, as Signal does
        con.execute("PRAGMA cipher_compatibility = 3")
        con.execute("PRAGMA kdf_iter = 1")
        con.execute("PRAGMA cipher_page_size = 4096")
    else:
        con.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return con


def _decrypt(sqlcipher3: Any, copy: Path, plain: Path, key: bytes) -> tuple[str, list[str]] | None:
    """Decrypt ``copy`` into the plain SQLite file ``plain``: the settings that worked and what
    could not be read (empty when the whole file was), or None when the key does not open it.

    A key that does not fit fails the HMAC of page 1: SQLite's "file is not a database", and the
    next settings are tried. Any other error means page 1 decrypted (the key is right) and the file
    is damaged: ``sqlite3.DatabaseError`` when not even its schema can be read; otherwise the
    tables are copied one by one, each as far as its pages can be read (found in review: one
    damaged page lost the whole database).
    """
    for how in (SIGNAL_ANDROID, RAW_KEY):
        con = _keyed(sqlcipher3, copy, key, how)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            con.close()
            if "not a database" in str(exc):
                continue
            raise sqlite3.DatabaseError(f"{exc} (with the key as {how})") from None
        try:
            con.execute("ATTACH DATABASE ? AS plaintext KEY ''", (str(plain),))
            con.execute("SELECT sqlcipher_export('plaintext')").fetchone()
            con.execute("DETACH DATABASE plaintext")
            damaged: list[str] = []
        except sqlcipher3.DatabaseError as exc:
            con.close()  # a failed export leaves the connection unusable: a fresh one salvages
            for leftover in (plain, plain.with_name(plain.name + "-journal")):
                leftover.unlink(missing_ok=True)
            damaged = _salvage(sqlcipher3, _keyed(sqlcipher3, copy, key, how), plain, str(exc))
        finally:
            con.close()
        return how, damaged
    return None


def _salvage(sqlcipher3: Any, con: Any, plain: Path, why: str) -> list[str]:
    """Copy each table of the keyed database of ``con`` into the new plain file ``plain`` row by
    row, as far as its pages can be read; what was lost, as sentences. ``sqlite3.DatabaseError``
    when not even its schema can be read."""
    con.isolation_level = None  # each row its own write: a read failing later undoes none of them
    try:
        con.execute("ATTACH DATABASE ? AS plaintext KEY ''", (str(plain),))
        con.execute("PRAGMA plaintext.journal_mode = OFF")  # a scratch copy: nothing to roll back
        con.execute("PRAGMA plaintext.synchronous = OFF")
        tables = con.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    except (sqlcipher3.DatabaseError, MemoryError) as exc:
        con.close()
        raise sqlite3.DatabaseError(f"{why}; its schema cannot be read either: {exc}") from None
    lost = [f"the decrypted copy could not be written whole ({why}): its tables were read one by one"]
    for (name,) in tables:
        quoted = _quoted(str(name))
        try:
            cursor = con.execute(f'SELECT * FROM main."{quoted}"')
            columns = ", ".join(f'"{_quoted(d[0])}"' for d in cursor.description)
            con.execute(f'CREATE TABLE plaintext."{quoted}" ({columns})')
            marks = ", ".join("?" for _ in cursor.description)
            copied = 0
            try:
                for row in cursor:
                    con.execute(f'INSERT INTO plaintext."{quoted}" VALUES ({marks})', row)
                    copied += 1
            except (sqlcipher3.DatabaseError, MemoryError) as exc:  # SQLite's NOMEM: a damaged length
                lost.append(f"table {name}: read up to {copied} row(s), then {type(exc).__name__}: {exc}")
        except (sqlcipher3.DatabaseError, MemoryError) as exc:
            lost.append(f"table {name}: not read: {type(exc).__name__}: {exc}")
    con.close()
    return lost


def _quoted(name: str) -> str:
    return name.replace('"', '""')


# --- the plugin -----------------------------------------------------------------------------------


class SignalAndroidPlugin(Plugin):
    """Reads Signal's encrypted ``signal.db`` with the examiner's key: messages and recipients.

    Emits ``chat/android/signal/message`` records (``message``, or ``sms`` and ``mms``) and
    ``chat/android/signal/contact`` records (people of ``recipient``). Needs
    ``--option signal_android.key=HEX``; without it, or with a wrong key, one warning and no record.
    """

    name = "signal_android"
    version = "1.0.0"
    description = "Signal for Android signal.db (SQLCipher; needs --option signal_android.key=HEX)"
    targets = Targets(globs=("**/org.thoughtcrime.securesms/databases/signal.db", "**/signal.db"))
    emits = (SignalMessage, SignalRecipient)
    options = (
        Option(
            "key",
            "hex",
            "Signal's database secret: 32 bytes as 64 hex digits (from the Android keystore)",
            secret=True,
        ),
    )

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """Decrypt a scratch copy with the key and read it; a warning when that cannot be done."""
        if item.head.startswith(SQLITE_MAGIC[1]):
            try:
                con = ctx.open_sqlite(item)
            except sqlite3.DatabaseError as exc:
                ctx.warn(f"{item.path}: a plain (not encrypted) signal.db that cannot be read: {exc}")
                return
            if not (table_columns(con, "recipient") and table_columns(con, "thread")):
                raise NotMyFormat("a plain signal.db without recipient and thread tables")
            yield from self._read(con, item, ctx, PLAINTEXT)
            return
        if not item.head.strip(b"\x00"):  # found in review: called encrypted; zeros are no cipher text
            ctx.warn(
                f"{item.path} is named like Signal's database but its first {len(item.head)} bytes are "
                f"all zero (a wiped or unallocated copy): plugin {self.name} read nothing"
            )
            return
        key = ctx.options.get("key")
        if not isinstance(key, bytes) or not key:
            ctx.warn(
                f"{item.path} is an encrypted Signal database (SQLCipher) and no key was given: "
                f"not read. Pass its database secret with --option {OPTION}=HEX "
                "(64 hex digits recovered from the Android keystore; a later run given the key reads "
                "the file again)"
            )
            return
        if len(key) != KEY_BYTES:
            ctx.warn(f"the {OPTION} given is {len(key)} bytes; Signal's database secret is {KEY_BYTES}")
        try:
            import sqlcipher3  # the sqlcipher3-binary wheel, a dependency of Exhibit
        except ImportError as exc:
            ctx.warn(f"{item.path}: cannot decrypt it: the SQLCipher module is not installed ({exc})")
            return
        scratch = _Scratch(ctx)
        try:
            copy = scratch.copy(item, "signal.db")
            for suffix in ("-wal", "-journal"):
                sibling = item.sibling(suffix)
                if sibling is not None:
                    scratch.copy(sibling, "signal.db" + suffix)
            plain = scratch.dir / "plain.db"
            try:
                decrypted = _decrypt(sqlcipher3, copy, plain, key)
            except sqlite3.DatabaseError as exc:
                ctx.warn(f"{item.path}: the key given opens it, but it is damaged and was not read: {exc}")
                return
            if decrypted is None:
                ctx.warn(
                    f"the {OPTION} given does not open {item.path} (neither as Signal-Android keys it "
                    "nor as a raw SQLCipher 4 key), or the file is damaged: not read. Check the key "
                    f"and pass the right one with --option {OPTION}=HEX"
                )
                return
            how, damaged = decrypted
            for lost in damaged:
                ctx.warn(f"damaged: {lost}")
            scratch.charge(plain)
            con = sqlite3.connect(f"file:{quote(str(plain))}?mode=ro", uri=True)
            try:
                con.execute("PRAGMA query_only = 1")
                con.row_factory = sqlite3.Row
                yield from self._read(con, item, ctx, how)
            finally:
                con.close()
        finally:
            scratch.close()

    # --- reading the decrypted database -----------------------------------------------------------

    def _read(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext, how: str) -> Iterator[Record]:
        lookups = _Lookups(
            recipients={r["_id"]: r for r in read_rows(con, ctx, RECIPIENT)},
            thread_recipient={
                r["_id"]: r["recipient_id"] if r["recipient_id"] is not None else r["thread_recipient_id"]
                for r in read_rows(con, ctx, THREAD)
            },
            group_titles={
                r["group_id"]: r["title"]
                for r in read_rows(con, ctx, GROUPS)
                if _text(r["group_id"]) and _text(r["title"])
            },
        )
        tables = (
            [MESSAGE]
            if table_columns(con, "message")
            else [t for t in (SMS, MMS) if table_columns(con, t.name)]
        )
        if not tables:
            ctx.warn(
                f"{item.path}: no message, sms or mms table: no message read (an unknown Signal version?)"
            )
        for table in tables:
            parts = None
            if table.name in ATTACHMENTS:
                side, by = ATTACHMENTS[table.name]
                parts = GroupedRows(con, ctx, side, by=by) if table_columns(con, side.name) else None
            make = partial(self._message, table=table, item=item, look=lookups, how=how, parts=parts)
            yield from self._rows(con, ctx, table, make)
        yield from self._rows(con, ctx, RECIPIENT, lambda row: self._recipient(row, item, how))

    def _rows(
        self,
        con: sqlite3.Connection,
        ctx: ParseContext,
        table: Table,
        make: Callable[[sqlite3.Row], Record | None],
    ) -> Iterator[Record]:
        """Each row's record; a row the mapping cannot handle is one warning, and the next is read."""
        for row in read_rows(con, ctx, table):
            try:
                record = make(row)
            except MemoryError:
                raise
            except Exception as exc:
                ctx.warnings.append(
                    ParseWarning(
                        ctx.plugin,
                        ctx.path,
                        f"row skipped: {type(exc).__name__}: {exc}",
                        table.locator(row[table.key]),
                        traceback.format_exc(),
                    )
                )
                continue
            if record is not None:
                yield record

    def _message(
        self,
        row: sqlite3.Row,
        table: Table,
        item: FileItem,
        look: _Lookups,
        how: str,
        parts: GroupedRows | None,
    ) -> SignalMessage:
        legacy_mms = table is MMS
        raw_type = row["msg_box"] if legacy_mms else row["type"]
        if raw_type is not None and not isinstance(raw_type, int):
            raise TypeError(f"type is {type(raw_type).__name__}, not an integer")
        base = raw_type & BASE_TYPE_MASK if isinstance(raw_type, int) else None
        from_me = True if base in OUTGOING_BASE_TYPES else False if base in INCOMING_BASE_TYPES else None
        sent = row["date"] if legacy_mms else row["date_sent"]
        received = row["date_received"] if table is not SMS else row["date"]
        thread = row["thread_id"]
        thread_recipient = look.thread_recipient.get(thread)
        if table is MESSAGE and row["from_recipient_id"] is not None:
            sender_id, to_id = row["from_recipient_id"], row["to_recipient_id"]
        else:  # one column: the sender of an incoming message, the destination of an outgoing one
            single = row["recipient_id"] if row["recipient_id"] is not None else row["address"]
            sender_id, to_id = (None, single) if from_me else (single, None)
        body = row["body"]
        attachments = (
            tuple(_attachment(p, table is MESSAGE) for p in parts.take(row["_id"]))
            if parts is not None
            else ()
        )
        return build_record(
            SignalMessage,
            source=item.source,
            locator=table.locator(row["_id"]),
            rowid=row["_id"],
            table=table.name,
            timestamp=_time(sent),
            date_received=_time(received),
            date_server=_time(row["date_server"]),
            body=body if isinstance(body, str) else None,
            from_me=from_me,
            party=None if look.is_group(thread_recipient) else look.ident(thread_recipient),
            conversation=None if thread is None else str(thread),
            conversation_title=look.name(thread_recipient),
            account=look.ident(sender_id) if from_me and sender_id is not None else None,
            sender=None if from_me else look.ident(sender_id),
            sender_name=None if from_me else look.name(sender_id),
            recipients=tuple(r for r in (look.ident(to_id),) if r is not None) if from_me else (),
            attachments=attachments,
            type=raw_type,
            base_type=base,
            thread_id=thread,
            from_recipient_id=sender_id,
            to_recipient_id=to_id,
            read=row["read"],
            remote_deleted=row["remote_deleted"],
            expires_in=row["expires_in"],
            view_once=row["view_once"],
            cipher=how,
        )

    def _recipient(self, row: sqlite3.Row, item: FileItem, how: str) -> SignalRecipient | None:
        if _text(row["group_id"]) is not None or row["distribution_list_id"] is not None:
            return None  # a group or a story distribution list, not a person
        best, nickname, system, profile = _person_name(row)
        phone = _text(row["e164"]) or _text(row["phone"])
        aci = _text(row["aci"]) or _text(row["uuid"])
        ids = tuple(v for v in (aci, _text(row["pni"]), _text(row["username"])) if v is not None)
        email = _text(row["email"])
        return SignalRecipient(
            source=item.source,
            locator=RECIPIENT.locator(row["_id"]),
            rowid=row["_id"],
            name=best,
            phones=(phone,) if phone else (),
            emails=(email,) if email else (),
            account_ids=ids,
            aci=aci,
            pni=_text(row["pni"]),
            username=_text(row["username"]),
            system_name=system,
            profile_name=profile,
            nickname=nickname,
            blocked=row["blocked"],
            registered=row["registered"],
            cipher=how,
        )


def _attachment(row: sqlite3.Row, modern: bool) -> Attachment:
    """An ``attachment`` (``modern``) or legacy ``part`` row: the app's own file, kept encrypted."""
    size = row["data_size"]
    return Attachment(
        name=_text(row["file_name"]),
        mime=_text(row["content_type"] if modern else row["ct"]),
        recorded_path=_text(row["data_file"] if modern else row["_data"]),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
