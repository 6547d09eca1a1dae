"""Issue 8: archives found inside the evidence are opened and walked as child sources.

Every archive here is a real zip or tar made in the test with the standard ``zipfile``/``tarfile``
modules; the SMS database is the corpus's real ``mmssms.db`` (9 messages, the oracle the engine
tests use too). They are placed in a folder exhibit and inside a real ext4 image (mke2fs -d).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import CORPUS, need
from tests.custody.clihelp import cli
from tests.triage.test_engine import build_ext4
from triage.engine import integrity
from triage.engine.run import RunSummary, TriageOptions, run_triage
from triage.sources.nested import NestLimits, damaged_stream, hostile_name, sniff_archive
from triage.store.models import File, RunWarning
from triage.views.findings import iter_findings

SMS = "data/data/com.android.providers.telephony/databases/mmssms.db"


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as t:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def triaged(tmp: Path, evidence: Path, options: TriageOptions | None = None) -> tuple[Case, RunSummary]:
    case = init_case(tmp / "case", case_number="2026/8", title="nested")
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    acquire(case, evidence, exhibit="EX-001", actor="asmith", description="seized laptop")
    summary = run_triage(case, "EX-001", actor="asmith", options=options or TriageOptions(workers=1))
    assert summary.status == "complete"
    return case, summary


def messages(summary: RunSummary) -> list[str]:
    return [w["message"] for w in summary.warnings]


@pytest.fixture
def sms_db() -> bytes:
    return (need(CORPUS) / "chats/mmssms.db").read_bytes()


@pytest.fixture
def laptop(tmp_path: Path, sms_db: bytes) -> dict[str, bytes]:
    """A folder exhibit: a gzip tar (a backup) holding a zip (a phone extraction) holding the SMS
    database; a loose text file beside it."""
    phone = zip_bytes({SMS: sms_db, "sdcard/notes.txt": b"meet at the harbour\n"})
    backup = tar_bytes({"phone.zip": phone, "README": b"backup of the phone\n"})
    ev = tmp_path / "ev"
    (ev / "Users/a").mkdir(parents=True)
    (ev / "Users/a/backup.tgz").write_bytes(backup)
    (ev / "Users/a/todo.txt").write_bytes(b"call Fred\n")
    return {"phone": phone, "backup": backup}


@pytest.fixture
def case(tmp_path: Path, laptop: dict[str, bytes]) -> Iterator[tuple[Case, RunSummary]]:
    c, summary = triaged(tmp_path, tmp_path / "ev", TriageOptions(workers=2))
    try:
        yield c, summary
    finally:
        c.close()


MEMBER = f"/Users/a/backup.tgz!/phone.zip!/{SMS}"


def test_sms_in_a_zip_in_a_tar_gives_messages_with_their_chain(
    case: tuple[Case, RunSummary], laptop: dict[str, bytes], sms_db: bytes
) -> None:
    c, summary = case
    found = list(iter_findings(c.engine, "EX-001", "chat/android/sms"))
    assert len(found) == 9
    for f in found:
        assert f.path == MEMBER and f.file_sha256 == sha(sms_db)
        source = f.data["source"]
        assert source["path"] == MEMBER and source["sha256"] == sha(sms_db)
        zip_ref = source["parent"]
        assert zip_ref["path"] == "/Users/a/backup.tgz!/phone.zip" and zip_ref["sha256"] == sha(
            laptop["phone"]
        )
        tar_ref = zip_ref["parent"]
        assert tar_ref["path"] == "/Users/a/backup.tgz" and tar_ref["sha256"] == sha(laptop["backup"])
        assert "parent" not in tar_ref
        assert f.as_dict()["source"]["parent"] == zip_ref
    # the rows: each member names its archive's row, whose hash is the archive's
    with c.engine.connect() as conn:
        rows = {r.path: r for r in conn.execute(select(File).where(File.c.exhibit == "EX-001"))}
    db_row = rows[MEMBER]
    assert db_row.fs_type == "zip" and db_row.sha256 == sha(sms_db)
    assert rows["/Users/a/backup.tgz!/phone.zip"].key == db_row.parent
    assert rows["/Users/a/backup.tgz!/phone.zip"].sha256 == sha(laptop["phone"])
    assert rows["/Users/a/backup.tgz"].key == rows["/Users/a/backup.tgz!/phone.zip"].parent
    assert rows["/Users/a/backup.tgz"].parent is None and rows["/Users/a/todo.txt"].parent is None
    assert rows["/Users/a/backup.tgz!/phone.zip!/sdcard/notes.txt"].sha256 == sha(b"meet at the harbour\n")
    # the scratch spools are gone
    assert not any(p.is_file() for p in c.scratch_dir.rglob("*"))
    assert summary.counts["warnings"] == 0, summary.warnings


def test_the_derived_item_records_the_archives_it_came_from(
    case: tuple[Case, RunSummary], laptop: dict[str, bytes], sms_db: bytes
) -> None:
    c, _ = case
    [derived] = [e.data for e in c.ledger.entries(exhibit="EX-001") if e.kind == "item.derive"]
    assert derived["path"] == MEMBER and derived["hashes"]["sha256"] == sha(sms_db)
    assert [(a["path"], a["sha256"]) for a in derived["within"]] == [
        ("/Users/a/backup.tgz!/phone.zip", sha(laptop["phone"])),
        ("/Users/a/backup.tgz", sha(laptop["backup"])),
    ]


def test_custody_verify_passes_with_rehash(case: tuple[Case, RunSummary]) -> None:
    c, _ = case
    report = verify_case(c, rehash=True)
    assert report.ok, report.problems


def test_views_show_the_chain(
    case: tuple[Case, RunSummary], laptop: dict[str, bytes], sms_db: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    c, _ = case
    root = str(c.root)
    chats = cli(capsys, "chats", "EX-001", "--case", root)
    assert chats.code == 0, chats.err
    lines = chats.out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("   source: EX-001 "))
    assert lines[at].startswith(f"   source: EX-001 {MEMBER} sha256 {sha(sms_db)} (sms_android@")
    assert lines[at + 1] == f"   within: EX-001 /Users/a/backup.tgz!/phone.zip sha256 {sha(laptop['phone'])}"
    assert lines[at + 2] == f"   within: EX-001 /Users/a/backup.tgz sha256 {sha(laptop['backup'])}"
    as_json = cli(capsys, "chats", "EX-001", "--json", "--case", root)
    first = (
        json.loads(as_json.out)[0]
        if as_json.out.lstrip().startswith("[")
        else json.loads(as_json.out.splitlines()[0])
    )
    assert first["source"]["parent"]["path"] == "/Users/a/backup.tgz!/phone.zip"
    findings = cli(capsys, "findings", "EX-001", "--json", "--case", root)
    assert {f["source"]["path"] for f in json.loads(findings.out)} >= {MEMBER}
    # ls lists the members of an archive; cat reads one; both open the archives from the evidence
    listed = cli(capsys, "ls", "EX-001", "/Users/a/backup.tgz!", "--case", root)
    assert listed.code == 0, listed.err
    assert sorted(line.split("\t")[1] for line in listed.out.splitlines()) == [
        "Users/a/backup.tgz!/README",
        "Users/a/backup.tgz!/phone.zip",
    ]
    deep = cli(capsys, "ls", "EX-001", "/Users/a/backup.tgz!/phone.zip!", "-r", "--json", "--case", root)
    by_path = {json.loads(line)["path"]: json.loads(line) for line in deep.out.splitlines()}
    assert by_path[MEMBER]["sha256"] == sha(sms_db)
    got = cli(capsys, "cat", "EX-001", "/Users/a/backup.tgz!/phone.zip!/sdcard/notes.txt", "--case", root)
    assert got.code == 0 and got.out == "meet at the harbour\n"


def test_export_of_a_member(case: tuple[Case, RunSummary], tmp_path: Path, sms_db: bytes) -> None:
    from triage.views.export import export_files

    c, _ = case
    [done] = export_files(c, "EX-001", [MEMBER], tmp_path / "out", actor="asmith")
    assert done["sha256"] == sha(sms_db) and done["matches_triage"] is True
    assert (tmp_path / "out" / done["exported_as"]).read_bytes() == sms_db


def test_a_file_and_a_folder_of_one_name_cannot_share_an_export(tmp_path: Path) -> None:
    """A tar holding a file ``link`` and a file ``link/escaped.txt`` (found in review: the second
    export into the same folder said to free space on the target)."""
    from triage.errors import TriageError
    from triage.views.export import export_files

    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "two.tar").write_bytes(tar_bytes({"link": b"a file", "link/escaped.txt": b"in a folder"}, "w"))
    c, _ = triaged(tmp_path, ev)
    try:
        export_files(c, "EX-001", ["/two.tar!/link"], tmp_path / "out", actor="asmith")
        with pytest.raises(TriageError, match="a file of that name is already there") as refused:
            export_files(c, "EX-001", ["/two.tar!/link/escaped.txt"], tmp_path / "out", actor="asmith")
        assert "free space" not in str(refused.value.hint) and "separate --to" in str(refused.value.hint)
        [done] = export_files(c, "EX-001", ["/two.tar!/link/escaped.txt"], tmp_path / "out2", actor="asmith")
        assert (tmp_path / "out2" / done["exported_as"]).read_bytes() == b"in a folder"
    finally:
        c.close()


def test_in_a_real_disk_image(tmp_path: Path, sms_db: bytes) -> None:
    """The same database in a zip on an ext4 file system (mke2fs -d): the chain starts at the
    partition, and custody verify --rehash re-reads the member through the image."""
    export = zip_bytes({"msgstore/mmssms.db": sms_db})
    image = build_ext4(tmp_path, {"home/a/Downloads/chat-export.zip": export})
    c, _ = triaged(tmp_path, image)
    try:
        found = list(iter_findings(c.engine, "EX-001", "chat/android/sms"))
        assert len(found) == 9
        member = "/home/a/Downloads/chat-export.zip!/msgstore/mmssms.db"
        for f in found:
            assert f.path == member and f.partition is not None
            parent = f.data["source"]["parent"]
            assert parent["path"] == "/home/a/Downloads/chat-export.zip" and parent["sha256"] == sha(export)
            assert parent["partition"] == f.partition and parent["inode"] is not None
        report = verify_case(c, rehash=True)
        assert report.ok, report.problems
    finally:
        c.close()


def test_bombs_and_limits_are_warnings_naming_the_archive(tmp_path: Path) -> None:
    zeros = bytes(8 << 20)
    ev = tmp_path / "ev"
    ev.mkdir()
    # bzip2 makes 8 MiB of zeros a few dozen bytes: far beyond any honest expansion ratio
    (ev / "ratio.zip").write_bytes(zip_bytes({"zeros.bin": zeros}, zipfile.ZIP_BZIP2))
    # deflate stays under the ratio, but the archive declares more than the run's limit
    (ev / "big.zip").write_bytes(zip_bytes({"zeros.bin": zeros}))
    # a gzip tar expanding beyond the limit is stopped while it is decompressed
    (ev / "big.tgz").write_bytes(tar_bytes({"zeros.bin": zeros}))
    (ev / "many.zip").write_bytes(zip_bytes({f"m{i}.txt": b"x" for i in range(12)}))
    deepest = zip_bytes({"core.txt": b"innermost"})
    for level in range(3):
        deepest = zip_bytes({f"level{level}.zip": deepest})
    (ev / "deep.zip").write_bytes(deepest)
    limits = NestLimits(depth=2, members=10, expanded=4 << 20)
    c, summary = triaged(tmp_path, ev, TriageOptions(workers=1, nested=limits))
    try:
        said = messages(summary)

        def about(path: str, words: str) -> bool:
            return any(f": {path}: " in m and words in m for m in said)

        assert about("/ratio.zip", "times its size (a zip bomb?)"), said
        assert about("/big.zip", "over the limit of 4194304"), said
        assert about("/big.tgz", "expands to more than 4194304 bytes"), said
        assert about("/many.zip", "12 members, over the limit of 10: only the first 10 are walked"), said
        assert about("/deep.zip!/level2.zip!/level1.zip", "beyond the limit of 2"), said
        with c.engine.connect() as conn:
            rows = {r.path: r for r in conn.execute(select(File).where(File.c.exhibit == "EX-001"))}
        for name in ("ratio.zip", "big.zip", "big.tgz"):
            assert rows[f"/{name}"].sha256 == sha((ev / name).read_bytes())  # still hashed as files
            assert not [p for p in rows if p.startswith(f"/{name}!")]
        assert len([p for p in rows if p.startswith("/many.zip!")]) == 10
        assert "/deep.zip!/level2.zip!/level1.zip" in rows
        assert not [p for p in rows if p.startswith("/deep.zip!/level2.zip!/level1.zip!")]
        report = verify_case(c, rehash=True)  # with the run's limits, recorded in its arguments
        assert report.ok, report.problems
    finally:
        c.close()


def _patched_zip(members: dict[str, bytes], old: bytes, new: bytes) -> bytes:
    data = zip_bytes(members)
    assert len(old) == len(new) and data.count(old) == 2  # local header and central directory
    return data.replace(old, new)


def test_hostile_member_names_are_names_never_paths(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    long_name = "d/" + "x" * 2000
    (ev / "evil.zip").write_bytes(
        _patched_zip(
            {"../../escaped.txt": b"1", "/etc/absolute.txt": b"2", "aQb.txt": b"3", long_name: b"4"},
            b"aQb.txt",
            b"a\x00b.txt",
        )
    )
    (ev / "evil.tar").write_bytes(tar_bytes({"../../up.txt": b"5", "/abs/root.txt": b"6"}, "w"))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    c, summary = triaged(tmp_path, ev)
    try:
        said = [m for m in messages(summary) if "hostile name" in m]
        assert any("/evil.zip: member #0" in m and "'..' component" in m for m in said), said
        assert any("/evil.zip: member #1" in m and "absolute" in m for m in said), said
        assert any("/evil.zip: member #2" in m and "NUL byte" in m for m in said), said
        assert any("/evil.zip: member #3" in m and "2002 bytes long" in m for m in said), said
        assert any("/evil.tar: member #0" in m and "'..' component" in m for m in said), said
        assert any("/evil.tar: member #1" in m and "absolute" in m for m in said), said
        # the name as ls shows it: escaped once, "/" between its parts (found in review: "..\\x2f..")
        assert any("member #0 has a hostile name '../../escaped.txt' ('..' component)" in m for m in said), (
            said
        )
        assert any("has a hostile name 'a\\x00b.txt' (NUL byte)" in m for m in said), said
        with c.engine.connect() as conn:
            rows = {r.path: r for r in conn.execute(select(File).where(File.c.exhibit == "EX-001"))}
        assert rows["/evil.zip!/\\x2e\\x2e/\\x2e\\x2e/escaped.txt"].sha256 == sha(b"1")
        assert rows["/evil.zip!/etc/absolute.txt"].sha256 == sha(b"2")
        assert rows["/evil.tar!/\\x2e\\x2e/\\x2e\\x2e/up.txt"].sha256 == sha(b"5")
        assert any(p.startswith("/evil.zip!/d/xxx") for p in rows)
        # nothing was written beside the evidence or the case, and nothing outside them
        after = sorted(str(p) for p in tmp_path.rglob("*") if not str(p).startswith(str(tmp_path / "case")))
        assert after == before
        for name in ("escaped.txt", "up.txt"):
            assert not (tmp_path.parent / name).exists() and not (tmp_path.parent.parent / name).exists()
        assert not Path("/etc/absolute.txt").exists() and not Path("/abs/root.txt").exists()
        assert verify_case(c, rehash=True).ok
    finally:
        c.close()


def test_damaged_and_encrypted_archives_are_warnings_and_still_hashed(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    damaged = b"PK\x03\x04" + bytes(range(256)) * 2
    (ev / "damaged.zip").write_bytes(damaged)
    plain = zip_bytes({"secret.txt": b"attack at dawn"}, zipfile.ZIP_STORED)
    # set the 'encrypted' flag (bit 0) in the local header (offset 6) and the central record (offset 8)
    enc = bytearray(plain)
    enc[6] |= 1
    central = plain.rindex(b"PK\x01\x02")
    enc[central + 8] |= 1
    (ev / "locked.zip").write_bytes(bytes(enc))
    (ev / "notes.gz").write_bytes(gzip.compress(b"not a tar at all\n" * 40))
    (ev / "holiday.jpg").write_bytes(zip_bytes({"inside.txt": b"by content, not by name"}))
    # found in review: a gzip header over data that is not deflate was "not an archive", unsaid
    noise = hashlib.sha256(b"seed").digest() * 16
    (ev / "broken.tar.gz").write_bytes(gzip.compress(b"x" * 100)[:10] + noise)
    (ev / "broken.tar.xz").write_bytes(b"\xfd7zXZ\x00" + noise)
    (ev / "random.bin").write_bytes(b"\x1f\x8b\x08\xff" + noise)  # reserved flag bits: not a gzip header
    c, summary = triaged(tmp_path, ev)
    try:
        said = messages(summary)
        by_path = {(w["path"] or "", w["message"]) for w in summary.warnings}
        for name, kind in (("broken.tar.gz", "gzip"), ("broken.tar.xz", "xz")):
            assert any(
                p == f"/{name}" and f"a {kind} stream whose data cannot be decompressed" in m
                for p, m in by_path
            ), said
        assert not any("/random.bin" in p + m for p, m in by_path), said
        opened = [m for m in said if ": /damaged.zip: looks like an archive but cannot be opened" in m]
        assert len(opened) == 1 and opened[0].count("/damaged.zip") == 1, said  # named once
        assert any(": /locked.zip: 1 member(s) of the zip archive are encrypted" in m for m in said), said
        assert not any("/notes.gz" in m for m in said), said
        with c.engine.connect() as conn:
            rows = {r.path: r for r in conn.execute(select(File).where(File.c.exhibit == "EX-001"))}
        assert rows["/damaged.zip"].sha256 == sha(damaged) and rows["/damaged.zip"].error is None
        assert rows["/locked.zip"].sha256 == sha(bytes(enc))
        assert rows["/locked.zip!/secret.txt"].sha256 is None or rows["/locked.zip!/secret.txt"].error
        assert rows["/holiday.jpg!/inside.txt"].sha256 == sha(b"by content, not by name")
        assert not [p for p in rows if p.startswith("/notes.gz!")]
    finally:
        c.close()


def test_digest_rows_keep_their_old_form_unless_they_are_members(case: tuple[Case, RunSummary]) -> None:
    """docs/custody.md: ``parent`` is a member of a row's canonical form only when not NULL, so
    rows stored before the column existed keep the bytes their digest was signed over."""
    c, _ = case
    table = File
    with c.engine.connect() as conn:
        for row in conn.execute(select(table)):  # type: ignore[arg-type]
            text = integrity.canonical_row(table, row).decode()  # type: ignore[arg-type]
            if row.parent is None:
                assert '"parent"' not in text
            else:
                assert f'"parent":"{row.parent}"' in text and "!/" in row.path


def test_sniffing_and_names() -> None:
    assert sniff_archive(zip_bytes({"a": b"b"})[:4096]) == "zip"
    assert sniff_archive(tar_bytes({"a": b"b"}, "w")[:4096]) == "tar"
    assert sniff_archive(tar_bytes({"a": b"b"}, "w:gz")[:4096]) == "tar"
    assert sniff_archive(tar_bytes({"a": b"b"}, "w:bz2")[:4096]) == "tar"
    assert sniff_archive(tar_bytes({"a": b"b"}, "w:xz")[:4096]) == "tar"
    assert sniff_archive(gzip.compress(b"plain text")) is None
    assert sniff_archive(b"SQLite format 3\x00") is None
    assert (
        damaged_stream(gzip.compress(b"plain text")) is None
        and damaged_stream(b"SQLite format 3\x00") is None
    )
    assert damaged_stream(tar_bytes({"a": b"b"}, "w:bz2")[:4096]) is None
    assert "bzip2 stream" in str(damaged_stream(b"BZh91AY&SY" + bytes(range(200))))
    assert hostile_name(b"data/ok.db") == []
    assert hostile_name(b"C:\\Windows\\x") == ["absolute"]
    assert hostile_name(b"a\\..\\b") == ["'..' component"]


def test_depth_zero_opens_nothing(tmp_path: Path, laptop: dict[str, bytes]) -> None:
    c, _ = triaged(tmp_path, tmp_path / "ev", TriageOptions(workers=1, nested=NestLimits(depth=0)))
    try:
        with c.engine.connect() as conn:
            paths = [r.path for r in conn.execute(select(File.c.path).where(File.c.exhibit == "EX-001"))]
        assert "/Users/a/backup.tgz" in paths and not [p for p in paths if "!" in p]
        assert not list(iter_findings(c.engine, "EX-001", "chat/android/sms"))
    finally:
        c.close()


def test_the_evidence_is_untouched(laptop: dict[str, bytes], tmp_path: Path) -> None:
    """Reading from the archives changes nothing in the evidence folder."""
    ev = tmp_path / "ev"
    before = {p: (p.stat().st_mtime_ns, sha(p.read_bytes())) for p in ev.rglob("*") if p.is_file()}
    c, _ = triaged(tmp_path, ev)
    c.close()
    after = {p: (p.stat().st_mtime_ns, sha(p.read_bytes())) for p in ev.rglob("*") if p.is_file()}
    assert before == after


def test_archive_depth_option_is_recorded_and_verify_follows_it(
    tmp_path: Path, laptop: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """``exhibit triage --archive-depth 1``: the tar is walked, the zip in it is not; the limit is
    in the run's arguments, and verify --rehash walks with it (so every row is found again)."""
    c = init_case(tmp_path / "case", case_number="2026/8", title="nested")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    acquire(c, tmp_path / "ev", exhibit="EX-001", actor="asmith", description="seized laptop")
    root = str(c.root)
    c.close()
    ran = cli(
        capsys,
        "triage",
        "EX-001",
        "--actor",
        "asmith",
        "--archive-depth",
        "1",
        "--workers",
        "1",
        "--case",
        root,
    )
    assert ran.code == 0, ran.err
    assert (
        "/Users/a/backup.tgz!/phone.zip: a zip archive nested 2 levels deep, beyond the limit of 1"
        in " ".join(ran.err.split())
    )
    listed = cli(capsys, "ls", "EX-001", "-r", "--archives", "--json", "--case", root)
    paths = {json.loads(line)["path"]: json.loads(line) for line in listed.out.splitlines()}
    assert paths["/Users/a/backup.tgz!/phone.zip"]["sha256"] == sha(laptop["phone"])
    assert MEMBER in paths  # ls opens every level; the run stopped at 1
    assert paths[MEMBER]["sha256"] is None
    verified = cli(capsys, "custody", "verify", "--rehash", "--case", root)
    assert verified.code == 0, verified.out + verified.err


