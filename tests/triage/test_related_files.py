"""Related files: a plugin finds other files of the same source by path or glob (item.find)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from triage.plugin import FileItem
from triage.plugin.item import path_pattern, resolve_pattern


@pytest.fixture
def extraction(tmp_path: Path) -> Path:
    """A phone extraction laid out as on the device (WhatsApp's databases and its Media folder)."""
    root = tmp_path / "extraction"
    files = {
        "data/data/com.whatsapp/databases/msgstore.db": b"SQLite format 3\x00msgstore",
        "data/data/com.whatsapp/databases/wa.db": b"SQLite format 3\x00wa",
        "sdcard/WhatsApp/Media/WhatsApp Images/IMG-20200101-WA0001.jpg": b"\xff\xd8\xff jpeg 1",
        "sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20200101-WA0002.jpg": b"\xff\xd8\xff jpeg 2",
        "sdcard/WhatsApp/Media/WhatsApp Voice Notes/202001/PTT-20200101-WA0003.opus": b"OggS",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _item(root: Path) -> FileItem:
    db = "/data/data/com.whatsapp/databases/msgstore.db"
    return FileItem.from_path(root / db.lstrip("/"), item="EX-1", fs_path=db)


def test_a_neighbour_by_relative_path(extraction: Path) -> None:
    [wa] = list(_item(extraction).find("wa.db"))
    assert wa.path == "/data/data/com.whatsapp/databases/wa.db" and wa.size == 18 and not wa.deleted
    item = wa.item()
    assert item.source.item == "EX-1" and item.path == wa.path
    assert item.source.sha256 == hashlib.sha256(b"SQLite format 3\x00wa").hexdigest()


def test_media_by_glob_absolute_and_relative(extraction: Path) -> None:
    msgstore = _item(extraction)
    absolute = [f.path for f in msgstore.find("/sdcard/WhatsApp/Media/**/*.jpg")]
    assert absolute == [
        "/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20200101-WA0001.jpg",
        "/sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20200101-WA0002.jpg",
    ]
    relative = [f.path for f in msgstore.find("../../../../sdcard/WhatsApp/Media/**/*.opus")]
    assert relative == ["/sdcard/WhatsApp/Media/WhatsApp Voice Notes/202001/PTT-20200101-WA0003.opus"]
    assert [f.name for f in msgstore.find("*.db")] == ["wa.db"]  # never itself


def test_nothing_outside_the_source(extraction: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(b"host file outside the extraction")
    msgstore = _item(extraction)
    assert list(msgstore.find("../../../../../secret.txt")) == []  # ".." stops at the root
    assert list(msgstore.find("/**/secret.txt")) == []


def test_items_without_a_known_root_find_nothing(tmp_path: Path) -> None:
    loose = tmp_path / "msgstore.db"
    loose.write_bytes(b"x")
    (tmp_path / "wa.db").write_bytes(b"y")
    assert list(FileItem.from_path(loose, fs_path="/elsewhere/msgstore.db").find("wa.db")) == []
    assert list(FileItem.from_bytes(b"x", path="/a/b.db").find("*")) == []


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/a/*.db", "/a/x.db", True),
        ("/a/*.db", "/a/b/x.db", False),
        ("/a/**/*.db", "/a/x.db", True),
        ("/a/**/*.db", "/a/b/c/x.db", True),
        ("/a/?.db", "/a/xy.db", False),
        ("/a/[x].db", "/a/[x].db", True),  # brackets are plain characters
        ("/a/x.db", "/a/X.DB", False),
    ],
)
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    assert bool(path_pattern(pattern).fullmatch(path)) is matches


def test_relative_patterns_resolve_from_the_files_folder() -> None:
    assert resolve_pattern("/data/db/msgstore.db", "wa.db") == "/data/db/wa.db"
    assert resolve_pattern("/data/db/msgstore.db", "../../../../x") == "/x"
    assert resolve_pattern("/data/db/msgstore.db", "/abs/./y") == "/abs/y"


# --- in a real run: the engine's index of the walked files ------------------------------------------

from collections.abc import Iterator as _Iterator  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from typing import ClassVar as _ClassVar  # noqa: E402

from triage.plugin import ParseContext, Plugin, Record, Targets  # noqa: E402


@_dataclass(frozen=True, kw_only=True)
class _Found(Record):
    record_type: _ClassVar[str] = "test/related/found"
    path: str
    size: int
    sha256: str


class FindsNeighbours(Plugin):
    """Test plugin: for each msgstore.db, reports wa.db beside it and the JPEGs of the media folder."""

    name = "finds_neighbours"
    version = "1"
    description = "test: related files"
    targets = Targets(globs=("**/msgstore.db",))
    emits = (_Found,)

    def parse(self, item: FileItem, ctx: ParseContext) -> _Iterator[Record]:
        for pattern in ("wa.db", "/sdcard/WhatsApp/Media/**/*.jpg"):
            for found in item.find(pattern):
                full = found.item()
                yield _Found(source=full.source, path=found.path, size=found.size, sha256=full.source.sha256)


@pytest.mark.parametrize("container", ["folder", "ext4"])
def test_plugins_find_related_files_in_a_real_run(
    extraction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, container: str
) -> None:
    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire
    from triage.engine.run import TriageOptions, run_triage
    from triage.plugin.registry import LoadedPlugins
    from triage.views.findings import iter_findings

    evidence = extraction
    if container == "ext4":
        from tests.triage.test_engine import build_ext4

        files = {str(p.relative_to(extraction)): p.read_bytes() for p in extraction.rglob("*") if p.is_file()}
        evidence = build_ext4(tmp_path, files)
    monkeypatch.setattr(
        "triage.engine.run.load_plugins",
        lambda: LoadedPlugins(plugins=[FindsNeighbours], origins={}, warnings=[]),
    )
    case = init_case(tmp_path / "case", case_number="2026/8", title="related files")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, evidence, exhibit="EX-1", actor="asmith", description="extraction")
        summary = run_triage(case, "EX-1", actor="asmith", options=TriageOptions(workers=1))
        assert summary.status == "complete", summary
        found = {f.data["path"]: f for f in iter_findings(case.engine, "EX-1", "test/related")}
        expected = {
            "/data/data/com.whatsapp/databases/wa.db",
            "/sdcard/WhatsApp/Media/WhatsApp Images/IMG-20200101-WA0001.jpg",
            "/sdcard/WhatsApp/Media/WhatsApp Images/Sent/IMG-20200101-WA0002.jpg",
        }
        assert set(found) == expected
        for path, finding in found.items():
            content = (extraction / path.lstrip("/")).read_bytes()
            assert finding.data["sha256"] == hashlib.sha256(content).hexdigest()
            assert finding.data["size"] == len(content)
            assert finding.data["source"]["path"] == path  # the record points at the file it describes
    finally:
        case.close()
