"""Encrypted iTunes/Finder backups: a clear "password needed", and decryption of known plaintext.

No encrypted backup of a real device may be redistributed, so tests/ios_backups.py implements the
*encrypting* side from Apple's published format (keybag TLV, PBKDF2-SHA256 then PBKDF2-SHA1, RFC 3394
key wrap, AES-256-CBC with PKCS#7) and these tests prove that Exhibit decrypts what it encrypted:
the fixture follows the published format; it is not a backup of a real device. Iteration counts
are small here (real backups use DPIC 10,000,000) so the tests stay fast. As a one-off check while
this was written, an independent reader (iphone_backup_decrypt 0.11.2, in a separate virtualenv)
decrypted a fixture made by tests/ios_backups.py to the corpus WhatsApp database, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import logging
import plistlib
import stat
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from tests.conftest import CORPUS, need
from tests.ios_backups import FILE, WHATSAPP_DOMAIN, Row, file_id, make_backup, standard_rows
from triage.engine.run import TriageOptions, run_triage
from triage.errors import PasswordRequired, SourceUnreadable, TriageError, WrongPassword
from triage.plugin.options import SECRET_SHOWN, OptionError
from triage.sources import ios_crypto
from triage.sources.ios_backup import IosBackupSource
from triage.sources.open import open_source
from triage.views.findings import iter_findings, list_runs

PASSWORD = "correct horse battery staple 7"
WHATSAPP_PATH = f"/{WHATSAPP_DOMAIN}/ChatStorage.sqlite"
SMS_PATH = "/HomeDomain/Library/SMS/sms.db"


def corpus_bytes(name: str) -> bytes:
    return need(CORPUS / name).read_bytes()


def evidence_state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def encrypted(tmp_path: Path) -> Path:
    rows = standard_rows(
        corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite"), corpus_bytes("chats/imessage_chat.db")
    )
    rows.append(
        Row("HomeDomain", "Library/Notes/block.bin", FILE, bytes(range(32)))
    )  # a whole number of blocks
    return make_backup(tmp_path / "encrypted-backup", rows, password=PASSWORD)


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/8", title="encrypted backups")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    try:
        yield c
    finally:
        c.close()


def test_the_fixture_is_encrypted(encrypted: Path) -> None:
    manifest = plistlib.loads((encrypted / "Manifest.plist").read_bytes())
    assert manifest["IsEncrypted"] is True
    assert not (encrypted / "Manifest.db").read_bytes().startswith(b"SQLite format 3")
    fid = file_id(WHATSAPP_DOMAIN, "ChatStorage.sqlite")
    stored = (encrypted / fid[:2] / fid).read_bytes()
    plain = corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite")
    assert len(stored) == (len(plain) // 16 + 1) * 16 and stored[:16] != plain[:16]


# -- no password, wrong password --------------------------------------------------------------------


def test_without_a_password_the_backup_is_reported_as_needing_one(encrypted: Path) -> None:
    with pytest.raises(PasswordRequired) as caught:
        open_source(encrypted, "ios-backup")
    error = caught.value
    assert type(error) is PasswordRequired
    assert str(error) == (
        f"{encrypted}: encrypted iTunes backup: give its password with --option backup.password=..."
    )
    assert error.hint and "never recorded" in error.hint


def test_ls_and_triage_say_a_password_is_needed(encrypted: Path, case: Case) -> None:
    item, _ = acquire(case, encrypted, exhibit="EX-020", actor="asmith", description="encrypted backup")
    assert item.kind == "ios-backup"  # acquisition needs no password: the files are hashed as they are
    done = subprocess.run(
        [sys.executable, "-m", "triage.launch", "ls", "EX-020", "--case", str(case.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "encrypted iTunes backup: give its password with --option backup.password=..." in done.stderr
    assert str(encrypted) in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(PasswordRequired):
        run_triage(case, "EX-020", actor="asmith")


def test_a_wrong_password_is_refused_without_repeating_it(encrypted: Path) -> None:
    wrong = "hunter2-not-the-password"
    with pytest.raises(WrongPassword) as caught:
        open_source(encrypted, "ios-backup", options={"backup.password": wrong})
    assert str(encrypted) in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in (caught.value.hint or "")
    assert isinstance(caught.value, PasswordRequired)


# -- decryption -------------------------------------------------------------------------------------


def test_with_the_password_every_file_decrypts_to_its_known_plaintext(
    encrypted: Path, tmp_path: Path
) -> None:
    before = evidence_state(encrypted)
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    options = {"backup.password": PASSWORD, "scratch_dir": str(scratch_parent)}
    with open_source(encrypted, "ios-backup", options=options) as source:
        assert isinstance(source, IosBackupSource)
        entries = {e.path: e for e in source.entries(recursive=True)}
        expected = {
            WHATSAPP_PATH: corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite"),
            SMS_PATH: corpus_bytes("chats/imessage_chat.db"),
            "/HomeDomain/Library/Notes/readme.txt": b"meet at pier 7\n",
            "/HomeDomain/Library/Notes/block.bin": bytes(range(32)),
            "/CameraRollDomain/Media/DCIM/100APPLE/empty.txt": b"",
        }
        assert {p for p, e in entries.items() if e.type == "file"} == set(expected)
        for path, plain in expected.items():
            entry = entries[path]
            assert entry.size == len(plain)  # from the MBFile, not the padded file on disk
            for chunk_size in (16, 17, 4096, 1 << 20):
                assert b"".join(source.read(entry, chunk_size=chunk_size)) == plain, (path, chunk_size)
        fid = file_id("HomeDomain", "Library/SMS/sms.db")
        assert entries[SMS_PATH].backup_file == f"{fid[:2]}/{fid}"
        assert (
            b"".join(source.read(entries["/HomeDomain/Library/Preferences/link"])) == b"/var/mobile/elsewhere"
        )
        assert source.warnings == []
        # Manifest.db was decrypted into a private scratch folder, never beside the evidence
        [scratch] = list(scratch_parent.iterdir())
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        assert (scratch / "Manifest.db").read_bytes().startswith(b"SQLite format 3\x00")
        assert PASSWORD not in repr(vars(source))
    assert list(scratch_parent.iterdir()) == []  # removed on close
    assert evidence_state(encrypted) == before


def test_the_password_is_never_logged_or_printed(
    encrypted: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with open_source(encrypted, "ios-backup", options={"backup.password": PASSWORD}) as source:
        for entry in source.entries(recursive=True):
            b"".join(source.read(entry))
        warnings = [str(w) for w in source.warnings]
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, *warnings):
        assert PASSWORD not in text


def test_triage_decrypts_with_the_password_option_and_records_only_that_it_was_given(
    encrypted: Path, case: Case
) -> None:
    """``--option backup.password=...`` (here through TriageOptions, as the command line gives it):
    the WhatsApp plugin reads the decrypted database, its findings carry the domain path, and the
    password is nowhere in the case: not in the run's recorded arguments, the ledger or the database."""
    before = evidence_state(encrypted)
    acquire(case, encrypted, exhibit="EX-021", actor="asmith", description="encrypted backup")
    options = TriageOptions(option_values=[f"backup.password={PASSWORD}"])
    summary = run_triage(case, "EX-021", actor="asmith", options=options)
    assert summary.status == "complete" and summary.counts["errors"] == 0, summary
    messages = list(iter_findings(case.engine, "EX-021", "chat/ios/whatsapp/message"))
    assert len(messages) == 32
    assert {f.path for f in messages} == {WHATSAPP_PATH}
    plain = corpus_bytes("chats/whatsapp_ios_ChatStorage.sqlite")
    assert {f.data["source"]["sha256"] for f in messages} == {hashlib.sha256(plain).hexdigest()}
    assert evidence_state(encrypted) == before
    [run] = list_runs(case.engine, "EX-021")
    assert run["arguments"]["options"] == {"backup.password": SECRET_SHOWN}
    case.engine.dispose()
    for stored in case.root.rglob("*"):
        if stored.is_file():
            assert PASSWORD.encode() not in stored.read_bytes(), stored


