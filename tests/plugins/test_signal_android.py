"""Signal for Android: the SQLCipher-encrypted ``signal.db``, opened with the examiner's key.

No public ``signal.db`` exists (every one is encrypted with its phone's keystore-held secret), so
the fixtures are **built from Signal's published schema** and encrypted here as Signal encrypts
them. Facts taken from the Signal-Android source (github.com/signalapp/Signal-Android), no code:

- cipher settings: ``database/SqlCipherDatabaseHook.java`` (``cipher_compatibility = 3``,
  ``kdf_iter = 1``, ``cipher_page_size = 4096`` after keying) and ``database/SignalDatabase.kt``
  (the passphrase is ``DatabaseSecret.asString()``, the secret's lower-case hex text:
  ``crypto/DatabaseSecret.java``, ``Hex.toStringCondensed``);
- tables: ``MessageTable.kt`` (``message``: ``date_sent``, ``date_received``, ``date_server``,
  ``thread_id``, ``from_recipient_id``, ``to_recipient_id``, ``type``, ``body``, ``read``,
  ``remote_deleted``, ...), ``ThreadTable.kt`` (``thread``: ``recipient_id``),
  ``RecipientTable.kt`` (``recipient``: ``e164``, ``aci``, ``pni``, ``username``, ``group_id``,
  ``distribution_list_id``, ``system_joined_name``, ``profile_joined_name``,
  ``nickname_joined_name``, ...), ``GroupTable.kt`` (``groups.title``); the pre-2023 layout from
  ``SmsDatabase.java`` (``sms``: ``address``, ``date`` received, ``date_sent``, ``type``),
  ``MmsDatabase.java`` (``mms``: ``date`` sent, ``date_received``, ``msg_box``) and
  ``ThreadDatabase.java`` (``thread_recipient_id``);
- ``type`` values: ``MessageTypes.java`` (base type ``type & 0x1F``: 20 inbox, 23 sent, 1
  incoming audio call, 8 missed video call, 7 profile change; 0x800000 secure, 0x200000 push,
  0x10000 group update, 0x80000 group v2).

The legacy fixture is encrypted the other way the plugin accepts (the secret as a raw SQLCipher 4
key), and a third is plain SQLite (a copy the examiner decrypted already).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custody import cli
from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from plugins import BUILTIN_PLUGINS
from plugins.chat.signal_android import SignalAndroidPlugin, SignalMessage, SignalRecipient
from tests.plugins.android_fixtures import fingerprint
from triage.engine.dispatch import match_plugins, run_plugins
from triage.engine.run import TriageOptions, run_triage
from triage.plugin import FileItem, ParseContext, Record
from triage.plugin.options import SECRET_SHOWN, parse_options
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.views.findings import list_runs

sqlcipher3 = pytest.importorskip("sqlcipher3", reason="the sqlcipher3-binary wheel is not installed")

SIGNAL_DIR = "/data/data/org.thoughtcrime.securesms/databases"
SIGNAL_PATH = f"{SIGNAL_DIR}/signal.db"
SECRET = bytes.fromhex("3f1c0e9a7b5d42c8a1f06e2d9b4c7a3518e2f7d06c9b1a4e5d3c2b1a09f8e7d6")
WRONG = bytes(32)
HINT = "--option signal_android.key=HEX"

# MessageTypes.java
SECURE, PUSH, GROUP_UPDATE, GROUP_V2 = 0x800000, 0x200000, 0x10000, 0x80000
INBOX, SENT = 20, 23
IN_MSG = INBOX | SECURE | PUSH
OUT_MSG = SENT | SECURE | PUSH

OWNER, ANNA, BORIS = "+15550100001", "+15550100002", "+15550100003"
ANNA_ACI = "6a0ff3de-2b61-4d8b-bd7c-7a3f1d9b2c11"
GROUP_ID = "__signal_group__v2__!5c9e0a7d3b2f4e6a"

# A subset of the columns of Signal's CREATE TABLE statements (2024 layout), same names and types.
SCHEMA_2024 = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER DEFAULT 0, e164 TEXT UNIQUE DEFAULT NULL,
  aci TEXT UNIQUE DEFAULT NULL, pni TEXT UNIQUE DEFAULT NULL, username TEXT UNIQUE DEFAULT NULL,
  email TEXT UNIQUE DEFAULT NULL, group_id TEXT UNIQUE DEFAULT NULL, distribution_list_id INTEGER DEFAULT NULL,
  registered INTEGER DEFAULT 0, blocked INTEGER DEFAULT 0, profile_given_name TEXT DEFAULT NULL,
  profile_family_name TEXT DEFAULT NULL, profile_joined_name TEXT DEFAULT NULL, system_given_name TEXT DEFAULT NULL,
  system_family_name TEXT DEFAULT NULL, system_joined_name TEXT DEFAULT NULL, nickname_given_name TEXT DEFAULT NULL,
  nickname_family_name TEXT DEFAULT NULL, nickname_joined_name TEXT DEFAULT NULL);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, meaningful_messages INTEGER DEFAULT 0,
  recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, read INTEGER DEFAULT 1,
  snippet TEXT);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT NOT NULL UNIQUE,
  recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, title TEXT DEFAULT NULL);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL,
  date_received INTEGER NOT NULL, date_server INTEGER DEFAULT -1,
  thread_id INTEGER NOT NULL REFERENCES thread (_id) ON DELETE CASCADE,
  from_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, from_device_id INTEGER,
  to_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, type INTEGER NOT NULL, body TEXT,
  read INTEGER DEFAULT 0, expires_in INTEGER DEFAULT 0, view_once INTEGER DEFAULT 0,
  remote_deleted INTEGER DEFAULT 0);
CREATE TABLE attachment (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER REFERENCES message (_id) ON DELETE CASCADE, content_type TEXT, data_file TEXT,
  data_size INTEGER, file_name TEXT, transfer_state INTEGER);
"""
ROWS_2024 = """
INSERT INTO recipient (_id, type, e164, aci, registered, profile_joined_name) VALUES
  (1, 0, '+15550100001', 'b0b5e8a1-0c1d-4e2f-9a3b-4c5d6e7f8a9b', 1, 'Owner');
INSERT INTO recipient (_id, type, e164, aci, pni, registered, system_joined_name, profile_joined_name,
  nickname_joined_name) VALUES
  (2, 0, '+15550100002', '6a0ff3de-2b61-4d8b-bd7c-7a3f1d9b2c11', 'PNI:1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', 1,
   'Anna K.', 'Anna', NULL);
INSERT INTO recipient (_id, type, e164, username, blocked, profile_joined_name, nickname_joined_name) VALUES
  (3, 0, '+15550100003', 'boris.42', 1, 'Boris', 'Bor');
INSERT INTO recipient (_id, type, group_id) VALUES (4, 3, '__signal_group__v2__!5c9e0a7d3b2f4e6a');
INSERT INTO recipient (_id, type, distribution_list_id) VALUES (5, 4, 1);
INSERT INTO groups (_id, group_id, recipient_id, title) VALUES (1, '__signal_group__v2__!5c9e0a7d3b2f4e6a', 4, 'Pier 7');
INSERT INTO thread (_id, date, recipient_id) VALUES (1, 1700000120000, 2), (2, 1700000300000, 4);
INSERT INTO message (_id, date_sent, date_received, date_server, thread_id, from_recipient_id, to_recipient_id,
  type, body, read) VALUES
  (1, 1700000000000, 1700000001500, 1700000000900, 1, 2, 1, 10485780, 'are you at the pier?', 1),
  (2, 1700000060000, 1700000060000, -1, 1, 1, 2, 10485783, 'on my way', 1),
  (3, 1700000120000, 1700000120000, -1, 1, 2, 1, 1, NULL, 1),
  (4, 1700000180000, 1700000181000, 1700000180500, 2, 3, 1, 11075604, NULL, 1),
  (5, 1700000240000, 1700000241000, 1700000240700, 2, 3, 1, 10485780, 'bring the van', 0),
  (6, 1700000300000, 1700000300000, -1, 2, 1, 4, 10485783, 'ok', 1),
  (7, 1700000360000, 1700000360000, -1, 1, 2, 1, 7, NULL, 1),
  (8, 1700000420000, 1700000421000, 1700000420500, 1, 2, 1, 10485780, NULL, 1);
UPDATE message SET remote_deleted = 1 WHERE _id = 8;
INSERT INTO attachment (_id, message_id, content_type, data_file, data_size, file_name) VALUES
  (1, 5, 'image/jpeg', '/data/user/0/org.thoughtcrime.securesms/app_parts/part8814.mms', 48213, NULL),
  (2, 5, 'application/pdf', '/data/user/0/org.thoughtcrime.securesms/app_parts/part8815.mms', 90210, 'manifest.pdf'),
  (3, 99, 'image/png', NULL, 10, NULL);
"""

