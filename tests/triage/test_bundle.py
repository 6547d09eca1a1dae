"""``exhibit bundle`` and ``exhibit verify-bundle`` (triage/bundle/) on a real small case.

The case is made through the real command line, in this process: two actors, a folder with the
corpus ``mmssms.db`` (plaso's test data, 9 SMS) and a photo acquired, sealed and handed over,
triaged (findings, a warning), one file exported; a second exhibit (one file, an exhibit number
with a ``/``) acquired and never triaged. Then:

* the bundle verifies, and every one of its files, edited by one byte at its start, middle and
  end, is caught with that file (and only it) named FAILED and exit status 1;
* the README's instructions run as written: ``sha256sum -c``/``md5sum -c`` against the evidence and
  the exported copy, and each of its Python scripts (standard library plus ``cryptography``) on
  the unzipped bundle, including one that recomputes the digest roots; a changed row or piece of
  evidence makes them fail;
* two bundles of the same state are byte-identical, on SQLite and on PostgreSQL;
* hostile zips (path traversal, absolute names, a zip bomb, a huge member, not a zip) are refused
  with exit status 2 and nothing written; a bundle is never made from triage rows that no longer
  match their signed digest, and never over an existing file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS, need, need_tool
from tests.plugins.triage_e2e import Ran, exhibit
from triage.bundle import layout, zipio

ODD = "odd\\name\nwith newline.txt"  # sha256sum escapes such a name: the lists must too


def _ok(ran: Ran) -> Ran:
    assert ran.code == 0, ran.out + ran.err
    return ran


def _make_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: str | None = None) -> dict[str, Path]:
    sms = need(CORPUS / "chats" / "mmssms.db", "(the shared corpus sits beside the repository)")
    phone = tmp_path / "evidence" / "phone"
    (phone / "data/data/com.android.providers.telephony/databases").mkdir(parents=True)
    shutil.copy(sms, phone / "data/data/com.android.providers.telephony/databases/mmssms.db")
    (phone / "DCIM").mkdir()
    shutil.copy(CORPUS / "images" / "Canon_40D.jpg", phone / "DCIM" / "Canon_40D.jpg")
    (phone / ODD).write_bytes(b"odd\n")
    note = tmp_path / "evidence" / "note.txt"
    note.write_bytes(b"hello\n")
    monkeypatch.chdir(tmp_path)
    case = tmp_path / "case"
    init = ["init", str(case), "--case-number", "2026/017", "--title", "Op. Harbour"]
    _ok(exhibit(*init, *(["--db", db] if db else [])))
    monkeypatch.setenv("EXHIBIT_CASE", str(case))
    _ok(exhibit("actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer"))
    _ok(exhibit("actor", "add", "asmith", "--name", "Alan Smith", "--role", "examiner"))
    _ok(exhibit("acquire", str(phone), "--exhibit", "EX-001", "--description", "phone", "--actor", "jdoe"))
    _ok(exhibit("acquire", str(note), "--exhibit", "EX/002", "--description", "a note", "--actor", "jdoe"))
    _ok(exhibit("custody", "seal", "EX-001", "--seal", "S-1", "--actor", "jdoe"))
    _ok(exhibit("custody", "transfer", "EX-001", "--to", "asmith", "--reason", "analysis", "--actor", "jdoe"))
    _ok(exhibit("custody", "unseal", "EX-001", "--seal", "S-1", "--actor", "asmith"))
    plugins = "sms_android,mms_android,photos_exif"
    _ok(exhibit("triage", "EX-001", "--actor", "asmith", "--plugins", plugins, "--workers", "1"))
    _ok(
        exhibit(
            "export",
            "EX-001",
            "/data/data/com.android.providers.telephony/databases/mmssms.db",
            "--to",
            str(tmp_path / "exports"),
            "--actor",
            "asmith",
        )
    )
    report = tmp_path / "report.txt"
    report.write_text("Report of case 2026/017\n", encoding="utf-8")
    exported = tmp_path / "exports/data/data/com.android.providers.telephony/databases/mmssms.db"
    return {"case": case, "phone": phone, "note": note, "report": report, "exported": exported}


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    paths = _make_case(tmp_path, monkeypatch)
    paths["bundle"] = tmp_path / "bundle.zip"
    _ok(
        exhibit(
            "bundle",
            "--out",
            str(paths["bundle"]),
            "--report",
            str(paths["report"]),
            "--report",
            str(paths["exported"]),
        )
    )
    return paths


def _verify(path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    ran = exhibit("verify-bundle", str(path), "--json")
    assert "Traceback" not in ran.out + ran.err
    return ran.code, json.loads(ran.out) if ran.out else {}


def test_the_bundle_verifies_and_holds_every_part(made: dict[str, Path]) -> None:
    ran = exhibit("verify-bundle", str(made["bundle"]))
    assert ran.code == 0, ran.out + ran.err
    lines = ran.out.splitlines()
    assert lines[-1].startswith("bundle OK:") and all(line.startswith("OK ") for line in lines[:-1])
    with zipfile.ZipFile(made["bundle"]) as z:
        names = z.namelist()
    assert names == sorted(names)
    folder = "exhibits/EX-001"
    assert set(names) == {
        "MANIFEST",
        "README.txt",
        "bundle.json",
        "ledger/ledger.json",
        "ledger/checkpoint.json",
        "ledger/consistency.json",
        f"{folder}/proofs.json",
        f"{folder}/evidence.sha256",
        f"{folder}/evidence.md5",
        f"{folder}/exports.sha256",
        f"{folder}/digest.json",
        f"{folder}/triage_files.jsonl",
        f"{folder}/triage_findings.jsonl",
        f"{folder}/triage_warnings.jsonl",
        "exhibits/EX%2F002/proofs.json",
        "exhibits/EX%2F002/evidence.sha256",
        "exhibits/EX%2F002/evidence.md5",
        "reports/report.txt",
        "reports/mmssms.db",
    }
    code, report = _verify(made["bundle"])
    parts = {p["part"]: p for p in report["parts"]}
    assert code == 0 and report["ok"] and len(parts) == len(names)
    # the exported database given as a report is recorded by the export entry; the text is not
    assert "recorded in ledger entries" in parts["reports/mmssms.db"]["detail"]
    assert "not recorded in the ledger" in parts["reports/report.txt"]["detail"]
    # 9 SMS of the corpus database are findings the signed digest covers
    with zipfile.ZipFile(made["bundle"]) as z:
        rows = [json.loads(x) for x in z.read(f"{folder}/triage_findings.jsonl").splitlines()]
        ledger = json.loads(z.read("ledger/ledger.json"))
        consistency = json.loads(z.read("ledger/consistency.json"))
    assert sum(1 for r in rows if r["record_type"] == "chat/android/sms") == 9
    assert len(consistency["proofs"]) == len(ledger["checkpoints"]) - 1
    # the evidence itself is not in the bundle
    assert not any(n.endswith(("Canon_40D.jpg", "note.txt")) for n in names)


def _edited(data: bytes, position: int) -> bytes:
    """One byte changed, plausibly: a hex digit becomes another hex digit, anything else is flipped."""
    hexdigits = b"0123456789abcdef"
    if not data:  # an empty part (no warnings): a byte added is its edit
        return b"\n"
    old = data[position]
    new = hexdigits[(hexdigits.index(old) + 1) % 16] if old in hexdigits else old ^ 0x01
    return data[:position] + bytes([new]) + data[position + 1 :]


@pytest.mark.slow  # about 60 verifications of the bundle: 10-20 s
def test_every_edited_part_is_caught_and_named(made: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(made["bundle"]) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    tried = 0
    for name, data in members.items():
        for position in sorted({0, len(data) // 2, max(len(data) - 2, 0)}):
            altered = tmp_path / "altered.zip"
            altered.unlink(missing_ok=True)
            with zipfile.ZipFile(altered, "w", zipfile.ZIP_DEFLATED) as z:
                for other, content in members.items():
                    z.writestr(other, _edited(content, position) if other == name else content)
            code, report = _verify(altered)
            assert code == 1, (name, position)
            assert report["failed"] == [name], (name, position, report["failed"])
            tried += 1
    assert tried >= 3 * len(members) - 2
    # the plain output names the part on a FAILED line
    ran = exhibit("verify-bundle", str(altered))
    assert ran.code == 1 and re.search(rf"^FAILED +{re.escape(name)}: ", ran.out, re.MULTILINE)
    assert ran.out.splitlines()[-1].startswith("bundle FAILED: 1 of")


def test_two_bundles_of_the_same_state_are_identical(made: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    _ok(
        exhibit(
            "bundle", "--out", str(again), "--report", str(made["report"]), "--report", str(made["exported"])
        )
    )
    assert again.read_bytes() == made["bundle"].read_bytes()
    with zipfile.ZipFile(again) as z:
        stamp = {i.date_time for i in z.infolist()}
        checkpoint = json.loads(z.read("ledger/checkpoint.json"))["checkpoint"]
    utc = checkpoint["time"]["utc"]
    when = [int(x) for x in re.findall(r"\d+", utc)[:6]]
    assert stamp == {(*when[:5], when[5] - when[5] % 2)}  # the checkpoint's time (zip: even seconds)
    _ok(exhibit("custody", "examine", "EX-001", "--actor", "asmith"))
    later = tmp_path / "later.zip"
    _ok(exhibit("bundle", "--out", str(later)))
    assert later.read_bytes() != again.read_bytes()
    assert _verify(later)[0] == 0


def _readme_scripts(readme: str) -> dict[str, str]:
    found = dict(
        re.findall(r"^---- save as (\S+) ----\n(.*?)^---- end of \1 ----$", readme, re.MULTILINE | re.DOTALL)
    )
    assert set(found) >= {
        "merkle.py",
        "check_ledger.py",
        "check_inclusion.py",
        "check_consistency.py",
        "digest_root.py",
    }
    return found


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_readme_instructions_run(made: dict[str, Path], tmp_path: Path) -> None:
    for tool in ("sha256sum", "md5sum"):
        need_tool(tool)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(made["bundle"]) as z:
        z.extractall(folder)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert (
        "$ sha256sum -c MANIFEST" in readme
        and "$ python3 digest_root.py exhibits/EX ledger/ledger.json" in readme
    )
    for name, text in _readme_scripts(readme).items():
        (folder / name).write_text(text, encoding="utf-8")

    for command in (
        ["sha256sum", "-c", "MANIFEST"],
        ["sha256sum", "-c", "exhibits/EX-001/evidence.sha256"],
        ["md5sum", "-c", "exhibits/EX-001/evidence.md5"],
        ["sha256sum", "-c", "exhibits/EX%2F002/evidence.sha256"],
        ["sha256sum", "-c", "exhibits/EX-001/exports.sha256"],
    ):
        done = _run(command, folder)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "FAILED" not in done.stdout
    listed = _run(["sha256sum", "-c", "exhibits/EX-001/evidence.sha256"], folder).stdout
    assert listed.count(": OK") == 3 and "with newline.txt: OK" in listed  # the odd name too

    python = sys.executable  # the standard library plus cryptography (python3-cryptography)
    ledger = _run([python, "check_ledger.py", "ledger/ledger.json", "ledger/checkpoint.json"], folder)
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert "= checkpoint" in ledger.stdout and "checkpoint signed by asmith: OK" in ledger.stdout
    proofs = _run(
        [python, "check_inclusion.py", "exhibits/EX-001/proofs.json", "ledger/checkpoint.json"], folder
    )
    assert proofs.returncode == 0 and "NOT PROVEN" not in proofs.stdout, proofs.stdout + proofs.stderr
    assert proofs.stdout.count("included") >= 7
    consistent = _run(
        [python, "check_consistency.py", "ledger/consistency.json", "ledger/checkpoint.json"], folder
    )
    assert consistent.returncode == 0 and "extended" in consistent.stdout, (
        consistent.stdout + consistent.stderr
    )
    digest = _run([python, "digest_root.py", "exhibits/EX-001", "ledger/ledger.json"], folder)
    assert digest.returncode == 0, digest.stdout + digest.stderr
    assert digest.stdout.count("= signed") == 3
    signed = json.loads((folder / "exhibits/EX-001/digest.json").read_text(encoding="utf-8"))["digest"][
        "tables"
    ]
    assert signed["triage_findings"]["root"] in digest.stdout
    shown = _run([python, "show_recorded.py", "ledger/ledger.json", "EX-001"], folder)
    assert shown.returncode == 0 and "exported" in shown.stdout

    # the same scripts fail on a changed row, and sha256sum -c on changed evidence
    rows = folder / "exhibits/EX-001/triage_findings.jsonl"
    rows.write_bytes(rows.read_bytes().replace(b"chat/android/sms", b"chat/android/smz", 1))
    digest = _run([python, "digest_root.py", "exhibits/EX-001", "ledger/ledger.json"], folder)
    assert digest.returncode == 1 and "DIFFERS" in digest.stdout
    made["note"].write_bytes(b"hellO\n")
    assert _run(["sha256sum", "-c", "exhibits/EX%2F002/evidence.sha256"], folder).returncode == 1
    assert _run(["sha256sum", "-c", "MANIFEST"], folder).returncode == 1


def test_a_bundle_is_never_made_from_changed_triage_rows(made: dict[str, Path], tmp_path: Path) -> None:
    with sqlite3.connect(made["case"] / "case.sqlite") as db:
        db.execute("UPDATE triage_findings SET data = replace(data, 'a', 'b') WHERE rowid = 1")
    out = tmp_path / "changed.zip"
    ran = exhibit("bundle", "--out", str(out))
    assert ran.code == 2 and "no longer matches the digest signed in ledger entry" in ran.err
    assert "triage_findings" in ran.err and "Traceback" not in ran.err
    assert not out.exists() and not list(tmp_path.glob(".changed.zip.*"))


def test_bad_requests_are_refused(made: dict[str, Path], tmp_path: Path) -> None:
    before = made["bundle"].read_bytes()
    ran = exhibit("bundle", "--out", str(made["bundle"]))
    assert ran.code == 2 and "already exists" in ran.err
    assert made["bundle"].read_bytes() == before
    ran = exhibit("bundle", "--out", str(tmp_path / "x.zip"), "--exhibit", "EX-404")
    assert ran.code == 2 and "EX-404" in ran.err and not (tmp_path / "x.zip").exists()
    ran = exhibit("bundle", "--out", str(tmp_path / "y.zip"), "--report", str(tmp_path / "missing.pdf"))
    assert ran.code == 2 and "missing.pdf" in ran.err and not (tmp_path / "y.zip").exists()
    one = tmp_path / "one.zip"
    _ok(exhibit("bundle", "--out", str(one), "--exhibit", "EX/002", "--json"))
    code, report = _verify(one)
    assert code == 0 and not any(p["part"].startswith("exhibits/EX-001") for p in report["parts"])


def _hostile(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../evil.txt": b"x"}, "path traversal"),
        ({"/etc/evil": b"x"}, "path traversal"),
        ({"ledger/../../evil": b"x"}, "path traversal"),
        ({"a\\b": b"x"}, "path traversal"),
        ({"ledger/": b"x"}, "path traversal"),  # a folder entry with content
    ],
)
def test_hostile_names_are_refused(tmp_path: Path, members: dict[str, bytes], message: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = _hostile(work / "hostile.zip", members)
    before = sorted(p.name for p in work.rglob("*"))
    ran = exhibit("verify-bundle", str(path))
    assert ran.code == 2 and "refused" in ran.err and message in ran.err and "Traceback" not in ran.err
    assert "nothing was extracted or written" in ran.err
    assert sorted(p.name for p in work.rglob("*")) == before
    assert not (tmp_path / "evil.txt").exists()


def test_bombs_and_huge_members_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipio, "RATIO_FLOOR", 1024 * 1024)
    bomb = _hostile(tmp_path / "bomb.zip", {"ledger/ledger.json": bytes(32 * 1024 * 1024)})
    ran = exhibit("verify-bundle", str(bomb))
    assert ran.code == 2 and "zip bomb" in ran.err
    monkeypatch.setattr(zipio, "MAX_MEMBER_SIZE", 1000)
    huge = _hostile(tmp_path / "huge.zip", {"README.txt": os.urandom(2000)}, zipfile.ZIP_STORED)
    ran = exhibit("verify-bundle", str(huge))
    assert ran.code == 2 and "bytes uncompressed" in ran.err
    text = tmp_path / "not.zip"
    text.write_text("not a zip\n")
    ran = exhibit("verify-bundle", str(text))
    assert ran.code == 2 and "not a zip file" in ran.err
    ran = exhibit("verify-bundle", str(tmp_path))
    assert ran.code == 2 and "not a regular file" in ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip", "huge.zip", "not.zip"]


def test_a_member_larger_than_it_says_is_refused(tmp_path: Path) -> None:
    """A zip whose directory declares a small size for a member that inflates to more."""
    path = _hostile(tmp_path / "liar.zip", {"README.txt": b"a" * 5000})
    raw = bytearray(path.read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    local = raw.find(b"PK\x03\x04")
    for offset in (central + 24, local + 22):  # uncompressed size, central directory and local header
        raw[offset : offset + 4] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    ran = exhibit("verify-bundle", str(path))
    # never more than the declared 100 bytes are inflated; their CRC then differs from the stored one
    assert ran.code == 1 and "Traceback" not in ran.err
    assert "FAILED  README.txt: its data is damaged in the zip (Bad CRC-32" in ran.out
    assert "FAILED  ledger/ledger.json: missing from the bundle" in ran.out


def test_postgresql_bundles_verify_and_are_reproducible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> None:
    _make_case(tmp_path, monkeypatch, db=pg_database)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    _ok(exhibit("bundle", "--out", str(first)))
    _ok(exhibit("bundle", "--out", str(second)))
    assert first.read_bytes() == second.read_bytes()
    code, report = _verify(first)
    assert code == 0, [p for p in report["parts"] if not p["ok"]]


def test_a_hash_set_match_anchors_the_digest(made: dict[str, Path], tmp_path: Path) -> None:
    """After 'exhibit hashset match' the exhibit's rows are anchored by the hashset.match entry:
    the bundle carries that entry's digest and the hit among the rows, and verifies."""
    import hashlib

    known = tmp_path / "known-bad.txt"
    known.write_text(hashlib.sha256((CORPUS / "images" / "Canon_40D.jpg").read_bytes()).hexdigest() + "\n")
    _ok(
        exhibit(
            "hashset", "import", str(known), "--name", "case-17", "--kind", "known-bad", "--actor", "asmith"
        )
    )
    _ok(exhibit("hashset", "match", "EX-001", "--actor", "asmith"))
    out = tmp_path / "matched.zip"
    _ok(exhibit("bundle", "--out", str(out), "--exhibit", "EX-001"))
    with zipfile.ZipFile(out) as z:
        digest = json.loads(z.read("exhibits/EX-001/digest.json"))
        findings = [json.loads(x) for x in z.read("exhibits/EX-001/triage_findings.jsonl").splitlines()]
    assert digest["kind"] == "hashset.match"
    assert any(f["record_type"] == "hash/hit" and f["run_id"] == digest["run"] for f in findings)
    code, report = _verify(out)
    assert code == 0, [p for p in report["parts"] if not p["ok"]]


