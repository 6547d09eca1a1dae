"""Camera metadata of photos (JPEG, TIFF, HEIC/HEIF, PNG, WebP): device, capture time, GPS, XMP.

Where the metadata sits in each container, and how this plugin reaches it without decoding pixels:

- JPEG: the plugin walks the marker segments itself, up to the start of scan, and takes the first
  ``APP1`` starting with ``Exif\\0\\0`` (readers that stop at the first ``APP1`` miss EXIF placed
  after an XMP packet), the first ``APP1`` starting with ``http://ns.adobe.com/xap/1.0/\\0`` (XMP)
  and the size from the ``SOFn`` frame header.
- TIFF: the file itself is the TIFF structure (``II*\\0`` or ``MM\\0*``); XMP is tag 700.
- PNG: chunks after the signature: ``IHDR`` (size), ``eXIf`` (a bare TIFF structure, PNG 1.5 / PNG
  third edition) and ``iTXt`` with keyword ``XML:com.adobe.xmp`` (XMP, possibly zlib-compressed).
- WebP: RIFF chunks ``VP8X``/``VP8 ``/``VP8L`` (size), ``EXIF`` (a TIFF structure, some writers
  prefix ``Exif\\0\\0``) and ``XMP ``.
- HEIC/HEIF (ISO BMFF ``ftyp`` with a HEIF brand): ``pi-heif`` (libheif) opens the container
  without decoding the image and hands over the ``Exif`` item, the XMP (``mime`` item of type
  ``application/rdf+xml``) and the list of HEIF thumbnail items.

The TIFF structure found is handed to ``exifread`` (at most :data:`MAX_TIFF_BYTES` of it, so no
absurd count can make it read or allocate more). Before that the plugin walks the IFDs itself with
hard limits (a visited set against loops, :data:`MAX_IFD_ENTRIES` entries, offsets checked against
the block) and reports each structural fault as a warning; whatever tags can still be read are
kept. Nothing here decodes pixels; the image size is read from the container header and a picture
over :data:`MAX_PIXELS` is reported as a possible decompression bomb before anything else is read
from it (libheif is not even asked to open such a HEIC).

Fields read (exiftool's ``-n -G1`` names in brackets): IFD0 ``Make`` (IFD0:Make), ``Model``,
``Software``, ``DateTime`` (IFD0:ModifyDate); Exif IFD ``DateTimeOriginal`` with
``OffsetTimeOriginal`` and ``SubSecTimeOriginal``, ``OffsetTime`` (for ``DateTime``),
``BodySerialNumber`` (ExifIFD:SerialNumber); GPS IFD latitude/longitude with their refs (decimal
degrees, south and west negative: Composite:GPSLatitude/GPSLongitude), ``GPSAltitude`` with
``GPSAltitudeRef`` (0 above, 1 below sea level; metres, negative below), ``GPSImgDirection`` with
its ref (``T`` true north, ``M`` magnetic), ``GPSDateStamp`` + ``GPSTimeStamp`` (UTC by definition:
Composite:GPSDateTime), ``GPSMapDatum``; IFD1 ``JPEGInterchangeFormat`` (IFD1:ThumbnailImage);
XMP ``dc:creator``, ``exif:GPSLatitude``/``GPSLongitude`` (``DDD,MM.mmmmk`` or ``DDD,MM,SSk``),
``photoshop:City``/``State``/``Country`` and ``Iptc4xmpCore:Location``.

``DateTimeOriginal`` is local camera time. Unless ``OffsetTimeOriginal`` gives the offset, the UTC
instant is unknown: the record keeps the wall-clock time in ``taken.local`` with ``taken.utc``
empty and a note, never a guessed UTC.

Expected on the public corpus (``images/``): the values of ``groundtruth/exif/exif-summary.tsv`` and
``heic-exiftool-n.json`` (exiftool 12.57), and field by field exiftool's ``-n`` reading when
exiftool is installed (tests/plugins/test_photos_exif.py states the name mapping).
"""

from __future__ import annotations

import io
import logging
import math
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, ClassVar
from xml.etree import ElementTree

from triage.plugin import (
    FileItem,
    GeoFields,
    NotMyFormat,
    ParseContext,
    Plugin,
    Record,
    Targets,
    TimeValue,
    from_exif_datetime,
)

