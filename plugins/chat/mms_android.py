"""Android MMS from the telephony provider database ``mmssms.db``, with their parts and addresses.

Where: ``/data/data/com.android.providers.telephony/databases/mmssms.db`` (Android 7+:
``/data/user_de/0/com.android.providers.telephony/databases/mmssms.db``); attachment files in the
provider's ``app_parts`` folder beside ``databases``.

One MMS is spread over three tables (AOSP ``MmsSmsDatabaseHelper``): ``pdu`` holds the message
headers, one row per message; ``part`` its parts (``part.mid`` = ``pdu._id``): the SMIL layout,
text parts (``ct`` ``text/plain``, the text in the ``text`` column) and media parts whose content
is a file named by ``_data``; ``addr`` its addresses (``addr.msg_id`` = ``pdu._id``) with ``type``
137 from, 151 to, 130 cc, 129 bcc. ``part`` and ``addr`` are as big as ``pdu`` or bigger, so they
are not held in memory: each is read once, ordered by its message id, beside ``pdu`` (a streamed
merge join, :class:`triage.plugin.GroupedRows`).

**Times.** ``pdu.date`` and ``pdu.date_sent`` are Unix **seconds**, not milliseconds as in the
``sms`` table of the same file: the provider stores ``System.currentTimeMillis() / 1000`` when it
sets the date itself (``MmsProvider.insert``), the MMS ``Date`` header is in seconds, and the
messaging app multiplies both by 1000 when it reads them (AOSP Messaging ``DatabaseMessages``:
"MMS db times are in seconds"). They are converted with ``from_unix_seconds``.

**Text.** The body is the text of the ``text/plain`` parts in ``seq`` order, joined by a newline.
A text part without ``text`` whose file (``_data``) is found in the evidence is read from that
file (at most 1 MiB) and decoded with its ``chset`` (IANA MIBenum; 106 UTF-8); such a part is also
listed as an attachment, so the file it came from is named. The SMIL part (``application/smil``)
only lays the message out and is not listed.

**Encoded headers.** The provider stores the subject and the addresses as the MMS bytes read as
ISO-8859-1 text, with their charset beside them (``sub_cs``, ``addr.charset``), as AOSP
``PduPersister`` does. ``subject`` is kept as stored; ``subject_decoded`` is the text after
applying ``sub_cs`` when that changes it. Addresses (phone numbers and e-mail addresses, ASCII in
practice) are decoded the same way.

**Who.** ``from_me`` follows the mailbox (``msg_box`` 1 inbox: received; 2 sent, 3 drafts,
4 outbox, 5 failed: the owner's). ``sender`` is the from address; a message the phone sent stores
the placeholder ``insert-address-token`` there (the network fills it in), so its sender is
``None`` (the owner) unless a real address was recorded, which is then also the owner's
``account``. ``recipients`` are the to, cc and bcc addresses in that order: for a received
message they include the owner's own number. ``party`` is set only for one-to-one messages (one
recipient of a sent message, the sender of a received one addressed to one number); a group MMS
has ``party`` ``None`` and its participants in ``recipients`` and ``conversation_title``.

**Attachments.** Every part other than SMIL and stored text is an attachment: ``mime`` is ``ct``;
``name`` is ``cl`` (the file name the sender gave), else ``name``, else ``fn``; ``recorded_path``
is ``_data``. The file is looked for in the same evidence at that path, then as
``../app_parts/<file name>`` beside the database's folder, then in any
``com.android.providers.telephony/app_parts`` folder; when found, ``path`` and ``size`` are given,
and its SHA-256 when it is at most 32 MiB.

Every ``pdu`` row gives one record, including download notifications (``m_type`` 130: an MMS not
fetched yet, whose ``content_location`` is the MMSC address) and delivery or read reports (134,
136), labelled by ``message_type``.

Deleted ``pdu`` rows still in the files are recovered by the table base and flagged (docs/plugins.md,
"Deleted records"); their parts and addresses are those still live (deleted ones are not matched
to them). Not read: the ``drm`` table; ``pending_msgs``.
The public corpus file (``chats/mmssms.db``) has empty ``pdu``, ``part`` and ``addr`` tables (0 MMS,
checked by the tests); the other tests use fixtures built from the AOSP schema.
"""

from __future__ import annotations

import codecs
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from plugins.chat._telephony import GLOBS, Threads, read_threads
from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    FileItem,
    GroupedRows,
    MessageFields,
    ParseContext,
    Record,
    RelatedFile,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    from_unix_seconds,
    sqlite_signature,
    table_columns,
)