# Before 2023: sms and mms tables; "address" holds a recipient id; thread_recipient_id; phone and uuid.
SCHEMA_LEGACY = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE DEFAULT NULL,
  phone TEXT UNIQUE DEFAULT NULL, email TEXT UNIQUE DEFAULT NULL, group_id TEXT UNIQUE DEFAULT NULL,
  blocked INTEGER DEFAULT 0, registered INTEGER DEFAULT 0, system_display_name TEXT DEFAULT NULL,
  signal_profile_name TEXT DEFAULT NULL);
CREATE TABLE thread (_id INTEGER PRIMARY KEY, date INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0,
  thread_recipient_id INTEGER, snippet TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address INTEGER, address_device_id INTEGER DEFAULT 1,
  person INTEGER, date INTEGER, date_sent INTEGER, date_server INTEGER DEFAULT -1, protocol INTEGER,
  read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER, body TEXT, remote_deleted INTEGER DEFAULT 0);
CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_received INTEGER,
  date_server INTEGER DEFAULT -1, msg_box INTEGER, read INTEGER DEFAULT 0, body TEXT, address INTEGER,
  remote_deleted INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, ct TEXT, name TEXT, _data TEXT, data_size INTEGER,
  file_name TEXT);
INSERT INTO part (_id, mid, ct, _data, data_size) VALUES
  (1, 1, 'image/jpeg', '/data/user/0/org.thoughtcrime.securesms/app_parts/part100.mms', 1234);
