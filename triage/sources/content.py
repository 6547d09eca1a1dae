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
    while pos < size:
        want = min(chunk_size, size - pos)
        try:
            data = read(pos, want, atype, aid)
        except (OSError, RuntimeError):
            data = _salvage(read, pos, want, atype, aid, fsys.block_size or 512, label, source, warnings)
        if not data:
            # TSK returned nothing (e.g. a deleted file whose runs are gone): stop like icat does,
            # but say so, because the size in the listing promised more.
            if warnings is not None:
                warnings.append(
                    WalkWarning(source, label, f"content ends at byte {pos} of {size}: no more data readable")
                )
            return
        pos += len(data)
        yield data


def _salvage(
    read: Any,
    pos: int,
    want: int,
    atype: Any,
    aid: int,
    block: int,
    label: str,
    source: str,
    warnings: list[WalkWarning] | None,
) -> bytes:
    """Re-read a failed chunk block by block; unreadable blocks become zeros (one warning)."""
    out = bytearray()
    bad_start: int | None = None
    bad_bytes = 0
    end = pos + want
    at = pos
    while at < end:
        n = min(block - (at % block), end - at)
        try:
            piece = read(at, n, atype, aid)
        except (OSError, RuntimeError):
            piece = b""
        if len(piece) != n:
            if bad_start is None:
                bad_start = at
            bad_bytes += n - len(piece)
            piece = piece + bytes(n - len(piece))
        out += piece
        at += n
    if bad_start is not None and warnings is not None:
        warnings.append(
            WalkWarning(
                source,
                label,
                f"{bad_bytes} unreadable bytes between offsets {bad_start} and {end} replaced by zeros",
            )
        )
    return bytes(out)
