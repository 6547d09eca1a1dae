"""iOS call history: ``CallHistory.storedata`` (the Phone app's recents, FaceTime and CallKit apps).

**Where.** ``/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata``
(``/HomeDomain/Library/CallHistoryDB/CallHistory.storedata`` in an iTunes/Finder backup): a Core
Data store used since iOS 8. The older ``call_history.db`` (table ``call``) is not read.

**What is read.** One record per ``ZCALLRECORD`` row. ``timestamp`` is ``ZDATE`` (seconds since
2001-01-01 UTC, Cocoa), ``duration`` is ``ZDURATION`` in seconds as stored (a float).
``from_me`` is ``ZORIGINATED`` (1 outgoing, 0 incoming); ``answered`` is ``ZANSWERED`` as stored: an
incoming call not answered is a missed one. ``call_type`` is ``ZCALLTYPE``: 1 phone, 8 FaceTime
video, 16 FaceTime audio, 0 another app through CallKit (``service_provider``, e.g.
``com.apple.Telephony``, ``com.apple.FaceTime`` or an app's bundle identifier, names it); ``video``
is true for 8 and false for 1 and 16, unknown otherwise. ``party`` is ``ZADDRESS``, the other
side's number or e-mail address: Core Data stores it as text in some versions and as a BLOB of
UTF-8 bytes in others, both are read; a BLOB that is not UTF-8 is kept in ``address_bytes`` with a
warning. ``name`` (``ZNAME``), ``location``, ``iso_country_code``, ``unique_id``, ``read``,
``disconnected_cause``, ``handle_type``, ``junk_confidence``, ``was_emergency_call`` and
``filtered_out_reason`` are the columns of the same names, raw, when the version has them.

**Not read.** The participants of group FaceTime calls (a Core Data join table whose name varies
with the model version). Deleted calls still in the files are recovered by the table base and
flagged (docs/plugins.md, "Deleted records").

There is no CallHistory in the public corpus: the tests build one from the published schema
(iLEAPP's ``callHistory.py`` query and its value meanings).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    CallFields,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    from_cocoa_seconds,
    sqlite_signature,
)

CALL_TYPE_LABELS: Mapping[object, str] = {
    0: "third-party app",
    1: "phone",
    8: "FaceTime video",
    16: "FaceTime audio",
}
_VIDEO = {8: True, 1: False, 16: False}


@dataclass(frozen=True, kw_only=True)
class IosCall(CallFields, Record):
    """One ``ZCALLRECORD`` row: ``timestamp`` is ``ZDATE``, ``duration`` ``ZDURATION`` (seconds)."""

    record_type: ClassVar[str] = "chat/ios/callhistory/call"
    app: ClassVar[str] = "phone"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "call_type": CALL_TYPE_LABELS,
        "originated": {0: "incoming", 1: "outgoing"},
        "answered": {0: "not answered", 1: "answered"},
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    originated: int | None = None
    answered: int | None = None
    call_type: int | None = None
    service_provider: str | None = None
    name: str | None = None
    location: str | None = None
    iso_country_code: str | None = None
    unique_id: str | None = None
    read: int | None = None
    disconnected_cause: int | None = None
    handle_type: int | None = None
    junk_confidence: int | float | None = None
    was_emergency_call: int | None = None
    filtered_out_reason: int | None = None
    address_bytes: bytes | None = None


CALLS = Table(
    "ZCALLRECORD",
    key="Z_PK",
    required=("ZDATE", "ZDURATION", "ZADDRESS", "ZORIGINATED"),
    optional=(
        "ZANSWERED",
        "ZCALLTYPE",
        "ZSERVICE_PROVIDER",
        "ZNAME",
        "ZLOCATION",
        "ZISO_COUNTRY_CODE",
        "ZUNIQUE_ID",
        "ZREAD",
        "ZDISCONNECTED_CAUSE",
        "ZHANDLE_TYPE",
        "ZJUNKCONFIDENCE",
        "ZWASEMERGENCYCALL",
        "ZFILTERED_OUT_REASON",
    ),
    label="call history",
)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class CallHistoryIosPlugin(SqliteTablePlugin[None]):
    """Reads iOS call history (``CallHistory.storedata``): phone, FaceTime and CallKit app calls."""

    name = "callhistory_ios"
    version = "1.1.0"
    description = "iOS call history (CallHistory.storedata: ZCALLRECORD; phone, FaceTime, CallKit apps)"
    tables = (CALLS,)
    targets = Targets(
        globs=("**/Library/CallHistoryDB/CallHistory.storedata", "**/CallHistory.storedata"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables),
    )
    emits = (IosCall,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> IosCall:
        """One call; ``ZADDRESS`` read as text whether Core Data stored text or UTF-8 bytes."""
        address = row["ZADDRESS"]
        party: str | None = None
        address_bytes: bytes | None = None
        if isinstance(address, str):
            party = address
        elif isinstance(address, bytes):
            try:
                party = address.decode("utf-8")
            except UnicodeDecodeError:
                address_bytes = address
                at.warn(f"ZADDRESS is {len(address)} bytes that are not UTF-8: kept as bytes")
        duration = row["ZDURATION"]
        originated = _int(row["ZORIGINATED"])
        call_type = _int(row["ZCALLTYPE"])
        junk = row["ZJUNKCONFIDENCE"]
        return IosCall(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            timestamp=from_cocoa_seconds(row["ZDATE"]),
            duration=duration
            if isinstance(duration, int | float) and not isinstance(duration, bool)
            else None,
            from_me=None if originated not in (0, 1) else originated == 1,
            party=party,
            video=_VIDEO.get(call_type) if call_type is not None else None,
            originated=originated,
            answered=_int(row["ZANSWERED"]),
            call_type=call_type,
            service_provider=_str(row["ZSERVICE_PROVIDER"]),
            name=_str(row["ZNAME"]),
            location=_str(row["ZLOCATION"]),
            iso_country_code=_str(row["ZISO_COUNTRY_CODE"]),
            unique_id=_str(row["ZUNIQUE_ID"]),
            read=_int(row["ZREAD"]),
            disconnected_cause=_int(row["ZDISCONNECTED_CAUSE"]),
            handle_type=_int(row["ZHANDLE_TYPE"]),
            junk_confidence=junk if isinstance(junk, int | float) and not isinstance(junk, bool) else None,
            was_emergency_call=_int(row["ZWASEMERGENCYCALL"]),
            filtered_out_reason=_int(row["ZFILTERED_OUT_REASON"]),
            address_bytes=address_bytes,
        )
