"""iOS Contacts (AddressBook.sqlitedb) on fixtures built from the published schema.

No AddressBook is in the public corpus. The tables below follow the iPhone OS address book
definition (ABPerson, ABMultiValue, ABMultiValueLabel, ABMultiValueEntry, ABMultiValueEntryKey, as
created by iPhone OS 1 to current iOS) with the later ABPerson columns iLEAPP's
``scripts/artifacts/addressBook.py`` query reads (DisplayName, StoreID) and ABStore; property
numbers (3 phone, 4 e-mail, 5 address, 13 instant message, 22 URL) and the ``_$!<Label>!$_`` form
of built-in labels as that query uses them. Only those facts come from there.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from plugins.chat.addressbook_ios import AddressBookIosPlugin, IosContact
from tests.plugins.app_schemas import ADDRESSBOOK
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, ParseWarning
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch

FS_PATH = "/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"

SCHEMA = (
    ADDRESSBOOK
    + """
INSERT INTO ABStore VALUES (1, 'Local', 0, 1);
INSERT INTO ABMultiValueLabel (rowid, value) VALUES (1, '_$!<Mobile>!$_'), (2, '_$!<Home>!$_'), (3, 'burner'),
  (4, '_$!<Work>!$_');
INSERT INTO ABMultiValueEntryKey (rowid, value) VALUES (1, 'Street'), (2, 'City');
"""
)

PEOPLE = """
INSERT INTO ABPerson (ROWID, First, Last, Middle, Prefix, Note, Kind, Birthday, CreationDate, ModificationDate,
  StoreID) VALUES (1, 'Ana', 'Silva', 'M.', 'Dr', 'met at the port', 0, '-568036800', 676082810, 704735807, 1);
INSERT INTO ABPerson (ROWID, Organization, Kind, CreationDate) VALUES (2, 'Harbour Logistics Ltd', 1, 676082810);
INSERT INTO ABPerson (ROWID, Nickname) VALUES (3, 'Fox');
INSERT INTO ABPerson (ROWID, First) VALUES (4, NULL);
INSERT INTO ABMultiValue (UID, record_id, property, identifier, label, value) VALUES
  (10, 1, 3, 0, 1, '+44 7700 900001'),
  (11, 1, 4, 0, 2, 'ana@example.org'),
  (12, 2, 3, 0, 4, '+44 20 7946 0000'),
  (13, 1, 3, 1, 3, '07700 900002'),
  (14, 1, 5, 0, 2, NULL),
  (15, 1, 22, 0, NULL, 'https://example.org/ana'),
  (16, 1, 23, 0, NULL, 'Rui'),
  (17, 9, 3, 0, 1, '+44 7700 900999'),
  (18, 3, 4, 0, 77, 'fox@example.net');
