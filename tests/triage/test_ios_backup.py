"""iTunes/Finder backups: files under their domain paths, read from their hashed files (issue 8, §2).

Every backup here is built by tests/ios_backups.py from Apple's published format, not taken from a
real device (no redistributable real backup exists); the databases inside are real ones from the
corpus (iLEAPP's WhatsApp ChatStorage.sqlite, plaso's iMessage chat.db).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from tests.conftest import CORPUS, need
from tests.ios_backups import (
    DIRECTORY,
    FILE,
    MTIME,
    SYMLINK,
    WHATSAPP_DOMAIN,
    Row,
    file_id,
    make_backup,
    mbfile,
    standard_rows,
)
from triage.engine.run import run_triage
from triage.errors import EntryNotFound, SourceUnreadable
from triage.sanitize import display_to_bytes
from triage.sources.entry import FileEntry, entry_to_json, entry_to_json_line
from triage.sources.ios_backup import IosBackupSource, decode_mbfile
from triage.sources.lookup import find_entry
from triage.sources.open import open_source
from triage.views.findings import iter_findings

WHATSAPP_PATH = f"/{WHATSAPP_DOMAIN}/ChatStorage.sqlite"
SMS_PATH = "/HomeDomain/Library/SMS/sms.db"


def corpus_bytes(name: str) -> bytes:
    return need(CORPUS / name).read_bytes()


def evidence_state(folder: Path) -> dict[str, tuple[str, int]]:
    """SHA-256 and mtime of every file of the backup (to prove nothing was written)."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def listing(source: IosBackupSource) -> dict[str, FileEntry]:
    return {e.path: e for e in source.entries(recursive=True)}


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    rows = standard_rows(
        corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite"), corpus_bytes("chats/imessage_chat.db")
    )
    return make_backup(tmp_path / "00008110-000A1B2C3D4E", rows)


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/8", title="iTunes backups")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    try:
        yield c
    finally:
        c.close()


# -- listing and reading ----------------------------------------------------------------------------


