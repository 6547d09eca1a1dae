"""A disk image as a source: container -> TSK image -> volumes -> file systems -> entries.

:class:`ImageSource` ties the layers together: container (:mod:`custody.media`) -> TSK image
(:mod:`triage.sources.image`) -> volumes (:mod:`triage.sources.volumes`) -> file systems
(:mod:`triage.sources.filesystems`) -> entries (:mod:`triage.sources.walk`, or the C walk) and content
(:mod:`triage.sources.content`). It owns every handle and closes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.errors import EntryNotFound, NoFileSystem, SourceUnreadable, WalkAbandoned, WalkWarning
from triage.sanitize import display_name
from triage.sources.content import read_stream
from triage.sources.entry import FileEntry, new_entry
from triage.sources.filesystems import FileSystem, open_filesystem
from triage.sources.image import ReaderImg
from triage.sources.volumes import find_volumes
from triage.sources.walk import OWNER_FS, start_directory, walk_filesystem
from triage.sources.walkguard import guard_enabled, run_guarded

if TYPE_CHECKING:
    from custody.media import ImageReader


def entries_of(rows: list[tuple[object, ...]]) -> list[FileEntry]:
    """The entries of :meth:`ImageSource.walk_rows`' rows."""
    return [new_entry(*row) for row in rows]


