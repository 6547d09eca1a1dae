"""custody.acquisition end to end: corpus images, damaged and incomplete E01s, archives, folders."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Literal

import pytest

from custody.acquisition import Acquisition, acquire_source, differences, manifest_text, rehash
from custody.errors import EvidenceError
from tests.conftest import need, need_tool

MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"
DFVFS_IMAGES = ["ext2.E01", "ext2.split.E01", "ext2.splitraw.000", "iso9660.raw", "ímynd.dd", "bogus.001"]


def dfvfs(corpus: Path, name: str) -> Path:
    return need(corpus / "disk" / "dfvfs" / name)


def hashes_of(data: bytes) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")}


def coreutils(tool: str, *files: Path) -> str:
    """``cat files | tool``, with the real coreutils commands."""
    need_tool(tool)
    cat = subprocess.run(["cat", *map(str, files)], check=True, capture_output=True).stdout
    return subprocess.run([tool], input=cat, check=True, capture_output=True).stdout.split()[0].decode()


def independent_manifest_sha256(members: list[dict[str, object]]) -> str:
    """Re-derive manifest_sha256 from the documented format only (not from Exhibit's code)."""

    def esc(p: str) -> str:
        return p.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")

    rows = sorted(
        (
            str(m["path"]).encode("utf-8", "surrogateescape"),
            f"{m['sha256'] or '-'}  {m['size']}  {esc(str(m['path']))}\n",
        )
        for m in members
        if m["type"] == "file"
    )
    return hashlib.sha256("".join(r for _, r in rows).encode("utf-8", "surrogateescape")).hexdigest()


# ------------------------------------------------------------------------------------- corpus


def test_three_containers_one_media(corpus: Path) -> None:
    acqs = {n: acquire_source(dfvfs(corpus, n)) for n in ("ext2.E01", "ext2.split.E01", "ext2.splitraw.000")}
    kinds = {n: a.kind for n, a in acqs.items()}
    assert kinds == {"ext2.E01": "e01", "ext2.split.E01": "e01", "ext2.splitraw.000": "split-raw"}
    for acq in acqs.values():
        assert acq.hashes["md5"] == MEDIA_MD5
        assert acq.size == 4 * 1024 * 1024
    assert len({json.dumps(a.hashes, sort_keys=True) for a in acqs.values()}) == 1
    parts = [dfvfs(corpus, "ext2.splitraw.000"), dfvfs(corpus, "ext2.splitraw.001")]
    hashes = acqs["ext2.splitraw.000"].hashes
    assert hashes["sha1"] == coreutils("sha1sum", *parts)
    assert hashes["sha256"] == coreutils("sha256sum", *parts)
    assert hashes["md5"] == coreutils("md5sum", *parts)
    split = acqs["ext2.split.E01"]
    assert [Path(s["path"]).name for s in split.segments] == ["ext2.split.E01", "ext2.split.E02"]
    assert [s["size"] for s in split.segments] == [3116330, 1083353]
    assert split.e01 is not None and split.e01["stored_hashes"] == {"md5": MEDIA_MD5}
    assert split.e01["headers"]["examiner_name"] == "examiner"
    assert split.e01_hash_match == {"md5": True} and split.hash_ok
    assert acqs["ext2.splitraw.000"].e01 is None and acqs["ext2.splitraw.000"].e01_hash_match is None


def test_evidence_is_not_modified(corpus: Path) -> None:
    """For every corpus image: file bytes (sha256) and mtime/ctime identical before and after."""
    for name in DFVFS_IMAGES:
        path = dfvfs(corpus, name)
        files = sorted(path.parent.glob(path.name.rsplit(".", 1)[0] + ".*"))
        before = {
            f: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns, f.stat().st_ctime_ns)
            for f in files
        }
        acq = acquire_source(path)
        after = {
            f: (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns, f.stat().st_ctime_ns)
            for f in files
        }
        assert before == after, name
        assert acq.source_path == os.path.abspath(path)