def test_files_are_listed_under_their_domain_paths(backup: Path) -> None:
    with open_source(backup, "ios-backup") as source:
        assert source.kind == "ios-backup"
        assert isinstance(source, IosBackupSource)
        entries = listing(source)
        assert not source.warnings, source.warnings
    assert {p for p, e in entries.items() if e.type == "file"} == {
        SMS_PATH,
        WHATSAPP_PATH,
        "/HomeDomain/Library/Notes/readme.txt",
        "/CameraRollDomain/Media/DCIM/100APPLE/empty.txt",
    }
    # directories: those in Manifest.db and those it only implies (Library/Notes, CameraRollDomain...)
    assert {"/HomeDomain", "/HomeDomain/Library/Notes", "/CameraRollDomain/Media/DCIM"} <= {
        p for p, e in entries.items() if e.type == "dir"
    }
    assert entries["/HomeDomain/Library/Preferences/link"].type == "link"
    wa = entries[WHATSAPP_PATH]
    fid = file_id(WHATSAPP_DOMAIN, "ChatStorage.sqlite")
    assert wa.backup_file == f"{fid[:2]}/{fid}"
    assert (backup / wa.backup_file).read_bytes() == corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite")
    assert (wa.fs_type, wa.partition, wa.inode, wa.name) == ("ios-backup", None, None, "ChatStorage.sqlite")
    assert wa.size == len(corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite"))
    # times, mode and owner come from the MBFile record, not from the hashed file's stat
    assert (wa.mtime, wa.crtime, wa.ctime) == (
        "2025-06-01T12:00:00Z",
        "2023-11-14T22:13:20Z",
        "2025-06-01T12:01:40Z",
    )
    assert (wa.mode, wa.uid, wa.gid) == (0o644, 501, 501)
    assert entries["/HomeDomain"].backup_file is None


def test_read_gives_the_hashed_files_content(backup: Path) -> None:
    with open_source(backup, "ios-backup") as source:
        entries = listing(source)
        assert b"".join(source.read(entries[SMS_PATH])) == corpus_bytes("chats/imessage_chat.db")
        assert b"".join(source.read(entries[SMS_PATH], chunk_size=4096)) == corpus_bytes(
            "chats/imessage_chat.db"
        )
        assert (
            b"".join(source.read(entries["/HomeDomain/Library/Preferences/link"])) == b"/var/mobile/elsewhere"
        )
        assert b"".join(source.read(entries["/HomeDomain/Library"])) == b""
        assert b"".join(source.read(entries["/CameraRollDomain/Media/DCIM/100APPLE/empty.txt"])) == b""
        found = find_entry(source, "HomeDomain/Library/Notes/readme.txt")
        assert b"".join(source.read(found)) == b"meet at pier 7\n"
        with pytest.raises(EntryNotFound):
            find_entry(source, "/HomeDomain/Library/SMS/nothing.db")
        one_level = {e.path for e in source.entries("/HomeDomain/Library")}
        assert one_level == {
            "/HomeDomain/Library/SMS",
            "/HomeDomain/Library/Notes",
            "/HomeDomain/Library/Preferences",
        }


def test_ls_json_shows_the_hashed_file_of_each_entry(backup: Path, case: Case) -> None:
    """``exhibit ls EX --json`` (the real command) adds ``backup_file``, so an examiner can go to it."""
    item, _ = acquire(case, backup, exhibit="EX-010", actor="asmith", description="iPhone backup")
    assert item.kind == "ios-backup"
    done = subprocess.run(
        [sys.executable, "-m", "triage.launch", "ls", "EX-010", "-r", "--json", "--case", str(case.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    by_path = {line["path"]: line for line in lines}
    fid = file_id("HomeDomain", "Library/SMS/sms.db")
    assert by_path[SMS_PATH]["backup_file"] == f"{fid[:2]}/{fid}"
    assert by_path[SMS_PATH]["fs_type"] == "ios-backup"
    assert "backup_file" not in by_path["/HomeDomain/Library"]
    # entry_to_json and the fast line writer agree, key for key
    with open_source(backup, "ios-backup") as source:
        for entry in source.entries(recursive=True):
            assert json.loads(entry_to_json_line(entry)) == entry_to_json(entry)


def test_acquire_triage_whatsapp_findings_under_the_domain_path(backup: Path, case: Case) -> None:
    """End to end: acquired as ios-backup, triaged, the WhatsApp iOS plugin's findings are stored
    under the domain path, one per ZWAMESSAGE row; the backup is unchanged, byte and mtime."""
    before = evidence_state(backup)
    item, _ = acquire(case, backup, exhibit="EX-011", actor="asmith", description="iPhone backup")
    assert item.kind == "ios-backup"
    summary = run_triage(case, "EX-011", actor="asmith")
    assert summary.status == "complete", summary
    assert summary.counts["errors"] == 0, summary
    wa = need(CORPUS / "chats/whatsapp_ios_ChatStorage.sqlite")
    con = sqlite3.connect(f"file:{wa}?mode=ro&immutable=1", uri=True)
    try:
        (expected,) = con.execute("SELECT COUNT(*) FROM ZWAMESSAGE").fetchone()
    finally:
        con.close()
    assert expected == 32  # the corpus README
    messages = list(iter_findings(case.engine, "EX-011", "chat/ios/whatsapp/message"))
    assert len(messages) == expected
    assert {f.path for f in messages} == {WHATSAPP_PATH}
    assert evidence_state(backup) == before
    assert summary.counts["files"] == 4


def test_a_backup_with_a_wal_beside_manifest_db_is_read_from_a_scratch_copy(tmp_path: Path) -> None:
    """SQLite would replay a -wal into the evidence (or, opened immutable, ignore it): the database
    and its log are copied to scratch and the copy is opened; rows only in the WAL are listed."""
    root = make_backup(tmp_path / "b", [Row("HomeDomain", "a.txt", FILE, b"a")])
    con = sqlite3.connect(root / "Manifest.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    fid = file_id("HomeDomain", "b.txt")
    blob = mbfile(relative_path="b.txt", size=1, mode=0o100644)
    con.execute("INSERT INTO Files VALUES (?, 'HomeDomain', 'b.txt', 1, ?)", (fid, blob))
    con.commit()
    (root / fid[:2]).mkdir(exist_ok=True)
    (root / fid[:2] / fid).write_bytes(b"b")
    # keep the WAL: copy the files away while the connection is open, then put them back
    saved = {name: (root / name).read_bytes() for name in ("Manifest.db", "Manifest.db-wal")}
    con.close()
    for name, data in saved.items():
        (root / name).write_bytes(data)
    (root / "Manifest.db-shm").unlink(missing_ok=True)
    before = evidence_state(root)
    (tmp_path / "scratch").mkdir()
    with open_source(root, "ios-backup", options={"scratch_dir": tmp_path / "scratch"}) as source:
        assert {e.path for e in source.entries(recursive=True) if e.type == "file"} == {
            "/HomeDomain/a.txt",
            "/HomeDomain/b.txt",
        }
        scratch = source._scratch
        assert scratch is not None and Path(scratch).is_dir()
    assert not Path(scratch).exists()
    assert evidence_state(root) == before


def test_old_flat_layout_is_read(tmp_path: Path) -> None:
    root = make_backup(tmp_path / "flat", [Row("HomeDomain", "a.txt", FILE, b"flat")], flat=True)
    with open_source(root, "ios-backup") as source:
        [entry] = [e for e in source.entries(recursive=True) if e.type == "file"]
        assert entry.backup_file == file_id("HomeDomain", "a.txt")
        assert b"".join(source.read(entry)) == b"flat"


def test_mbfile_decoding_is_defensive() -> None:
    good = decode_mbfile(mbfile(relative_path="x", size=7, mode=0o100600, target="t"))
    assert (good.size, good.mtime, good.mode, good.target) == (7, MTIME, 0o100600, b"t")
    for junk in (b"", b"bplist00", b"not a plist", bytes(range(256))):
        with pytest.raises(ValueError):
            decode_mbfile(junk)
    import plistlib

    for archive in (
        [1, 2],
        {"$objects": "no", "$top": {}},
        {"$objects": ["$null"], "$top": {"root": plistlib.UID(5)}},
        {"$objects": ["$null", "str"], "$top": {"root": plistlib.UID(1)}},
    ):
        with pytest.raises(ValueError):
            decode_mbfile(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY))
    wrong_types = {
        "$objects": ["$null", {"Size": "big", "LastModified": True, "Target": plistlib.UID(99)}],
        "$top": {"root": plistlib.UID(1)},
    }
    with pytest.raises(ValueError):  # the Target reference points outside $objects
        decode_mbfile(plistlib.dumps(wrong_types, fmt=plistlib.FMT_BINARY))
    wrong_types["$objects"][1].pop("Target")  # type: ignore[union-attr]
    decoded = decode_mbfile(plistlib.dumps(wrong_types, fmt=plistlib.FMT_BINARY))
    assert decoded.size is None and decoded.mtime is None


# -- hostile and damaged backups ----------------------------------------------------------------------


def test_hostile_relative_paths_stay_under_their_domain(tmp_path: Path) -> None:
    """``..``, absolute paths, NUL and control characters are shown escaped under their domain,
    never resolved; reading uses only the fileID, so nothing outside the backup is reached."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not evidence")
    rows = [
        Row("HomeDomain", "../../../../outside.txt", FILE, b"dotdot"),
        Row("HomeDomain", "/etc/passwd", FILE, b"absolute"),
        Row("HomeDomain", "Library/nul\x00byte", FILE, b"nul"),
        Row("HomeDomain", "Library/bell\x07\x1b[31mred\u202egpj.exe", FILE, b"controls"),
        Row("HomeDomain", "./Library//./x", FILE, b"dots"),
        Row("Evil/Domain", "a", FILE, b"slash in domain"),
    ]
    root = make_backup(tmp_path / "b", rows)
    with open_source(root, "ios-backup") as source:
        files = {e.path: e for e in source.entries(recursive=True) if e.type == "file"}
        warnings = [str(w) for w in source.warnings]
        contents = {p: b"".join(source.read(e)) for p, e in files.items()}
    assert set(files) == {
        "/HomeDomain/\\x2e\\x2e/\\x2e\\x2e/\\x2e\\x2e/\\x2e\\x2e/outside.txt",
        "/HomeDomain/etc/passwd",
        "/HomeDomain/Library/nul\\x00byte",
        "/HomeDomain/Library/bell\\x07\\x1b[31mred\\u202egpj.exe",
        "/HomeDomain/\\x2e/Library/\\x2e/x",
        "/Evil\\x2fDomain/a",
    }
    assert contents["/HomeDomain/\\x2e\\x2e/\\x2e\\x2e/\\x2e\\x2e/\\x2e\\x2e/outside.txt"] == b"dotdot"
    assert contents["/HomeDomain/etc/passwd"] == b"absolute"
    assert b"not evidence" not in contents.values()
    for path, entry in files.items():
        assert entry.path.startswith("/")
        assert all(c.isprintable() for c in path), path
        assert display_to_bytes(path.rsplit("/", 1)[-1]) == entry.name_bytes
    assert len([w for w in warnings if "'..' component" in w]) == 1  # one path: said once, not four times
    assert any("absolute" in w for w in warnings)


@pytest.mark.parametrize(
    "bad_id",
    [
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "ab/../../outside",
        "0" * 39,
        "0" * 41,
        "g" * 40,
        "A" * 40,
        "0" * 39 + "\x00",
        12345,
    ],
)
def test_a_file_id_that_is_not_40_hex_digits_is_never_used_as_a_path(tmp_path: Path, bad_id: object) -> None:
    (tmp_path / "outside").write_bytes(b"not evidence")
    (tmp_path / "etc").mkdir()
    rows = [
        Row("HomeDomain", "ok.txt", FILE, b"fine"),
        Row("HomeDomain", "evil.txt", FILE, None, raw_file_id=bad_id),
    ]
    root = make_backup(tmp_path / "b", rows)
    with open_source(root, "ios-backup") as source:
        files = {e.path: e for e in source.entries(recursive=True) if e.type == "file"}
        assert b"".join(source.read(files["/HomeDomain/ok.txt"])) == b"fine"
        evil = files["/HomeDomain/evil.txt"]
        assert evil.backup_file is None
        with pytest.raises(SourceUnreadable, match="not 40 lower-case hex digits"):
            b"".join(source.read(evil))
        assert any("not 40 lower-case hex digits" in str(w) for w in source.warnings)


def test_links_in_place_of_hash_folders_or_hashed_files_are_not_followed(tmp_path: Path) -> None:
    """A hash folder or a hashed file replaced by a link out of the backup reads nothing outside."""
    secret = b"a file outside the backup"
    root = make_backup(
        tmp_path / "b", [Row("HomeDomain", "a.txt", FILE, b"inside"), Row("HomeDomain", "b.txt", FILE, b"b")]
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fid = file_id("HomeDomain", "a.txt")
    (elsewhere / fid).write_bytes(secret)
    (root / fid[:2] / fid).unlink()
    (root / fid[:2]).rmdir()
    os.symlink(elsewhere, root / fid[:2])
    other = file_id("HomeDomain", "b.txt")
    (elsewhere / "secret").write_bytes(secret)
    (root / other[:2] / other).unlink()
    os.symlink(elsewhere / "secret", root / other[:2] / other)
    with open_source(root, "ios-backup") as source:
        files = [e for e in source.entries(recursive=True) if e.type == "file"]
        assert len(files) == 2
        for entry in files:
            assert entry.backup_file is None
            with pytest.raises(SourceUnreadable, match="missing from the backup"):
                b"".join(source.read(entry))


def test_a_missing_hashed_file_is_listed_with_a_warning_and_read_is_a_clear_error(tmp_path: Path) -> None:
    rows = [Row("HomeDomain", "kept.txt", FILE, b"kept"), Row("HomeDomain", "gone.db", FILE, None, size=4096)]
    root = make_backup(tmp_path / "b", rows)
    fid = file_id("HomeDomain", "gone.db")
    with open_source(root, "ios-backup") as source:
        files = {e.path: e for e in source.entries(recursive=True) if e.type == "file"}
        gone = files["/HomeDomain/gone.db"]
        assert (gone.size, gone.backup_file) == (4096, None)
        assert [str(w) for w in source.warnings] == [
            f"{root}: /HomeDomain/gone.db: its file {fid[:2]}/{fid} is missing from the backup "
            "(an incomplete backup): listed, not readable"
        ]
        with pytest.raises(SourceUnreadable, match=f"{fid[:2]}/{fid} is missing from the backup"):
            b"".join(source.read(gone))
        assert b"".join(source.read(files["/HomeDomain/kept.txt"])) == b"kept"


def test_a_missing_hashed_file_does_not_stop_triage(tmp_path: Path, case: Case) -> None:
    rows = [Row("HomeDomain", "kept.txt", FILE, b"kept"), Row("HomeDomain", "gone.db", FILE, None)]
    root = make_backup(tmp_path / "b", rows)
    acquire(case, root, exhibit="EX-012", actor="asmith", description="incomplete backup")
    summary = run_triage(case, "EX-012", actor="asmith")
    assert summary.status == "complete"
    assert summary.counts["files"] == 2 and summary.counts["errors"] == 1, summary


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no-files-table", "empty"])
def test_a_damaged_manifest_db_is_a_clear_error_naming_it(tmp_path: Path, damage: str) -> None:
    root = make_backup(tmp_path / "b", [Row("HomeDomain", f"f{i}.txt", FILE, b"x" * i) for i in range(300)])
    db = root / "Manifest.db"
    data = db.read_bytes()
    if damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        db.write_bytes(b"\x00garbage" * 1000)
    elif damage == "empty":
        db.write_bytes(b"")
    else:
        con = sqlite3.connect(db)
        con.execute("DROP TABLE Files")
        con.commit()
        con.close()
    with pytest.raises(SourceUnreadable) as caught, open_source(root, "ios-backup") as source:
        list(source.entries(recursive=True))
    assert str(db) in str(caught.value)
    assert "Manifest" in str(caught.value)


def test_a_plain_folder_forced_to_be_a_backup_says_what_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    with pytest.raises(SourceUnreadable, match=r"Manifest\.db: missing"):
        open_source(folder, "ios-backup")


def test_unreadable_metadata_and_odd_rows_are_warnings_not_failures(tmp_path: Path) -> None:
    rows = [
        Row("HomeDomain", "nometa.txt", FILE, b"no metadata", mbfile=None),
        Row("HomeDomain", "junkmeta.txt", FILE, b"junk", mbfile=b"bplist00garbage"),
        Row("HomeDomain", "weird", 7, b"flags 7"),
        Row("", "nodomain.txt", FILE, b"x"),
        Row("HomeDomain", "dup.txt", FILE, b"first"),
        Row("HomeDomain", "dup.txt", FILE, b"second", raw_file_id="f" * 40),
        Row("HomeDomain", "dir", DIRECTORY),
        Row("HomeDomain", "dir", DIRECTORY, raw_file_id="e" * 40),
        Row("HomeDomain", "dir/link", SYMLINK, None, target=None),
    ]
    root = make_backup(tmp_path / "b", rows)
    with open_source(root, "ios-backup") as source:
        entries = listing(source)
        warnings = "\n".join(str(w) for w in source.warnings)
        nometa = entries["/HomeDomain/nometa.txt"]
        assert nometa.size == len(b"no metadata") and nometa.mtime is not None  # from the stat
        assert b"".join(source.read(nometa)) == b"no metadata"
        assert b"".join(source.read(entries["/HomeDomain/junkmeta.txt"])) == b"junk"
        assert entries["/HomeDomain/weird"].type == "unknown"
        assert b"".join(source.read(entries["/HomeDomain/dup.txt"])) == b"first"
        assert b"".join(source.read(entries["/HomeDomain/dup.txt:#2"])) == b"second"
        assert [e.path for e in source.entries(recursive=True)].count("/HomeDomain/dir") == 1
        assert b"".join(source.read(entries["/HomeDomain/dir/link"])) == b""
    assert "no metadata in Manifest.db" in warnings
    assert "metadata (the MBFile in Manifest.db) unreadable" in warnings
    assert "unknown flags 7" in warnings
    assert "has no domain" in warnings
    assert "same path as fileID" in warnings


def test_metadata_is_decoded_once_when_listed_not_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding an MBFile costs hundreds of microseconds: each triage worker opens the backup only
    to read files, so opening decodes none, listing decodes each once, reading a plain file none."""
    from triage.sources import ios_backup

    calls: list[int] = []
    real = ios_backup.decode_mbfile

    def counting(blob: bytes) -> ios_backup.MBFile:
        calls.append(len(blob))
        return real(blob)

    monkeypatch.setattr(ios_backup, "decode_mbfile", counting)
    root = make_backup(tmp_path / "b", [Row("HomeDomain", f"f{i}.txt", FILE, b"%d" % i) for i in range(50)])
    with open_source(root, "ios-backup") as source:
        assert calls == []
        first = list(source.entries(recursive=True))
        assert len(calls) == 50
        assert list(source.entries(recursive=True)) == first
        for entry in first:
            b"".join(source.read(entry))
        assert len(calls) == 50
    with open_source(root, "ios-backup") as worker:  # as a triage worker: read only
        entry = next(e for e in first if e.path == "/HomeDomain/f7.txt")
        assert b"".join(worker.read(entry)) == b"7"
        assert len(calls) == 50
