"""The ``identifiers_text`` plugin: validated identifiers in document text and small text files.

The ``identifiers`` analyzer reads message bodies and web history; this file plugin reads what
they do not: the text of documents (OOXML, OpenDocument and PDF, through the bounded text layer
:mod:`triage.text`, as the plugin API re-exports it) and small text files (notes, CSV, HTML, JSON, XML, e-mails, vCards, logs up
to :data:`MAX_TEXT_FILE` bytes; a bigger text file is left to keyword search, which streams).
The XML parts of a document that the engine also walks as an archive (``x.docx!/word/...``) are
read once, with their document.
Candidates are found and validated exactly as the analyzer does it
(:func:`plugins.indicator.identifiers.find_identifiers`: phone numbers, e-mail addresses, URLs,
Bitcoin and Ethereum addresses, IBANs, payment cards), so one value is one identifier wherever
it was written, and the links view groups them across exhibits with the analyzer's.

Where each was found:

* a text file: ``offset`` is the **byte** offset of the identifier in the file (UTF-8, UTF-16
  with a byte-order mark or without one when the zeros say so, else Latin-1), ``part`` is empty,
  the locator is ``offset=N``;
* a document: ``part`` is the zip member (``word/document.xml``) or the PDF page (``page=3``),
  ``offset`` the **character** offset in that part's extracted text (the bytes are compressed),
  the locator ``PART@char=N``.

One identifier found twice in the same part is one record. A document the text layer cannot
read (damaged, encrypted, a zip bomb) is a warning naming the problem; a zip that is not a
document, a "text" file holding binary data, and a text or document without any identifier (and
without a problem to report) are not this plugin's format: the run records as derived items only
the text files that gave identifiers, not every text file it offered.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from plugins.indicator.identifiers import Found, IdentifierFields, find_identifiers, snippet
from triage.plugin import (
    ByteOffsets,
    FileItem,
    NotMyFormat,
    Option,
    ParseContext,
    Plugin,
    Record,
    Targets,
    TextView,
    clean,
    document_kind,
    extract_text,
)

__all__ = ["TextIdentifier", "TextIdentifiersPlugin"]

MAX_TEXT_FILE = 8 << 20  # bytes of a plain text file read whole
MAX_PART_CHARS = 8 << 20  # characters of one document part searched (the rest: a warning)
TEXT_GLOBS = (
    "**/*.txt",
    "**/*.text",
    "**/*.csv",
    "**/*.tsv",
    "**/*.htm",
    "**/*.html",
    "**/*.json",
    "**/*.xml",
    "**/*.eml",
    "**/*.vcf",
    "**/*.log",
    "**/*.md",
    "**/*.rtf",
)
DOCUMENT_GLOBS = ("**/*.docx", "**/*.xlsx", "**/*.pptx", "**/*.odt", "**/*.ods", "**/*.odp", "**/*.pdf")
TEXT_MIME = ("text/plain", "text/csv", "text/html", "text/xml", "application/json", "message/rfc822")
DOCUMENT_MIME = (  # libmagic's names, so a renamed document is still read
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
)


# A member of an OOXML or OpenDocument file that the engine opened as an archive (its parts,
# ``x.docx!/word/document.xml``, ``!/_rels/.rels``, ``!/META-INF/manifest.xml``): the document's
# text is read with the document; its package parts hold only schema URLs. Its pictures are
# still walked and read by the media plugins.
_DOCUMENT_SUFFIXES = (
    ".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".pptm", ".potx",
    ".odt", ".ods", ".odp", ".odg", ".ott", ".ots", ".otp",
)  # fmt: skip
_PACKAGE_PART = re.compile(r"!/(?:.*\.rels|\[Content_Types\]\.xml|manifest\.rdf|META-INF/.*)$", re.IGNORECASE)
# A URL that is an XML namespace (xmlns="http://www.w3.org/2000/svg") names a schema, not a place
_XMLNS = re.compile(r"""xmlns(?::[\w.-]+)?\s*=\s*["']$""")


def _in_document(item: FileItem) -> bool:
    parent = item.source.parent
    return bool(_PACKAGE_PART.search(item.path)) or (
        parent is not None and parent.path.lower().endswith(_DOCUMENT_SUFFIXES)
    )