# exifread reports odd-but-harmless structure ("No values found for GPS SubIFD") on its own
# logger, straight to stderr; real problems reach the examiner as this plugin's warnings instead.
logging.getLogger("exifread").setLevel(logging.ERROR)

JPEG_SOI = b"\xff\xd8\xff"
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_LE = b"II*\x00"
TIFF_BE = b"MM\x00*"
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")  # not MP4/MOV/3GP

MAX_PIXELS = 178_956_970  # twice Pillow's default warning level: Pillow refuses to decode past it
MAX_TIFF_BYTES = 8 * 1024 * 1024  # EXIF is at most 64 KiB in JPEG; 8 MiB leaves room for TIFF files
MAX_XMP_BYTES = 4 * 1024 * 1024
MAX_HEIF_BYTES = 512 * 1024 * 1024  # libheif reads the whole file into memory
MAX_IFD_ENTRIES = 1000
MAX_IFDS = 64
MAX_CHUNKS = 100_000  # PNG/WebP chunks walked before giving up
ENCODING_GPS_UTC = "exif_gps_utc"
_TYPE_SIZES = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_SUB_IFD_TAGS = {0x8769: "Exif IFD", 0x8825: "GPS IFD", 0xA005: "Interoperability IFD"}


@dataclass(frozen=True, kw_only=True)
class PhotoExif(GeoFields, Record):
    """EXIF and XMP of one photo; ``locator`` is where the EXIF (or XMP) block starts in the file."""

    record_type: ClassVar[str] = "media/photo/exif"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "altitude_ref": {0: "above sea level", 1: "below sea level"},
        "direction_ref": {"T": "true north", "M": "magnetic north"},
    }

    image_format: str | None = None  # jpeg, tiff, png, webp, heif
    width: int | None = None
    height: int | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    serial_number: str | None = None  # Exif BodySerialNumber
    taken: TimeValue | None = None  # DateTimeOriginal (+ OffsetTimeOriginal, SubSecTimeOriginal)
    modified: TimeValue | None = None  # IFD0 DateTime (+ OffsetTime)
    altitude: float | None = None  # metres, negative below sea level
    altitude_ref: int | None = None
    direction: float | None = None  # GPSImgDirection, degrees
    direction_ref: str | None = None
    gps_time: TimeValue | None = None  # GPSDateStamp + GPSTimeStamp, UTC
    gps_datum: str | None = None
    has_thumbnail: bool = False  # EXIF IFD1 JPEG thumbnail present
    heif_thumbnails: int | None = None  # HEIF thumbnail items (HEIC only)
    xmp_creator: str | None = None  # dc:creator, several joined with "; "
    xmp_latitude: float | None = None
    xmp_longitude: float | None = None
    xmp_city: str | None = None
    xmp_state: str | None = None
    xmp_country: str | None = None
    xmp_location: str | None = None


@dataclass
class _Found:
    """What a container walk found: the TIFF block (and its file offset), XMP, size."""

    image_format: str
    tiff: bytes | None = None
    tiff_offset: int | None = None
    xmp: bytes | None = None
    xmp_offset: int | None = None
    width: int | None = None
    height: int | None = None
    heif_thumbnails: int | None = None
    notes: list[str] = field(default_factory=list)