MSG_BOX_LABELS: Mapping[object, str] = {
    0: "all",
    1: "inbox",
    2: "sent",
    3: "drafts",
    4: "outbox",
    5: "failed",
}
INBOX = 1
_OUTGOING = {2, 3, 4, 5}

#: ``m_type``: the MMS PDU type (OMA MMS encapsulation, PduHeaders).
MESSAGE_TYPE_LABELS: Mapping[object, str] = {
    128: "send-req (sent)",
    129: "send-conf",
    130: "notification-ind (not downloaded)",
    131: "notifyresp-ind",
    132: "retrieve-conf (received)",
    133: "acknowledge-ind",
    134: "delivery-ind (delivery report)",
    135: "read-rec-ind",
    136: "read-orig-ind (read report)",
}

#: ``addr.type``: which header the address comes from.
FROM, TO, CC, BCC = 137, 151, 130, 129
ADDR_TYPE_LABELS: Mapping[object, str] = {FROM: "from", TO: "to", CC: "cc", BCC: "bcc"}

#: The placeholder a sent message stores as its From (PduHeaders.FROM_INSERT_ADDRESS_TOKEN_STR).
INSERT_ADDRESS_TOKEN = "insert-address-token"

#: IANA MIBenum charset numbers (as MMS encodes them) -> Python codec.
CHARSETS: Mapping[int, str] = {
    3: "ascii",
    4: "latin-1",
    5: "iso8859-2",
    6: "iso8859-3",
    7: "iso8859-4",
    8: "iso8859-5",
    9: "iso8859-6",
    10: "iso8859-7",
    11: "iso8859-8",
    12: "iso8859-9",
    17: "shift_jis",
    18: "euc_jp",
    38: "euc_kr",
    39: "iso2022_jp",
    106: "utf-8",
    109: "iso8859-13",
    111: "iso8859-15",
    113: "gbk",
    114: "gb18030",
    1000: "utf-16-be",
    1013: "utf-16-be",
    1014: "utf-16-le",
    1015: "utf-16",
    2025: "gb2312",
    2026: "big5",
    2084: "koi8-r",
    2252: "cp1252",
}

TEXT_PLAIN = "text/plain"
SMIL = "application/smil"
#: Largest text part file read into a body, and largest attachment hashed.
MAX_TEXT_FILE = 1 << 20
MAX_HASHED = 32 << 20
TELEPHONY_PARTS = "/**/com.android.providers.telephony/app_parts/"


@dataclass(frozen=True, kw_only=True)
class AndroidMms(MessageFields, Record):
    """One ``pdu`` row with its parts and addresses.

    ``timestamp`` is ``date`` and ``sent_time`` ``date_sent`` (both Unix seconds); ``body`` the
    text parts; ``from_address``/``to``/``cc``/``bcc`` the ``addr`` rows by type; ``status`` the
    raw ``st`` (MMS X-Mms-Status); the other fields are ``pdu`` columns as stored.
    """

    record_type: ClassVar[str] = "chat/android/mms"
    timestamp_is: ClassVar[str] = "device"  # ``date``: when this phone sent or received it
    app: ClassVar[str] = "sms"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "msg_box": MSG_BOX_LABELS,
        "message_type": MESSAGE_TYPE_LABELS,
        "read": {0: "unread", 1: "read"},
        "priority": {128: "low", 129: "normal", 130: "high"},
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    thread_id: int | None = None
    msg_box: int | None = None
    message_type: int | None = None
    sent_time: TimeValue | None = None
    subject: str | None = None
    subject_charset: int | None = None
    subject_decoded: str | None = None
    from_address: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    read: int | None = None
    seen: int | None = None
    message_id: str | None = None
    transaction_id: str | None = None
    content_type: str | None = None
    content_location: str | None = None
    expiry: int | None = None
    message_size: int | None = None
    priority: int | None = None
    response_status: int | None = None
    retrieve_status: int | None = None
    locked: int | None = None
    sub_id: int | None = None
    creator: str | None = None
    text_only: int | None = None
    part_count: int = 0


