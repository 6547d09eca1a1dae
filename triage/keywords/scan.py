"""Keyword search of one file while the engine reads it, and of stored records and whole images.

:class:`FileSearch` is what a worker runs beside the hashes (triage/engine/per_file.py): fed every
chunk the engine reads, it searches the bytes (all text views: triage/text/decode.py); when the
file is a document (OOXML, OpenDocument, PDF: triage/text/documents.py), the engine keeps its
content for it as it does for a plugin (the same spool, no second read), and the document's text
is searched too. It gives back the hits as records (``keyword/hit``: triage/keywords/records.py)
and its problems as sentences, which the engine stores as findings and warnings of the run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from triage.keywords.match import MAX_HITS, ContentScanner, Hit, KeywordSet
from triage.keywords.records import KeywordHit, hit_record
from triage.plugin.records import SourceRef, record_json
from triage.text.documents import TextLimits, document_kind, extract_text

__all__ = ["DOCUMENT_MAX_BYTES", "FileSearch", "hit_rows", "problems"]

DOCUMENT_MAX_BYTES = 256 << 20  # documents bigger than this have only their bytes searched (a warning)

#: A record ready for the engine: (record_type, locator, data as canonical JSON text)
Row = tuple[str, str | None, str]


def hit_rows(records: list[KeywordHit]) -> list[Row]:
    """The records as the engine stores findings: type, locator, sorted-key JSON of the fields."""
    return [
        (
            KeywordHit.record_type,
            r.locator,
            record_json(r),
        )
        for r in records
    ]


def problems(keywords: KeywordSet, dropped: dict[int, int], where: str | None = None) -> list[str]:
    """Sentences for hits not kept (over the cap) and regular expressions that ran out of time
    (``where``: what they are about, when the warning does not name it already)."""
    at = f"{where}: " if where else ""
    out = [
        f"{at}about {n} more hits of {keywords.terms[t].text!r} not stored "
        f"(at most {MAX_HITS} hits are kept per file)"
        for t, n in sorted(dropped.items())
    ]
    out += [
        f"{at}regular expression {keywords.terms[t].text!r} stopped after its time limit "
        f"in {n} window(s): hits there may be missing"
        for t, n in sorted(keywords.regex_timeouts.items())
    ]
    keywords.regex_timeouts.clear()
    return out


@dataclass
class FileSearch:
    """The keyword search of one file as it is read (see the module docstring)."""

    keywords: KeywordSet
    scanner: ContentScanner = field(init=False)
    document: str | None = None  # the document kind the head showed, or None

    def __post_init__(self) -> None:
        self.scanner = ContentScanner(self.keywords)

    def wants_content(self, head: bytes, size: int) -> bool:
        """Is the file a document whose text must be extracted (so its content must be kept)?"""
        self.document = document_kind(head)
        return self.document is not None and size <= DOCUMENT_MAX_BYTES

    def feed(self, chunk: bytes) -> None:
        self.scanner.feed(chunk)

    def finish(
        self, source: SourceRef, content: bytes | Path | None, head: bytes, size: int
    ) -> tuple[list[Row], list[str]]:
        """The hits' rows and the problems, once the whole file was fed."""
        path = source.path
        warnings: list[str] = []
        records = [hit_record(self.keywords, h, source, "content") for h in self.scanner.finish()]
        dropped = dict(self.scanner.dropped)
        if self.document is not None:
            if content is None and size > DOCUMENT_MAX_BYTES:
                warnings.append(
                    f"{path}: document text not searched: {size} bytes is over the "
                    f"{DOCUMENT_MAX_BYTES}-byte cap (its bytes were searched)"
                )
            elif content is not None:
                for part, hit in self._document_hits(content, head, path, warnings):
                    if len(records) < 2 * MAX_HITS:
                        records.append(hit_record(self.keywords, hit, source, "document", part=part))
                    else:
                        dropped[hit.term] = dropped.get(hit.term, 0) + 1
        warnings += problems(self.keywords, dropped)
        # the caller's warning names the file: say it once (found in review: "/a.txt: /a.txt: ...")
        return hit_rows(records), [w.removeprefix(f"{path}: ") for w in warnings]

    def _document_hits(
        self, content: bytes | Path, head: bytes, path: str, warnings: list[str]
    ) -> Iterator[tuple[str, Hit]]:
        stream: IO[bytes] = io.BytesIO(content) if isinstance(content, bytes) else open(content, "rb")  # noqa: SIM115
        with stream:
            for part in extract_text(stream, head, path, warnings.append, TextLimits()):
                for hit in self.keywords.text_hits(part.text):
                    yield part.part, hit