class PhotoExifPlugin(Plugin):
    """Reads device, capture time, GPS, XMP creator/location and thumbnail presence from photos."""

    name = "photos_exif"
    version = "1.2.0"
    requires = ("exifread",)  # imported where used: docs/plugins.md, "Heavy libraries"
    description = "EXIF/XMP of JPEG, TIFF, HEIC, PNG, WebP photos: device, DateTimeOriginal, GPS, creator"
    targets = Targets(
        globs=(
            "**/*.jpg",
            "**/*.jpeg",
            "**/*.jpe",
            "**/*.tif",
            "**/*.tiff",
            "**/*.heic",
            "**/*.heif",
            "**/*.hif",
            "**/*.png",
            "**/*.webp",
        ),
        mime_types=("image/jpeg", "image/tiff", "image/heic", "image/heif", "image/png", "image/webp"),
        magic=(
            (0, JPEG_SOI),
            (0, TIFF_LE),
            (0, TIFF_BE),
            (0, PNG_SIGNATURE),
            (8, b"WEBP"),
            *tuple((8, brand) for brand in HEIF_BRANDS),
        ),
    )
    emits = (PhotoExif,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return _kind(head) is not None

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[PhotoExif]:
        kind = _kind(item.head)
        if kind is None:
            raise NotMyFormat(f"{item.path} is not a JPEG, TIFF, PNG, WebP or HEIF file")
        if kind == "heif":
            found = _read_heif(item, ctx)
        else:
            with item.open() as fh:
                found = _READERS[kind](fh, ctx)
        if found is None:
            return
        tags: dict[str, Any] | None = None
        locator = None
        if found.tiff is not None:
            locator = f"offset={found.tiff_offset}"
            tiff, tiff_xmp = _check_ifds(found.tiff, ctx, locator)
            if found.xmp is None and tiff_xmp:
                found.xmp, found.xmp_offset = tiff_xmp, found.tiff_offset
            tags = _read_tags(tiff, ctx, locator)
            if not tags and tags is not None:
                ctx.warn("EXIF segment holds no readable tag", locator=locator)
        xmp = _parse_xmp(found.xmp, ctx, f"offset={found.xmp_offset}") if found.xmp else {}
        if not tags and not xmp:
            return
        if locator is None:
            locator = f"xmp-offset={found.xmp_offset}"
        yield _record(item, locator, found, tags or {}, xmp, ctx)


def _kind(head: bytes) -> str | None:
    if head.startswith(JPEG_SOI):
        return "jpeg"
    if head.startswith((TIFF_LE, TIFF_BE)):
        return "tiff"
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        (size,) = struct.unpack(">I", head[:4])
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & set(HEIF_BRANDS):
            return "heif"
    return None


def _pixel_cap(found: _Found, ctx: ParseContext) -> bool:
    """True (after a warning) when the declared size is over the pixel cap."""
    if found.width is None or found.height is None:
        return False
    pixels = found.width * found.height
    if pixels > MAX_PIXELS:
        ctx.warn(
            f"{found.width}x{found.height} = {pixels} pixels is over the cap of {MAX_PIXELS} "
            "(possible decompression bomb): image data not decoded",
            locator="header",
        )
        return True
    return False


# --- containers ---------------------------------------------------------------------------------


def _read_jpeg(fh: BinaryIO, ctx: ParseContext) -> _Found:
    found = _Found("jpeg")
    fh.seek(2)
    pos = 2
    while True:
        marker = fh.read(2)
        if len(marker) < 2:
            break
        if marker[0] != 0xFF:
            ctx.warn(f"JPEG segment structure broken at offset {pos}: no marker", locator=f"offset={pos}")
            break
        code = marker[1]
        if code == 0xFF:  # fill byte before a marker
            fh.seek(pos + 1)
            pos += 1
            continue
        if code in (0xD9, 0xDA):  # end of image / start of scan: metadata segments come before
            break
        if 0xD0 <= code <= 0xD7 or code == 0x01:  # markers without a length
            pos += 2
            continue
        raw_len = fh.read(2)
        if len(raw_len) < 2:
            break
        (length,) = struct.unpack(">H", raw_len)
        if length < 2:
            ctx.warn(f"JPEG segment at offset {pos} has impossible length {length}", locator=f"offset={pos}")
            break
        if code == 0xE1 and (found.tiff is None or found.xmp is None):
            body = fh.read(length - 2)
            if len(body) < length - 2:
                ctx.warn(f"APP1 segment at offset {pos} is truncated", locator=f"offset={pos}")
            if body.startswith(EXIF_HEADER) and found.tiff is None:
                found.tiff, found.tiff_offset = body[len(EXIF_HEADER) :], pos
            elif body.startswith(XMP_HEADER) and found.xmp is None:
                found.xmp, found.xmp_offset = body[len(XMP_HEADER) :], pos
        elif 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC) and found.width is None:
            body = fh.read(min(length - 2, 5))
            if len(body) == 5:
                found.height, found.width = struct.unpack(">HH", body[1:5])
                _pixel_cap(found, ctx)
            fh.seek(pos + 2 + length)
        else:
            fh.seek(length - 2, io.SEEK_CUR)
        pos += 2 + length
    return found


