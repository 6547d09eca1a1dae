"""The record every document plugin emits, the time conversions they share and the bounded XML reader.

One :class:`DocumentMetadata` per document, whatever the format: the names of the fields follow
the OOXML core/app properties (``creator``, ``last_modified_by``, ``revision`` ...), and each
plugin's docstring says which property of its format fills which field. Values are kept as the
document stores them (text stays text, a revision is ``"4"`` when stored as text); times keep the
stored value next to the UTC instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, ClassVar

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from triage.plugin import Record, TimeValue, iso_utc, wall_time

#: Most bytes read from any one metadata part (a zip member, an OLE stream, a PDF XMP stream).
#: Real ``docProps/core.xml`` / ``meta.xml`` are a few KiB; a zip bomb stops here.
MAX_PART_BYTES = 4 << 20

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


# Encoding names stored in TimeValue.encoding (part of the record format: do not rename).
W3CDTF = "w3cdtf"  # ISO 8601 / W3C date-time text of OOXML, ODF and XMP
PDF_DATE = "pdf_date"  # PDF 1.7 section 7.9.4 "D:YYYYMMDDHHmmSSOHH'mm'"
FILETIME = "filetime"  # Windows FILETIME: 100-nanosecond intervals since 1601-01-01 UTC


@dataclass(frozen=True, kw_only=True)
class DocumentMetadata(Record):
    """Metadata of one document; ``locator`` names the part read (``docProps/core.xml``, ...).

    Each plugin emits its own subclass (one record type per plugin); the fields are shared.
    """

    record_type: ClassVar[str] = "document/metadata"

    format: str  # "ooxml", "odf", "pdf", "ole2" (an encrypted OOXML file in its OLE2 wrapper: "ooxml")
    encrypted: bool = False
    title: str | None = None
    subject: str | None = None
    creator: str | None = None  # author
    keywords: str | None = None
    description: str | None = None
    last_modified_by: str | None = None
    created: TimeValue | None = None
    modified: TimeValue | None = None
    printed: TimeValue | None = None
    application: str | None = None  # OOXML/OLE application name, ODF generator, PDF Creator
    app_version: str | None = None
    producer: str | None = None  # PDF Producer
    company: str | None = None
    template: str | None = None
    revision: str | None = None
    total_edit_time: str | None = None  # as stored: minutes (OOXML), ISO duration (ODF), FILETIME ticks (OLE)
    pages: int | None = None
    words: int | None = None
    characters: int | None = None
    characters_with_spaces: int | None = None
    lines: int | None = None
    paragraphs: int | None = None
    pdf_version: str | None = None


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def _timevalue(
    raw: str, encoding: str, parts: tuple[int, int, int, int, int, int], micro: int, zone: str | None
) -> TimeValue:
    try:
        year, month, day, hour, minute, second = parts
        wall = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return TimeValue(utc=None, raw=raw, encoding=encoding, note="invalid calendar date")
    return wall_time(raw, encoding, wall, zone, local_when_utc=False)


def from_w3cdtf(raw: str | None) -> TimeValue | None:
    """ISO 8601 text (``2012-11-07T23:29:00Z``); without a zone the UTC instant is unknown, never guessed."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return TimeValue(utc=None, raw=raw, encoding=W3CDTF, note="no time stored")
    m = _ISO.match(text)
    if not m:
        return TimeValue(utc=None, raw=raw, encoding=W3CDTF, note="not an ISO 8601 date-time")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    parts = (int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    return _timevalue(raw, W3CDTF, parts, micro, zone)


_PDF_DATE = re.compile(  # "Z00'00'" is UTC written with its (zero) offset, as many producers do
    r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z)(?:00'?(?:00'?)?)?|([+-])(\d{2})'?(?:(\d{2})'?)?)?$"
)


def from_pdf_date(raw: str | None) -> TimeValue | None:
    """PDF date text ``D:YYYYMMDDHHmmSSOHH'mm'``; missing parts default as the PDF standard says."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return TimeValue(utc=None, raw=raw, encoding=PDF_DATE, note="no time stored")
    m = _PDF_DATE.match(text)
    if not m:
        return TimeValue(utc=None, raw=raw, encoding=PDF_DATE, note="not a PDF date")
    y, mo, d, h, mi, s, z, sign, oh, om = m.groups()
    zone = "Z" if z else (f"{sign}{oh}:{om or '00'}" if sign else None)
    parts = (int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0))
    return _timevalue(raw, PDF_DATE, parts, 0, zone)


def from_filetime(raw: int | None) -> TimeValue | None:
    """Windows FILETIME (100 ns ticks since 1601-01-01 UTC), kept to the microsecond (rounded down)."""
    if raw is None:
        return None
    if raw == 0:
        return TimeValue(utc=None, raw=raw, encoding=FILETIME, note="no time stored (null or zero)")
    try:
        instant = FILETIME_EPOCH + timedelta(microseconds=raw // 10)
        return TimeValue(utc=iso_utc(instant), raw=raw, encoding=FILETIME, offset="+00:00")
    except (OverflowError, ValueError):
        return TimeValue(utc=None, raw=raw, encoding=FILETIME, note="out of range for its encoding")


class PartTooLarge(Exception):
    """A metadata part is larger than :data:`MAX_PART_BYTES` (a zip bomb, or not metadata)."""


def read_capped(fh: IO[bytes], name: str) -> bytes:
    """At most :data:`MAX_PART_BYTES` of ``fh``; raises :class:`PartTooLarge` past that."""
    data = fh.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise PartTooLarge(f"{name} is larger than {MAX_PART_BYTES} bytes once decompressed: not read")
    return data


class UnsafeXml(Exception):
    """XML refused: a DTD with entities, an external reference, or not well-formed."""


def parse_xml(data: bytes, name: str) -> Any:
    """The root element of ``data``, parsed by defusedxml: entity declarations and external references refused."""
    try:
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"{name}: XML refused ({type(exc).__name__}: {exc})") from exc
    except SafeET.ParseError as exc:
        raise UnsafeXml(f"{name}: XML not well-formed ({exc})") from exc


def text_of(root: Any, path: str, ns: dict[str, str]) -> str | None:
    """Text of the first element at ``path``, or None when absent (an empty element gives ``""``)."""
    el = root.find(path, ns)
    if el is None:
        return None
    return "".join(el.itertext())


def int_of(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class OoxmlMetadata(DocumentMetadata):
    """Core and app properties of an OOXML (docx/xlsx/pptx) document."""

    record_type: ClassVar[str] = "document/ooxml"


@dataclass(frozen=True, kw_only=True)
class OdfMetadata(DocumentMetadata):
    """``meta.xml`` of an OpenDocument file."""

    record_type: ClassVar[str] = "document/odf"


@dataclass(frozen=True, kw_only=True)
class PdfMetadata(DocumentMetadata):
    """Info dictionary and XMP of a PDF."""

    record_type: ClassVar[str] = "document/pdf"


@dataclass(frozen=True, kw_only=True)
class OleMetadata(DocumentMetadata):
    """Summary property sets of a legacy (OLE2) Office file, or an encrypted OOXML file's wrapper."""

    record_type: ClassVar[str] = "document/ole2"
