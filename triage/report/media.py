"""Where a report's pictures go (:class:`triage.report.context.MediaSink`), one sink per output.

Both store each picture once, named by the SHA-256 of its bytes, in a ``media/`` folder, and
return the relative URL ``media/<sha256>.<suffix>`` that pages refer to it by: for the HTML
report that folder is part of the report; for the PDF it is a private temporary folder that
:class:`LocalOnly` serves to WeasyPrint, which fetches nothing else (no network, no other file).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

_SUFFIX = re.compile(r"\.?([a-z0-9]{1,8})")
MEDIA = "media"


class FolderMedia:
    """A :class:`MediaSink` writing into ``root/media`` (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / MEDIA
        self.count = 0
        self.bytes = 0

    def add(self, data: bytes, suffix: str) -> str:
        m = _SUFFIX.fullmatch(suffix.lower())
        if m is None:
            raise ValueError(f"media suffix {suffix!r} is not a short file extension")
        name = f"{hashlib.sha256(data).hexdigest()}.{m.group(1)}"
        target = self.folder / name
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            self.count += 1
            self.bytes += len(data)
        return f"{MEDIA}/{name}"


#: The base URL a PDF report's pages are laid out at: the same wherever the report is written,
#: because WeasyPrint writes every link it resolves against it into the PDF (a temporary folder's
#: name would make each PDF different and show a path of the lab's computer).
BASE = "file:///exhibit-report/"


class LocalOnly(URLFetcher):
    """WeasyPrint's fetcher for a PDF report: files of ``root`` (at :data:`BASE`) only, nothing
    else at all."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file",))
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        prefix = urlsplit(BASE).path
        if (
            parts.scheme != "file"
            or parts.netloc not in ("", "localhost")
            or not parts.path.startswith(prefix)
        ):
            raise ValueError(f"a report fetches nothing from elsewhere: {url[:80]}")
        path = (self.root / unquote(parts.path.removeprefix(prefix))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"a report reads only its own media: {url[:80]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
