"""The text layer: bytes and documents as searchable text, with the way back to the bytes.

* :mod:`~triage.text.fold`: case- and compatibility-folding (NFKC-equivalent + casefold) with a
  map from the folded text back to the original characters.
* :mod:`~triage.text.decode`: a window of bytes as UTF-8, Latin-1 and UTF-16 (both byte orders,
  both alignments), each character with its byte offset.
* :mod:`~triage.text.documents`: the text of OOXML, OpenDocument and PDF files, bounded.

It imports nothing else of Exhibit, so any layer may use it: the engine, keyword search
(triage/keywords), and plugins and analyzers that look for identifiers in document text.
"""

from __future__ import annotations

from triage.text.decode import ByteOffsets, TextView, clean, views
from triage.text.documents import TextLimits, TextPart, document_kind, extract_text
from triage.text.fold import Folded, fold, is_combining

__all__ = [
    "ByteOffsets",
    "Folded",
    "TextLimits",
    "TextPart",
    "TextView",
    "clean",
    "document_kind",
    "extract_text",
    "fold",
    "is_combining",
    "views",
]
