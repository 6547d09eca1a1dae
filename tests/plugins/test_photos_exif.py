"""JPEG EXIF on real photos, compared with exiftool's ground truth; malformed EXIF warns."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


# --- exiftool as the oracle, on every corpus photo and on photos made here in every format ----------

# Exhibit field -> exiftool 12.x tag as printed by `exiftool -n -j -G1` (group:name). exiftool's -n
# GPS coordinates are unsigned with a separate ref, so Exhibit's signed value is compared with
# ref-signed exiftool values; Composite:GPSAltitude is already signed. An empty exiftool string
# (GPSImgDirectionRef "" in the Nikon files) is "absent" for Exhibit. dc:creator lists are joined
# with "; "; exiftool's blank padding of ASCII values is stripped. width/height are Composite:ImageSize ("W H"; the stored extent,
# for HEIC the ispe box, not rotated). heif_thumbnails is the number of 'thmb' item references exiftool -v2 lists.
TEXT_FIELDS = {
    "make": "IFD0:Make",
    "model": "IFD0:Model",
    "software": "IFD0:Software",
    "serial_number": "ExifIFD:SerialNumber",
    "gps_datum": "GPS:GPSMapDatum",
    "direction_ref": "GPS:GPSImgDirectionRef",
    "xmp_city": "XMP-photoshop:City",
    "xmp_state": "XMP-photoshop:State",
    "xmp_country": "XMP-photoshop:Country",
    "xmp_location": "XMP-iptcCore:Location",
}
NUMBER_FIELDS = {
    "altitude": "Composite:GPSAltitude",
    "altitude_ref": "GPS:GPSAltitudeRef",
    "direction": "GPS:GPSImgDirection",
    "xmp_latitude": "XMP-exif:GPSLatitude",
    "xmp_longitude": "XMP-exif:GPSLongitude",
}
ORACLE_TOLERANCE = 1e-6  # degrees (the bound); metres and degrees of direction alike


def _exiftool(path: Path) -> dict[str, Any]:
    exe = shutil.which("exiftool")
    if exe is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    out = subprocess.run([exe, "-n", "-j", "-G1", str(path)], capture_output=True, check=True, text=True)
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def _heif_thumb_refs(path: Path) -> int:
    out = subprocess.run(["exiftool", "-v2", str(path)], capture_output=True, check=True, text=True).stdout
    return out.count("- Tag 'thmb'")


def _signed(data: Mapping[str, Any], key: str, ref_key: str) -> float | None:
    if key not in data:
        return None
    value = float(data[key])
    return -value if str(data.get(ref_key, "")).upper() in ("S", "W") else value


def _oracle_text(value: Any) -> str | None:
    """exiftool keeps the blank padding of fixed-length ASCII tags ('WGS-84   '); Exhibit strips it."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = None if value is None else str(value).strip()
    return text or None


def _exiftool_time(value: str | None) -> str | None:
    """exiftool's '2008:10:23 14:41:49.03Z' -> Exhibit's ISO form '2008-10-23T14:41:49.030000Z'."""
    if value is None:
        return None
    day, clock = value.rstrip("Z").split(" ")
    whole, _, frac = clock.partition(".")
    return f"{day.replace(':', '-')}T{whole}.{frac.ljust(6, '0')}Z"


