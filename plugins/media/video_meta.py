"""Where and when a video was shot, and with what: MP4, MOV and 3GP (ISO BMFF / QuickTime) metadata.

**Why a box walker of our own.** The maintained parsers that read these files do not fit: hachoir
and mutagen are GPL (not linked into an Apache-2.0 tool); pymediainfo needs the native
libmediainfo and reports normalised, formatted values (a rounded duration, a re-written date)
rather than the stored ones; pymp4 parses each box it meets in full and has no bounds on what a
hostile size makes it read. What is needed is small: a handful of boxes, each read raw. So this
module walks the box tree itself with strict bounds, and nothing else:

- a box's size is checked against its parent and against the file before anything is read; a
  ``moov`` that runs past the end of the file (a recording cut short, a partial carve) is read as
  far as it goes, with a warning naming the box and the sizes;
- at most :data:`MAX_DEPTH` levels and :data:`MAX_BOXES` boxes are visited, and only the boxes
  below are read, each at most :data:`MAX_PAYLOAD` bytes: ``mdat`` (the media) is never read, and
  the file is never read whole.

Boxes read (ISO/IEC 14496-12, Apple's QuickTime File Format, 3GPP TS 26.244):

- ``ftyp``: major and compatible brands (``qt  `` -> mov, ``3gp*``/``3g2*`` -> 3gp, others mp4).
  Files without ``ftyp`` that start with ``moov``, ``mdat``, ``wide``, ``free`` or ``skip``
  (QuickTime before ``ftyp`` existed) are read as mov. HEIF/AVIF still images (an ``ftyp`` whose
  major brand is ``heic``, ``mif1``, ``avif`` ...) are not this plugin's (photos_exif reads them).
- ``moov/mvhd``: ``creation_time`` and ``modification_time`` (seconds since 1904-01-01, UTC per
  ISO/IEC 14496-12: :func:`~triage.plugin.timeconv.from_mac1904_seconds`), ``timescale`` and
  ``duration`` (duration in seconds = duration / timescale; exiftool's QuickTime:Duration).
- ``moov/udta`` QuickTime text atoms ``©mak``, ``©mod``, ``©swr`` (make, model, software) and
  ``©xyz`` (an ISO 6709 position, as both iPhones' older files and Android's MediaRecorder write
  it; exiftool's QuickTime:GPSCoordinates).
- ``moov/udta/loci`` (3GPP location: 16.16 fixed-point longitude, latitude, altitude; what
  ffmpeg writes in MP4 and 3GP; exiftool's QuickTime:LocationInformation).
- ``meta`` (in ``moov`` or ``moov/udta``) with handler ``mdta``: the ``keys`` list and the
  ``ilst`` values of Apple's ``com.apple.quicktime.make``, ``.model``, ``.software``,
  ``.creationdate`` (ISO 8601 text with the offset: :func:`~triage.plugin.timeconv.from_iso8601_text`)
  and ``.location.ISO6709``, Android's ``com.android.version`` (exiftool's AndroidVersion);
  ``ilst`` items named ``©mak``/``©mod``/``©swr``/``©xyz`` too.

When a file has several positions, the Apple key wins over ``©xyz``, and ``©xyz`` over ``loci``
(whose fixed point keeps about 5 decimals); ``location_source`` names the one used and
``location_raw`` keeps it as stored. Make, model and software: the Apple key, else the ``udta`` atom.

Tested against exiftool ``-n`` on MP4, MOV and 3GP files made with ffmpeg and on the two videos
of Debian's ``forensics-samples`` NTFS image (an Android 9 phone's ``VID_20191220_170832.mp4``
with ``©xyz`` -15.8355-048.0153, created 2019-12-20T20:08:34Z; ``movie-hello.mp4`` with zero
times), in tests/plugins/test_video_meta.py: every field equal (GPS within 1e-6 degrees; ``loci``
to exiftool's 5 printed decimals); truncated and absurd-size files warn without a traceback.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar

from triage.plugin import (
    FileItem,
    GeoFields,
    NotMyFormat,
    ParseContext,
    Plugin,
    Record,
    Targets,
    TimeValue,
    from_iso8601_text,
    from_mac1904_seconds,
)

MAX_DEPTH = 8  # moov/udta/meta/ilst/<item>/data is 6 deep
MAX_BOXES = 20_000  # boxes visited in one file before giving up
MAX_PAYLOAD = 1024 * 1024  # bytes read from any one metadata box
MAX_KEYS = 4096
# Major brands of still-image files in the same container: photos_exif reads those.
IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"mif2"}
)
QT_STARTS = (b"moov", b"mdat", b"wide", b"free", b"skip")
APPLE = "com.apple.quicktime."
ANDROID_VERSION = "com.android.version"
_CONTAINERS = {b"moov", b"udta", b"meta", b"ilst"}


@dataclass(frozen=True, kw_only=True)
class VideoMeta(GeoFields, Record):
    """The movie header and the device, time and position metadata of one MP4/MOV/3GP file.

    ``locator`` is the ``moov`` box's byte offset (``moov@offset=N``).
    """

    record_type: ClassVar[str] = "media/video/quicktime"

    container: str  # mp4, mov, 3gp
    major_brand: str | None = None  # ftyp major brand as stored ("qt  ", "isom", "3gp4")
    compatible_brands: tuple[str, ...] = ()
    created: TimeValue | None = None  # mvhd creation_time
    modified: TimeValue | None = None  # mvhd modification_time
    duration: float | None = None  # seconds: duration_units / timescale
    duration_units: int | None = None  # mvhd duration, as stored
    timescale: int | None = None  # mvhd units per second
    make: str | None = None
    model: str | None = None
    software: str | None = None
    creation_date: TimeValue | None = None  # com.apple.quicktime.creationdate (has its offset)
    android_version: str | None = None  # com.android.version: the Android release that recorded it
    altitude: float | None = None  # metres, as the position gives it
    location_raw: str | None = None  # the ISO 6709 text, or the loci values as "lat lon alt"
    location_source: str | None = None  # udta/©xyz, keys/com.apple.quicktime.location.ISO6709, udta/loci


@dataclass
class _Box:
    kind: bytes
    offset: int
    header: int
    end: int  # exclusive, already clamped to the parent

    @property
    def name(self) -> str:
        return self.kind.decode("latin-1")

    @property
    def body(self) -> int:
        return self.offset + self.header


@dataclass
class _Found:
    brands: list[bytes] = field(default_factory=list)
    moov: int | None = None
    mvhd: tuple[int, int, int, int] | None = None  # created, modified, timescale, duration
    text: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, source)
    position: dict[str, str] = field(default_factory=dict)  # source -> raw
    loci: tuple[float, float, float] | None = None


class _Walk:
    """Bounded reading of one file's boxes; every structural fault is one warning."""

    def __init__(self, fh: BinaryIO, size: int, ctx: ParseContext) -> None:
        self.fh, self.size, self.ctx = fh, size, ctx
        self.visited = 0
        self.stopped = False

    def read(self, offset: int, length: int) -> bytes:
        self.fh.seek(offset)
        return self.fh.read(length)

    def boxes(self, start: int, end: int, parent: str) -> Iterator[_Box]:
        """The boxes between ``start`` and ``end`` (the parent's end, clamped to the file)."""
        pos = start
        while pos + 8 <= end and not self.stopped:
            self.visited += 1
            if self.visited > MAX_BOXES:
                self.ctx.warn(
                    f"more than {MAX_BOXES} boxes: the rest of the file is not read", locator=f"offset={pos}"
                )
                self.stopped = True
                return
            head = self.read(pos, 16)
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1:
                if len(head) < 16:
                    self.ctx.warn(
                        f"box {kind!r} at offset {pos} is cut before its 64-bit size", locator=f"offset={pos}"
                    )
                    return
                (size,) = struct.unpack(">Q", head[8:16])
                header = 16
            elif size == 0:  # "to the end of the file" (of the parent)
                size = end - pos
            name = kind.decode("latin-1")
            if size < header:
                self.ctx.warn(
                    f"box '{name}' at offset {pos} declares an impossible size of {size} bytes: "
                    f"the rest of {parent} is not read",
                    locator=f"offset={pos}",
                )
                return
            box_end = pos + size
            if box_end > end:
                where = "the file" if end == self.size else f"its parent {parent} (ends at offset {end})"
                cut = end == self.size and parent == "the file"
                self.ctx.warn(
                    f"box '{name}' at offset {pos} declares {size} bytes, past the end of {where}"
                    + (
                        f" ({self.size} bytes): the file is truncated or the size is wrong; "
                        "reading what is there"
                        if cut
                        else "; reading what is there"
                    ),
                    locator=f"offset={pos}",
                )
                box_end = end
            yield _Box(kind, pos, header, box_end)
            pos = box_end

    def payload(self, box: _Box) -> bytes | None:
        length = box.end - box.body
        if length > MAX_PAYLOAD:
            self.ctx.warn(
                f"box '{box.name}' at offset {box.offset} holds {length} bytes, over the "
                f"{MAX_PAYLOAD}-byte cap for metadata: not read",
                locator=f"offset={box.offset}",
            )
            return None
        return self.read(box.body, length)


