"""The Sleuth Kit's command-line tools are the oracle for the walk and for content reading.

For every disk image of the corpus (DFTT, dfvfs) and the three Debian forensics-samples disks:

* the set of (path, meta address incl. NTFS type-id, deleted, realloc) from ``list_entries`` equals
  what the real ``fls -r -p`` prints on the same image, and what groundtruth/*.fls.txt recorded;
* sizes equal ``fls -r -m /`` (bodyfile);
* the SHA-256 of every regular file equals groundtruth icat.tsv (made with ``icat``), spot-checked
  with a real ``icat`` run, and real ``icat`` for the images without a tsv;
* DFTT #6/#7/#8 files have their published MD5s;
* dfvfs ext2.E01 == ext2.split.E01 == ext2.splitraw (same entries, same hashes).

Exclusions, all explicit below:

* none from ``fls -r -p``: TSK's virtual entries ($MBR, $FAT1, $FAT2, $OrphanFiles) are *kept* in
  the walk, because examiners use them (and ``icat`` reads them), so the comparison is exact;
* bodyfile lines ending in `` ($FILE_NAME)`` are not entries: they are the second set of NTFS time
  stamps of an entry already listed, so they are skipped when reading sizes;
* fls prints control characters of names as ``^``; our display path escapes them reversibly, so
  the comparison turns our raw name bytes into fls's form (and nothing else).
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import CORPUS, need, need_tool
from tests.triage.images import IMAGES, Workspace
from triage.sanitize import display_to_bytes
from triage.sources.entry import FileEntry
from triage.sources.open import open_source
from triage.views.listing import write_listing

GROUNDTRUTH = CORPUS / "groundtruth"


# --------------------------------------------------------------------------------------------------
# fls parsing

FLS_LINE = re.compile(r"^(\S)/(\S) (\* )?(\d+)(?:-(\d+)-(\d+))?(\(realloc\))?:\t(.*)$")
Key = tuple[str, str, bool, bool]  # fls path, address, deleted, realloc


def parse_fls(text: str) -> set[Key]:
    return set(parse_fls_types(text))


def parse_fls_types(text: str) -> dict[Key, str]:
    """fls lines → {key: meta type letter} ('r' regular, 'd' dir, '-' no metadata, ...)."""
    keys: dict[Key, str] = {}
    for line in text.splitlines():
        m = FLS_LINE.match(line)
        assert m, f"unexpected fls line {line!r}"
        addr = m[4] if m[5] is None else f"{m[4]}-{m[5]}-{m[6]}"
        keys[(m[8], addr, bool(m[3]), bool(m[7]))] = m[2]
    return keys


def fls_path(entry: FileEntry) -> str:
    """Our path as fls -p prints it: no leading '/', control bytes shown as '^' (tsk_print_sanitized)."""
    raw = display_to_bytes(entry.path[1:])
    return bytes(b if b >= 0x20 else 0x5E for b in raw).decode("utf-8", "surrogateescape")


def our_keys(entries: list[FileEntry]) -> set[Key]:
    return {(fls_path(e), e.address, e.deleted, e.realloc) for e in entries}


def run_tool(*args: str) -> bytes:
    return subprocess.run(list(args), capture_output=True, check=True, timeout=120).stdout


# --------------------------------------------------------------------------------------------------
# listings


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_listing_equals_real_fls(workspace: Workspace, image_id: str) -> None:
    need_tool("fls")
    prep = workspace.get(image_id)
    expected = parse_fls(
        run_tool("fls", "-r", "-p", *prep.fls_opts(), *prep.tool_args).decode("utf-8", "replace")
    )
    ours = our_keys(prep.entries())
    assert ours == expected, f"fls only: {sorted(expected - ours)}; ours only: {sorted(ours - expected)}"
    assert len(prep.entries()) == len(ours), "the walk yielded the same entry twice"


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES if i.groundtruth])
def test_listing_equals_groundtruth_fls(workspace: Workspace, image_id: str) -> None:
    prep = workspace.get(image_id)
    gt = need(GROUNDTRUTH / prep.img.gt_dir / f"{prep.img.groundtruth}.fls.txt")
    expected = parse_fls(gt.read_text("utf-8", "replace"))
    assert our_keys(prep.entries()) == expected


def bodyfile_name(fields: list[str]) -> str:
    """The name field of a bodyfile line without TSK's " (deleted)" / " (deleted-realloc)" suffix,
    and without the " -> target" TSK appends to symbolic links."""
    name = re.sub(r" \((deleted|deleted-realloc)\)$", "", "|".join(fields[1:-9]))
    if fields[-8].startswith("l/"):
        name = name.split(" -> ", 1)[0]
    return name


#: fls 4.11 turns an NTFS FILETIME of 0 into 2076-11-29 08:54:34 (unsigned wrap-around of
#: (0 - 116444736000000000) / 10**7); TSK 4.15, which pytsk3 links, reports 0, which we show as None.
#: fs.ntfs's $MFT has such a zero time stamp. This is the only time stamp excluded.
TSK411_NTFS_ZERO_TIME = 3373865674


def parse_bodyfile(text: str) -> dict[tuple[str, str], set[int]]:
    sizes: dict[tuple[str, str], set[int]] = {}
    for line in text.splitlines():
        fields = line.split("|")
        name, addr, size = bodyfile_name(fields), fields[-9], int(fields[-5])
        if name.endswith(" ($FILE_NAME)"):
            continue  # NTFS $FILE_NAME time stamps of an entry listed on its own line (see module doc)
        sizes.setdefault((name.lstrip("/"), addr), set()).add(size)
    return sizes


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_sizes_equal_fls_bodyfile(workspace: Workspace, image_id: str) -> None:
    need_tool("fls")
    prep = workspace.get(image_id)
    body = parse_bodyfile(
        run_tool("fls", "-r", "-m", "/", *prep.fls_opts(), *prep.tool_args).decode("utf-8", "replace")
    )
    ours: dict[tuple[str, str], set[int]] = {}
    for e in prep.entries():
        ours.setdefault((fls_path(e), e.address), set()).add(e.size)
    assert ours == body


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_mtimes_equal_fls_bodyfile(workspace: Workspace, image_id: str) -> None:
    """mtime of every entry equals ``fls -m``'s: as a UTC instant, or for local-time file systems
    (FAT, exFAT, ISO 9660) as the wall clock ``fls`` derived in this same process time zone."""
    need_tool("fls")
    prep = workspace.get(image_id)
    body = run_tool("fls", "-r", "-m", "/", *prep.fls_opts(), *prep.tool_args).decode("utf-8", "replace")
    mtimes: dict[tuple[str, str], int] = {}
    for line in body.splitlines():
        fields = line.split("|")
        name = bodyfile_name(fields)
        if not name.endswith(" ($FILE_NAME)"):
            mtimes[(name.lstrip("/"), fields[-9])] = int(fields[-3])
    for e in prep.entries():
        want = mtimes[(fls_path(e), e.address)]
        if want == TSK411_NTFS_ZERO_TIME and e.mtime is None:
            continue  # see TSK411_NTFS_ZERO_TIME
        if not want:
            assert e.mtime is None, e.path
        elif e.times_local:
            assert e.mtime is not None and e.mtime.split(".")[0] == time.strftime(
                "%Y-%m-%dT%H:%M:%S", time.localtime(want)
            )
        else:
            assert e.mtime is not None
            assert int(datetime.fromisoformat(e.mtime.replace("Z", "+00:00")).timestamp()) == want, e.path


# --------------------------------------------------------------------------------------------------
# content


def sha256_of(chunks: Iterator[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def parse_icat_tsv(path: Path) -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in path.read_text("utf-8", "replace").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        sha, _md5, _size, addr, _status, name = line.split("\t", 5)
        rows[(name, addr)] = sha
    return rows


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_content_equals_icat(workspace: Workspace, image_id: str) -> None:
    """Every regular file's SHA-256 equals icat's (groundtruth tsv, else the real icat on each)."""
    need_tool("icat")
    prep = workspace.get(image_id)
    listing = parse_fls_types(
        run_tool("fls", "-r", "-p", *prep.fls_opts(), *prep.tool_args).decode("utf-8", "replace")
    )
    # what icat can read: entries whose metadata is a regular file ("r/r", "-/r"); "r/-" names point
    # to no metadata at all (ext2 zeroes the inode number of deleted names).
    files = [e for e in prep.entries() if listing[(fls_path(e), e.address, e.deleted, e.realloc)] == "r"]
    assert files, "no regular file found"
    tsv = GROUNDTRUTH / prep.img.gt_dir / f"{prep.img.groundtruth}.icat.tsv" if prep.img.groundtruth else None
    with open_source(prep.path) as src:
        ours = {(fls_path(e), e.address): sha256_of(src.read(e)) for e in files}
    if tsv is not None and tsv.exists():
        expected = parse_icat_tsv(tsv)
        missing = set(expected) - set(ours)
        assert not missing, f"icat.tsv entries not found by the walk: {sorted(missing)}"
        # ICAT_FAILED: icat refuses MFT entries without any $DATA attribute (fs.ntfs orphans holding
        # only $STANDARD_INFORMATION); we read them as empty content instead of failing.
        empty = hashlib.sha256(b"").hexdigest()
        readable = sorted(k for k, v in expected.items() if v != "ICAT_FAILED")
        expected = {k: (empty if v == "ICAT_FAILED" else v) for k, v in expected.items()}
        assert {k: ours[k] for k in expected} == expected
        spot = readable[:: max(1, len(readable) // 3)][:3]  # and a real icat run on a few
    else:
        spot = sorted(ours)
    for name, addr in spot:
        real = hashlib.sha256(run_tool("icat", *prep.fls_opts(), *prep.tool_args, addr)).hexdigest()
        assert ours[(name, addr)] == real, f"{name} ({addr}) differs from icat"


def md5_by_path(workspace: Workspace, image_id: str) -> dict[str, str]:
    prep = workspace.get(image_id)
    with open_source(prep.path) as src:
        out = {}
        for e in prep.entries():
            if e.type == "file":
                h = hashlib.md5()
                for chunk in src.read(e):
                    h.update(chunk)
                out[e.path] = h.hexdigest()
        return out


def test_dftt6_fat_published_md5(workspace: Workspace) -> None:
    """DFTT #6 index.html. TSK renames deleted FAT names' first letter to '_' (the byte is gone).

    frag1-3 are fragmented deleted files: FAT keeps no run list for them, so TSK (and icat) recover
    the naive contiguous clusters, which DFTT documents as the "incorrect" MD5s. We assert icat's
    behaviour; the correct MD5 would need carving, which is not what a listing/read does.
    """
    md5 = md5_by_path(workspace, "dftt6-fat")
    assert md5["/_ing.dat"] == "59b20779f69ff9f0ac5fcd2c38835a79"
    assert md5["/_ult1.dat"] == "ffd27bd782bdce67750b6b9ee069d2ef"
    assert md5["/_ir1/mult2.dat"] == "59cf0e9cd107bc1e75afb7374f6e05bb"
    published_or_naive = {
        "/_rag1.dat": {"7a3bc5b763bef201202108f4ba128149", "c4f3b9a0f17d464f4fc61b94ecf6cc21"},
        "/_rag2.dat": {"0e80ab84ef0087e60dfc67b88a1cf13e", "965370acfa85aa7e26ab04bbd45cdcae"},
        "/_ir1/dir2/frag3.dat": {"21121699487f3fbbdb9a4b3391b6d3e0", "a7a14ac62f79fdea4056ed5e8bcf97ef"},
    }
    for path, allowed in published_or_naive.items():
        assert md5[path] in allowed, path


def test_dftt7_ntfs_published_md5(workspace: Workspace) -> None:
    """DFTT #7: deleted files, an ADS, a resident file and an orphan (dir3's MFT entry reused)."""
    md5 = md5_by_path(workspace, "dftt7-ntfs")
    assert md5 == {
        **{k: v for k, v in md5.items() if k.startswith("/$") and not k.startswith("/$OrphanFiles")},
        "/System Volume Information/tracking.log": md5["/System Volume Information/tracking.log"],
        "/res1.dat": "9036637712b491904cd0bfbdbe648453",
        "/sing1.dat": "59b20779f69ff9f0ac5fcd2c38835a79",
        "/mult1.dat": "ffd27bd782bdce67750b6b9ee069d2ef",
        "/mult1.dat:ADS": "ba1b9eedb1c091ddca253d35dde8f616",
        "/frag1.dat": "7a3bc5b763bef201202108f4ba128149",
        "/frag2.dat": "0e80ab84ef0087e60dfc67b88a1cf13e",
        "/dir1/mult2.dat": "59cf0e9cd107bc1e75afb7374f6e05bb",
        "/dir1/dir2/frag3.dat": "21121699487f3fbbdb9a4b3391b6d3e0",
        "/$OrphanFiles/sing2.dat": "c229626f6a71b167ad7e50c4f2fccdb1",
    }
    entries = {e.path: e for e in workspace.get("dftt7-ntfs").entries()}
    assert entries["/res1.dat"].inode == 37 and entries["/res1.dat"].deleted
    ads = entries["/mult1.dat:ADS"]
    assert (ads.inode, ads.attr_type, ads.attr_id, ads.stream, ads.size) == (32, 128, 6, "ADS", 1234)


