"""Android's contacts: ``raw_contacts`` with their ``data`` rows, from the contacts provider.

Where: ``/data/data/com.android.providers.contacts/databases/contacts2.db``, and the owner's own
"Me" profile in ``profile.db`` beside it (same schema; its rows have ``_id`` at or above
``Profile.MIN_ID`` = 9223372034707292160 and are flagged ``profile``).

One record per **raw contact**: the contact as one account holds it (the phone itself, a Google
account, a SIM, or an app such as WhatsApp or Signal that adds its own raw contacts). The
contacts app shows several raw contacts of one person merged (``contact_id`` names that merged
contact); they are kept apart here because each says which account holds what. Each raw contact's
details are rows of ``data`` (``data.raw_contact_id``), typed by ``mimetypes`` (AOSP
``ContactsDatabaseHelper``, ``ContactsContract.CommonDataKinds``):

- ``vnd.android.cursor.item/name``: ``data1`` display name, ``data2`` given, ``data3`` family;
- ``vnd.android.cursor.item/phone_v2``: ``data1`` the number as typed (``phones``), ``data4`` the
  provider's E.164 form (``normalized_phones``, parallel, ``None`` where absent);
- ``vnd.android.cursor.item/email_v2``: ``data1`` (``emails``);
- nickname, organization (``data1`` company), note, postal-address_v2 (``data1`` formatted),
  website, im (``data1`` handle) and sip_address, each ``data1`` in its own field;
- a mimetype an app defined (anything else, e.g. ``vnd.android.cursor.item/vnd.com.whatsapp.profile``
  whose ``data1`` is the WhatsApp JID): its ``data1`` in ``account_ids`` and its mimetype in
  ``app_mimetypes`` (parallel); photos, groups, events, relations and identities are not read.

``data`` is as big as the contacts and is not held in memory: it is read once, ordered by raw
contact, beside ``raw_contacts`` (a streamed merge join, :class:`triage.plugin.GroupedRows`).

``name`` is ``raw_contacts.display_name`` (the provider's computed name), else the structured
name's ``data1``. ``account`` is the holding account's name (``accounts.account_name`` through
``raw_contacts.account_id`` on Android 4.1+, the ``account_name`` column before), e.g. the
owner's Google address; ``None`` for a contact kept only on the phone. ``deleted`` is true for a
raw contact marked deleted (``deleted`` = 1): the user deleted it and the provider keeps the row
until the account is synchronised; its data rows are still there. ``last_time_contacted`` is Unix
milliseconds (``x_last_time_contacted`` on Android 10+, whose public column is coarsened).

Not read: deleted contacts' tombstones (``deleted_contacts``: id and time only), photos, groups.
The public corpus ``chats/contacts2.db`` (plaso) has no ``raw_contacts`` table and empty contact
tables: only its call log is read (``calllog_android``); the tests use fixtures from the AOSP schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    ContactFields,
    GroupedRows,
    Join,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    from_unix_ms,
    read_rows,
    sqlite_signature,
)

#: ContactsContract.Profile.MIN_ID: raw contacts of the owner's profile have ids from here on.
PROFILE_MIN_ID = 9223372034707292160

ITEM = "vnd.android.cursor.item/"
NAME = ITEM + "name"
PHONE = ITEM + "phone_v2"
EMAIL = ITEM + "email_v2"
#: data1 of these mimetypes -> the record field listing them
SIMPLE: Mapping[str, str] = {
    ITEM + "nickname": "nicknames",
    ITEM + "organization": "organizations",
    ITEM + "note": "notes",
    ITEM + "postal-address_v2": "postal_addresses",
    ITEM + "website": "websites",
    ITEM + "im": "im_handles",
    ITEM + "sip_address": "sip_addresses",
}
#: Android's own kinds that are not read (not app identities either).
NOT_READ = frozenset(
    {
        ITEM + "photo",
        ITEM + "group_membership",
        ITEM + "contact_event",
        ITEM + "relation",
        ITEM + "identity",
        "vnd.com.google.cursor.item/contact_misc",
    }
)


@dataclass(frozen=True, kw_only=True)
class AndroidContact(ContactFields, Record):
    """One ``raw_contacts`` row with its ``data`` rows (see the module docstring for each field)."""

    record_type: ClassVar[str] = "chat/android/contacts/contact"
    app: ClassVar[str] = "contacts"

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    contact_id: int | None = None
    profile: bool = False
    given_name: str | None = None
    family_name: str | None = None
    normalized_phones: tuple[str | None, ...] = ()
    nicknames: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    postal_addresses: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    im_handles: tuple[str, ...] = ()
    sip_addresses: tuple[str, ...] = ()
    app_mimetypes: tuple[str, ...] = ()
    account_type: str | None = None
    data_set: str | None = None
    source_id: str | None = None
    starred: int | None = None
    times_contacted: int | None = None
    last_time_contacted: TimeValue | None = None
    contact_last_updated: TimeValue | None = None
    marked_deleted: int | None = None
    data_rows: int = 0


RAW_CONTACTS = Table(
    "raw_contacts",
    key="_id",
    required=("contact_id",),
    optional=(
        "account_id",
        "account_name",
        "account_type",
        "data_set",
        "sourceid",
        "deleted",
        "display_name",
        "starred",
        "times_contacted",
        "last_time_contacted",
        "x_times_contacted",
        "x_last_time_contacted",
    ),
    joins=(Join("contacts", on="contact_id", key="_id", optional=("contact_last_updated_timestamp",)),),
    label="contacts",
)
DATA = Table(
    "data",
    key="_id",
    required=("raw_contact_id", "mimetype_id"),
    optional=("data1", "data2", "data3", "data4"),
    label="contact data",
)
MIMETYPES = Table("mimetypes", key="_id", required=("mimetype",))
ACCOUNTS = Table("accounts", key="_id", optional=("account_name", "account_type", "data_set"))


@dataclass(frozen=True)
class Lookups:
    """Mimetype and account names by id (small), and ``data`` streamed beside ``raw_contacts``."""

    mimetypes: dict[object, str]
    accounts: dict[object, sqlite3.Row]
    data: GroupedRows


class AndroidContactsPlugin(SqliteTablePlugin[Lookups]):
    """Reads Android's contacts (``contacts2.db``, ``profile.db``): one record per raw contact.

    Emits ``chat/android/contacts/contact`` records with the names, phone numbers, e-mail
    addresses and app identities of each ``raw_contacts`` row's ``data`` rows, and its account.
    """

    name = "contacts_android"
    version = "1.1.0"
    description = "Android contacts (contacts provider contacts2.db: raw_contacts, data, mimetypes, accounts)"
    tables = (RAW_CONTACTS,)
    targets = Targets(
        globs=(
            "**/com.android.providers.contacts/databases/contacts2.db",
            "**/com.android.providers.contacts/databases/profile.db",
            "**/contacts2.db",
        ),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables, DATA, MIMETYPES),
    )
    emits = (AndroidContact,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """Mimetypes and accounts by id, and the ``data`` rows in raw contact order."""
        return Lookups(
            mimetypes={
                r["_id"]: r["mimetype"]
                for r in read_rows(con, ctx, MIMETYPES)
                if isinstance(r["mimetype"], str)
            },
            accounts={r["_id"]: r for r in read_rows(con, ctx, ACCOUNTS)},
            data=GroupedRows(con, ctx, DATA, by="raw_contact_id"),
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> AndroidContact:
        """One ``raw_contacts`` row with its data rows."""
        key = row["_id"]
        data = at.lookups.data.take(key)
        found: dict[str, list[str]] = {field: [] for field in SIMPLE.values()}
        phones: list[str] = []
        normalized: list[str | None] = []
        emails: list[str] = []
        app_ids: list[str] = []
        app_types: list[str] = []
        structured: sqlite3.Row | None = None
        for d in data:
            mimetype = at.lookups.mimetypes.get(d["mimetype_id"])
            value = d["data1"] if isinstance(d["data1"], str) and d["data1"] else None
            if mimetype is None:
                at.warn(f"data._id={d['_id']}: mimetype id {d['mimetype_id']!r} not in mimetypes")
            elif mimetype == NAME:
                structured = structured or d
            elif value is None or mimetype in NOT_READ:
                continue
            elif mimetype == PHONE:
                phones.append(value)
                normalized.append(d["data4"] if isinstance(d["data4"], str) and d["data4"] else None)
            elif mimetype == EMAIL:
                emails.append(value)
            elif mimetype in SIMPLE:
                found[SIMPLE[mimetype]].append(value)
            else:
                app_ids.append(value)
                app_types.append(mimetype)
        account_name, account_type, data_set = self._account(row, at)
        display = (
            row["display_name"] if isinstance(row["display_name"], str) and row["display_name"] else None
        )
        if display is None and structured is not None and isinstance(structured["data1"], str):
            display = structured["data1"] or None
        use_x = at.has("x_last_time_contacted")
        last = row["x_last_time_contacted"] if use_x else row["last_time_contacted"]
        times = row["x_times_contacted"] if at.has("x_times_contacted") else row["times_contacted"]
        updated = row["contacts.contact_last_updated_timestamp"]
        return AndroidContact(
            source=at.source,
            locator=at.locator,
            rowid=key,
            contact_id=row["contact_id"],
            profile=isinstance(key, int) and key >= PROFILE_MIN_ID,
            name=display,
            given_name=_text(structured["data2"]) if structured is not None else None,
            family_name=_text(structured["data3"]) if structured is not None else None,
            phones=tuple(phones),
            normalized_phones=tuple(normalized),
            emails=tuple(emails),
            account_ids=tuple(app_ids),
            app_mimetypes=tuple(app_types),
            account=account_name,
            account_type=account_type,
            data_set=data_set,
            deleted=row["deleted"] == 1,
            marked_deleted=row["deleted"],
            source_id=row["sourceid"],
            starred=row["starred"],
            times_contacted=times,
            last_time_contacted=None if last is None else from_unix_ms(last),
            contact_last_updated=None if updated is None else from_unix_ms(updated),
            data_rows=len(data),
            nicknames=tuple(found["nicknames"]),
            organizations=tuple(found["organizations"]),
            notes=tuple(found["notes"]),
            postal_addresses=tuple(found["postal_addresses"]),
            websites=tuple(found["websites"]),
            im_handles=tuple(found["im_handles"]),
            sip_addresses=tuple(found["sip_addresses"]),
        )

    def _account(
        self, row: sqlite3.Row, at: RowContext[Lookups]
    ) -> tuple[str | None, str | None, str | None]:
        """Account name, type and data set: from ``accounts`` (Android 4.1+), else the old columns."""
        if at.has("account_id") and row["account_id"] is not None:
            account = at.lookups.accounts.get(row["account_id"])
            if account is None:
                at.warn(f"account id {row['account_id']!r} not in accounts")
            else:
                return (
                    _text(account["account_name"]),
                    _text(account["account_type"]),
                    _text(account["data_set"]),
                )
        return _text(row["account_name"]), _text(row["account_type"]), _text(row["data_set"])


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
