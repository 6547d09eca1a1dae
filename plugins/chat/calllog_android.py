"""Android's call log: the ``calls`` table of the contacts provider.

Where: up to Android 6, ``calls`` is a table of ``contacts2.db``
(``/data/data/com.android.providers.contacts/databases/contacts2.db``); from Android 7 it is in its
own ``calllog.db`` in device-protected storage
(``/data/user_de/0/com.android.providers.contacts/databases/calllog.db``, with
``calllog_shadow.db`` holding calls made before the user unlocked the phone). The table is the same
in both, the newer one with more columns (AOSP ``CallLogDatabaseHelper``); any SQLite file with a
``calls(number, date, duration, type, new, numbertype)`` table is read, so ``contacts2.db`` needs
no glob of its own (a modern ``contacts2.db`` has no ``calls`` table and is not reported as
skipped). ``new`` and ``numbertype`` are required because other apps have a ``calls`` table with
number, date, duration and type too (Viber's ``viber_data``), and Android's has had these two
since Android 1.0.

One record per row. ``date`` is the start of the call in Unix **milliseconds**; ``duration`` is
in seconds as stored (0 for a missed or rejected call); the end of a call is ``date + duration``.
``type`` (kept raw in ``call_type`` and ``status``, labelled at render time): 1 incoming,
2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered on another device. Only
type 2 is the owner's call (``from_me`` true); 1, 3, 4, 5, 6 and 7 come in; another value leaves
``from_me`` ``None``. ``video`` is bit 0 of ``features`` (FEATURES_VIDEO) where the column exists.
``party`` is ``number`` as dialled or received (empty, or a ``presentation`` other than 1, for a
withheld or unknown caller); ``name`` is the contact name the dialler cached for it at the time,
not a lookup made now. ``account`` is ``phone_account_address``, the owner's own number on the
line the call used, when the phone recorded it; ``phone_account_id`` identifies the SIM (often its
ICCID) and ``phone_account_component`` the calling service (telephony, a VoIP app).
``deleted`` is true for a row marked deleted (``deleted`` = 1: a voicemail deleted by the user and
not yet synchronised), which the dialler no longer shows.

Expected on the public corpus (``chats/contacts2.db``, plaso test data, Android 4.x without the
Android 7 columns): 3 calls with ``5404561685`` ("Barney"), ``_id`` 714 missed at
2013-11-06 21:17:16.690 UTC, 715 outgoing at 21:18:53.283 for 126 s, 717 incoming at
2013-11-07 00:03:36.690 for 639 s (ended 00:14:15.690), as plaso's ``android_calls`` test expects.
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
    from_unix_ms,
    sqlite_signature,
)

CALL_TYPE_LABELS: Mapping[object, str] = {
    1: "incoming",
    2: "outgoing",
    3: "missed",
    4: "voicemail",
    5: "rejected",
    6: "blocked",
    7: "answered externally",
}
OUTGOING = 2
FEATURES_VIDEO = 0x1
PRESENTATION_LABELS: Mapping[object, str] = {1: "allowed", 2: "restricted", 3: "unknown", 4: "payphone"}


@dataclass(frozen=True, kw_only=True)
class AndroidCall(CallFields, Record):
    """One row of ``calls``: ``timestamp`` is ``date`` (call start), ``duration`` seconds as stored.

    ``call_type`` and ``status`` are the raw ``type``; ``name`` the cached contact name; the
    ``phone_account_*`` fields the line used (Android 5+); the rest are ``calls`` columns as stored.
    """

    record_type: ClassVar[str] = "chat/android/phone/call"
    app: ClassVar[str] = "phone"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "call_type": CALL_TYPE_LABELS,
        "status": CALL_TYPE_LABELS,
        "presentation": PRESENTATION_LABELS,
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    call_type: int | None = None
    number: str | None = None
    name: str | None = None
    presentation: int | None = None
    features: int | None = None
    number_type: int | None = None
    number_label: str | None = None
    normalized_number: str | None = None
    formatted_number: str | None = None
    country_iso: str | None = None
    geocoded_location: str | None = None
    new: int | None = None
    is_read: int | None = None
    phone_account_component: str | None = None
    phone_account_id: str | None = None
    phone_account_address: str | None = None
    sub_id: int | None = None
    via_number: str | None = None
    post_dial_digits: str | None = None
    data_usage: int | None = None
    voicemail_uri: str | None = None
    block_reason: int | None = None
    missed_reason: int | None = None
    call_screening_app: str | None = None
    marked_deleted: int | None = None


CALLS = Table(
    "calls",
    key="_id",
    # new, name, numbertype, numberlabel: in every Android version since 1.0 (CallLog.Calls), and
    # what tells this table from other apps' "calls" (Viber's viber_data has number, date,
    # duration and type too)
    required=("number", "date", "duration", "type", "new", "numbertype"),
    optional=(
        "name",
        "presentation",
        "features",
        "numberlabel",
        "normalized_number",
        "formatted_number",
        "countryiso",
        "geocoded_location",
        "new",
        "is_read",
        "subscription_component_name",
        "subscription_id",
        "phone_account_address",
        "sub_id",
        "via_number",
        "post_dial_digits",
        "data_usage",
        "voicemail_uri",
        "block_reason",
        "missed_reason",
        "call_screening_app_name",
        "deleted",
    ),
    label="call log",
)


class AndroidCallLogPlugin(SqliteTablePlugin[None]):
    """Reads Android's call log (table ``calls`` of ``calllog.db``, or of ``contacts2.db`` up to Android 6).

    Emits one ``chat/android/phone/call`` record per ``calls`` row.
    """

    name = "calllog_android"
    version = "1.1.0"
    description = "Android call log (contacts provider calllog.db / contacts2.db, table calls)"
    tables = (CALLS,)
    targets = Targets(
        globs=(
            "**/com.android.providers.contacts/databases/calllog.db",
            "**/calllog.db",
            "**/calllog_shadow.db",
        ),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables),
    )
    emits = (AndroidCall,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> AndroidCall:
        """One ``calls`` row."""
        call_type = row["type"]
        number = row["number"] if isinstance(row["number"], str) else None
        features = row["features"]
        account = row["phone_account_address"]
        return AndroidCall(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=from_unix_ms(row["date"]),
            duration=row["duration"] if isinstance(row["duration"], int | float) else None,
            from_me=(call_type == OUTGOING) if call_type in CALL_TYPE_LABELS else None,
            party=number or None,
            account=account if isinstance(account, str) and account else None,
            status=call_type,
            video=bool(features & FEATURES_VIDEO) if isinstance(features, int) else None,
            deleted=row["deleted"] == 1,
            call_type=call_type,
            number=row["number"],
            name=row["name"],
            presentation=row["presentation"],
            features=features,
            number_type=row["numbertype"],
            number_label=row["numberlabel"],
            normalized_number=row["normalized_number"],
            formatted_number=row["formatted_number"],
            country_iso=row["countryiso"],
            geocoded_location=row["geocoded_location"],
            new=row["new"],
            is_read=row["is_read"],
            phone_account_component=row["subscription_component_name"],
            phone_account_id=row["subscription_id"],
            phone_account_address=account,
            sub_id=row["sub_id"],
            via_number=row["via_number"],
            post_dial_digits=row["post_dial_digits"],
            data_usage=row["data_usage"],
            voicemail_uri=row["voicemail_uri"],
            block_reason=row["block_reason"],
            missed_reason=row["missed_reason"],
            call_screening_app=row["call_screening_app_name"],
            marked_deleted=row["deleted"],
        )