def test_a_bundle_after_a_key_rotation_and_with_time_stamps_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 meets the bundle: the latest checkpoint is signed by a rotated key (the ledger's
    key for its signer now), and the RFC 3161 tokens travel in the ledger export and are checked."""
    from tests.custody.local_tsa import running_tsa

    _make_case(tmp_path, monkeypatch)
    with running_tsa(tmp_path / "tsa") as tsa:
        _ok(exhibit("custody", "timestamp", "--tsa", tsa.url, "--tsa-ca", str(tsa.ca)))
        _ok(exhibit("actor", "rotate-key", "asmith"))
        _ok(exhibit("custody", "examine", "EX-001", "--reason", "after the rotation", "--actor", "asmith"))
        _ok(exhibit("custody", "timestamp", "--tsa", tsa.url, "--tsa-ca", str(tsa.ca)))
    bundle = tmp_path / "rotated.zip"
    _ok(exhibit("bundle", "--out", str(bundle)))
    code, result = _verify(bundle)
    assert code == 0, result
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(folder)
    export = json.loads((folder / "ledger/ledger.json").read_text(encoding="utf-8"))
    assert len(export["timestamps"]) == 2
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    for name, text in _readme_scripts(readme).items():
        (folder / name).write_text(text, encoding="utf-8")
    # the README's own ledger script follows the rotation (entries after it signed by the new key)
    done = _run([sys.executable, "check_ledger.py", "ledger/ledger.json", "ledger/checkpoint.json"], folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checkpoint signed by asmith: OK" in done.stdout
    # and its openssl recipe verifies a token
    import base64

    token = export["timestamps"][-1]
    body = next(
        c["canonical"]
        for c in export["checkpoints"]
        if json.loads(c["canonical"])["tree_size"] == token["tree_size"]
    )
    (folder / "cp.txt").write_text(body, encoding="utf-8")
    (folder / "t.tsr").write_bytes(base64.b64decode(token["token_der_base64"]))
    (folder / "ca.pem").write_text(token["ca_pem"], encoding="utf-8")
    done = _run(["openssl", "ts", "-verify", "-data", "cp.txt", "-in", "t.tsr", "-CAfile", "ca.pem"], folder)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr


def _resealed(members: dict[str, bytes], changes: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle's members with ``changes`` made and MANIFEST and bundle.json made to match, as
    whoever can write the zip can (the defence review's tool): only the ledger's signatures and
    what a verifier brings from outside can tell."""
    out = {**members, **changes}
    index = json.loads(out["bundle.json"])
    listed = {r["name"]: r for r in index["reports"]}  # named as in the zip: reports/NAME
    for name in sorted(n for n in changes if n.startswith("reports/")):
        report = listed.get(name) or {"name": name}
        report.update(sha256=hashlib.sha256(out[name]).hexdigest(), size=len(out[name]), ledger_entries=[])
        if name not in listed:
            index["reports"] = sorted([*index["reports"], report], key=lambda r: str(r["name"]))
    parts = {n: hashlib.sha256(d).hexdigest() for n, d in out.items() if n not in ("MANIFEST", "bundle.json")}
    index["parts"] = dict(sorted(parts.items()))
    out["bundle.json"] = layout.dumps(index)
    parts["bundle.json"] = hashlib.sha256(out["bundle.json"]).hexdigest()
    out["MANIFEST"] = b"".join(layout.checksum_line(parts[n], n.encode()) for n in sorted(parts))
    return out


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(members):
            z.writestr(name, members[name])
    return path