def test_a_wrong_option_stops_the_run_before_anything_is_recorded(encrypted: Path, case: Case) -> None:
    acquire(case, encrypted, exhibit="EX-022", actor="asmith", description="encrypted backup")
    entries = len(list(case.ledger.entries()))
    with pytest.raises(OptionError, match="no plugin named 'backups'"):
        run_triage(
            case, "EX-022", actor="asmith", options=TriageOptions(option_values=["backups.password=x"])
        )
    with pytest.raises(OptionError, match="has no option 'pasword'"):
        run_triage(case, "EX-022", actor="asmith", options=TriageOptions(option_values=["backup.pasword=x"]))
    assert len(list(case.ledger.entries())) == entries
    assert list_runs(case.engine, "EX-022") == []


# -- damaged encrypted backups --------------------------------------------------------------------------


def _rewrite_keybag(backup: Path, tag: bytes, value: bytes) -> None:
    manifest = plistlib.loads((backup / "Manifest.plist").read_bytes())
    blob = manifest["BackupKeyBag"]
    pos = blob.index(tag)
    (length,) = struct.unpack(">I", blob[pos + 4 : pos + 8])
    manifest["BackupKeyBag"] = (
        blob[: pos + 4] + struct.pack(">I", len(value)) + value + blob[pos + 8 + length :]
    )
    (backup / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))


