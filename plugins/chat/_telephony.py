"""What the SMS and MMS plugins share about Android's telephony provider database (``mmssms.db``).

Both kinds of message point at a conversation, ``threads._id``. A thread lists its participants as
space-separated ids of ``canonical_addresses`` rows (``recipient_ids``), each holding one address
as the provider first saw it: that list is the conversation's title in the messaging app (shown
there as contact names when the contacts database knows the number). Both tables hold one row per
conversation or correspondent, small next to the message tables, so they are read once per file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from triage.plugin import ParseContext, Table, read_rows, table_columns

THREADS = Table("threads", key="_id", optional=("recipient_ids",), label="SMS/MMS threads")
ADDRESSES = Table("canonical_addresses", key="_id", optional=("address",), label="SMS/MMS addresses")

GLOBS = ("**/com.android.providers.telephony/databases/mmssms.db", "**/mmssms.db")


@dataclass(frozen=True)
class Threads:
    """Each thread's participants (``canonical_addresses.address`` in ``recipient_ids`` order)."""

    participants: dict[object, tuple[str, ...]] = field(default_factory=dict)

    def of(self, thread_id: object) -> tuple[str, ...]:
        return self.participants.get(thread_id, ())

    def title(self, thread_id: object) -> str | None:
        """The participants joined by ", " (what the messaging app titles the thread), or None."""
        found = self.of(thread_id)
        return ", ".join(found) if found else None


def read_threads(con: sqlite3.Connection, ctx: ParseContext) -> Threads:
    """The threads and their participants; an id that names no address row is a warning.

    Without a ``canonical_addresses`` table (a stripped copy) threads have no participants, and no
    warning per thread is given.
    """
    if not table_columns(con, ADDRESSES.name):
        return Threads()
    addresses = {
        row["_id"]: row["address"]
        for row in read_rows(con, ctx, ADDRESSES)
        if isinstance(row["address"], str)
    }
    participants: dict[object, tuple[str, ...]] = {}
    for row in read_rows(con, ctx, THREADS):
        ids = row["recipient_ids"]
        if not isinstance(ids, str) or not ids.strip():
            continue
        found = []
        for text in ids.split():
            address = addresses.get(int(text)) if text.isdigit() else None
            if address is None:
                ctx.warn(
                    f"thread recipient id {text!r} names no canonical_addresses row",
                    locator=THREADS.locator(row["_id"]),
                )
                continue
            found.append(address)
        participants[row["_id"]] = tuple(found)
    return Threads(participants)
