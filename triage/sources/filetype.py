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

#: Python's own extension table only. The module-level functions of :mod:`mimetypes` also read the
#: machine's ``/etc/mime.types`` (Debian's ``media-types``, which Chromium pulls in), and only once
#: something calls ``mimetypes.init()``: the flag of one file then depended on the machine and on
#: what the process had done before (``.ogg`` is audio there, while libmagic says ``video/ogg``).
_TABLE = mimetypes.MimeTypes()

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
    # types libmagic names that Python's own table lacks (the machine's /etc/mime.types is not read)
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx", ".docm"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx", ".xlsm"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx", ".pptm"},
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
    "application/vnd.oasis.opendocument.presentation": {".odp"},
    "application/vnd.oasis.opendocument.graphics": {".odg"},
    "application/epub+zip": {".epub"},
    "application/vnd.android.package-archive": {".apk"},
    "application/java-archive": {".jar"},
    "audio/ogg": {".ogg", ".oga", ".opus", ".spx"},
    "video/ogg": {".ogg", ".ogv"},
    "application/ogg": {".ogg", ".ogx", ".ogv", ".oga"},
    "audio/x-wav": {".wav"},
    "audio/flac": {".flac"},
    "audio/x-m4a": {".m4a"},
    "video/x-matroska": {".mkv", ".mka"},
    "video/webm": {".webm"},
    "image/webp": {".webp"},
    "application/x-7z-compressed": {".7z"},
    "application/x-rar": {".rar"},
    "application/x-bzip2": {".bz2", ".tbz2"},
    "application/x-xz": {".xz", ".txz"},
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
    found = set(_TABLE.guess_all_extensions(mime, strict=False)) | EXTRA.get(mime, set())
    return frozenset(found)


@lru_cache(maxsize=4096)
def _all_claimed_extensions() -> frozenset[str]:
    claimed = set(_TABLE.types_map[True]) | set(_TABLE.types_map[False])
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
