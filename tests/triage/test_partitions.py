"""GPT and MBR-with-extended-partition disks built with real tools (sfdisk, mkfs.fat, mke2fs,
mtools): every file system in every partition is found and listed exactly as ``fls -o`` does."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tests.triage.test_oracle import our_keys, parse_fls, run_tool
from triage.sources.open import list_entries, open_source

SECTOR = 512


def make_fat(
    image: Path,
    start: int,
    sectors: int,
    files: dict[str, bytes],
    delete: tuple[str, ...] = (),
    bits: int = 32,
) -> None:
    need_tool("mkfs.fat")
    need_tool("mcopy")
    subprocess.run(
        ["mkfs.fat", "-F", str(bits), "--offset", str(start), "-n", "EXHIBIT", str(image), str(sectors // 2)],
        check=True,
        capture_output=True,
    )
    target = f"{image}@@{start * SECTOR}"
    for name, data in files.items():
        src = image.parent / f"src-{start}-{name.replace('/', '_')}"
        src.write_bytes(data)
        if "/" in name:
            subprocess.run(
                ["mmd", "-D", "s", "-i", target, "::/" + name.rsplit("/", 1)[0]], capture_output=True
            )
        subprocess.run(["mcopy", "-i", target, str(src), "::/" + name], check=True, capture_output=True)
    for name in delete:
        subprocess.run(["mdel", "-i", target, "::/" + name], check=True, capture_output=True)


def make_ext4(image: Path, start: int, sectors: int, tree: Path) -> None:
    need_tool("mke2fs")
    subprocess.run(
        [
            "mke2fs",
            "-q",
            "-t",
            "ext4",
            "-E",
            f"offset={start * SECTOR}",
            "-d",
            str(tree),
            "-F",
            str(image),
            f"{sectors * SECTOR // 1024}k",
        ],
        check=True,
        capture_output=True,
    )


def partition(image: Path, script: str) -> None:
    need_tool("sfdisk")
    subprocess.run(["sfdisk", "-q", str(image)], input=script.encode(), check=True, capture_output=True)


def check_against_fls(image: Path, starts: list[int]) -> None:
    need_tool("fls")
    entries = list(list_entries(image, recursive=True))
    found = sorted({e.partition for e in entries})
    assert found == [s * SECTOR for s in starts]
    for start in starts:
        ours = [e for e in entries if e.partition == start * SECTOR]
        expected = parse_fls(
            run_tool("fls", "-r", "-p", "-o", str(start), str(image)).decode("utf-8", "surrogateescape")
        )
        assert our_keys(ours) == expected, start
    with open_source(image) as source:  # content of every allocated file equals icat's
        for e in entries:
            if e.type == "file" and not e.deleted:
                icat = run_tool("icat", "-o", str(e.partition // SECTOR), str(image), e.address)
                assert hashlib.sha256(b"".join(source.read(e))).digest() == hashlib.sha256(icat).digest(), (
                    e.path
                )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "home" / "user").mkdir(parents=True)
    (root / "home" / "user" / "chat.txt").write_bytes(b"see you at the docks\n" * 50)
    (root / "readme").write_bytes(b"linux partition\n")
    return root


def test_gpt_disk_with_fat_and_ext4(tmp_path: Path, tree: Path) -> None:
    image = tmp_path / "gpt.img"
    image.write_bytes(b"")
    with open(image, "r+b") as fh:
        fh.truncate(48 * 1024 * 1024)
    partition(
        image,
        "label: gpt\n"
        "start=2048, size=73728, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n"
        "start=77824, size=16384, type=0FC63DAF-8483-4772-8E79-3D8477DE4709\n",
    )
    make_fat(
        image,
        2048,
        73728,
        {
            "DCIM/IMG_0001.JPG": b"\xff\xd8\xff" + b"x" * 5000,
            "notes.txt": b"hello\n",
            "gone.txt": b"deleted later\n",
        },
        delete=("gone.txt",),
    )
    make_ext4(image, 77824, 16384, tree)
    check_against_fls(image, [2048, 77824])
    names = {e.path for e in list_entries(image, recursive=True)}
    assert "/home/user/chat.txt" in names and "/DCIM/IMG_0001.JPG" in names


def test_mbr_with_extended_and_logical_partitions(tmp_path: Path, tree: Path) -> None:
    image = tmp_path / "mbr.img"
    with open(image, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    partition(
        image,
        "label: dos\n"
        "start=2048, size=73728, type=c\n"
        "start=77824, size=51200, type=5\n"
        "start=79872, size=16384, type=83\n"
        "start=98304, size=28672, type=6\n",
    )
    make_fat(image, 2048, 73728, {"primary.txt": b"in the primary partition\n"})
    make_ext4(image, 79872, 16384, tree)
    make_fat(image, 98304, 28672, {"logical.txt": b"in a logical partition\n"}, bits=16)
    mmls = run_tool("mmls", str(image)).decode()
    assert "Extended" in mmls
    check_against_fls(image, [2048, 79872, 98304])
