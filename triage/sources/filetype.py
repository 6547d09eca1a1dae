"""What a file really is (libmagic on its first bytes) and whether its name pretends otherwise.

A JPEG renamed to ``.dll`` is a classic way to hide pictures from a quick look; the mismatch flag
lets an examiner list such files. The flag is raised only when the content type is specific and
the extension is known to belong to *other* types, so plain text or unknown data never trips it.
"""

from __future__ import annotations

import mimetypes
from functools import lru_cache

from triage.sources import magicdb

HEAD_SIZE = 8192

# Types libmagic reports for content too generic to contradict any name.
GENERIC = frozenset(
    {
        "application/octet-stream",
        "text/plain",
        "inode/x-empty",
        "application/x-empty",
        "text/x-c",
        "text/x-c++",
        "application/x-dosdriver",
        "data",
    }
)

# Extensions libmagic and the mimetypes table disagree on, or that have several honest types.
EXTRA = {
    "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif", ".thm"},
    "image/png": {".png"},
    "image/gif": {".gif"},
    "image/heic": {".heic", ".heif"},
    "application/x-dosexec": {".exe", ".dll", ".sys", ".ocx", ".cpl", ".scr", ".drv", ".efi", ".mui", ".com"},
    "application/vnd.microsoft.portable-executable": {".exe", ".dll", ".sys", ".ocx", ".cpl", ".scr", ".efi"},
    "application/zip": {
        ".zip",
        ".jar",
        ".apk",
        ".docx",
        ".xlsx",
        ".pptx",
        ".odt",
        ".ods",
        ".epub",
        ".ipa",
        ".kmz",
    },
    "application/vnd.sqlite3": {".db", ".sqlite", ".sqlite3", ".sqlitedb", ".storedata"},
    "application/x-sqlite3": {".db", ".sqlite", ".sqlite3", ".sqlitedb", ".storedata"},
    "application/pdf": {".pdf"},
    "video/mp4": {".mp4", ".m4v", ".mov", ".3gp"},
    "video/quicktime": {".mov", ".qt", ".mp4"},
    "audio/mpeg": {".mp3", ".mpga"},
    "text/html": {".html", ".htm", ".xhtml"},
    "application/gzip": {".gz", ".tgz"},
    "application/x-gzip": {".gz", ".tgz"},
}


def sniff_mime(head: bytes) -> str:
    """MIME type of content that starts with ``head`` (libmagic); ``application/octet-stream`` if unsure.

    libmagic's own answer, obtained through :mod:`triage.sources.magicdb`, which spares libmagic the
    rules that cannot match (the answer is the same; set ``$EXHIBIT_PLAIN_LIBMAGIC`` to use the
    plain library).
    """
    if not head:
        return "inode/x-empty"
    try:
        return magicdb.sniff(head)
    except Exception:  # libmagic can fail on odd input; that is "unknown", not an error
        return "application/octet-stream"


@lru_cache(maxsize=512)
def _known_extensions(mime: str) -> frozenset[str]:
    found = set(mimetypes.guess_all_extensions(mime, strict=False)) | EXTRA.get(mime, set())
    return frozenset(found)


@lru_cache(maxsize=4096)
def _all_claimed_extensions() -> frozenset[str]:
    claimed = set(mimetypes.types_map) | set(mimetypes.common_types)
    for extensions in EXTRA.values():
        claimed |= extensions
    return frozenset(claimed)


def extension_mismatch(name: str, mime: str | None) -> bool:
    """True when ``name``'s extension belongs to other types than the content's ``mime``."""
    if not mime or mime in GENERIC or mime.startswith("text/"):
        return False
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return False
    ext = name[dot:].lower()
    if ext not in _all_claimed_extensions():
        return False  # an extension nobody claims cannot lie
    return ext not in _known_extensions(mime)