def _compare_with_exiftool(rec: PhotoExif, path: Path) -> list[str]:
    """Every field Exhibit reports against exiftool; returns the names compared (for the counts)."""
    data = _exiftool(path)
    compared = []
    for name, key in TEXT_FIELDS.items():
        assert getattr(rec, name) == _oracle_text(data.get(key)), (path.name, name, key)
        compared.append(name)
    for name, key in NUMBER_FIELDS.items():
        want = data.get(key)
        got = getattr(rec, name)
        if want is None:
            assert got is None, (path.name, name)
        else:
            assert got == pytest.approx(float(want), abs=ORACLE_TOLERANCE), (path.name, name, key)
        compared.append(name)
    for name, key, ref in (
        ("latitude", "GPS:GPSLatitude", "GPS:GPSLatitudeRef"),
        ("longitude", "GPS:GPSLongitude", "GPS:GPSLongitudeRef"),
    ):
        want_coord = _signed(data, key, ref)
        if want_coord is None:
            assert getattr(rec, name) is None, (path.name, name)
        else:
            assert getattr(rec, name) == pytest.approx(want_coord, abs=ORACLE_TOLERANCE), (path.name, name)
        compared.append(name)
    assert rec.xmp_creator == _oracle_text(data.get("XMP-dc:Creator")), path.name
    size = data.get("Composite:ImageSize")
    assert (rec.width, rec.height) == (tuple(int(v) for v in size.split()) if size else (None, None)), (
        path.name
    )
    assert (rec.taken.raw if rec.taken else None) == data.get("ExifIFD:DateTimeOriginal"), path.name
    assert (rec.taken.offset if rec.taken else None) == data.get("ExifIFD:OffsetTimeOriginal"), path.name
    if rec.taken is not None and rec.taken.offset is None:
        assert rec.taken.utc is None and rec.taken.note == "local time, UTC offset unknown", path.name
    assert (rec.modified.raw if rec.modified else None) == data.get("IFD0:ModifyDate"), path.name
    assert (rec.gps_time.utc if rec.gps_time else None) == _exiftool_time(data.get("Composite:GPSDateTime"))
    assert rec.has_thumbnail == ("IFD1:ThumbnailImage" in data), path.name
    if rec.image_format == "heif":
        assert rec.heif_thumbnails == _heif_thumb_refs(path), path.name
    else:
        assert rec.heif_thumbnails is None
    compared += [
        "width",
        "height",
        "xmp_creator",
        "taken",
        "modified",
        "gps_time",
        "has_thumbnail",
        "heif_thumbnails",
    ]
    return compared


CORPUS_PHOTOS = [
    "Canon_40D.jpg",
    "Kodak_CX7530.jpg",
    "Nikon_D70.jpg",
    "gps/DSCN0010.jpg",
    "gps/DSCN0012.jpg",
    "gps/DSCN0021.jpg",
    "gps/DSCN0025.jpg",
    "gps/DSCN0027.jpg",
    "invalid/image01088.jpg",
    "tests/45-gps_ifd.jpg",
    "xmp/no_exif.jpg",
    "heic/iphone_13_pro_max.heic",
]


@pytest.mark.parametrize("rel", CORPUS_PHOTOS)
def test_every_corpus_photo_equals_exiftool(corpus: Path, tmp_path: Path, rel: str) -> None:
    path = need(corpus / "images" / rel)
    records, warnings, outcome = _run(FileItem.from_path(path, fs_path=f"/DCIM/{rel}"), tmp_path)
    assert outcome == "ok" and warnings == [], rel
    if rel == "invalid/image01088.jpg":  # no EXIF, and its XMP has neither creator nor location
        assert records == []
        data = _exiftool(path)
        assert not any(k.startswith(("IFD0:", "GPS:", "ExifIFD:")) for k in data)
        assert not {"XMP-dc:Creator", "XMP-exif:GPSLatitude", "XMP-photoshop:City"} & set(data)
        return
    [rec] = records
    _compare_with_exiftool(rec, path)


def test_heic_against_committed_ground_truth(corpus: Path, tmp_path: Path) -> None:
    """Without exiftool: the corpus's own exiftool 12.57 reading of the HEIC."""
    path = need(corpus / "images" / "heic" / "iphone_13_pro_max.heic")
    truth = json.loads(need(corpus / "groundtruth" / "exif" / "heic-exiftool-n.json").read_text())[0]
    [rec], warnings, _ = _run(FileItem.from_path(path), tmp_path)
    assert warnings == []
    assert (rec.image_format, rec.make, rec.model, rec.software) == (
        "heif",
        "Apple",
        "iPhone 13 Pro Max",
        "15.2.1",
    )
    assert (rec.make, rec.model, rec.software) == (truth["Make"], truth["Model"], str(truth["Software"]))
    assert rec.taken is not None and rec.taken.raw == truth["DateTimeOriginal"]
    assert rec.taken.offset == truth["OffsetTimeOriginal"] == "+01:00"
    assert rec.taken.utc == "2022-02-16T11:55:41.762000Z"  # SubSecTimeOriginal 762
    assert (rec.width, rec.height) == (truth["ImageWidth"], truth["ImageHeight"])
    assert rec.latitude is None and "GPSLatitude" not in truth
    assert rec.has_thumbnail is False and rec.heif_thumbnails == 1


XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    b' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
    b' xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"'
    b' photoshop:City="Valparaiso" photoshop:Country="Chile" Iptc4xmpCore:Location="Cerro Alegre"'
    b' exif:GPSLatitude="33,3.25S" exif:GPSLongitude="71,37,12.5W">'
    b"<dc:creator><rdf:Seq><rdf:li>Jane Roe</rdf:li><rdf:li>John Doe</rdf:li></rdf:Seq></dc:creator>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _fixture_exif() -> Any:
    """Every field the plugin reads, with an offset, below sea level, south-west, GPS time with 0.5 s."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "TestMake", "TestModel", "TestSoft 1.0"
    exif[0x0132] = "2024:03:01 10:00:00"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011], sub[0xA431] = "2024:03:01 09:58:07", "-05:00", "SN12345"
    gps = exif.get_ifd(0x8825)
    gps[0x00] = b"\x02\x03\x00\x00"
    gps[0x01], gps[0x02] = "S", (33.0, 51.0, 54.36)
    gps[0x03], gps[0x04] = "W", (70.0, 39.0, 1.5)
    gps[0x05], gps[0x06] = b"\x01", 12.5
    gps[0x10], gps[0x11] = "T", 271.25
    gps[0x1D], gps[0x07] = "2024:03:01", (14.0, 58.0, 7.5)
    gps[0x12] = "WGS-84"
    return exif


def _make_photo(kind: str, folder: Path) -> Path:
    """Fixture photos written by Pillow (JPEG, PNG with zlib-compressed XMP iTXt, WebP). The TIFF is
    the EXIF TIFF structure itself (IFD0 + Exif + GPS IFDs, XMP as tag 700) saved as a file: Pillow
    does not write Exif/GPS sub-IFDs into TIFF images."""
    from PIL import Image, PngImagePlugin

    exif = _fixture_exif()
    image = Image.new("RGB", (64, 48), "red")
    path = folder / f"fixture.{kind}"
    if kind in ("jpg", "webp"):
        image.save(path, exif=exif, xmp=XMP_PACKET)
    elif kind == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode(), zip=True)
        image.save(path, exif=exif, pnginfo=info)
    elif kind == "tif":
        exif[0x0100], exif[0x0101] = 64, 48
        exif[700] = XMP_PACKET
        path.write_bytes(exif.tobytes()[len(b"Exif\x00\x00") :])
    return path


@pytest.mark.parametrize("kind", ["jpg", "png", "webp", "tif"])
def test_made_photos_equal_exiftool(tmp_path: Path, kind: str) -> None:
    path = _make_photo(kind, tmp_path)
    [rec], warnings, outcome = _run(FileItem.from_path(path), tmp_path)
    assert outcome == "ok" and warnings == []
    assert rec.serial_number == "SN12345" and rec.altitude == -12.5 and rec.direction == 271.25
    assert rec.taken is not None and rec.taken.utc == "2024-03-01T14:58:07.000000Z"
    assert rec.gps_time is not None and rec.gps_time.utc == "2024-03-01T14:58:07.500000Z"
    assert rec.xmp_creator == "Jane Roe; John Doe" and rec.xmp_city == "Valparaiso"
    assert rec.xmp_latitude == pytest.approx(-(33 + 3.25 / 60))
    compared = _compare_with_exiftool(rec, path)
    assert len(compared) == 25


# --- hostile input: bounded, warned, never fatal ----------------------------------------------------


def _tiff(entries: list[tuple[int, int, int, bytes]], next_ifd: int = 0, count: int | None = None) -> bytes:
    """Little-endian TIFF: header + IFD0 at 8 with the given (tag, type, count, 4-byte value) entries."""
    n = len(entries) if count is None else count
    body = struct.pack("<2sHI", b"II", 42, 8) + struct.pack("<H", n)
    for tag, ftype, cnt, value in entries:
        body += struct.pack("<HHI", tag, ftype, cnt) + value.ljust(4, b"\x00")
    return body + struct.pack("<I", next_ifd) + b"Make\x00\x00\x00\x00"


HOSTILE = {
    # IFD0's next-IFD pointer points back at IFD0, and its Exif IFD pointer does too
    "ifd-loop": _tiff([(0x010F, 2, 3, b"ab\x00"), (0x8769, 4, 1, struct.pack("<I", 8))], next_ifd=8),
    # an ASCII tag claiming four thousand million bytes
    "absurd-count": _tiff([(0x010F, 2, 0xFFFFFFF0, struct.pack("<I", 8)), (0x0110, 2, 3, b"xy\x00")]),
    # IFD0 claims 40 entries, the block holds 2
    "truncated-ifd": _tiff([(0x010F, 2, 3, b"ab\x00"), (0x0110, 2, 3, b"xy\x00")], count=40),
    # an IFD entry count of 65535
    "huge-ifd": _tiff([(0x010F, 2, 3, b"ab\x00")], count=0xFFFF),
    # GPS IFD pointer far past the end
    "gps-past-end": _tiff([(0x010F, 2, 3, b"ab\x00"), (0x8825, 4, 1, struct.pack("<I", 0x7FFFFFF0))]),
}


def _wrap(kind: str, tiff: bytes) -> bytes:
    if kind == "jpg":
        return _jpeg_with_app1(b"Exif\x00\x00" + tiff)
    if kind == "png":
        chunk = struct.pack(">I", len(tiff)) + b"eXIf" + tiff + b"\x00\x00\x00\x00"
        ihdr = struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0) + b"\x00" * 4
        return b"\x89PNG\r\n\x1a\n" + ihdr + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    if kind == "webp":
        pad = b"\x00" if len(tiff) % 2 else b""
        chunk = b"EXIF" + struct.pack("<I", len(tiff)) + tiff + pad
        return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
    return tiff


@pytest.mark.parametrize("kind", ["jpg", "png", "webp", "tif"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_malformed_exif_is_a_quick_warning(tmp_path: Path, kind: str, case: str) -> None:
    item = FileItem.from_bytes(_wrap(kind, HOSTILE[case]), path=f"/DCIM/{case}.{kind}")
    started = time.thread_time()  # the work's CPU, not a loaded machine's stalls
    records, warnings, outcome = _run(item, tmp_path)
    elapsed = time.thread_time() - started
    assert outcome == "ok", (case, kind)
    assert any("malformed EXIF" in w for w in warnings), (case, kind, warnings)
    assert elapsed < 0.5, (case, kind, elapsed)  # measured: 1-30 ms each
    [rec] = records  # what could be read is kept
    if case == "absurd-count":
        assert (rec.make, rec.model) == (None, "xy")  # the impossible tag is dropped, not read as garbage
    else:
        assert rec.make == "ab"


def test_decompression_bomb_is_capped_before_decoding(tmp_path: Path) -> None:
    """A PNG declaring 100000 x 100000 pixels (a JPEG 65000 x 65000, a WebP 40000 x 40000), and the corpus HEIC with its size boxes rewritten to
    60000 x 60000: a warning from the header alone, libheif never asked to open the HEIC."""
    ihdr = (
        struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
        + b"\x00" * 4
    )
    png = FileItem.from_bytes(
        b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82", path="/bomb.png"
    )
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65_000, 65_000, 1) + b"\x01\x11\x00"
    jpeg = FileItem.from_bytes(b"\xff\xd8" + sof + b"\xff\xd9", path="/bomb.jpg")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (40_000 - 1).to_bytes(3, "little") * 2
    webp = FileItem.from_bytes(b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x, path="/bomb.webp")
    for item in (png, jpeg, webp):
        started = time.perf_counter()
        records, warnings, outcome = _run(item, tmp_path)
        assert outcome == "ok" and records == [], item.path
        assert any("decompression bomb" in w for w in warnings), item.path
        assert time.perf_counter() - started < 1.0


def test_heic_bomb_never_reaches_libheif(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray(need(corpus / "images" / "heic" / "iphone_13_pro_max.heic").read_bytes())
    start = 0
    while (i := data.find(b"ispe", start, 1 << 20)) != -1:
        data[i + 8 : i + 16] = struct.pack(">II", 60_000, 60_000)
        start = i + 4
    import pi_heif

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("libheif was asked to open a capped image")

    monkeypatch.setattr(pi_heif, "open_heif", refuse)
    records, warnings, outcome = _run(FileItem.from_bytes(bytes(data), path="/bomb.heic"), tmp_path)
    assert outcome == "ok" and records == []
    assert any("60000x60000" in w and "decompression bomb" in w for w in warnings)


def test_xmp_with_entities_is_refused(tmp_path: Path) -> None:
    packet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + XMP_PACKET
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    records, warnings, outcome = _run(FileItem.from_bytes(_jpeg_with_app1(payload), path="/x.jpg"), tmp_path)
    assert outcome == "ok" and records == []
    assert warnings == ["XMP packet declares a DTD or entities: not parsed"]


def test_truncated_heic_warns(corpus: Path, tmp_path: Path) -> None:
    """The corpus HEIC cut inside its meta box: libheif's refusal becomes a warning, no record."""
    data = need(corpus / "images" / "heic" / "iphone_13_pro_max.heic").read_bytes()[:3000]
    records, warnings, outcome = _run(FileItem.from_bytes(data, path="/cut.heic"), tmp_path)
    assert outcome == "ok" and records == []
    assert len(warnings) == 1 and warnings[0].startswith("HEIF container unreadable")