def test_a_second_run_reads_no_member_again(case: tuple[Case, RunSummary]) -> None:
    """Members already hashed are 'already done' like other files (their archives are looked at
    again to list them), and a --fresh run stores no finding twice."""
    c, first = case
    again = run_triage(c, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert again.status == "complete"
    assert again.counts["entries"] == first.counts["entries"]
    assert again.counts["files"] == 0 and again.counts["skipped"] == first.counts["files"]
    assert again.counts["findings"] == 0 and again.counts["derived"] == 0
    fresh = run_triage(c, "EX-001", actor="asmith", options=TriageOptions(workers=1, fresh=True))
    assert fresh.counts["files"] == first.counts["files"] and fresh.counts["findings"] == 0
    assert len(list(iter_findings(c.engine, "EX-001", "chat/android/sms"))) == 9
    report = verify_case(c, rehash=True)
    assert report.ok, report.problems


def test_an_archive_warning_is_said_once(tmp_path: Path) -> None:
    """Found in review: a zip's duplicate member name was warned about by the walk and again
    for the member, whose reading opened the zip again (the same message twice)."""
    ev = tmp_path / "ev"
    ev.mkdir()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        z.writestr("dup.txt", b"a")
        z.writestr("dup.txt", b"b")
    (ev / "d.zip").write_bytes(out.getvalue())
    c, summary = triaged(tmp_path, ev)
    try:
        said = [m for m in messages(summary) if "has the same name as member #0" in m]
        assert len(said) == 1, messages(summary)
        with c.engine.connect() as conn:
            stored = conn.execute(select(RunWarning.c.message)).scalars().all()
        assert len([m for m in stored if "has the same name as member #0" in m]) == 1
    finally:
        c.close()


def test_cat_of_a_member_says_what_is_about_it_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in review: every ``exhibit cat`` of a member printed all of its archive's warnings,
    such as a duplicate name of another member."""
    from tests.plugins.triage_e2e import acquired_case, exhibit

    ev = tmp_path / "ev"
    ev.mkdir()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z.writestr("dup.txt", b"a")
        z.writestr("dup.txt", b"b")
        z.writestr("other.txt", b"o")
    (ev / "e.zip").write_bytes(out.getvalue())
    acquired_case(tmp_path, monkeypatch, {"EX-001": ev}, title="cat")
    other = exhibit("cat", "EX-001", "/e.zip!/other.txt")
    assert other.code == 0 and other.out == "o" and "warning" not in other.err, other.err
    dup = exhibit("cat", "EX-001", "/e.zip!/dup.txt")
    assert dup.code == 0 and "has the same name as member #0" in dup.err