def _read_tiff(fh: BinaryIO, ctx: ParseContext) -> _Found:
    data = fh.read(MAX_TIFF_BYTES)
    if len(fh.read(1)) == 1:
        ctx.warn(
            f"TIFF larger than {MAX_TIFF_BYTES} bytes: tags beyond that are not read", locator="offset=0"
        )
    found = _Found("tiff", tiff=data, tiff_offset=0)
    return found


def _read_png(fh: BinaryIO, ctx: ParseContext) -> _Found:
    found = _Found("png")
    pos = 8
    fh.seek(pos)
    for _ in range(MAX_CHUNKS):
        header = fh.read(8)
        if len(header) < 8:
            ctx.warn(f"PNG ends at offset {pos} without an IEND chunk", locator=f"offset={pos}")
            return found
        length, ctype = struct.unpack(">I4s", header)
        if ctype == b"IEND":
            return found
        if ctype in (b"IHDR", b"eXIf", b"iTXt") and length <= MAX_TIFF_BYTES:
            body = fh.read(length)
            if len(body) < length:
                ctx.warn(
                    f"PNG chunk {ctype.decode('latin-1')} at offset {pos} is truncated",
                    locator=f"offset={pos}",
                )
                return found
            if ctype == b"IHDR" and length >= 8:
                found.width, found.height = struct.unpack(">II", body[:8])
                _pixel_cap(found, ctx)
            elif ctype == b"eXIf" and found.tiff is None:
                found.tiff = body[len(EXIF_HEADER) :] if body.startswith(EXIF_HEADER) else body
                found.tiff_offset = pos
            elif ctype == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00") and found.xmp is None:
                found.xmp, found.xmp_offset = _itxt_text(body, ctx, pos), pos
            fh.seek(4, io.SEEK_CUR)  # CRC
        else:
            fh.seek(length + 4, io.SEEK_CUR)
        pos += 12 + length
    ctx.warn(f"PNG has more than {MAX_CHUNKS} chunks: rest not read", locator=f"offset={pos}")
    return found


def _itxt_text(body: bytes, ctx: ParseContext, pos: int) -> bytes | None:
    """Text of an iTXt chunk: keyword\\0 flag method language\\0 translated\\0 text."""
    rest = body.split(b"\x00", 1)[1]
    if len(rest) < 2:
        return None
    compressed = rest[0] == 1
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) < 3:
        return None
    text = parts[2]
    if compressed:
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(text, MAX_XMP_BYTES)
        except zlib.error as exc:
            ctx.warn(f"compressed XMP in PNG at offset {pos} is corrupt: {exc}", locator=f"offset={pos}")
            return None
    return text


def _read_webp(fh: BinaryIO, ctx: ParseContext) -> _Found:
    found = _Found("webp")
    fh.seek(0)
    (riff_size,) = struct.unpack("<I", fh.read(8)[4:8])
    end = riff_size + 8
    pos = 12
    capped = False
    fh.seek(pos)
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return found
        header = fh.read(8)
        if len(header) < 8:
            ctx.warn(f"WebP is truncated at offset {pos}", locator=f"offset={pos}")
            return found
        ctype, length = struct.unpack("<4sI", header)
        wanted = ctype in (b"VP8X", b"VP8 ", b"VP8L", b"EXIF", b"XMP ") and length <= MAX_TIFF_BYTES
        if wanted:
            body = fh.read(length)
            if len(body) < length:
                ctx.warn(
                    f"WebP chunk {ctype.decode('latin-1')!r} at offset {pos} is truncated",
                    locator=f"offset={pos}",
                )
                return found
            if ctype == b"VP8X" and length >= 10:
                found.width = int.from_bytes(body[4:7], "little") + 1
                found.height = int.from_bytes(body[7:10], "little") + 1
            elif ctype == b"VP8 " and length >= 10 and found.width is None:
                w, h = struct.unpack("<HH", body[6:10])
                found.width, found.height = w & 0x3FFF, h & 0x3FFF
            elif ctype == b"VP8L" and length >= 5 and found.width is None:
                bits = int.from_bytes(body[1:5], "little")
                found.width, found.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            elif ctype == b"EXIF" and found.tiff is None:
                found.tiff = body[len(EXIF_HEADER) :] if body.startswith(EXIF_HEADER) else body
                found.tiff_offset = pos
            elif ctype == b"XMP " and found.xmp is None:
                found.xmp, found.xmp_offset = body, pos
            if ctype.startswith(b"VP8") and not capped:
                capped = _pixel_cap(found, ctx) or found.width is not None
            if length % 2:
                fh.seek(1, io.SEEK_CUR)
        else:
            fh.seek(length + (length % 2), io.SEEK_CUR)
        pos += 8 + length + (length % 2)
    ctx.warn(f"WebP has more than {MAX_CHUNKS} chunks: rest not read", locator=f"offset={pos}")
    return found