def _gps_and_date_tiff() -> bytes:
    """IFD0 with DateTime ``9999:99:99 99:99:99`` and a GPS IFD whose latitude is three rationals
    over zero and whose longitude is ASCII text where rationals belong (found in review: both were
    dropped without a word)."""
    date = b"9999:99:99 99:99:99\x00"
    ifd0_at, gps_at = 8, 8 + 2 + 2 * 12 + 4
    data_at = gps_at + 2 + 4 * 12 + 4
    ifd0 = struct.pack("<H", 2)
    ifd0 += struct.pack("<HHII", 0x0132, 2, len(date), data_at + 24)  # DateTime, after the rationals
    ifd0 += struct.pack("<HHII", 0x8825, 4, 1, gps_at) + struct.pack("<I", 0)
    gps = struct.pack("<H", 4)
    gps += struct.pack("<HHI", 1, 2, 2) + b"N\x00\x00\x00"  # GPSLatitudeRef
    gps += struct.pack("<HHII", 2, 5, 3, data_at)  # GPSLatitude: 10/0, 20/0, 30/0
    gps += struct.pack("<HHI", 3, 2, 2) + b"E\x00\x00\x00"  # GPSLongitudeRef
    gps += struct.pack("<HHI", 4, 2, 4) + b"AAA\x00"  # GPSLongitude as ASCII
    gps += struct.pack("<I", 0)
    return (
        b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + gps + struct.pack("<6I", 10, 0, 20, 0, 30, 0) + date
    )


