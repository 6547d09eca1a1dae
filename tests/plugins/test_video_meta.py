"""MP4/MOV/3GP metadata against exiftool -n, on videos made here with ffmpeg; hostile boxes warn.

The fixtures are real files written by ffmpeg (``-metadata location=...``, ``creation_time``, the
QuickTime ``©mak``/``©mod`` atoms in MOV, Apple's ``com.apple.quicktime.*`` keys through
``-movflags use_metadata_tags``); the Android-style MP4 gets its ``©xyz`` atom (as Android's
MediaRecorder writes it) appended by the test to ffmpeg's ``moov``, which ffmpeg puts last, so no
chunk offset moves. exiftool (Debian's libimage-exiftool-perl) is the oracle for every field.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from plugins.media.video_meta import VideoMeta, VideoMetaPlugin, parse_iso6709
from tests.conftest import FORENSICS_SAMPLES, need_tool
from tests.plugins.triage_e2e import acquired_case, exhibit
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.scratch import Scratch

GPS_TOLERANCE = 1e-6
WHERE = "+48.8584+002.2945+035.000/"
WHEN = "2024-05-01T12:34:56Z"
APPLE_KEYS = (
    "-movflags",
    "use_metadata_tags",
    "-metadata",
    "com.apple.quicktime.make=Apple",
    "-metadata",
    "com.apple.quicktime.model=iPhone 12 Pro",
    "-metadata",
    "com.apple.quicktime.software=17.1.2",
    "-metadata",
    "com.apple.quicktime.creationdate=2024-05-01T14:34:56+0200",
    "-metadata",
    f"com.apple.quicktime.location.ISO6709={WHERE}",
)


def _ffmpeg(out: Path, *extra: str, seconds: str = "2.5", codec: tuple[str, ...] = ("-c:v", "mpeg4")) -> Path:
    ffmpeg = need_tool("ffmpeg")
    source = ("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", seconds)
    if out.suffix == ".3gp":
        source = ("-f", "lavfi", "-i", "testsrc=size=176x144:rate=10", "-t", seconds)
        codec = ("-c:v", "h263")
    subprocess.run(
        [
            ffmpeg,
            "-y",
            "-loglevel",
            "error",
            *source,
            *codec,
            "-metadata",
            f"creation_time={WHEN}",
            *extra,
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out


def _top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((kind, pos, size))
        pos += size
    return out


def _android_mp4(folder: Path) -> Path:
    """An MP4 with ``moov/udta/©xyz`` as Android writes it: 16-bit length, language 0x15c7, text."""
    plain = _ffmpeg(folder / "plain.mp4")
    data = bytearray(plain.read_bytes())
    [(_, moov, size)] = [b for b in _top_boxes(bytes(data)) if b[0] == b"moov"]
    assert moov + size == len(data)  # ffmpeg writes moov last
    text = b"+37.4219-122.0840/"
    xyz = struct.pack(">I4sHH", 12 + len(text), b"\xa9xyz", len(text), 0x15C7) + text
    udta = struct.pack(">I4s", 8 + len(xyz), b"udta") + xyz
    data += udta
    data[moov : moov + 4] = struct.pack(">I", size + len(udta))
    out = folder / "VID_20240501_123456.mp4"
    out.write_bytes(bytes(data))
    plain.unlink()
    return out


def _fixtures(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "loci.mp4": _ffmpeg(folder / "loci.mp4", "-metadata", f"location={WHERE}"),
        "apple.mp4": _ffmpeg(folder / "apple.mp4", *APPLE_KEYS, seconds="3.7"),
        "udta.mov": _ffmpeg(
            folder / "udta.mov",
            "-metadata",
            f"location={WHERE}",
            "-metadata",
            "make=Apple",
            "-metadata",
            "model=iPhone 12",
        ),
        "apple.mov": _ffmpeg(folder / "apple.mov", *APPLE_KEYS, seconds="1.3"),
        "loci.3gp": _ffmpeg(folder / "loci.3gp", "-metadata", f"location={WHERE}", seconds="1.7"),
        "android.mp4": _android_mp4(folder),
    }


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _fixtures(tmp_path_factory.mktemp("videos"))


def _run(item: FileItem, tmp_path: Path) -> tuple[list[VideoMeta], list[str], str]:
    plugin = VideoMetaPlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    records = [r for r in result.records if isinstance(r, VideoMeta)]
    return records, [w.message for w in result.warnings], result.runs[0].outcome


def _exiftool(path: Path) -> dict[str, Any]:
    exiftool = need_tool("exiftool")
    out = subprocess.run([exiftool, "-n", "-j", "-G", str(path)], capture_output=True, check=True, timeout=60)
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def _exif_time(utc: str | None) -> str | None:
    """Our UTC instant in exiftool's QuickTime date form (``YYYY:MM:DD HH:MM:SS``, no zone)."""
    if utc is None:
        return None
    return utc[:19].replace("-", ":", 2).replace("T", " ")


