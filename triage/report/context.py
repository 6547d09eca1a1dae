"""What every part of a report is built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from custody.case import Case
from triage.report.redact import Redactor


class MediaSink(Protocol):
    """Where a report's pictures go (thumbnails, the offline map).

    ``add`` stores the bytes once (by their SHA-256) and returns the URL a page refers to them by:
    a path relative to the HTML report's folder, or a file the PDF renderer reads. Nothing a report
    shows is ever fetched from elsewhere.
    """

    def add(self, data: bytes, suffix: str) -> str: ...


@dataclass(frozen=True)
class ReportContext:
    """The case, the exhibits and record kinds asked for (``kinds`` None: every kind), where
    pictures go and the redaction that applies to every printed value and picture."""

    case: Case
    exhibits: tuple[str, ...]
    kinds: tuple[str, ...] | None
    media: MediaSink
    redactor: Redactor

    def wants(self, record_type: str) -> bool:
        """Whether findings of ``record_type`` belong in the report (``--kind`` prefixes)."""
        if self.kinds is None:
            return True
        return any(record_type == k or record_type.startswith(k.rstrip("/") + "/") for k in self.kinds)
