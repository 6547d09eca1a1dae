"""Open the file systems of a disk image: one :class:`FileSystem` per volume TSK can read.

:class:`ImageSource` ties the layers together: container (:mod:`custody.media`) → TSK image
(:mod:`triage.sources.image`) → volumes (:mod:`triage.sources.volumes`) → file systems (here) → entries
(:mod:`triage.sources.walk`) and content (:mod:`triage.sources.content`). It owns every handle and closes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytsk3

from triage.errors import NoFileSystem

#: TSK file-system type → the short name used in ``FileEntry.fs_type`` and JSON.
FS_TYPE_NAMES: dict[int, str] = {
    int(pytsk3.TSK_FS_TYPE_NTFS): "ntfs",
    int(pytsk3.TSK_FS_TYPE_FAT12): "fat12",
    int(pytsk3.TSK_FS_TYPE_FAT16): "fat16",
    int(pytsk3.TSK_FS_TYPE_FAT32): "fat32",
    int(pytsk3.TSK_FS_TYPE_EXFAT): "exfat",
    int(pytsk3.TSK_FS_TYPE_EXT2): "ext2",
    int(pytsk3.TSK_FS_TYPE_EXT3): "ext3",
    int(pytsk3.TSK_FS_TYPE_EXT4): "ext4",
    int(pytsk3.TSK_FS_TYPE_HFS): "hfs",
    int(pytsk3.TSK_FS_TYPE_ISO9660): "iso9660",
    int(pytsk3.TSK_FS_TYPE_APFS): "apfs",
    int(pytsk3.TSK_FS_TYPE_FFS1): "ufs1",
    int(pytsk3.TSK_FS_TYPE_FFS1B): "ufs1b",
    int(pytsk3.TSK_FS_TYPE_FFS2): "ufs2",
    int(pytsk3.TSK_FS_TYPE_YAFFS2): "yaffs2",
    int(pytsk3.TSK_FS_TYPE_SWAP): "swap",
    int(pytsk3.TSK_FS_TYPE_RAW): "raw",
}

#: File systems whose times TSK reads as wall-clock local time (it converts them with ``mktime``):
#: their times carry ``times_local`` and no zone. exFAT and ISO 9660 can record a UTC offset, but
#: TSK ignores it (checked: ``fls -m`` output moves with the TZ variable), so they count as local.
LOCAL_TIME_FS = frozenset({"fat12", "fat16", "fat32", "exfat", "iso9660"})


@dataclass(slots=True)
class FileSystem:
    """An opened file system inside an image."""

    fs: Any  # pytsk3.FS_Info
    offset: int  # bytes from the start of the media; FileEntry.partition
    fs_type: str  # "ntfs", "fat16", "ext4", ...
    root_inum: int
    block_size: int
    size: int = 0  # bytes the file system spans (its block count times its block size)

    @property
    def is_ntfs(self) -> bool:
        return self.fs_type == "ntfs"

    @property
    def times_local(self) -> bool:
        return self.fs_type in LOCAL_TIME_FS


def open_filesystem(img: pytsk3.Img_Info, offset: int, source: str) -> FileSystem:
    """Open the file system at byte ``offset`` of ``img``; :class:`NoFileSystem` if TSK cannot."""
    try:
        fs = pytsk3.FS_Info(img, offset=offset)
    except (OSError, RuntimeError) as exc:
        raise NoFileSystem(
            f"{source}: no file system The Sleuth Kit recognises at byte {offset}: {exc}",
            hint="list the partitions (mmls) and pick one that holds a file system",
        ) from exc
    ftype = int(fs.info.ftype)
    return FileSystem(
        fs=fs,
        offset=offset,
        fs_type=FS_TYPE_NAMES.get(ftype, f"tsk-0x{ftype:x}"),
        root_inum=int(fs.info.root_inum),
        block_size=int(fs.info.block_size),
        size=int(fs.info.block_count) * int(fs.info.block_size),
    )
