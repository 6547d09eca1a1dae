"""PDQ perceptual hashes of images (JPEG, PNG, WebP, TIFF, GIF's first frame, HEIC/HEIF).

PDQ (Meta's perceptual hash, ``hashing/hashing.pdf`` in the ThreatExchange repository) turns an
image into 256 bits that change little when the picture is resized, re-compressed or slightly
edited, so a copy of a known picture is found by Hamming distance (at most 31 differing bits is
the usual match threshold) where a cryptographic hash would miss it. Each image gives one
``media/image/pdq`` record: ``pdq`` (64 lower-case hex digits, the first hex digit holding bits
255..252 as the reference tools print them) and ``quality`` (0-100; the reference advises
against matching on hashes of quality below 50: flat or nearly blank pictures). The hash-set
matcher reads these two fields.

**How.** The pixels are fed the way ThreatExchange's own Python reference feeds them: Pillow
opens the file, ``Image.thumbnail((512, 512))`` shrinks it proportionally (for a JPEG this decodes
at a reduced DCT scale, "draft" mode, so a 48-megapixel photo is never decoded in full), then the
RGB pixels are hashed. The hash is computed by :mod:`plugins.media._pdq` (ours, in C, built by
setup.py), which gives bit for bit what ThreatExchange's reference C++ (BSD licence) gives
through the ``pdqhash`` binding (MIT), in about a quarter of the time; without the C module the
binding computes it. (Both are the unfused x86-64 arithmetic of the reference; a build of the
binding whose compiler fuses multiply-adds, as on aarch64, may differ in bits next to the median.)
The stored pixels are hashed as they are: EXIF orientation is not applied,
as in the reference, so hashes computed by other PDQ tools match. The tests
(tests/plugins/test_pdq.py) check this against the hashes published in ThreatExchange's
``pdq/python/pdqhashing/tests/pdq_test.py`` for the images of ``pdq/data`` (all equal, except a
nearly blank picture of quality 3 whose median-adjacent bits differ: float32 here, float64
there), and the C module against the binding on every picture of the corpus and on random
pictures of many shapes.

**Bounds** (hostile input is a warning naming the file, never a crash):

- the declared size is read from the header first; over :data:`MAX_PIXELS` (100 megapixels) the
  image is not decoded (a decompression bomb: a PNG of a few KB can declare 100,000 x 100,000);
  Pillow's own bomb check is kept as a second line;
- while Pillow reads the header at most :data:`HEADER_BUDGET` bytes may be read, so a huge file
  that merely starts like an image (a 2 GB file named ``.jpg``) is given up on at once;
- the largest decode is therefore 100 megapixels of a non-JPEG format (about 400 MB as RGBA);
  JPEGs are decoded at 1/2 to 1/8 scale when large.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, ClassVar

from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, Record, Targets

MAX_PIXELS = 100_000_000
HEADER_BUDGET = 16 * 1024 * 1024  # bytes Pillow may read to parse a header (EXIF/ICC included)
MAX_WHOLE_FILE = 256 * 1024 * 1024  # WebP and HEIF decoders take the whole file in memory
MAX_SEGMENTS = 10_000  # JPEG marker segments walked before the frame header
THUMBNAIL = (512, 512)  # what ThreatExchange's Python reference shrinks to before hashing
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff", "GIF": "gif", "HEIF": "heif"}


@lru_cache(maxsize=1)
def _c_hash() -> Any:
    """:mod:`plugins.media._pdq` (the hash in C), or ``None`` where it was not built or
    ``EXHIBIT_PDQ_C_OFF`` is set (then the ``pdqhash`` binding computes the same hash)."""
    if os.environ.get("EXHIBIT_PDQ_C_OFF"):
        return None
    try:
        from plugins.media import _pdq
    except ImportError:
        return None
    return _pdq


@lru_cache(maxsize=1)
def _heif_opener() -> None:
    """Pillow opens HEIC/HEIF once pi-heif's opener is registered (done with the first HEIF
    picture; Pillow, numpy and the PDQ binding with the first picture: imported by the worker that
    hashes one, not by every triage when the plugins are loaded; docs/plugins.md, "Heavy
    libraries"). Registering twice (two threads at once) is harmless."""
    import pi_heif

    pi_heif.register_heif_opener()