INSERT INTO recipient (_id, uuid, phone, system_display_name, signal_profile_name) VALUES
  (1, 'c4d1b1a2-1111-4222-8333-944455556666', '+15550100002', 'Anna K.', 'Anna'),
  (2, NULL, NULL, NULL, NULL);
INSERT INTO recipient (_id, group_id) VALUES (3, '__textsecure_group__!0123456789abcdef');
INSERT INTO thread (_id, date, thread_recipient_id) VALUES (1, 1600000100000, 1);
INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body) VALUES
  (1, 1, 1, 1600000001000, 1600000000000, 10485780, 'old hello'),
  (2, 1, 1, 1600000060000, 1600000060000, 10485783, 'old reply');
INSERT INTO mms (_id, thread_id, date, date_received, msg_box, body, address) VALUES
  (1, 1, 1600000100000, 1600000101000, 10485780, 'a photo', 1);
"""


def encrypt(path: Path, sql: str, key: bytes, *, raw: bool = False) -> Path:
    """A SQLCipher database at ``path``: as Signal-Android keys it, or with ``key`` as a raw SQLCipher 4 key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlcipher3.connect(str(path))
    if raw:
        con.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    else:
        con.execute(f"PRAGMA key = '{key.hex()}'")
        con.execute("PRAGMA cipher_compatibility = 3")
        con.execute("PRAGMA kdf_iter = 1")
        con.execute("PRAGMA cipher_page_size = 4096")
    con.executescript(sql)
    con.commit()
    con.close()
    return path


@pytest.fixture
def signal_db(tmp_path: Path) -> Path:
    return encrypt(tmp_path / "phone" / SIGNAL_PATH.lstrip("/"), SCHEMA_2024 + ROWS_2024, SECRET)