INSERT INTO ABMultiValueEntry VALUES (14, 1, '1 Dock Road'), (14, 2, 'Dover');
"""


def _db(tmp_path: Path, sql: str, name: str = "AddressBook.sqlitedb") -> Path:
    path = tmp_path / "evidence" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()
    return path


def _run(
    item: FileItem, tmp_path: Path, *, offered: bool = True
) -> tuple[list[IosContact], list[ParseWarning]]:
    plugin = AddressBookIosPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, [plugin], ctx)
        assert chosen == ([plugin] if offered else [])
        result = run_plugins(item, chosen, ctx)
    assert result.failed == []
    return [r for r in result.records if isinstance(r, IosContact)], ctx.warnings + result.warnings


def test_people_with_their_phones_emails_and_labels(tmp_path: Path) -> None:
    db = _db(tmp_path, SCHEMA + PEOPLE)
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns)
    records, warnings = _run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert warnings == []
    assert [r.rowid for r in records] == [1, 2, 3, 4]
    ana, company, fox, empty = records

    assert ana.locator == "ABPerson.ROWID=1"
    assert ana.name == "Dr Ana M. Silva" and (ana.first, ana.middle, ana.last, ana.prefix) == (
        "Ana",
        "M.",
        "Silva",
        "Dr",
    )
    assert ana.phones == ("+44 7700 900001", "07700 900002")  # in the table's order
    assert ana.phone_labels == ("_$!<Mobile>!$_", "burner")
    assert label_for(IosContact, "phone_labels", ana.phone_labels[0]) == "mobile"
    assert label_for(IosContact, "phone_labels", "burner") is None  # a user's own label stays as typed
    assert ana.emails == ("ana@example.org",) and ana.email_labels == ("_$!<Home>!$_",)
    assert ana.urls == ("https://example.org/ana",)
    assert ana.other_values == ((23, None, "Rui"),)  # the address (property 5) has its parts elsewhere
    assert ana.note == "met at the port" and ana.store_id == 1
    assert ana.created is not None and ana.created.utc == "2022-06-05T00:46:50.000000Z"
    assert ana.created.encoding == "cocoa_s" and ana.created.raw == 676082810
    assert ana.modified is not None and ana.modified.utc == "2023-05-02T15:56:47.000000Z"
    assert ana.birthday is not None and ana.birthday.utc == "1983-01-01T12:00:00.000000Z"
    assert ana.birthday.raw == "-568036800"  # stored as text

    assert company.name == "Harbour Logistics Ltd" and company.phones == ("+44 20 7946 0000",)
    assert label_for(IosContact, "kind", company.kind) == "organization"
    assert fox.name == "Fox" and fox.emails == ("fox@example.net",)
    assert fox.email_labels == (None,)  # label 77 names no ABMultiValueLabel row
    assert empty.name is None and empty.phones == () and empty.created is None

    data = record_to_dict(ana)
    assert data["record_type"] == "chat/ios/addressbook/contact" and data["phones"] == list(ana.phones)
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns) == before


def test_an_old_address_book_without_later_columns(tmp_path: Path) -> None:
    """iPhone OS 1: no DisplayName, StoreID or guid; ABMultiValueLabel without the later tables."""
    sql = """
    CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT,
      FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT,
      Note TEXT, Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT,
      FirstSort TEXT, LastSort TEXT, CreationDate INTEGER, ModificationDate INTEGER,
      CompositeNameFallback TEXT);
    CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER,
      identifier INTEGER, label INTEGER, value TEXT);
    INSERT INTO ABPerson (ROWID, First, Last, CreationDate) VALUES (1, 'Old', 'Timer', 215000000);
    INSERT INTO ABMultiValue VALUES (1, 1, 3, 0, 1, '555-0100');
    """
    records, warnings = _run(FileItem.from_path(_db(tmp_path, sql), fs_path=FS_PATH), tmp_path)
    assert warnings == []  # no ABMultiValueLabel table: labels read as none
    [old] = records
    assert old.name == "Old Timer" and old.phones == ("555-0100",) and old.phone_labels == (None,)
    assert old.display_name is None and old.store_id is None
    assert old.created is not None and old.created.utc == "2007-10-25T10:13:20.000000Z"


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY, First TEXT, Last TEXT);", "lacks the tables"),
        (None, "not a SQLite 3 database"),
    ],
    ids=["dropped-multivalue-table", "zero-filled"],
)
def test_unusable_address_books_are_a_warning(tmp_path: Path, sql: str | None, problem: str) -> None:
    if sql is None:
        path = tmp_path / "evidence" / "AddressBook.sqlitedb"
        path.parent.mkdir(parents=True)
        path.write_bytes(bytes(32768))
    else:
        path = _db(tmp_path, sql)
    records, warnings = _run(FileItem.from_path(path, fs_path=FS_PATH), tmp_path, offered=False)
    assert records == []
    [warning] = warnings
    assert warning.plugin == "addressbook_ios" and warning.path == FS_PATH and problem in warning.message


def test_one_bad_value_among_good_ones(tmp_path: Path) -> None:
    """A phone number that is not UTF-8: that value is skipped with a warning, the person kept."""
    db = _db(
        tmp_path, SCHEMA + PEOPLE + "UPDATE ABMultiValue SET value = CAST(X'FF30' AS TEXT) WHERE UID = 13;"
    )
    records, warnings = _run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert records[0].phones == ("+44 7700 900001",)
    [warning] = warnings
    assert warning.locator == "ABMultiValue.rowid=13" and "not UTF-8" in warning.message
