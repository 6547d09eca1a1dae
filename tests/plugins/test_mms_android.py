"""Android MMS (``pdu``, ``part``, ``addr`` of ``mmssms.db``).

The corpus ``chats/mmssms.db`` has the MMS tables but no MMS in them (checked: 0 records, no
warning). Everything else runs on fixtures built from the AOSP TelephonyProvider schema
(``MmsSmsDatabaseHelper``, versions 69 and 57; see tests/plugins/android_fixtures.py) in a folder
laid out as a phone extraction, with part files in ``app_parts`` so attachments are resolved in
the same evidence as on a real device.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from plugins.chat.mms_android import AndroidMms, AndroidMmsPlugin
from plugins.chat.sms_android import AndroidSms, AndroidSmsPlugin
from tests.conftest import need
from tests.plugins.android_fixtures import (
    MMS_V57,
    MMS_V69,
    SMS_V69,
    TELEPHONY,
    check_bad_copies,
    fingerprint,
    insert,
    make_db,
    ro,
    run,
)
from triage.plugin import FileItem, ParseContext
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

FS_DB = f"/{TELEPHONY}/databases/mmssms.db"
PARTS = f"/{TELEPHONY}/app_parts"
OLD_PARTS = "/data/data/com.android.providers.telephony/app_parts"

# One instant in both units of the same file: SMS date (ms) and MMS date (s).
INSTANT_UTC = "2023-11-14T22:13:20.000000Z"
INSTANT_S = 1_700_000_000
INSTANT_MS = 1_700_000_000_000

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
SUBJECT = "Café ☕ 22:00"
STORED_SUBJECT = SUBJECT.encode("utf-8").decode("latin-1")  # how PduPersister stores it (sub_cs 106)
FILE_TEXT = "Tot straks – 22:00"


def _phone(tmp_path: Path, schema: str = SMS_V69 + MMS_V69, *, v57: bool = False) -> tuple[Path, Path]:
    """An extraction root holding mmssms.db and app_parts; returns (root, database)."""
    root = tmp_path / "phone"
    db = make_db(
        root / FS_DB.lstrip("/"),
        schema,
        {
            "canonical_addresses": [(1, "+15551230001"), (2, "+15551230002"), (3, "+15551230003")]
            if v57
            else [(1, "+15551230001", -1), (2, "+15551230002", -1), (3, "+15551230003", -1)],
        },
    )
    insert(db, "threads", _id=1, recipient_ids="1")
    insert(db, "threads", _id=2, recipient_ids="2 3")
    insert(
        db, "sms", _id=1, thread_id=1, address="+15551230001", date=INSTANT_MS, type=1, body="see the photo"
    )
    extra = {} if v57 else {"sub_id": 1}
    # 1: received with a photo and text
    insert(db, "pdu", _id=1, thread_id=1, date=INSTANT_S, date_sent=INSTANT_S - 10, msg_box=1, read=1,
           m_id="mid-1", m_type=132, m_size=24000, pri=129, tr_id="T1", seen=1,
           ct_t="application/vnd.wap.multipart.related", **extra)  # fmt: skip
    insert(db, "addr", _id=1, msg_id=1, address="+15551230001", type=137, charset=106)
    insert(db, "addr", _id=2, msg_id=1, address="+15559990000", type=151, charset=106)
    insert(db, "part", _id=1, mid=1, seq=-1, ct="application/smil", text="<smil><body/></smil>")
    insert(db, "part", _id=2, mid=1, seq=0, ct="text/plain", chset=106, text="Photo from the pier")
    insert(db, "part", _id=3, mid=1, seq=1, ct="image/jpeg", name="IMG_0001.jpg", cl="IMG_0001.jpg",
           _data=f"{PARTS}/PART_1700000000123_IMG_0001.jpg")  # fmt: skip
    # 2: sent to a group, with an encoded subject
    insert(db, "pdu", _id=2, thread_id=2, date=INSTANT_S + 600, msg_box=2, m_type=128, sub=STORED_SUBJECT,
           sub_cs=106, **({} if v57 else {"creator": "com.google.android.apps.messaging"}))  # fmt: skip
    insert(db, "addr", _id=3, msg_id=2, address="insert-address-token", type=137, charset=106)
    insert(db, "addr", _id=4, msg_id=2, address="+15551230002", type=151, charset=106)
    insert(db, "addr", _id=5, msg_id=2, address="+15551230003", type=151, charset=106)
    insert(db, "addr", _id=6, msg_id=2, address="+15551230004", type=130, charset=106)
    insert(db, "part", _id=4, mid=2, seq=0, ct="text/plain", chset=106, text="Pier 7 at 22:00")
    # 3: a download notification (not fetched: no parts)
    insert(db, "pdu", _id=3, thread_id=1, date=INSTANT_S + 1200, msg_box=1, m_type=130, m_size=51200,
           ct_l="http://mmsc.example.net/AbC123", exp=604800)  # fmt: skip
    insert(db, "addr", _id=7, msg_id=3, address="+15551230001", type=137, charset=106)
    # 4: text kept in a part file under the pre-Android-7 path; a video whose file is gone
    insert(db, "pdu", _id=4, thread_id=1, date=INSTANT_S + 1800, msg_box=1, m_type=132)
    insert(db, "addr", _id=8, msg_id=4, address="+15551230001", type=137, charset=106)
    insert(db, "addr", _id=9, msg_id=4, address="+15559990000", type=151, charset=106)
    insert(
        db, "part", _id=5, mid=4, seq=0, ct="text/plain", chset=106, _data=f"{OLD_PARTS}/PART_1700001800000"
    )
    insert(db, "part", _id=6, mid=4, seq=1, ct="video/mp4", cl="clip.mp4",
           _data=f"{PARTS}/PART_1700001800001_clip.mp4")  # fmt: skip
    # 5: sent, with the owner's own number recorded as From (some vendors' apps do)
    insert(db, "pdu", _id=5, thread_id=1, date=INSTANT_S + 2400, msg_box=2, m_type=128)
    insert(db, "addr", _id=10, msg_id=5, address="+15559990000", type=137, charset=106)
    insert(db, "addr", _id=11, msg_id=5, address="+15551230001", type=151, charset=106)
    # a part whose message is gone
    insert(db, "part", _id=7, mid=99, seq=0, ct="text/plain", text="orphan")
    parts = root / PARTS.lstrip("/")
    parts.mkdir(parents=True)
    (parts / "PART_1700000000123_IMG_0001.jpg").write_bytes(JPEG)
    (parts / "PART_1700001800000").write_bytes(FILE_TEXT.encode("utf-8"))
    return root, db


def _mms(records: list[object]) -> list[AndroidMms]:
    return [r for r in records if isinstance(r, AndroidMms)]


def _read(
    tmp_path: Path, *, v57: bool = False
) -> tuple[list[AndroidMms], list[tuple[str, str | None, str]], Path, Path]:
    root, db = _phone(tmp_path, MMS_V57 if v57 else SMS_V69 + MMS_V69, v57=v57)
    item = FileItem.from_path(db, fs_path=FS_DB, root=root)
    records, warnings = run([AndroidMmsPlugin()], item, tmp_path)
    return _mms(records), warnings, root, db


def test_messages_addresses_text_and_attachments(tmp_path: Path) -> None:
    mms, warnings, _, _ = _read(tmp_path)
    assert warnings == []
    assert [m.rowid for m in mms] == [1, 2, 3, 4, 5]
    received, group, notice, from_file, own = mms

    # 1: received one-to-one; the date is Unix seconds
    assert received.timestamp is not None and received.timestamp.utc == INSTANT_UTC
    assert received.timestamp.raw == INSTANT_S and received.timestamp.encoding == "unix_s"
    assert received.sent_time is not None and received.sent_time.utc == "2023-11-14T22:13:10.000000Z"
    assert received.from_me is False and received.sender == "+15551230001"
    assert received.party == "+15551230001" and received.recipients == ("+15559990000",)
    assert received.account is None
    assert received.body == "Photo from the pier"  # the SMIL part is layout, not text
    assert received.conversation == "1" and received.conversation_title == "+15551230001"
    [photo] = received.attachments
    assert photo.name == "IMG_0001.jpg" and photo.mime == "image/jpeg"
    assert photo.recorded_path == f"{PARTS}/PART_1700000000123_IMG_0001.jpg"
    assert photo.path == photo.recorded_path  # found where the provider recorded it
    assert photo.size == len(JPEG) and photo.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert received.part_count == 3 and received.sub_id == 1
    assert received.message_size == 24000 and received.message_id == "mid-1" and received.status is None
    assert label_for(AndroidMms, "message_type", received.message_type) == "retrieve-conf (received)"
    assert label_for(AndroidMms, "msg_box", received.msg_box) == "inbox"

    # 2: sent to a group: no party, every recipient, the owner's From is a placeholder
    assert group.from_me is True and group.sender is None and group.account is None
    assert group.from_address == "insert-address-token"
    assert group.to == ("+15551230002", "+15551230003") and group.cc == ("+15551230004",)
    assert group.recipients == ("+15551230002", "+15551230003", "+15551230004") and group.party is None
    assert group.conversation_title == "+15551230002, +15551230003"
    assert (
        group.subject == STORED_SUBJECT and group.subject_decoded == SUBJECT and group.subject_charset == 106
    )
    assert group.body == "Pier 7 at 22:00" and group.creator == "com.google.android.apps.messaging"

    # 3: a notification of an MMS never downloaded
    assert notice.body is None and notice.attachments == () and notice.part_count == 0
    assert notice.content_location == "http://mmsc.example.net/AbC123" and notice.message_size == 51200
    assert label_for(AndroidMms, "message_type", notice.message_type) == "notification-ind (not downloaded)"

    # 4: text read from its part file, found beside the database though recorded under /data/data
    assert from_file.body == FILE_TEXT
    text_file, video = from_file.attachments
    assert text_file.recorded_path == f"{OLD_PARTS}/PART_1700001800000"
    assert text_file.path == f"{PARTS}/PART_1700001800000" and text_file.mime == "text/plain"
    assert video.name == "clip.mp4" and video.mime == "video/mp4" and video.recorded_path is not None
    assert video.path is None and video.size is None and video.sha256 is None  # not in the evidence

    # 5: sent, with the owner's number recorded as From
    assert own.from_me is True and own.sender == "+15559990000" and own.account == "+15559990000"
    assert own.party == "+15551230001"

    # the orphan part (mid 99) went to no message
    assert all("orphan" not in (m.body or "") for m in mms)
    d = record_to_dict(received)
    assert d["record_type"] == "chat/android/mms" and d["attachments"][0]["sha256"] == photo.sha256
    assert AndroidMms.app == AndroidSms.app == "sms"


def test_same_instant_in_seconds_and_milliseconds(tmp_path: Path) -> None:
    """The SMS and the first MMS were stored at the same instant: sms.date in ms, pdu.date in s."""
    root, db = _phone(tmp_path)
    item = FileItem.from_path(db, fs_path=FS_DB, root=root)
    records, warnings = run([AndroidSmsPlugin(), AndroidMmsPlugin()], item, tmp_path)
    assert warnings == []
    [sms] = [r for r in records if isinstance(r, AndroidSms)]
    first = _mms(records)[0]
    assert sms.timestamp is not None and first.timestamp is not None
    assert sms.timestamp.utc == first.timestamp.utc == INSTANT_UTC
    assert (sms.timestamp.raw, sms.timestamp.encoding) == (INSTANT_MS, "unix_ms")
    assert (first.timestamp.raw, first.timestamp.encoding) == (INSTANT_S, "unix_s")
    assert sms.conversation == first.conversation == "1"  # one conversation, SMS and MMS together


def test_android_4_schema(tmp_path: Path) -> None:
    """Database version 57 (no sub_id, no creator) reads the same, those fields None."""
    mms, warnings, _, _ = _read(tmp_path, v57=True)
    assert warnings == []
    assert [m.rowid for m in mms] == [1, 2, 3, 4, 5]
    assert all(m.sub_id is None and m.creator is None for m in mms)
    assert mms[0].body == "Photo from the pier" and mms[1].subject_decoded == SUBJECT


def test_compared_with_the_database(tmp_path: Path) -> None:
    """Every pdu row is a record; its addresses and text parts are the rows a query gives."""
    mms, _, _, db = _read(tmp_path)
    con = ro(db)
    pdus = con.execute("SELECT _id, date FROM pdu ORDER BY _id").fetchall()
    assert [(m.rowid, m.timestamp.raw if m.timestamp else None) for m in mms] == [(r[0], r[1]) for r in pdus]
    for m in mms:
        to = [
            r[0]
            for r in con.execute(
                "SELECT address FROM addr WHERE msg_id=? AND type=151 ORDER BY _id", (m.rowid,)
            )
        ]
        assert list(m.to) == to
        texts = [r[0] for r in con.execute(
            "SELECT text FROM part WHERE mid=? AND ct='text/plain' AND text IS NOT NULL ORDER BY seq, _id", (m.rowid,))]  # fmt: skip
        assert (m.body or "").startswith("\n".join(texts))
    con.close()


def test_missing_part_and_addr_tables_are_warnings(tmp_path: Path) -> None:
    db = make_db(tmp_path / "mmssms.db", SMS_V69 + MMS_V69 + "DROP TABLE part; DROP TABLE addr;")
    insert(db, "pdu", _id=1, thread_id=1, date=INSTANT_S, msg_box=1, m_type=132)
    records, warnings = run([AndroidMmsPlugin()], FileItem.from_path(db, fs_path=FS_DB), tmp_path)
    [m] = _mms(records)
    assert m.body is None and m.recipients == () and m.sender is None
    assert [w[2] for w in warnings] == [
        "no table part: MMS are read without their parts",
        "no table addr: MMS are read without their addresses",
    ]


def test_a_corrupt_row_among_good_ones(tmp_path: Path) -> None:
    """A subject that is not UTF-8 skips its message with a warning; its parts go to no other."""
    root, db = _phone(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE pdu SET sub = CAST(X'c328' AS TEXT) WHERE _id = 2")
    con.execute("INSERT INTO addr (_id, msg_id, address, type) VALUES (50, 4, '+1555', 999)")
    con.commit()
    con.close()
    records, warnings = run([AndroidMmsPlugin()], FileItem.from_path(db, fs_path=FS_DB, root=root), tmp_path)
    mms = _mms(records)
    assert [m.rowid for m in mms] == [1, 3, 4, 5]
    assert mms[1].body is None and mms[2].body == FILE_TEXT  # message 2's text went nowhere
    assert warnings == [
        ("mms_android", "pdu._id=2", "row skipped: text that is not UTF-8 in sub (c328)"),
        ("mms_android", "pdu._id=4", "addr._id=50: address type 999 is not from, to, cc or bcc"),
    ]


def test_bad_databases_are_warnings(tmp_path: Path) -> None:
    _, db = _phone(tmp_path)
    con = sqlite3.connect(db)  # enough pages that half the file loses some
    con.executemany(
        "INSERT INTO part (mid, seq, ct, text) VALUES (?, 0, 'text/plain', ?)",
        ((5, "x" * 200) for _ in range(200)),
    )
    con.commit()
    con.close()
    found = check_bad_copies(AndroidMmsPlugin(), db, FS_DB.rsplit("/", 1)[0], tmp_path)
    assert any("damaged" in m or "malformed" in m for m in found["truncated"])


def test_corpus_has_no_mms(corpus: Path, tmp_path: Path) -> None:
    """plaso's mmssms.db: the MMS tables exist and are empty (INVENTORY: pdu, part, addr 0 rows)."""
    path = need(corpus / "chats" / "mmssms.db")
    before = fingerprint(path)
    con = ro(path)
    assert [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pdu", "part", "addr")] == [
        0,
        0,
        0,
    ]
    con.close()
    item = FileItem.from_path(path, fs_path="/data/data/com.android.providers.telephony/databases/mmssms.db")
    records, warnings = run([AndroidMmsPlugin()], item, tmp_path)
    assert records == [] and warnings == []
    assert fingerprint(path) == before