def parse(
    path: Path, tmp_path: Path, key: bytes | None, fs_path: str = SIGNAL_PATH
) -> tuple[list[Record], list[str], Scratch]:
    """Match and run the plugin as the engine does, with ``--option signal_android.key`` when ``key``."""
    item = FileItem.from_path(path, fs_path=fs_path)
    opts = parse_options(BUILTIN_PLUGINS, [f"signal_android.key={key.hex()}"] if key else [])
    where = tmp_path / "scratch"
    where.mkdir(exist_ok=True)
    with Scratch(where) as scratch:
        ctx = ParseContext(scratch=scratch, run_options=opts)
        chosen = match_plugins(item, [SignalAndroidPlugin()], ctx)
        assert [p.name for p in chosen] == ["signal_android"]
        result = run_plugins(item, chosen, ctx)
        assert result.failed == [], result.warnings
        scratch.release(item)  # the engine's own copy, when the file was plain SQLite
        assert scratch.used == 0 and list(scratch.dir.iterdir()) == []  # the plugin's copies are gone
    warnings = [*ctx.warnings, *result.warnings]
    assert all(w.plugin == "signal_android" and w.path == fs_path for w in warnings)
    # a traceback only for a row the mapping could not handle (as the SQLite base gives it), never a failure
    assert all(w.traceback is None or w.message.startswith("row skipped") for w in warnings)
    return result.records, [w.message for w in warnings], scratch


def _messages(records: list[Record]) -> dict[int, SignalMessage]:
    return {r.rowid: r for r in records if isinstance(r, SignalMessage)}


def _contacts(records: list[Record]) -> dict[int, SignalRecipient]:
    return {r.rowid: r for r in records if isinstance(r, SignalRecipient)}


def test_the_fixture_is_encrypted_as_signal_does(signal_db: Path) -> None:
    data = signal_db.read_bytes()
    assert not data.startswith(b"SQLite format 3\x00") and len(data) % 4096 == 0
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(signal_db).execute("SELECT * FROM sqlite_master").fetchall()


def test_the_right_key_gives_messages_and_contacts(signal_db: Path, tmp_path: Path) -> None:
    before = fingerprint(signal_db)
    records, warnings, _ = parse(signal_db, tmp_path, SECRET)
    assert warnings == []
    msgs, people = _messages(records), _contacts(records)
    assert sorted(msgs) == list(range(1, 9)) and sorted(people) == [1, 2, 3]  # no group, no story list
    assert {r.cipher for r in records if isinstance(r, SignalMessage | SignalRecipient)} == {"signal-android"}

    first, reply, call, update, group_in, group_out, profile, gone = (msgs[i] for i in range(1, 9))
    assert first.timestamp is not None and first.timestamp.utc == "2023-11-14T22:13:20.000000Z"
    assert first.timestamp.raw == 1_700_000_000_000 and first.timestamp.encoding == "unix_ms"
    assert first.date_received is not None and first.date_received.utc == "2023-11-14T22:13:21.500000Z"
    assert first.date_server is not None and first.date_server.raw == 1_700_000_000_900
    assert (first.from_me, first.body, first.sender, first.sender_name) == (
        False,
        "are you at the pier?",
        ANNA,
        "Anna K.",
    )
    assert (first.party, first.conversation, first.conversation_title) == (ANNA, "1", "Anna K.")
    assert first.type == IN_MSG and first.base_type == INBOX and first.table == "message"
    assert label_for(SignalMessage, "base_type", first.base_type) == "inbox"
    assert (reply.from_me, reply.sender, reply.account, reply.recipients, reply.party) == (
        True,
        None,
        OWNER,
        (ANNA,),
        ANNA,
    )
    assert label_for(SignalMessage, "base_type", reply.base_type) == "sent"
    assert reply.date_server is not None and reply.date_server.raw == -1
    assert (call.from_me, label_for(SignalMessage, "base_type", call.base_type)) == (
        False,
        "incoming audio call",
    )
    assert update.type == IN_MSG | GROUP_UPDATE | GROUP_V2 and update.from_me is False
    assert (group_in.sender, group_in.sender_name, group_in.party) == (BORIS, "Bor", None)
    assert (group_in.conversation, group_in.conversation_title, group_in.read) == ("2", "Pier 7", 0)
    photo, pdf = group_in.attachments
    assert (photo.mime, photo.size, photo.name, photo.path) == ("image/jpeg", 48213, None, None)
    assert photo.recorded_path == "/data/user/0/org.thoughtcrime.securesms/app_parts/part8814.mms"
    assert (pdf.name, pdf.mime) == ("manifest.pdf", "application/pdf")
    assert all(m.attachments == () for i, m in msgs.items() if i != 5)  # attachment 3 has no message
    assert group_out.from_me is True and group_out.recipients == (GROUP_ID,)
    assert (
        profile.from_me is None
        and label_for(SignalMessage, "base_type", profile.base_type) == "profile change"
    )
    assert gone.remote_deleted == 1 and gone.body is None and gone.deleted is False
    assert record_to_dict(first)["record_type"] == "chat/android/signal/message"

    owner, anna, boris = people[1], people[2], people[3]
    assert (owner.name, owner.phones) == ("Owner", (OWNER,))
    assert (anna.name, anna.phones, anna.aci, anna.system_name, anna.profile_name) == (
        "Anna K.",
        (ANNA,),
        ANNA_ACI,
        "Anna K.",
        "Anna",
    )
    assert anna.account_ids == (ANNA_ACI, "PNI:1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")
    assert (boris.name, boris.nickname, boris.username, boris.blocked) == ("Bor", "Bor", "boris.42", 1)
    assert record_to_dict(boris)["record_type"] == "chat/android/signal/contact"
    assert fingerprint(signal_db) == before


