"""iOS call history (CallHistory.storedata) on fixtures built from the published schema.

No CallHistory is in the public corpus. ZCALLRECORD below is the Core Data table as iOS 8 and
later create it (Z_PK, Z_ENT, Z_OPT and Z-prefixed attributes, ZDATE a TIMESTAMP of seconds since
2001, ZADDRESS stored as text or as a BLOB of UTF-8 bytes), with the columns and value meanings
iLEAPP's ``scripts/artifacts/callHistory.py`` query reads (ZANSWERED 0/1, ZCALLTYPE 0 third-party
app, 1 phone, 8 FaceTime video, 16 FaceTime audio, ZORIGINATED 0 incoming, 1 outgoing,
ZSERVICE_PROVIDER, ZISO_COUNTRY_CODE, ZLOCATION, ZNAME). Only those facts come from there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from plugins.chat.callhistory_ios import CallHistoryIosPlugin, IosCall
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, ParseWarning
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch

FS_PATH = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"

SCHEMA = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER,
  ZCALL_CATEGORY INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA BLOB,
  ZFILTERED_OUT_REASON INTEGER, ZHANDLE_TYPE INTEGER, ZJUNKCONFIDENCE INTEGER,
  ZJUNKIDENTIFICATIONCATEGORY VARCHAR, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER,
  ZWASEMERGENCYCALL INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS BLOB, ZDEVICE_ID VARCHAR,
  ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR,
  ZUNIQUE_ID VARCHAR, ZLOCALPARTICIPANTUUID BLOB, ZOUTGOINGLOCALPARTICIPANTUUID BLOB,
  ZPARTICIPANTGROUPUUID BLOB);
INSERT INTO Z_PRIMARYKEY VALUES (2, 'CallRecord', 0, 5);
"""

CALLS = [
    # Z_PK, answered, calltype, originated, date, duration, address, country, location, name, provider
    (
        1,
        1,
        1,
        1,
        704735807.221498,
        312.5,
        b"+447700900001",
        "gb",
        "United Kingdom",
        None,
        "com.apple.Telephony",
    ),
    (2, 0, 1, 0, 704735867.5, 0.0, "+447700900002", "gb", None, None, "com.apple.Telephony"),
    (3, 1, 8, 0, 704736000, 65.0, b"ana@example.org", None, None, None, "com.apple.FaceTime"),
    (4, 1, 16, 1, 704736100, 30.0, "+447700900003", None, None, None, "com.apple.FaceTime"),
    (5, 1, 0, 1, 704736200, 120.0, None, None, None, "Ana", "net.whatsapp.WhatsApp"),
    (6, 1, 1, 1, 0, 0.0, b"\xff\xfe\x00", None, None, None, "com.apple.Telephony"),
]


