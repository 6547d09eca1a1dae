"""Legacy Office files (Word ``.doc``, Excel ``.xls``, PowerPoint ``.ppt``, ...): OLE2 property sets.

An OLE2 compound file (magic ``D0 CF 11 E0 A1 B1 1A E1``) holds two property-set streams
([MS-OLEPS]); ``olefile`` opens the compound file and its streams, and the property set itself is
read here (:func:`read_property_set`) so that FILETIMEs keep their exact 100 ns tick count:

- ``\\x05SummaryInformation`` (FMTID F29F85E0-4FF9-1068-AB91-08002B27B3D9): 2 title, 3 subject,
  4 author, 5 keywords, 6 comments, 7 template, 8 last saved by, 9 revision number (text),
  10 total editing time (a FILETIME *duration*, kept as its 100 ns tick count), 11 last printed,
  12 created, 13 last saved (FILETIME: 100 ns since 1601-01-01 UTC, converted here), 14 pages,
  15 words, 16 characters, 18 application name. Zero FILETIMEs mean "never" (Word writes 0 for a
  document never printed).
- ``\\x05DocumentSummaryInformation`` (FMTID D5CDD502-2E9C-101B-9397-08002B2CF9AE): 5 lines,
  6 paragraphs, 15 company, 17 characters with spaces, 23 application version (``VT_I4``:
  major in the high 16 bits, build in the low 16 bits, shown ``14.0000`` as exiftool does).

8-bit strings (``VT_LPSTR``) are decoded with the property set's code page (property 1).

Encryption: an OLE2 file with an ``EncryptedPackage`` stream is a password-protected OOXML
document ([MS-OFFCRYPTO] 2.3.4.4) and a Word binary file whose FIB has ``fEncrypted`` set (bit 8 of
the 16-bit flags at offset 10 of the ``WordDocument`` stream, [MS-DOC] 2.5.2) is encrypted: both
give a record with ``encrypted`` set (and whatever property sets are still in clear), never a
failure.

Expected on the public corpus (``documents/Document.doc``, from plaso's test data): author
"DAVID NIDES", last saved by "Nides", created 2012-12-10 18:38:00 UTC, last saved 2013-05-16
02:29:00 UTC, never printed, revision "4", company "KPMG", as exiftool 12.57 reads it.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator, Mapping
from typing import Any

import olefile

from plugins.document._common import MAX_PART_BYTES, OleMetadata, from_filetime
from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, Targets

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SUMMARY = "\x05SummaryInformation"
DOC_SUMMARY = "\x05DocumentSummaryInformation"
ENCRYPTED_PACKAGE = "EncryptedPackage"
WORD_STREAM = "WordDocument"
FIB_ENCRYPTED = 0x0100


class OleOfficePlugin(Plugin):
    """Reads SummaryInformation and DocumentSummaryInformation of OLE2 Office files; flags encryption."""

    name = "ole_office"
    version = "1.0.0"
    description = "Legacy Office (doc/xls/ppt) OLE2 summary properties; encrypted Office files"
    targets = Targets(
        globs=tuple(f"**/*.{ext}" for ext in ("doc", "dot", "xls", "xlt", "ppt", "pot", "pps")),
        magic=((0, OLE_MAGIC),),
    )
    emits = (OleMetadata,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return head.startswith(OLE_MAGIC)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[OleMetadata]:
        if not self.claims(item.head, item.size):  # the one check of the first bytes
            raise NotMyFormat(f"{item.path} is not an OLE2 compound file")
        with item.open() as fh:
            try:
                ole = olefile.OleFileIO(fh)
            except Exception as exc:  # olefile raises OSError, struct.error, IndexError ... on damage
                ctx.warn(f"damaged OLE2 file: {type(exc).__name__}: {exc}")
                return
            try:
                record = _read(item, ole, ctx)
            finally:
                ole.close()
        if record is not None:
            yield record


def _read(item: FileItem, ole: olefile.OleFileIO, ctx: ParseContext) -> OleMetadata | None:
    encrypted = False
    fmt = "ole2"
    if ole.exists(ENCRYPTED_PACKAGE):
        encrypted, fmt = True, "ooxml"
    elif ole.exists(WORD_STREAM):
        try:
            with ole.openstream(WORD_STREAM) as ws:
                fib = ws.read(12)
            if len(fib) == 12 and struct.unpack_from("<H", fib, 10)[0] & FIB_ENCRYPTED:
                encrypted = True
        except Exception as exc:
            ctx.warn(f"WordDocument stream unreadable: {type(exc).__name__}: {exc}", locator=WORD_STREAM)
    summary = _properties(ole, SUMMARY, ctx)
    doc_summary = _properties(ole, DOC_SUMMARY, ctx)
    if summary is None and doc_summary is None and not encrypted:
        return None
    s = summary or {}
    d = doc_summary or {}
    s_text = _decoder(s)
    d_text = _decoder(d)
    fields: dict[str, Any] = {
        "title": s_text(2),
        "subject": s_text(3),
        "creator": s_text(4),
        "keywords": s_text(5),
        "description": s_text(6),
        "template": s_text(7),
        "last_modified_by": s_text(8),
        "revision": s_text(9),
        "total_edit_time": None if _int(s, 10) is None else str(_int(s, 10)),
        "printed": from_filetime(_int(s, 11)),
        "created": from_filetime(_int(s, 12)),
        "modified": from_filetime(_int(s, 13)),
        "pages": _int(s, 14),
        "words": _int(s, 15),
        "characters": _int(s, 16),
        "application": s_text(18),
        "lines": _int(d, 5),
        "paragraphs": _int(d, 6),
        "company": d_text(15),
        "characters_with_spaces": _int(d, 17),
        "app_version": _app_version(_int(d, 23)),
    }
    locator = SUMMARY.lstrip("\x05") if summary is not None else ENCRYPTED_PACKAGE if encrypted else None
    return OleMetadata(source=item.source, locator=locator, format=fmt, encrypted=encrypted, **fields)


def _properties(ole: olefile.OleFileIO, stream: str, ctx: ParseContext) -> dict[int, Any] | None:
    if not ole.exists(stream):
        return None
    name = stream.lstrip("\x05")
    size = ole.get_size(stream)
    if size > MAX_PART_BYTES:
        ctx.warn(f"{name} stream of {size} bytes is too large for a property set: not read", locator=name)
        return None
    try:
        with ole.openstream(stream) as fh:
            data = fh.read(MAX_PART_BYTES)
        return read_property_set(data)
    except Exception as exc:  # olefile and struct report damage with assorted exceptions
        ctx.warn(f"{name} unreadable: {type(exc).__name__}: {exc}", locator=name)
        return None


VT_I2, VT_I4, VT_BOOL, VT_UI4, VT_LPSTR, VT_LPWSTR, VT_FILETIME = 0x02, 0x03, 0x0B, 0x13, 0x1E, 0x1F, 0x40
MAX_PROPERTIES = 4096


def read_property_set(data: bytes) -> dict[int, Any]:
    """The first section of an [MS-OLEPS] property set: property id -> stored value.

    Read here rather than with ``olefile.getproperties``, which without time conversion reduces a
    FILETIME to whole seconds: the exact 100 ns tick count is the raw value kept. Scalars are
    returned as ints (``VT_I2``/``VT_I4`` signed, ``VT_UI4``/``VT_FILETIME`` unsigned), 8-bit strings
    as bytes (decoded later with the code page), UTF-16 strings as str; other types are skipped.
    """
    if len(data) < 48 or data[:2] != b"\xfe\xff":
        raise ValueError("not a property set stream (no FE FF byte-order mark)")
    (sections,) = struct.unpack_from("<I", data, 24)
    if sections < 1:
        raise ValueError("property set has no section")
    (start,) = struct.unpack_from("<I", data, 44)
    size, count = struct.unpack_from("<II", data, start)
    if count > MAX_PROPERTIES or start + 8 + 8 * count > len(data):
        raise ValueError(f"property section claims {count} properties: truncated or damaged")
    out: dict[int, Any] = {}
    for i in range(count):
        pid, offset = struct.unpack_from("<II", data, start + 8 + 8 * i)
        pos = start + offset
        if offset >= size or pos + 4 > len(data):
            raise ValueError(f"property {pid} lies outside its section")
        (vtype,) = struct.unpack_from("<H", data, pos)
        pos += 4
        if vtype == VT_I2:
            out[pid] = struct.unpack_from("<h", data, pos)[0]
        elif vtype == VT_I4:
            out[pid] = struct.unpack_from("<i", data, pos)[0]
        elif vtype in (VT_UI4, VT_BOOL):
            out[pid] = struct.unpack_from("<I" if vtype == VT_UI4 else "<H", data, pos)[0]
        elif vtype == VT_FILETIME:
            out[pid] = struct.unpack_from("<Q", data, pos)[0]
        elif vtype in (VT_LPSTR, VT_LPWSTR):
            (n,) = struct.unpack_from("<I", data, pos)
            width = 2 if vtype == VT_LPWSTR else 1
            raw = data[pos + 4 : pos + 4 + n * width]
            if len(raw) < n * width:
                raise ValueError(f"property {pid}: string runs past the end of the stream")
            if vtype == VT_LPWSTR:
                out[pid] = raw.decode("utf-16-le", "replace").split("\x00", 1)[0]
            else:
                out[pid] = raw  # decoded with the code page, then cut at its NUL
    return out


def _codec(props: Mapping[int, Any]) -> str:
    page = props.get(1)
    if isinstance(page, int):
        page &= 0xFFFF  # VT_I2 is signed: 65001 (UTF-8) is stored as -535
        name = "utf-8" if page == 65001 else "utf-16-le" if page == 1200 else f"cp{page}"
        try:
            codecs.lookup(name)
            return name
        except LookupError:
            pass
    return "cp1252"


def _decoder(props: Mapping[int, Any]) -> Any:
    codec = _codec(props)

    def text(pid: int) -> str | None:
        value = props.get(pid)
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value.decode(codec, "replace")
        return str(value).split("\x00", 1)[0]

    return text


def _int(props: Mapping[int, Any], pid: int) -> int | None:
    value = props.get(pid)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _app_version(value: int | None) -> str | None:
    if value is None:
        return None
    value &= 0xFFFFFFFF
    return f"{value >> 16}.{value & 0xFFFF:04d}"