def test_no_key_is_a_warning_naming_the_file_and_the_option(signal_db: Path, tmp_path: Path) -> None:
    records, warnings, _ = parse(signal_db, tmp_path, None)
    assert records == []
    [message] = warnings
    assert SIGNAL_PATH in message and HINT in message and "no key was given" in message


def test_a_wrong_key_is_a_warning_and_never_shown(signal_db: Path, tmp_path: Path) -> None:
    records, warnings, _ = parse(signal_db, tmp_path, WRONG)
    assert records == []
    [message] = warnings
    assert SIGNAL_PATH in message and HINT in message and "does not open" in message
    assert WRONG.hex() not in message and SECRET.hex() not in message
    # a key of the wrong length is said to be so, and still tried
    records, warnings, _ = parse(signal_db, tmp_path, SECRET[:16])
    assert records == [] and len(warnings) == 2 and "16 bytes" in warnings[0]


def test_legacy_sms_mms_layout_with_a_raw_key(tmp_path: Path) -> None:
    db = encrypt(tmp_path / "old" / "signal.db", SCHEMA_LEGACY, SECRET, raw=True)
    records, warnings, _ = parse(db, tmp_path, SECRET)
    assert warnings == []
    msgs = sorted((m for m in records if isinstance(m, SignalMessage)), key=lambda m: (m.table, m.rowid))
    assert [(m.table, m.rowid) for m in msgs] == [("mms", 1), ("sms", 1), ("sms", 2)]
    photo, hello, reply = msgs
    assert {m.cipher for m in msgs} == {"raw-key-sqlcipher4"}
    assert hello.timestamp is not None and hello.timestamp.raw == 1_600_000_000_000  # sms.date_sent
    assert hello.date_received is not None and hello.date_received.raw == 1_600_000_001_000  # sms.date
    assert (hello.from_me, hello.sender, hello.party) == (False, ANNA, ANNA)
    assert (reply.from_me, reply.sender, reply.recipients, reply.to_recipient_id) == (True, None, (ANNA,), 1)
    assert photo.timestamp is not None and photo.timestamp.raw == 1_600_000_100_000  # mms.date
    assert photo.type == IN_MSG and photo.body == "a photo" and photo.locator == "mms._id=1"
    [jpeg] = photo.attachments
    assert (jpeg.mime, jpeg.size) == ("image/jpeg", 1234) and jpeg.recorded_path.endswith("part100.mms")
    assert hello.attachments == ()
    people = _contacts(records)
    assert sorted(people) == [1, 2]  # the group recipient is not a person
    assert people[1].name == "Anna K." and people[1].account_ids == ("c4d1b1a2-1111-4222-8333-944455556666",)
    assert people[2].name is None and people[2].phones == ()