def test_bogus_001_acquires_as_a_raw_image(corpus: Path) -> None:
    """bogus.001 (no siblings) is acquired as what it is: 51 200 bytes of raw media, hashed.

    Whether those bytes hold a file system is triage's question ("no file system found").
    """
    path = dfvfs(corpus, "bogus.001")
    acq = acquire_source(path)
    assert acq.kind == "raw" and acq.size == 51200
    assert acq.hashes == hashes_of(path.read_bytes())
    assert acquire_source(path, kind="split-raw").hashes == acq.hashes


def test_single_file_and_json_round_trip(corpus: Path) -> None:
    photo = need(corpus / "images" / "Canon_40D.jpg")
    acq = acquire_source(photo)
    assert acq.kind == "file" and acq.size == photo.stat().st_size
    assert acq.hashes == hashes_of(photo.read_bytes())
    assert acq.members is None and acq.manifest_sha256 is None
    data = json.loads(json.dumps(acq.as_dict()))
    assert Acquisition.from_dict(data) == acq
    assert differences(data, rehash(data["kind"], data["source_path"])) == []


def test_progress_reaches_the_size(corpus: Path) -> None:
    seen: list[int] = []
    acq = acquire_source(dfvfs(corpus, "ext2.split.E01"), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == acq.size


# ----------------------------------------------------------------------------------------- E01


@pytest.fixture(scope="module")
def made_e01(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A 2 MiB (sector multiple) random source imaged by the real ewfacquire, no compression."""
    need_tool("ewfacquire")
    tmp = tmp_path_factory.mktemp("acq-e01")
    data = random.Random(11).randbytes(2 * 1024 * 1024)
    (tmp / "src.dd").write_bytes(data)
    for target, extra in (("one", ["-d", "sha1"]), ("multi", ["-S", "1048576"])):
        subprocess.run(
            ["ewfacquire", "-u", "-q", "-t", str(tmp / target), "-c", "none", *extra, str(tmp / "src.dd")],
            check=True,
            capture_output=True,
        )
    return tmp, data


def test_made_e01_matches_its_source(made_e01: tuple[Path, bytes]) -> None:
    tmp, data = made_e01
    acq = acquire_source(tmp / "one.E01")
    assert acq.hashes == hashes_of(data)
    assert acq.e01_hash_match == {"md5": True, "sha1": True}


def test_flipped_byte_in_a_chunk_is_caught_by_rehashing(made_e01: tuple[Path, bytes], tmp_path: Path) -> None:
    """libewf reads the damaged chunk without error; only comparing with the stored MD5 shows it."""
    tmp, data = made_e01
    damaged = tmp_path / "one.E01"
    blob = bytearray((tmp / "one.E01").read_bytes())
    spot = blob.find(data[1_000_000:1_000_064])  # uncompressed: media bytes are in the file as-is
    assert spot > 0
    blob[spot + 10] ^= 0x01
    damaged.write_bytes(bytes(blob))
    acq = acquire_source(damaged)
    assert acq.kind == "e01"
    assert acq.e01_hash_match == {"md5": False, "sha1": False}
    assert not acq.hash_ok
    assert acq.hashes["md5"] != hashlib.md5(data).hexdigest()
    assert "e01 stored md5 does not match the media data" in differences(acq, acq)


def test_e01_with_a_missing_segment_is_refused(made_e01: tuple[Path, bytes], tmp_path: Path) -> None:
    tmp, _ = made_e01
    segments = sorted(tmp.glob("multi.E*"))
    assert len(segments) >= 3
    for seg in segments:
        if seg.suffix != ".E02":
            shutil.copy(seg, tmp_path)
    with pytest.raises(EvidenceError, match=r"multi\.E02"):
        acquire_source(tmp_path / "multi.E01")


# -------------------------------------------------------------------------------------- logical


MEMBERS = {
    "docs/report.txt": b"quarterly numbers\n" * 100,
    "../evil": b"escape attempt",
    "/etc/passwd-ish": b"root:x:0:0",
    "big.bin": random.Random(5).randbytes(5 * 1024 * 1024 + 17),  # hashed through the threaded path
    "empty": b"",
    "ünïcode name.txt": "καλημέρα".encode(),
}


def check_members(acq: Acquisition, names: dict[str, bytes]) -> None:
    assert acq.members is not None
    got = {m["path"]: m for m in acq.members}
    assert set(got) == set(names)
    for name, data in names.items():
        m = got[name]
        assert (m["md5"], m["sha1"], m["sha256"]) == tuple(hashes_of(data).values()), name
        assert m["size"] == len(data) and m["type"] == "file" and m["error"] is None
    assert acq.size == sum(len(d) for d in names.values())
    assert acq.manifest_sha256 == independent_manifest_sha256([dict(m) for m in acq.members])
    keys = [m["path"].encode() for m in acq.members]
    assert keys == sorted(keys)


def test_zip_members_recorded_never_extracted(tmp_path: Path) -> None:
    archive = tmp_path / "evidence.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("docs/", b"")  # a directory entry: not a member
        for name, data in MEMBERS.items():
            zf.writestr(name, data)
    acq = acquire_source(archive)
    assert acq.kind == "zip"
    assert acq.hashes == hashes_of(archive.read_bytes())  # the archive itself stays verifiable
    check_members(acq, MEMBERS)
    assert not (tmp_path.parent / "evil").exists()
    m = next(m for m in acq.members or [] if m["path"] == "empty")
    assert m["mtime"] is None and "mtime_local" in m  # DOS time has no zone
    again = acquire_source(archive)
    assert again == acq and differences(acq, again) == []


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_members_links_skipped(tmp_path: Path, mode: Literal["w", "w:gz"]) -> None:
    archive = tmp_path / ("evidence.tar" if mode == "w" else "evidence.tgz")
    with tarfile.open(archive, mode) as tf:
        for name, data in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link-to-passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    acq = acquire_source(archive)
    assert acq.kind == "tar"
    assert acq.hashes == hashes_of(archive.read_bytes())
    check_members(acq, MEMBERS)
    assert acq.skipped == [{"path": "link-to-passwd", "type": "symlink", "target": "/etc/passwd"}]
    assert {m["mtime"] for m in acq.members or []} == {"2023-11-14T22:13:20.000000Z"}


def test_folder_manifest_is_reproducible(tmp_path: Path) -> None:
    root = tmp_path / "seized"
    files = {k: v for k, v in MEMBERS.items() if not k.startswith(("/", ".."))}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "shortcut").symlink_to("docs/report.txt")
    acq = acquire_source(root)
    assert acq.kind == "folder" and acq.segments == []
    check_members(acq, files)
    assert acq.skipped == [{"path": "shortcut", "type": "symlink", "target": "docs/report.txt"}]
    assert acq.members is not None
    assert acq.hashes == hashes_of(manifest_text(acq.members))
    assert acq.hashes["sha256"] == acq.manifest_sha256
    (root / "docs" / "report.txt").write_bytes(b"tampered")
    assert "member changed: docs/report.txt" in differences(acq, rehash("folder", root))


def test_forced_kind_mismatch(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(EvidenceError, match="not a folder"):
        acquire_source(tmp_path / "f.txt", kind="folder")
    with pytest.raises(EvidenceError, match="unknown evidence kind"):
        acquire_source(tmp_path / "f.txt", kind="floppy")
    with pytest.raises(EvidenceError, match="not a readable zip"):
        acquire_source(tmp_path / "f.txt", kind="zip")


def test_folder_with_undecodable_names_is_recorded(tmp_path: Path) -> None:
    """Names that are not valid UTF-8 reach the canonical-JSON ledger escaped, with exact bytes."""

    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire as record
    from custody.ledger import canonical
    from custody.verify import verify_case

    folder = tmp_path / "phone"
    folder.mkdir()
    raw_name = b"caf\xe9-\xff.txt"
    with open(os.path.join(os.fsencode(folder), raw_name), "wb") as fh:
        fh.write(b"latin-1 name\n")
    acq = acquire_source(folder).as_dict()
    canonical(acq)  # must not raise
    [member] = acq["members"]
    assert member["path"] == "caf\\xe9-\\xff.txt"
    assert bytes.fromhex(member["path_bytes_hex"]) == raw_name
    case = init_case(tmp_path / "case", case_number="U", title="utf8")
    try:
        add_actor(case, "ex", name="Ex Aminer", role="examiner")
        record(case, folder, exhibit="EX-1", actor="ex", description="odd names")
        assert verify_case(case, rehash=True).ok
    finally:
        case.close()


def test_a_path_through_a_link_and_dotdot_records_the_folder_read(tmp_path: Path) -> None:
    """Found in review: ``other/jump/..`` (jump -> ../real/inner) read ``real`` (the system goes up
    from the link's target) but recorded ``other``; the next --rehash failed on unchanged evidence."""
    (tmp_path / "real" / "inner").mkdir(parents=True)
    (tmp_path / "real" / "file.txt").write_text("in real\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "o.txt").write_text("in other\n")
    (tmp_path / "other" / "jump").symlink_to("../real/inner")
    got = acquire_source(tmp_path / "other" / "jump" / "..")
    assert got.source_path == str(tmp_path / "real")
    assert [m["path"] for m in got.members or []] == ["file.txt"]
    assert differences(got, rehash(got.kind, got.source_path)) == []


def test_a_folder_that_changes_while_it_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: a member read first and rewritten while a later one was hashed, or a file
    added meanwhile, was signed as read: the tree is compared before and after reading."""
    import custody.acquisition as acq

    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "0.txt").write_text("first\n")
    (folder / "a.bin").write_bytes(b"x" * 100)
    real = acq.hash_stream
    calls = []

    def rewriting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # while the second file is hashed, the first is rewritten and one added
            (folder / "0.txt").write_text("changed after it was read\n")
            (folder / "late.txt").write_text("added\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(acq, "hash_stream", rewriting)
    with pytest.raises(EvidenceError, match=r"changed while being acquired: 0\.txt, late\.txt") as refused:
        acquire_source(folder)
    assert "stop it" in str(refused.value.hint)
    monkeypatch.setattr(acq, "hash_stream", real)
    assert acquire_source(folder).members is not None  # unchanged now: acquired


def test_a_folders_links_and_special_files_are_compared_on_rehash(tmp_path: Path) -> None:
    """Found in review: a link re-pointed (at /etc/shadow), a FIFO gone or a device replaced after
    the acquisition passed --rehash: they are recorded, not read, but they are the evidence too."""
    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "real.txt").write_text("x\n")
    (folder / "link-file").symlink_to("real.txt")
    os.mkfifo(folder / "pipe")
    got = acquire_source(folder)
    assert differences(got, rehash(got.kind, got.source_path)) == []
    (folder / "link-file").unlink()
    (folder / "link-file").symlink_to("/etc/shadow")
    (folder / "pipe").unlink()
    said = differences(got, rehash(got.kind, got.source_path))
    assert said == [
        "skipped entry changed: link-file (symlink -> real.txt is now symlink -> /etc/shadow)",
        "skipped entry missing: pipe",
    ], said


def test_an_unreadable_member_is_named_from_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: "cannot read folder: [Errno 13] Permission denied: 'z'" named neither the
    sub-folder nor what to do (root reads everything, so the refusal is made here)."""
    import custody.acquisition as acq

    folder = tmp_path / "ev"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "z").write_text("secret\n")
    real = acq.open_readonly

    def refusing(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "z":
            raise PermissionError(13, "Permission denied", "z")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(acq, "open_readonly", refusing)
    with pytest.raises(EvidenceError) as refused:
        acquire_source(folder)
    assert str(refused.value).startswith(f"{folder}/sub/z: cannot be read (Permission denied)"), refused.value
    assert "may read every file" in str(refused.value.hint)


def test_a_link_to_a_folder_acquires_the_folder(tmp_path: Path) -> None:
    """Found in review: refused as "Not a directory" with a hint about permissions."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("a\n")
    (tmp_path / "link").symlink_to("real")
    got = acquire_source(tmp_path / "link")
    assert got.kind == "folder" and got.source_path == str(tmp_path / "real")
    assert [m["path"] for m in got.members or []] == ["a.txt"]