def _heif_size(fh: BinaryIO) -> tuple[int, int] | None:
    """Largest ``ispe`` (image spatial extent) declared in the first 1 MiB: no decoding, no libheif."""
    data = fh.read(1024 * 1024)
    best: tuple[int, int] | None = None
    start = 0
    while (i := data.find(b"ispe", start)) != -1 and i + 16 <= len(data):
        w, h = struct.unpack(">II", data[i + 8 : i + 16])
        if best is None or w * h > best[0] * best[1]:
            best = (w, h)
        start = i + 4
    return best


def _read_heif(item: FileItem, ctx: ParseContext) -> _Found | None:
    found = _Found("heif")
    with item.open() as fh:
        size = _heif_size(fh)
        if size is not None:
            found.width, found.height = size
            if _pixel_cap(found, ctx):
                return found
        if item.size > MAX_HEIF_BYTES:
            ctx.warn(
                f"HEIF file of {item.size} bytes is over {MAX_HEIF_BYTES}: not handed to libheif",
                locator="offset=0",
            )
            return None
        fh.seek(0)
        try:
            import pi_heif  # LGPL libheif/libde265 inside a BSD-licensed binding; loaded on demand

            heif = pi_heif.open_heif(fh, convert_hdr_to_8bit=False)
            info = heif.info
            if found.width is None:  # ispe missing: libheif's (display) size instead
                found.width, found.height = heif.size
            exif = info.get("exif")
            if exif:
                found.tiff = exif[len(EXIF_HEADER) :] if exif.startswith(EXIF_HEADER) else exif
                found.tiff_offset = 0
            xmp = info.get("xmp")
            if not xmp:
                for meta in info.get("metadata") or []:
                    if meta.get("content_type") == "application/rdf+xml":
                        xmp = meta.get("data")
                        break
            if xmp:
                found.xmp, found.xmp_offset = bytes(xmp), 0
            found.heif_thumbnails = len(info.get("thumbnails") or [])
        except Exception as exc:
            ctx.warn(f"HEIF container unreadable: {type(exc).__name__}: {exc}", locator="offset=0")
            return None
    return found


_READERS = {"jpeg": _read_jpeg, "tiff": _read_tiff, "png": _read_png, "webp": _read_webp}


# --- TIFF / EXIF --------------------------------------------------------------------------------


