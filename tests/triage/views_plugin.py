"""A test-only add-on plugin: Android's call log (``contacts2.db``, table ``calls``) as calls and contacts.

No built-in plugin emits :class:`~triage.plugin.records.CallFields` or
:class:`~triage.plugin.records.ContactFields` records yet, so the tests of ``exhibit calls``,
``exhibit contacts`` and ``exhibit links`` install this one the way a third-party package would,
through an ``exhibit.plugins`` entry point (tests/triage/test_views.py), and run the real triage.

Android's ``calls`` table has one row per call: ``number`` as dialled or received, ``date`` (Unix
milliseconds), ``duration`` (seconds), ``type`` (1 incoming, 2 outgoing, 3 missed, ...) and
``name``, the contact name the phone had cached for the number. Each distinct (name, number) with a
name is also emitted as a contact, as the call log remembers it. The record classes test both ways
of naming an app: the call sets ``app``; the contact leaves it empty, so the views fall back to
the record type's third segment (``calllog``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    FileItem,
    ParseContext,
    Plugin,
    Record,
    SqliteSignature,
    Targets,
    from_unix_ms,
)
from triage.plugin.records import CallFields, ContactFields  # not re-exported by triage.plugin yet

CALL_TYPES: Mapping[object, str] = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected"}


@dataclass(frozen=True, kw_only=True)
class AndroidCall(CallFields, Record):
    """One row of ``calls``: ``status`` is the raw ``type``; ``from_me`` is true for outgoing calls."""

    record_type: ClassVar[str] = "call/android/calllog"
    app: ClassVar[str] = "phone"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"status": CALL_TYPES}

    rowid: int
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallLogContact(ContactFields, Record):
    """A name the call log cached for a number (``app`` left empty on purpose: see the module)."""

    record_type: ClassVar[str] = "contact/android/calllog"


class CallLogPlugin(Plugin):
    """Reads Android's call log from the contacts provider database (test add-on)."""

    name = "calllog_test"
    version = "0.1.0"
    description = "Android call log (contacts2.db, table calls); a test add-on"
    targets = Targets(
        globs=("**/contacts2.db",),
        magic=(SQLITE_MAGIC,),
        sqlite=SqliteSignature.of(calls=("_id", "number", "date", "duration", "type", "name")),
    )
    emits = (AndroidCall, CallLogContact)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[AndroidCall | CallLogContact]:
        con = ctx.open_sqlite(item)
        names: dict[tuple[str, str], int] = {}
        for row in con.execute("SELECT _id, number, date, duration, type, name FROM calls ORDER BY _id"):
            yield AndroidCall(
                source=item.source,
                locator=f"calls._id={row['_id']}",
                rowid=row["_id"],
                timestamp=from_unix_ms(row["date"]),
                duration=row["duration"],
                from_me=None if row["type"] not in CALL_TYPES else row["type"] == 2,
                party=row["number"],
                status=row["type"],
                name=row["name"],
            )
            if row["name"] and row["number"]:
                names.setdefault((row["name"], row["number"]), row["_id"])
        for (name, number), rowid in names.items():
            yield CallLogContact(
                source=item.source, locator=f"calls._id={rowid}", name=name, phones=(number,)
            )
