"""Android SMS from the telephony provider database ``mmssms.db``.

The ``sms`` table holds one row per text message. ``date`` is when the phone stored the message
(Unix milliseconds); ``date_sent`` (Android 4.0+) is the sender's time as reported by the network
for received messages and 0 for sent ones. ``type`` is the mailbox: 1 inbox (received), 2 sent,
3 draft, 4 outbox, 5 failed, 6 queued; kept raw and labelled at render time. Older Android
versions lack ``date_sent`` and ``seen``; those fields are then ``None``.

Expected on the public corpus (``chats/mmssms.db``, plaso test data): 9 SMS, 5 sent and
4 received; the first, "Yo Fred this is my new number.", stored 2013-10-29 16:56:28.038 UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    MessageFields,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
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


@dataclass(frozen=True, kw_only=True)
class AndroidSms(MessageFields, Record):
    """One row of ``sms``: ``timestamp`` is ``date`` (stored time); ``sent_time`` is ``date_sent``."""

    record_type: ClassVar[str] = "chat/android/sms"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "sms_type": SMS_TYPE_LABELS,
        "read": {0: "unread", 1: "read"},
    }

    rowid: int
    thread_id: int | None = None
    address: str | None = None
    sms_type: int | None = None
    sent_time: TimeValue | None = None
    read: int | None = None
    seen: int | None = None
    status: int | None = None
    subject: str | None = None
    service_center: str | None = None


SMS = Table(
    "sms",
    key="_id",
    required=("address", "date", "type", "body"),
    optional=("thread_id", "date_sent", "read", "seen", "status", "subject", "service_center"),
    label="SMS",
)


class AndroidSmsPlugin(SqliteTablePlugin[None]):
    """Reads SMS from Android's telephony provider (``mmssms.db``), sent and received."""

    name = "sms_android"
    version = "1.0.0"
    description = "Android SMS messages (telephony provider mmssms.db, table sms)"
    tables = (SMS,)
    targets = Targets(
        globs=("**/com.android.providers.telephony/databases/mmssms.db", "**/mmssms.db"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables),
    )
    emits = (AndroidSms,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> AndroidSms:
        """One ``sms`` row; ``sent_time`` is None where the schema has no ``date_sent`` (Android < 4)."""
        sms_type = row["type"]
        return AndroidSms(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=from_unix_ms(row["date"]),
            sent_time=from_unix_ms(row["date_sent"]) if at.has("date_sent") else None,
            body=row["body"],
            from_me=(sms_type in _OUTGOING) if sms_type in SMS_TYPE_LABELS and sms_type else None,
            party=row["address"],
            conversation=None if row["thread_id"] is None else str(row["thread_id"]),
            thread_id=row["thread_id"],
            address=row["address"],
            sms_type=sms_type,
            read=row["read"],
            seen=row["seen"],
            status=row["status"],
            subject=row["subject"],
            service_center=row["service_center"],
        )
