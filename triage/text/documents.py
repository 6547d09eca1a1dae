"""The text of documents: OOXML (docx, xlsx, pptx), OpenDocument (odt, ods, odp) and PDF.

:func:`document_kind` tells from a file's first bytes (and, for a zip, its member names) whether
it is one; :func:`extract_text` yields its text one part at a time (a docx's ``word/document.xml``,
its headers, footers, notes and comments; an xlsx's shared strings; each slide of a pptx; an ODF
``content.xml``; each page of a PDF), as :class:`TextPart` (part name, text).

Hostile input is bounded (:class:`TextLimits`): a zip member is read only when its declared size
and its compression ratio are within the caps, and never past the cap whatever it declares (a
zip bomb gives a warning naming the part, not a full disk or memory); the text kept for one
document is capped; a PDF is read for at most ``max_pages`` pages. XML is parsed with
``defusedxml`` (a DTD declaring entities, external references: refused, a warning). Nothing here
writes anywhere; ``warn`` receives each problem as a sentence.

Used by keyword search (triage/keywords) and meant for any reader of document text (identifiers).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["TextLimits", "TextPart", "document_kind", "extract_text"]

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TextLimits:
    """Caps on what one document may cost."""

    part_bytes: int = 32 << 20  # most bytes decompressed from one zip member
    ratio: int = 200  # most uncompressed/compressed ratio of a member bigger than ratio_floor
    ratio_floor: int = 1 << 20  # members smaller than this are read whatever their ratio
    text_chars: int = 64 << 20  # most characters of text kept for one document
    max_pages: int = 5000  # PDF pages read
    max_parts: int = 2000  # zip members read


@dataclass(frozen=True, slots=True)
class TextPart:
    """The text of one part of a document: ``part`` is the zip member or ``page=N`` (1-based)."""

    part: str
    text: str


_OOXML_PARTS = re.compile(
    r"^(?:word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
    r"|xl/sharedStrings\.xml|xl/comments\d*\.xml|xl/worksheets/sheet\d+\.xml"
    r"|ppt/slides/slide\d+\.xml|ppt/notesSlides/notesSlide\d+\.xml|ppt/comments/comment\d+\.xml"
    r"|docProps/core\.xml)$"
)
_ODF_PARTS = ("content.xml", "styles.xml", "meta.xml")
_METADATA_PARTS = frozenset({"docProps/core.xml", "meta.xml"})
# elements after which a line ends: paragraphs, headings, table rows/cells, line breaks
_BREAKS = frozenset({"p", "h", "br", "tab", "tr", "tc", "row", "c", "line-break", "table-cell", "si"})
# xlsx cells: <v> holds a number or an index into the shared strings, not text; <f> a formula
_SKIP = frozenset({"v", "f"})


def document_kind(head: bytes, names: list[str] | None = None) -> str | None:
    """``"pdf"``, ``"ooxml"``, ``"odf"``, ``"zip"`` (a zip whose members are not yet known:
    pass ``names``) or None, from the first bytes (and the zip's member names)."""
    if head.startswith(b"%PDF-") or (b"%PDF-" in head[:1024]):
        return "pdf"
    if not head.startswith(b"PK\x03\x04"):
        return None
    if head[30:38] == b"mimetype" and b"application/vnd.oasis.opendocument" in head[38:120]:
        return "odf"
    if names is None:
        return "zip"
    if "[Content_Types].xml" in names and any(n.startswith(("word/", "xl/", "ppt/")) for n in names):
        return "ooxml"
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return "odf"
    return None


def extract_text(
    stream: IO[bytes], head: bytes, name: str, warn: Warn, limits: TextLimits | None = None
) -> Iterator[TextPart]:
    """The text parts of the document in ``stream`` (seekable), or nothing when it is not one.

    ``name`` names the file in warnings. Problems (a damaged zip, a bomb, an encrypted PDF, XML
    with entities) are passed to ``warn`` and what could be read is still yielded.
    """
    limits = limits or TextLimits()
    kind = document_kind(head)
    if kind == "pdf":
        yield from _pdf(stream, name, warn, limits)
    elif kind in ("zip", "odf"):
        yield from _zipped(stream, name, warn, limits)


def _zipped(stream: IO[bytes], name: str, warn: Warn, limits: TextLimits) -> Iterator[TextPart]:
    try:
        zf = zipfile.ZipFile(stream)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        warn(f"{name}: document text not read: not a readable zip: {exc}")
        return
    with zf:
        names = [i.filename for i in infos]
        kind = document_kind(b"PK\x03\x04", names)
        if kind == "ooxml":
            wanted = [i for i in infos if _OOXML_PARTS.match(i.filename)]
        elif kind == "odf":
            wanted = [i for i in infos if i.filename in _ODF_PARTS]
        else:
            return  # a plain zip: its members are files of their own (the archive walk reads them)
        left = limits.text_chars
        for info in wanted[: limits.max_parts]:
            data = _member(zf, info, name, warn, limits)
            if data is None:
                continue
            # metadata parts hold one value an element: a line each (a document's runs of one word
            # are elements too, so its text is joined without breaks)
            leaf_lines = info.filename in _METADATA_PARTS
            text = _xml_text(data, f"{name}!{info.filename}", warn, leaf_lines)
            if text is None or not text.strip():
                continue
            if len(text) > left:
                warn(f"{name}: document text capped at {limits.text_chars} characters ({info.filename} cut)")
                text = text[:left]
            left -= len(text)
            yield TextPart(info.filename, text)
            if left <= 0:
                return


def _member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, warn: Warn, limits: TextLimits
) -> bytes | None:
    where = f"{name}!{info.filename}"
    if info.flag_bits & 0x1:
        warn(f"{where}: encrypted zip member: text not read")
        return None
    if info.file_size > limits.part_bytes:
        warn(
            f"{where}: text not read: declares {info.file_size} bytes uncompressed, over the "
            f"{limits.part_bytes}-byte cap for one document part (a zip bomb?)"
        )
        return None
    if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(1, info.compress_size):
        warn(
            f"{where}: text not read: compression ratio {info.file_size // max(1, info.compress_size)}:1 "
            f"is over {limits.ratio}:1 (a zip bomb?)"
        )
        return None
    try:
        with zf.open(info) as fh:
            data = fh.read(limits.part_bytes + 1)  # never past the cap, whatever the header says
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        warn(f"{where}: text not read: {type(exc).__name__}: {exc}")
        return None
    if len(data) > limits.part_bytes:
        warn(f"{where}: text not read: inflates past the {limits.part_bytes}-byte cap (a zip bomb?)")
        return None
    return data


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml_text(data: bytes, where: str, warn: Warn, leaf_lines: bool = False) -> str | None:
    """The character data of an XML part, a line break after each paragraph-like element."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        warn(f"{where}: text not read: XML refused ({type(exc).__name__}: entities or external references)")
        return None
    except Exception as exc:  # a malformed part: ParseError, or expat's own errors
        warn(f"{where}: text not read: malformed XML: {type(exc).__name__}: {exc}")
        return None
    out: list[str] = []
    # depth-first, with a stack of its own (a crafted part may nest deeper than Python recurses):
    # an element's text, its children (each followed by its tail), then its line or cell break
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        el, done = stack.pop()
        local = _local(el.tag)
        if done:
            if local in _BREAKS or (leaf_lines and len(el) == 0 and el.text):
                out.append("\t" if local in ("tab", "c", "tc", "table-cell") else "\n")
            if el.tail and el is not root:
                out.append(el.tail)
            continue
        if el.text and local not in _SKIP:
            out.append(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return "".join(out)


def _pdf(stream: IO[bytes], name: str, warn: Warn, limits: TextLimits) -> Iterator[TextPart]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its own complaints about damage: ours are warnings
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # unsupported algorithm (pypdf needs cryptography for AES)
                warn(f"{name}: PDF is encrypted ({type(exc).__name__}): text not read")
                return
            if not opened:
                warn(f"{name}: PDF is encrypted with a password: text not read")
                return
        pages = reader.pages
        count = len(pages)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        warn(f"{name}: PDF text not read: {type(exc).__name__}: {exc}")
        return
    if count > limits.max_pages:
        warn(f"{name}: PDF has {count} pages: text of the first {limits.max_pages} read")
    left = limits.text_chars
    for number in range(min(count, limits.max_pages)):
        try:
            text = pages[number].extract_text() or ""
        except Exception as exc:  # pypdf on a damaged page: any error; the next page is tried
            warn(f"{name}: PDF page {number + 1}: text not read: {type(exc).__name__}: {exc}")
            continue
        if not text.strip():
            continue
        if len(text) > left:
            warn(f"{name}: document text capped at {limits.text_chars} characters (page {number + 1} cut)")
            text = text[:left]
        left -= len(text)
        yield TextPart(f"page={number + 1}", text)
        if left <= 0:
            return