def _compare(rec: VideoMeta, tool: dict[str, Any]) -> list[str]:
    """Every field the record reports against exiftool -n's value; returns the mismatches."""
    bad: list[str] = []

    def same(name: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            bad.append(f"{name}: ours {ours!r}, exiftool {theirs!r}")

    same("container brand", rec.major_brand, tool.get("QuickTime:MajorBrand"))
    same("created", _exif_time(rec.created.utc if rec.created else None), tool.get("QuickTime:CreateDate"))
    same("modified", _exif_time(rec.modified.utc if rec.modified else None), tool.get("QuickTime:ModifyDate"))
    duration = tool.get("QuickTime:Duration")
    if rec.duration is None or duration is None or abs(rec.duration - float(duration)) > 1e-9:
        bad.append(f"duration: ours {rec.duration!r}, exiftool {duration!r}")
    same("make", rec.make, tool.get("QuickTime:Make"))
    same("model", rec.model, tool.get("QuickTime:Model"))
    software = tool.get("QuickTime:Software", tool.get("QuickTime:SoftwareVersion"))
    same("software", rec.software, None if software is None else str(software))
    android = tool.get("QuickTime:AndroidVersion")
    same("android_version", rec.android_version, None if android is None else str(android))
    date = tool.get("QuickTime:CreationDate")
    if rec.creation_date is None:
        same("creation_date", None, date)
    else:  # exiftool shows "2024:05:01 14:34:56+02:00": the wall clock and the offset
        local = rec.creation_date.local or ""
        same(
            "creation_date",
            local[:19].replace("-", ":", 2).replace("T", " ") + (rec.creation_date.offset or ""),
            date,
        )
    if rec.location_source in (None, "udta/loci"):
        info = tool.get("QuickTime:LocationInformation")
        if rec.location_source is None:
            same("position", None, info or tool.get("QuickTime:GPSCoordinates"))
        else:  # exiftool prints loci with 5 decimals (altitude 2): compare at that precision
            m = re.search(r"Lat=(\S+) Lon=(\S+) Alt=(\S+)", info or "")
            assert m, info
            same("latitude", round(rec.latitude or 0, 5), float(m[1]))
            same("longitude", round(rec.longitude or 0, 5), float(m[2]))
            same("altitude", round(rec.altitude or 0, 2), float(m[3]))
    else:
        coords = [float(v) for v in str(tool.get("QuickTime:GPSCoordinates", "")).split()]
        assert len(coords) in (2, 3), tool.get("QuickTime:GPSCoordinates")
        for name, ours, theirs in zip(
            ("latitude", "longitude", "altitude"),
            (rec.latitude, rec.longitude, rec.altitude),
            coords,
            strict=False,
        ):
            if ours is None or abs(ours - theirs) > GPS_TOLERANCE:
                bad.append(f"{name}: ours {ours!r}, exiftool {theirs!r}")
    return bad


EXPECTED_SOURCE = {
    "loci.mp4": ("mp4", "udta/loci"),
    "apple.mp4": ("mp4", "keys/com.apple.quicktime.location.ISO6709"),
    "udta.mov": ("mov", "udta/©xyz"),
    "apple.mov": ("mov", "keys/com.apple.quicktime.location.ISO6709"),
    "loci.3gp": ("3gp", "udta/loci"),
    "android.mp4": ("mp4", "udta/©xyz"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_SOURCE))
def test_made_videos_equal_exiftool(videos: dict[str, Path], tmp_path: Path, name: str) -> None:
    path = videos[name]
    records, warnings, outcome = _run(FileItem.from_path(path, fs_path=f"/DCIM/{path.name}"), tmp_path)
    assert (outcome, warnings) == ("ok", [])
    [rec] = records
    assert (rec.container, rec.location_source) == EXPECTED_SOURCE[name]
    assert rec.created is not None and rec.created.utc == "2024-05-01T12:34:56.000000Z"
    assert rec.created.encoding == "mac1904_s" and rec.created.raw == 3_797_411_696
    assert _compare(rec, _exiftool(path)) == []
    if name.startswith("apple"):
        assert (rec.make, rec.model, rec.software) == ("Apple", "iPhone 12 Pro", "17.1.2")
        assert rec.creation_date is not None and rec.creation_date.utc == "2024-05-01T12:34:56.000000Z"
        assert rec.creation_date.raw == "2024-05-01T14:34:56+0200"
    if name == "android.mp4":
        assert (rec.latitude, rec.longitude, rec.altitude) == (37.4219, -122.084, None)
    else:
        assert rec.latitude == pytest.approx(48.8584, abs=2e-5) and rec.longitude == pytest.approx(
            2.2945, abs=2e-5
        )


@pytest.fixture(scope="module")
def sample_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two videos of Debian's forensics-samples NTFS image, extracted with The Sleuth Kit."""
    image = FORENSICS_SAMPLES / "fs.ntfs.xz"
    if not image.exists():
        pytest.skip(f"sample image absent: {image} (apt-get install forensics-samples-ntfs)")
    icat, unxz = need_tool("icat"), need_tool("unxz")
    folder = tmp_path_factory.mktemp("ntfs")
    raw = folder / "fs.ntfs"
    with raw.open("wb") as out:
        subprocess.run([unxz, "-c", str(image)], stdout=out, check=True, timeout=120)
    videos = {}
    for inode, name in ((73, "VID_20191220_170832.mp4"), (76, "movie-hello.mp4")):
        with (folder / name).open("wb") as out:
            subprocess.run([icat, "-o", "2048", str(raw), str(inode)], stdout=out, check=True, timeout=60)
        videos[name] = folder / name
    raw.unlink()
    return videos


def test_forensics_samples_videos_equal_exiftool(sample_videos: dict[str, Path], tmp_path: Path) -> None:
    phone = sample_videos["VID_20191220_170832.mp4"]
    [rec], warnings, _ = _run(FileItem.from_path(phone, fs_path="/movie1/VID_20191220_170832.mp4"), tmp_path)
    assert warnings == [] and _compare(rec, _exiftool(phone)) == []
    assert (rec.latitude, rec.longitude, rec.location_source) == (-15.8355, -48.0153, "udta/©xyz")
    assert (rec.android_version, rec.duration) == ("9", 1.6)
    assert rec.created is not None and rec.created.utc == "2019-12-20T20:08:34.000000Z"
    hello = sample_videos["movie-hello.mp4"]
    [rec], warnings, _ = _run(FileItem.from_path(hello, fs_path="/movie2/movie-hello.mp4"), tmp_path)
    assert warnings == [] and rec.duration == 8.32 and rec.latitude is None
    # zero times: exiftool shows "0000:00:00 00:00:00", Exhibit no instant and says why
    assert rec.created is not None and rec.created.utc is None and rec.created.raw == 0
    assert rec.created.note == "no time stored (null or zero)"
    assert _exiftool(hello)["QuickTime:CreateDate"] == "0000:00:00 00:00:00"


def test_renamed_video_is_found_by_its_boxes(videos: dict[str, Path], tmp_path: Path) -> None:
    renamed = tmp_path / "invoice.pdf"
    shutil.copy(videos["apple.mov"], renamed)
    records, warnings, _ = _run(FileItem.from_path(renamed, fs_path="/Documents/invoice.pdf"), tmp_path)
    assert warnings == [] and records[0].model == "iPhone 12 Pro"


def test_iso6709_forms() -> None:
    # degrees, degrees+minutes and degrees+minutes+seconds of the same point (ISO 6709 Annex H)
    assert parse_iso6709("+48.8584+002.2945+035.000/") == (48.8584, 2.2945, 35.0)
    lat, lon, alt = parse_iso6709("+4851.504+00217.670/") or (0, 0, 0)
    assert (lat, lon, alt) == (pytest.approx(48.8584), pytest.approx(2.2945), None)
    lat, lon, _ = parse_iso6709("-485130.24-0021740.2CRSWGS_84/") or (0, 0, 0)
    assert (lat, lon) == (pytest.approx(-48.8584), pytest.approx(-2.2945))
    assert parse_iso6709("+37.4219-122.0840/") == (37.4219, -122.084, None)
    for junk in ("", "48.85 2.29", "+91.0+000.0/", "+48.8+2.2/", "+48.8584"):
        assert parse_iso6709(junk) is None, junk


def _bounded(path: Path, tmp_path: Path) -> tuple[list[VideoMeta], list[str], str, float, int]:
    tracemalloc.start()
    started = time.monotonic()
    records, warnings, outcome = _run(FileItem.from_path(path, fs_path=f"/DCIM/{path.name}"), tmp_path)
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not any("Traceback" in w for w in warnings), warnings
    return records, warnings, outcome, seconds, peak


def test_truncated_moov_warns_and_keeps_what_is_there(videos: dict[str, Path], tmp_path: Path) -> None:
    data = videos["apple.mov"].read_bytes()
    [(_, moov, size)] = [b for b in _top_boxes(data) if b[0] == b"moov"]
    cut = tmp_path / "cut.mov"
    cut.write_bytes(data[: moov + size // 2])
    records, warnings, outcome, seconds, peak = _bounded(cut, tmp_path)
    assert outcome == "ok" and seconds < 2 and peak < 4 * 1024 * 1024
    assert any(
        f"box 'moov' at offset {moov} declares {size} bytes, past the end of the file" in w
        and "truncated" in w
        for w in warnings
    ), warnings
    [rec] = records  # the movie header comes first in moov, so it survives the cut
    assert rec.created is not None and rec.duration == 1.3


def test_absurd_box_sizes_warn_quickly(videos: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(videos["udta.mov"].read_bytes())
    boxes = _top_boxes(bytes(data))
    # 1. a 64-bit size of 2**62 bytes for a box in a 12 KB file
    huge = tmp_path / "huge.mp4"
    huge.write_bytes(bytes(data) + struct.pack(">I4sQ", 1, b"free", 2**62))
    # 2. a udta inside moov declaring 4 GB
    [(_, moov, _size)] = [b for b in boxes if b[0] == b"moov"]
    udta = data.find(b"udta", moov) - 4
    data[udta : udta + 4] = struct.pack(">I", 0xFFFFFFF0)
    bad_child = tmp_path / "child.mov"
    bad_child.write_bytes(bytes(data))
    # 3. a size smaller than the box header
    tiny = tmp_path / "tiny.mov"
    tiny.write_bytes(
        struct.pack(">I4s", 20, b"ftyp") + b"qt  \x00\x00\x00\x00qt  " + struct.pack(">I4s", 3, b"moov")
    )
    # 4. a moov of a million empty boxes
    many = tmp_path / "many.mov"
    body = struct.pack(">I4s", 8, b"free") * 1_000_000
    many.write_bytes(struct.pack(">I4s", 8 + len(body), b"moov") + body)
    expect = {
        huge: f"box 'free' at offset {len(data)} declares {2**62} bytes, past the end of the file",
        bad_child: f"box 'udta' at offset {udta} declares {0xFFFFFFF0} bytes, past the end of",
        tiny: "declares an impossible size of 3 bytes",
        many: "more than 20000 boxes",
    }
    for path, message in expect.items():
        records, warnings, outcome, seconds, peak = _bounded(path, tmp_path)
        assert outcome == "ok", path.name
        assert any(message in w for w in warnings), (path.name, warnings)
        assert seconds < 2 and peak < 4 * 1024 * 1024, (path.name, seconds, peak)
    records, *_ = _bounded(huge, tmp_path)
    assert records[0].latitude == 48.8584  # the damage after moov does not cost the metadata


def test_not_a_video(tmp_path: Path) -> None:
    heic = tmp_path / "x.mp4"
    heic.write_bytes(struct.pack(">I4s4sI4s", 20, b"ftyp", b"heic", 0, b"mif1") + b"\x00" * 64)
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"just some text, not a movie at all\n")
    plugin = VideoMetaPlugin()
    for path in (heic, text):
        with Scratch(tmp_path) as scratch:
            ctx = ParseContext(scratch=scratch)
            result = run_plugins(FileItem.from_path(path, fs_path=f"/{path.name}"), [plugin], ctx)
        assert result.records == [] and result.warnings == [] and result.runs[0].outcome == "not-my-format"


def test_no_moov_is_a_warning(videos: dict[str, Path], tmp_path: Path) -> None:
    data = videos["loci.mp4"].read_bytes()
    [(_, moov, _)] = [b for b in _top_boxes(data) if b[0] == b"moov"]
    cut = tmp_path / "interrupted.mp4"
    cut.write_bytes(data[:moov])  # a recording stopped before the header was written
    records, warnings, outcome = _run(FileItem.from_path(cut, fs_path="/DCIM/interrupted.mp4"), tmp_path)
    assert records == [] and outcome == "ok"
    assert warnings and "no 'moov' box" in warnings[0]


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_triage_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of videos acquired and triaged through the command line: records stored, shown by
    ``exhibit findings`` and ``exhibit timeline``; the evidence's hashes and mtimes unchanged."""
    made = _fixtures(tmp_path / "made")
    files = {
        "DCIM/Camera/VID_20240501_123456.mp4": made["android.mp4"],
        "DCIM/100APPLE/IMG_0001.MOV": made["apple.mov"],
        "Download/clip.3gp": made["loci.3gp"],
        "Download/holiday.dat": made["udta.mov"],  # renamed: found by its boxes
    }
    data = made["apple.mp4"].read_bytes()
    [(_, moov, size)] = [b for b in _top_boxes(data) if b[0] == b"moov"]
    cut = tmp_path / "made" / "cut.mp4"
    cut.write_bytes(data[: moov + size // 2])  # a recording cut in the middle of its moov
    files["DCIM/Camera/cut.mp4"] = cut
    evidence = tmp_path / "evidence"
    for relative, source in files.items():
        (evidence / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, evidence / relative)
    before = _state(evidence)
    acquired_case(tmp_path, monkeypatch, {"EX-001": evidence}, title="videos")
    ran = exhibit("triage", "EX-001", "--plugins", "video_meta", "--workers", "1")
    assert ran.code == 0 and "Traceback" not in ran.out + ran.err, ran.out + ran.err
    warning = f"warning: video_meta: /DCIM/Camera/cut.mp4: box 'moov' at offset {moov} declares {size} bytes"
    assert warning in " ".join((ran.out + ran.err).split()), ran.out + ran.err
    ran = exhibit("findings", "EX-001", "--kind", "media/video", "--json")
    assert ran.code == 0, ran.out + ran.err
    findings = json.loads(ran.out)
    events = exhibit("timeline", "EX-001", "--kind", "media/video", "--json").lines()
    by_name = {f["source"]["path"].rsplit("/", 1)[-1]: f for f in findings}
    assert set(by_name) == {"VID_20240501_123456.mp4", "IMG_0001.MOV", "clip.3gp", "holiday.dat", "cut.mp4"}
    assert all(f["record_type"] == "media/video/quicktime" and f["plugin"] == "video_meta" for f in findings)
    iphone = by_name["IMG_0001.MOV"]["data"]
    assert (iphone["make"], iphone["model"], iphone["latitude"]) == ("Apple", "iPhone 12 Pro", 48.8584)
    assert iphone["creation_date"]["raw"] == "2024-05-01T14:34:56+0200"
    assert by_name["VID_20240501_123456.mp4"]["data"]["longitude"] == -122.084
    assert by_name["holiday.dat"]["data"]["container"] == "mov"
    # created + modified of each of the 5 videos (the cut one keeps its header), the iPhone's creation_date
    assert len(events) == 11, events
    assert _state(evidence) == before
