"""Fuzz the real triage with mutated forensic files: report crashes, hangs and memory blow-ups.

What it does
------------
It takes real evidence (disk images from ``../shared/corpus`` and ``/usr/share/forensics-samples``,
the chat and browser SQLite databases, a SQLite database with a WAL, EXIF photos), mutates one file
at a time where forensic parsers look (boot sectors and superblocks, MFT records and their
attribute headers, inodes, ISO 9660 descriptors, the EWF section chain, the SQLite header and page
headers, WAL frame headers, JPEG segment lengths and EXIF IFD counts and offsets, zip headers),
and runs exactly what a user would: ``exhibit acquire`` (raw image, E01, folder or zip holding the
mutated file), ``exhibit triage``, ``exhibit findings``, ``exhibit ls -r`` and ``exhibit runs --json``.

A *finding* is anything a user must never see:

* ``internal-error``: an exception escaping the command (``internal error ... this is a bug``,
  exit status 70), a traceback in the output, or an exit status other than the documented
  0 (done) and 2 (a clear error about the input);
* ``crash``: the process killed by a signal (a segfault in libtsk, libewf, libmagic, SQLite);
* ``hang``: one execution taking longer than ``--timeout`` seconds (the Python stack at that
  moment is saved);
* ``memory``: ``MemoryError`` / "out of memory" under the address-space limit (``--mem-limit-mb``,
  RLIMIT_AS of the process running the command) or a peak RSS above ``--rss-report-mb``.

A plugin exception that the dispatcher records as a warning (with a traceback) is what the plugin
contract allows, so it is listed separately as ``plugin-failure`` and does not fail the run unless
``--plugin-failures-are-findings`` is given. Findings are deduplicated by kind, exception type and
the innermost frame in Exhibit's own code; the first input of each is saved in ``--out`` with its
output (``case.json`` + ``evidence/`` + ``output.txt``) and ``--replay OUT/<finding>/case.json``
runs it again.

How it runs
-----------
``--mode inproc`` (default): one child process runs cases one after the other, calling the real
entry point (``triage.launch.main``) in-process for each command, with stdout/stderr captured; a
child serves ``--batch`` cases and is then replaced, and is replaced at once when it crashes, hangs
or grows too big, so one bad input never hides the next. ``--mode cli`` starts the installed
``exhibit`` script for every command (slower: interpreter and imports every time; use it to
confirm a finding exactly as a user would meet it). Both use one triage worker (``--workers 1``)
and set ``EXHIBIT_DEBUG=1`` so an internal error comes with its traceback (without it the user
sees the same failure as exit status 70). The child dies with the fuzzer (parent-death signal).

    .venv/bin/python bench/fuzz_triage.py --minutes 10 --seed 1 --out bench/work/fuzz-out
    .venv/bin/python bench/fuzz_triage.py --replay bench/work/fuzz-out/<finding>/case.json
    .venv/bin/python bench/fuzz_triage.py --self-test raise --max-execs 1   # a planted crash

Exit status: 0 when nothing was found, 1 when anything was, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import faulthandler
import hashlib
import io
import json
import lzma
import os
import random
import re
import resource
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
FORENSICS_SAMPLES = Path("/usr/share/forensics-samples")
DEFAULT_WORK = REPO / "bench" / "work" / "fuzz"
EXHIBIT = "EX-1"
ACTOR = "fuzzer"
#: Exit statuses the CLI documents: 0 done, 2 a clear error about the input (UserError / usage).
ALLOWED_EXIT = {"acquire": {0, 2}, "triage": {0, 2}, "findings": {0}, "ls": {0, 2}, "runs": {0}}
STEPS = ("acquire", "triage", "findings", "ls", "runs")
OUTPUT_KEEP = 6000  # characters of each step's stdout/stderr kept in a result
SELF_TEST_FAULTS = ("raise", "segv", "hang", "memory")

# ==================================================================================================
# Seeds: real files, each with the path it gets inside a logical source
# ==================================================================================================


@dataclass(frozen=True)
class Seed:
    """One real input. ``kind``: image (raw), e01, sqlite, wal, photo. ``place``: its path in a
    folder/zip source (logical kinds), chosen so the plugins' globs match as on a real phone."""

    name: str
    kind: str
    load: Callable[[], dict[str, bytes]]  # file name -> bytes (a WAL seed is a database + its -wal)
    weight: float = 1.0
    place: str = ""


def _from_zip(archive: Path, member: str) -> Callable[[], dict[str, bytes]]:
    def load() -> dict[str, bytes]:
        with zipfile.ZipFile(archive) as z:
            return {Path(member).name: z.read(member)}

    return load


def _file(path: Path, name: str | None = None) -> Callable[[], dict[str, bytes]]:
    return lambda: {name or path.name: path.read_bytes()}


def _xz(path: Path, cache: Path) -> Callable[[], dict[str, bytes]]:
    """A forensics-samples image, decompressed once to the work folder (50 MB, not the corpus)."""

    def load() -> dict[str, bytes]:
        out = cache / path.name.removesuffix(".xz")
        if not out.exists():
            cache.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            with lzma.open(path) as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            tmp.replace(out)
        return {out.name + ".raw": out.read_bytes()}

    return load