def test_unreadable_gps_and_dates_are_warnings_not_silence(tmp_path: Path) -> None:
    item = FileItem.from_bytes(_wrap("jpg", _gps_and_date_tiff()), path="/DCIM/odd.jpg")
    records, warnings, outcome = _run(item, tmp_path)
    assert outcome == "ok"
    [rec] = records
    assert rec.latitude is None and rec.longitude is None
    assert rec.modified is not None and rec.modified.utc is None and rec.modified.raw == "9999:99:99 99:99:99"
    said = " | ".join(warnings)
    assert "GPS GPSLatitude cannot be read as degrees, minutes, seconds" in said, warnings
    assert "GPS GPSLongitude cannot be read as degrees, minutes, seconds" in said, warnings
    assert "Image DateTime is '9999:99:99 99:99:99'" in said and "kept raw, no time" in said, warnings


def _impossible_photo(path: Path) -> Path:
    """Made with Pillow: an offset of +25:00, latitude 95° N, longitude 10° 75' E (11.25°) and an
    altitude of 0/0. exiftool reads every tag (``OffsetTimeOriginal: +25:00``, ``GPSLatitude: 95
    deg``, ``GPSAltitude: undef``); in review the offset lost the whole record, the latitude was
    stored as a position and the altitude dropped without a word."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[0x010F] = "TestMake"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011] = "2020:02:01 10:00:00", "+25:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(95, 1), IFDRational(0, 1), IFDRational(0, 1))
    gps[3], gps[4] = "E", (IFDRational(10, 1), IFDRational(75, 1), IFDRational(0, 1))
    gps[5], gps[6] = b"\x00", IFDRational(0, 0)
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    return path


def test_impossible_offsets_and_positions_are_said_and_the_record_kept(tmp_path: Path) -> None:
    path = _impossible_photo(tmp_path / "odd.jpg")
    oracle = _exiftool(path)
    assert oracle["ExifIFD:OffsetTimeOriginal"] == "+25:00" and oracle["IFD0:Make"] == "TestMake"
    records, warnings, outcome = _run(FileItem.from_path(path, fs_path="/DCIM/odd.jpg"), tmp_path)
    assert outcome == "ok"
    [rec] = records
    assert rec.make == "TestMake"
    assert rec.taken is not None and rec.taken.utc is None and rec.taken.local == "2020-02-01T10:00:00.000000"
    assert rec.taken.note is not None and "'+25:00' is not a valid offset" in rec.taken.note
    assert rec.latitude is None  # 95 degrees is no place
    assert rec.longitude == pytest.approx(oracle["GPS:GPSLongitude"], abs=GPS_TOLERANCE)  # 11.25, as exiftool
    assert rec.altitude is None
    said = " | ".join(warnings)
    assert "GPS GPSLatitude is" in said and "no place has it (0 to 90); no position" in said, warnings
    assert "GPS GPSLongitude is" in said and "minutes or seconds of 60 or more" in said, warnings
    assert "GPS GPSAltitude cannot be read as a number" in said, warnings
