"""Android SMS from the telephony provider database ``mmssms.db``.

Where: ``/data/data/com.android.providers.telephony/databases/mmssms.db`` (Android 7+:
``/data/user_de/0/com.android.providers.telephony/databases/mmssms.db``). MMS in the same file
are read by the ``mms_android`` plugin; both give app ``sms`` and the same conversation ids, so a
conversation shows its SMS and MMS together.

The ``sms`` table holds one row per text message. ``date`` is when the phone stored the message
(Unix milliseconds); ``date_sent`` (Android 4.0+) is the sender's time as reported by the network
for received messages and 0 for sent ones. ``type`` is the mailbox: 1 inbox (received), 2 sent,
3 draft, 4 outbox, 5 failed, 6 queued; kept raw and labelled at render time. ``address`` is the
other party as the phone wrote it (the same number may be written differently in different rows:
``1 555-521-5554`` and ``15555215554`` in the corpus file). Older Android versions lack
``date_sent`` and ``seen``, and Android < 5.1 lacks ``sub_id`` and ``creator``; those fields are
then ``None``.

Common fields: ``party`` is ``address``; a received message's ``sender`` is ``address`` and a
sent one's ``recipients`` are ``(address,)``. The device owner's own number is not stored in
``mmssms.db``, so ``account`` stays ``None`` and the owner's side is never filled in by guess.
``conversation`` is ``thread_id``; ``conversation_title`` lists the thread's participants from
``threads.recipient_ids`` and ``canonical_addresses``, as the messaging app titles the thread.

Deleted messages still in the database, its ``-wal`` or its ``-journal`` are recovered by the
table base and flagged (``deleted`` true, ``recovered`` set, a locator naming the place; see
docs/plugins.md, "Deleted records"); the corpus file gives none. Not read: the ``raw`` table of
incomplete multi-part messages; the ``words`` full-text index (a copy of the bodies).

Expected on the public corpus (``chats/mmssms.db``, plaso test data): 9 SMS, 5 sent and
4 received; the first, "Yo Fred this is my new number.", stored 2013-10-29 16:56:28.038 UTC; one
thread whose title is ``1 555-521-5554``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from plugins.chat._telephony import GLOBS, Threads, read_threads
from triage.plugin import (
    SQLITE_MAGIC,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    build_record,
    from_unix_ms,
    sqlite_signature,
)

SMS_TYPE_LABELS: Mapping[object, str] = {
    0: "all",
    1: "received",
    2: "sent",
    3: "draft",
    4: "outbox",
    5: "failed",
    6: "queued",
}

# Mailboxes whose messages the device owner wrote.
_OUTGOING = {2, 3, 4, 5, 6}
INCOMING = 1


@dataclass(frozen=True, kw_only=True)
class AndroidSms(MessageFields, Record):
    """One row of ``sms``: ``timestamp`` is ``date`` (stored time); ``sent_time`` is ``date_sent``.

    ``status`` is the raw TP-Status (-1 none, 0 complete, 32 pending, 64 failed); ``sub_id`` the
    SIM subscription; ``creator`` the package that wrote the row (Android 5.1+).
    """

    record_type: ClassVar[str] = "chat/android/sms"
    timestamp_is: ClassVar[str] = "device"  # ``date``: when this phone sent or received it
    app: ClassVar[str] = "sms"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "sms_type": SMS_TYPE_LABELS,
        "read": {0: "unread", 1: "read"},
        "status": {-1: "none", 0: "complete", 32: "pending", 64: "failed"},
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    thread_id: int | None = None
    address: str | None = None
    sms_type: int | None = None
    sent_time: TimeValue | None = None
    read: int | None = None
    seen: int | None = None
    status: int | None = None
    subject: str | None = None
    service_center: str | None = None
    person: int | None = None
    protocol: int | None = None
    locked: int | None = None
    error_code: int | None = None
    sub_id: int | None = None
    creator: str | None = None


SMS = Table(
    "sms",
    key="_id",
    required=("address", "date", "type", "body"),
    optional=(
        "thread_id",
        "date_sent",
        "read",
        "seen",
        "status",
        "subject",
        "service_center",
        "person",
        "protocol",
        "locked",
        "error_code",
        "sub_id",
        "creator",
    ),
    label="SMS",
)


class AndroidSmsPlugin(SqliteTablePlugin[Threads]):
    """Reads SMS from Android's telephony provider (``mmssms.db``), sent and received.

    Emits one ``chat/android/sms`` record per ``sms`` row, with the thread's participants from
    ``threads`` and ``canonical_addresses`` as the conversation title.
    """

    name = "sms_android"
    version = "1.2.0"
    description = "Android SMS messages (telephony provider mmssms.db, table sms)"
    tables = (SMS,)
    targets = Targets(globs=GLOBS, magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables))
    emits = (AndroidSms,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Threads:
        """Each thread's participants (tables ``threads`` and ``canonical_addresses``, if present)."""
        return read_threads(con, ctx)

    def record(self, row: sqlite3.Row, at: RowContext[Threads]) -> AndroidSms:
        """One ``sms`` row; ``sent_time`` is None where the schema has no ``date_sent`` (Android < 4)."""
        sms_type = row["type"]
        address = row["address"]
        text_address = address if isinstance(address, str) else None
        from_me = (sms_type in _OUTGOING) if sms_type in SMS_TYPE_LABELS and sms_type else None
        thread = row["thread_id"]
        return build_record(
            AndroidSms,
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=from_unix_ms(row["date"]),
            sent_time=from_unix_ms(row["date_sent"]) if at.has("date_sent") else None,
            body=row["body"],
            from_me=from_me,
            party=text_address,
            sender=text_address if from_me is False else None,
            recipients=(text_address,) if from_me is True and text_address is not None else (),
            conversation=None if thread is None else str(thread),
            conversation_title=at.lookups.title(thread),
            thread_id=thread,
            address=address,
            sms_type=sms_type,
            read=row["read"],
            seen=row["seen"],
            status=row["status"],
            subject=row["subject"],
            service_center=row["service_center"],
            person=row["person"],
            protocol=row["protocol"],
            locked=row["locked"],
            error_code=row["error_code"],
            sub_id=row["sub_id"],
            creator=row["creator"],
        )