class VideoMetaPlugin(Plugin):
    """Reads MP4/MOV/3GP files (by name, MIME type, or the ``ftyp``/``moov``/``mdat``/``wide``
    box at offset 4) and emits one :class:`VideoMeta` per file: movie creation time and duration
    (``mvhd``), make/model/software, Apple's creation date, and the GPS position (``©xyz``,
    Apple's ISO 6709 key, 3GPP ``loci``)."""

    name = "video_meta"
    version = "1.0.0"
    description = "MP4/MOV/3GP movie header and metadata: creation time, duration, make/model, GPS"
    targets = Targets(
        globs=("**/*.mp4", "**/*.m4v", "**/*.mov", "**/*.qt", "**/*.3gp", "**/*.3g2"),
        mime_types=("video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2", "video/x-m4v"),
        magic=((4, b"ftyp"), *((4, start) for start in QT_STARTS)),
    )
    emits = (VideoMeta,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return _not_a_movie(head) is None

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[VideoMeta]:
        problem = _not_a_movie(item.head)
        if problem is not None:
            raise NotMyFormat(f"{item.path}: {problem}")
        with item.open() as fh:
            walk = _Walk(fh, item.size, ctx)
            found = _read(walk)
        if found.moov is None:
            ctx.warn(
                "no 'moov' box: the movie header was never written (a recording cut short) or the "
                "file is not a movie; no metadata read",
                locator="offset=0",
            )
            return
        yield _record(item, found, ctx)


def _not_a_movie(head: bytes) -> str | None:
    """Why the first bytes show the file is no movie this plugin reads, or ``None``."""
    if len(head) < 8 or head[4:8] not in (b"ftyp", *QT_STARTS):
        return "does not start with an ftyp, moov, mdat, wide, free or skip box"
    if head[4:8] == b"ftyp" and head[8:12] in IMAGE_BRANDS:
        return f"a HEIF/AVIF still image ({head[8:12]!r})"
    if head[4:8] != b"ftyp" and not _plausible_qt(head):
        return "the first bytes are not a box structure"
    return None


def _plausible_qt(head: bytes) -> bool:
    """A file without ftyp: the first box's size must be sane (at least its header)."""
    (size,) = struct.unpack(">I", head[:4])
    return size in (0, 1) or size >= 8


def _read(walk: _Walk) -> _Found:
    found = _Found()
    for box in walk.boxes(0, walk.size, "the file"):
        if box.kind == b"ftyp" and not found.brands:
            data = walk.payload(box) or b""
            found.brands = [data[0:4]] + [data[i : i + 4] for i in range(8, len(data) - 3, 4)]
        elif box.kind == b"moov" and found.moov is None:
            found.moov = box.offset
            _read_moov(walk, box, found)
    return found


def _read_moov(walk: _Walk, moov: _Box, found: _Found) -> None:
    for box in walk.boxes(moov.body, moov.end, "'moov'"):
        if box.kind == b"mvhd":
            _read_mvhd(walk, box, found)
        elif box.kind == b"udta":
            _read_udta(walk, box, found)
        elif box.kind == b"meta":
            _read_meta(walk, box, found, depth=2)


def _read_mvhd(walk: _Walk, box: _Box, found: _Found) -> None:
    data = walk.read(box.body, min(box.end - box.body, 32))
    version = data[0] if data else None
    need = 32 if version == 1 else 20
    if len(data) < need:
        walk.ctx.warn(
            f"'mvhd' at offset {box.offset} is cut short ({len(data)} bytes)", locator=f"offset={box.offset}"
        )
        return
    if version == 1:
        created, modified, scale, duration = struct.unpack(">QQIQ", data[4:32])
    else:
        created, modified, scale, duration = struct.unpack(">IIII", data[4:20])
    found.mvhd = (created, modified, scale, duration)


_TEXT_ATOMS = {b"\xa9mak": "make", b"\xa9mod": "model", b"\xa9swr": "software"}


def _read_udta(walk: _Walk, udta: _Box, found: _Found) -> None:
    for box in walk.boxes(udta.body, udta.end, "'udta'"):
        if box.kind in _TEXT_ATOMS or box.kind == b"\xa9xyz":
            data = walk.payload(box)
            text = _udta_text(data) if data is not None else None
            if text is None:
                if data is not None:
                    walk.ctx.warn(
                        f"'{box.name}' at offset {box.offset} holds no readable text",
                        locator=f"offset={box.offset}",
                    )
                continue
            if box.kind == b"\xa9xyz":
                found.position.setdefault("udta/©xyz", text)
            else:
                found.text.setdefault(_TEXT_ATOMS[box.kind], (text, "udta"))
        elif box.kind == b"loci" and found.loci is None:
            data = walk.payload(box)
            if data is not None:
                found.loci = _loci(data, walk.ctx, box.offset)
        elif box.kind == b"meta":
            _read_meta(walk, box, found, depth=3)


def _udta_text(data: bytes) -> str | None:
    """A QuickTime user-data text atom: 16-bit length, 16-bit language, text; or an iTunes ``data`` box."""
    if len(data) >= 16 and data[4:8] == b"data":
        return _data_text(data[8:])
    if len(data) < 4:
        return None
    (length,) = struct.unpack(">H", data[:2])
    text = data[4 : 4 + length]
    if len(text) < length:
        return None
    return _decode(text)


def _decode(raw: bytes) -> str | None:
    if raw.startswith((b"\xfe\xff", b"\xff\xfe")):
        text = raw.decode("utf-16", "replace")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("mac_roman")
    text = text.strip("\x00 ")
    return text or None


def _data_text(body: bytes) -> str | None:
    """The value of an ``ilst`` ``data`` box (after its size and type): text types only."""
    if len(body) < 8:
        return None
    (well_known,) = struct.unpack(">I", body[:4])
    value = body[8:]
    if well_known == 1:  # UTF-8
        return value.decode("utf-8", "replace").strip("\x00") or None
    if well_known == 2:  # UTF-16 big-endian
        return value.decode("utf-16-be", "replace").strip("\x00") or None
    return None


def _loci(data: bytes, ctx: ParseContext, offset: int) -> tuple[float, float, float] | None:
    """3GPP ``loci``: version/flags, language, name (NUL-terminated), role, then 16.16 lon/lat/alt."""
    pos = 6
    if data[pos : pos + 2] in (b"\xfe\xff", b"\xff\xfe"):  # UTF-16 name, ends with two NULs
        end = pos + 2
        while end + 1 < len(data) and data[end : end + 2] != b"\x00\x00":
            end += 2
        pos = end + 2
    else:
        end = data.find(b"\x00", pos)
        pos = end + 1 if end != -1 else len(data)
    pos += 1  # role
    if pos + 12 > len(data):
        ctx.warn(f"'loci' at offset {offset} is cut before its coordinates", locator=f"offset={offset}")
        return None
    lon, lat, alt = struct.unpack(">iii", data[pos : pos + 12])
    return lat / 65536, lon / 65536, alt / 65536


def _read_meta(walk: _Walk, meta: _Box, found: _Found, depth: int) -> None:
    """A ``meta`` box: QuickTime's has no version/flags, ISO BMFF's has 4 bytes of them."""
    probe = walk.read(meta.body, 12)
    start = meta.body + 4 if probe[8:12] in (b"hdlr", b"keys", b"ilst") else meta.body
    keys: list[str] = []
    ilst: _Box | None = None
    for box in walk.boxes(start, meta.end, "'meta'"):
        if box.kind == b"keys":
            data = walk.payload(box)
            if data is not None:
                keys = _keys(data, walk.ctx, box.offset)
        elif box.kind == b"ilst" and ilst is None:
            ilst = box
    if ilst is None or depth + 1 > MAX_DEPTH:
        return
    for item in walk.boxes(ilst.body, ilst.end, "'ilst'"):
        (index,) = struct.unpack(">I", item.kind)
        if keys and 1 <= index <= len(keys):
            key = keys[index - 1]
        elif item.kind in _TEXT_ATOMS or item.kind == b"\xa9xyz":
            key = item.name
        else:
            continue
        value = None
        for data_box in walk.boxes(item.body, item.end, f"'ilst' item {key!r}"):
            if data_box.kind == b"data":
                raw = walk.payload(data_box)
                value = _data_text(raw) if raw is not None else None
                break
        if value is None:
            continue
        if key.startswith(APPLE):
            leaf = key[len(APPLE) :]
            if leaf in ("make", "model", "software"):
                found.text[leaf] = (value, "keys")  # the Apple key wins over udta
            elif leaf == "creationdate":
                found.text.setdefault("creationdate", (value, "keys"))
            elif leaf == "location.ISO6709":
                found.position.setdefault(f"keys/{key}", value)
        elif key == ANDROID_VERSION:
            found.text.setdefault("android_version", (value, "keys"))
        elif item.kind in _TEXT_ATOMS:
            found.text.setdefault(_TEXT_ATOMS[item.kind], (value, "ilst"))
        elif item.kind == b"\xa9xyz":
            found.position.setdefault("ilst/©xyz", value)


def _keys(data: bytes, ctx: ParseContext, offset: int) -> list[str]:
    """The ``keys`` box: version/flags, entry count, then (size, namespace, name) entries."""
    if len(data) < 8:
        return []
    (count,) = struct.unpack(">I", data[4:8])
    if count > MAX_KEYS:
        ctx.warn(
            f"'keys' at offset {offset} claims {count} keys; only {MAX_KEYS} read", locator=f"offset={offset}"
        )
        count = MAX_KEYS
    keys: list[str] = []
    pos = 8
    for _ in range(count):
        if pos + 8 > len(data):
            ctx.warn(
                f"'keys' at offset {offset} ends after {len(keys)} of {count} keys",
                locator=f"offset={offset}",
            )
            break
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        if size < 8 or pos + size > len(data):
            ctx.warn(
                f"'keys' entry {len(keys) + 1} at offset {offset} has a bad size {size}",
                locator=f"offset={offset}",
            )
            break
        keys.append(data[pos + 8 : pos + size].decode("utf-8", "replace"))
        pos += size
    return keys


# --- ISO 6709 -----------------------------------------------------------------------------------

_ISO6709 = re.compile(
    r"^(?P<lat>[+-]\d+(?:\.\d+)?)(?P<lon>[+-]\d+(?:\.\d+)?)(?P<alt>[+-]\d+(?:\.\d+)?)?(?:CRS[^/]*)?/?$"
)


def _angle(text: str, degree_digits: int) -> float | None:
    """``±DD[.d]``, ``±DDMM[.m]`` or ``±DDDMMSS[.s]``: the integer part's width says which."""
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, frac = text[1:].partition(".")
    fraction = float("0." + frac) if frac else 0.0
    if len(whole) == degree_digits:
        value = int(whole) + fraction
    elif len(whole) == degree_digits + 2:
        value = int(whole[:degree_digits]) + (int(whole[degree_digits:]) + fraction) / 60
    elif len(whole) == degree_digits + 4:
        minutes = int(whole[degree_digits : degree_digits + 2])
        seconds = int(whole[degree_digits + 2 :]) + fraction
        value = int(whole[:degree_digits]) + minutes / 60 + seconds / 3600
    else:
        return None
    return sign * value


def parse_iso6709(text: str) -> tuple[float, float, float | None] | None:
    """Latitude, longitude and altitude (or ``None``) of an ISO 6709 point such as
    ``+48.8584+002.2945+035.000/``; ``None`` when the text is not one, or out of range."""
    m = _ISO6709.match(text.strip())
    if not m:
        return None
    lat, lon = _angle(m["lat"], 2), _angle(m["lon"], 3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return lat, lon, float(m["alt"]) if m["alt"] else None


# --- the record ---------------------------------------------------------------------------------


def _container(brands: list[bytes]) -> str:
    if not brands:
        return "mov"
    major = brands[0]
    if major == b"qt  ":
        return "mov"
    if major.startswith((b"3gp", b"3g2", b"3ge", b"3gg", b"3gs")):
        return "3gp"
    return "mp4"


def _brand(raw: bytes) -> str:
    return raw.decode("latin-1")


def _record(item: FileItem, found: _Found, ctx: ParseContext) -> VideoMeta:
    locator = f"moov@offset={found.moov}"
    created = modified = None
    duration = duration_units = scale = None
    if found.mvhd is not None:
        c, m, scale, duration_units = found.mvhd
        created, modified = from_mac1904_seconds(c), from_mac1904_seconds(m)
        if scale == 0:
            ctx.warn("'mvhd' timescale is 0: duration unknown", locator=locator)
        elif duration_units in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
            duration = None  # "unknown duration" in ISO/IEC 14496-12
        else:
            duration = duration_units / scale
    else:
        ctx.warn("'moov' has no 'mvhd' movie header: no creation time or duration", locator=locator)
    lat = lon = alt = None
    raw = source = None
    for candidate in sorted(found.position, key=_position_rank):
        point = parse_iso6709(found.position[candidate])
        if point is None:
            ctx.warn(
                f"{candidate} {found.position[candidate]!r} is not an ISO 6709 position", locator=locator
            )
            continue
        lat, lon, alt = point
        raw, source = found.position[candidate], candidate
        break
    if source is None and found.loci is not None:
        lat, lon, alt = found.loci
        raw, source = f"{lat} {lon} {alt}", "udta/loci"
    date = found.text.get("creationdate")
    return VideoMeta(
        source=item.source,
        locator=locator,
        container=_container(found.brands),
        major_brand=_brand(found.brands[0]) if found.brands else None,
        compatible_brands=tuple(_brand(b) for b in found.brands[1:]),
        created=created,
        modified=modified,
        duration=duration,
        duration_units=duration_units,
        timescale=scale,
        make=found.text.get("make", (None, None))[0],
        model=found.text.get("model", (None, None))[0],
        software=found.text.get("software", (None, None))[0],
        creation_date=from_iso8601_text(date[0]) if date else None,
        android_version=found.text.get("android_version", (None, None))[0],
        latitude=lat,
        longitude=lon,
        altitude=alt,
        location_raw=raw,
        location_source=source,
    )


def _position_rank(source: str) -> int:
    return 0 if source.startswith("keys/") else 1