def _wal_seed(db: Path) -> Callable[[], dict[str, bytes]]:
    """``db`` in WAL mode with committed frames not yet checkpointed: the database plus its -wal,
    as a phone leaves them (rows that exist only in the WAL)."""

    def load() -> dict[str, bytes]:
        with tempfile.TemporaryDirectory(prefix="fuzz-wal-") as tmp:
            copy = Path(tmp) / db.name
            copy.write_bytes(db.read_bytes())
            con = sqlite3.connect(copy, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA wal_autocheckpoint=0")
            con.execute("BEGIN")
            con.execute("UPDATE sms SET body = body || ' (edited in the WAL)' WHERE _id % 2 = 0")
            con.execute(
                "INSERT INTO sms (address, date, type, body) SELECT address, date + 1000, type, "
                "'WAL-only ' || body FROM sms LIMIT 5"
            )
            con.execute("COMMIT")
            data = {db.name: copy.read_bytes(), db.name + "-wal": Path(str(copy) + "-wal").read_bytes()}
            con.close()  # after reading: closing the last connection checkpoints and removes the WAL
            return data

    return load


def seeds(work: Path) -> list[Seed]:
    c = CORPUS
    dftt = c / "disk" / "dftt"
    out: list[Seed] = []

    def add(seed: Seed, needed: Path) -> None:
        if needed.exists():
            out.append(seed)

    images = [
        ("5-fat-daylight.zip", "5-fat-daylight/daylight.dd", 1.0),
        ("6-undel-fat.zip", "6-undel-fat/6-fat-undel.dd", 1.0),
        ("7-undel-ntfs.zip", "7-undel-ntfs/7-ntfs-undel.dd", 1.5),
        ("4-kwsrch-ext3.zip", "4-kwsrch-ext3/ext3-img-kw-1.dd", 1.5),
        ("14-iso9660-1.zip", "14-iso9660-1/iso-dirtree1.iso", 1.0),
        ("8-jpeg-search.zip", "8-jpeg-search/8-jpeg-search.dd", 0.7),
        ("9-fat-label.zip", "9-fat-label/9-fat-label.dd", 0.5),
    ]
    for archive, member, weight in images:
        add(
            Seed(f"dftt/{Path(member).name}", "image", _from_zip(dftt / archive, member), weight),
            dftt / archive,
        )
    dfvfs = c / "disk" / "dfvfs"
    add(Seed("dfvfs/imynd.dd", "image", _file(dfvfs / "ímynd.dd", "imynd.dd"), 1.0), dfvfs / "ímynd.dd")
    add(Seed("dfvfs/iso9660.raw", "image", _file(dfvfs / "iso9660.raw")), dfvfs / "iso9660.raw")
    add(Seed("dfvfs/ext2.E01", "e01", _file(dfvfs / "ext2.E01"), 1.5), dfvfs / "ext2.E01")
    for name in ("fs.vfat.xz", "fs.ntfs.xz", "fs.exfat.xz"):
        path = FORENSICS_SAMPLES / name
        add(Seed(f"forensics-samples/{name[:-3]}", "image", _xz(path, work / "seeds"), 0.3), path)
    chats, browsers = c / "chats", c / "browsers"
    dbs = [
        (chats / "mmssms.db", "/data/data/com.android.providers.telephony/databases/mmssms.db", 2.0),
        (chats / "whatsapp_ios_ChatStorage.sqlite", "/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite", 1.5),
        (browsers / "chrome_History", "/Users/u/AppData/Local/Google/Chrome/User Data/Default/History", 1.5),
        (browsers / "firefox_places.sqlite", "/Users/u/AppData/Roaming/Mozilla/Firefox/Profiles/x.default/places.sqlite", 1.5),
        (chats / "contacts2.db", "/data/data/com.android.providers.contacts/databases/contacts2.db", 0.5),
        (browsers / "safari_History.db", "/Users/u/Library/Safari/History.db", 0.3),
    ]  # fmt: skip
    for path, place, weight in dbs:
        add(Seed(f"sqlite/{path.name}", "sqlite", _file(path), weight, place), path)
    mms = chats / "mmssms.db"
    add(
        Seed(
            "wal/mmssms.db+wal",
            "wal",
            _wal_seed(mms),
            1.5,
            "/data/data/com.android.providers.telephony/databases/mmssms.db",
        ),
        mms,
    )
    photos = [c / "images" / n for n in ("Canon_40D.jpg", "Kodak_CX7530.jpg", "Nikon_D70.jpg")]
    photos += [c / "images" / "gps" / "DSCN0010.jpg", c / "images" / "tests" / "45-gps_ifd.jpg"]
    photos += [c / "images" / "invalid" / "image01088.jpg", c / "images" / "xmp" / "no_exif.jpg"]
    for p in photos:
        add(Seed(f"photo/{p.name}", "photo", _file(p), 1.0, f"/DCIM/100CAMERA/{p.name}"), p)
    return out


# ==================================================================================================
# Where the parsers look: fields of each format, found by walking the structures of the seed
# ==================================================================================================


@dataclass(frozen=True)
class Field:
    offset: int
    size: int  # 1, 2, 4 or 8 bytes
    big: bool  # byte order
    name: str


def u16(d: bytes | bytearray, o: int, big: bool = False) -> int:
    return int(struct.unpack_from(">H" if big else "<H", d, o)[0]) if 0 <= o <= len(d) - 2 else 0


def u32(d: bytes | bytearray, o: int, big: bool = False) -> int:
    return int(struct.unpack_from(">I" if big else "<I", d, o)[0]) if 0 <= o <= len(d) - 4 else 0


def _fields(base: int, spec: list[tuple[int, int, str]], big: bool = False) -> list[Field]:
    return [Field(base + off, size, big, name) for off, size, name in spec]


FAT_BOOT = [(11, 2, "fat.bytes_per_sector"), (13, 1, "fat.sectors_per_cluster"), (14, 2, "fat.reserved"),
            (16, 1, "fat.num_fats"), (17, 2, "fat.root_entries"), (19, 2, "fat.total16"), (22, 2, "fat.fat_size16"),
            (32, 4, "fat.total32"), (36, 4, "fat32.fat_size"), (44, 4, "fat32.root_cluster"), (48, 2, "fat32.fsinfo")]  # fmt: skip
NTFS_BOOT = [(11, 2, "ntfs.bytes_per_sector"), (13, 1, "ntfs.sectors_per_cluster"), (40, 8, "ntfs.total_sectors"),
             (48, 8, "ntfs.mft_cluster"), (56, 8, "ntfs.mftmirr_cluster"), (64, 1, "ntfs.clusters_per_record"),
             (68, 1, "ntfs.clusters_per_index")]  # fmt: skip
EXFAT_BOOT = [(64, 8, "exfat.partition_offset"), (72, 8, "exfat.volume_length"), (80, 4, "exfat.fat_offset"),
              (84, 4, "exfat.fat_length"), (88, 4, "exfat.heap_offset"), (92, 4, "exfat.cluster_count"),
              (96, 4, "exfat.root_cluster"), (108, 1, "exfat.bytes_per_sector_shift"),
              (109, 1, "exfat.sectors_per_cluster_shift"), (110, 1, "exfat.num_fats")]  # fmt: skip
EXT_SUPER = [(0, 4, "ext.inodes_count"), (4, 4, "ext.blocks_count"), (20, 4, "ext.first_data_block"),
             (24, 4, "ext.log_block_size"), (32, 4, "ext.blocks_per_group"), (40, 4, "ext.inodes_per_group"),
             (76, 4, "ext.rev_level"), (84, 4, "ext.first_ino"), (88, 2, "ext.inode_size"),
             (92, 4, "ext.feature_compat"), (96, 4, "ext.feature_incompat"), (100, 4, "ext.feature_ro_compat"),
             (254, 2, "ext.desc_size")]  # fmt: skip
EXT_INODE = [(0, 2, "inode.mode"), (4, 4, "inode.size"), (26, 2, "inode.links"), (28, 4, "inode.blocks"),
             (32, 4, "inode.flags"), (40, 4, "inode.block0"), (44, 4, "inode.block1"), (88, 4, "inode.indirect"),
             (92, 4, "inode.double_indirect"), (96, 4, "inode.triple_indirect"), (108, 4, "inode.size_high")]  # fmt: skip


def image_fields(d: bytes) -> list[Field]:
    """Partition tables, boot sectors and superblocks, MFT records, inodes, ISO descriptors."""
    out: list[Field] = []
    bases = [0]
    if d[510:512] == b"\x55\xaa":
        for i in range(4):
            e = 446 + 16 * i
            out += _fields(e, [(4, 1, f"mbr{i}.type"), (8, 4, f"mbr{i}.start"), (12, 4, f"mbr{i}.sectors")])
            start = u32(d, e + 8) * 512
            if 0 < start < len(d):
                bases.append(start)
    if d[512:520] == b"EFI PART":
        out += _fields(512, [(72, 8, "gpt.entries_lba"), (80, 4, "gpt.entries"), (84, 4, "gpt.entry_size")])
    for b in bases:
        if d[b + 3 : b + 11] == b"NTFS    ":
            out += _fields(b, NTFS_BOOT)
            out += ntfs_record_fields(d, b)
        elif d[b + 3 : b + 11] == b"EXFAT   ":
            out += _fields(b, EXFAT_BOOT)
        elif d[b + 510 : b + 512] == b"\x55\xaa" and (
            b"FAT" in d[b + 54 : b + 62] or b"FAT" in d[b + 82 : b + 90]
        ):
            out += _fields(b, FAT_BOOT)
        if d[b + 1080 : b + 1082] == b"\x53\xef":
            out += ext_fields(d, b)
        if d[b + 0x8001 : b + 0x8006] == b"CD001":
            out += iso_fields(d, b)
    return out


def ntfs_record_fields(d: bytes, base: int) -> list[Field]:
    out: list[Field] = []
    found = 0
    for r in range(base, len(d) - 1024, 512):
        if d[r : r + 4] != b"FILE":
            continue
        found += 1
        if found > 96:
            break
        out += _fields(r, [(4, 2, "mft.usa_offset"), (6, 2, "mft.usa_count"), (18, 2, "mft.links"),
                           (20, 2, "mft.attr_offset"), (22, 2, "mft.flags"), (24, 4, "mft.used"),
                           (28, 4, "mft.allocated"), (32, 8, "mft.base_ref")])  # fmt: skip
        a = r + u16(d, r + 20)
        for _ in range(16):
            if not r < a < r + 1016 or u32(d, a) in (0, 0xFFFFFFFF):
                break
            length = u32(d, a + 4)
            out += _fields(a, [(0, 4, "attr.type"), (4, 4, "attr.length"), (8, 1, "attr.nonresident"),
                               (9, 1, "attr.name_length"), (10, 2, "attr.name_offset")])  # fmt: skip
            if d[a + 8] == 0:
                out += _fields(a, [(16, 4, "attr.content_size"), (20, 2, "attr.content_offset")])
            else:
                out += _fields(a, [(16, 8, "attr.start_vcn"), (24, 8, "attr.end_vcn"), (32, 2, "attr.runlist_offset"),
                                   (40, 8, "attr.allocated_size"), (48, 8, "attr.real_size"),
                                   (56, 8, "attr.initialized_size")])  # fmt: skip
                out.append(Field(a + u16(d, a + 32), 1, False, "attr.runlist_header"))
            if length < 16:
                break
            a += length
    return out


def ext_fields(d: bytes, base: int) -> list[Field]:
    sb = base + 1024
    out = _fields(sb, EXT_SUPER)
    bs = 1024 << min(u32(d, sb + 24), 6)
    inode_size = u16(d, sb + 88) if u32(d, sb + 76) >= 1 else 128
    gd = base + (2048 if bs == 1024 else bs)
    for g in range(4):
        out += _fields(gd + 32 * g, [(0, 4, "gd.block_bitmap"), (4, 4, "gd.inode_bitmap"),
                                     (8, 4, "gd.inode_table"), (16, 2, "gd.used_dirs")])  # fmt: skip
    table = base + u32(d, gd + 8) * bs
    if inode_size >= 128:
        for i in range(32):  # the first inodes: root (2), journal (8), lost+found, the first files
            ino = table + i * inode_size
            if ino + 128 > len(d):
                break
            out += _fields(ino, EXT_INODE)
            if u16(d, ino + 40) == 0xF30A:  # extent header in i_block
                out += _fields(ino + 40, [(2, 2, "extent.entries"), (4, 2, "extent.max"), (6, 2, "extent.depth"),
                                          (12, 4, "extent.first_block"), (16, 2, "extent.len"),
                                          (20, 4, "extent.start")])  # fmt: skip
    return out


def iso_fields(d: bytes, base: int) -> list[Field]:
    pvd = base + 0x8000
    out = _fields(pvd, [(80, 4, "iso.space_size"), (128, 2, "iso.block_size"), (132, 4, "iso.path_table_size"),
                        (140, 4, "iso.l_path_table"), (156, 1, "iso.root.length"), (158, 4, "iso.root.extent"),
                        (166, 4, "iso.root.size"), (181, 1, "iso.root.flags")])  # fmt: skip
    out += _fields(pvd, [(84, 4, "iso.space_size_be"), (130, 2, "iso.block_size_be"), (162, 4, "iso.root.extent_be"),
                         (170, 4, "iso.root.size_be")], big=True)  # fmt: skip
    bsz = u16(d, pvd + 128) or 2048
    root = base + u32(d, pvd + 158) * bsz
    r = root
    for _ in range(32):  # the records of the root directory
        if not 0 <= r < len(d) - 34 or d[r] < 34:
            break
        out += _fields(r, [(0, 1, "isodir.length"), (2, 4, "isodir.extent"), (10, 4, "isodir.size"),
                           (25, 1, "isodir.flags"), (32, 1, "isodir.name_length")])  # fmt: skip
        r += d[r]
    return out


def e01_fields(d: bytes) -> list[Field]:
    """The EWF section chain: each descriptor's next offset and size, and the start of its body."""
    out: list[Field] = []
    off = 13
    for _ in range(64):
        if off + 76 > len(d):
            break
        out += _fields(off, [(16, 8, "ewf.section.next"), (24, 8, "ewf.section.size")])
        kind = d[off : off + 16].rstrip(b"\x00")
        if kind in (b"volume", b"disk", b"table", b"table2", b"header", b"header2", b"hash", b"digest"):
            out += [Field(off + 76 + k, 4, False, f"ewf.{kind.decode()}+{k}") for k in range(0, 64, 4)]
        nxt = int(struct.unpack_from("<Q", d, off + 16)[0])
        if nxt <= off:
            break
        off = nxt
    return out


def e01_fixup(d: bytearray) -> None:
    """Recompute every section descriptor's Adler-32, so mutations reach past libewf's checks."""
    off = 13
    for _ in range(64):
        if off + 76 > len(d):
            return
        struct.pack_into("<I", d, off + 72, zlib.adler32(bytes(d[off : off + 72])))
        nxt = int(struct.unpack_from("<Q", d, off + 16)[0])
        if nxt <= off:
            return
        off = nxt


def sqlite_fields(d: bytes) -> list[Field]:
    """The 100-byte header, then the header and first cell pointers of the first pages."""
    if not d.startswith(b"SQLite format 3\x00"):
        return []
    out = _fields(0, [(16, 2, "sqlite.page_size"), (18, 1, "sqlite.write_version"), (19, 1, "sqlite.read_version"),
                      (20, 1, "sqlite.reserved"), (21, 1, "sqlite.max_payload"), (22, 1, "sqlite.min_payload"),
                      (23, 1, "sqlite.leaf_payload"), (24, 4, "sqlite.change_counter"), (28, 4, "sqlite.page_count"),
                      (32, 4, "sqlite.freelist_trunk"), (36, 4, "sqlite.freelist_count"), (40, 4, "sqlite.schema_cookie"),
                      (44, 4, "sqlite.schema_format"), (52, 4, "sqlite.autovacuum_root"), (56, 4, "sqlite.encoding"),
                      (64, 4, "sqlite.incremental_vacuum")], big=True)  # fmt: skip
    ps = u16(d, 16, True)
    ps = 65536 if ps == 1 else ps
    if ps < 512:
        return out
    for page in range(min(len(d) // ps, 64)):
        h = 100 if page == 0 else page * ps
        kind = d[h]
        if kind not in (2, 5, 10, 13):
            continue
        out += _fields(h, [(0, 1, "page.type"), (1, 2, "page.first_freeblock"), (3, 2, "page.cells"),
                           (5, 2, "page.content_start"), (7, 1, "page.fragmented")], big=True)  # fmt: skip
        hdr = 8
        if kind in (2, 5):
            out.append(Field(h + 8, 4, True, "page.rightmost_child"))
            hdr = 12
        cells = u16(d, h + 3, True)
        for i in range(min(cells, 8)):
            ptr = h + hdr + 2 * i
            out.append(Field(ptr, 2, True, "page.cell_pointer"))
            cell = page * ps + u16(d, ptr, True)
            if cell + 4 < len(d):
                out += [Field(cell, 1, True, "cell.varint0"), Field(cell + 1, 1, True, "cell.varint1"),
                        Field(cell + 2, 2, True, "cell.payload")]  # fmt: skip
    return out


def wal_fields(d: bytes) -> list[Field]:
    if len(d) < 32 or u32(d, 0, True) not in (0x377F0682, 0x377F0683):
        return []
    out = _fields(0, [(8, 4, "wal.page_size"), (12, 4, "wal.checkpoint_seq"), (16, 4, "wal.salt1")], big=True)
    ps = u32(d, 8, True)
    if not 512 <= ps <= 65536:
        return out
    off = 32
    for _ in range(64):
        if off + 24 > len(d):
            break
        out += _fields(off, [(0, 4, "walframe.page"), (4, 4, "walframe.commit_size")], big=True)
        off += 24 + ps
    return out


def wal_fixup(d: bytearray) -> None:
    """Recompute the header and frame checksums (cumulative, as SQLite chains them), so that a
    mutated frame is replayed instead of ending the WAL at the first bad checksum."""
    if len(d) < 32:
        return
    magic = u32(d, 0, True)
    if magic not in (0x377F0682, 0x377F0683):
        return
    fmt = ">" if magic & 1 else "<"

    def checksum(data: bytes, s0: int, s1: int) -> tuple[int, int]:
        n = len(data) // 8 * 8
        words = struct.unpack(f"{fmt}{n // 4}I", data[:n])
        for i in range(0, len(words), 2):
            s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
            s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
        return s0, s1

    s0, s1 = checksum(bytes(d[:24]), 0, 0)
    struct.pack_into(">II", d, 24, s0, s1)
    ps = u32(d, 8, True)
    if not 512 <= ps <= 65536:
        return
    off = 32
    while off + 24 + ps <= len(d):
        d[off + 8 : off + 16] = d[16:24]  # salts must match the header's
        s0, s1 = checksum(bytes(d[off : off + 8]), s0, s1)
        s0, s1 = checksum(bytes(d[off + 24 : off + 24 + ps]), s0, s1)
        struct.pack_into(">II", d, off + 16, s0, s1)
        off += 24 + ps


def jpeg_fields(d: bytes) -> list[Field]:
    """Segment lengths, then the EXIF TIFF header and every IFD's count and entries."""
    out: list[Field] = []
    pos = 2
    tiff = None
    for _ in range(64):
        if pos + 4 > len(d) or d[pos] != 0xFF:
            break
        code = d[pos + 1]
        if code in (0xD9, 0xDA):
            break
        out.append(Field(pos + 2, 2, True, f"jpeg.segment_{code:02x}.length"))
        if code == 0xE1 and d[pos + 4 : pos + 10] == b"Exif\x00\x00" and tiff is None:
            tiff = pos + 10
        pos += 2 + u16(d, pos + 2, True)
    if tiff is None or tiff + 8 > len(d):
        return out
    big = d[tiff : tiff + 2] == b"MM"
    out += [Field(tiff, 2, big, "tiff.byte_order"), Field(tiff + 2, 2, big, "tiff.magic"),
            Field(tiff + 4, 4, big, "tiff.ifd0_offset")]  # fmt: skip
    todo = [(u32(d, tiff + 4, big), "ifd0")]
    seen: set[int] = set()
    while todo and len(seen) < 8:
        off, name = todo.pop()
        at = tiff + off
        if off in seen or not tiff < at < len(d) - 2:
            continue
        seen.add(off)
        count = u16(d, at, big)
        out.append(Field(at, 2, big, f"{name}.count"))
        for i in range(min(count, 48)):
            e = at + 2 + 12 * i
            if e + 12 > len(d):
                break
            tag = u16(d, e, big)
            out += [Field(e + 2, 2, big, f"{name}.{tag:04x}.type"), Field(e + 4, 4, big, f"{name}.{tag:04x}.count"),
                    Field(e + 8, 4, big, f"{name}.{tag:04x}.value")]  # fmt: skip
            if tag in (0x8769, 0x8825, 0xA005):
                todo.append((u32(d, e + 8, big), {0x8769: "exif", 0x8825: "gps", 0xA005: "interop"}[tag]))
            if tag in (0x0201, 0x0202):
                out.append(Field(e + 8, 4, big, f"{name}.thumbnail"))
        nxt_at = at + 2 + 12 * count
        if nxt_at + 4 <= len(d):
            out.append(Field(nxt_at, 4, big, f"{name}.next_ifd"))
            nxt = u32(d, nxt_at, big)
            if nxt:
                todo.append((nxt, "ifd1"))
    return out


def zip_fields(d: bytes) -> list[Field]:
    out: list[Field] = []
    for m in re.finditer(b"PK\x03\x04", d):
        o = m.start()
        out += _fields(o, [(6, 2, "zip.local.flags"), (8, 2, "zip.local.method"), (18, 4, "zip.local.csize"),
                           (22, 4, "zip.local.usize"), (26, 2, "zip.local.name_len"), (28, 2, "zip.local.extra_len")])  # fmt: skip
    for m in re.finditer(b"PK\x01\x02", d):
        o = m.start()
        out += _fields(o, [(10, 2, "zip.central.method"), (20, 4, "zip.central.csize"), (24, 4, "zip.central.usize"),
                           (28, 2, "zip.central.name_len"), (30, 2, "zip.central.extra_len"),
                           (38, 4, "zip.central.external_attr"), (42, 4, "zip.central.local_offset")])  # fmt: skip
    for m in re.finditer(b"PK\x05\x06", d):
        o = m.start()
        out += _fields(o, [(8, 2, "zip.eocd.entries_disk"), (10, 2, "zip.eocd.entries"), (12, 4, "zip.eocd.cd_size"),
                           (16, 4, "zip.eocd.cd_offset")])  # fmt: skip
    return out


FIELD_FINDERS: dict[str, Callable[[bytes], list[Field]]] = {
    "image": image_fields,
    "e01": e01_fields,
    "sqlite": sqlite_fields,
    "wal": wal_fields,
    "photo": jpeg_fields,
    "zip": zip_fields,
}

# ==================================================================================================
# Mutations
# ==================================================================================================


class Mutator:
    """Mutations that matter for forensic formats, aimed at the fields above half of the time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._fields: dict[str, list[Field]] = {}

    def fields(self, key: str, fmt: str, data: bytes) -> list[Field]:
        if key not in self._fields:
            self._fields[key] = [f for f in FIELD_FINDERS[fmt](data) if 0 <= f.offset <= len(data) - f.size]
        return self._fields[key]

    def boundary(self, f: Field, current: int, size_hint: int) -> int:
        top = (1 << (8 * f.size)) - 1
        choices = [0, 1, 2, top, top - 1, top >> 1, (top >> 1) + 1, 0x7F, 0x80, 0xFF, 0x100, 0x1000, 0xFFFF,
                   0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, size_hint, size_hint + 1, size_hint // 2,
                   current + 1, current - 1, current * 2, current << 8, self.rng.getrandbits(8 * f.size)]  # fmt: skip
        return self.rng.choice(choices) & top

    def mutate(self, data: bytes, fmt: str, key: str) -> tuple[bytes, list[str]]:
        rng = self.rng
        buf = bytearray(data)
        fields = self.fields(key, fmt, data)
        done: list[str] = []
        for _ in range(1 + min(int(rng.expovariate(0.8)), 7)):
            if not buf:
                break
            op = rng.choices(
                ["field", "arith", "bitflip", "byterun", "truncate", "splice", "insert", "delete"],
                weights=[34, 6, 20, 14, 6, 10, 5, 5],
            )[0]
            hot = [f for f in fields if f.offset + f.size <= len(buf)]
            if op in ("field", "arith") and hot:
                f = rng.choice(hot)
                order: Literal["big", "little"] = "big" if f.big else "little"
                cur = int.from_bytes(buf[f.offset : f.offset + f.size], order)
                top = (1 << (8 * f.size)) - 1
                if op == "field":
                    new = self.boundary(f, cur, len(buf))
                else:
                    new = (cur + rng.choice([-16, -2, -1, 1, 2, 16, 512, 4096])) & top
                buf[f.offset : f.offset + f.size] = new.to_bytes(f.size, order)
                done.append(f"{op} {f.name}@{f.offset}: {cur:#x} -> {new:#x}")
                continue
            at = rng.choice(hot).offset if hot and rng.random() < 0.5 else rng.randrange(len(buf))
            if op == "bitflip" or op in ("field", "arith"):
                bits = rng.choice([1, 1, 1, 2, 4, 8])
                for _ in range(bits):
                    pos = min(len(buf) - 1, max(0, at + rng.randrange(-8, 9)))
                    buf[pos] ^= 1 << rng.randrange(8)
                done.append(f"bitflip x{bits} near {at}")
            elif op == "byterun":
                n = min(rng.choice([1, 2, 4, 8, 16, 64, 512]), len(buf) - at)
                fill = rng.choice([b"\x00", b"\xff", b"\x7f", b"\x80", b"A", None])
                run = bytes(rng.getrandbits(8) for _ in range(n)) if fill is None else fill * n
                buf[at : at + n] = run
                done.append(f"byterun {n}x{fill.hex() if fill else 'random'} at {at}")
            elif op == "truncate":
                cut = rng.choice([at, len(buf) // 2, len(buf) - 1, len(buf) - 512, 512, 4096])
                cut = max(1, min(cut, len(buf) - 1))
                del buf[cut:]
                done.append(f"truncate at {cut}")
            elif op == "splice":
                n = rng.choice([4, 16, 64, 512, 4096])
                src = rng.randrange(len(buf))
                chunk = bytes(buf[src : src + n])
                buf[at : at + len(chunk)] = chunk
                done.append(f"splice {len(chunk)} bytes from {src} to {at}")
            elif op == "insert":
                n = rng.choice([1, 4, 16, 256])
                buf[at:at] = bytes(rng.getrandbits(8) for _ in range(n))
                done.append(f"insert {n} bytes at {at}")
            else:
                n = rng.choice([1, 4, 16, 256])
                del buf[at : at + n]
                done.append(f"delete {n} bytes at {at}")
        if fmt == "e01" and rng.random() < 0.7:
            e01_fixup(buf)
            done.append("fixup ewf section checksums")
        if fmt == "wal" and rng.random() < 0.7:
            wal_fixup(buf)
            done.append("fixup wal checksums")
        return bytes(buf), done


# ==================================================================================================
# Cases: one mutated input, laid out as evidence, described by case.json
# ==================================================================================================


def make_case(
    case_dir: Path, seed: Seed, files: dict[str, bytes], mutator: Mutator | None, rng: random.Random
) -> dict[str, Any]:
    """Write the (mutated) evidence into ``case_dir/evidence*`` and return the case description."""
    evidence = case_dir / "evidence"
    evidence.mkdir(parents=True)
    desc: dict[str, Any] = {"seed": seed.name, "kind": seed.kind, "mutations": {}}
    names = list(files)
    target = rng.choice(names) if mutator else None
    out: dict[str, bytes] = {}
    for name in names:
        data = files[name]
        if mutator and name == target:
            fmt = "wal" if name.endswith("-wal") else "sqlite" if seed.kind == "wal" else seed.kind
            data, done = mutator.mutate(data, fmt, f"{seed.name}:{name}")
            desc["mutations"][name] = done
        out[name] = data
    if seed.kind in ("image", "e01"):
        [(name, data)] = out.items()
        (evidence / name).write_bytes(data)
        desc["container"] = seed.kind if seed.kind == "e01" else "raw"
        desc["path"] = f"evidence/{name}"
        return desc
    place = seed.place.lstrip("/")
    members = {str(Path(place).parent / name): data for name, data in out.items()}
    if rng.random() < 0.5:
        desc["container"] = "folder"
        for rel, data in members.items():
            (evidence / rel).parent.mkdir(parents=True, exist_ok=True)
            (evidence / rel).write_bytes(data)
        desc["path"] = "evidence"
        return desc
    desc["container"] = "zip"
    raw = io.BytesIO()
    method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    with zipfile.ZipFile(raw, "w", method) as z:
        for rel, data in members.items():
            z.writestr(rel, data)
    blob = raw.getvalue()
    if mutator and rng.random() < 0.25:  # the container itself: member sizes, offsets, methods
        blob, done = mutator.mutate(blob, "zip", f"zip:{hashlib.sha1(blob[:64]).hexdigest()}")
        desc["mutations"]["(zip container)"] = done
    (evidence / "extraction.zip").write_bytes(blob)
    desc["path"] = "evidence/extraction.zip"
    return desc


def step_argv(step: str, case_dir: Path, desc: dict[str, Any], workers: int) -> list[str]:
    db = str(case_dir / "case")
    if step == "acquire":
        kind = {"raw": "raw", "e01": "e01", "folder": "folder", "zip": "zip"}[desc["container"]]
        return ["acquire", str(case_dir / desc["path"]), "--exhibit", EXHIBIT, "--description", "fuzz case",
                "--kind", kind, "--case", db, "--actor", ACTOR]  # fmt: skip
    if step == "triage":
        return ["triage", EXHIBIT, "--workers", str(workers), "--case", db, "--actor", ACTOR]
    if step == "findings":
        return ["findings", EXHIBIT, "--case", db]
    if step == "ls":
        return ["ls", EXHIBIT, "-r", "--case", db]
    return ["runs", EXHIBIT, "--json", "--case", db]


# ==================================================================================================
# The child: runs cases in-process through the real entry point
# ==================================================================================================


def _project_frame(tb_text: str) -> str:
    """The innermost ``File "...", line N, in f`` of Exhibit's own code (else the innermost one)."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', tb_text)
    if not frames:
        return "?"
    mine = [
        f
        for f in frames
        if re.search(r"/(custody|triage|plugins)/[^/]+\.py$", f[0]) or "fuzz_selftest" in f[0]
    ]
    path, line, func = (mine or frames)[-1]
    short = re.sub(r"^.*/((custody|triage|plugins)/)", r"\1", path)
    return f"{short if mine else Path(path).name}:{line}:{func}"


class _Capture:
    """stdout and stderr (the file descriptors too: C code and subprocesses write there) into files."""

    def __init__(self, folder: Path, step: str) -> None:
        self.paths = (folder / f"{step}.stdout", folder / f"{step}.stderr")

    def __enter__(self) -> _Capture:
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2), sys.stdout, sys.stderr)
        self.files = [open(p, "wb") for p in self.paths]  # noqa: SIM115 - closed in __exit__
        os.dup2(self.files[0].fileno(), 1)
        os.dup2(self.files[1].fileno(), 2)
        out_fd, err_fd = open(1, "wb", closefd=False), open(2, "wb", closefd=False)
        sys.stdout = io.TextIOWrapper(out_fd, encoding="utf-8", errors="surrogateescape")
        sys.stderr = io.TextIOWrapper(err_fd, encoding="utf-8", errors="backslashreplace")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        os.close(self.saved[0])
        os.close(self.saved[1])
        sys.stdout, sys.stderr = self.saved[2], self.saved[3]
        for f in self.files:
            f.close()

    def text(self) -> tuple[str, str]:
        return tuple(_tail(p) for p in self.paths)  # type: ignore[return-value]


