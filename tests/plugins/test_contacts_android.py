"""Android contacts (``raw_contacts`` + ``data`` + ``mimetypes`` + ``accounts`` of ``contacts2.db``).

The corpus ``chats/contacts2.db`` has no ``raw_contacts`` table and empty contact tables, so it is
not offered to this plugin (tests/plugins/test_calllog_android.py checks the warning). These tests
run on fixtures from the AOSP ContactsProvider schema (``ContactsDatabaseHelper``, version 1603 as
in the project's test asset ``tests/assets/phoneAccountHandleMigration/contacts2_oldversion.db``,
and version 625 of Android 4.0; see android_fixtures.py). The first fixture reproduces that
asset's two raw contacts and eleven data rows, then adds a deleted local contact, a WhatsApp raw
contact, and rows the plugin must warn about.
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from plugins.chat.contacts_android import PROFILE_MIN_ID, AndroidContact, AndroidContactsPlugin
from tests.plugins.android_fixtures import (
    CONTACTS,
    CONTACTS_V625,
    CONTACTS_V1603,
    MIMETYPES,
    check_bad_copies,
    insert,
    make_db,
    mimetype_id,
    ro,
    run,
)
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

FS_DB = f"/{CONTACTS}/databases/contacts2.db"
ITEM = "vnd.android.cursor.item/"
WHATSAPP = ITEM + "vnd.com.whatsapp.profile"


def _data(db: Path, rowid: int, raw: int, mimetype: str, *values: str | None) -> None:
    cols = {f"data{i}": v for i, v in enumerate(values, start=1)}
    insert(db, "data", _id=rowid, raw_contact_id=raw, mimetype_id=mimetype_id(mimetype), **cols)


def _contacts2(path: Path) -> Path:
    db = make_db(path, CONTACTS_V1603, {"mimetypes": [(i + 1, m) for i, m in enumerate(MIMETYPES)]})
    insert(db, "mimetypes", _id=17, mimetype=WHATSAPP)
    insert(db, "accounts", _id=1, account_name="shuoqtest@gmail.com", account_type="com.google")
    insert(db, "accounts", _id=2)  # the phone's local account (all NULL)
    insert(db, "accounts", _id=3, account_name="WhatsApp", account_type="com.whatsapp")
    for cid, updated in ((1, 1_700_000_000_000), (2, None), (3, None)):
        insert(db, "contacts", _id=cid, name_raw_contact_id=cid, contact_last_updated_timestamp=updated)
    # the AOSP asset's raw contacts and data rows
    insert(db, "raw_contacts", _id=1, account_id=1, sourceid="fde6d9688256e1b", contact_id=1,
           display_name="Test Test", display_name_alt="Test, Test")  # fmt: skip
    insert(db, "raw_contacts", _id=2, account_id=1, sourceid="39cda2fd8e012ed0", contact_id=2,
           display_name="Hhh Sss", display_name_alt="Sss, Hhh")  # fmt: skip
    _data(db, 1, 1, ITEM + "group_membership", "1")
    _data(db, 2, 1, ITEM + "name", "Test Test", "Test", "Test")
    _data(db, 3, 1, ITEM + "nickname", None, "1")
    _data(db, 4, 1, ITEM + "note")
    _data(db, 5, 1, ITEM + "organization", "G")
    _data(db, 6, 1, ITEM + "phone_v2", "(631) 605-6461", "2", None, "+16316056461")
    _data(db, 7, 2, ITEM + "group_membership", "1")
    _data(db, 9, 2, ITEM + "phone_v2", "(987) 654-3210", "2")
    _data(db, 10, 2, ITEM + "name", "Hhh Sss", "Hhh", "Sss")
    _data(db, 11, 2, ITEM + "nickname", None, "1")
    _data(db, 12, 2, ITEM + "note")
    # added: an e-mail and an address for 1, a website and a row of an unknown mimetype for 2
    _data(db, 13, 1, ITEM + "email_v2", "test@example.com", "1")
    _data(db, 14, 1, ITEM + "postal-address_v2", "Pier 7, Rotterdam")
    _data(db, 15, 2, ITEM + "website", "https://example.org")
    insert(db, "data", _id=16, raw_contact_id=2, mimetype_id=99, data1="?")
    # added: a local contact the user deleted (kept until sync), named only by its name row
    insert(db, "raw_contacts", _id=3, account_id=2, contact_id=3, deleted=1, x_times_contacted=4,
           x_last_time_contacted=1_700_000_000_000, times_contacted=0, last_time_contacted=1_699_900_000_000)  # fmt: skip
    _data(db, 17, 3, ITEM + "name", "Jan de Vries", "Jan", "de Vries")
    _data(db, 18, 3, ITEM + "phone_v2", "06 12345678", "2", None, "+31612345678")
    _data(db, 19, 3, ITEM + "im", "jan@jabber.example")
    # added: WhatsApp's raw contact for the same person as 1
    insert(db, "raw_contacts", _id=4, account_id=3, sourceid="16316056461@s.whatsapp.net", contact_id=1,
           display_name="Test Test")  # fmt: skip
    _data(db, 20, 4, ITEM + "phone_v2", "+16316056461", "2", None, "+16316056461")
    insert(db, "data", _id=21, raw_contact_id=4, mimetype_id=17, data1="16316056461@s.whatsapp.net",
           data3="Message +1 631-605-6461")  # fmt: skip
    return db


def _read(
    tmp_path: Path, db: Path, fs_path: str = FS_DB
) -> tuple[list[AndroidContact], list[tuple[str, str | None, str]]]:
    records, warnings = run([AndroidContactsPlugin()], FileItem.from_path(db, fs_path=fs_path), tmp_path)
    return [r for r in records if isinstance(r, AndroidContact)], warnings


def test_raw_contacts_with_their_data(tmp_path: Path) -> None:
    db = _contacts2(tmp_path / "phone" / FS_DB.lstrip("/"))
    contacts, warnings = _read(tmp_path, db)
    assert warnings == [
        ("contacts_android", "raw_contacts._id=2", "data._id=16: mimetype id 99 not in mimetypes")
    ]
    assert [c.rowid for c in contacts] == [1, 2, 3, 4]
    test, hhh, jan, whatsapp = contacts

    assert test.name == "Test Test" and (test.given_name, test.family_name) == ("Test", "Test")
    assert test.phones == ("(631) 605-6461",) and test.normalized_phones == ("+16316056461",)
    assert test.emails == ("test@example.com",) and test.organizations == ("G",)
    assert test.postal_addresses == ("Pier 7, Rotterdam",) and test.nicknames == () and test.notes == ()
    assert test.account == "shuoqtest@gmail.com" and test.account_type == "com.google"
    assert test.source_id == "fde6d9688256e1b" and test.contact_id == 1 and test.deleted is False
    assert (
        test.contact_last_updated is not None
        and test.contact_last_updated.utc == "2023-11-14T22:13:20.000000Z"
    )
    assert test.data_rows == 8 and test.account_ids == () and test.profile is False

    assert hhh.phones == ("(987) 654-3210",) and hhh.normalized_phones == (None,)  # no data4 in the asset
    assert hhh.websites == ("https://example.org",) and hhh.emails == ()

    # deleted, local (account with no name), named by its structured name only
    assert (
        jan.deleted is True and jan.marked_deleted == 1 and jan.account is None and jan.account_type is None
    )
    assert (
        jan.name == "Jan de Vries"
        and jan.phones == ("06 12345678",)
        and jan.im_handles == ("jan@jabber.example",)
    )
    # Android 10+: the real usage counters are the x_ columns (the public ones are coarsened)
    assert jan.times_contacted == 4
    assert (
        jan.last_time_contacted is not None and jan.last_time_contacted.utc == "2023-11-14T22:13:20.000000Z"
    )
    assert jan.last_time_contacted.raw == 1_700_000_000_000 and jan.last_time_contacted.encoding == "unix_ms"

    # the app's own raw contact: its identity in account_ids, the same merged contact as 1
    assert whatsapp.account == "WhatsApp" and whatsapp.account_type == "com.whatsapp"
    assert whatsapp.account_ids == ("16316056461@s.whatsapp.net",) and whatsapp.app_mimetypes == (WHATSAPP,)
    assert whatsapp.contact_id == test.contact_id
    d = record_to_dict(whatsapp)
    assert d["record_type"] == "chat/android/contacts/contact" and d["account_ids"] == [
        "16316056461@s.whatsapp.net"
    ]
    assert AndroidContact.app == "contacts"


def test_compared_with_the_database(tmp_path: Path) -> None:
    db = _contacts2(tmp_path / "contacts2.db")
    contacts, _ = _read(tmp_path, db)
    con = ro(db)
    query = (
        "SELECT data1 FROM data JOIN mimetypes ON mimetypes._id = data.mimetype_id "
        "WHERE raw_contact_id = ? AND mimetype = ? AND data1 IS NOT NULL ORDER BY data._id"
    )
    for c in contacts:
        assert list(c.phones) == [r[0] for r in con.execute(query, (c.rowid, ITEM + "phone_v2"))]
        assert list(c.emails) == [r[0] for r in con.execute(query, (c.rowid, ITEM + "email_v2"))]
        deleted = con.execute("SELECT deleted FROM raw_contacts WHERE _id = ?", (c.rowid,)).fetchone()[0]
        assert c.deleted is (deleted == 1)
    assert len(contacts) == con.execute("SELECT count(*) FROM raw_contacts").fetchone()[0]
    con.close()


def test_owner_profile(tmp_path: Path) -> None:
    fs = f"/{CONTACTS}/databases/profile.db"
    db = make_db(
        tmp_path / "profile.db", CONTACTS_V1603, {"mimetypes": [(i + 1, m) for i, m in enumerate(MIMETYPES)]}
    )
    insert(db, "raw_contacts", _id=PROFILE_MIN_ID + 1, contact_id=PROFILE_MIN_ID + 1, display_name="Owner")
    _data(
        db,
        PROFILE_MIN_ID + 1,
        PROFILE_MIN_ID + 1,
        ITEM + "phone_v2",
        "+1 555 999 0000",
        "2",
        None,
        "+15559990000",
    )
    [owner], warnings = _read(tmp_path, db, fs)
    assert warnings == []
    assert owner.profile is True and owner.name == "Owner" and owner.phones == ("+1 555 999 0000",)


def test_android_4_0_schema(tmp_path: Path) -> None:
    """Before the accounts table: account_name/account_type on raw_contacts; no x_ columns."""
    db = make_db(
        tmp_path / "contacts2.db", CONTACTS_V625, {"mimetypes": [(i + 1, m) for i, m in enumerate(MIMETYPES)]}
    )
    insert(db, "raw_contacts", _id=1, account_name="old@gmail.com", account_type="com.google", contact_id=1,
           display_name="Ann Old", times_contacted=3, last_time_contacted=1_300_000_000_000)  # fmt: skip
    _data(db, 1, 1, ITEM + "phone_v2", "555-0100", "1")
    _data(db, 2, 1, ITEM + "email_v2", "ann@example.com")
    [ann], warnings = _read(tmp_path, db)
    assert warnings == []
    assert ann.account == "old@gmail.com" and ann.account_type == "com.google"
    assert ann.phones == ("555-0100",) and ann.emails == ("ann@example.com",)
    assert ann.times_contacted == 3
    assert (
        ann.last_time_contacted is not None and ann.last_time_contacted.utc == "2011-03-13T07:06:40.000000Z"
    )
    assert ann.contact_last_updated is None  # no such column in Android 4.0


def test_bad_input(tmp_path: Path) -> None:
    db = _contacts2(tmp_path / "phone" / "contacts2.db")
    con = sqlite3.connect(db)
    con.execute("UPDATE raw_contacts SET display_name = CAST(X'c3' AS TEXT) WHERE _id = 2")  # one corrupt row
    con.executemany(  # enough pages that half the file loses some
        "INSERT INTO data (raw_contact_id, mimetype_id, data1) VALUES (4, 12, ?)",
        (("n" * 200,) for _ in range(200)),
    )
    con.commit()
    con.close()
    contacts, warnings = _read(tmp_path / "one", db)
    assert [c.rowid for c in contacts] == [1, 3, 4]
    assert contacts[1].phones == ("06 12345678",)  # 2's data rows went to no other contact
    assert warnings == [
        ("contacts_android", "raw_contacts._id=2", "row skipped: text that is not UTF-8 in display_name (c3)")
    ]
    found = check_bad_copies(AndroidContactsPlugin(), db, FS_DB.rsplit("/", 1)[0], tmp_path)
    assert any("damaged" in m or "malformed" in m for m in found["truncated"])

    no_data = make_db(tmp_path / "nodata" / "contacts2.db", CONTACTS_V1603 + "DROP TABLE data;")
    records, warnings = run(
        [AndroidContactsPlugin()],
        FileItem.from_path(no_data, fs_path=FS_DB),
        tmp_path / "two",
        expect_match=False,
    )
    assert records == [] and warnings[0][2].startswith("database skipped by contacts_android: it lacks")


@pytest.mark.slow
def test_many_contacts_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """50,000 raw contacts with 150,000 data rows, streamed (holding a tenth of the rows exceeds the bound).

    The live rows only: recovering deleted rows holds the live rows of the recovered tables to
    tell deleted rows from them, so its memory grows with the database and is bounded by the
    database size instead (``test_recovery_memory_is_bounded_by_the_database_size``).
    """
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    n = 50_000
    db = make_db(
        tmp_path / "big" / "contacts2.db",
        CONTACTS_V1603,
        {"mimetypes": [(i + 1, m) for i, m in enumerate(MIMETYPES)]},
    )
    con = sqlite3.connect(db)
    con.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n}) "
        "INSERT INTO raw_contacts (_id, contact_id, display_name) SELECT i, i, printf('Person %06d', i) FROM k"
    )
    con.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {3 * n}) "
        "INSERT INTO data (raw_contact_id, mimetype_id, data1, data4) SELECT (i + 2) / 3, "
        "CASE i % 3 WHEN 0 THEN 1 ELSE 5 END, printf('+1555%07d', i) || substr(hex(zeroblob(30)), 1, 50), NULL FROM k"
    )
    con.commit()
    con.close()
    plugin = AndroidContactsPlugin()
    item = FileItem.from_path(db)
    bound = 3 * n * 60 // 10
    (tmp_path / "s").mkdir()
    with Scratch(tmp_path / "s") as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)
        tracemalloc.start()
        try:
            count = 0
            last = None
            for record in plugin.parse(item, ctx):
                count += 1
                last = record
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            held = ctx.open_sqlite(item).execute("SELECT * FROM data").fetchmany(3 * n // 10)
            _, held_peak = tracemalloc.get_traced_memory()
            del held
        finally:
            tracemalloc.stop()
    assert count == n and ctx.warnings == []
    assert isinstance(last, AndroidContact) and len(last.phones) == 2 and len(last.emails) == 1
    assert held_peak > bound
    assert peak < bound, f"peak {peak} bytes (holding a tenth of the data rows: {held_peak})"