def test_a_forged_iteration_count_is_refused_at_once(encrypted: Path) -> None:
    """DPIC 4,294,967,295 would keep PBKDF2 busy for hours: refused before deriving anything."""
    _rewrite_keybag(encrypted, b"DPIC", b"\xff\xff\xff\xff")
    with pytest.raises(SourceUnreadable, match="DPIC iteration count"):
        open_source(encrypted, "ios-backup", options={"backup.password": PASSWORD})


@pytest.mark.parametrize("damage", ["cut", "junk", "not-data"])
def test_a_damaged_keybag_is_a_clear_error(encrypted: Path, damage: str) -> None:
    manifest = plistlib.loads((encrypted / "Manifest.plist").read_bytes())
    if damage == "cut":
        manifest["BackupKeyBag"] = manifest["BackupKeyBag"][:-7]
    elif damage == "junk":
        manifest["BackupKeyBag"] = b"\x00" * 3
    else:
        manifest["BackupKeyBag"] = "text"
    (encrypted / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    with pytest.raises(SourceUnreadable, match="BackupKeyBag") as caught:
        open_source(encrypted, "ios-backup", options={"backup.password": PASSWORD})
    assert PASSWORD not in str(caught.value)


def test_a_cut_or_damaged_encrypted_file_is_an_error_or_a_warning(encrypted: Path) -> None:
    sms = file_id("HomeDomain", "Library/SMS/sms.db")
    note = file_id("HomeDomain", "Library/Notes/readme.txt")
    sms_file, note_file = encrypted / sms[:2] / sms, encrypted / note[:2] / note
    sms_file.write_bytes(sms_file.read_bytes()[:-5])  # not a whole number of AES blocks
    data = bytearray(note_file.read_bytes())
    data[-1] ^= 0xFF  # the padding no longer checks
    note_file.write_bytes(bytes(data))
    with open_source(encrypted, "ios-backup", options={"backup.password": PASSWORD}) as source:
        entries = {e.path: e for e in source.entries(recursive=True)}
        with pytest.raises(SourceUnreadable, match="cut short"):
            b"".join(source.read(entries[SMS_PATH]))
        damaged = b"".join(source.read(entries["/HomeDomain/Library/Notes/readme.txt"]))
        assert len(damaged) == 16  # kept whole, not dropped
        assert any("no valid padding" in str(w) for w in source.warnings)


def test_a_size_that_disagrees_with_the_decrypted_file_is_reported(tmp_path: Path) -> None:
    root = make_backup(
        tmp_path / "b", [Row("HomeDomain", "grew.db", FILE, b"x" * 100, size=64)], password="pw"
    )
    with open_source(root, "ios-backup", options={"backup.password": "pw"}) as source:
        [entry] = [e for e in source.entries(recursive=True) if e.type == "file"]
        assert b"".join(source.read(entry)) == b"x" * 100  # every decrypted byte kept
        assert any("decrypted 100 bytes, Manifest.db says 64" in str(w) for w in source.warnings)


def test_keybag_parser_and_stream_decryption_units() -> None:
    with pytest.raises(ios_crypto.Undecryptable, match="cut short"):
        ios_crypto.parse_keybag(b"VERS\x00\x00")
    with pytest.raises(ios_crypto.Undecryptable, match="runs past the end"):
        ios_crypto.parse_keybag(b"VERS\x00\x00\x00\x09\x00")
    with pytest.raises(ios_crypto.Undecryptable, match="no protection classes"):
        ios_crypto.parse_keybag(b"VERS\x00\x00\x00\x04\x00\x00\x00\x04")
    key = bytes(range(32))
    stream = ios_crypto.decrypt_cbc([b""], key)
    with pytest.raises(StopIteration) as done:
        next(stream)
    assert done.value.value == ios_crypto.Decrypted(0, False)  # nothing at all: no padding either


def test_a_password_error_is_a_triage_error_for_the_cli() -> None:
    assert issubclass(PasswordRequired, TriageError) and issubclass(WrongPassword, PasswordRequired)


# -- the other commands that read the evidence ------------------------------------------------------


def _exhibit(case: Case, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage.launch", *args, "--case", str(case.root)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_ls_cat_export_and_verify_rehash_take_the_password(
    encrypted: Path, case: Case, tmp_path: Path
) -> None:
    """``--option`` and ``--options-file`` on every command that reads an encrypted backup's files;
    the password reaches nothing stored or printed, and a plugin's option is refused there."""
    before = evidence_state(encrypted)
    acquire(case, encrypted, exhibit="EX-023", actor="asmith", description="encrypted backup")
    run_triage(
        case, "EX-023", actor="asmith", options=TriageOptions(option_values=[f"backup.password={PASSWORD}"])
    )
    secret = tmp_path / "password.toml"
    secret.write_text(f'[backup]\npassword = "{PASSWORD}"\n')
    option = f"backup.password={PASSWORD}"

    listed = _exhibit(case, "ls", "EX-023", "-r", "--json", "--option", option)
    assert listed.returncode == 0, listed.stderr
    assert SMS_PATH in {json.loads(line)["path"] for line in listed.stdout.splitlines()}

    plain = corpus_bytes("chats/imessage_chat.db")
    cat = subprocess.run(
        [sys.executable, "-m", "triage.launch", "cat", "EX-023", SMS_PATH, "--options-file", str(secret),
         "--case", str(case.root)],
        capture_output=True,
        timeout=180,
    )  # fmt: skip
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == plain  # decrypted, byte for byte

    out = tmp_path / "out"
    exported = _exhibit(
        case,
        "export",
        "EX-023",
        SMS_PATH,
        "--to",
        str(out),
        "--actor",
        "asmith",
        "--option",
        option,
        "--json",
    )
    assert exported.returncode == 0, exported.stderr
    [copy] = [p for p in out.rglob("*") if p.is_file()]
    assert copy.read_bytes() == plain

    verified = _exhibit(case, "custody", "verify", "EX-023", "--rehash", "--json", "--option", option)
    assert verified.returncode == 0, (verified.stdout, verified.stderr)
    assert json.loads(verified.stdout)["ok"] is True

    without = _exhibit(case, "custody", "verify", "EX-023", "--rehash")
    assert without.returncode == 2, (without.stdout, without.stderr)
    assert "give its password with --option backup.password=..." in without.stderr
    assert "TRIAGE_DATA_MISMATCH" not in without.stdout + without.stderr  # not a problem of the rows

    plugin_option = _exhibit(case, "ls", "EX-023", "--option", "signal.key=00")
    assert plugin_option.returncode == 2 and "no plugin named 'signal'" in plugin_option.stderr

    for done in (listed, exported, verified, without):
        assert PASSWORD not in done.stdout + done.stderr
    case.engine.dispose()
    for stored in case.root.rglob("*"):
        if stored.is_file():
            assert PASSWORD.encode() not in stored.read_bytes(), stored
    assert evidence_state(encrypted) == before
