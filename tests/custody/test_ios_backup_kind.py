"""An iTunes/Finder backup folder is its own kind of evidence ("ios-backup"), hashed as a folder.

The backups here are built by tests/ios_backups.py from Apple's published format, not taken from
a real device (no redistributable real backup exists).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from custody.acquisition import acquire_source, differences, rehash
from custody.media import SOURCE_KINDS, detect_source, is_ios_backup
from tests.custody.test_acquisition import independent_manifest_sha256
from tests.ios_backups import DIRECTORY, FILE, Row, make_backup


def small_backup(root: Path, **kwargs: object) -> Path:
    rows = [
        Row("HomeDomain", "", DIRECTORY),
        Row("HomeDomain", "Library/Notes/readme.txt", FILE, b"meet at pier 7\n"),
        Row("MediaDomain", "Media/a.bin", FILE, bytes(range(256)) * 10),
    ]
    return make_backup(root, rows, **kwargs)  # type: ignore[arg-type]


def test_a_backup_folder_is_detected_and_a_plain_folder_stays_a_folder(tmp_path: Path) -> None:
    assert "ios-backup" in SOURCE_KINDS
    backup = small_backup(tmp_path / "backup")
    assert detect_source(backup) == "ios-backup"
    assert is_ios_backup(backup)
    plain = tmp_path / "plain"
    (plain / "sub").mkdir(parents=True)
    (plain / "sub" / "a.txt").write_bytes(b"a")
    assert detect_source(plain) == "folder"


@pytest.mark.parametrize(
    "damage",
    ["no-manifest-db", "no-plists", "no-hash-folders", "manifest-db-is-a-folder", "manifest-db-is-a-link"],
)
def test_only_the_whole_layout_makes_a_backup(tmp_path: Path, damage: str) -> None:
    """Manifest.db, a Manifest.plist or Info.plist, and hashed-name folders: all three, or a folder."""
    backup = small_backup(tmp_path / "backup")
    if damage == "no-manifest-db":
        (backup / "Manifest.db").unlink()
    elif damage == "no-plists":
        (backup / "Manifest.plist").unlink()
        (backup / "Info.plist").unlink()
    elif damage == "no-hash-folders":
        for sub in backup.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    f.rename(backup / ("x" + f.name))  # not 40 hex digits any more
                sub.rmdir()
    elif damage == "manifest-db-is-a-folder":
        (backup / "Manifest.db").unlink()
        (backup / "Manifest.db").mkdir()
    else:
        (backup / "Manifest.db").rename(tmp_path / "elsewhere.db")
        os.symlink(tmp_path / "elsewhere.db", backup / "Manifest.db")
    assert detect_source(backup) == "folder"


def test_either_plist_is_enough_and_the_flat_layout_of_old_backups_counts(tmp_path: Path) -> None:
    only_info = small_backup(tmp_path / "info")
    (only_info / "Manifest.plist").unlink()
    assert detect_source(only_info) == "ios-backup"
    flat = small_backup(tmp_path / "flat", flat=True)
    assert not any(p.is_dir() for p in flat.iterdir())
    assert detect_source(flat) == "ios-backup"


def test_a_folder_holding_a_backup_below_it_is_a_folder(tmp_path: Path) -> None:
    """MobileSync/Backup/<device>/ acquired from above is a folder: the kind is about the item itself."""
    small_backup(tmp_path / "MobileSync" / "Backup" / "00008110-0000")
    assert detect_source(tmp_path / "MobileSync") == "folder"


def test_a_backup_is_hashed_exactly_as_the_same_folder(tmp_path: Path) -> None:
    """Same method, every file (hashed names, Manifest.db, the plists): only the kind differs."""
    backup = small_backup(tmp_path / "backup")
    as_backup = acquire_source(backup)
    as_folder = acquire_source(backup, kind="folder")
    assert as_backup.kind == "ios-backup" and as_folder.kind == "folder"
    mine, theirs = as_backup.as_dict(), as_folder.as_dict()
    mine.pop("kind"), theirs.pop("kind")
    assert mine == theirs
    on_disk = sorted(
        str(p.relative_to(backup)) for p in backup.rglob("*") if p.is_file() and not p.is_symlink()
    )
    assert [m["path"] for m in as_backup.members or []] == on_disk
    assert len(on_disk) == 4 + 2  # Manifest.db, three plists, two hashed files
    assert as_backup.segments == []
    assert as_backup.manifest_sha256 == independent_manifest_sha256(
        [dict(m) for m in as_backup.members or []]
    )
    assert rehash("ios-backup", backup).hashes == as_backup.hashes
    assert differences(as_backup.as_dict(), rehash("ios-backup", backup)) == []


def test_existing_folder_acquisitions_are_unchanged(tmp_path: Path) -> None:
    """A plain folder is recorded as before: kind "folder", the manifest of its files, no segments
    (the expected manifest is written out here from the documented format)."""
    folder = tmp_path / "phone"
    (folder / "DCIM").mkdir(parents=True)
    (folder / "DCIM" / "a.jpg").write_bytes(b"jpeg")
    (folder / "notes.txt").write_bytes(b"notes\n")
    acq = acquire_source(folder)
    assert acq.kind == "folder"
    assert acq.segments == []
    jpeg, notes = hashlib.sha256(b"jpeg").hexdigest(), hashlib.sha256(b"notes\n").hexdigest()
    text = f"{jpeg}  4  DCIM/a.jpg\n{notes}  6  notes.txt\n"
    assert acq.hashes["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert acq.size == 10


def test_forcing_the_kind_on_a_plain_folder_is_recorded_as_forced(tmp_path: Path) -> None:
    """``--kind ios-backup`` is the examiner's decision; acquisition hashes the folder as always."""
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a").write_bytes(b"a")
    assert acquire_source(folder, kind="ios-backup").kind == "ios-backup"