@pytest.mark.slow  # a PDF report is written: 5-10 s
def test_a_cut_ledger_and_a_replaced_report_are_caught(made: dict[str, Path], tmp_path: Path) -> None:
    """Found in review (a defence expert's attacks): (1) the README's hand procedure accepted a
    consistency.json whose latest checkpoint was not the bundle's, and a ledger cut short with
    it; (2) verify-bundle could not be given the checkpoint kept outside; (3) a court report
    replaced in the zip, MANIFEST and bundle.json made to match, was 'OK'."""
    kept = tmp_path / "kept.json"
    _ok(exhibit("custody", "checkpoint", "--out", str(kept)))
    pdf = tmp_path / "r.pdf"
    _ok(exhibit("report", "--format", "pdf", "--out", str(pdf), "--actor", "asmith"))
    bundle = tmp_path / "b.zip"
    _ok(exhibit("bundle", "--out", str(bundle), "--report", str(pdf)))
    _ok(exhibit("custody", "examine", "EX-001", "--reason", "after the bundle", "--actor", "asmith"))
    later = tmp_path / "later.json"
    _ok(exhibit("custody", "checkpoint", "--out", str(later)))

    # verify-bundle --against: the checkpoint kept before the bundle is held; one made after it is not
    held = exhibit("verify-bundle", str(bundle), "--against", str(kept))
    assert held.code == 0 and "OK      --against kept.json: your checkpoint of" in held.out, held.out
    cut = exhibit("verify-bundle", str(bundle), "--against", str(later))
    assert cut.code == 1 and "FAILED  --against later.json" in cut.out and "it was cut short" in cut.out, (
        cut.out
    )

    with zipfile.ZipFile(bundle) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    folder = tmp_path / "unzipped"
    folder.mkdir()
    for name, data in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    scripts = _readme_scripts(members["README.txt"].decode())
    for name, text in scripts.items():
        (folder / name).write_text(text, encoding="utf-8")
    python = sys.executable
    ledger, checkpoint = "ledger/ledger.json", "ledger/checkpoint.json"
    assert _run([python, "check_ledger.py", ledger, checkpoint, str(kept)], folder).returncode == 0
    by_hand = _run([python, "check_ledger.py", ledger, checkpoint, str(later)], folder)
    assert by_hand.returncode == 1 and "DIFFERS from your kept checkpoint" in by_hand.stdout, by_hand.stdout
    assert (
        _run([python, "check_consistency.py", "ledger/consistency.json", checkpoint], folder).returncode == 0
    )
    # consistency.json made to end at another checkpoint (the attack: one that vouches for nothing)
    doc = json.loads(members["ledger/consistency.json"])
    doc["checkpoint_canonical"] = doc["proofs"][0]["checkpoint_canonical"]
    doc["proofs"] = []
    (folder / "ledger/consistency.json").write_bytes(layout.dumps(doc))
    swapped = _run([python, "check_consistency.py", "ledger/consistency.json", checkpoint], folder)
    assert swapped.returncode == 1 and "ANOTHER checkpoint" in swapped.stdout, swapped.stdout

    # the report replaced, MANIFEST and bundle.json made to match: the signed entry names its hash
    forged = _zip(tmp_path / "forged.zip", _resealed(members, {"reports/r.pdf": b"%PDF-1.7 another report"}))
    code, report = _verify(forged)
    assert code == 1 and report["failed"] == ["reports/r.pdf"], report["failed"]
    [part] = [p for p in report["parts"] if p["part"] == "reports/r.pdf"]
    assert "records a report named r.pdf with SHA-256" in part["detail"]
    # a report no entry records (added to the zip): verified, but not 'bundle OK' and nothing more
    added = _zip(tmp_path / "added.zip", _resealed(members, {"reports/addendum.txt": b"suspect confessed\n"}))
    ran = exhibit("verify-bundle", str(added))
    assert ran.code == 0 and "only this bundle vouches for: reports/addendum.txt" in ran.out.splitlines()[-1]
    assert json.loads(exhibit("verify-bundle", str(added), "--json").out)["alone"] == ["reports/addendum.txt"]


def test_bundles_name_the_report_entry_as_reports_do() -> None:
    from triage.report.model import REPORT_KIND

    assert layout.REPORT_KIND == REPORT_KIND
