"""Find the file systems of an image: partition table first, bare file system second.

Evidence comes as whole disks (MBR with extended partitions, GPT, ...) or as a single partition
(``dd`` of ``/dev/sda1``, DFTT images, floppies). TSK's ``Volume_Info`` reads the partition table;
when there is none, or it is damaged, we fall back to a file system at offset 0 and then at the two
usual partition starts (sector 63 and sector 2048), recording a warning whenever we had to guess, so
a report never silently hides that the table was unusable.

Results are byte offsets because that is what ``FS_Info(offset=...)`` and every other layer
(FileEntry.partition, ``fls -o`` times sector size) agree on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytsk3

from triage.errors import NoFileSystem, WalkWarning

#: Offsets tried when the partition table is missing or useless: bare file system, the DOS-era
#: first partition (sector 63) and the modern 1 MiB-aligned first partition (sector 2048).
FALLBACK_OFFSETS = (0, 63 * 512, 2048 * 512)


@dataclass(frozen=True, slots=True)
class Volume:
    """A region of the image holding a file system TSK can open."""

    offset: int  # bytes from the start of the media
    length: int | None  # bytes, when the partition table says
    description: str  # partition description ("NTFS / exFAT (0x07)") or how it was found
    slot: int | None = None  # partition address in the volume system (mmls first column)


@dataclass(slots=True)
class VolumeScan:
    """Outcome of :func:`find_volumes`: where file systems are, and what went wrong on the way."""

    volumes: list[Volume] = field(default_factory=list)
    warnings: list[WalkWarning] = field(default_factory=list)
    volume_system: str | None = None  # "dos", "gpt", ... or None for a bare file system


_VS_NAMES = {
    getattr(pytsk3, "TSK_VS_TYPE_DOS", None): "dos",
    getattr(pytsk3, "TSK_VS_TYPE_BSD", None): "bsd",
    getattr(pytsk3, "TSK_VS_TYPE_SUN", None): "sun",
    getattr(pytsk3, "TSK_VS_TYPE_MAC", None): "mac",
    getattr(pytsk3, "TSK_VS_TYPE_GPT", None): "gpt",
}


def _can_open_fs(img: pytsk3.Img_Info, offset: int) -> bool:
    try:
        pytsk3.FS_Info(img, offset=offset)
    except (OSError, RuntimeError):
        return False
    return True


def find_volumes(img: pytsk3.Img_Info, source: str) -> VolumeScan:
    """Return every byte offset in ``img`` at which TSK can open a file system.

    Raises :class:`NoFileSystem` when there is none at all (random bytes, an encrypted volume, a
    file system TSK does not support), naming ``source`` and what was tried.
    """
    scan = VolumeScan()
    size = img.get_size()
    table_problem: str | None = None
    try:
        vs = pytsk3.Volume_Info(img)
    except (OSError, RuntimeError) as exc:
        vs = None
        table_problem = str(exc).strip().splitlines()[0] if str(exc).strip() else "no partition table"
    if vs is not None:
        scan.volume_system = _VS_NAMES.get(vs.info.vstype, str(vs.info.vstype))
        block = vs.info.block_size
        for part in vs:
            if not part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC:
                continue  # unallocated gaps and the table's own sectors (META) hold no file system
            desc = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
            offset = part.start * block
            length = part.len * block
            if offset >= size:
                scan.warnings.append(
                    WalkWarning(
                        source,
                        f"partition {part.addr}",
                        f"starts at byte {offset}, beyond the end of the image ({size} bytes): "
                        "partition table damaged or image truncated",
                    )
                )
                continue
            if _can_open_fs(img, offset):
                scan.volumes.append(Volume(offset, length, desc, part.addr))
            else:
                scan.warnings.append(
                    WalkWarning(
                        source,
                        f"partition {part.addr} at byte {offset}",
                        f"no file system recognised ({desc})",
                    )
                )
        if scan.volumes:
            return scan
        table_problem = "partition table lists no partition with a readable file system"
    for offset in FALLBACK_OFFSETS:
        if offset < size and _can_open_fs(img, offset):
            how = "bare file system" if offset == 0 else f"file system found by probing byte {offset}"
            scan.volumes.append(Volume(offset, None, how))
            if offset or vs is not None:
                scan.warnings.append(
                    WalkWarning(source, f"offset {offset}", f"{table_problem}; {how} used instead")
                )
            return scan
    raise NoFileSystem(
        f"{source}: no partition table and no file system The Sleuth Kit recognises "
        f"(tried the partition table and offsets {', '.join(map(str, FALLBACK_OFFSETS))})",
        hint="check that this is a disk or partition image (not encrypted, not truncated); "
        "for logical copies use a folder, zip or tar source",
    )
