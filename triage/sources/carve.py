"""Files carved from the unallocated space of each file system of a disk image (JPEG, PNG, GIF, PDF).

A deleted file's name and block pointers can be gone (ext2/3/4 clear them) while its content
still sits in blocks the file system marks free. Carving finds such content by its structure:

* **what is read**: only the unallocated blocks of each file system, as The Sleuth Kit's ``blkls``
  lists them (libtsk's block walk, :mod:`triage.sources._blockmap`), concatenated in block order
  (the *unallocated stream*). A file whose blocks were not consecutive on disk but are consecutive
  among the free blocks (allocated blocks in between) is found whole; its provenance then has more
  than one extent. Space outside every file system is not carved, nor is file slack (the unused
  tail of allocated files' last blocks): a file starts at a block boundary, which the file now
  holding that block overwrote, so slack holds only middles and ends of older files, no header.
* **ext2/ext3**: a deleted file's inode loses its block pointers but its indirect blocks stay in
  free space (:class:`_Pointers`). An indirect block found right after the data is left out of
  the carved bytes; a file that breaks off after its 12 direct blocks is rebuilt through the
  indirect block whose first pointer is its 13th block (and a double-indirect block), when the
  rebuilt file follows its format to the end and decodes.
* **where a file may start**: at a block boundary of the unallocated stream (file systems put a
  file's first byte at the start of a block), where one of the signatures is: JPEG ``FF D8 FF``,
  PNG's 8-byte signature, ``GIF87a``/``GIF89a``, ``%PDF-``. Pictures embedded inside other data
  (a JPEG inside a Word file, a thumbnail) are not carved.
* **where it ends**, read from the format's own structure, never guessed from a fixed size:
  JPEG: the marker segments are followed to the start of scan, the entropy-coded data to the next
  marker, to ``EOI``; a baseline frame must end with ``EOI`` after its scan, restart markers must
  cycle ``RST0``..``RST7``, and an ``MPF`` (multi-picture) index extends the file to the end of its
  last image. PNG: every chunk's length and CRC to ``IEND``. GIF: the block structure to the
  trailer ``3B``. PDF: the last ``%%EOF`` (with its end-of-line) of the run of incremental updates
  that follows the header, before the next file's header or the size cap.
* **validity** (:attr:`Carved.status`): ``valid``: the structure is complete and the picture
  decodes (Pillow: a JPEG is decoded from header to ``EOI``, a PNG's and GIF's pixels are decoded)
  or, for a PDF, a ``startxref`` precedes its ``%%EOF``; ``truncated``: the structure breaks off
  (the free space ends, another file's header or foreign bytes come first, the size cap is reached):
  what was carved is the part that follows the format; ``invalid``: the structure is complete but
  the content does not decode. Truncated and invalid carves are kept and reported as such, never
  as good files; a header that is not followed by even one well-formed structure is only counted.
* **limits** (:class:`CarveLimits`): the size cap of one carved file per type (a JPEG, PNG or GIF
  at most 64 MiB, a PDF 256 MiB by default), the number of carved files per file system
  (100,000), the pixels decoded for the validity check (:data:`MAX_PIXELS`). The unallocated
  stream is read in :data:`WINDOW`-byte windows and a carve holds at most its cap in memory, so
  memory is bounded by the cap whatever the size of the image. A run of data that keeps looking
  like a JPEG (a header at every block) ends each carve at the next header: the work stays linear.

:class:`CarvedSource` wraps the evidence's source: reading a carved entry reads its extents from
the image. Carved entries are :class:`~triage.sources.entry.FileEntry` rows like any other:
``fs_type`` ``carved``, ``partition`` the file system's byte offset, ``inode`` the byte offset of
the carved file's first byte in the image, ``path`` ``/$Carved/<that offset>.<type>``, ``deleted``
true (their blocks are free).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from triage.errors import EntryNotFound, SourceUnreadable, WalkWarning
from triage.sources.content import DEFAULT_CHUNK
from triage.sources.entry import FileEntry, Source

#: ``fs_type`` of carved entries.
CARVED_FS = "carved"
#: The record type of the finding that holds what carving knows of a carved file, and the name
#: such findings carry as their plugin (carving is part of the engine, not a plugin).
CARVE_RECORD = "carve/file"
CARVER = "carver"
#: The folder carved files are listed under (a name no file system gives a real folder).
CARVED_DIR = "/$Carved"
#: Bytes of the unallocated stream read at a time while looking for headers.
WINDOW = 8 * 1024 * 1024
#: Pictures over this many pixels are not decoded for the validity check (a decompression bomb?).
MAX_PIXELS = 200_000_000
#: The types carved, their extensions and MIME types.
KINDS = {"jpeg": "jpg", "png": "png", "gif": "gif", "pdf": "pdf"}
MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "pdf": "application/pdf"}

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
)
_MIB = 1024 * 1024
_FIRST_BYTE = re.compile(rb"[\xff\x89G%]")  # what a signature's first byte can be


@dataclass(frozen=True, slots=True)
class CarveLimits:
    """How much carving may take (see the module docstring). ``max_size``: bytes of one carved file
    per type; ``max_files``: carved files per file system."""

    max_size: dict[str, int] = field(
        default_factory=lambda: {"jpeg": 64 * _MIB, "png": 64 * _MIB, "gif": 64 * _MIB, "pdf": 256 * _MIB}
    )
    max_files: int = 100_000


@dataclass(frozen=True, slots=True)
class Carved:
    """One carved file: where it is in the image and what it is.

    ``partition``: byte offset of the file system in the image; ``offset``: byte offset of the
    file's first byte in the image; ``extents``: ``(image offset, length)`` of each piece, in order;
    ``status``: ``valid``, ``truncated`` or ``invalid`` (``detail`` says why);
    ``width``/``height`` when the picture's header gives them.
    """

    partition: int
    offset: int
    length: int
    kind: str
    extents: tuple[tuple[int, int], ...]
    status: str
    detail: str
    sha256: str
    md5: str
    width: int | None = None
    height: int | None = None

    @property
    def path(self) -> str:
        return carved_path(self.offset, self.kind)

    def entry(self) -> FileEntry:
        return carved_entry(self.partition, self.offset, self.length, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "offset": self.offset,
            "length": self.length,
            "type": self.kind,
            "extents": [list(e) for e in self.extents],
            "status": self.status,
            "detail": self.detail,
            "width": self.width,
            "height": self.height,
        }


def carved_path(offset: int, kind: str) -> str:
    """``/$Carved/<image offset>.<type>``: the path of the file carved at ``offset``."""
    return f"{CARVED_DIR}/{offset}.{KINDS[kind]}"


def carved_entry(partition: int, offset: int, length: int, kind: str) -> FileEntry:
    """The entry of the file carved at image ``offset`` (what the run stores and its workers read,
    a remote worker making it again from its job: triage/distributed/tasks.py)."""
    path = carved_path(offset, kind)
    name = path.rsplit("/", 1)[1]
    return FileEntry(
        partition=partition,
        fs_type=CARVED_FS,
        path=path,
        name=name,
        name_bytes=name.encode(),
        inode=offset,
        type="file",
        size=length,
        deleted=True,
    )


# -- the unallocated stream ------------------------------------------------------------------------


class FreeStream:
    """The unallocated blocks of one file system, as one stream (what ``blkls`` writes).

    ``runs``: ``(image byte offset, length)`` of each run of free blocks, in block order.
    """

    def __init__(self, read_at: Callable[[int, int], bytes], runs: list[tuple[int, int]]) -> None:
        self.read_at = read_at
        self.runs = runs
        self.starts: list[int] = []  # stream offset of each run
        pos = 0
        for _, length in runs:
            self.starts.append(pos)
            pos += length
        self.size = pos

    def _run_at(self, pos: int) -> int:
        import bisect

        return bisect.bisect_right(self.starts, pos) - 1

    def extents(self, pos: int, length: int) -> list[tuple[int, int]]:
        """The image byte ranges holding stream bytes ``pos``..``pos+length``."""
        out: list[tuple[int, int]] = []
        i = self._run_at(pos)
        while length > 0 and i < len(self.runs):
            img, run_len = self.runs[i]
            skip = pos - self.starts[i]
            n = min(run_len - skip, length)
            if out and out[-1][0] + out[-1][1] == img + skip:
                out[-1] = (out[-1][0], out[-1][1] + n)
            else:
                out.append((img + skip, n))
            pos += n
            length -= n
            i += 1
        return out

    def read(self, pos: int, length: int) -> bytes:
        """Stream bytes ``pos``..``pos+length`` (short at the end of the stream)."""
        parts = []
        for img, n in self.extents(pos, max(0, min(length, self.size - pos))):
            data = self.read_at(img, n)
            parts.append(data)
            if len(data) < n:  # a short read: the image ends (truncated evidence)
                break
        return b"".join(parts)


class _Buffer:
    """Stream bytes from ``start``, read on demand up to ``cap`` bytes (never more in memory).

    ``indirect``: the block size of an ext2/ext3 file system, whose files' indirect blocks (the
    block pointers written in among the data, after the twelfth block) are recognised and left
    out of the carved bytes, as the file's own reading would (0: nothing left out).
    ``pieces``: the stream ranges the bytes held came from, in order.
    """

    def __init__(
        self, stream: FreeStream, start: int, cap: int, indirect: int = 0, fs_offset: int = 0
    ) -> None:
        self.stream = stream
        self.start = start
        self.cap = cap
        self.data = bytearray()
        self.exhausted = False  # the stream or the cap ended before what was asked
        self.spos = start  # the next stream byte to read
        self.indirect = indirect
        self.fs_offset = fs_offset
        self.pieces: list[tuple[int, int]] = []
        self.skipped = 0  # indirect blocks left out

    def _keep(self, pos: int, chunk: bytes | memoryview) -> None:
        if self.pieces and self.pieces[-1][0] + self.pieces[-1][1] == pos:
            self.pieces[-1] = (self.pieces[-1][0], self.pieces[-1][1] + len(chunk))
        else:
            self.pieces.append((pos, len(chunk)))
        self.data += chunk

    def ensure(self, n: int) -> bool:
        """At least ``n`` bytes held? Reads more (in 1 MiB steps, at most to the cap)."""
        while len(self.data) < n:
            room = min(self.cap - len(self.data), self.stream.size - self.spos)
            if room <= 0:
                self.exhausted = True
                return False
            # small first reads (most headers in free space start nothing), then 1 MiB steps
            step = min(max(n - len(self.data), min(_MIB, max(len(self.data), 16384))), room)
            if self.indirect:
                step = -(-step // self.indirect) * self.indirect
            got = self.stream.read(self.spos, step)
            if not got:
                self.exhausted = True
                return False
            at = self.spos
            self.spos += len(got)
            if not self.indirect:
                self._keep(at, got[: self.cap - len(self.data)])
                continue
            size = self.indirect
            view = memoryview(got)
            kept_from = 0  # start of the span of blocks kept since the last one left out
            for k in range(0, len(got) - size + 1, size):
                # a pointer block's first two pointers are consecutive (or the second is empty)
                a = int.from_bytes(view[k : k + 4], "little")
                if a == 0 or len(self.data) + k - kept_from < 12 * size:
                    continue
                b = int.from_bytes(view[k + 4 : k + 8], "little")
                if (b == 0 or b == a + 1) and self._is_indirect(view[k : k + size], at + k + size):
                    self._keep(at + kept_from, view[kept_from:k][: max(0, self.cap - len(self.data))])
                    kept_from = k + size
                    self.skipped += 1
            self._keep(at + kept_from, view[kept_from:][: max(0, self.cap - len(self.data))])
        return True

    def _is_indirect(self, blk: memoryview, next_pos: int) -> bool:
        """Is ``blk`` an ext2/3 indirect block whose first pointer is the block after it?"""
        first = int.from_bytes(blk[:4], "little")
        if first == 0 or next_pos >= self.stream.size:
            return False
        ext = self.stream.extents(next_pos, 1)
        if not ext or (ext[0][0] - self.fs_offset) // self.indirect != first:
            return False
        values = struct.unpack(f"<{len(blk) // 4}I", blk)
        prev = 0
        ended = False
        for v in values:
            if v == 0:
                ended = True
            elif ended or v <= prev:
                return False
            else:
                prev = v
        return True

    def extents(self, length: int) -> list[tuple[int, int]]:
        """The image byte ranges of the first ``length`` bytes held."""
        out: list[tuple[int, int]] = []
        for pos, n in self.pieces:
            if length <= 0:
                break
            for img, k in self.stream.extents(pos, min(n, length)):
                if out and out[-1][0] + out[-1][1] == img:
                    out[-1] = (out[-1][0], out[-1][1] + k)
                else:
                    out.append((img, k))
            length -= n
        return out


# -- the formats -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    end: int  # bytes of the carved file (the part that follows the format)
    complete: bool  # the format's end was found
    detail: str
    width: int | None = None
    height: int | None = None


def _next_header(buf: _Buffer, pos: int, block: int) -> int:
    """The first block boundary at or after ``pos`` (relative to the carve) where a header is."""
    first = -(-pos // block) * block
    for at in range(first, len(buf.data) - 8, block):
        head = bytes(buf.data[at : at + 8])
        if any(head.startswith(sig) for sig, _ in _SIGNATURES):
            return at
    return -1


_AFTER_SCAN = frozenset({0xD9, 0xDA, 0xC4, 0xDB, 0xDD, 0xDC, 0xFE})  # what may follow a scan


def _jpeg(buf: _Buffer, block: int) -> _Parsed:
    data = buf.data
    pos = 2
    width = height = None
    mpf_end = 0
    scanned = False

    def cut(at: int, why: str) -> _Parsed:
        return _Parsed(at, False, why, width, height)

    while True:
        if not buf.ensure(pos + 4):
            return cut(min(pos, len(data)), "no end of image (EOI) before the free space ends")
        if data[pos] != 0xFF:
            return cut(pos, f"foreign bytes where a marker should be, at byte {pos}")
        while data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
            if not buf.ensure(pos + 4):
                return cut(pos, "no end of image (EOI) before the free space ends")
        marker = data[pos + 1]
        if marker == 0xD9:
            if not scanned:
                return cut(pos + 2, "end of image before any image data")
            if mpf_end > pos + 2:
                if not buf.ensure(mpf_end):
                    return cut(len(data), "the multi-picture (MPF) images run past the free space")
                return _Parsed(mpf_end, True, "", width, height)
            return _Parsed(pos + 2, True, "", width, height)
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            return cut(pos, f"unexpected marker FF{marker:02X} at byte {pos}")
        if scanned and marker not in _AFTER_SCAN:
            return cut(pos, f"marker FF{marker:02X} after the image data, at byte {pos}")
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2:
            return cut(pos, f"segment FF{marker:02X} with length {length}, at byte {pos}")
        if not buf.ensure(pos + 2 + length):
            return cut(len(data), "a marker segment runs past the free space")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if length >= 7:
                height, width = struct.unpack(">HH", bytes(data[pos + 5 : pos + 9]))
        elif marker == 0xE2 and data[pos + 4 : pos + 8] == b"MPF\x00":
            mpf_end = max(mpf_end, _mpf_end(bytes(data[pos + 4 : pos + 2 + length]), pos + 8))
        pos += 2 + length
        if marker == 0xDA:
            scanned = True
            end = _entropy_end(buf, pos)
            if end < 0:
                if end == -1:
                    return cut(len(data), "no end of image (EOI) before the free space ends")
                return cut(-end - 2, f"restart marker out of sequence at byte {-end - 2}")
            pos = end


# a marker (or the fill bytes before one) ending entropy-coded data; a literal first byte lets
# the regular expression engine skip ahead as fast as bytes.find
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")


def _entropy_end(buf: _Buffer, pos: int) -> int:
    """The position of the first marker after entropy-coded data starting at ``pos`` (stuffed
    ``FF 00``, fill bytes and restart markers ``RST0``..``RST7``, in their cycle, are part of the
    data); -1 when the free space ends first, ``-2 - position`` of a restart marker out of its
    cycle. The data is searched with regular expressions, a megabyte at a time."""
    data = buf.data
    start = pos
    while True:
        m = _MARKER.search(data, pos)
        if m is not None:
            at = m.start()
            break
        pos = max(pos, len(data) - 1)  # a final FF may start a marker
        held = len(data)
        buf.ensure(held + _MIB)
        if len(data) == held:
            return -1
    expect = -1  # the next restart marker's number, once one was seen
    for r in _RESTART.finditer(data, start, at):
        n = data[r.start() + 1] - 0xD0
        if expect != -1 and n != expect:
            # a stuffed FF 00 cannot precede an RST: an FF before this one belongs to the data
            return -2 - r.start()
        expect = (n + 1) % 8
    return at


def _mpf_end(seg: bytes, tiff_at: int) -> int:
    """The end (relative to the file) of the last image an MPF APP2 segment indexes, or 0.

    ``seg`` starts with ``MPF\\0`` then a TIFF header; offsets of images after the first are
    relative to that TIFF header, at file position ``tiff_at``."""
    t = seg[4:]
    if len(t) < 8 or t[:4] not in (b"II*\x00", b"MM\x00*"):
        return 0
    e = "<" if t[:2] == b"II" else ">"
    try:
        ifd = struct.unpack(e + "I", t[4:8])[0]
        count = struct.unpack(e + "H", t[ifd : ifd + 2])[0]
        end = 0
        for i in range(min(count, 64)):
            at = ifd + 2 + 12 * i
            tag, _typ, n, value = struct.unpack(e + "HHII", t[at : at + 12])
            if tag == 0xB002:  # MPEntry: 16 bytes per image
                for k in range(min(n // 16, 64)):
                    entry = t[value + 16 * k : value + 16 * k + 16]
                    if len(entry) < 16:
                        break
                    _attr, size, offset = struct.unpack(e + "III", entry[:12])
                    if offset:  # the first image's offset is 0 (this file)
                        end = max(end, tiff_at + offset + size)
        return end
    except (struct.error, IndexError):
        return 0


def _png(buf: _Buffer, block: int) -> _Parsed:
    pos = 8
    width = height = None
    first = True
    while True:
        if not buf.ensure(pos + 12):
            return _Parsed(pos, False, "no IEND chunk before the free space ends", width, height)
        length, ctype = struct.unpack(">I4s", bytes(buf.data[pos : pos + 8]))
        if length > 0x7FFFFFFF or not ctype.isalpha() or (first and ctype != b"IHDR"):
            return _Parsed(pos, False, f"not a PNG chunk at byte {pos}", width, height)
        if not buf.ensure(pos + 12 + length):
            return _Parsed(pos, False, f"chunk {ctype.decode()} runs past the free space", width, height)
        body = bytes(buf.data[pos + 4 : pos + 8 + length])
        (crc,) = struct.unpack(">I", bytes(buf.data[pos + 8 + length : pos + 12 + length]))
        if zlib.crc32(body) & 0xFFFFFFFF != crc:
            return _Parsed(
                pos, False, f"CRC of chunk {ctype.decode()} at byte {pos} does not match", width, height
            )
        if first and length >= 8:
            width, height = struct.unpack(">II", body[4:12])
        first = False
        pos += 12 + length
        if ctype == b"IEND":
            return _Parsed(pos, True, "", width, height)


def _gif(buf: _Buffer, block: int) -> _Parsed:
    if not buf.ensure(13):
        return _Parsed(0, False, "the free space ends in the header")
    data = buf.data
    width, height = struct.unpack("<HH", bytes(data[6:10]))
    flags = data[10]
    pos = 13
    if flags & 0x80:
        pos += 3 * (2 << (flags & 7))
    images = 0

    def sub_blocks(p: int) -> int:
        while True:
            if not buf.ensure(p + 1):
                return -1
            n = data[p]
            p += 1 + n
            if n == 0:
                return p

    while True:
        if not buf.ensure(pos + 1):
            return _Parsed(pos, False, "no trailer before the free space ends", width, height)
        kind = data[pos]
        if kind == 0x3B:
            if not images:
                return _Parsed(pos + 1, False, "trailer before any image", width, height)
            return _Parsed(pos + 1, True, "", width, height)
        if kind == 0x21:
            if not buf.ensure(pos + 2):
                return _Parsed(pos, False, "the free space ends in an extension", width, height)
            end = sub_blocks(pos + 2)
        elif kind == 0x2C:
            if not buf.ensure(pos + 11):
                return _Parsed(pos, False, "the free space ends in an image descriptor", width, height)
            lflags = data[pos + 9]
            p = pos + 10
            if lflags & 0x80:
                p += 3 * (2 << (lflags & 7))
            p += 1  # LZW minimum code size
            end = sub_blocks(p)
            images += 1
        else:
            return _Parsed(
                pos,
                False,
                f"foreign byte {kind:02X} where a GIF block should be, at byte {pos}",
                width,
                height,
            )
        if end < 0:
            return _Parsed(len(data), False, "no trailer before the free space ends", width, height)
        pos = end


def _pdf(buf: _Buffer, block: int) -> _Parsed:
    """Up to the last ``%%EOF`` of the updates following the header, before the next file's
    header (looked for at block boundaries as the bytes are read, so a header with no end costs
    the bytes up to the next header, not the size cap)."""
    pos = 5
    last = -1
    startxref = False
    checked = block  # block boundaries before this were looked at for a header
    stop = -1  # the next file's header
    while True:
        at = buf.data.find(b"%%EOF", pos)
        nh = _next_header(buf, checked, block)
        if nh != -1 and (at == -1 or nh < at):
            stop = nh
            break
        if at == -1:
            checked = max(checked, (len(buf.data) - 8) // block * block)
            held = len(buf.data)
            buf.ensure(held + _MIB)
            if len(buf.data) == held:  # nothing more to read
                break
            continue
        end = at + 5
        buf.ensure(end + 66)
        for _ in range(2):
            if end < len(buf.data) and buf.data[end] in (0x0D, 0x0A):
                end += 1
        startxref = startxref or buf.data.rfind(b"startxref", max(0, at - 64), at) != -1
        last = end
        # another incremental update follows when the next non-blank bytes start an object or xref
        rest = bytes(buf.data[end : end + 64]).lstrip(b"\r\n\t ")
        if not rest[:1].isdigit() and not rest.startswith((b"xref", b"%")):
            break
        pos = end
    if last < 0:
        held = stop if stop != -1 else len(buf.data)
        return _Parsed(held, False, "no %%EOF before the free space, the size cap or the next file's header")
    if not startxref:
        return _Parsed(last, False, "%%EOF without a startxref before it")
    return _Parsed(last, True, "")


_PARSERS: dict[str, Callable[[_Buffer, int], _Parsed]] = {
    "jpeg": _jpeg,
    "png": _png,
    "gif": _gif,
    "pdf": _pdf,
}


def _decodes(kind: str, data: bytes) -> str:
    """Empty when the picture decodes (Pillow), else why not. PDFs are not decoded."""
    if kind == "pdf":
        return ""
    from PIL import Image, ImageFile

    # process-wide, and turned on by importing WeasyPrint: a cut picture must not pass as whole
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                return (
                    f"not decoded: {w}x{h} pixels is over the limit of {MAX_PIXELS} (a decompression bomb?)"
                )
            if kind == "jpeg":
                im.draft("RGB", (max(1, w // 8), max(1, h // 8)))  # every coefficient still decoded
            im.load()
            if kind == "gif":
                for frame in range(1, min(getattr(im, "n_frames", 1), 1000)):
                    im.seek(frame)
                    im.load()
    except Exception as exc:  # Pillow's errors for damaged data: OSError, SyntaxError, ValueError...
        return f"does not decode: {type(exc).__name__}: {exc}"
    return ""


# -- ext2/ext3: files rebuilt from the indirect blocks left in free space ---------------------------


class _Pointers:
    """The free blocks of an ext2/ext3 file system that hold block pointers (indirect blocks).

    When ext2/3 deletes a file it clears the pointers in the inode, but its indirect blocks (the
    blocks of pointers to the 13th and later data blocks) stay in free space as they were. A
    JPEG or PNG that breaks off after its 12 direct blocks is tried with each such block (and,
    past 12 + pointers-per-block blocks, each double-indirect block): the one whose pointed data
    continues the format to its end and decodes is the file's. Pointer blocks are looked for in the
    block group of the carve and its neighbours (ext2 keeps a file's indirect blocks near it),
    at most :attr:`MAX_POINTER_BLOCKS` of them.
    """

    MAX_POINTER_BLOCKS = 4_096  # at 4 bytes a pointer: at most 16 MiB held for 4 KiB blocks
    MAX_TRIES = 4_000  # candidate continuations parsed per file

    def __init__(self, stream: FreeStream, fs_offset: int, block: int, blocks: int) -> None:
        self.stream = stream
        self.fs_offset = fs_offset
        self.block = block
        self.blocks = blocks  # blocks of the file system: a pointer is below this
        self.per_group = 8 * block  # blocks per group (one block of bitmap)
        self.scanned: set[int] = set()
        self.found: dict[int, array[int]] = {}  # pointer block -> its pointers
        self.truncated = False

    def _scan_group(self, group: int) -> None:
        if group in self.scanned or group < 0 or len(self.found) >= self.MAX_POINTER_BLOCKS:
            return
        self.scanned.add(group)
        first = self.fs_offset + group * self.per_group * self.block
        last = first + self.per_group * self.block
        size = self.block
        n = size // 4
        for img, length in self.stream.runs:
            lo, hi = max(img, first), min(img + length, last)
            if lo >= hi:
                continue
            at = lo
            while at < hi:
                data = self.stream.read_at(at, min(hi - at, WINDOW))
                if not data:
                    break
                for k in range(0, len(data) - size + 1, size):
                    head = data[k : k + 8]
                    a = int.from_bytes(head[:4], "little")
                    b = int.from_bytes(head[4:8], "little")
                    if a == 0 or a >= self.blocks or (b != 0 and (b <= a or b >= self.blocks)):
                        continue
                    values = struct.unpack(f"<{n}I", data[k : k + size])
                    count = 0
                    ok = True
                    for v in values:
                        if v == 0:
                            break
                        if v >= self.blocks:
                            ok = False
                            break
                        count += 1
                    if ok and (count < 1 or any(values[count:])):
                        ok = False
                    if ok:
                        self.found[(at + k - self.fs_offset) // size] = array("I", values[:count])
                        if len(self.found) >= self.MAX_POINTER_BLOCKS:
                            self.truncated = True
                            return
                at += len(data)

    def near(self, fs_block: int) -> dict[int, array[int]]:
        group = fs_block // self.per_group
        for g in (group, group - 1, group + 1):
            self._scan_group(g)
        return self.found

    def runs_of(self, blocks: list[int]) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        for b in blocks:
            img = self.fs_offset + b * self.block
            if runs and runs[-1][0] + runs[-1][1] == img:
                runs[-1] = (runs[-1][0], runs[-1][1] + self.block)
            else:
                runs.append((img, self.block))
        return runs


def _rebuild_ext(
    pointers: _Pointers, kind: str, start_block: int, cap: int
) -> tuple[_Buffer, _Parsed, list[int]] | None:
    """The file starting at ``start_block`` (12 direct blocks there) completed through an
    indirect block (and a double-indirect one) of ``pointers``; None when none fits."""
    direct = list(range(start_block, start_block + 12))
    found = pointers.near(start_block)
    per = pointers.block // 4
    tries = 0

    def attempt(blocks: list[int], probe: bool) -> tuple[_Buffer, _Parsed] | None:
        nonlocal tries
        tries += 1
        buf = _Buffer(FreeStream(pointers.stream.read_at, pointers.runs_of(blocks)), 0, cap)
        parsed = _PARSERS[kind](buf, pointers.block)
        if parsed.complete:
            return buf, parsed
        # broke off before the bytes given ran out: not this continuation
        if not buf.exhausted:
            return None
        return (buf, parsed) if probe else None

    follows = start_block + 12  # an indirect block's first pointer is the 13th block
    singles = sorted(b for b, ptrs in found.items() if ptrs[0] == follows)
    for ind in singles:
        data = list(found[ind])
        whole = attempt(direct + data, True)
        if whole is None:
            continue
        buf, parsed = whole
        if parsed.complete:
            return buf, parsed, [ind]
        if len(data) < per:
            continue
        # the double-indirect block: its pointers are indirect blocks (ext2 writes it next)
        dinds = sorted(
            (b for b, kids in found.items() if b != ind and all(k in found for k in kids)),
            key=lambda b: abs(b - ind),
        )
        for dind in dinds:
            if tries >= _Pointers.MAX_TRIES:
                return None
            children = found[dind]
            more = [b for child in children for b in found[child]]
            got = attempt(direct + data + more, False)
            if got is not None:
                return got[0], got[1], [ind, dind]
    return None


# -- carving one file system -----------------------------------------------------------------------


@dataclass(slots=True)
class CarveReport:
    """What carving one file system found, and what it could not do."""

    partition: int
    scanned: int = 0  # bytes of free space read
    carved: list[Carved] = field(default_factory=list)
    rejected: int = 0  # headers not followed by one well-formed structure
    warnings: list[str] = field(default_factory=list)


def carve_stream(
    stream: FreeStream,
    partition: int,
    block: int,
    limits: CarveLimits | None = None,
    progress: Callable[[int], None] | None = None,
    indirect: bool = False,
    fs_blocks: int | None = None,
) -> CarveReport:
    """Carve ``stream`` (the free blocks of the file system at byte ``partition``, ``block`` bytes
    each): see the module docstring."""
    limits = limits or CarveLimits()
    report = CarveReport(partition)
    pos = 0  # stream offset of the next block boundary to look at
    window_at = -1
    window = b""
    firsts = b""  # the first byte of each block of the window
    pointers: _Pointers | None = None  # ext2/ext3 indirect blocks in free space, found on first need
    while pos < stream.size:
        if not window_at <= pos < window_at + len(window) - 8:
            window_at = pos
            window = stream.read(pos, WINDOW + 8)
            firsts = window[: max(0, len(window) - 8)][::block]
            report.scanned = min(stream.size, pos + WINDOW)
            if progress is not None:
                progress(report.scanned)
            if len(window) < 8:
                if pos + len(window) < stream.size:
                    report.warnings.append(
                        f"the image ends inside the free space of the file system (read stopped at "
                        f"stream byte {pos + len(window)} of {stream.size}): the rest is not carved"
                    )
                break
        # next header at a block boundary in this window: the first byte of every block, taken
        # with one strided slice, tells which blocks may start one
        rel = pos - window_at
        found = -1
        kind = ""
        i = rel // block
        while True:
            m = _FIRST_BYTE.search(firsts, i)
            if m is None:
                break
            i = m.start()
            head = window[i * block : i * block + 8]
            kind = next((k for sig, k in _SIGNATURES if head.startswith(sig)), "")
            if kind:
                found = i * block
                break
            i += 1
        if found == -1:
            pos = window_at + max(len(window) - 8, rel + 1)
            pos = -(-pos // block) * block
            if len(window) < WINDOW:  # the stream's last window
                break
            continue
        start = window_at + found
        if len(report.carved) >= limits.max_files:
            report.warnings.append(
                f"more than {limits.max_files} files carved from this file system: the rest of its "
                "free space is not carved (limit: max_files)"
            )
            break
        buf = _Buffer(stream, start, limits.max_size[kind], block if indirect else 0, partition)
        parsed = _PARSERS[kind](buf, block)
        rebuilt: list[int] = []
        if indirect and not parsed.complete and len(buf.data) >= 12 * block:
            first = stream.extents(start, 12 * block)
            if len(first) == 1:  # 12 direct blocks in a row
                if pointers is None:
                    pointers = _Pointers(stream, partition, block, fs_blocks or 0)
                again = _rebuild_ext(
                    pointers, kind, (first[0][0] - partition) // block, limits.max_size[kind]
                )
                if again is not None:
                    buf, parsed, rebuilt = again
        if parsed.end < min(block, 512) and not parsed.complete:
            report.rejected += 1
            pos = start + block
            continue
        data = bytes(buf.data[: parsed.end])
        status, detail = "valid", ""
        if not parsed.complete:
            status, detail = "truncated", parsed.detail
            if buf.exhausted and len(buf.data) >= limits.max_size[kind]:
                detail += f" (size cap {limits.max_size[kind]} bytes)"
            # what follows the data in free space is often zeros, which a JPEG's entropy-coded
            # data cannot be told from: a truncated carve ends at its last byte that is not zero
            # (found in review: a cut JPEG of 13 KB carved as 16.7 MB to the end of free space)
            kept = len(data.rstrip(b"\x00"))
            if len(data) - kept >= min(block, 4096):
                detail += f"; the {len(data) - kept} zero bytes after its last data left out"
                data = data[:kept]
        else:
            why = _decodes(kind, data)
            if why:
                status, detail = "invalid", why
        extents = tuple(buf.extents(len(data)))
        if len(extents) > 1 and not rebuilt:
            # free space joined across allocated blocks: the carve assumes the file went on in the
            # next free block, which nothing proves (found in review: a JPEG whose middle block
            # was reused decoded, wrong, and passed as valid)
            gaps = sum(b[0] - (a[0] + a[1]) for a, b in pairwise(extents))
            note = (
                f"joined across {len(extents) - 1} allocated gap(s) of {gaps} bytes in all: the bytes "
                f"after image offset {extents[0][0] + extents[0][1]} are assumed to continue the file "
                "(not proven; look at the picture)"
            )
            detail = f"{detail}; {note}" if detail else note
        if rebuilt:
            note = (
                f"rebuilt through the ext2/ext3 indirect block {rebuilt[0]}"
                + (f" and double-indirect block {rebuilt[1]}" if len(rebuilt) > 1 else "")
                + " left in free space"
            )
            detail = f"{detail}; {note}" if detail else note
        if buf.skipped:
            note = f"{buf.skipped} ext2/ext3 indirect block(s) left out"
            detail = f"{detail}; {note}" if detail else note
        report.carved.append(
            Carved(
                partition=partition,
                offset=extents[0][0],
                length=len(data),
                kind=kind,
                extents=extents,
                status=status,
                detail=detail,
                sha256=hashlib.sha256(data).hexdigest(),
                md5=hashlib.md5(data).hexdigest(),
                width=parsed.width,
                height=parsed.height,
            )
        )
        # a complete file: go on after it; a truncated one: after its header's block (what broke
        # it may be the next file's header)
        nxt = start + len(data) if parsed.complete and not rebuilt else start + block
        pos = -(-nxt // block) * block
    if progress is not None:
        progress(stream.size)
    return report


def free_runs(reader: Any, partition: int) -> tuple[int, list[tuple[int, int]], int]:
    """(block size, free runs as (image byte offset, length), blocks) of the file system at
    ``partition``.

    Raises ImportError when the block walk is not built, OSError when libtsk cannot walk it."""
    from triage.sources import _blockmap

    block, first, last, _name = _blockmap.geometry(reader.read_at, reader.size, partition)
    if block <= 0:
        raise OSError(f"libtsk reports a block size of {block} for the file system at byte {partition}")
    runs: list[tuple[int, int]] = []
    step = 1 << 22  # blocks per call: the runs of one window are held at once
    at = first
    while at <= last:
        packed = _blockmap.unallocated(reader.read_at, reader.size, partition, at, min(last, at + step - 1))
        for start, count in struct.iter_unpack("<QQ", packed):
            img = partition + start * block
            length = count * block
            if runs and runs[-1][0] + runs[-1][1] == img:
                runs[-1] = (runs[-1][0], runs[-1][1] + length)
            else:
                runs.append((img, length))
        at += step
    # the last blocks may run past a truncated image: keep what the image holds
    size = reader.size
    clipped = []
    for img, length in runs:
        if img >= size:
            break
        clipped.append((img, min(length, size - img)))
    return block, clipped, last + 1


def carve_image(
    source: Any,
    limits: CarveLimits | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> list[CarveReport]:
    """Carve every file system of ``source`` (an :class:`~triage.sources.image_source.ImageSource`).

    ``progress(partition, bytes done, bytes of free space)`` is called as it goes. A file system
    whose free blocks cannot be listed gets a report with a warning and nothing carved."""
    reports = []
    for fs in source.filesystems:
        try:
            block, runs, blocks = free_runs(source.reader, fs.offset)
        except (ImportError, OSError) as exc:
            rep = CarveReport(fs.offset)
            why = (
                "the block walk (triage.sources._blockmap) is not built: install libtsk-dev and run ./scripts/setup.sh"
                if isinstance(exc, ImportError)
                else str(exc)
            )
            rep.warnings.append(f"free space not carved: {why}")
            reports.append(rep)
            continue
        stream = FreeStream(source.reader.read_at, runs)
        tick = None if progress is None else (lambda done, o=fs.offset, s=stream.size: progress(o, done, s))
        ext = str(getattr(fs, "fs_type", "")).startswith("ext")
        reports.append(carve_stream(stream, fs.offset, block, limits, tick, indirect=ext, fs_blocks=blocks))
    return reports


# -- reading carved files --------------------------------------------------------------------------


class CarvedSource:
    """``top`` (an image source) whose carved entries can be read: ``carved`` maps a carved
    entry's ``(partition, path)`` to its extents. Everything else is ``top``'s."""

    def __init__(
        self, top: Source, carved: dict[tuple[int | None, str], tuple[tuple[int, int], ...]]
    ) -> None:
        self.top = top
        self.kind = top.kind
        self.name = top.name
        self.warnings: list[WalkWarning] = top.warnings
        self.carved = carved

    def __enter__(self) -> CarvedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.top.close()

    def filesystem(self, partition: int | None = None) -> Any:
        return self.top.filesystem(partition)  # type: ignore[attr-defined]

    def entries(self, path: str | None = None, **how: Any) -> Iterator[FileEntry]:
        return self.top.entries(path, **how)

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        if entry.fs_type != CARVED_FS:
            yield from self.top.read(entry, chunk_size=chunk_size)
            return
        extents = self.carved.get((entry.partition, entry.path))
        if extents is None:
            raise EntryNotFound(f"{self.name}: {entry.path} is not a carved file of this run")
        reader = getattr(self.top, "reader", None)
        if reader is None:
            raise SourceUnreadable(f"{self.name}: carved files are read from disk images only")
        for img, length in extents:
            done = 0
            while done < length:
                n = min(chunk_size, length - done)
                data = reader.read_at(img + done, n)
                if len(data) < n:
                    raise SourceUnreadable(f"{self.name}: the image ends at byte {img + done + len(data)}")
                done += n
                yield data


def main(argv: list[str] | None = None) -> int:
    """``python -m triage.sources.carve IMAGE``: carve every file system of a raw image and print
    one JSON line per carved file (what ``bench/carve_vs_photorec.py`` times). Nothing is written."""
    import json
    import sys
    from pathlib import Path

    from triage.sources.image_source import ImageSource

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m triage.sources.carve IMAGE", file=sys.stderr)
        return 2
    with ImageSource(Path(args[0])) as source:
        for report in carve_image(source):
            for c in report.carved:
                print(json.dumps({**c.as_dict(), "sha256": c.sha256, "md5": c.md5}))
            for w in report.warnings:
                print(f"warning: partition@{report.partition}: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
