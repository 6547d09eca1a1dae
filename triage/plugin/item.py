"""The file a plugin is handed: provenance, size, first bytes and content access.

Imports nothing else of :mod:`triage.plugin`, so the scratch copies and the contract can both use it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from triage.plugin.records import SourceRef

#: How many leading bytes the engine reads for ``FileItem.head`` (MIME sniffing and magic checks).
HEAD_SIZE = 8192


Opener = Callable[[], BinaryIO]
SiblingLookup = Callable[[str], "FileItem | None"]


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
    ) -> None:
        self.source = source
        self.size = size
        self._opener = opener
        self._head = head
        self._mime = mime
        self._siblings = siblings

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

    # -- constructors for files outside images (tests, loose exported files) --

    @classmethod
    def from_path(
        cls,
        path: Path | str,
        *,
        item: str = "local",
        fs_path: str | None = None,
        sha256: str | None = None,
    ) -> FileItem:
        """A file on the host (an exported artifact, a test fixture), read-only.

        ``fs_path`` is the path to record in provenance (defaults to the host path), so a test can
        present a corpus file under the path it would have on a phone. Siblings are looked up on
        the host next to ``path``.
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

        def siblings(suffix: str) -> FileItem | None:
            other = host.with_name(host.name + suffix)
            if not other.is_file():
                return None
            return cls.from_path(other, item=item, fs_path=recorded + suffix)

        return cls(
            source=source,
            size=host.stat().st_size,
            opener=lambda: host.open("rb"),
            siblings=siblings,
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


def _sniff_mime(head: bytes) -> str:
    """libmagic's MIME type of the first bytes, as the engine sniffs it (triage.sources.filetype)."""
    from triage.sources.filetype import sniff_mime

    return sniff_mime(head)
