"""Read a file's content out of a file system, in chunks, byte-for-byte what ``icat`` prints.

Content is streamed (never a whole 40 GB video in memory) through pytsk3's ``read_random`` on the
same attribute TSK would pick: the default data stream, or the NTFS ``type``/``id`` of an alternate
data stream or index. Deleted files get TSK's usual recovery (the runs recorded in their metadata,
or FAT's contiguous-cluster guess), which is what ``icat`` returns.

A run that cannot be read (bad sector, missing E01 chunk, metadata pointing past the image) does not
abort the file: it is re-read block by block, unreadable blocks become zeros, and one
:class:`~triage.errors.WalkWarning` records which byte range was filled, so the hash of the
result is still meaningful and the report says why it may differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triage.errors import EntryNotFound, SourceUnreadable, WalkWarning
from triage.sources.filesystems import FileSystem

DEFAULT_CHUNK = 1 << 20


def _open_attr(fsys: FileSystem, inode: int, attr_type: int | None, attr_id: int | None) -> tuple[Any, int]:
    """Open ``inode`` and return ``(pytsk3 File, size of the attribute to read)``."""
    f = fsys.fs.open_meta(inode=inode)
    meta = f.info.meta
    if meta is None:
        raise OSError(f"meta data address {inode} has no metadata")
    if attr_type is None:
        return f, int(meta.size)
    for attr in f:
        ainfo = attr.info
        if int(ainfo.type) == attr_type and (attr_id is None or int(ainfo.id) == attr_id):
            return f, int(ainfo.size)
    raise OSError(f"meta data address {inode} has no attribute {attr_type}-{attr_id}")


def read_stream(
    fsys: FileSystem,
    inode: int,
    attr_type: int | None = None,
    attr_id: int | None = None,
    *,
    source: str = "<image>",
    path: str | None = None,
    warnings: list[WalkWarning] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[bytes]:
    """Yield the content of ``inode`` (attribute ``attr_type``/``attr_id`` on NTFS) in chunks.

    Raises :class:`EntryNotFound` when the metadata or attribute does not exist; read failures in
    the middle become zero-filled chunks plus a warning (see the module docstring).
    """
    import pytsk3

    label = path or str(inode)
    try:
        f, size = _open_attr(fsys, inode, attr_type, attr_id)
    except RuntimeError as exc:  # pytsk3's wrapping of a failed read of the media itself
        raise SourceUnreadable(
            f"{source}: metadata of {label} (meta address {inode}) is unreadable: {exc}",
            hint="the image has unreadable regions; check the acquisition log / E01 integrity",
        ) from exc
    except OSError as exc:
        raise EntryNotFound(
            f"{source}: cannot open {label} (meta address {inode}) at partition offset {fsys.offset}: {exc}"
        ) from exc
    if attr_type is None:
        atype, aid = pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, -1
    else:
        atype, aid = attr_type, (-1 if attr_id is None else attr_id)
    read = f.read_random
    pos = 0
    bad = _Unreadable()
    try:
        while pos < size:
            want = min(chunk_size, size - pos)
            try:
                data = read(pos, want, atype, aid)
            except (OSError, RuntimeError):
                data = _salvage(read, pos, want, atype, aid, fsys.block_size or 512, bad)
                if fsys.size and bad.bytes > fsys.size:
                    # more unreadable than the whole file system holds: the metadata is damaged
                    # (an absurd size), not the media; zeros for the rest would be no content at all
                    bad.note = f"; reading stopped at byte {pos + len(data)} of {size}: more unreadable "
                    bad.note += f"than its file system's {fsys.size} bytes (damaged metadata)"
                    yield data
                    return
            if not data:
                # TSK returned nothing (e.g. a deleted file whose runs are gone): stop like icat
                # does, but say so, because the size in the listing promised more.
                if warnings is not None:
                    warnings.append(
                        WalkWarning(
                            source, label, f"content ends at byte {pos} of {size}: no more data readable"
                        )
                    )
                return
            pos += len(data)
            yield data
    finally:
        if bad.bytes and warnings is not None:  # one warning per file, however many ranges
            warnings.append(WalkWarning(source, label, bad.describe()))


class _Unreadable:
    """The unreadable parts of one file, summed for a single warning."""

    def __init__(self) -> None:
        self.bytes = 0
        self.ranges = 0
        self.first: int | None = None
        self.end = 0
        self.note = ""

    def add(self, start: int, length: int) -> None:
        if self.first is None:
            self.first = start
        if start != self.end or not self.ranges:
            self.ranges += 1
        self.bytes += length
        self.end = start + length

    def describe(self) -> str:
        where = f"between offsets {self.first} and {self.end}"
        ranges = "" if self.ranges == 1 else f" in {self.ranges} ranges"
        return f"{self.bytes} unreadable bytes{ranges} {where} replaced by zeros{self.note}"


def _salvage(read: Any, pos: int, want: int, atype: Any, aid: int, block: int, bad: _Unreadable) -> bytes:
    """Re-read a failed chunk block by block; unreadable blocks become zeros, noted in ``bad``."""
    out = bytearray()
    end = pos + want
    at = pos
    while at < end:
        n = min(block - (at % block), end - at)
        try:
            piece = read(at, n, atype, aid)
        except (OSError, RuntimeError):
            piece = b""
        if len(piece) != n:
            bad.add(at + len(piece), n - len(piece))
            piece = piece + bytes(n - len(piece))
        out += piece
        at += n
    return bytes(out)