@dataclass(frozen=True, kw_only=True)
class ImagePdq(Record):
    """The PDQ hash of one image; ``locator`` names the frame hashed (``frame=0``)."""

    record_type: ClassVar[str] = "media/image/pdq"

    pdq: str  # 64 lower-case hex digits
    quality: int  # 0-100
    image_format: str | None = None  # jpeg, png, webp, tiff, gif, heif
    width: int | None = None  # as stored, before the shrink for hashing
    height: int | None = None


class _OverBudget(Exception):
    """More bytes were read than the header budget allows."""


class _Budgeted(io.RawIOBase):
    """A read-only view of a stream that raises once ``limit`` bytes have been read."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh, self.limit, self.used = fh, limit, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self.used + len(view) > self.limit:
            view = view[: max(0, self.limit - self.used)]
            if not len(view):
                raise _OverBudget
        data = self.fh.read(len(view))
        view[: len(data)] = data
        self.used += len(data)
        return len(data)


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head[4:8] == b"ftyp" and len(head) >= 16:
        (size,) = struct.unpack(">I", head[:4])
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & set(HEIF_BRANDS):
            return "heif"
    return None


class PdqPlugin(Plugin):
    """Reads every image (JPEG, PNG, WebP, TIFF, GIF, HEIC/HEIF; by name, MIME type or magic) and
    emits one :class:`ImagePdq` (``media/image/pdq``: ``pdq`` hex, ``quality``) per image."""

    name = "pdq"
    version = "1.0.0"
    # imported where used (pi-heif too, for HEIF only); numpy and the binding only without the C hash
    requires = ("PIL",) if _c_hash() is not None else ("numpy", "pdqhash", "PIL")
    description = (
        "PDQ perceptual hash of every image (JPEG, PNG, WebP, TIFF, GIF, HEIC), for near-duplicate matching"
    )
    targets = Targets(
        globs=tuple(
            f"**/*.{ext}"
            for ext in ("jpg", "jpeg", "jpe", "png", "webp", "tif", "tiff", "gif", "heic", "heif", "hif")
        ),
        mime_types=(
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/tiff",
            "image/gif",
            "image/heic",
            "image/heif",
        ),
        magic=(
            (0, b"\xff\xd8\xff"),
            (0, b"\x89PNG\r\n\x1a\n"),
            (0, b"GIF87a"),
            (0, b"GIF89a"),
            (8, b"WEBP"),
            (0, b"II*\x00"),
            (0, b"MM\x00*"),
            *((8, brand) for brand in HEIF_BRANDS),
        ),
    )
    emits = (ImagePdq,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return _kind(head) is not None

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[ImagePdq]:
        kind = _kind(item.head)
        if kind is None:
            raise NotMyFormat(f"{item.path} is not a JPEG, PNG, GIF, WebP, TIFF or HEIF image")
        budget = HEADER_BUDGET
        if kind in ("webp", "heif"):
            if item.size > MAX_WHOLE_FILE:
                ctx.warn(
                    f"{kind} file of {item.size} bytes is over the {MAX_WHOLE_FILE}-byte cap "
                    "(its decoder reads the whole file into memory): no PDQ hash",
                    locator="header",
                )
                return
            budget = item.size + 1
        from PIL import Image, ImageFile, UnidentifiedImageError

        if kind == "heif":
            _heif_opener()  # libheif is loaded by the worker that meets a HEIC/HEIF picture
        with item.open() as raw:
            if kind == "jpeg":
                problem = _check_jpeg(raw)
                if problem:
                    ctx.warn(f"JPEG structure broken before the image data: {problem}", locator="header")
                    return
                raw.seek(0)
            stream = _Budgeted(raw, budget)
            reader = io.BufferedReader(stream, buffer_size=64 * 1024)
            # Pillow's switch is process-wide, and importing WeasyPrint (the PDF report) turns it
            # on: a truncated picture would then be hashed as if whole, its missing part grey
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    image = Image.open(reader)
            except _OverBudget:
                ctx.warn(
                    f"no {kind} header found in the first {HEADER_BUDGET} bytes: not an image that can be hashed",
                    locator="header",
                )
                return
            except Image.DecompressionBombError as exc:
                ctx.warn(f"possible decompression bomb, not decoded: {exc}", locator="header")
                return
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
                ctx.warn(f"unreadable {kind} image: {type(exc).__name__}: {exc}", locator="header")
                return
            with image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    ctx.warn(
                        f"{width}x{height} = {width * height} pixels is over the cap of {MAX_PIXELS} "
                        "(possible decompression bomb): not decoded, no PDQ hash",
                        locator="header",
                    )
                    return
                image_format = _FORMATS.get(image.format or "", kind)
                stream.limit = max(item.size, budget) + 1024 * 1024  # decoding reads the file once
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                        # Pillow's advice to the program converting a palette with per-entry
                        # transparency to RGB, which the reference pipeline does too: not news
                        # about the file
                        warnings.filterwarnings("ignore", "Palette images with Transparency", UserWarning)
                        image.thumbnail(THUMBNAIL)
                        image.load()  # decoded here, inside the file and this try (thumbnail may not)
                        rgb = image if image.mode == "RGB" else image.convert("RGB")
                        if rgb.width == 0 or rgb.height == 0:
                            ctx.warn(f"{kind} image has no pixels to hash", locator="frame=0")
                            return
                        # inside too: a decoder may read the file again (pi-heif's, for a file of many pictures)
                        pdq, quality = pdq_of_rgb(rgb)
                except (OSError, SyntaxError, ValueError, _OverBudget, struct.error, EOFError) as exc:
                    ctx.warn(
                        f"{kind} image data cannot be decoded: {type(exc).__name__}: {exc}", locator="frame=0"
                    )
                    return
        yield ImagePdq(
            source=item.source,
            locator="frame=0",
            pdq=pdq,
            quality=quality,
            image_format=image_format,
            width=width,
            height=height,
        )


def _check_jpeg(fh: BinaryIO) -> str | None:
    """Walk the marker segments from SOI to the frame header (SOFn); the problem, or ``None``.

    Pillow skips bytes that are not a marker one at a time, which on a large file of junk after a
    JPEG signature would take minutes; this walk reads 4 bytes a segment and stops at the first
    fault.
    """
    pos = 2
    for _ in range(MAX_SEGMENTS):
        fh.seek(pos)
        marker = fh.read(4)
        if len(marker) < 2:
            return f"the file ends at offset {pos} before a frame header"
        if marker[0] != 0xFF:
            return f"no marker at offset {pos} (byte 0x{marker[0]:02x})"
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return None  # the frame header: Pillow takes it from here
        if code in (0xD9, 0xDA):
            return (
                f"{'end of image' if code == 0xD9 else 'start of scan'} at offset {pos} before a frame header"
            )
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            pos += 2
            continue
        if len(marker) < 4:
            return f"segment at offset {pos} is cut before its length"
        (length,) = struct.unpack(">H", marker[2:4])
        if length < 2:
            return f"segment at offset {pos} has an impossible length {length}"
        pos += 2 + length
    return f"more than {MAX_SEGMENTS} segments before a frame header"


def pdq_of_rgb(rgb: Any) -> tuple[str, int]:
    """The PDQ hash (64 hex digits) and quality of a Pillow RGB image, as it is (no shrink)."""
    c_hash = _c_hash()
    if c_hash is not None:
        pdq, quality = c_hash.hash_rgb(rgb.tobytes(), rgb.width, rgb.height)
        return pdq, quality
    import numpy as np
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(rgb)))
    return _hex(bits), int(quality)


def _hex(bits: Any) -> str:
    """The 256 bits (most significant first, as ``pdqhash`` returns them) as 64 hex digits."""
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:064x}"


def hamming(a: str, b: str) -> int:
    """The number of differing bits of two PDQ hashes in hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