def _check_ifds(tiff: bytes, ctx: ParseContext, locator: str) -> tuple[bytes, bytes | None]:
    """Walk the IFD tree with hard limits, warn about loops, absurd counts and truncation.

    Returns the block with each impossible IFD entry count cut to the entries that fit (at most
    :data:`MAX_IFD_ENTRIES`), each looping next-IFD pointer cleared and each tag whose values run
    past the end given a count of 0, so that exifread never iterates over garbage; and the XMP packet of IFD0 tag 700 (where TIFF files keep XMP), if any.
    """
    xmp = None
    if len(tiff) < 8 or tiff[:4] not in (TIFF_LE, TIFF_BE):
        if len(tiff) >= 8:  # shorter blocks get "holds no readable tag" below
            ctx.warn("EXIF block does not start with a TIFF header", locator=locator)
        return tiff, None
    fixed = bytearray(tiff)
    endian = "<" if tiff[:2] == b"II" else ">"
    problems: list[str] = []
    seen: set[int] = set()
    # (name, IFD offset, where the pointer to it is stored: cleared if it loops)
    todo: list[tuple[str, int, int | None]] = [("IFD0", struct.unpack(endian + "I", tiff[4:8])[0], None)]
    chain = 0
    while todo and len(seen) < MAX_IFDS:
        name, off, pointer_at = todo.pop(0)
        if off in seen:
            problems.append(f"{name} at {off} loops back to an IFD already read")
            if pointer_at is not None and name.startswith("IFD"):
                fixed[pointer_at : pointer_at + 4] = b"\x00\x00\x00\x00"
            continue
        seen.add(off)
        if off + 2 > len(tiff):
            problems.append(f"{name} offset {off} is past the end of the block ({len(tiff)} bytes)")
            continue
        (count,) = struct.unpack(endian + "H", tiff[off : off + 2])
        fits = max(0, (len(tiff) - off - 2 - 4) // 12)
        if count > MAX_IFD_ENTRIES or count > fits:
            problems.append(
                f"{name} claims {count} entries"
                if count > MAX_IFD_ENTRIES
                else f"{name} at {off} is truncated ({count} entries do not fit)"
            )
            count = min(fits, MAX_IFD_ENTRIES)
            fixed[off : off + 2] = struct.pack(endian + "H", count)
        for i in range(count):
            entry = off + 2 + 12 * i
            tag, ftype, n = struct.unpack(endian + "HHI", tiff[entry : entry + 8])
            size = _TYPE_SIZES.get(ftype)
            if size is None:
                continue  # exifread reports unknown types itself
            if size * n > 4:
                (value_off,) = struct.unpack(endian + "I", tiff[entry + 8 : entry + 12])
                if value_off + size * n > len(tiff):
                    problems.append(f"{name} tag 0x{tag:04x} claims {n} values at {value_off}, past the end")
                    fixed[entry + 4 : entry + 8] = b"\x00\x00\x00\x00"  # dropped, as exiftool does
                elif tag == 0x02BC and name == "IFD0" and size == 1:
                    xmp = tiff[value_off : value_off + n]
            if tag in _SUB_IFD_TAGS and ftype in (4, 13) and n >= 1:
                (sub,) = struct.unpack(endian + "I", tiff[entry + 8 : entry + 12])
                todo.append((_SUB_IFD_TAGS[tag], sub, None))
        end = off + 2 + 12 * count
        if name.startswith("IFD") and end + 4 <= len(tiff):
            (nxt,) = struct.unpack(endian + "I", tiff[end : end + 4])
            if nxt:
                chain += 1
                todo.append((f"IFD{chain}", nxt, end))
    if len(seen) >= MAX_IFDS:
        problems.append(f"more than {MAX_IFDS} IFDs")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        ctx.warn(f"malformed EXIF structure: {shown}", locator=locator)
    return bytes(fixed), xmp


def _read_tags(tiff: bytes, ctx: ParseContext, locator: str) -> dict[str, Any] | None:
    """Tags from the TIFF structure; malformed data -> warning, then a lenient second reading."""
    import exifread  # here: only a picture with EXIF needs it (docs/plugins.md, "Heavy libraries")

    try:
        return dict(exifread.process_file(io.BytesIO(tiff), details=False, strict=True))
    except Exception as exc:
        ctx.warn(
            f"malformed EXIF: {type(exc).__name__}: {exc}; keeping the tags that can be read", locator=locator
        )
    try:
        return dict(exifread.process_file(io.BytesIO(tiff), details=False, strict=False))
    except Exception as exc:
        ctx.warn(f"unreadable EXIF: {type(exc).__name__}: {exc}", locator=locator)
        return None


def _text(tags: Mapping[str, Any], key: str) -> str | None:
    tag = tags.get(key)
    if tag is None:
        return None
    values = tag.values
    if isinstance(values, bytes):
        values = values.decode("utf-8", "replace")
    text = str(values if isinstance(values, str) else tag.printable).strip(" \x00")
    return text or None


def _int_value(tags: Mapping[str, Any], key: str) -> int | None:
    tag = tags.get(key)
    if tag is None or not isinstance(tag.values, list) or not tag.values:
        return None
    value = tag.values[0]
    return value if isinstance(value, int) else None


def _rationals(tags: Mapping[str, Any], key: str) -> list[float] | None:
    tag = tags.get(key)
    if tag is None or not isinstance(tag.values, list) or not tag.values:
        return None
    try:
        return [float(v) for v in tag.values]
    except (ZeroDivisionError, TypeError, ValueError):
        return None


def _coordinate(
    tags: Mapping[str, Any], key: str, ref_key: str, ctx: ParseContext, locator: str
) -> float | None:
    parts = _rationals(tags, key)
    if parts is None:
        if key in tags:  # there, but not numbers (a zero denominator, text where numbers belong)
            shown = str(getattr(tags[key], "printable", ""))[:80]
            ctx.warn(
                f"{key} cannot be read as degrees, minutes, seconds ({shown!r}): no position", locator=locator
            )
        return None
    if len(parts) != 3:
        ctx.warn(f"{key} has {len(parts)} values instead of 3 (degrees, minutes, seconds)", locator=locator)
        return None
    decimal = parts[0] + parts[1] / 60 + parts[2] / 3600
    limit = 90 if key.endswith("Latitude") else 180
    shown = str(getattr(tags[key], "printable", parts))[:80]
    if not 0 <= decimal <= limit or not all(math.isfinite(p) and p >= 0 for p in parts):
        ctx.warn(
            f"{key} is {shown} ({decimal:g} degrees): no place has it (0 to {limit}); no position",
            locator=locator,
        )
        return None
    if parts[1] >= 60 or parts[2] >= 60:
        ctx.warn(
            f"{key} is {shown}: minutes or seconds of 60 or more, read as {decimal:g} degrees",
            locator=locator,
        )
    ref = (_text(tags, ref_key) or "").upper()
    if ref in ("S", "W"):
        decimal = -decimal
    elif ref not in ("N", "E"):
        ctx.warn(f"{ref_key} is {ref!r}: hemisphere unknown, sign kept positive", locator=locator)
    return decimal


def _gps_time(tags: Mapping[str, Any], ctx: ParseContext, locator: str) -> TimeValue | None:
    """GPSDateStamp + GPSTimeStamp: UTC by the EXIF standard; None unless both are there."""
    date = _text(tags, "GPS GPSDate")
    hms = _rationals(tags, "GPS GPSTimeStamp")
    if date is None or hms is None:
        return None
    raw = f"{date} {tags['GPS GPSTimeStamp'].printable}"
    m = re.match(r"^(\d{4}):(\d{2}):(\d{2})$", date)
    if not m or len(hms) != 3:
        return TimeValue(utc=None, raw=raw, encoding=ENCODING_GPS_UTC, note="not a GPS date and time")
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        seconds = hms[0] * 3600 + hms[1] * 60 + hms[2]
        instant = day + timedelta(microseconds=round(seconds * 1_000_000))
    except (ValueError, OverflowError):
        ctx.warn(f"GPS date/time {raw!r} is not a valid time", locator=locator)
        return TimeValue(utc=None, raw=raw, encoding=ENCODING_GPS_UTC, note="invalid calendar date")
    return TimeValue(
        utc=instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), raw=raw, encoding=ENCODING_GPS_UTC, offset="+00:00"
    )