class ImageSource:
    """A disk image (raw, split raw, E01) opened read-only, with every file system found in it.

    ``warnings`` collects what could not be read (damaged partition table, unreadable directory,
    unreadable content run); it grows while entries are walked and content is read.
    """

    kind = "image"

    def __init__(
        self,
        image: Path | str | ImageReader,
        *,
        name: str | None = None,
        fast_walk: bool = True,
        kind: str | None = None,
    ) -> None:
        """``kind``: the container recorded at acquisition ("raw", "split-raw", "e01"), else detected."""
        from custody.errors import EvidenceError

        self.warnings: list[WalkWarning] = []
        self.fast_walk = fast_walk  # walk with triage.sources._fastwalk when it is built (tests compare both)
        if isinstance(image, (str, Path)):
            from custody.media import open_image

            self.path: Path | None = Path(image)
            self.name = name or str(image)
            reader = open_image(Path(image), kind)
        else:
            reader = image
            self.path = Path(reader.segments[0]) if reader.segments else None
            self.name = name or (str(self.path) if self.path else "<image>")
        self.reader = reader
        self.img: ReaderImg | None = None
        try:
            if reader.size <= 0:
                raise SourceUnreadable(f"{self.name}: the image is empty (0 bytes)")
            self.img = ReaderImg(reader, name=self.name)
            scan = find_volumes(self.img, self.name)
            self.warnings.extend(scan.warnings)
            self.volume_system = scan.volume_system
            self.filesystems: list[FileSystem] = []
            for vol in scan.volumes:
                try:
                    fs = open_filesystem(self.img, vol.offset, self.name)
                except NoFileSystem as exc:  # opened in the probe, fails now: report, go on
                    self.warnings.append(WalkWarning(self.name, f"offset {vol.offset}", str(exc)))
                    continue
                self.filesystems.append(fs)
                # one warning a volume: its file system cut short, else its partition (the slack after it)
                cut = self._check_length(
                    fs.offset, fs.offset + fs.size, f"partition@{fs.offset}", "its file system"
                )
                if not cut and vol.length is not None:
                    self._check_length(
                        vol.offset, vol.offset + vol.length, f"partition@{fs.offset}", "the partition"
                    )
            if not self.filesystems:
                raise NoFileSystem(f"{self.name}: no file system could be opened")
        except (EvidenceError, NoFileSystem, SourceUnreadable):
            self.close()
            raise
        except (OSError, RuntimeError) as exc:
            self.close()
            raise SourceUnreadable(f"{self.name}: cannot read the image: {exc}") from exc

    def _check_length(self, start: int, end: int, where: str, what: str) -> bool:
        """A warning when the image ends before ``end``: a truncated image, or an incomplete
        acquisition, whose missing part holds files and free space that cannot be read (every
        file read there fails on its own, but only this says why)."""
        size = self.reader.size
        if end > size:
            self.warnings.append(
                WalkWarning(
                    self.name,
                    where,
                    f"the image ends at byte {size}, {end - size} bytes before the end of {what} "
                    f"(bytes {start} to {end}): the image is truncated or the acquisition incomplete; "
                    "files and free space in the missing part cannot be read",
                )
            )
            return True
        return False

    # -- file systems ---------------------------------------------------------------------------

    def filesystem(self, partition: int | None) -> FileSystem:
        """The file system at byte offset ``partition`` (``None``: the only/first one)."""
        if partition is None:
            return self.filesystems[0]
        for fs in self.filesystems:
            if fs.offset == partition:
                return fs
        offsets = ", ".join(str(f.offset) for f in self.filesystems)
        raise EntryNotFound(
            f"{self.name}: no file system at byte offset {partition}",
            hint=f"file systems of this image start at byte offsets: {offsets}",
        )

    # -- listing and content --------------------------------------------------------------------

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        """Entries of every file system (or of ``partition``), under ``path`` when given."""

        targets = self.filesystems if partition is None else [self.filesystem(partition)]
        for fs in targets:
            fast = self._fast_entries(fs, path, recursive, deleted_only) if self.fast_walk else None
            if fast is not None:
                yield from fast
                continue
            yield from walk_filesystem(
                fs,
                self.name,
                self.warnings,
                path=path,
                recursive=recursive,
                deleted_only=deleted_only,
            )

    def _fast_entries(
        self, fs: FileSystem, path: str | None, recursive: bool, deleted_only: bool
    ) -> list[FileEntry] | None:
        """The entries :func:`triage.sources.walk.walk_filesystem` yields, walked in C (about ten times
        faster); ``None`` when the C walk is not built or libtsk cannot open this file system.

        A walk that hangs or exhausts its memory (:mod:`triage.sources.walkguard`) gives the entries found
        until then plus a warning naming the file system; it is not retried with pytsk3, which
        would hang the same way, in this process.
        """

        rows = self._fast_rows(fs, path, recursive, deleted_only)
        return None if rows is None else entries_of(rows)

    def _fast_rows(
        self, fs: FileSystem, path: str | None, recursive: bool, deleted_only: bool
    ) -> list[tuple[object, ...]] | None:
        """The C walk's rows of :meth:`_fast_entries` (each one entry's fields: :func:`new_entry`)."""
        rows: list[tuple[object, ...]] = []
        try:
            self.c_walk(fs, path, recursive=recursive, deleted_only=deleted_only, collect=rows)
        except (ImportError, OSError):  # not built, or libtsk refuses what pytsk3 opened
            return None
        except WalkAbandoned as exc:
            self.warnings.append(WalkWarning(self.name, f"partition@{fs.offset}", str(exc)))
        return rows

    def walk_rows(self) -> tuple[list[tuple[object, ...]], list[WalkWarning]] | None:
        """The rows of ``entries(None, recursive=True)`` walked in C, every file system's, and the
        warnings the walk added; ``None`` when one file system cannot be walked in C (the
        ``entries`` walk then uses pytsk3 for it). For a walk made in another process
        (triage/engine/walk_ahead.py): plain data, made into entries by :func:`entries_of`."""
        if not self.fast_walk:
            return None
        before = len(self.warnings)
        rows: list[tuple[object, ...]] = []
        for fs in self.filesystems:
            found = self._fast_rows(fs, None, True, False)
            if found is None:
                return None
            rows += found
        return rows, self.warnings[before:]

    def c_walk(self, fs: FileSystem, path: str | None, **how: Any) -> int:
        """Walk ``fs`` from ``path`` with :mod:`triage.sources._fastwalk` (``how``: its keyword options,
        and ``out_fd``: a descriptor the guarded walk may write ``how["write"]``'s blocks to).

        Raises ImportError when the C walk is not built and OSError when libtsk cannot open the
        file system (another TSK version than pytsk3's); nothing is walked then. The walk runs in
        a watched child process (:mod:`triage.sources.walkguard`) and raises :class:`WalkAbandoned` when
        it hangs or exceeds its memory; what it found until then has been delivered.
        """
        from functools import partial

        from triage.sources import _fastwalk

        start, prefix = start_directory(fs, path, self.name)
        walk = partial(
            _fastwalk.walk,
            self.reader.read_at,
            self.reader.size,
            fs.offset,
            fs.fs_type,
            start,
            prefix,
            len(prefix),
        )
        how.update(
            is_ntfs=fs.is_ntfs,
            times_local=fs.times_local,
            owners=fs.fs_type in OWNER_FS,
            display_name=display_name,
            warn=lambda where, problem: self.warnings.append(WalkWarning(self.name, where, problem)),
        )
        out_fd = how.pop("out_fd", None)
        if not guard_enabled():
            return walk(**how)
        return run_guarded(walk, how, offset=fs.offset, fs_type=fs.fs_type, out_fd=out_fd)

    def read(self, entry: FileEntry, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Content of ``entry`` (its data stream) in chunks, as ``icat`` would print it."""

        if entry.inode is None:
            raise EntryNotFound(f"{self.name}: {entry.path} has no meta data address to read")
        fsys = self.filesystem(entry.partition)
        if entry.deleted and fsys.size and entry.size > fsys.size:
            # A deleted file cannot hold more than its file system: its metadata is damaged, and
            # The Sleuth Kit's recovery of it can spend minutes walking block pointers up to that
            # size (found by bench/fuzz_triage.py: icat took 27 s on one inode of a 5 MB ext3).
            raise SourceUnreadable(
                f"{self.name}: {entry.path} (deleted, inode {entry.address}) records {entry.size} bytes, "
                f"more than its file system's {fsys.size}: its metadata is damaged; content not read",
                hint=f"'icat' on inode {entry.address} would try; its result cannot be the file's content",
            )
        return read_stream(
            fsys,
            entry.inode,
            entry.attr_type,
            entry.attr_id,
            source=self.name,
            path=entry.path,
            warnings=self.warnings,
            chunk_size=chunk_size,
        )

    def close(self) -> None:
        """Release TSK's handles and the image files (idempotent)."""
        self.filesystems = []
        if self.img is not None:
            self.img.close()
        else:
            self.reader.close()

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
