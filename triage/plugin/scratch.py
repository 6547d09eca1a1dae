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

Scratch space is bounded: every byte written here is charged to a budget (:data:`DEFAULT_LIMIT`,
or ``EXHIBIT_SCRATCH_LIMIT`` / ``exhibit triage --scratch-limit``), and a copy that would exceed it
stops with :class:`ScratchFull`, which the engine turns into a warning naming the file and the
plugins that were skipped. Copies are written sparse: a run of zero bytes becomes a hole and costs
nothing, so a 2 GB sparse file (8 KB on disk) does not become 2 GB of scratch.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TypeVar
from urllib.parse import quote

from triage.errors import TriageError
from triage.plugin.item import FileItem
from triage.plugin.records import SourceRef

_A = TypeVar("_A")
_R = TypeVar("_R")


__all__ = [
    "DEFAULT_LIMIT",
    "SIBLING_SUFFIXES",
    "SQLITE_HEADER",
    "PristineCopy",
    "Scratch",
    "ScratchCopy",
    "ScratchFull",
    "parse_size",
    "scratch_limit",
    "write_sparse",
]

SQLITE_HEADER = b"SQLite format 3\x00"

#: Files that belong to a database and change what a reader sees.
SIBLING_SUFFIXES = ("-wal", "-shm", "-journal")

#: Scratch bytes one triage run may hold at once (all workers together), unless configured.
DEFAULT_LIMIT = 8 * 1024**3
LIMIT_ENV = "EXHIBIT_SCRATCH_LIMIT"
_CHUNK = 1 << 20
_HOLE = 4096  # zero runs at least this long (and aligned like it) are skipped, not written
_ZEROS = bytes(_CHUNK)
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2,
          "MIB": 1024**2, "G": 1024**3, "GB": 1024**3, "GIB": 1024**3, "T": 1024**4, "TB": 1024**4,
          "TIB": 1024**4}  # fmt: skip


class ScratchFull(TriageError):
    """A scratch copy would take more than the run's scratch limit; the file is skipped."""