# --- XMP ----------------------------------------------------------------------------------------

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "iptc": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
}
_XMP_COORD = re.compile(r"^\s*(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$", re.I)


def _parse_xmp(packet: bytes | None, ctx: ParseContext, locator: str) -> dict[str, Any]:
    """Creator and location from an XMP packet; DTDs and entities are refused, not expanded."""
    if not packet:
        return {}
    packet = packet[:MAX_XMP_BYTES]
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        ctx.warn("XMP packet declares a DTD or entities: not parsed", locator=locator)
        return {}
    start = packet.find(b"<x:xmpmeta")
    if start == -1:
        start = packet.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if packet[start : start + 10] == b"<x:xmpmeta" else b"</rdf:RDF>"
    end = packet.rfind(end_tag)
    if start == -1 or end == -1:
        ctx.warn("XMP packet has no x:xmpmeta/rdf:RDF element", locator=locator)
        return {}
    try:
        root = ElementTree.fromstring(packet[start : end + len(end_tag)])
    except ElementTree.ParseError as exc:
        ctx.warn(f"XMP packet is not well-formed XML: {exc}", locator=locator)
        return {}
    out: dict[str, Any] = {}
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        for prefix, local, key in (
            ("dc", "creator", "creator"),
            ("exif", "GPSLatitude", "latitude"),
            ("exif", "GPSLongitude", "longitude"),
            ("photoshop", "City", "city"),
            ("photoshop", "State", "state"),
            ("photoshop", "Country", "country"),
            ("iptc", "Location", "location"),
        ):
            qname = f"{{{_NS[prefix]}}}{local}"
            values: list[str] = []
            if qname in desc.attrib:
                values = [desc.attrib[qname]]
            for elem in desc.findall(qname):
                items = [li.text or "" for li in elem.iter(f"{{{_NS['rdf']}}}li")]
                values.extend(items if items else [elem.text or ""])
            values = [v.strip() for v in values if v and v.strip()]
            if values and key not in out:
                out[key] = values
    result: dict[str, Any] = {}
    if "creator" in out:
        result["creator"] = "; ".join(out["creator"])
    for key in ("latitude", "longitude"):
        if key in out:
            m = _XMP_COORD.match(out[key][0])
            if not m:
                ctx.warn(f"XMP GPS {key} {out[key][0]!r} is not DDD,MM.mmk or DDD,MM,SSk", locator=locator)
                continue
            value = float(m[1]) + float(m[2]) / 60 + (float(m[3]) / 3600 if m[3] else 0.0)
            result[key] = -value if m[4].upper() in ("S", "W") else value
    for key in ("city", "state", "country", "location"):
        if key in out:
            result[key] = out[key][0]
    return result


