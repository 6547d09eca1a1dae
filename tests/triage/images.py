"""The disk images of the corpus and forensics-samples, unpacked once per test session.

Shared by the oracle tests (our walk against real ``fls``/``icat``) and the listing tests (the C walk
against our walk); the ``workspace`` fixture lives in tests/triage/conftest.py.
"""

from __future__ import annotations

import lzma
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import CORPUS, FORENSICS_SAMPLES, need
from triage.sources.entry import FileEntry
from triage.sources.open import list_entries


@dataclass(frozen=True)
class Img:
    """An image of the corpus and how to hand it to TSK's tools."""

    id: str
    origin: tuple[str, ...]  # ("zip", zipname, member) | ("xz", path) | ("corpus", relpath)
    groundtruth: str | None  # stem of groundtruth/<dir>/<stem>.fls.txt etc.
    sector_offset: int = 0  # fls -o
    extra_segments: tuple[str, ...] = ()  # further files for fls (split raw)
    gt_dir: str = "dftt"


IMAGES = [
    Img("dftt6-fat", ("zip", "6-undel-fat.zip", "6-undel-fat/6-fat-undel.dd"), "6-fat-undel.dd"),
    Img("dftt7-ntfs", ("zip", "7-undel-ntfs.zip", "7-undel-ntfs/7-ntfs-undel.dd"), "7-ntfs-undel.dd"),
    Img("dftt8-ntfs", ("zip", "8-jpeg-search.zip", "8-jpeg-search/8-jpeg-search.dd"), "8-jpeg-search.dd"),
    Img("dftt4-ext3", ("zip", "4-kwsrch-ext3.zip", "4-kwsrch-ext3/ext3-img-kw-1.dd"), "ext3-img-kw-1.dd"),
    Img("dftt2-fat", ("zip", "2-kwsrch-fat.zip", "2-kwsrch-fat/fat-img-kw.dd"), None),
    Img("dftt5-fat12", ("zip", "5-fat-daylight.zip", "5-fat-daylight/daylight.dd"), None),
    Img("dftt9-fat", ("zip", "9-fat-label.zip", "9-fat-label/9-fat-label.dd"), None),
    Img("dftt14-iso1", ("zip", "14-iso9660-1.zip", "14-iso9660-1/iso-dirtree1.iso"), None),
    Img("dftt14-iso2", ("zip", "14-iso9660-1.zip", "14-iso9660-1/iso-dirtree2.iso"), None),
    Img("dftt14-endian", ("zip", "14-iso9660-1.zip", "14-iso9660-1/iso-endian.iso"), None),
    Img("dfvfs-ext2-e01", ("corpus", "disk/dfvfs/ext2.E01"), "ext2.E01", gt_dir="dfvfs"),
    Img("dfvfs-ext2-split-e01", ("corpus", "disk/dfvfs/ext2.split.E01"), "ext2.split.E01", gt_dir="dfvfs"),
    Img(
        "dfvfs-ext2-splitraw",
        ("corpus", "disk/dfvfs/ext2.splitraw.000"),
        "ext2.splitraw",
        extra_segments=("disk/dfvfs/ext2.splitraw.001",),
        gt_dir="dfvfs",
    ),
    Img("dfvfs-iso9660", ("corpus", "disk/dfvfs/iso9660.raw"), "iso9660.raw", gt_dir="dfvfs"),
    Img("dfvfs-imynd", ("corpus", "disk/dfvfs/ímynd.dd"), "imynd.dd", gt_dir="dfvfs"),
    Img("fs-ntfs", ("xz", "fs.ntfs.xz"), "fs.ntfs", 2048, gt_dir="forensics-samples"),
    Img("fs-vfat", ("xz", "fs.vfat.xz"), "fs.vfat", 2048, gt_dir="forensics-samples"),
    Img("fs-exfat", ("xz", "fs.exfat.xz"), "fs.exfat", 2048, gt_dir="forensics-samples"),
]
BY_ID = {img.id: img for img in IMAGES}


@dataclass
class Prepared:
    img: Img
    path: Path
    tool_args: list[str]  # image files for fls/icat
    offset: int  # partition byte offset for list_entries
    _entries: list[FileEntry] | None = field(default=None, repr=False)

    def fls_opts(self) -> list[str]:
        return ["-o", str(self.img.sector_offset)] if self.img.sector_offset else []

    def entries(self) -> list[FileEntry]:
        if self._entries is None:
            self._entries = list(list_entries(self.path, recursive=True, partition=self.offset))
        return self._entries


class Workspace:
    """Session-wide: unzip/unxz each image once into a temporary folder, on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, Prepared] = {}

    def get(self, image_id: str) -> Prepared:
        if image_id in self.cache:
            return self.cache[image_id]
        img = BY_ID[image_id]
        kind = img.origin[0]
        if kind == "zip":
            archive = need(CORPUS / "disk" / "dftt" / img.origin[1])
            target = self.root / img.origin[2]
            if not target.exists():
                with zipfile.ZipFile(archive) as zf:
                    zf.extract(img.origin[2], self.root)
            path = target
        elif kind == "xz":
            src = need(FORENSICS_SAMPLES / img.origin[1], "(apt-get install forensics-samples-*)")
            path = self.root / img.origin[1].removesuffix(".xz")
            if not path.exists():
                with lzma.open(src) as fin, open(path, "wb") as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
        else:
            path = need(CORPUS / img.origin[1])
        tool_args = [str(path), *(str(need(CORPUS / s)) for s in img.extra_segments)]
        prepared = Prepared(img, path, tool_args, img.sector_offset * 512)
        self.cache[image_id] = prepared
        return prepared
