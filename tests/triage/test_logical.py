"""Folders, zips and tars: same FileEntry shape, never extracted, links never followed."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS, need, need_tool
from triage.errors import EntryNotFound, SourceUnreadable
from triage.sources.entry import FileEntry, entry_to_json
from triage.sources.logical import FolderSource, TarSource, ZipSource
from triage.sources.open import list_entries, open_source


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    (root / "DCIM" / "Camera").mkdir(parents=True)
    (root / "DCIM" / "Camera" / "IMG_0001.jpg").write_bytes(b"\xff\xd8jpeg")
    (root / "notes.txt").write_text("hello\n")
    (tmp_path / "outside-secret.txt").write_text("must never be read through a link\n")
    os.symlink(tmp_path / "outside-secret.txt", root / "link-out")
    os.symlink(tmp_path, root / "dirlink-out")
    os.symlink("notes.txt", root / "link-in")
    with open(os.path.join(os.fsencode(root), b"bad\xffname\x07"), "wb") as fh:
        fh.write(b"weird")
    return root


def test_folder_listing_and_links(tree: Path) -> None:
    with open_source(tree) as src:
        assert isinstance(src, FolderSource)
        entries = {e.path: e for e in src.entries(recursive=True)}
        assert set(entries) == {
            "/DCIM",
            "/DCIM/Camera",
            "/DCIM/Camera/IMG_0001.jpg",
            "/notes.txt",
            "/link-out",
            "/dirlink-out",
            "/link-in",
            "/bad\\xffname\\x07",
        }
        e = entries["/notes.txt"]
        assert (e.partition, e.fs_type, e.inode, e.type, e.size, e.deleted) == (
            None,
            "folder",
            None,
            "file",
            6,
            False,
        )
        assert e.mtime and e.mtime.endswith("Z") and e.mode is not None
        assert entries["/link-out"].type == "link" and entries["/dirlink-out"].type == "link"
        # a link's content is its target, never the file it points to
        assert b"".join(src.read(entries["/link-out"])) == os.fsencode(tree.parent / "outside-secret.txt")
        assert b"".join(src.read(entries["/link-in"])) == b"notes.txt"
        assert b"".join(src.read(entries["/bad\\xffname\\x07"])) == b"weird"
        assert entries["/bad\\xffname\\x07"].name_bytes == b"bad\xffname\x07"
        assert b"".join(src.read(entries["/DCIM/Camera/IMG_0001.jpg"])) == b"\xff\xd8jpeg"
        top = {e.path for e in src.entries()}
        assert "/DCIM/Camera" not in top and "/DCIM" in top
        assert {e.path for e in src.entries("/DCIM")} == {"/DCIM/Camera"}
        assert list(src.entries(recursive=True, deleted_only=True)) == []


def test_folder_refuses_paths_out(tree: Path) -> None:
    with FolderSource(tree) as src:
        fake = FileEntry(None, "folder", "/../outside-secret.txt", "x", b"x", None, "file", 1, False)
        with pytest.raises(EntryNotFound):
            b"".join(src.read(fake))
        fake = FileEntry(None, "folder", "/dirlink-out/outside-secret.txt", "x", b"x", None, "file", 1, False)
        with pytest.raises(EntryNotFound):
            b"".join(src.read(fake))


def make_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sdcard/DCIM/a.jpg", b"\xff\xd8zip-jpeg")
        zf.writestr("../../escape.txt", b"traversal attempt")
        zf.writestr("/abs/root.txt", b"absolute")
        zf.writestr("emptydir/", b"")
        info = zipfile.ZipInfo("sdcard/link")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")


def test_zip_never_extracts(tmp_path: Path) -> None:
    archive = tmp_path / "phone.zip"
    make_zip(archive)
    before = snapshot(tmp_path)
    with open_source(archive) as src:
        assert isinstance(src, ZipSource)
        entries = {e.path: e for e in src.entries(recursive=True)}
        # "..": a component shown escaped, never a path that climbs (as in iOS backups)
        assert {"/sdcard", "/sdcard/DCIM", "/sdcard/DCIM/a.jpg", "/\\x2e\\x2e/\\x2e\\x2e/escape.txt"} <= set(
            entries
        )
        assert {"/abs/root.txt", "/emptydir", "/sdcard/link"} <= set(entries)
        jpeg = entries["/sdcard/DCIM/a.jpg"]
        assert (jpeg.fs_type, jpeg.partition, jpeg.type, jpeg.size, jpeg.times_local) == (
            "zip",
            None,
            "file",
            10,
            True,
        )
        assert isinstance(jpeg.inode, int)
        assert b"".join(src.read(jpeg)) == b"\xff\xd8zip-jpeg"
        assert entries["/sdcard/link"].type == "link"
        assert b"".join(src.read(entries["/sdcard/link"])) == b"/etc/passwd"
        assert b"".join(src.read(entries["/\\x2e\\x2e/\\x2e\\x2e/escape.txt"])) == b"traversal attempt"
        assert {e.path for e in src.entries("/sdcard")} == {"/sdcard/DCIM", "/sdcard/link"}
    assert snapshot(tmp_path) == before
    assert not (tmp_path.parent / "escape.txt").exists()


def test_tar_gz_with_symlink(tmp_path: Path) -> None:
    archive = tmp_path / "extraction.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = b"sqlite-ish"
        info = tarfile.TarInfo("data/data/com.whatsapp/databases/msgstore.db")
        info.size, info.mtime, info.mode = len(data), 1_600_000_000, 0o600
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("data/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc/shadow"
        tf.addfile(link)
    before = snapshot(tmp_path)
    entries = {e.path: e for e in list_entries(archive, recursive=True)}
    db = entries["/data/data/com.whatsapp/databases/msgstore.db"]
    assert (db.fs_type, db.type, db.size, db.mode, db.mtime) == (
        "tar",
        "file",
        10,
        0o600,
        "2020-09-13T12:26:40Z",
    )
    with TarSource(archive) as src:
        assert b"".join(src.read(db)) == b"sqlite-ish"
        assert b"".join(src.read(entries["/data/evil"])) == b"../../../../etc/shadow"
    assert snapshot(tmp_path) == before
    assert entry_to_json(db)["path"] == "/data/data/com.whatsapp/databases/msgstore.db"


def test_a_hard_link_in_a_tar_has_its_target_members_content(tmp_path: Path) -> None:
    """Review: a hard link member was listed as a link of size 0 and read as its target's name,
    so its content reached no hash, hash set or plugin. tar -x gives it the content of the earlier
    member it names (oracle: ``tar -xf`` here, and tarfile's ``extractfile``); a hard link to a
    name the archive does not hold stays a link, and a symbolic link is never followed."""
    archive = tmp_path / "links.tar"
    data = b"REAL CONTENT: meet at pier 7\n"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("./notes/real.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        for name, kind, target in (
            ("notes/hl.txt", tarfile.LNKTYPE, "notes/real.txt"),
            ("notes/dangling.txt", tarfile.LNKTYPE, "notes/not-in-the-archive.txt"),
            ("notes/sym.txt", tarfile.SYMTYPE, "real.txt"),
        ):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = kind, target
            tf.addfile(link)
    out = tmp_path / "extracted"
    out.mkdir()
    need_tool("tar")
    subprocess.run(
        ["tar", "-xf", str(archive), "-C", str(out), "./notes/real.txt", "notes/hl.txt"], check=True
    )
    assert (out / "notes/hl.txt").read_bytes() == data
    with tarfile.open(archive) as tf:
        extracted = tf.extractfile("notes/hl.txt")
        assert extracted is not None and extracted.read() == data
    entries = {e.path: e for e in list_entries(archive, recursive=True)}
    hard = entries["/notes/hl.txt"]
    assert (hard.type, hard.size) == ("file", len(data))
    assert (entries["/notes/dangling.txt"].type, entries["/notes/sym.txt"].type) == ("link", "link")
    with TarSource(archive) as src:
        assert b"".join(src.read(hard)) == data
        assert b"".join(src.read(entries["/notes/dangling.txt"])) == b"notes/not-in-the-archive.txt"
        assert b"".join(src.read(entries["/notes/sym.txt"])) == b"real.txt"


def test_a_tar_of_a_folder_made_with_dot_lists_its_files_from_the_root(tmp_path: Path) -> None:
    """``tar -C dir -cf x.tar .`` (how a phone's file system is often packed) names every member
    ``./a/b``: listed as ``/a/b`` (it was under a folder ``/.``), as ``tar -t`` and ``tar -x``
    read it; a ``./`` inside a zip name too."""
    need_tool("tar")
    tree = tmp_path / "tree" / "data" / "data"
    tree.mkdir(parents=True)
    (tree / "msgstore.db").write_bytes(b"db")
    archive = tmp_path / "extraction.tar"
    subprocess.run(["tar", "-C", str(tmp_path / "tree"), "-cf", str(archive), "."], check=True)
    listed = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert "./data/data/msgstore.db" in listed.split()
    paths = {e.path: e for e in list_entries(archive, recursive=True)}
    assert set(paths) == {"/data", "/data/data", "/data/data/msgstore.db"}
    with TarSource(archive) as src:
        assert b"".join(src.read(paths["/data/data/msgstore.db"])) == b"db"
    zipped = tmp_path / "dots.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("./c.txt", b"c")
        zf.writestr("d/./e.txt", b"e")
    assert {e.path for e in list_entries(zipped, recursive=True)} == {"/c.txt", "/d", "/d/e.txt"}


def test_plain_tar_detected_by_content(tmp_path: Path) -> None:
    archive = tmp_path / "no-extension"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("x.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with open_source(archive) as src:
        assert src.kind == "tar"


def test_broken_zip_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SourceUnreadable) as info:
        open_source(archive, "zip")
    assert "broken.zip" in str(info.value)
    with open_source(archive) as src:  # not a zip to acquisition either: one file, hashed as it is
        assert src.kind == "file"
        assert [e.path for e in src.entries(recursive=True)] == ["/broken.zip"]


def test_dftt8_embedded_archives_published_md5(tmp_path: Path) -> None:
    """DFTT #8: the JPEGs inside file8.zip and file10.tar.gz, read from the image, then as logical sources."""
    zipped = need(CORPUS / "disk/dftt/8-jpeg-search.zip")
    with zipfile.ZipFile(zipped) as zf:
        image = tmp_path / "8-jpeg-search.dd"
        image.write_bytes(zf.read("8-jpeg-search/8-jpeg-search.dd"))
    with open_source(image) as src:
        entries = {e.path: e for e in src.entries("/archive")}
        for name in ("file8.zip", "file10.tar.gz"):
            (tmp_path / name).write_bytes(b"".join(src.read(entries[f"/archive/{name}"])))
    md5 = {}
    for name in ("file8.zip", "file10.tar.gz"):
        with open_source(tmp_path / name) as inner:
            for e in inner.entries(recursive=True):
                if e.type == "file":
                    md5[e.path.rsplit("/", 1)[-1]] = hashlib.md5(b"".join(inner.read(e))).hexdigest()
    assert md5["file8.jpg"] == "f9956284a89156ef6967b49eced9d1b1"
    assert md5["file10.jpg"] == "c476a66ccdc2796b4f6f8e27273dd788"


def test_zip_member_with_an_empty_name_is_recorded_not_fatal(tmp_path: Path) -> None:
    """Found by bench/fuzz_triage.py: zipfile's ``is_dir()`` raises IndexError on a member whose
    name is empty, which ended acquisition (and the triage walk) as an internal error. zipfile also
    cuts a name at its first NUL, so ``"\\x00abc"`` has an empty ``filename`` but a raw name."""
    from custody.acquisition import acquire_source

    archive = tmp_path / "nameless.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("a.txt"), b"hello")
        zf.writestr(zipfile.ZipInfo(""), b"nameless content")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(zipfile.ZipInfo("Nabc"), b"named after a NUL")
    data = archive.read_bytes()
    assert data.count(b"Nabc") == 2  # local and central headers: make the name start with NUL
    archive.write_bytes(data.replace(b"Nabc", b"\x00abc"))
    acquisition = acquire_source(archive)
    assert [m["path"] for m in acquisition.members or []] == ["a.txt"]
    assert acquisition.skipped == [{"path": "", "type": "nameless", "target": None}] * 2
    with open_source(archive) as src:
        entries = {e.path: e for e in src.entries(recursive=True)}
        assert set(entries) == {"/a.txt", "/\\x00abc"}
        assert b"".join(src.read(entries["/\\x00abc"])) == b"named after a NUL"
        assert [(w.path, w.problem) for w in src.warnings] == [("member #1", "member has an empty name")]


def test_zip_member_whose_local_name_is_not_utf8(tmp_path: Path) -> None:
    """Found by bench/fuzz_triage.py: a member flagged UTF-8 whose local header name is not UTF-8
    made zipfile raise UnicodeDecodeError while opening it, which ended acquisition as an internal
    error. It is now an unreadable member (recorded with the reason), and the walk warns."""
    from custody.acquisition import acquire_source

    archive = tmp_path / "badname.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("ok.txt"), b"fine")
        zf.writestr(zipfile.ZipInfo("\u00e9.txt"), b"content")  # non-ASCII: flagged UTF-8
    data = bytearray(archive.read_bytes())
    at = data.index("\u00e9.txt".encode())  # the first copy is the local header's
    data[at] = 0xFF  # b"\xff\xa9.txt": not UTF-8, same length
    archive.write_bytes(bytes(data))
    acquisition = acquire_source(archive)
    members = {m["path"]: m for m in acquisition.members or []}
    assert members["ok.txt"]["sha256"] == hashlib.sha256(b"fine").hexdigest()
    bad = members["\u00e9.txt"]
    assert bad["sha256"] is None and "unreadable member" in (bad["error"] or "")
    with open_source(archive) as src:
        entries = {e.path: e for e in src.entries(recursive=True)}
        with pytest.raises(SourceUnreadable):
            b"".join(src.read(entries["/\u00e9.txt"]))


def test_zip_symlink_member_whose_data_is_damaged(tmp_path: Path) -> None:
    """Found by bench/fuzz_triage.py (during issue 8): a symbolic-link member whose local header is
    damaged made zipfile raise BadZipFile while acquisition read the link's target, an internal
    error. The link is now recorded without its target, and the rest of the archive is hashed."""
    from custody.acquisition import acquire_source

    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("photos/latest.jpg")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, b"IMG_0001.jpg")
        zf.writestr(zipfile.ZipInfo("notes.txt"), b"pier 7")
    data = bytearray(archive.read_bytes())
    data[0:4] = b"PK\x00\x00"  # the link's local header signature (the first member's) destroyed
    archive.write_bytes(bytes(data))
    acquisition = acquire_source(archive, kind="zip")
    assert [(s["path"], s["type"], s["target"]) for s in acquisition.skipped or []] == [
        ("photos/latest.jpg", "symlink", None)
    ]
    [notes] = acquisition.members or []
    assert notes["path"] == "notes.txt" and notes["sha256"] == hashlib.sha256(b"pier 7").hexdigest()
    with open_source(archive, "zip") as src:
        entries = {e.path: e for e in src.entries(recursive=True)}
        assert b"".join(src.read(entries["/notes.txt"])) == b"pier 7"
