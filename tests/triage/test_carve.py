"""Carving the free space of disk images (triage/sources/carve.py, triage/engine/carving.py).

Oracles:

* Debian's forensics-samples disks (ext2, ext4, NTFS, FAT32, exFAT): the package publishes the
  SHA-256 of every original file (``groundtruth/forensics-samples/original-files.sha256``); the
  deleted pictures (``pic2/``) and PDF (``text2/``) must come back byte-exact where they lie whole
  in free space. ``d-debian.png`` is the exception the disks themselves show: the bytes of the
  deleted file on every disk (what The Sleuth Kit's ``icat`` reads from NTFS, recorded in
  ``fs.ntfs.icat.tsv``) differ from the published original; carving must give those bytes.
* DFTT #8 (JPEG search): its page publishes the MD5 of the deleted JPEGs of MFT entries 31 and 32;
  The Sleuth Kit's ``istat`` gives the clusters they occupy, so their offsets too.
* Hostile input built here with real bytes: a truncated image, a JPEG header with no end, a long
  run of JPEG-looking blocks; the corpus JPEG ``images/gps/DSCN0010.jpg`` gives real JPEG bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tests.conftest import CORPUS, need, need_tool
from tests.triage.images import Workspace
from triage.sources.carve import CarveLimits, FreeStream, carve_image, carve_stream
from triage.sources.image_source import ImageSource

GT = CORPUS / "groundtruth" / "forensics-samples"
#: The deleted pictures and PDF of forensics-samples (pic2/, text2/), by published SHA-256.
DELETED_TYPES = (".jpg", ".png", ".gif", ".pdf")


def _published() -> dict[str, str]:
    lines = need(GT / "original-files.sha256").read_text().splitlines()
    return {h: p for h, p in (line.split(None, 1) for line in lines)}


def _deleted_pictures() -> dict[str, str]:
    return {
        h: p
        for h, p in _published().items()
        if (p.startswith("./pic2/") or p.startswith("./text2/")) and p.lower().endswith(DELETED_TYPES)
    }


def _icat_deleted_png() -> str:
    """SHA-256 of pic2/d-debian.png as the NTFS disk holds it (TSK's icat, recorded in the corpus)."""
    for line in need(GT / "fs.ntfs.icat.tsv").read_text().splitlines():
        cols = line.split("\t")
        if cols[-1] == "pic2/d-debian.png":
            return cols[0]
    pytest.fail("pic2/d-debian.png is not in fs.ntfs.icat.tsv")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("carve-images"))


def _carve(path: Path) -> list:
    with ImageSource(path) as src:
        reports = carve_image(src)
    return [c for r in reports for c in r.carved]