def _tail(path: Path, keep: int = OUTPUT_KEEP) -> str:
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - keep))
        data = f.read()
    return ("[...]" if size > keep else "") + data.decode("utf-8", "backslashreplace")


def run_step_inproc(argv: list[str], folder: Path, step: str) -> dict[str, Any]:
    from triage import launch

    result: dict[str, Any] = {"step": step, "argv": argv}
    with _Capture(folder, step) as cap:
        sys.argv = ["exhibit", *argv]
        try:
            launch.main()
            code: int = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # EXHIBIT_DEBUG=1: what a user meets as "internal error", exit 70
            code = 70
            result["exception"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            result["traceback"] = "".join(traceback.format_exception(exc))[-OUTPUT_KEEP:]
    result["exit"] = code
    result["stdout"], result["stderr"] = cap.text()
    return result


def run_step_cli(argv: list[str], folder: Path, step: str, timeout: float, mem_mb: int) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "exhibit"
    paths = (folder / f"{step}.stdout", folder / f"{step}.stderr")
    with paths[0].open("wb") as o, paths[1].open("wb") as e:
        proc = subprocess.Popen(
            [str(exe), *argv], stdout=o, stderr=e, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=lambda: _child_limits(mem_mb),
        )  # fmt: skip
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints the Python stack, then it dies
            time.sleep(1)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
    result: dict[str, Any] = {"step": step, "argv": argv, "exit": code}
    result["stdout"], result["stderr"] = _tail(paths[0]), _tail(paths[1])
    if code is None:
        result["hang"] = True
    elif code < 0:
        result["signal"] = signal.Signals(-code).name
    tb = re.search(r"Traceback \(most recent call last\):.*", result["stderr"], re.S)
    if tb:
        result["traceback"] = tb.group(0)
        last = [ln for ln in tb.group(0).splitlines() if ln and not ln.startswith(" ")]
        result["exception"] = last[-1] if last else "?"
    return result


def _template_case(root: Path) -> Path:
    """A case with the fuzzing actor registered, made once and copied for every execution."""
    template = root / "template-case"
    if (template / "exhibit-case.json").exists():
        return template
    from custody.actors import add_actor
    from custody.case import init_case

    with init_case(template, case_number="FUZZ/1", title="fuzz") as case:
        add_actor(case, ACTOR, name="Fuzz Tester", role="examiner")
    return template


def execute_case(case_dir: Path, desc: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    """Run the steps on one laid-out case; stop after a step that did not exit 0."""
    shutil.copytree(_template_case(Path(opts["work"])), case_dir / "case")
    results = []
    for step in opts["steps"]:
        argv = step_argv(step, case_dir, desc, opts["workers"])
        if opts["mode"] == "cli":
            res = run_step_cli(argv, case_dir, step, opts["timeout"], opts["mem_mb"])
        else:
            res = run_step_inproc(argv, case_dir, step)
        results.append(res)
        if res.get("exit") != 0:
            break
    peak = resource.getrusage(resource.RUSAGE_SELF if opts["mode"] == "inproc" else resource.RUSAGE_CHILDREN)
    return {"steps": results, "maxrss_mb": peak.ru_maxrss // 1024, "fresh": opts.get("fresh", False)}


def _child_limits(mem_mb: int) -> None:
    """In the process running Exhibit: bounded address space, and die with the fuzzer."""
    limit = mem_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def child_main(opts: dict[str, Any]) -> int:
    """Serve cases: read a case folder per line on stdin, answer one JSON line on the saved stdout."""
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    log = open(opts["log"], "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the child
    faulthandler.enable(file=log, all_threads=True)
    selftest = os.environ.get("EXHIBIT_FUZZ_SELFTEST_DIR")
    if selftest:
        sys.path.insert(0, selftest)
    if opts["mode"] == "inproc":
        os.environ["EXHIBIT_DEBUG"] = "1"
        import custody.cli

        custody.cli._load_subcommands()  # once per process, as one CLI run does; not once per command
        custody.cli._load_subcommands = lambda: None
    first = True
    for line in sys.stdin:
        opts["fresh"], first = first, False  # the peak RSS of a first case is that case's alone
        case_dir = Path(line.strip())
        desc = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
        print(f"=== case {case_dir.name} ===", file=log, flush=True)
        per_case = opts["timeout"] * (len(opts["steps"]) if opts["mode"] == "cli" else 1)
        faulthandler.dump_traceback_later(per_case, exit=True, file=log)
        try:
            res = execute_case(case_dir, desc, opts)
        except BaseException as exc:  # the harness itself failed on this case: report, go on
            res = {"steps": [], "harness_error": "".join(traceback.format_exception(exc))[-OUTPUT_KEEP:]}
        finally:
            faulthandler.cancel_dump_traceback_later()
        answer.write(json.dumps(res) + "\n")
        answer.flush()
    return 0


# ==================================================================================================
# The parent: generate cases, feed children, classify, deduplicate, save
# ==================================================================================================


@dataclass
class Finding:
    kind: str  # internal-error, crash, hang, memory, plugin-failure
    key: str
    summary: str
    count: int = 1
    saved: str | None = None


@dataclass
class Stats:
    executions: int = 0
    reached: dict[str, int] = field(default_factory=dict)  # step -> executions that ran it
    exit2: dict[str, int] = field(default_factory=dict)  # step -> executions it refused with exit 2
    started: float = field(default_factory=time.monotonic)


class Worker:
    """One child process serving cases; replaced after ``batch`` cases or any failure."""

    def __init__(self, opts: dict[str, Any]) -> None:
        self.opts = opts
        self.proc: subprocess.Popen[str] | None = None
        self.served = 0
        self.log_offset = 0

    def _start(self) -> subprocess.Popen[str]:
        log = Path(self.opts["log"])
        log.write_text("", encoding="utf-8")
        self.log_offset = 0
        env = dict(os.environ)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(self.opts)]
        mem = self.opts["mem_mb"] if self.opts["mode"] == "inproc" else 0
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
            start_new_session=True, preexec_fn=(lambda: _child_limits(mem)) if mem else None,
        )  # fmt: skip
        self.served = 0
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def run(self, case_dir: Path) -> dict[str, Any]:
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        self.log_offset = Path(self.opts["log"]).stat().st_size
        proc.stdin.write(f"{case_dir}\n")
        proc.stdin.flush()
        budget = self.opts["timeout"] * (len(self.opts["steps"]) if self.opts["mode"] == "cli" else 1) + 15
        ready, _, _ = select.select([proc.stdout], [], [], budget)
        line = proc.stdout.readline() if ready else ""
        if line:
            self.served += 1
            res: dict[str, Any] = json.loads(line)
            if self.served >= self.opts["batch"] or res.get("maxrss_mb", 0) > self.opts["rss_report_mb"]:
                self.stop()  # fresh process: no leak or grown heap carried into the next cases
            return res
        hung_here = not ready
        self.stop()
        log = Path(self.opts["log"]).read_text(encoding="utf-8", errors="backslashreplace")[self.log_offset :]
        code = proc.returncode
        died = {"died": True, "returncode": code, "log": log[-OUTPUT_KEEP:]}
        if hung_here or "Timeout (" in log:
            died["hang"] = True
        elif code is not None and code < 0:
            died["signal"] = signal.Signals(-code).name
        return {"steps": [], **died}


def classify(res: dict[str, Any], opts: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, dedup key, one-line summary) of everything wrong in one execution's result."""
    found: list[tuple[str, str, str]] = []
    if res.get("died"):
        log = res.get("log", "")
        where = _faulthandler_frame(log) or _project_frame(log)
        if res.get("hang"):
            found.append(("hang", f"hang@{where}", f"no answer within {opts['timeout']} s; stack at {where}"))
        elif res.get("signal"):
            found.append(("crash", f"{res['signal']}@{where}", f"killed by {res['signal']} at {where}"))
        else:
            found.append(
                (
                    "crash",
                    f"exit{res.get('returncode')}@{where}",
                    f"process died (status {res.get('returncode')}) at {where}",
                )
            )
        return found
    if res.get("harness_error"):
        found.append(("harness", "harness", res["harness_error"].splitlines()[-1]))
    for step in res.get("steps", []):
        name = step["step"]
        out = step.get("stdout", "") + step.get("stderr", "")
        tb = step.get("traceback") or ""
        if step.get("hang"):
            where = _faulthandler_frame(step.get("stderr", "")) or "?"
            found.append(
                ("hang", f"hang@{where}", f"{name}: no answer within {opts['timeout']} s; stack at {where}")
            )
            continue
        if step.get("signal"):
            where = _faulthandler_frame(step.get("stderr", "")) or "?"
            found.append(
                ("crash", f"{step['signal']}@{where}", f"{name}: killed by {step['signal']} at {where}")
            )
            continue
        exc = step.get("exception") or ""
        # ``runs --json`` lists recorded warnings, tracebacks included: only its own failure counts.
        text = "" if name == "runs" else out
        printed = "\n".join(ln for ln in text.splitlines() if not ln.startswith("warning:"))
        if exc or "Traceback (most recent call last)" in text or "internal error" in text:
            etype = exc.split(":")[0] if exc else "internal-error"
            where = _project_frame(tb or out)
            kind = "memory" if "MemoryError" in etype else "internal-error"
            found.append((kind, f"{etype}@{where}", f"{name}: {exc or 'traceback in output'} at {where}"))
        elif step.get("exit") not in ALLOWED_EXIT.get(name, {0}):
            found.append(
                (
                    "internal-error",
                    f"{name}-exit{step.get('exit')}",
                    f"{name}: exit status {step.get('exit')}",
                )
            )
        elif re.search(r"MemoryError|out of memory", printed):
            found.append(("memory", f"oom-text@{name}", f"{name}: 'out of memory' in the output"))
        if name == "runs" and step.get("exit") == 0:
            found += _plugin_failures(step.get("stdout", ""))
    if res.get("maxrss_mb", 0) > opts["rss_report_mb"]:
        found.append(("memory", "rss", f"peak RSS {res['maxrss_mb']} MB > {opts['rss_report_mb']} MB"))
    return found


def _faulthandler_frame(log: str) -> str | None:
    """The innermost Exhibit frame of the current thread in a faulthandler dump."""
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', log)
    if not frames:
        return None
    # faulthandler lists the innermost frame first; the dump of the main thread comes first.
    mine = [
        f
        for f in frames
        if re.search(r"/(custody|triage|plugins)/[^/]+\.py$", f[0]) or "fuzz_selftest" in f[0]
    ]
    path, line, func = (mine or frames)[0]
    short = re.sub(r"^.*/((custody|triage|plugins)/)", r"\1", path)
    return f"{short}:{line}:{func}"


def _plugin_failures(runs_json: str) -> list[tuple[str, str, str]]:
    try:
        runs = json.loads(runs_json)
    except ValueError:
        return []
    found = []
    for run in runs if isinstance(runs, list) else []:
        for w in run.get("warnings") or []:
            tb = w.get("traceback")
            text = f"{w.get('message')}\n{tb or ''}"
            if "MemoryError" in text or "out of memory" in text:
                found.append(
                    (
                        "memory",
                        f"oom-warning@{_project_frame(tb or '')}",
                        f"warning: {w.get('message')}"[:300],
                    )
                )
            elif tb:
                last = [ln for ln in tb.splitlines() if ln and not ln.startswith(" ")]
                etype = (last[-1] if last else "?").split(":")[0]
                where = _project_frame(tb)
                found.append(
                    (
                        "plugin-failure",
                        f"{w.get('plugin')}:{etype}@{where}",
                        f"{w.get('plugin')}: {w.get('message')}"[:300],
                    )
                )
    return found


def save_finding(
    out: Path, fid: str, case_dir: Path, desc: dict[str, Any], res: dict[str, Any], what: list[str]
) -> str:
    dest = out / fid
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(case_dir / "evidence", dest / "evidence", symlinks=True)
    (dest / "case.json").write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
    lines = [*what, ""]
    for step in res.get("steps", []):
        lines += [f"$ exhibit {' '.join(step['argv'])}", f"# exit {step.get('exit')}", step.get("stdout", ""),
                  step.get("stderr", ""), step.get("traceback", "")]  # fmt: skip
    if res.get("died"):
        lines += [f"# process died: returncode {res.get('returncode')}", res.get("log", "")]
    (dest / "output.txt").write_text("\n".join(lines), encoding="utf-8", errors="backslashreplace")
    return str(dest)


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:60] + "-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def make_selftest_plugin(root: Path) -> Path:
    """A real distribution (dist-info with an ``exhibit.plugins`` entry point) holding a plugin that
    fails on purpose as ``$EXHIBIT_FUZZ_SELFTEST`` says: the fuzzer must report it."""
    folder = root / "selftest-dist"
    info = folder / "fuzz_selftest_plugin-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fuzz-selftest-plugin\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[exhibit.plugins]\nfuzz_selftest = fuzz_selftest_plugin:BrokenPlugin\n"
    )
    (folder / "fuzz_selftest_plugin.py").write_text(
        '''"""A deliberately broken plugin for bench/fuzz_triage.py --self-test (never installed)."""

import ctypes
import os
import time
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import Plugin, Targets
from triage.plugin.records import Record


class PlantedCrash(BaseException):
    """Not an Exception: escapes the dispatcher's isolation, as a real bug in the engine would."""


@dataclass(frozen=True, kw_only=True)
class Nothing(Record):
    """Never emitted."""

    record_type: ClassVar[str] = "selftest/fuzz/nothing"


class BrokenPlugin(Plugin):
    """Fails on every file, in the way $EXHIBIT_FUZZ_SELFTEST names."""

    name = "fuzz_selftest"
    version = "0"
    description = "planted failure for the fuzzer's self-test"
    targets = Targets(globs=("**/*",))
    emits = (Nothing,)

    def parse(self, item, ctx):
        fault = os.environ.get("EXHIBIT_FUZZ_SELFTEST", "raise")
        if fault == "segv":
            ctypes.string_at(0)
        elif fault == "hang":
            time.sleep(3600)
        elif fault == "memory":
            blob = bytearray(64 * 1024**3)
            del blob
        raise PlantedCrash(f"planted crash on {item.path}")
        yield
''',
        encoding="utf-8",
    )
    return folder


