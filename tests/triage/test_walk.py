"""Library behaviour of the walk: options, FileEntry shape, JSON, partitions, local times, speed."""

from __future__ import annotations

import dataclasses
import json
import lzma
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, FORENSICS_SAMPLES, REPO, need
from triage.errors import EntryNotFound
from triage.sources.entry import FileEntry, entry_to_json, entry_to_json_line
from triage.sources.image_source import ImageSource
from triage.sources.open import list_entries, open_source, read_content

IMYND = CORPUS / "disk/dfvfs/ímynd.dd"


@pytest.fixture(scope="module")
def fs_exfat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = need(FORENSICS_SAMPLES / "fs.exfat.xz", "(apt-get install forensics-samples-exfat)")
    out = tmp_path_factory.mktemp("walk") / "fs.exfat"
    with lzma.open(src) as fin, open(out, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return out


def test_file_entry_is_frozen_with_slots() -> None:
    img = need(IMYND)
    entry = next(iter(list_entries(img)))
    assert type(entry) is FileEntry and dataclasses.is_dataclass(entry)
    assert not hasattr(entry, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.path = "/x"  # type: ignore[misc]
    assert entry == dataclasses.replace(entry)
    hash(entry)


def test_options_path_recursive_deleted() -> None:
    img = need(IMYND)
    top = {e.path for e in list_entries(img)}
    assert top == {"/lost+found", "/a_directory", "/passwords.txt", "/a_link", "/$OrphanFiles"}
    sub = {e.path for e in list_entries(img, "/a_directory")}
    assert sub == {
        "/a_directory/another_file",
        "/a_directory/a_file",
        "/a_directory/.another_file.swp",
        "/a_directory/another_file~",
    }
    deleted = {e.path for e in list_entries(img, recursive=True, deleted_only=True)}
    assert deleted == {"/a_directory/.another_file.swp", "/a_directory/another_file~"}
    with pytest.raises(EntryNotFound):
        list(list_entries(img, "/no/such/dir"))
    with pytest.raises(EntryNotFound):
        list(list_entries(img, "/passwords.txt"))


def test_ext_entry_fields() -> None:
    entries = {e.path: e for e in list_entries(need(IMYND), recursive=True)}
    e = entries["/passwords.txt"]
    assert (e.partition, e.fs_type, e.inode, e.type, e.size, e.deleted, e.realloc) == (
        0,
        "ext2",
        15,
        "file",
        116,
        False,
        False,
    )
    assert e.attr_type is None and e.stream is None and not e.times_local
    assert e.mtime is not None and e.mtime.endswith("Z") and e.mode is not None and e.uid is not None
    assert entries["/a_link"].type == "link"
    assert entries["/$OrphanFiles"].type == "virtual-dir"
    gone = entries["/a_directory/another_file~"]
    assert (gone.inode, gone.deleted, gone.size, gone.mtime) == (0, True, 0, None)


def test_json() -> None:
    for e in list_entries(need(IMYND), recursive=True):
        d = entry_to_json(e)
        assert {"partition", "path", "inode", "deleted", "type", "size"} <= set(d)
        assert json.loads(entry_to_json_line(e)) == d
        json.dumps(d)


def test_read_content_by_entry_and_by_address() -> None:
    img = need(IMYND)
    entries = {e.path: e for e in list_entries(img, recursive=True)}
    by_entry = b"".join(read_content(img, entries["/passwords.txt"]))
    by_addr = b"".join(read_content(img, partition=0, inode=15))
    assert by_entry == by_addr and len(by_entry) == 116
    small = list(read_content(img, entries["/passwords.txt"], chunk_size=10))
    assert b"".join(small) == by_entry and len(small) == 12
    with pytest.raises(EntryNotFound):
        b"".join(read_content(img, partition=12345, inode=15))


def test_partitioned_disk_and_local_times(fs_exfat: Path) -> None:
    """An MBR disk: one exFAT partition at 1 MiB; exFAT keeps wall-clock (local) times."""
    with ImageSource(fs_exfat) as src:
        assert src.volume_system == "dos"
        assert [(f.offset, f.fs_type) for f in src.filesystems] == [(1048576, "exfat")]
        entries = {e.path: e for e in src.entries(recursive=True, partition=1048576)}
    e = entries["/audio2/deleted.mp3"]
    assert e.partition == 1048576 and e.deleted and e.times_local
    assert e.mtime is not None and not e.mtime.endswith("Z") and "T" in e.mtime
    assert e.uid is None and e.mode is None


def test_fat_times_are_independent_of_process_time_zone(tmp_path: Path) -> None:
    """The same FAT entry shows the same wall-clock time whatever TZ the examiner's machine has."""
    import zipfile

    with zipfile.ZipFile(need(CORPUS / "disk/dftt/5-fat-daylight.zip")) as zf:
        image = tmp_path / "daylight.dd"
        image.write_bytes(zf.read("5-fat-daylight/daylight.dd"))
    code = (
        "import json,sys; from triage.sources.open import list_entries;"
        "print(json.dumps(sorted((e.path, e.mtime) for e in list_entries(sys.argv[1], recursive=True))))"
    )
    outs = []
    for tz in ("UTC", "America/New_York", "Asia/Kolkata"):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(image)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={"TZ": tz, "PATH": "/usr/bin:/bin"},
            check=True,
        )
        outs.append(json.loads(proc.stdout))
    assert outs[0] == outs[1] == outs[2]
    assert any(m for _, m in outs[0])


def test_logical_and_image_share_the_api(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with open_source(tmp_path) as src:
        assert [e.path for e in src.entries()] == ["/f.txt"]


def test_walk_speed_smoke(tmp_path: Path) -> None:
    """Not the benchmark (bench/ls_vs_fls.py): a 3,000-file ext4 walk must take well under a second."""
    mke2fs = shutil.which("mke2fs")
    if not mke2fs:
        pytest.skip("mke2fs is not installed")
    tree = tmp_path / "tree"
    for d in range(30):
        (tree / f"d{d}").mkdir(parents=True)
        for i in range(100):
            (tree / f"d{d}" / f"f{i}").write_bytes(b"x")
    img = tmp_path / "many.raw"
    subprocess.run(
        [mke2fs, "-q", "-F", "-t", "ext4", "-N", "4096", "-d", str(tree), str(img), "32M"], check=True
    )
    start = time.perf_counter()
    lines = [entry_to_json_line(e) for e in list_entries(img, recursive=True)]
    elapsed = time.perf_counter() - start
    assert len(lines) == 3000 + 30 + 2  # files, dirs, lost+found, $OrphanFiles
    assert elapsed < 2.0