PDU = Table(
    "pdu",
    key="_id",
    required=("date", "msg_box"),
    optional=(
        "thread_id",
        "date_sent",
        "read",
        "seen",
        "m_id",
        "sub",
        "sub_cs",
        "ct_t",
        "ct_l",
        "exp",
        "m_type",
        "m_size",
        "pri",
        "resp_st",
        "st",
        "tr_id",
        "retr_st",
        "locked",
        "sub_id",
        "creator",
        "text_only",
    ),
    label="MMS",
)
PART = Table(
    "part",
    key="_id",
    required=("mid",),
    optional=("seq", "ct", "name", "chset", "cl", "fn", "_data", "text"),
    label="MMS parts",
)
ADDR = Table(
    "addr", key="_id", required=("msg_id",), optional=("address", "type", "charset"), label="MMS addresses"
)


@dataclass(frozen=True)
class Lookups:
    """The threads (small, in memory) and the parts and addresses, streamed beside ``pdu``."""

    threads: Threads
    parts: GroupedRows
    addrs: GroupedRows


class AndroidMmsPlugin(SqliteTablePlugin[Lookups]):
    """Reads MMS from Android's telephony provider (``mmssms.db``): headers, text, addresses, files.

    Emits one ``chat/android/mms`` record per ``pdu`` row, with its ``part`` rows (body text and
    attachments, resolved to files in the same evidence) and ``addr`` rows (from, to, cc, bcc).
    """

    name = "mms_android"
    version = "1.1.0"
    description = "Android MMS messages (telephony provider mmssms.db, tables pdu, part, addr)"
    tables = (PDU,)
    targets = Targets(globs=GLOBS, magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables))
    emits = (AndroidMms,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """Threads, and the ``part`` and ``addr`` tables read in message order (a missing one: a warning)."""
        for table in (PART, ADDR):
            if not table_columns(con, table.name):
                ctx.warn(
                    f"no table {table.name}: MMS are read without their {table.label.removeprefix('MMS ')}"
                )
        return Lookups(
            threads=read_threads(con, ctx),
            parts=GroupedRows(con, ctx, PART, by="mid"),
            addrs=GroupedRows(con, ctx, ADDR, by="msg_id"),
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> AndroidMms:
        """One ``pdu`` row with its addresses and parts."""
        key = row["_id"]
        # both taken first: a failure below must not leave this message's rows to the next one
        addrs = at.lookups.addrs.take(key)
        parts = at.lookups.parts.take(key)
        box = row["msg_box"]
        from_me = (box in _OUTGOING) if box in MSG_BOX_LABELS and box else None
        by_type: dict[int, list[str]] = {FROM: [], TO: [], CC: [], BCC: []}
        for addr in addrs:
            text = _decoded(addr["address"], addr["charset"])
            if text and addr["type"] in by_type:
                by_type[addr["type"]].append(text)
            elif text:
                at.warn(f"addr._id={addr['_id']}: address type {addr['type']!r} is not from, to, cc or bcc")
        from_address = by_type[FROM][0] if by_type[FROM] else None
        if len(by_type[FROM]) > 1:
            at.warn(f"{len(by_type[FROM])} from addresses; the first is the sender")
        real_from = from_address if from_address and from_address != INSERT_ADDRESS_TOKEN else None
        recipients = (*by_type[TO], *by_type[CC], *by_type[BCC])
        if from_me is True:
            party = recipients[0] if len(recipients) == 1 else None
        elif from_me is False:
            party = real_from if len(recipients) <= 1 else None
        else:
            party = None
        body, attachments = self._parts(parts, at)
        thread = row["thread_id"]
        subject = row["sub"]
        decoded_subject = _decoded(subject, row["sub_cs"])
        return AndroidMms(
            source=at.source,
            locator=at.locator,
            rowid=key,
            timestamp=from_unix_seconds(row["date"]),
            sent_time=from_unix_seconds(row["date_sent"]) if at.has("date_sent") else None,
            body=body,
            from_me=from_me,
            party=party,
            sender=real_from,
            recipients=recipients,
            account=real_from if from_me is True else None,
            conversation=None if thread is None else str(thread),
            conversation_title=at.lookups.threads.title(thread),
            attachments=attachments,
            status=row["st"],
            thread_id=thread,
            msg_box=box,
            message_type=row["m_type"],
            subject=subject,
            subject_charset=row["sub_cs"],
            subject_decoded=decoded_subject if decoded_subject != subject else None,
            from_address=from_address,
            to=tuple(by_type[TO]),
            cc=tuple(by_type[CC]),
            bcc=tuple(by_type[BCC]),
            read=row["read"],
            seen=row["seen"],
            message_id=row["m_id"],
            transaction_id=row["tr_id"],
            content_type=row["ct_t"],
            content_location=row["ct_l"],
            expiry=row["exp"],
            message_size=row["m_size"],
            priority=row["pri"],
            response_status=row["resp_st"],
            retrieve_status=row["retr_st"],
            locked=row["locked"],
            sub_id=row["sub_id"],
            creator=row["creator"],
            text_only=row["text_only"],
            part_count=len(parts),
        )

    def _parts(
        self, parts: list[sqlite3.Row], at: RowContext[Lookups]
    ) -> tuple[str | None, tuple[Attachment, ...]]:
        """The body (text parts in ``seq`` order) and the attachments of one message."""
        texts: list[str] = []
        attachments: list[Attachment] = []
        for part in sorted(parts, key=_seq):
            mime = part["ct"] if isinstance(part["ct"], str) else None
            kind = (mime or "").split(";", 1)[0].strip().lower()
            if kind == SMIL:
                continue
            recorded = part["_data"] if isinstance(part["_data"], str) and part["_data"] else None
            if kind == TEXT_PLAIN and part["text"] is not None:
                texts.append(str(part["text"]))
                continue
            if kind == TEXT_PLAIN and recorded is None:
                continue  # an empty text part: no text, no file
            found = _find(at.item, recorded) if recorded else None
            if kind == TEXT_PLAIN and found is not None:
                text = _read_text(found, part["chset"], at, part["_id"])
                if text is not None:
                    texts.append(text)
            attachments.append(
                Attachment(
                    name=_first_text(part["cl"], part["name"], part["fn"]),
                    mime=mime,
                    recorded_path=recorded,
                    path=None if found is None else found.path,
                    size=None if found is None else found.size,
                    sha256=_sha256(found, at, part["_id"]),
                )
            )
        return ("\n".join(texts) if texts else None), tuple(attachments)


def _seq(part: sqlite3.Row) -> tuple[int, object, object]:
    seq = part["seq"]
    return (0, seq, part["_id"]) if isinstance(seq, int) else (1, 0, part["_id"])


def _first_text(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def _decoded(value: object, charset: object) -> str | None:
    """An encoded header as text: stored as its bytes read as ISO-8859-1, re-read with ``charset``.

    Unchanged when the charset is absent or unknown, when the text is ASCII, or when it is not
    such a Latin-1 rendering (characters above U+00FF: written as real text by another app).
    """
    if not isinstance(value, str):
        return None
    codec = CHARSETS.get(charset) if isinstance(charset, int) else None
    if codec is None or value.isascii():
        return value
    try:
        return value.encode("latin-1").decode(codec)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _find(item: FileItem | None, recorded: str) -> RelatedFile | None:
    """The part file in the same evidence: at its recorded path, beside the database, or in any
    ``com.android.providers.telephony/app_parts`` folder."""
    if item is None or "*" in recorded or "?" in recorded:
        return None  # a pattern character in a recorded name would match other files
    name = recorded.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", ".."):
        return None
    patterns = [f"../app_parts/{name}", TELEPHONY_PARTS + name]
    if recorded.startswith("/"):
        patterns.insert(0, recorded)
    for pattern in patterns:
        found = next(item.find(pattern), None)
        if found is not None:
            return found
    return None


def _sha256(found: RelatedFile | None, at: RowContext[Lookups], part_id: object) -> str | None:
    if found is None or found.size > MAX_HASHED:
        return None
    try:
        return found.item().source.sha256
    except OSError as exc:
        at.warn(f"part._id={part_id}: attachment {found.path} could not be read: {exc}")
        return None


def _read_text(found: RelatedFile, charset: object, at: RowContext[Lookups], part_id: object) -> str | None:
    """A text part's file, decoded with its charset (UTF-8 when none is recorded)."""
    try:
        with found.open() as fh:
            data = fh.read(MAX_TEXT_FILE + 1)
    except OSError as exc:
        at.warn(f"part._id={part_id}: text file {found.path} could not be read: {exc}")
        return None
    if len(data) > MAX_TEXT_FILE:
        at.warn(
            f"part._id={part_id}: text file {found.path} is over {MAX_TEXT_FILE} bytes; the body has its start"
        )
        data = data[:MAX_TEXT_FILE]
    codec = CHARSETS.get(charset) if isinstance(charset, int) else None
    if codec is None and charset not in (None, 0):
        at.warn(f"part._id={part_id}: charset {charset!r} unknown; text read as UTF-8")
    codec = codec or "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        at.warn(
            f"part._id={part_id}: text file {found.path} is not valid {codecs.lookup(codec).name}; bad bytes replaced"
        )
        return data.decode(codec, errors="replace")
