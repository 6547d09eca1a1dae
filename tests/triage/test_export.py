"""Exporting files with hostile names from a real ext4 image: everything lands inside --to,
the copies hash like icat's output, and the export is a signed ledger entry."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import need_tool
from triage.errors import TriageError
from triage.sources.open import list_entries
from triage.views.export import export_files

HOSTILE = [
    b"..\x2e.txt",  # dots that look like traversal once joined
    b"CON",
    b"aux.txt",
    b"nul",
    b"tab\there",
    b"bell\x07and\x1bescape",
    b"new\nline",
    b"trailing dot.",
    b"x" * 255,
    b"\xff\xfe invalid utf-8",
    b"back\\slash",
]


@pytest.fixture
def hostile_image(tmp_path: Path) -> Path:
    need_tool("mke2fs")
    tree = tmp_path / "tree"
    (tree / "dir").mkdir(parents=True)
    for i, name in enumerate(HOSTILE):
        with open(os.path.join(os.fsencode(tree / "dir"), name), "wb") as fh:
            fh.write(f"content {i}\n".encode())
    image = tmp_path / "hostile.img"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(tree), "-F", str(image), "8M"], check=True)
    image.chmod(0o444)
    return image


def test_hostile_names_stay_inside_the_target(tmp_path: Path, hostile_image: Path) -> None:
    need_tool("icat")
    case = init_case(tmp_path / "case", case_number="X", title="export")
    try:
        add_actor(case, "ex", name="Ex Aminer", role="examiner")
        acquire(case, hostile_image, exhibit="EX-1", actor="ex", description="hostile names")
        entries = [e for e in list_entries(hostile_image, "/dir") if e.type == "file"]
        assert len(entries) == len(HOSTILE)
        target = tmp_path / "out"
        exported = export_files(case, "EX-1", [e.path for e in entries], target, actor="ex")
        root = target.resolve()
        written = [p for p in root.rglob("*") if p.is_file()]
        assert len(written) == len(HOSTILE)
        for path in written:
            assert root in path.resolve().parents
            assert len(os.fsencode(path.name)) <= 255
            assert not any(ord(c) < 32 for c in path.name)
            assert path.stem.upper() not in ("CON", "AUX", "NUL")
        by_inode = {e.inode: e for e in entries}
        for item in exported:
            icat = subprocess.run(
                ["icat", str(hostile_image), str(item["inode"])], check=True, capture_output=True
            ).stdout
            assert hashlib.sha256(icat).hexdigest() == item["sha256"]
            assert (root / item["exported_as"]).read_bytes() == icat
            assert by_inode[item["inode"]].path == item["path"]
        [entry] = [e for e in case.ledger.entries(exhibit="EX-1") if e.kind == "item.export"]
        assert len(entry.data["files"]) == len(HOSTILE)
        with pytest.raises(TriageError, match="already exists"):
            export_files(case, "EX-1", [entries[0].path], target, actor="ex")
        assert verify_case(case).ok
    finally:
        case.close()


def test_a_bad_path_exports_nothing(tmp_path: Path, hostile_image: Path) -> None:
    from triage.errors import EntryNotFound

    case = init_case(tmp_path / "case", case_number="X", title="export")
    try:
        add_actor(case, "ex", name="Ex Aminer", role="examiner")
        acquire(case, hostile_image, exhibit="EX-1", actor="ex", description="hostile names")
        before = case.ledger.count()
        with pytest.raises(EntryNotFound):
            export_files(case, "EX-1", ["/dir/CON", "/dir/no-such-file"], tmp_path / "out", actor="ex")
        assert not (tmp_path / "out").exists()
        assert case.ledger.count() == before
    finally:
        case.close()