@dataclass(frozen=True, kw_only=True)
class TextIdentifier(IdentifierFields, Record):
    """A validated identifier found in the text of a document or a text file (``offset``: the
    byte offset in a text file, the character offset in a document's part; ``source_type``:
    file/text, file/pdf, file/ooxml or file/odf)."""

    record_type: ClassVar[str] = "indicator/text"

    part: str = ""  # zip member or "page=N" of a document; "" for a text file
    encoding: str | None = None  # a text file's encoding as decoded


#: Bytes that text holds but not as a character of its own: the C0 control characters other than
#: tab, line feed, vertical tab, form feed, carriage return, backspace and escape (terminal colours
#: in logs), and DEL. Random data holds about one in ten; text, nearly none.
_CONTROLS = bytes([*range(0x01, 0x08), 0x0E, *range(0x0F, 0x1B), *range(0x1C, 0x20), 0x7F])
_NOT_CONTROLS = bytes(b for b in range(256) if b not in _CONTROLS)
#: Bytes that are not UTF-8 (so would be read as Latin-1) with more than one byte in this many a
#: control character: binary data, not text. Random bytes without a zero byte, named ``.log``,
#: were read as Latin-1 "text" and searched by every identifier pattern (~1 ms a file, and now
#: and then a false "e-mail address"). Text that is UTF-8 (ASCII included) is read whatever
#: control characters it holds: SOH-separated FIX logs, ^Z-padded DOS files, BEL-ended escapes.
CONTROL_SHARE = 50
_UTF8 = codecs.getincrementaldecoder("utf-8")


def _controls(sample: bytes) -> int:
    """How many control characters (:data:`_CONTROLS`) ``sample`` holds (counted in C)."""
    return len(sample.translate(None, _NOT_CONTROLS))