def test_dftt8_ntfs_published_md5(workspace: Workspace) -> None:
    md5 = md5_by_path(workspace, "dftt8-ntfs")
    published = {
        "/alloc/file1.jpg": "75b8d00568815a36c3809b46fc84ba6d",
        "/alloc/file2.dat": "de5d83153339931371719f4e5c924eba",
        "/invalid/file3.jpg": "1ba4e91591f0541eda255ee26f7533bc",
        "/invalid/file4.jpg": "c8de721102617158e8492121bdad3711",
        "/invalid/file5.rtf": "86f14fc525648c39d878829f288c0543",
        "/del1/file6.jpg": "afd55222024a4e22f7f5a3a665320763",
        "/del2/file7.hmm": "0c452c5800fcfa7c66027ae89c4f068a",
        "/archive/file8.zip": "d41b56e0a9f84eb2825e73c24cedd963",
        "/archive/file9.boo": "73c3029066aee9416a5aeb98a5c55321",
        "/archive/file10.tar.gz": "d4f8cf643141f0c2911c539750e18ef2",
        "/misc/file11.dat": "f407ab92da959c7ab03292cfe596a99d",
        "/misc/file12.doc": "61c0b55639e52d1ce82aba834ada2bab",
        "/misc/file13.dll:here": "9b787e63e3b64562730c5aecaab1e1f8",
    }
    assert {k: md5[k] for k in published} == published


