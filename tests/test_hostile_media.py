"""Hostile photos, documents and files that pretend to be them, through the real ``exhibit triage``.

Issue 9, section 7: decompression bombs (pixels capped before decoding), zip-bomb documents, PDFs
whose references loop, and a 2 GiB file named ``.jpg``, all in one acquired folder. The command is
run as a user runs it, under GNU ``time -v``: it must end normally, report each hostile file as a
warning naming the file, the plugin and the problem, read every ordinary file beside them, keep
its peak memory bounded, and leave the evidence unchanged (hash and mtime).

The hostile files are made here with the formats' own structures (a PNG IHDR, a JPEG SOF, an OOXML
zip, PDF objects), since no real sample can be shipped; the ordinary photo is the corpus's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from tests.conftest import CORPUS, need
from tests.plugins import document_fixtures as fx
from tests.triage.test_bounds import MB, exhibit

pytestmark = pytest.mark.slow  # hashes a 2 GiB (sparse) file three times: acquisition and triage


def _png_bomb() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x00" * 4
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _jpeg_bomb() -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65_000, 65_000, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(MB):
                    digest.update(chunk)
            out[str(path.relative_to(folder))] = (digest.hexdigest(), path.stat().st_mtime_ns)
    return out


def test_hostile_media_are_warnings_and_the_run_goes_on(tmp_path: Path) -> None:
    photo = need(CORPUS / "images" / "gps" / "DSCN0010.jpg", "(the shared corpus sits beside the repository)")
    folder = tmp_path / "evidence"
    (folder / "DCIM").mkdir(parents=True)
    shutil.copy(photo, folder / "DCIM" / "DSCN0010.jpg")
    (folder / "DCIM" / "bomb.png").write_bytes(_png_bomb())
    (folder / "DCIM" / "bomb.jpg").write_bytes(_jpeg_bomb())
    (folder / "Documents").mkdir()
    (folder / "Documents" / "bomb.docx").write_bytes(fx.zip_bomb_ooxml(256 << 20))
    loop = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
        b"<< /Author (Jane Roe) /Title 4 0 R >>",
        b"4 0 R",
    ]
    (folder / "Documents" / "loop.pdf").write_bytes(fx.pdf(loop, trailer=b"/Root 1 0 R /Info 3 0 R"))
    with (folder / "DCIM" / "huge.jpg").open("wb") as fh:  # 2 GiB, sparse: a JPEG start, then zeros
        fh.write(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00")
        fh.truncate(2 << 30)
    os.utime(folder / "DCIM" / "huge.jpg", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = _fingerprint(folder)

    case_dir = tmp_path / "case"
    case = init_case(case_dir, case_number="2026/97", title="hostile media")
    try:
        add_actor(case, "ex", name="Ex Aminer", role="examiner")
        acquire(case, folder, exhibit="EX-001", actor="ex", description="a folder of hostile media")
    finally:
        case.close()

    started = time.monotonic()
    proc, stats = exhibit("triage", "EX-001", "--json", case=case_dir, timed=True)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "complete"
    warnings = result["warnings"]
    by_file = {
        name: [w for w in warnings if (w.get("path") or "").endswith(name)]
        for name in ("bomb.png", "bomb.jpg", "bomb.docx", "loop.pdf")
    }
    for name, found in by_file.items():
        assert found, f"no warning for {name}: {warnings}"
        assert all(w.get("plugin") for w in found), found
    assert any("decompression bomb" in w["message"] for w in by_file["bomb.png"] + by_file["bomb.jpg"])
    assert any("decompressed" in w["message"] for w in by_file["bomb.docx"])
    assert not [w for w in warnings if w.get("traceback")], warnings
    assert result["counts"]["errors"] == 0
    # the ordinary photo beside them is read: its GPS position is a finding
    found = exhibit("findings", "EX-001", "--json", case=case_dir)[0]
    assert found.returncode == 0, found.stderr
    photos = [f for f in json.loads(found.stdout) if f["record_type"].startswith("media/photo")]
    assert photos and all(p["source"]["path"].endswith("DSCN0010.jpg") for p in photos), photos
    assert abs(photos[0]["data"]["latitude"] - 43.4674) < 1e-3, photos[0]
    assert stats["peak_rss"] < 600 * MB, f"peak RSS {stats['peak_rss'] / MB:.0f} MB"
    print(f"\nhostile media: triage {elapsed:.1f} s, peak RSS {stats['peak_rss'] / MB:.0f} MB")
    assert _fingerprint(folder) == before