def _db(tmp_path: Path, sql: str = SCHEMA, calls: list[tuple[object, ...]] = CALLS) -> Path:
    path = tmp_path / "evidence" / "CallHistory.storedata"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(sql)
    for pk, answered, ctype, orig, date, duration, address, country, location, name, provider in calls:
        con.execute(
            """INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION,
               ZADDRESS, ZISO_COUNTRY_CODE, ZLOCATION, ZNAME, ZSERVICE_PROVIDER, ZUNIQUE_ID, ZREAD)
               VALUES (?, 2, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
            (
                pk,
                answered,
                ctype,
                orig,
                date,
                duration,
                address,
                country,
                location,
                name,
                provider,
                f"U-{pk}",
            ),
        )
    con.commit()
    con.close()
    return path


def _run(item: FileItem, tmp_path: Path, *, offered: bool = True) -> tuple[list[IosCall], list[ParseWarning]]:
    plugin = CallHistoryIosPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, [plugin], ctx)
        assert chosen == ([plugin] if offered else [])
        result = run_plugins(item, chosen, ctx)
    assert result.failed == []
    return [r for r in result.records if isinstance(r, IosCall)], ctx.warnings + result.warnings


def test_calls_of_every_kind(tmp_path: Path) -> None:
    records, warnings = _run(FileItem.from_path(_db(tmp_path), fs_path=FS_PATH), tmp_path)
    assert [r.rowid for r in records] == [1, 2, 3, 4, 5, 6]
    phone, missed, facetime_video, facetime_audio, whatsapp, garbled = records

    assert phone.locator == "ZCALLRECORD.Z_PK=1"
    assert phone.timestamp is not None and phone.timestamp.utc == "2023-05-02T15:56:47.221498Z"
    assert phone.timestamp.encoding == "cocoa_s" and phone.timestamp.raw == 704735807.221498
    assert phone.duration == 312.5 and phone.from_me is True and phone.video is False
    assert phone.party == "+447700900001"  # a BLOB of UTF-8, read as text
    assert (phone.iso_country_code, phone.location, phone.service_provider) == (
        "gb",
        "United Kingdom",
        "com.apple.Telephony",
    )
    assert label_for(IosCall, "call_type", phone.call_type) == "phone"

    assert missed.from_me is False and missed.answered == 0 and missed.duration == 0.0
    assert missed.party == "+447700900002"  # stored as text
    assert label_for(IosCall, "answered", missed.answered) == "not answered"
    assert missed.timestamp is not None and missed.timestamp.utc == "2023-05-02T15:57:47.500000Z"

    assert facetime_video.video is True and facetime_video.party == "ana@example.org"
    assert label_for(IosCall, "call_type", facetime_video.call_type) == "FaceTime video"
    assert facetime_audio.video is False
    assert whatsapp.video is None and whatsapp.party is None and whatsapp.name == "Ana"
    assert whatsapp.service_provider == "net.whatsapp.WhatsApp"

    assert garbled.party is None and garbled.address_bytes == b"\xff\xfe\x00"
    assert garbled.timestamp is not None and garbled.timestamp.utc is None  # 0: no time stored
    [warning] = warnings
    assert warning.locator == "ZCALLRECORD.Z_PK=6" and "not UTF-8" in warning.message

    data = record_to_dict(garbled)
    assert data["record_type"] == "chat/ios/callhistory/call" and data["address_bytes"] == {"hex": "fffe00"}


def test_an_older_store_without_later_columns(tmp_path: Path) -> None:
    """An early iOS 8 store: no call type, service provider or junk columns; they read as None."""
    sql = """CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
      ZANSWERED INTEGER, ZORIGINATED INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS BLOB,
      ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR, ZUNIQUE_ID VARCHAR, ZREAD INTEGER,
      ZSERVICE_PROVIDER VARCHAR, ZCALLTYPE INTEGER);"""
    path = _db(tmp_path, sql, CALLS[:1])
    con = sqlite3.connect(path)
    con.executescript(
        "ALTER TABLE ZCALLRECORD DROP COLUMN ZCALLTYPE; ALTER TABLE ZCALLRECORD DROP COLUMN ZSERVICE_PROVIDER;"
    )
    con.close()
    records, warnings = _run(FileItem.from_path(path, fs_path=FS_PATH), tmp_path)
    assert warnings == []
    [call] = records
    assert call.call_type is None and call.service_provider is None and call.video is None
    assert call.party == "+447700900001" and call.from_me is True


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP);", "lacks the tables"),
        ("CREATE TABLE Z_METADATA (Z_VERSION INTEGER);", "lacks the tables"),
        (None, "not a SQLite 3 database"),
    ],
    ids=["other-layout", "dropped-table", "encrypted"],
)
def test_unusable_stores_are_a_warning(tmp_path: Path, sql: str | None, problem: str) -> None:
    path = tmp_path / "evidence" / "CallHistory.storedata"
    path.parent.mkdir(parents=True)
    if sql is None:
        path.write_bytes(bytes(range(256)) * 64)
    else:
        con = sqlite3.connect(path)
        con.executescript(sql)
        con.close()
    records, warnings = _run(FileItem.from_path(path, fs_path=FS_PATH), tmp_path, offered=False)
    assert records == []
    [warning] = warnings
    assert warning.plugin == "callhistory_ios" and warning.path == FS_PATH and problem in warning.message