def replay(case_json: Path, opts: dict[str, Any]) -> int:
    """Run one saved case again (fresh child, same steps) and print what happened."""
    src = case_json.parent
    desc = json.loads(case_json.read_text(encoding="utf-8"))
    work = Path(opts["work"])
    case_dir = Path(tempfile.mkdtemp(prefix="replay-", dir=work))
    shutil.copytree(src / "evidence", case_dir / "evidence", symlinks=True)
    (case_dir / "case.json").write_text(json.dumps(desc), encoding="utf-8")
    worker = Worker(opts)
    try:
        res = worker.run(case_dir)
    finally:
        worker.stop()
    print(f"seed {desc['seed']} ({desc['container']}), mutations: {json.dumps(desc['mutations'])}")
    for step in res.get("steps", []):
        print(f"$ exhibit {' '.join(step['argv'])}  # exit {step.get('exit')}")
        for part in ("stdout", "stderr", "traceback"):
            text = (step.get(part) or "").strip()
            if text:
                print(f"--- {part}\n{text[-3000:]}")
    if res.get("died"):
        print(f"process died (returncode {res.get('returncode')}):\n{res.get('log', '')[-3000:]}")
    found = [f for f in classify(res, opts) if f[0] != "plugin-failure" or opts["plugin_findings"]]
    for kind, _key, summary in found:
        print(f"FOUND {kind}: {summary}")
    shutil.rmtree(case_dir, ignore_errors=True)
    return 1 if found else 0