def _binary_file(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes that starts with ``head`` is binary, as :func:`_decode`
    would decide from its first 4 KiB (``False`` when the head holds fewer of them)."""
    sample = head[:4096]
    return (len(sample) == 4096 or len(sample) == size) and _binary_head(sample)


def _binary_head(sample: bytes) -> bool:
    """What :func:`_decode` decides for a file whose first bytes are ``sample`` (all of what it
    looks at), decided from them alone: zero bytes that are not UTF-16's, or control characters
    throughout bytes that cannot begin UTF-8 text."""
    if 0 in sample:
        return _decode(sample) is None
    if _controls(sample) * CONTROL_SHARE <= len(sample):
        return False
    try:
        _UTF8().decode(sample, False)  # a prefix of UTF-8 text (a character cut at the end is fine)
    except UnicodeDecodeError:
        return True
    return False


def _decode(data: bytes) -> TextView | None:
    """The text of a text file with its byte offsets, or None when the bytes are not text."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16le"),
        (codecs.BOM_UTF16_BE, "utf-16be"),
    ):
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding != "utf-8":
                body = body[: len(body) // 2 * 2]
            return TextView(encoding, body.decode(encoding, "replace"), len(bom), body, 0)
    sample = data[:4096]
    zeros = sample.count(0)
    if zeros > len(sample) // 4:  # UTF-16 without a mark: every other byte of ASCII text is zero
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        encoding = "utf-16le" if odd > even else "utf-16be"
        if max(even, odd) < zeros * 0.9:
            return None  # zeros on both sides: binary data
        body = data[: len(data) // 2 * 2]
        return TextView(encoding, body.decode(encoding, "replace"), 0, body, 0)
    if zeros:
        return None
    try:
        return TextView("utf-8", data.decode("utf-8"), 0, data, 0)
    except UnicodeDecodeError:
        if _controls(sample) * CONTROL_SHARE > len(sample):
            return None  # not UTF-8, and control characters throughout: binary data
        return TextView("latin-1", data.decode("latin-1"), 0, data, 0)


class TextIdentifiersPlugin(Plugin):
    """Reads documents (docx, xlsx, pptx, odt, ods, odp, pdf: their text) and text files of up
    to 8 MiB; emits one :class:`TextIdentifier` per validated phone number, e-mail address, URL,
    wallet, IBAN or payment card in each part, with its byte or character offset."""

    name = "identifiers_text"
    version = "1.1.0"  # 1.1: bytes that are not UTF-8 with control characters throughout are binary
    requires = ("phonenumbers",)  # imported where used: docs/plugins.md, "Heavy libraries"
    description = (
        "validated phone numbers, e-mails, URLs, wallets, IBANs and cards in documents and text files"
    )
    targets = Targets(
        globs=TEXT_GLOBS + DOCUMENT_GLOBS,
        mime_types=TEXT_MIME + DOCUMENT_MIME,
        magic=((0, b"%PDF-"),),
    )
    emits = (TextIdentifier,)
    options = (
        Option(
            "region",
            "region",
            "two-letter country of numbers written without +, e.g. US (default: only +numbers)",
        ),
    )

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        # parse's checks that need only the first bytes: no document, and too big or binary
        return document_kind(head) is not None or not (size > MAX_TEXT_FILE or _binary_file(head, size))

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        region = ctx.options.get("region") or None  # checked and upper-cased before the run (Option kind)
        kind = document_kind(item.head)
        if kind is not None:
            yield from self._document(item, ctx, kind, region)
            return
        if _in_document(item):
            raise NotMyFormat("a part of a document: read with the document")
        if item.size > MAX_TEXT_FILE:
            raise NotMyFormat(f"a text file of {item.size} bytes: left to keyword search, which streams")
        if _binary_file(item.head, item.size):
            # what _decode decides from the first 4 KiB, decided from the head: binary data named
            # like text costs no read of the file
            raise NotMyFormat("binary data, not text")
        with item.open() as fh:
            data = fh.read(MAX_TEXT_FILE + 1)
        view = _decode(data)
        if view is None:
            raise NotMyFormat("binary data, not text")
        found_any = False
        byte_offset = ByteOffsets(view)  # found in order of position: one pass over the text in all
        for found in _unique(find_identifiers(view.text, region)):
            if found.kind == "url" and _XMLNS.search(view.text[max(0, found.start - 40) : found.start]):
                continue
            offset = byte_offset(found.start)
            found_any = True
            yield self._record(
                item, found, view.text, f"offset={offset}", "", offset, view.encoding, "file/text"
            )
        if not found_any:
            # Every text file is offered; one without an identifier is not an artifact of this
            # plugin (and does not become a derived item of the run, as a file it read would).
            raise NotMyFormat("no identifier in the text")

    def _document(self, item: FileItem, ctx: ParseContext, kind: str, region: str | None) -> Iterator[Record]:
        source_type = "file/pdf" if kind == "pdf" else "file/odf" if kind == "odf" else "file/ooxml"
        parts = 0
        found_any = False
        problems: list[str] = []
        with item.open() as fh:
            prefix = f"{item.path}: "  # the warning names the file already

            def warn(message: str) -> None:
                problems.append(message)
                ctx.warn(message.removeprefix(prefix))

            for part in extract_text(fh, item.head, item.path, warn):
                parts += 1
                if part.part in ("docProps/core.xml", "meta.xml"):
                    source_type = "file/ooxml" if part.part.startswith("docProps") else "file/odf"
                text = part.text
                if len(text) > MAX_PART_CHARS:
                    warn(
                        f"{part.part}: {len(text)} characters of text, only the first {MAX_PART_CHARS} searched"
                    )
                    text = text[:MAX_PART_CHARS]
                for found in _unique(find_identifiers(text, region)):
                    found_any = True
                    locator = f"{part.part}@char={found.start}"
                    yield self._record(item, found, text, locator, part.part, found.start, None, source_type)
        if not parts and kind == "zip":
            raise NotMyFormat("a zip archive that is not an OOXML or OpenDocument document")
        if not found_any and not problems:
            raise NotMyFormat("no identifier in the document's text")  # as for a text file

    @staticmethod
    def _record(
        item: FileItem,
        found: Found,
        text: str,
        locator: str,
        part: str,
        offset: int,
        encoding: str | None,
        source_type: str,
    ) -> TextIdentifier:
        return TextIdentifier(
            source=item.source,
            locator=locator,
            kind=found.kind,
            value=clean(found.value),
            raw=clean(found.raw),
            detail=found.detail,
            context=clean(snippet(text, found.start, found.end)),
            part=part,
            offset=offset,
            encoding=encoding,
            source_type=source_type,
        )


def _unique(found: list[Found]) -> Iterator[Found]:
    seen: set[tuple[str, str]] = set()
    for f in found:
        if (f.kind, f.value) not in seen:
            seen.add((f.kind, f.value))
            yield f
