"""iOS Contacts: the address book ``AddressBook.sqlitedb``.

**Where.** ``/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb``
(``/HomeDomain/Library/AddressBook/AddressBook.sqlitedb`` in an iTunes/Finder backup). The same
layout has been used from iPhone OS 1 to current iOS; newer versions add columns, read when
present.

**What is read.** One record per ``ABPerson`` row (a person or, ``kind`` 1, an organisation):
the name parts as stored (``first``, ``middle``, ``last``, ``prefix``, ``suffix``, ``nickname``,
``organization``, ``department``, ``job_title``), the note, and ``name``: the name parts joined
with spaces, or else the organisation, ``DisplayName``, ``CompositeNameFallback`` or nickname.
Each ``ABMultiValue`` row of the person (``record_id``) gives a value with its label
(``ABMultiValueLabel``, referred to by row id): property 3 is a phone number (``phones``),
4 an e-mail address (``emails``), 22 a URL (``urls``); any other property with a value is kept in
``other_values`` as ``(property, label, value)``. Labels stay as stored: Apple's built-in labels
are written ``_$!<Mobile>!$_`` (labelled "mobile" at render time), a user's own label is plain
text; ``phone_labels``/``email_labels`` run parallel to ``phones``/``emails``.

**Times.** ``CreationDate``/``ModificationDate`` are seconds since 2001-01-01 UTC (Cocoa).
``Birthday`` is stored as text holding Cocoa seconds and is converted the same way; it stands for
a calendar day, so its time of day carries no meaning.

**Not read.** Postal addresses, instant-messaging and social-profile accounts (their parts are
in ``ABMultiValueEntry``), groups, photos (``AddressBookImages.sqlitedb``). Deleted ``ABPerson``
rows still in the files are recovered by the table base and flagged (docs/plugins.md, "Deleted
records").

There is no AddressBook in the public corpus: the tests build one from the published schema
(iLEAPP's ``addressBook.py`` query and the table definitions of iPhone OS address books).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    ContactFields,
    Join,
    ParseContext,
    Record,
    RowContext,
    RowGroups,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    from_cocoa_seconds,
    sqlite_signature,
)

PHONE = 3
EMAIL = 4
URL = 22

#: Apple's built-in labels (``_$!<Name>!$_``), as the Contacts app names them.
BUILTIN_LABELS: Mapping[object, str] = {
    "_$!<Mobile>!$_": "mobile",
    "_$!<Home>!$_": "home",
    "_$!<Work>!$_": "work",
    "_$!<Main>!$_": "main",
    "_$!<Other>!$_": "other",
    "_$!<HomeFAX>!$_": "home fax",
    "_$!<WorkFAX>!$_": "work fax",
    "_$!<OtherFAX>!$_": "other fax",
    "_$!<Pager>!$_": "pager",
    "_$!<HomePage>!$_": "home page",
    "_$!<School>!$_": "school",
}


@dataclass(frozen=True, kw_only=True)
class IosContact(ContactFields, Record):
    """One ``ABPerson`` row with its phone numbers, e-mail addresses, URLs and other values.

    ``created``, ``modified`` and ``birthday`` are Cocoa-seconds times, raw kept. ``phone_labels``
    and ``email_labels`` hold each value's label as stored (``None`` for none), in the order of
    ``phones`` and ``emails``.
    """

    record_type: ClassVar[str] = "chat/ios/addressbook/contact"
    app: ClassVar[str] = "addressbook"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "kind": {0: "person", 1: "organization"},
        "phone_labels": BUILTIN_LABELS,
        "email_labels": BUILTIN_LABELS,
    }

    rowid: int | None  # None: a recovered deleted row whose rowid was overwritten
    first: str | None = None
    middle: str | None = None
    last: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    nickname: str | None = None
    organization: str | None = None
    department: str | None = None
    job_title: str | None = None
    display_name: str | None = None
    note: str | None = None
    kind: int | None = None
    birthday: TimeValue | None = None
    created: TimeValue | None = None
    modified: TimeValue | None = None
    phone_labels: tuple[str | None, ...] = ()
    email_labels: tuple[str | None, ...] = ()
    urls: tuple[str, ...] = ()
    other_values: tuple[tuple[int | None, str | None, str], ...] = ()
    store_id: int | None = None


PEOPLE = Table(
    "ABPerson",
    key="ROWID",
    required=("First", "Last"),
    optional=(
        "Middle",
        "Prefix",
        "Suffix",
        "Nickname",
        "Organization",
        "Department",
        "JobTitle",
        "DisplayName",
        "CompositeNameFallback",
        "Note",
        "Kind",
        "Birthday",
        "CreationDate",
        "ModificationDate",
        "StoreID",
    ),
    label="address book",
)
VALUES = Table(
    "ABMultiValue",
    required=("record_id", "property", "value"),
    joins=(Join("ABMultiValueLabel", on="label", key="rowid", optional=("value",)),),
    order_by="ABMultiValue.record_id, ABMultiValue.rowid",
)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _name(row: sqlite3.Row) -> str | None:
    parts = [_str(row[c]) for c in ("Prefix", "First", "Middle", "Last", "Suffix")]
    joined = " ".join(p.strip() for p in parts if p and p.strip())
    if joined:
        return joined
    for column in ("Organization", "DisplayName", "CompositeNameFallback", "Nickname"):
        value = _str(row[column])
        if value and value.strip():
            return value.strip()
    return None


class AddressBookIosPlugin(SqliteTablePlugin[RowGroups]):
    """Reads iOS contacts (``AddressBook.sqlitedb``): names, phone numbers, e-mail addresses, URLs."""

    name = "addressbook_ios"
    version = "1.1.0"
    description = "iOS Contacts (AddressBook.sqlitedb: ABPerson with ABMultiValue phones, e-mails, URLs)"
    tables = (PEOPLE,)
    targets = Targets(
        globs=("**/Library/AddressBook/AddressBook.sqlitedb", "**/AddressBook.sqlitedb"),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables, VALUES),
    )
    emits = (IosContact,)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> RowGroups:
        """Each person's multi-values, read in step with the people (one person's in memory)."""
        return RowGroups(con, ctx, VALUES, by="record_id")

    def record(self, row: sqlite3.Row, at: RowContext[RowGroups]) -> IosContact:
        """One person with the values that name them by ``record_id``."""
        phones: list[str] = []
        phone_labels: list[str | None] = []
        emails: list[str] = []
        email_labels: list[str | None] = []
        urls: list[str] = []
        others: list[tuple[int | None, str | None, str]] = []
        for value_row in at.lookups.take(row["ROWID"]):
            value = value_row["value"]
            if value is None:
                continue  # addresses and accounts keep their parts in ABMultiValueEntry
            text = value if isinstance(value, str) else str(value)
            label = _str(value_row["ABMultiValueLabel.value"])
            prop = value_row["property"]
            if prop == PHONE:
                phones.append(text)
                phone_labels.append(label)
            elif prop == EMAIL:
                emails.append(text)
                email_labels.append(label)
            elif prop == URL:
                urls.append(text)
            else:
                others.append((prop if isinstance(prop, int) else None, label, text))
        return IosContact(
            source=at.source,
            locator=at.locator,
            rowid=row["ROWID"],
            name=_name(row),
            phones=tuple(phones),
            phone_labels=tuple(phone_labels),
            emails=tuple(emails),
            email_labels=tuple(email_labels),
            urls=tuple(urls),
            other_values=tuple(others),
            first=_str(row["First"]),
            middle=_str(row["Middle"]),
            last=_str(row["Last"]),
            prefix=_str(row["Prefix"]),
            suffix=_str(row["Suffix"]),
            nickname=_str(row["Nickname"]),
            organization=_str(row["Organization"]),
            department=_str(row["Department"]),
            job_title=_str(row["JobTitle"]),
            display_name=_str(row["DisplayName"]),
            note=_str(row["Note"]),
            kind=row["Kind"] if isinstance(row["Kind"], int) else None,
            birthday=from_cocoa_seconds(row["Birthday"]) if row["Birthday"] is not None else None,
            created=from_cocoa_seconds(row["CreationDate"]) if row["CreationDate"] is not None else None,
            modified=from_cocoa_seconds(row["ModificationDate"])
            if row["ModificationDate"] is not None
            else None,
            store_id=row["StoreID"] if isinstance(row["StoreID"], int) else None,
        )