def fuzz(opts: dict[str, Any], args: argparse.Namespace) -> int:
    work, out = Path(opts["work"]), Path(opts["out"])
    rng = random.Random(args.seed)
    available = seeds(work)
    if args.only:
        available = [s for s in available if any(o in s.name or o == s.kind for o in args.only)]
    if not available:
        print("no seed files found (is ../shared/corpus there?)", file=sys.stderr)
        return 2
    mutator = None if args.no_mutate else Mutator(rng)
    loaded: dict[str, dict[str, bytes]] = {}
    findings: dict[str, Finding] = {}
    stats = Stats()
    worker = Worker(opts)
    deadline = stats.started + args.minutes * 60
    print(f"fuzzing {len(available)} seeds, mode {opts['mode']}, seed {args.seed}, until "
          f"{args.minutes} min or {args.max_execs or 'unlimited'} executions; findings to {out}", flush=True)  # fmt: skip
    last_report = time.monotonic()
    try:
        while time.monotonic() < deadline and (not args.max_execs or stats.executions < args.max_execs):
            if args.no_mutate:
                seed = available[stats.executions % len(available)]
            else:
                seed = rng.choices(available, weights=[s.weight for s in available])[0]
            if seed.name not in loaded:
                loaded[seed.name] = seed.load()
            case_dir = work / f"case-{os.getpid()}-{stats.executions:06d}"
            desc = make_case(case_dir, seed, loaded[seed.name], mutator, rng)
            desc["fuzz_seed"], desc["execution"] = args.seed, stats.executions
            (case_dir / "case.json").write_text(json.dumps(desc), encoding="utf-8")
            res = worker.run(case_dir)
            if res.get("maxrss_mb", 0) > opts["rss_report_mb"] and not res.get("fresh"):
                # The peak of a process that served earlier cases: confirm in a fresh one.
                worker.stop()
                for leftover in case_dir.iterdir():
                    if leftover.name not in ("evidence", "case.json"):
                        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
                res = worker.run(case_dir)
            stats.executions += 1
            for step in res.get("steps", []):
                stats.reached[step["step"]] = stats.reached.get(step["step"], 0) + 1
                if step.get("exit") == 2:
                    stats.exit2[step["step"]] = stats.exit2.get(step["step"], 0) + 1
            for kind, key, summary in classify(res, opts):
                full = f"{kind}:{key}"
                if full in findings:
                    findings[full].count += 1
                    continue
                f = Finding(kind, key, summary)
                f.saved = save_finding(out, f"{kind}-{_slug(key)}", case_dir, desc, res, [summary])
                findings[full] = f
                print(f"NEW {kind}: {summary}\n    input: {desc['seed']} ({desc['container']}) "
                      f"{json.dumps(desc['mutations'])[:300]}\n    saved: {f.saved}", flush=True)  # fmt: skip
            shutil.rmtree(case_dir, ignore_errors=True)
            if time.monotonic() - last_report > 60:
                last_report = time.monotonic()
                print(f"... {stats.executions} executions, {len(findings)} distinct findings", flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        worker.stop()
    elapsed = time.monotonic() - stats.started
    counted = [f for f in findings.values() if f.kind != "plugin-failure" or opts["plugin_findings"]]
    by_kind = {
        k: sum(1 for f in counted if f.kind == k) for k in ("internal-error", "crash", "hang", "memory")
    }
    report = {
        "executions": stats.executions,
        "seconds": round(elapsed, 1),
        "executions_per_second": round(stats.executions / elapsed, 2) if elapsed else 0,
        "reached": stats.reached,
        "refused_exit2": stats.exit2,
        "findings": [f.__dict__ for f in findings.values()],
        "mode": opts["mode"],
        "seed": args.seed,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for f in sorted(findings.values(), key=lambda f: (f.kind, -f.count)):
        print(f"{f.kind:15} x{f.count:<5} {f.summary}")
    print(f"steps run: {stats.reached}; refused with a clear error (exit 2): {stats.exit2}")
    print(
        f"executions: {stats.executions}, time: {elapsed:.0f} s, crashes: {by_kind['crash'] + by_kind['internal-error']}"
        f" (internal errors {by_kind['internal-error']}, signals {by_kind['crash']}), hangs: {by_kind['hang']}, "
        f"memory: {by_kind['memory']}, plugin failures (warnings): "
        f"{sum(1 for f in findings.values() if f.kind == 'plugin-failure')}, "
        f"executions/s: {stats.executions / elapsed if elapsed else 0:.2f}"
    )
    return 1 if counted else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    p.add_argument("--max-execs", type=int, default=0, help="stop after this many executions (0: no limit)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same cases")
    p.add_argument("--out", type=Path, default=DEFAULT_WORK / "findings", help="where findings are saved")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch folder for the cases")
    p.add_argument("--mode", choices=("inproc", "cli"), default="inproc")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per execution before it is a hang")
    p.add_argument("--mem-limit-mb", type=int, default=2048, help="RLIMIT_AS of the process running Exhibit")
    p.add_argument("--rss-report-mb", type=int, default=1024, help="peak RSS reported as a memory finding")
    p.add_argument("--batch", type=int, default=50, help="executions per child process (inproc)")
    p.add_argument(
        "--workers", type=int, default=1, help="exhibit triage --workers (default 1: shared machine)"
    )
    p.add_argument(
        "--steps", default=",".join(STEPS), help=f"commands per execution (default {','.join(STEPS)})"
    )
    p.add_argument("--only", action="append", help="only seeds whose name contains this (or of this kind)")
    p.add_argument("--no-mutate", action="store_true", help="run the seeds as they are (a baseline)")
    p.add_argument("--plugin-failures-are-findings", action="store_true", dest="plugin_findings")
    p.add_argument("--replay", type=Path, help="run one saved case.json again")
    p.add_argument("--self-test", choices=SELF_TEST_FAULTS, help="plant a failing plugin; must be reported")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(json.loads(args.child))
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if not steps or steps[0] != "acquire" or any(s not in STEPS for s in steps):
        print(f"--steps must start with acquire and use only {', '.join(STEPS)}", file=sys.stderr)
        return 2
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    # Keys of the fuzzing actor stay in the work folder, never in the user's config.
    os.environ["EXHIBIT_CONFIG_DIR"] = str(work / "config")
    for var in ("EXHIBIT_CASE", "EXHIBIT_ACTOR", "EXHIBIT_KEY_PASSPHRASE", "EXHIBIT_DEBUG"):
        os.environ.pop(var, None)
    os.environ["PYTHONFAULTHANDLER"] = "1"  # cli mode: a segfault or SIGABRT prints the Python stack
    # Exhibit gives up a file system whose walk stops making progress (EXHIBIT_WALK_STALL_SECONDS,
    # 60 s by default, docs/examiner.md) and says so: keep that limit well inside one execution's
    # timeout, so a stopped walk is judged by what the user sees (the message), not as a hang.
    os.environ.setdefault("EXHIBIT_WALK_STALL_SECONDS", f"{max(args.timeout / 5, 1.0):g}")
    # Likewise for one file's read during triage (EXHIBIT_READ_STALL_SECONDS, triage/engine/stall.py).
    os.environ.setdefault("EXHIBIT_READ_STALL_SECONDS", f"{max(args.timeout / 5, 1.0):g}")
    if args.mode == "cli":
        os.environ["EXHIBIT_DEBUG"] = "1"
    opts: dict[str, Any] = {
        "work": str(work),
        "out": str(args.out.resolve()),
        "mode": args.mode,
        "timeout": args.timeout,
        "mem_mb": args.mem_limit_mb,
        "rss_report_mb": args.rss_report_mb,
        "batch": max(1, args.batch),
        "workers": args.workers,
        "steps": steps,
        "plugin_findings": args.plugin_findings,
        "log": str(work / f"child-{os.getpid()}.log"),
    }
    if args.self_test:
        os.environ["EXHIBIT_FUZZ_SELFTEST"] = args.self_test
        folder = make_selftest_plugin(work)
        os.environ["EXHIBIT_FUZZ_SELFTEST_DIR"] = str(folder)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
        args.only = args.only or ["Canon_40D"]
        args.no_mutate = True
    if args.replay:
        return replay(args.replay.resolve(), opts)
    return fuzz(opts, args)


if __name__ == "__main__":
    sys.exit(main())