def test_a_plain_signal_db_needs_no_key(tmp_path: Path) -> None:
    db = tmp_path / "plain" / "signal.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.executescript(SCHEMA_2024 + ROWS_2024)
    con.close()
    records, warnings, _ = parse(db, tmp_path, None)
    assert warnings == [] and len(_messages(records)) == 8
    assert {r.cipher for r in _messages(records).values()} == {"none"}
    # the same, damaged: its first half (plus many rows, so that the cut loses some)
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO message (date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, body)"
        " VALUES (?, ?, 1, 2, 1, 10485780, ?)",
        ((1_700_001_000_000 + i, 1_700_001_000_000 + i, "x" * 200) for i in range(400)),
    )
    con.commit()
    con.close()
    data = db.read_bytes()
    cut = tmp_path / "plain-cut" / "signal.db"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) // 2])
    records, warnings, _ = parse(cut, tmp_path, None)
    assert warnings and all(("damaged" in w or "cannot be read" in w) for w in warnings), warnings


def test_bad_rows_and_a_damaged_file_are_warnings(tmp_path: Path) -> None:
    db = encrypt(
        tmp_path / "rows" / "signal.db",
        SCHEMA_2024 + ROWS_2024 + "UPDATE message SET type = 'sent' WHERE _id = 2;"
        "UPDATE message SET body = CAST(X'ff' AS TEXT) WHERE _id = 5;",
        SECRET,
    )
    records, warnings, _ = parse(db, tmp_path, SECRET)
    assert sorted(_messages(records)) == [1, 3, 4, 6, 7, 8]
    assert warnings == [
        "row skipped: TypeError: type is str, not an integer",
        "row skipped: text that is not UTF-8 in body (ff)",
    ]
    # the first half of the encrypted file: the key still opens page 1, the rest is gone
    good = encrypt(tmp_path / "good" / "signal.db", SCHEMA_2024 + ROWS_2024 * 0, SECRET)
    con = sqlcipher3.connect(str(good))
    con.execute(f"PRAGMA key = '{SECRET.hex()}'")
    con.execute("PRAGMA cipher_compatibility = 3")
    con.execute("PRAGMA kdf_iter = 1")
    con.execute("PRAGMA cipher_page_size = 4096")
    con.executescript(ROWS_2024)
    con.executemany(
        "INSERT INTO message (date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, body)"
        " VALUES (?, ?, 1, 2, 1, 10485780, ?)",
        ((1_700_001_000_000 + i, 1_700_001_000_000 + i, "x" * 200) for i in range(400)),
    )
    con.commit()
    con.close()
    cut = tmp_path / "cut" / "signal.db"
    cut.parent.mkdir()
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    records, warnings, _ = parse(cut, tmp_path, SECRET)
    assert warnings and all("Traceback" not in w for w in warnings), warnings
    assert len(warnings) == 1 and "the key given opens it, but it is damaged" in warnings[0], warnings
    # random bytes named signal.db: the key opens nothing, one warning
    noise = tmp_path / "noise" / "signal.db"
    noise.parent.mkdir()
    noise.write_bytes(bytes(range(256)) * 64)
    records, warnings, _ = parse(noise, tmp_path, SECRET)
    assert records == [] and len(warnings) == 1 and "does not open" in warnings[0]


def test_the_wal_is_read(tmp_path: Path) -> None:
    """Signal keeps signal.db in WAL mode: rows only in the encrypted -wal are read from the copy."""
    folder = tmp_path / "live"
    db = encrypt(folder / "signal.db", SCHEMA_2024 + ROWS_2024, SECRET)
    con = sqlcipher3.connect(str(db))
    con.execute(f"PRAGMA key = '{SECRET.hex()}'")
    con.execute("PRAGMA cipher_compatibility = 3")
    con.execute("PRAGMA kdf_iter = 1")
    con.execute("PRAGMA cipher_page_size = 4096")
    con.execute("PRAGMA journal_mode = WAL").fetchone()
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute(
        "INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type,"
        " body) VALUES (9, 1700000500000, 1700000500000, 1, 2, 1, 10485780, 'only in the wal')"
    )
    con.commit()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("signal.db", "signal.db-wal"):  # copied while the app holds it open, as a live image would
        shutil.copy(folder / name, evidence / name)
    con.close()
    records, warnings, _ = parse(evidence / "signal.db", tmp_path, SECRET)
    assert warnings == []
    assert _messages(records)[9].body == "only in the wal"


