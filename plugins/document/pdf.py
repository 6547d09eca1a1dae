"""PDF documents: the document information dictionary and the XMP metadata stream, with ``pypdf``.

The trailer's ``/Info`` dictionary (PDF 1.7, ISO 32000-1 section 14.3.3) gives ``/Title``,
``/Author``, ``/Subject``, ``/Keywords``, ``/Creator`` (the authoring application),
``/Producer`` (the converter), ``/CreationDate`` and ``/ModDate`` (``D:YYYYMMDDHHmmSSOHH'mm'``,
converted with their offset; without one the UTC instant is unknown). The catalogue's
``/Metadata`` stream holds XMP (ISO 16684-1): ``dc:title``, ``dc:creator``, ``dc:description``,
``pdf:Keywords``, ``pdf:Producer``, ``xmp:CreatorTool``, ``xmp:CreateDate``, ``xmp:ModifyDate``,
``xmpMM`` is ignored. The XMP packet is parsed here with defusedxml (pypdf's own XMP reader uses
the standard library parser), read through the same byte cap as every metadata part. Info values
win; an XMP value fills a field the Info dictionary leaves empty, and the page count is the
document's.

An encrypted PDF (an ``/Encrypt`` dictionary) gives a record with ``encrypted`` set. Most are
encrypted with an empty user password (restrictions only): those are opened with it and read; for
the others the Info strings are themselves encrypted and only the record saying so is given.

Damage (truncated files, broken cross-reference tables, reference loops) is reported as a
warning. pypdf rebuilds a broken cross-reference table by reading the whole file into memory; the
file is handed to it through :class:`_BoundedStream`, which refuses any single read larger than
:data:`MAX_WHOLE_READ` (a 2 GB file of zeros named ``.pdf`` is a warning in milliseconds, not
2 GB of memory). No public corpus PDF: the tests write PDFs with pypdf and by hand.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from plugins.document._common import (
    MAX_PART_BYTES,
    PdfMetadata,
    UnsafeXml,
    from_pdf_date,
    from_w3cdtf,
    parse_xml,
)
from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, Targets

if TYPE_CHECKING:  # pypdf is imported by the worker that reads a PDF (docs/plugins.md, "Heavy libraries")
    from pypdf import PdfReader

# pypdf logs the damage it works around ("incorrect startxref pointer") on its own logger; the
# examiner sees the plugin's warnings instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)

PDF_MAGIC = b"%PDF-"
INFO = "Info"
XMP = "Metadata"
XMP_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}


#: Largest single read handed to pypdf (its xref rebuild reads the rest of the file at once).
MAX_WHOLE_READ = 64 << 20
#: Bytes at the end of a large PDF that must hold its ``startxref`` and ``%%EOF`` (pypdf otherwise
#: searches the whole file backwards for them).
TAIL_BYTES = 64 << 10


class PdfTooLargeToScan(Exception):
    """pypdf asked to read more than :data:`MAX_WHOLE_READ` bytes at once (a damaged large file)."""


class _BoundedStream(io.RawIOBase):
    """A read-only, seekable view of ``fh`` that refuses reads larger than :data:`MAX_WHOLE_READ`."""

    def __init__(self, fh: Any) -> None:
        super().__init__()
        self._fh = fh

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._fh.seek(offset, whence))

    def tell(self) -> int:
        return int(self._fh.tell())

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_WHOLE_READ:
            here = self._fh.tell()
            end = self._fh.seek(0, io.SEEK_END)
            self._fh.seek(here)
            wanted = end - here if size is None or size < 0 else min(size, end - here)
            if wanted > MAX_WHOLE_READ:
                raise PdfTooLargeToScan(
                    f"damaged PDF: reading it needs {wanted} bytes at once (more than {MAX_WHOLE_READ}): not scanned"
                )
        return bytes(self._fh.read(size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class PdfPlugin(Plugin):
    """Reads the Info dictionary and XMP of PDF files into one ``document/pdf`` record."""

    name = "pdf_metadata"
    version = "1.0.0"
    requires = ("pypdf",)  # imported where used: docs/plugins.md, "Heavy libraries"
    description = "PDF Info dictionary and XMP: author, creator, producer, dates; encrypted PDFs"
    targets = Targets(globs=("**/*.pdf",), mime_types=("application/pdf",), magic=((0, PDF_MAGIC),))
    emits = (PdfMetadata,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return PDF_MAGIC in head[:1024]

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[PdfMetadata]:
        if not self.claims(item.head, item.size):  # the one check of the first bytes
            raise NotMyFormat(f"{item.path} has no %PDF- header")
        with item.open() as fh:
            if item.size > MAX_WHOLE_READ:
                fh.seek(max(0, item.size - TAIL_BYTES))
                tail = fh.read(TAIL_BYTES)
                if b"%%EOF" not in tail or b"startxref" not in tail:
                    ctx.warn(
                        f"damaged PDF: no %%EOF/startxref in the last {TAIL_BYTES} bytes of {item.size}: "
                        "too large to scan for objects"
                    )
                    return
                fh.seek(0)
            try:
                record = _read(item, _BoundedStream(fh), ctx)
            except PdfTooLargeToScan as exc:
                ctx.warn(str(exc))
                return
            except RecursionError:
                ctx.warn("PDF object references loop: metadata not read")
                return
            except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError ... on damage
                ctx.warn(f"damaged PDF: {type(exc).__name__}: {exc}")
                return
        if record is not None:
            yield record


def _read(item: FileItem, fh: Any, ctx: ParseContext) -> PdfMetadata | None:
    from pypdf import PdfReader

    reader = PdfReader(fh, strict=False)
    encrypted = reader.is_encrypted
    version = reader.pdf_header.removeprefix("%PDF-") or None
    if encrypted:
        try:
            opened = reader.decrypt("") != 0
        except Exception as exc:
            ctx.warn(f"encrypted PDF, not opened with the empty password: {type(exc).__name__}: {exc}")
            opened = False
        if not opened:
            ctx.warn("encrypted PDF: a password is needed to read its metadata")
            return PdfMetadata(
                source=item.source, locator="Encrypt", format="pdf", encrypted=True, pdf_version=version
            )
    info = _info(reader, ctx)
    xmp = _xmp(reader, ctx)
    pages: int | None = None
    try:
        pages = len(reader.pages)
    except RecursionError:
        ctx.warn("page tree references loop: page count not read", locator="Pages")
    except Exception as exc:
        ctx.warn(f"page tree unreadable: {type(exc).__name__}: {exc}", locator="Pages")

    def pick(key: str, xmp_key: str | None = None) -> str | None:
        value = info.get(key)
        if value is None and xmp_key is not None:
            value = xmp.get(xmp_key)
        return value

    created_raw = info.get("/CreationDate")
    modified_raw = info.get("/ModDate")
    return PdfMetadata(
        source=item.source,
        locator=INFO if info else XMP if xmp else None,
        format="pdf",
        encrypted=encrypted,
        pdf_version=version,
        title=pick("/Title", "title"),
        creator=pick("/Author", "creator"),
        subject=pick("/Subject", "description"),
        keywords=pick("/Keywords", "keywords"),
        application=pick("/Creator", "creator_tool"),
        producer=pick("/Producer", "producer"),
        created=from_pdf_date(created_raw) if created_raw is not None else from_w3cdtf(xmp.get("create")),
        modified=from_pdf_date(modified_raw) if modified_raw is not None else from_w3cdtf(xmp.get("modify")),
        pages=pages,
    )


def _info(reader: PdfReader, ctx: ParseContext) -> dict[str, str]:
    """The Info entries whose values are strings (dates included), as text."""
    from pypdf.generic import IndirectObject

    try:
        raw = reader.trailer.get("/Info")
        info: Any = raw.get_object() if isinstance(raw, IndirectObject) else raw
    except RecursionError:
        ctx.warn("Info dictionary references loop: not read", locator=INFO)
        return {}
    except Exception as exc:
        ctx.warn(f"Info dictionary unreadable: {type(exc).__name__}: {exc}", locator=INFO)
        return {}
    if info is None:
        return {}
    if not hasattr(info, "items"):
        ctx.warn(f"Info is a {type(info).__name__}, not a dictionary", locator=INFO)
        return {}
    out: dict[str, str] = {}
    for key, value in info.items():
        try:
            seen = 0
            while isinstance(value, IndirectObject):  # a chain of references, bounded
                value = value.get_object()
                seen += 1
                if seen > 32:
                    raise RecursionError
        except RecursionError:
            ctx.warn(f"Info {key} references loop: not read", locator=INFO)
            continue
        except Exception as exc:
            ctx.warn(f"Info {key} unreadable: {type(exc).__name__}: {exc}", locator=INFO)
            continue
        if isinstance(value, str):  # TextStringObject / ByteStringObject decoded by pypdf
            out[str(key)] = str(value)
        elif isinstance(value, bytes):
            out[str(key)] = value.decode("latin-1")
    return out


def _xmp(reader: PdfReader, ctx: ParseContext) -> dict[str, str]:
    try:
        root: Any = reader.trailer["/Root"].get_object()
        ref = root.get("/Metadata")
        if ref is None:
            return {}
        stream: Any = ref.get_object()
        length = stream.get("/Length")
        if isinstance(length, int) and length > MAX_PART_BYTES:
            ctx.warn(f"XMP stream of {length} bytes is too large: not read", locator=XMP)
            return {}
        data = stream.get_data()
    except RecursionError:
        ctx.warn("XMP stream references loop: not read", locator=XMP)
        return {}
    except Exception as exc:
        ctx.warn(f"XMP stream unreadable: {type(exc).__name__}: {exc}", locator=XMP)
        return {}
    if len(data) > MAX_PART_BYTES:
        ctx.warn(f"XMP stream decodes to {len(data)} bytes: too large, not read", locator=XMP)
        return {}
    try:
        packet = parse_xml(data.strip(b"\x00 \r\n\t"), "XMP")
    except UnsafeXml as exc:
        ctx.warn(str(exc), locator=XMP)
        return {}
    out: dict[str, str] = {}

    def first(path: str) -> str | None:
        for desc in packet.iter(f"{{{XMP_NS['rdf']}}}Description"):
            el = desc.find(path, XMP_NS)
            if el is not None:
                items = el.findall(".//rdf:li", XMP_NS)
                if items:
                    return "; ".join("".join(i.itertext()) for i in items)
                return "".join(el.itertext())
            prefix, local = path.split(":", 1)
            value = desc.get(f"{{{XMP_NS[prefix]}}}{local}")
            if value is not None:
                return str(value)
        return None

    for key, path in (
        ("title", "dc:title"),
        ("creator", "dc:creator"),
        ("description", "dc:description"),
        ("keywords", "pdf:Keywords"),
        ("producer", "pdf:Producer"),
        ("creator_tool", "xmp:CreatorTool"),
        ("create", "xmp:CreateDate"),
        ("modify", "xmp:ModifyDate"),
    ):
        value = first(path)
        if value is not None:
            out[key] = value
    return out