def parse_size(text: str) -> int:
    """``"8G"``, ``"512 MiB"``, ``"1000000"`` -> bytes (binary units); TriageError when not a size."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _UNITS:
        raise TriageError(f"{text!r} is not a size", hint="give a number of bytes or a size such as 512M, 8G")
    return int(float(match.group(1)) * _UNITS[unit])


def scratch_limit(given: int | None = None) -> int:
    """The scratch limit: ``given``, else ``EXHIBIT_SCRATCH_LIMIT``, else :data:`DEFAULT_LIMIT`."""
    if given is not None:
        return given
    env = os.environ.get(LIMIT_ENV)
    if env:
        try:
            return parse_size(env)
        except TriageError as exc:
            raise TriageError(f"{LIMIT_ENV}: {exc}", hint=exc.hint) from None
    return DEFAULT_LIMIT


def write_sparse(out: BinaryIO, chunk: bytes) -> int:
    """Write ``chunk`` to ``out``, seeking over whole zero blocks instead of writing them.

    Returns the bytes actually written (what the disk is charged). The caller truncates ``out``
    at the end so a trailing hole still counts towards the file's size. Content read back is
    identical; only the allocation differs.
    """
    n = len(chunk)
    if n < _HOLE:
        out.write(chunk)
        return n
    if n <= _CHUNK and chunk == _ZEROS[:n]:  # a whole zero chunk: the common sparse case
        out.seek(n, os.SEEK_CUR)
        return 0
    zero_block = _ZEROS[:_HOLE]
    written = 0
    pos = 0
    while pos < n:
        end = min(pos + _HOLE, n)
        block = chunk[pos:end]
        if block == zero_block:
            out.seek(_HOLE, os.SEEK_CUR)
        else:
            out.write(block)
            written += end - pos
        pos = end
    return written


@dataclass(frozen=True)
class ScratchCopy:
    """A prepared scratch copy: where it is and what replay did (for warnings and reports)."""

    path: Path
    siblings: tuple[str, ...]  # suffixes copied along
    wal_size: int  # bytes of the evidence -wal (0 when absent)
    wal_frames: int  # frames the checkpoint applied (0 when none or no WAL)
    journal_mode: str  # journal mode of the database as found ("wal", "delete", ...)


@dataclass(frozen=True)
class PristineCopy:
    """Byte-for-byte copies of a database and its ``-wal`` / ``-journal`` as found in the evidence
    (no WAL replayed, no journal rolled back): what deleted-record recovery reads."""

    db: Path
    wal: Path | None
    journal: Path | None


class Scratch:
    """A private temporary folder holding scratch copies; remove it with :meth:`close`."""

    def __init__(self, parent: Path | None = None, *, limit: int | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="exhibit-scratch-", dir=parent))
        self.limit = scratch_limit(limit)
        self.used = 0  # bytes charged and not yet released
        self._charged: dict[SourceRef, int] = {}
        self._failed: dict[SourceRef, sqlite3.DatabaseError] = {}
        self._copies: dict[SourceRef, ScratchCopy] = {}
        self._pristine: dict[SourceRef, tuple[PristineCopy, int]] = {}
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
        failed = self._failed.get(item.source)
        if failed is not None:
            raise failed
        self._counter += 1
        folder = self.dir / f"{self._counter:06d}"
        folder.mkdir()
        dest = folder / (_safe_name(item.name) or "database")
        charged = 0
        try:
            charged += self.copy_in(item, dest)
            copied: list[str] = []
            wal_size = 0
            for suffix in SIBLING_SUFFIXES:
                sibling = item.sibling(suffix)
                if sibling is None:
                    continue
                wrote = self.copy_in(sibling, dest.with_name(dest.name + suffix))
                charged += wrote
                copied.append(suffix)
                if suffix == "-wal":
                    wal_size = sibling.size
                    # replaying the WAL writes up to as much again into the database copy
                    self.charge(wrote, f"{item.path}: replaying its -wal")
                    charged += wrote
        except BaseException:
            self.uncharge(charged)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        try:
            mode, frames = _sqlite_call(_replay, dest)
        except sqlite3.DatabaseError as exc:
            # Not a usable database: remember that, so the next plugin asking about this file
            # does not copy gigabytes again only to fail the same way.
            self.uncharge(charged)
            shutil.rmtree(folder, ignore_errors=True)
            self._failed[item.source] = exc
            raise
        self._charged[item.source] = charged
        result = ScratchCopy(dest, tuple(copied), wal_size, frames, mode)
        self._copies[item.source] = result
        return result

    def pristine(self, item: FileItem) -> PristineCopy:
        """Unmodified copies of ``item`` and its ``-wal`` and ``-journal`` (once per file).

        The copy :meth:`sqlite_copy` makes is changed by replaying the WAL or rolling back a hot
        journal; when it has neither (no sibling, not in WAL mode) it is still the evidence's
        bytes and is reused, else the files are copied again, charged to the same budget and
        removed by :meth:`release`.
        """
        cached = self._pristine.get(item.source)
        if cached is not None:
            return cached[0]
        copy = self.sqlite_copy(item)
        if not copy.siblings and copy.journal_mode != "wal":
            result = PristineCopy(copy.path, None, None)
            self._pristine[item.source] = (result, 0)
            return result
        self._counter += 1
        folder = self.dir / f"{self._counter:06d}-pristine"
        folder.mkdir()
        dest = folder / (_safe_name(item.name) or "database")
        charged = 0
        paths: dict[str, Path | None] = {"-wal": None, "-journal": None}
        try:
            charged += self.copy_in(item, dest)
            for suffix in paths:
                sibling = item.sibling(suffix)
                if sibling is not None:
                    paths[suffix] = dest.with_name(dest.name + suffix)
                    charged += self.copy_in(sibling, paths[suffix])  # type: ignore[arg-type]
        except BaseException:
            self.uncharge(charged)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        result = PristineCopy(dest, paths["-wal"], paths["-journal"])
        self._pristine[item.source] = (result, charged)
        return result

    def charge(self, nbytes: int, what: str) -> None:
        """Count ``nbytes`` more scratch bytes; :class:`ScratchFull` (naming ``what``) past the limit."""
        if self.used + nbytes > self.limit:
            raise ScratchFull(
                f"{what}: needs more than the scratch limit of {self.limit} bytes "
                f"({self.used + nbytes} would be in use)",
                hint=f"raise it with --scratch-limit or {LIMIT_ENV} (e.g. 16G) if the disk has room",
            )
        self.used += nbytes

    def uncharge(self, nbytes: int) -> None:
        self.used = max(self.used - nbytes, 0)

    def copy_in(self, item: FileItem, dest: Path) -> int:
        """Stream ``item``'s content to ``dest`` (sparse), charging what is written; returns that."""
        written = 0
        try:
            with item.open() as src, dest.open("xb") as out:
                while chunk := src.read(_CHUNK):
                    n = write_sparse(out, chunk)
                    self.charge(n, f"{item.path}: scratch copy")
                    written += n
                out.truncate()
        except BaseException:
            self.uncharge(written)
            dest.unlink(missing_ok=True)
            raise
        return written

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
        try:
            schema = _sqlite_call(_read_schema, con)
        finally:
            self._close(con)
        self._schemas[item.source] = schema
        return schema

    def release(self, item: FileItem) -> None:
        """Forget and delete the scratch copy of ``item`` (the engine calls it when done with a file)."""
        copy = self._copies.pop(item.source, None)
        pristine = self._pristine.pop(item.source, None)
        if pristine is not None and pristine[1]:
            self.uncharge(pristine[1])
            shutil.rmtree(pristine[0].db.parent, ignore_errors=True)
        self._schemas.pop(item.source, None)
        self._failed.pop(item.source, None)
        self.uncharge(self._charged.pop(item.source, 0))
        if copy is not None:
            shutil.rmtree(copy.path.parent, ignore_errors=True)

    def close(self) -> None:
        """Close every connection handed out and delete the scratch folder."""
        for con in self._connections:
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._connections.clear()
        self._copies.clear()
        self._pristine.clear()
        self._schemas.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _close(self, con: sqlite3.Connection) -> None:
        con.close()
        with contextlib.suppress(ValueError):
            self._connections.remove(con)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


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


def _read_schema(con: sqlite3.Connection) -> dict[str, frozenset[str]]:
    schema: dict[str, frozenset[str]] = {}
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cols = con.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
        schema[table] = frozenset(c[0] for c in cols)
    return schema


def _sqlite_call(function: Callable[[_A], _R], argument: _A) -> _R:
    """``function(argument)``, with SQLite's undecodable error messages made database errors.

    SQLite quotes parts of a damaged schema in its error messages ("malformed database schema
    (<name>)"); when those bytes are not UTF-8, Python's sqlite3 raises :class:`UnicodeDecodeError`
    while building the exception instead of :class:`sqlite3.DatabaseError`. That is still "this
    database is damaged", so it is reported as one, with the message's bytes escaped.
    """
    try:
        return function(argument)
    except UnicodeDecodeError as exc:
        raw = exc.object if isinstance(exc.object, bytes) else bytes(exc.object)
        raise sqlite3.DatabaseError(raw.decode("utf-8", "backslashreplace")) from exc
