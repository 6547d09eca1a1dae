"""Scratch copies of SQLite evidence, so that reading a database never writes to the evidence.

Opening a SQLite file can write: a reader of a WAL database creates or updates ``-shm`` and may
checkpoint the ``-wal`` into the main file; a hot ``-journal`` is rolled back. None of that may
touch evidence. So each database is copied, with its ``-wal``, ``-shm`` and ``-journal`` siblings,
into a private folder; the copy is opened read-write once to replay the WAL (committed frames
only, as SQLite itself would) and switched to rollback-journal mode; then plugins get read-only
(``mode=ro``) connections on that copy. Content the WAL holds beyond the last commit is not
replayed; the raw ``-wal`` file stays in the evidence (and is hashed by the engine) for carving.

One :class:`Scratch` serves a whole triage run; the copy of a file is made once and shared by
every plugin (and the dispatcher's schema check) that looks at that file.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from triage.plugin import FileItem
    from triage.records import SourceRef

__all__ = ["SIBLING_SUFFIXES", "SQLITE_HEADER", "Scratch", "ScratchCopy"]

SQLITE_HEADER = b"SQLite format 3\x00"

#: Files that belong to a database and change what a reader sees.
SIBLING_SUFFIXES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class ScratchCopy:
    """A prepared scratch copy: where it is and what replay did (for warnings and reports)."""

    path: Path
    siblings: tuple[str, ...]  # suffixes copied along
    wal_size: int  # bytes of the evidence -wal (0 when absent)
    wal_frames: int  # frames the checkpoint applied (0 when none or no WAL)
    journal_mode: str  # journal mode of the database as found ("wal", "delete", ...)


class Scratch:
    """A private temporary folder holding scratch copies; remove it with :meth:`close`."""

    def __init__(self, parent: Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="exhibit-scratch-", dir=parent))
        self._copies: dict[SourceRef, ScratchCopy] = {}
        self._schemas: dict[SourceRef, dict[str, frozenset[str]]] = {}
        self._connections: list[sqlite3.Connection] = []
        self._counter = 0

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def sqlite_copy(self, item: FileItem) -> ScratchCopy:
        """Copy ``item`` and its siblings to scratch and replay the WAL there (once per file)."""
        cached = self._copies.get(item.source)
        if cached is not None:
            return cached
        self._counter += 1
        folder = self.dir / f"{self._counter:06d}"
        folder.mkdir()
        dest = folder / (_safe_name(item.name) or "database")
        _copy_content(item, dest)
        copied: list[str] = []
        wal_size = 0
        for suffix in SIBLING_SUFFIXES:
            sibling = item.sibling(suffix)
            if sibling is None:
                continue
            _copy_content(sibling, dest.with_name(dest.name + suffix))
            copied.append(suffix)
            if suffix == "-wal":
                wal_size = sibling.size
        mode, frames = _replay(dest)
        result = ScratchCopy(dest, tuple(copied), wal_size, frames, mode)
        self._copies[item.source] = result
        return result

    def open_sqlite(self, item: FileItem) -> sqlite3.Connection:
        """A new read-only (``mode=ro``, ``query_only``) connection on the scratch copy."""
        copy = self.sqlite_copy(item)
        con = sqlite3.connect(f"file:{quote(str(copy.path))}?mode=ro", uri=True)
        con.execute("PRAGMA query_only = 1")
        con.row_factory = sqlite3.Row
        self._connections.append(con)
        return con

    def sqlite_schema(self, item: FileItem) -> dict[str, frozenset[str]]:
        """``{table: columns}`` of the scratch copy, cached per file (for signature checks)."""
        cached = self._schemas.get(item.source)
        if cached is not None:
            return cached
        con = self.open_sqlite(item)
        schema: dict[str, frozenset[str]] = {}
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                cols = con.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
                schema[table] = frozenset(c[0] for c in cols)
        finally:
            self._close(con)
        self._schemas[item.source] = schema
        return schema

    def release(self, item: FileItem) -> None:
        """Forget and delete the scratch copy of ``item`` (the engine calls it when done with a file)."""
        copy = self._copies.pop(item.source, None)
        self._schemas.pop(item.source, None)
        if copy is not None:
            shutil.rmtree(copy.path.parent, ignore_errors=True)

    def close(self) -> None:
        """Close every connection handed out and delete the scratch folder."""
        for con in self._connections:
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._connections.clear()
        self._copies.clear()
        self._schemas.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _close(self, con: sqlite3.Connection) -> None:
        con.close()
        with contextlib.suppress(ValueError):
            self._connections.remove(con)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def _copy_content(item: FileItem, dest: Path) -> None:
    with item.open() as src, dest.open("xb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _replay(db: Path) -> tuple[str, int]:
    """Apply the copied WAL (or roll back a hot journal) and leave a rollback-mode database.

    Returns the journal mode found and the number of WAL frames checkpointed. Raises
    ``sqlite3.DatabaseError`` when the file is not a usable database.
    """
    con = sqlite3.connect(db, isolation_level=None)
    try:
        mode = str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        frames = 0
        if mode == "wal":
            busy, _log, checkpointed = con.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
            if busy:
                raise sqlite3.OperationalError(f"WAL checkpoint of scratch copy {db} was blocked")
            frames = max(int(checkpointed), 0)
            con.execute("PRAGMA journal_mode = DELETE")
        else:
            # Reading the schema forces SQLite to roll back a hot journal, if one was copied.
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        con.close()
    return mode, frames