@pytest.mark.slow
def test_many_messages_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """50,000 MMS with 100,000 parts and 100,000 addresses: parts and addresses are streamed
    beside the messages, never held (a tenth of the part rows, held, exceeds the bound)."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    n = 50_000
    db = make_db(tmp_path / "big" / "mmssms.db", SMS_V69 + MMS_V69)
    con = sqlite3.connect(db)
    con.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n}) "
        "INSERT INTO pdu (_id, thread_id, date, msg_box, m_type) SELECT i, 1, 1700000000 + i, 1, 132 FROM k"
    )
    con.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {2 * n}) "
        "INSERT INTO part (mid, seq, ct, text) SELECT (i + 1) / 2, i % 2, 'text/plain', "
        "printf('%08d', i) || substr(hex(zeroblob(40)), 1, 72) FROM k"
    )
    con.execute(
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {2 * n}) "
        "INSERT INTO addr (msg_id, address, type, charset) SELECT (i + 1) / 2, printf('+1555%07d', i), "
        "CASE i % 2 WHEN 1 THEN 137 ELSE 151 END, 106 FROM k"
    )
    con.commit()
    con.close()
    plugin = AndroidMmsPlugin()
    item = FileItem.from_path(db)
    bound = 2 * n * 80 // 10  # a tenth of the parts' text alone
    (tmp_path / "scratch").mkdir()
    with Scratch(tmp_path / "scratch") as scratch:
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
            held = ctx.open_sqlite(item).execute("SELECT * FROM part").fetchmany(n // 5)
            _, held_peak = tracemalloc.get_traced_memory()
            del held
        finally:
            tracemalloc.stop()
    assert count == n and ctx.warnings == []
    assert held_peak > bound  # the measure sees rows held in memory
    assert isinstance(last, AndroidMms) and last.sender == f"+1555{2 * n - 1:07d}" and last.body is not None
    assert peak < bound, f"peak {peak} bytes for {n} messages (holding a tenth of the parts: {held_peak})"