def _record(
    item: FileItem,
    locator: str,
    found: _Found,
    tags: Mapping[str, Any],
    xmp: Mapping[str, Any],
    ctx: ParseContext,
) -> PhotoExif:
    taken = None
    if "EXIF DateTimeOriginal" in tags:
        taken = from_exif_datetime(
            _text(tags, "EXIF DateTimeOriginal"),
            _text(tags, "EXIF OffsetTimeOriginal"),
            _text(tags, "EXIF SubSecTimeOriginal"),
        )
    modified = None
    if "Image DateTime" in tags:
        modified = from_exif_datetime(_text(tags, "Image DateTime"), _text(tags, "EXIF OffsetTime"))
    for key, value in (("EXIF DateTimeOriginal", taken), ("Image DateTime", modified)):
        if value is not None and value.note in ("not an EXIF date-time", "invalid calendar date"):
            ctx.warn(f"{key} is {value.raw!r}: {value.note}; kept raw, no time", locator=locator)
    altitude = None
    alt = _rationals(tags, "GPS GPSAltitude")
    alt_ref = _int_value(tags, "GPS GPSAltitudeRef")
    if alt:
        altitude = -alt[0] if alt_ref == 1 else alt[0]
    elif "GPS GPSAltitude" in tags:  # there, but not a number (a zero denominator)
        shown = str(getattr(tags["GPS GPSAltitude"], "printable", ""))[:80]
        ctx.warn(f"GPS GPSAltitude cannot be read as a number ({shown!r}): no altitude", locator=locator)
    direction = _rationals(tags, "GPS GPSImgDirection")
    return PhotoExif(
        source=item.source,
        locator=locator,
        image_format=found.image_format,
        width=found.width if found.image_format != "tiff" else _int_value(tags, "Image ImageWidth"),
        height=found.height if found.image_format != "tiff" else _int_value(tags, "Image ImageLength"),
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        software=_text(tags, "Image Software"),
        serial_number=_text(tags, "EXIF BodySerialNumber"),
        taken=taken,
        modified=modified,
        latitude=_coordinate(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef", ctx, locator),
        longitude=_coordinate(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef", ctx, locator),
        altitude=altitude,
        altitude_ref=alt_ref,
        direction=direction[0] if direction else None,
        direction_ref=_text(tags, "GPS GPSImgDirectionRef"),
        gps_time=_gps_time(tags, ctx, locator),
        gps_datum=_text(tags, "GPS GPSMapDatum"),
        has_thumbnail=bool(tags.get("JPEGThumbnail")),
        heif_thumbnails=found.heif_thumbnails,
        xmp_creator=xmp.get("creator"),
        xmp_latitude=xmp.get("latitude"),
        xmp_longitude=xmp.get("longitude"),
        xmp_city=xmp.get("city"),
        xmp_state=xmp.get("state"),
        xmp_country=xmp.get("country"),
        xmp_location=xmp.get("location"),
    )