def _ext_image(samples: Workspace, name: str) -> Path:
    """fs.ext2 / fs.ext4 of forensics-samples-ext2/-ext4 (not in the shared image list)."""
    import lzma

    from tests.conftest import FORENSICS_SAMPLES

    src = need(FORENSICS_SAMPLES / f"fs.{name}.xz", f"(apt-get install forensics-samples-{name})")
    path = samples.root / f"fs.{name}"
    if not path.exists():
        with lzma.open(src) as fin, open(path, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    return path


# what each disk gives back byte-exact (measured; the published hashes are the oracle)
EXPECTED_EXACT = {"ntfs": 5, "vfat": 5, "exfat": 5, "ext4": 4, "ext2": 5}


@pytest.mark.parametrize("name", ["ntfs", "vfat", "exfat", "ext4", "ext2"])
def test_forensics_samples_deleted_pictures(samples: Workspace, name: str) -> None:
    """Count the deleted pictures carved byte-exact (by published SHA-256); every carve that is
    not complete is reported truncated, never valid; every valid one decodes (checked again here)."""
    wanted = _deleted_pictures()
    assert len(wanted) == 6  # 4 JPEG, 1 PNG, 1 PDF
    path = samples.get(f"fs-{name}").path if name in ("ntfs", "vfat", "exfat") else _ext_image(samples, name)
    carved = _carve(path)
    exact = {c.sha256 for c in carved} & set(wanted)
    assert len(exact) == EXPECTED_EXACT[name], sorted(wanted[h] for h in exact)
    for c in carved:
        if c.sha256 in wanted:
            assert c.status == "valid", c
        assert c.status in ("valid", "truncated", "invalid")
        assert c.extents[0][0] == c.offset and sum(n for _, n in c.extents) == c.length
    # the PNG as the disks hold it (icat on NTFS), not as published
    assert _icat_deleted_png() in {c.sha256 for c in carved if c.kind == "png" and c.status == "valid"}
    if name == "ext2":
        # the inodes' block pointers are gone; each file is rebuilt from its 12 direct blocks and
        # the indirect (and double-indirect) blocks left in free space: several extents
        rebuilt = [c for c in carved if "indirect block" in c.detail]
        assert len(rebuilt) == 6 and all(len(c.extents) > 1 and c.status == "valid" for c in rebuilt)
    if name == "ext4":  # IMG_20200124_231153.jpg is in two pieces, the second not after the first
        assert sum(c.status == "truncated" for c in carved) == 1


def test_dftt8_deleted_jpegs(samples: Workspace) -> None:
    """DFTT #8: the deleted JPEGs of MFT entries 31 and 32 are carved with their published MD5s, at
    the byte offsets The Sleuth Kit's istat gives for their clusters."""
    istat = need_tool("istat")
    prepared = samples.get("dftt8-ntfs")
    published = {32: "afd55222024a4e22f7f5a3a665320763", 31: "0c452c5800fcfa7c66027ae89c4f068a"}
    carved = {c.md5: c for c in _carve(prepared.path)}
    for mft, md5 in published.items():
        assert md5 in carved, f"MFT entry {mft} not carved"
        text = subprocess.run([istat, str(prepared.path), str(mft)], capture_output=True, text=True).stdout
        cluster_size = int(re.search(r"Cluster Size: (\d+)", text).group(1)) if "Cluster Size" in text else 0
        if not cluster_size:
            fsstat = subprocess.run(["fsstat", str(prepared.path)], capture_output=True, text=True).stdout
            cluster_size = int(re.search(r"Cluster Size: (\d+)", fsstat).group(1))
        data_part = text.split("Type: $DATA", 1)[1]
        first_cluster = int(data_part.split("\n", 2)[1].split()[0])
        assert carved[md5].offset == first_cluster * cluster_size
        assert carved[md5].status == "valid" and carved[md5].kind == "jpeg"


# -- hostile input ---------------------------------------------------------------------------------


def _jpeg_bytes() -> bytes:
    return need(CORPUS / "images" / "gps" / "DSCN0010.jpg").read_bytes()


def _stream(data: bytes) -> FreeStream:
    return FreeStream(lambda off, n: data[off : off + n], [(0, len(data))])


def test_whole_and_cut_jpeg_in_free_space() -> None:
    """A real JPEG at a block boundary is carved byte-exact; the same JPEG cut short is truncated."""
    jpeg = _jpeg_bytes()
    pad = b"\x00" * (4096 - len(jpeg) % 4096)
    free = b"\x00" * 8192 + jpeg + pad + b"\x11" * 8192
    [c] = carve_stream(_stream(free), 0, 4096).carved
    assert (c.offset, c.length, c.status) == (8192, len(jpeg), "valid")
    assert c.sha256 == hashlib.sha256(jpeg).hexdigest()
    cut = b"\x00" * 4096 + jpeg[: len(jpeg) // 2]
    [t] = carve_stream(_stream(cut), 0, 4096).carved
    assert t.status == "truncated" and "EOI" in t.detail and t.length <= len(jpeg) // 2


def test_a_carve_joined_across_allocated_blocks_says_so() -> None:
    """Review: a deleted JPEG whose fourth block was reused by another file was carved with that
    block left out (the free space joined across it), decoded, wrongly, and passed as valid with
    nothing said (photorec recovers no JPEG there). The carve now names the allocated gap."""
    jpeg = _jpeg_bytes()
    reused = os.urandom(4096)
    image = jpeg[:12288] + reused + jpeg[16384:] + b"\x00" * (4096 - len(jpeg) % 4096)
    runs = [(0, 12288), (16384, len(image) - 16384)]  # the reused block is allocated
    [c] = carve_stream(FreeStream(lambda off, n: image[off : off + n], runs), 0, 4096).carved
    assert c.extents[0] == (0, 12288) and c.extents[1][0] == 16384
    assert c.sha256 != hashlib.sha256(jpeg).hexdigest()  # not the file that was deleted
    assert "joined across 1 allocated gap(s) of 4096 bytes" in c.detail, c.detail
    assert "after image offset 12288 are assumed to continue the file" in c.detail
    whole = jpeg + b"\x00" * (4096 - len(jpeg) % 4096)  # one free run: nothing joined
    [w] = carve_stream(_stream(whole), 0, 4096).carved
    assert (w.status, w.detail) == ("valid", "")


def test_a_cut_jpeg_followed_by_zeros_ends_at_its_data() -> None:
    """Review: a JPEG cut at 13 KB and followed by zeroed free space was carved as 16.7 MB to the
    end of the free space (zeros read as entropy-coded data); photorec recovers none. The
    truncated carve now ends at its last byte that is not zero, and says so."""
    jpeg = _jpeg_bytes()
    cut = jpeg[: len(jpeg) // 2].rstrip(b"\x00")
    free = b"\x00" * 4096 + cut + b"\x00" * (3 << 20)
    [t] = carve_stream(_stream(free), 0, 4096).carved
    assert t.status == "truncated" and t.offset == 4096
    assert t.length == len(cut) and t.sha256 == hashlib.sha256(cut).hexdigest()
    assert "zero bytes after its last data left out" in t.detail, t.detail


def test_jpeg_header_with_no_end_stops_at_cap() -> None:
    """A JPEG header followed by endless entropy-coded-looking data: carved up to the size cap,
    reported truncated with the cap named; memory stays around the cap."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00"
    start = b"\xff\xd8" + app0 + sof + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    free = start + bytes(range(1, 255)) * (3 * 1024 * 1024 // 254)  # no 0xFF: never a marker
    limits = CarveLimits(max_size={"jpeg": 1 << 20, "png": 1 << 20, "gif": 1 << 20, "pdf": 1 << 20})
    tracemalloc.start()
    report = carve_stream(_stream(free), 0, 4096, limits)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    [c] = report.carved
    assert c.status == "truncated" and c.length == 1 << 20 and "size cap" in c.detail
    assert peak < 40 * 1024 * 1024


def test_run_of_jpeg_looking_blocks_is_linear() -> None:
    """A header at every block of 16 MiB: each carve ends at the next header, so the work stays
    linear (well under a few seconds) and nothing is called valid."""
    import time

    block = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * (4096 - 13) + b"\xff"[:0]
    block = block[:4096].ljust(4096, b"\x00")
    free = block * 4096
    t0 = time.perf_counter()
    report = carve_stream(_stream(free), 0, 4096)
    assert time.perf_counter() - t0 < 20
    assert all(c.status != "valid" for c in report.carved)
    assert report.rejected + len(report.carved) == 4096


def test_truncated_image(tmp_path: Path, samples: Workspace) -> None:
    """The FAT32 sample cut to 30 MB: what is there is carved (the JPEG cut by the end of the
    image is truncated); the NTFS one cut likewise, whose allocation bitmap lies past the cut, is
    a warning naming the file system, not an error."""
    for name, valid in (("vfat", 2), ("ntfs", 0)):
        src = samples.get(f"fs-{name}").path
        cut = tmp_path / f"cut-{name}.dd"
        with open(src, "rb") as fin, open(cut, "wb") as fout:
            fout.write(fin.read(30 * 1024 * 1024))
        with ImageSource(cut) as image:
            reports = carve_image(image)
        carved = [c for r in reports for c in r.carved]
        assert all(c.offset + c.length <= 30 * 1024 * 1024 for c in carved)
        assert sum(c.status == "valid" for c in carved) == valid
        if name == "vfat":
            assert carved[-1].status == "truncated" and "free space ends" in carved[-1].detail
        else:
            assert any("cannot walk the blocks" in w for r in reports for w in r.warnings)


# -- end to end: triage, exhibit carved, the ledger, verify --rehash --------------------------------


def test_triage_carves_and_lists(tmp_path: Path, samples: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """``exhibit triage`` of the DFTT #8 image carves its deleted JPEGs; ``exhibit carved --json``
    lists them with offsets, hashes and validity; they are derived items in the ledger with their
    extents; ``verify --rehash`` reads them again; the evidence is never written."""
    from custody.case import open_case
    from tests.plugins.triage_e2e import acquired_case, exhibit

    image = tmp_path / "evidence.dd"
    shutil.copy(samples.get("dftt8-ntfs").path, image)
    before = (hashlib.sha256(image.read_bytes()).hexdigest(), os.stat(image).st_mtime_ns)
    acquired_case(tmp_path, monkeypatch, {"EX-001": image}, title="carving")
    ran = exhibit("triage", "EX-001", "--workers", "1", "--hash", "md5,sha256")
    assert ran.code == 0 and "Traceback" not in ran.out + ran.err, ran.out + ran.err
    listed = json.loads(exhibit("carved", "EX-001", "--json").out)
    by_md5 = {c["md5"]: c for c in listed}
    for md5 in ("afd55222024a4e22f7f5a3a665320763", "0c452c5800fcfa7c66027ae89c4f068a"):
        c = by_md5[md5]
        assert c["status"] == "valid" and c["type"] == "jpeg" and c["partition"] == 0
        assert c["extents"][0][0] == c["offset"] and c["sha256"]
        assert c["same_as"], "the deleted file found by name has the same bytes"
    plain = exhibit("carved", "EX-001")
    assert plain.code == 0 and "carved files" in plain.out
    # exhibit cat and export read a carved file by the path 'exhibit carved' lists (found in
    # review: "no entry '/$Carved'"); the bytes are those the carve hashed
    first = by_md5["afd55222024a4e22f7f5a3a665320763"]
    raw = subprocess.run(
        [sys.executable, "-m", "triage.launch", "cat", "EX-001", first["path"]],
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(raw).hexdigest() == first["sha256"] and hashlib.md5(raw).hexdigest() == first["md5"]
    out = tmp_path / "exported"
    done = exhibit("export", "EX-001", first["path"], "--to", str(out))
    assert done.code == 0, done.out + done.err
    [written] = [f for f in out.rglob("*") if f.is_file()]
    assert hashlib.sha256(written.read_bytes()).hexdigest() == first["sha256"]
    missing = exhibit("cat", "EX-001", "/$Carved/1.jpg")
    assert missing.code == 2 and "no carved file /$Carved/1.jpg of EX-001" in missing.err, missing.err
    case = open_case(tmp_path / "case")
    try:
        derived = [e.data for e in case.ledger.entries(exhibit="EX-001") if e.data.get("carved")]
    finally:
        case.close()
    assert {d["hashes"]["md5"] for d in derived} >= set(by_md5) & {
        "afd55222024a4e22f7f5a3a665320763",
        "0c452c5800fcfa7c66027ae89c4f068a",
    }
    assert all(d["carved"]["extents"] for d in derived)
    verify = exhibit("custody", "verify", "--rehash")
    assert verify.code == 0, verify.out + verify.err
    again = exhibit("triage", "EX-001", "--workers", "1")
    assert again.code == 0 and "0 derived items" in " ".join(again.out.split())
    off = exhibit("carved", "EX-001", "--json")
    assert len(json.loads(off.out)) == len(listed)
    # the court report's gallery reads a carved picture from the extents its run recorded
    from tests.triage.test_report_findings import FolderMedia
    from triage.report.context import ReportContext
    from triage.report.findings.pictures import EvidenceFiles
    from triage.report.redact import Redactor

    with open_case(tmp_path / "case") as case:
        ctx = ReportContext(case, (), None, FolderMedia(tmp_path / "media"), Redactor.none())
        with EvidenceFiles(ctx) as files:
            for c in listed:
                data = files.read("EX-001", c["partition"], c["path"])
                assert hashlib.sha256(data).hexdigest() == c["sha256"], c["path"]
    assert (hashlib.sha256(image.read_bytes()).hexdigest(), os.stat(image).st_mtime_ns) == before


def test_no_carve(tmp_path: Path, samples: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--no-carve``: nothing carved, and the run's arguments say so."""
    from tests.plugins.triage_e2e import acquired_case, exhibit

    acquired_case(tmp_path, monkeypatch, {"EX-001": samples.get("dftt8-ntfs").path}, title="carving")
    assert exhibit("triage", "EX-001", "--workers", "1", "--no-carve").code == 0
    assert json.loads(exhibit("carved", "EX-001", "--json").out) == []
    runs = json.loads(exhibit("runs", "EX-001", "--json").out)
    assert runs[0]["arguments"]["carve"] is False


def test_png_gif_pdf_structures() -> None:
    """PNG, GIF and PDF made with Pillow (pictures) and by hand (a minimal PDF) are carved
    byte-exact between foreign data; a PNG with a damaged CRC is truncated."""
    from PIL import Image

    def png() -> bytes:
        b = io.BytesIO()
        Image.new("RGB", (40, 30), (10, 200, 30)).save(b, "PNG")
        return b.getvalue()

    def gif() -> bytes:
        b = io.BytesIO()
        Image.new("P", (20, 10), 3).save(b, "GIF")
        return b.getvalue()

    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"xref\n0 3\n0000000000 65535 f \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n60\n%%EOF\n"
    )
    files = [png(), gif(), pdf]
    free = b""
    for f in files:
        free += f + b"\x00" * (-len(f) % 512) + b"\x22" * 512
    carved = carve_stream(_stream(free), 0, 512).carved
    assert [(c.kind, c.status, c.sha256) for c in carved] == [
        (k, "valid", hashlib.sha256(f).hexdigest()) for k, f in zip(("png", "gif", "pdf"), files, strict=True)
    ]
    bad = bytearray(png())
    bad[40] ^= 0xFF
    damaged = bytes(bad) + b"\x00" * 2048
    [c] = carve_stream(_stream(damaged), 0, 512).carved or [None]  # type: ignore[list-item]
    assert c is None or c.status != "valid"


def test_carved_pictures_are_matched_against_hash_sets(
    tmp_path: Path, samples: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case the issue names: on ext2 a deleted file's name and block pointers are gone, so
    only carving finds the deleted pictures of forensics-samples. A known-bad set holding their
    published SHA-256 (``original-files.sha256``) flags them: one ``hash/hit`` per carved copy,
    on ``/$Carved/...`` paths, and none on a named file (none of them has a name left)."""
    from tests.plugins.triage_e2e import acquired_case, exhibit

    image = _ext_image(samples, "ext2")
    deleted = _deleted_pictures()
    bad = tmp_path / "known-bad.sha256"
    bad.write_text("".join(f"{h}  {p}\n" for h, p in deleted.items()))
    acquired_case(tmp_path, monkeypatch, {"EX-001": image}, title="carving and hash sets")
    imported = exhibit("hashset", "import", str(bad), "--name", "deleted-originals", "--kind", "known-bad")
    assert imported.code == 0, imported.out + imported.err
    ran = exhibit("triage", "EX-001", "--workers", "1")
    assert ran.code == 0 and "Traceback" not in ran.out + ran.err, ran.out + ran.err
    hits = json.loads(exhibit("findings", "EX-001", "--kind", "hash", "--json").out)
    carved = {h["data"]["hash"] for h in hits if h["source"]["path"].startswith("/$Carved/")}
    assert carved and carved <= set(deleted)
    assert len(carved) == EXPECTED_EXACT["ext2"]  # every picture carving gives back byte-exact
    assert all(h["source"]["path"].startswith("/$Carved/") for h in hits), hits
    assert all(
        h["data"]["set_name"] == "deleted-originals" and h["data"]["kind"] == "known-bad" for h in hits
    )
