"""SQLite evidence is read from a scratch copy with its WAL replayed; the evidence never changes."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from triage.plugin import FileItem, NotMyFormat, ParseContext
from triage.plugin.scratch import Scratch


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


@pytest.fixture
def wal_db(tmp_path: Path) -> Path:
    """A WAL-mode database whose last rows exist only in the -wal file (never checkpointed).

    The writer process would normally checkpoint on close; copying the files while the writer
    still holds the connection open reproduces what an acquisition of a live phone captures.
    """
    live = tmp_path / "live"
    live.mkdir()
    db = live / "msgstore.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # table + nothing else in the main file
    con.executemany("INSERT INTO messages (body) VALUES (?)", [("in wal 1",), ("in wal 2",), ("in wal 3",)])
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copy2(live / f"msgstore.db{suffix}", evidence / f"msgstore.db{suffix}")
    con.close()
    for p in evidence.iterdir():
        p.chmod(0o444)
    return evidence / "msgstore.db"


def test_rows_only_in_wal_are_seen_and_evidence_is_untouched(wal_db: Path, tmp_path: Path) -> None:
    assert (wal_db.parent / "msgstore.db-wal").stat().st_size > 0
    # Opened in place, immutable, the main file alone has no rows: they live in the WAL.
    alone = sqlite3.connect(f"file:{wal_db}?immutable=1", uri=True)
    assert alone.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    alone.close()

    before = _snapshot(wal_db.parent)
    item = FileItem.from_path(wal_db, fs_path="/data/data/app/databases/msgstore.db")
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        con = ctx.open_sqlite(item)
        bodies = [r["body"] for r in con.execute("SELECT body FROM messages ORDER BY id")]
        assert bodies == ["in wal 1", "in wal 2", "in wal 3"]
        with pytest.raises(sqlite3.OperationalError):
            con.execute("INSERT INTO messages (body) VALUES ('x')")
        copy = scratch.sqlite_copy(item)
        assert copy.journal_mode == "wal" and copy.wal_frames > 0
        assert set(copy.siblings) == {"-wal", "-shm"}
        assert copy.path.parent.parent == scratch.dir
        assert ctx.warnings == []
        scratch_dir = scratch.dir
    assert not scratch_dir.exists()
    assert _snapshot(wal_db.parent) == before
    assert sorted(os.listdir(wal_db.parent)) == ["msgstore.db", "msgstore.db-shm", "msgstore.db-wal"]


def test_wal_delivered_from_memory_siblings(wal_db: Path, tmp_path: Path) -> None:
    """The engine may hand content from an image: siblings come through ``FileItem.sibling``."""
    item = FileItem.from_bytes(
        wal_db.read_bytes(),
        path="/db/msgstore.db",
        siblings={"-wal": (wal_db.parent / "msgstore.db-wal").read_bytes()},
    )
    with Scratch(tmp_path) as scratch:
        con = ParseContext(scratch=scratch).open_sqlite(item)
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 3


def test_copy_made_once_per_file(wal_db: Path, tmp_path: Path) -> None:
    item = FileItem.from_path(wal_db)
    with Scratch(tmp_path) as scratch:
        first = scratch.sqlite_copy(item)
        assert scratch.sqlite_copy(item) is first
        assert scratch.sqlite_schema(item) == {"messages": frozenset({"id", "body"})}
        scratch.release(item)
        assert not first.path.exists()


def test_not_sqlite_is_not_my_format(tmp_path: Path) -> None:
    item = FileItem.from_bytes(b"\xff\xd8\xff\xe0 not a database", path="/x.db")
    with Scratch(tmp_path) as scratch, pytest.raises(NotMyFormat):
        ParseContext(scratch=scratch).open_sqlite(item)


def test_garbage_wal_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()  # clean close: checkpointed, -wal removed
    item = FileItem.from_bytes(db.read_bytes(), path="/plain.db", siblings={"-wal": b"\x00" * 100})
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch, plugin="p")
        ctx.open_sqlite(item).execute("SELECT * FROM t").fetchall()
        assert [w.message for w in ctx.warnings] == [
            "-wal of 100 bytes held no committed frame: nothing replayed"
        ]