def exhibit_json(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            cli.main([*args, "--json"])
        except SystemExit as exc:
            assert not exc.code, out.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def case_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "case"


def test_the_engine_reads_signal_with_the_option_and_never_records_the_key(
    signal_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``exhibit triage`` of a folder holding signal.db: without the option, a warning; with
    ``--option signal_android.key=HEX`` (as TriageOptions carries it from the command line), the
    messages and contacts reach ``exhibit chats`` and ``exhibit contacts``, and the key is nowhere
    in the case (the run records only that it was given)."""
    case = init_case(tmp_path / "case", case_number="2026/10", title="signal")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, tmp_path / "phone", exhibit="EX-001", actor="asmith", description="phone folder")
        summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
        assert summary.status == "complete" and summary.counts["errors"] == 0, summary
        assert any(HINT in str(w) for w in summary.warnings), summary.warnings
        summary = run_triage(
            case,
            "EX-001",
            actor="asmith",
            # no --fresh: a run given the plugin's option reads again the files that plugin saw
            options=TriageOptions(workers=1, option_values=[f"signal_android.key={SECRET.hex()}"]),
        )
        assert summary.status == "complete" and summary.counts["errors"] == 0, summary
        assert summary.counts["findings"] >= 11, summary.counts  # 8 messages and 3 contacts, new
        runs = list_runs(case.engine, "EX-001")
        assert any(r["arguments"].get("options") == {"signal_android.key": SECRET_SHOWN} for r in runs)
        case.engine.dispose()
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    chats = [m for m in exhibit_json("chats", "EX-001") if m["app"] == "signal"]
    assert "are you at the pier?" in {m["body"] for m in chats} and len(chats) == 8
    contacts = [c for c in exhibit_json("contacts", "EX-001") if c["app"] == "signal"]
    assert sorted(c["name"] for c in contacts) == ["Anna K.", "Bor", "Owner"]
    for stored in (tmp_path / "case").rglob("*"):
        if stored.is_file():
            data = stored.read_bytes()
            assert SECRET.hex().encode() not in data and SECRET.hex().upper().encode() not in data, stored


@pytest.mark.parametrize("key", [None, SECRET])
def test_a_zero_filled_signal_db_is_said_to_be_zeros_not_encrypted(tmp_path: Path, key: bytes | None) -> None:
    """Found in review: a signal.db of zeros (wiped, or carved from unallocated space) was called
    'encrypted, no key given', and with a key 'the key does not open it'."""
    path = tmp_path / "phone" / SIGNAL_PATH.lstrip("/")
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(8192))
    records, warnings, _ = parse(path, tmp_path, key)
    assert records == []
    assert len(warnings) == 1 and "are all zero" in warnings[0] and "encrypted" not in warnings[0], warnings


def test_one_damaged_page_loses_only_what_it_holds(tmp_path: Path) -> None:
    """Review: 100 bytes of one page zeroed (its HMAC then fails) and the whole decrypted copy was
    refused, 0 records against 400 without the damage. The tables are copied one by one as far as
    their pages read: the messages before the damaged page are read, and the damage is said."""
    bulk = "".join(
        "INSERT INTO message (date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, "
        f"body) VALUES ({1_700_001_000_000 + i}, {1_700_001_000_000 + i}, 1, 2, 1, 10485780, 'bulk {i:04d} "
        + "x" * 200
        + "');"
        for i in range(400)
    )
    db = encrypt(tmp_path / "phone" / SIGNAL_PATH.lstrip("/"), SCHEMA_2024 + ROWS_2024 + bulk, SECRET)
    (tmp_path / "whole").mkdir()
    (tmp_path / "damaged").mkdir()
    whole, warnings, _ = parse(db, tmp_path / "whole", SECRET)
    assert warnings == [] and len(_messages(whole)) == 408
    data = bytearray(db.read_bytes())
    page = len(data) // 4096 - 2  # a page near the end: the message table's last leaves
    data[page * 4096 + 1000 : page * 4096 + 1100] = bytes(100)
    db.write_bytes(bytes(data))
    records, warnings, _ = parse(db, tmp_path / "damaged", SECRET)
    read = _messages(records)
    assert 0 < len(read) < 408, len(read)
    assert all(
        whole_message.body == read[key].body for key, whole_message in _messages(whole).items() if key in read
    )
    assert any("damaged: the decrypted copy could not be written whole" in w for w in warnings), warnings
