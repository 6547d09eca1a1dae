"""The record of a keyword hit (``keyword/hit``), stored as a finding of the run that searched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from triage.keywords.match import Hit, KeywordSet
from triage.plugin.records import Record, SourceRef

__all__ = ["ENGINE_NAME", "VERSION", "KeywordHit", "hit_record"]

ENGINE_NAME = "keywords"  # the findings' ``plugin`` column
VERSION = "1.0.0"  # bump when the hits found for the same input change


@dataclass(frozen=True, kw_only=True)
class KeywordHit(Record):
    """A term of the keyword file found in a file's bytes, a document's text, a stored record or
    the whole image.

    ``area``: ``content`` (the file's bytes: ``offset``/``length`` in bytes, ``encoding`` the text
    view: utf-8, latin-1, utf-16le, utf-16be), ``document`` (text extracted from a document:
    ``part`` and ``char_offset``), ``record`` (a field of a stored record: ``field``,
    ``char_offset`` and the record's ``source_type``/``source_locator``/``source_plugin``) or
    ``image`` (the exhibit's raw image, every byte: allocated, slack, unallocated, metadata:
    ``offset`` from the start of the image).
    """

    record_type: ClassVar[str] = "keyword/hit"

    term: str  # as written in the keyword file ("re:..." for a regular expression)
    line: int  # its line in the keyword file
    area: str
    matched: str  # the text the term matched, as it reads there
    context: str
    offset: int | None = None
    length: int | None = None
    encoding: str | None = None
    part: str | None = None
    char_offset: int | None = None
    field: str | None = None
    source_type: str | None = None
    source_locator: str | None = None
    source_plugin: str | None = None


def hit_record(
    keywords: KeywordSet,
    hit: Hit,
    source: SourceRef,
    area: str,
    *,
    part: str | None = None,
    field: str | None = None,
    record: tuple[str, str | None, str] | None = None,  # source type, locator, plugin
) -> KeywordHit:
    """The record of ``hit`` (found in ``area`` of ``source``)."""
    term = keywords.terms[hit.term]
    if area in ("content", "image"):
        locator = f"offset={hit.start}"
        offsets = {"offset": hit.start, "length": hit.length, "encoding": hit.encoding}
    else:
        where = part if area == "document" else f"{record[1] if record else ''}#{field}"
        locator = f"{where}@char={hit.start}"
        offsets = {"char_offset": hit.start, "length": hit.length}
    return KeywordHit(
        source=source,
        locator=locator,
        term=term.text,
        line=term.line,
        area=area,
        matched=hit.matched,
        context=hit.context,
        part=part,
        field=field,
        source_type=record[0] if record else None,
        source_locator=record[1] if record else None,
        source_plugin=record[2] if record else None,
        **offsets,  # type: ignore[arg-type]
    )
