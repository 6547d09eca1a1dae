"""The file a plugin is handed: provenance, size, first bytes and content access.

Imports nothing else of :mod:`triage.plugin`, so the scratch copies and the contract can both use it.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from triage.plugin.records import SourceRef

#: How many leading bytes the engine reads for ``FileItem.head`` (MIME sniffing and magic checks).
HEAD_SIZE = 8192


Opener = Callable[[], BinaryIO]
SiblingLookup = Callable[[str], "FileItem | None"]
#: ``finder(pattern)``: the files of the same source whose path matches ``pattern`` (absolute).
Finder = Callable[[str], Iterator["RelatedFile"]]


class RelatedFile:
    """Another file of the same evidence source, found by :meth:`FileItem.find`.

    Cheap to list (path, size, deleted flag); :meth:`open` reads it and :meth:`item` makes a full
    :class:`FileItem` of it (hashing its content for provenance) when a plugin parses it too.
    """

    def __init__(self, path: str, size: int, deleted: bool, make_item: Callable[[], FileItem]) -> None:
        self.path = path
        self.size = size
        self.deleted = deleted
        self._make_item = make_item

    def __repr__(self) -> str:
        return f"RelatedFile({self.path}, {self.size} bytes{', deleted' if self.deleted else ''})"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def item(self) -> FileItem:
        """The file as a :class:`FileItem` (its SHA-256 computed now, for its provenance)."""
        return self._make_item()

    def open(self) -> BinaryIO:
        return self._make_item().open()


def path_pattern(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A regex for an absolute path pattern: ``*`` and ``?`` within one component, ``**`` any depth.

    ``/data/data/com.whatsapp/databases/wa.db``, ``/private/var/mobile/**/sms.db``,
    ``/sdcard/WhatsApp/Media/**/*.jpg``; no other character is special.
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # zero or more whole components
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def resolve_pattern(base: str, pattern: str) -> str:
    """``pattern`` made absolute: relative patterns start from ``base``'s folder; ``..`` is applied
    (never above the root)."""
    if not pattern.startswith("/"):
        pattern = posixpath.join(posixpath.dirname(base) or "/", pattern)
    parts: list[str] = []
    for part in pattern.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


class FileItem:
    """One file as the engine hands it to plugins: provenance, size, first bytes, content access.

    The engine builds it from a file inside a disk image (``opener`` returns a fresh readable,
    seekable stream positioned at 0 each call) and supplies ``siblings`` to find files next to it
    in the same directory of the same file system (a database's ``-wal``, ``-shm``, ``-journal``).
    ``head`` and ``mime`` are computed lazily when not given.
    """

    def __init__(
        self,
        *,
        source: SourceRef,
        size: int,
        opener: Opener,
        head: bytes | None = None,
        mime: str | None = None,
        siblings: SiblingLookup | None = None,
        finder: Finder | None = None,
    ) -> None:
        self.source = source
        self.size = size
        self._opener = opener
        self._head = head
        self._mime = mime
        self._siblings = siblings
        self._finder = finder

    def __repr__(self) -> str:
        return f"FileItem({self.source.item}:{self.source.path}, {self.size} bytes)"

    @property
    def path(self) -> str:
        """The file's path in its file system (``/`` separated, from the root)."""
        return self.source.path

    @property
    def name(self) -> str:
        return self.source.path.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def head(self) -> bytes:
        """The first :data:`HEAD_SIZE` bytes (fewer for a small file)."""
        if self._head is None:
            with self.open() as fh:
                self._head = fh.read(HEAD_SIZE)
        return self._head

    @property
    def mime(self) -> str | None:
        """MIME type sniffed from ``head`` with libmagic (``None`` when it cannot tell)."""
        if self._mime is None:
            self._mime = _sniff_mime(self.head)
        return self._mime or None

    def open(self) -> BinaryIO:
        """A new binary stream over the whole content; the caller closes it."""
        return self._opener()

    def read_all(self) -> bytes:
        """The whole content; prefer ``open()`` for large files."""
        with self.open() as fh:
            return fh.read()

    def sibling(self, suffix: str) -> FileItem | None:
        """The file named ``<this name><suffix>`` beside this one (``"-wal"``), if it exists."""
        return self._siblings(suffix) if self._siblings else None

    def find(self, pattern: str) -> Iterator[RelatedFile]:
        """Other files of the same source (same partition) whose path matches ``pattern``.

        ``pattern`` is absolute (``/data/data/com.whatsapp/databases/wa.db``) or relative to this
        file's folder (``../files/Media/**/*.jpg``, ``wa.db``); see :func:`path_pattern`. Files are
        found in the walk's index of the source, deleted ones included, in path order; nothing is
        read until a plugin opens one. A file found this way that the plugin parses must be
        reported through its own records' provenance (``RelatedFile.item().source``).
        """
        if self._finder is None:
            return iter(())
        return self._finder(resolve_pattern(self.path, pattern))

    # -- constructors for files outside images (tests, loose exported files) --

    @classmethod
    def from_path(
        cls,
        path: Path | str,
        *,
        item: str = "local",
        fs_path: str | None = None,
        sha256: str | None = None,
        root: Path | str | None = None,
    ) -> FileItem:
        """A file on the host (an exported artifact, a test fixture), read-only.

        ``fs_path`` is the path to record in provenance (defaults to the host path), so a test can
        present a corpus file under the path it would have on a phone. Siblings are looked up on
        the host next to ``path``. ``root`` is the host folder that stands for the source's ``/``
        for :meth:`find`; by default it is the folder ``fs_path`` places the file under (when the
        host path ends with ``fs_path``), else :meth:`find` finds nothing.
        """
        host = Path(path)
        if sha256 is None:
            digest = hashlib.sha256()
            with host.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            sha256 = digest.hexdigest()
        recorded = fs_path or host.as_posix()
        source = SourceRef(item=item, path=recorded, sha256=sha256)

        top = Path(root) if root is not None else (_host_root(host, recorded) if fs_path else None)

        def siblings(suffix: str) -> FileItem | None:
            other = host.with_name(host.name + suffix)
            if not other.is_file():
                return None
            return cls.from_path(other, item=item, fs_path=recorded + suffix, root=top)

        def finder(pattern: str) -> Iterator[RelatedFile]:
            if top is None:
                return
            rx = path_pattern(pattern)
            for found in sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink()):
                shown = "/" + found.relative_to(top).as_posix()
                if rx.fullmatch(shown) and found != host:
                    yield RelatedFile(
                        shown,
                        found.stat().st_size,
                        False,
                        lambda f=found, s=shown: cls.from_path(f, item=item, fs_path=s, root=top),  # type: ignore[misc]
                    )

        return cls(
            source=source,
            size=host.stat().st_size,
            opener=lambda: host.open("rb"),
            siblings=siblings,
            finder=finder,
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        path: str,
        item: str = "memory",
        siblings: Mapping[str, bytes] | None = None,
    ) -> FileItem:
        """Content held in memory (carved data, fixtures); ``siblings`` maps suffix -> bytes."""
        source = SourceRef(item=item, path=path, sha256=hashlib.sha256(data).hexdigest())
        extra = dict(siblings or {})

        def lookup(suffix: str) -> FileItem | None:
            if suffix not in extra:
                return None
            return cls.from_bytes(extra[suffix], path=path + suffix, item=item)

        return cls(source=source, size=len(data), opener=lambda: io.BytesIO(data), siblings=lookup)


def _host_root(host: Path, recorded: str) -> Path | None:
    """The host folder standing for ``/`` when ``host`` ends with the components of ``recorded``."""
    parts = [p for p in recorded.split("/") if p]
    if not parts or tuple(host.parts[-len(parts) :]) != tuple(parts):
        return None
    return Path(*host.parts[: -len(parts)]) if len(host.parts) > len(parts) else None


def _sniff_mime(head: bytes) -> str:
    """libmagic's MIME type of the first bytes, as the engine sniffs it (triage.sources.filetype)."""
    from triage.sources.filetype import sniff_mime

    return sniff_mime(head)