def test_dfvfs_ext2_containers_agree(workspace: Workspace) -> None:
    """One file system in three containers: same entries, same content, same media hash."""
    listings = []
    for image_id in ("dfvfs-ext2-e01", "dfvfs-ext2-split-e01", "dfvfs-ext2-splitraw"):
        prep = workspace.get(image_id)
        with open_source(prep.path) as src:
            listings.append(
                {
                    (e.path, e.inode, e.deleted, e.size, e.mtime): (
                        sha256_of(src.read(e)) if e.type == "file" else None
                    )
                    for e in src.entries(recursive=True)
                }
            )
    assert listings[0] == listings[1] == listings[2]
    assert len(listings[0]) == 7


def _as_fls_prints(line: str) -> str:
    """Our plain ``ls`` line with the path as fls -p prints it (see fls_path)."""
    head, path = line.split(":\t", 1)
    raw = display_to_bytes(path)
    return head + ":\t" + bytes(b if b >= 0x20 else 0x5E for b in raw).decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_plain_ls_prints_what_fls_prints(workspace: Workspace, image_id: str) -> None:
    """``exhibit ls -r`` (plain) is line for line ``fls -r -p``: type column, '*', address,
    '(realloc)', path, in the same order."""
    need_tool("fls")
    prep = workspace.get(image_id)
    fls = run_tool("fls", "-r", "-p", *prep.fls_opts(), *prep.tool_args).decode("utf-8", "surrogateescape")
    for fast in (True, False):
        out = io.StringIO()
        write_listing(
            prep.path, None, recursive=True, deleted_only=False, partition=prep.offset, as_json=False,
            known={}, write=out.write, warnings=[], fast=fast,
        )  # fmt: skip
        assert [_as_fls_prints(x) for x in out.getvalue().splitlines()] == fls.splitlines(), f"fast={fast}"
