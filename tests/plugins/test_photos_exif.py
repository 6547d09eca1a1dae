"""JPEG EXIF on real photos, compared with exiftool's ground truth; malformed EXIF warns."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from plugins.media.photos_exif import PhotoExif, PhotoExifPlugin
from tests.conftest import need
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.scratch import Scratch

GPS_TOLERANCE = 1e-9  # degrees; exiftool -n prints ~15 significant digits


def _run(item: FileItem, tmp_path: Path) -> tuple[list[PhotoExif], list[str], str]:
    plugin = PhotoExifPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    records = [r for r in result.records if isinstance(r, PhotoExif)]
    return records, [w.message for w in result.warnings], result.runs[0].outcome


def _ground_truth(corpus: Path) -> list[dict[str, str]]:
    tsv = need(corpus / "groundtruth" / "exif" / "exif-summary.tsv")
    lines = tsv.read_text(encoding="utf-8").splitlines()
    header = lines[0].lstrip("# ").split("  (")[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line.strip()]


def _opt(value: str) -> str | None:
    return None if value == "-" else value


def test_corpus_matches_exiftool(corpus: Path, tmp_path: Path) -> None:
    truth = _ground_truth(corpus)
    assert len(truth) == 11
    with_exif = 0
    for row in truth:
        rel = row["path"].removeprefix("exif-py/jpg/")
        path = need(corpus / "images" / rel)
        records, warnings, outcome = _run(FileItem.from_path(path, fs_path=f"/DCIM/{rel}"), tmp_path)
        assert outcome == "ok", rel
        assert warnings == [], rel
        make, model, dto = _opt(row["make"]), _opt(row["model"]), _opt(row["DateTimeOriginal"])
        lat, lon = _opt(row["GPSLatitude(dec)"]), _opt(row["GPSLongitude(dec)"])
        if not records:  # no EXIF segment at all: exiftool shows no tags either
            assert (make, model, dto, lat, lon) == (None, None, None, None, None), rel
            continue
        with_exif += 1
        [rec] = records
        assert (rec.make, rec.model) == (make, model), rel
        if dto is None:
            assert rec.taken is None, rel
        else:
            assert rec.taken is not None and rec.taken.raw == dto, rel
            assert rec.taken.utc is None and rec.taken.offset is None, rel  # no OffsetTimeOriginal
            assert rec.taken.note == "local time, UTC offset unknown", rel
            assert rec.taken.local == dto.replace(":", "-", 2).replace(" ", "T") + ".000000", rel
        for got, want in ((rec.latitude, lat), (rec.longitude, lon)):
            if want is None:
                assert got is None, rel
            else:
                assert got == pytest.approx(float(want), abs=GPS_TOLERANCE), rel
        assert rec.locator is not None and rec.locator.startswith("offset=")
    assert with_exif == 10  # all but invalid/image01088.jpg (JFIF + XMP, no EXIF segment)


def test_exif_after_xmp_is_found(corpus: Path, tmp_path: Path) -> None:
    """no_exif.jpg puts its EXIF APP1 after an XMP APP1, where first-APP1-only readers stop."""
    path = need(corpus / "images" / "xmp" / "no_exif.jpg")
    [rec], _, _ = _run(FileItem.from_path(path), tmp_path)
    assert rec.software == "Adobe Photoshop CC (Macintosh)"
    assert rec.locator == "offset=26586"


def _jpeg_with_app1(payload: bytes) -> bytes:
    return b"\xff\xd8" + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + b"\xff\xd9"


def test_malformed_exif_warns_and_salvages(corpus: Path, tmp_path: Path) -> None:
    """Fixture: a real EXIF block whose first IFD entry is overwritten with garbage."""
    src = need(corpus / "images" / "Canon_40D.jpg").read_bytes()
    start = src.index(b"Exif\x00\x00")
    (length,) = struct.unpack(">H", src[start - 2 : start])
    tiff = bytearray(src[start + 6 : start - 2 + length])
    (ifd0,) = struct.unpack("<I" if tiff[:2] == b"II" else ">I", tiff[4:8])
    tiff[ifd0 + 2 + 2 : ifd0 + 2 + 4] = b"\xff\xff"  # entry 0: impossible field type
    item = FileItem.from_bytes(_jpeg_with_app1(b"Exif\x00\x00" + bytes(tiff)), path="/DCIM/bad.jpg")
    records, warnings, outcome = _run(item, tmp_path)
    assert outcome == "ok"
    assert len(warnings) == 1 and warnings[0].startswith("malformed EXIF")
    assert len(records) == 1  # the tags after the broken entry were still read
    assert records[0].model == "Canon EOS 40D"


def test_truncated_and_broken_structures_do_not_crash(tmp_path: Path) -> None:
    cut = FileItem.from_bytes(b"\xff\xd8\xff\xe1\x40\x00Exif\x00\x00II*\x00", path="/cut.jpg")
    records, warnings, outcome = _run(cut, tmp_path)
    assert outcome == "ok" and records == []
    assert warnings == ["APP1 segment at offset 2 is truncated", "EXIF segment holds no readable tag"]
    broken = FileItem.from_bytes(b"\xff\xd8\xff\xe0\x00\x04ab\x00\x00\x00", path="/broken.jpg")
    records, warnings, outcome = _run(broken, tmp_path)
    assert outcome == "ok" and records == []
    assert any("structure broken" in w for w in warnings)


def test_not_a_jpeg_is_not_my_format(tmp_path: Path) -> None:
    item = FileItem.from_bytes(b"GIF89a....", path="/x.jpg")  # matched by glob only
    records, warnings, outcome = _run(item, tmp_path)
    assert (records, warnings, outcome) == ([], [], "not-my-format")
