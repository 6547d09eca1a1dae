"""Camera metadata from the EXIF block of JPEG photos: make, model, capture time and GPS position.

The plugin walks the JPEG marker segments itself to find the ``APP1`` segment starting with
``Exif\\0\\0`` (readers that stop at the first ``APP1`` miss EXIF placed after an XMP packet) and
hands the TIFF structure inside to ``exifread``. A malformed EXIF block is reported as a warning
and whatever tags can still be read are kept; a JPEG without EXIF yields nothing.

``DateTimeOriginal`` is local camera time. Unless the EXIF 2.31 ``OffsetTimeOriginal`` tag gives
the offset, the UTC instant is unknown: the record keeps the wall-clock time in
``taken.local`` with ``taken.utc`` empty and a note, never a guessed UTC. GPS coordinates are
decimal degrees, south and west negative, as exiftool ``-n`` prints them.

Expected on the public corpus (``images/``): the values of ``groundtruth/exif/exif-summary.tsv``
(exiftool 12.57) for make, model, DateTimeOriginal, latitude and longitude.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

import exifread

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


@dataclass(frozen=True, kw_only=True)
class PhotoExif(GeoFields, Record):
    """EXIF of one JPEG; ``locator`` is the byte offset of its ``APP1`` segment."""

    record_type: ClassVar[str] = "media/photo/exif"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {
        "altitude_ref": {0: "above sea level", 1: "below sea level"},
    }

    make: str | None = None
    model: str | None = None
    software: str | None = None
    serial_number: str | None = None
    taken: TimeValue | None = None  # DateTimeOriginal (+ OffsetTimeOriginal, SubSecTimeOriginal)
    modified: TimeValue | None = None  # IFD0 DateTime (+ OffsetTime)
    altitude: float | None = None  # metres, negative below sea level
    altitude_ref: int | None = None
    gps_datum: str | None = None


class PhotoExifPlugin(Plugin):
    """Reads camera make/model, capture time and GPS position from JPEG EXIF."""

    name = "photos_exif"
    version = "1.1.0"
    description = "EXIF camera metadata of JPEG photos: make, model, DateTimeOriginal, GPS"
    targets = Targets(
        globs=("**/*.jpg", "**/*.jpeg", "**/*.jpe"),
        mime_types=("image/jpeg",),
        magic=((0, JPEG_SOI),),
    )
    emits = (PhotoExif,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[PhotoExif]:
        if not item.head.startswith(JPEG_SOI):
            raise NotMyFormat(f"{item.path} does not start with a JPEG SOI marker")
        with item.open() as fh:
            found = _find_exif_segment(fh, ctx)
        if found is None:
            return
        offset, tiff = found
        locator = f"offset={offset}"
        tags = _read_tags(tiff, ctx, locator)
        if not tags:
            if tags is not None:
                ctx.warn("EXIF segment holds no readable tag", locator=locator)
            return
        yield _record(item, locator, tags, ctx)


def _find_exif_segment(fh: BinaryIO, ctx: ParseContext) -> tuple[int, bytes] | None:
    """(file offset of the APP1 marker, TIFF bytes after ``Exif\\0\\0``) or None; stops at SOS."""
    fh.seek(2)
    pos = 2
    while True:
        marker = fh.read(2)
        if len(marker) < 2:
            return None
        if marker[0] != 0xFF:
            ctx.warn(f"JPEG segment structure broken at offset {pos}: no marker", locator=f"offset={pos}")
            return None
        code = marker[1]
        if code == 0xFF:  # fill byte before a marker
            fh.seek(pos + 1)
            pos += 1
            continue
        if code in (0xD9, 0xDA):  # end of image / start of scan: metadata segments come before
            return None
        if 0xD0 <= code <= 0xD7 or code == 0x01:  # markers without a length
            pos += 2
            continue
        raw_len = fh.read(2)
        if len(raw_len) < 2:
            return None
        (length,) = struct.unpack(">H", raw_len)
        if length < 2:
            ctx.warn(f"JPEG segment at offset {pos} has impossible length {length}", locator=f"offset={pos}")
            return None
        if code == 0xE1:
            body = fh.read(length - 2)
            if len(body) < length - 2:
                ctx.warn(f"APP1 segment at offset {pos} is truncated", locator=f"offset={pos}")
            if body.startswith(EXIF_HEADER):
                return pos, body[len(EXIF_HEADER) :]
        else:
            fh.seek(length - 2, io.SEEK_CUR)
        pos += 2 + length


def _read_tags(tiff: bytes, ctx: ParseContext, locator: str) -> dict[str, Any] | None:
    """Tags from the TIFF structure; malformed data -> warning, then a lenient second reading."""
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
        return None
    if len(parts) != 3:
        ctx.warn(f"{key} has {len(parts)} values instead of 3 (degrees, minutes, seconds)", locator=locator)
        return None
    decimal = parts[0] + parts[1] / 60 + parts[2] / 3600
    ref = (_text(tags, ref_key) or "").upper()
    if ref in ("S", "W"):
        decimal = -decimal
    elif ref not in ("N", "E"):
        ctx.warn(f"{ref_key} is {ref!r}: hemisphere unknown, sign kept positive", locator=locator)
    return decimal


def _record(item: FileItem, locator: str, tags: Mapping[str, Any], ctx: ParseContext) -> PhotoExif:
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
    altitude = None
    alt = _rationals(tags, "GPS GPSAltitude")
    alt_ref = _int_value(tags, "GPS GPSAltitudeRef")
    if alt:
        altitude = -alt[0] if alt_ref == 1 else alt[0]
    return PhotoExif(
        source=item.source,
        locator=locator,
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
        gps_datum=_text(tags, "GPS GPSMapDatum"),
    )
