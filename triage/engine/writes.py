"""The rows a run writes, by column name, and the statements that store them.

Every row is a dict keyed by column name, built here and nowhere else: a walked entry's
``triage_files`` row (:func:`file_row`, with a :class:`~triage.engine.results.FileResult` once the
file was read), a finding's (:func:`finding_rows`), a warning's (:func:`warning_rows`). Rows are
upserted, so a re-run or a resumed run stores each file and finding once: a file's row is keyed by
the identity of its entry (:func:`~triage.engine.rowkeys.file_key`), a finding's by a fingerprint of its content.

On SQLite the bulk statements go to the driver as one plain DB-API ``executemany`` (the same SQL
and values SQLAlchemy would send, without its per-row processing: the 50,000 rows of a walk go
in about twice as fast); PostgreSQL gets the SQLAlchemy statements with the dicts themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, CursorResult, Table, func, insert

from triage.engine.results import FileResult, FoundRecord, Origin, PluginOutcome, TriageWarning
from triage.sources.entry import FileEntry
from triage.store.inserts import insert_new
from triage.store.models import File, Finding, Job, RunWarning

#: The hash columns of ``triage_files``: the algorithms a run may be asked for.
HASHES = ("md5", "sha1", "sha256")

#: Every column of ``triage_files`` a run writes (all but the row id).
FILE_COLUMNS = tuple(c.name for c in File.columns if c.name != "id")
#: What reading a file adds to its row: the columns a stored row gets anew when its file is read.
RESULT_COLUMNS = ("md5", "sha1", "sha256", "mime", "ext_mismatch", "error", "plugins", "run_id")
_BATCH = 5000  # rows per statement where the driver would otherwise hold them all at once


# -- rows -------------------------------------------------------------------------------------------


def file_row(
    exhibit: str,
    key: str,
    e: FileEntry,
    run_id: str,
    result: FileResult | None = None,
    parent: str | None = None,
) -> dict[str, Any]:
    """The ``triage_files`` row of a walked entry; without ``result`` (not read: not a regular
    file, or read by an earlier run) its content columns are empty. ``parent``: the key of the
    archive's row, for a member of an archive found in the evidence (triage/sources/nested.py)."""
    row = {
        "key": key,
        "exhibit": exhibit,
        "partition": e.partition,
        "fs_type": e.fs_type,
        "path": e.path,
        "name": e.name,
        "inode": e.inode,
        "attr_type": e.attr_type,
        "attr_id": e.attr_id,
        "stream": e.stream,
        "type": e.type,
        "size": e.size,
        "deleted": e.deleted,
        "realloc": e.realloc,
        "mtime": e.mtime,
        "atime": e.atime,
        "ctime": e.ctime,
        "crtime": e.crtime,
        "times_local": e.times_local,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "run_id": run_id,
        "parent": parent,
    }
    if result is None:
        row.update(_NOT_READ)
    else:
        row["md5"] = result.md5
        row["sha1"] = result.sha1
        row["sha256"] = result.sha256
        row["mime"] = result.mime
        row["ext_mismatch"] = result.ext_mismatch
        row["error"] = result.error
        row["plugins"] = _outcomes_text(tuple(result.plugins)) if result.plugins else None
    return row


@lru_cache(maxsize=4096)
def _outcomes_text(plugins: tuple[PluginOutcome, ...]) -> str:
    """The stored JSON of a file's plugin outcomes, made once per distinct list: a run's files
    repeat a few (50,000 misnamed files, a handful of lists: 0.3 s of JSON encoding)."""
    return json.dumps([p.as_dict() for p in plugins])


#: How a declined outcome reads in a stored ``plugins`` column (:func:`file_row` writes the
#: outcomes with json.dumps' default separators): the end of a run asks the database for the files
#: some plugin did read, those whose column still names an outcome once these are taken out,
#: instead of parsing every file's outcomes (50,000 misnamed files: 0.3 s).
DECLINED_TEXT = '"outcome": "not-my-format"'


def read_by_a_plugin(plugins: Any) -> Any:
    """SQL: the stored ``plugins`` column names an outcome other than not-my-format."""
    return func.replace(plugins, DECLINED_TEXT, "").like('%"outcome"%')


_NOT_READ: dict[str, Any] = {
    "md5": None,
    "sha1": None,
    "sha256": None,
    "mime": None,
    "ext_mismatch": False,
    "error": None,
    "plugins": None,
}


def finding_rows(
    exhibit: str, where: Origin, records: Iterable[FoundRecord], run_id: str
) -> Iterator[dict[str, Any]]:
    """The ``triage_findings`` rows of ``records``, found in the file ``where``.

    The fingerprint covers the exhibit, the plugin and its version, the record type, the file's
    row, the locator and the data: the same record found again (a re-run) is the same row.
    """
    key, partition, inode, path, stream, sha256 = where
    for rec in records:
        fingerprint = hashlib.sha256(
            "\x00".join(
                [exhibit, rec.plugin, rec.version, rec.record_type, key, str(rec.locator), rec.data]
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        yield {
            "fingerprint": fingerprint,
            "exhibit": exhibit,
            "record_type": rec.record_type,
            "plugin": rec.plugin,
            "plugin_version": rec.version,
            "partition": partition,
            "inode": inode,
            "path": path,
            "stream": stream,
            "file_sha256": sha256,
            "locator": rec.locator,
            "data": rec.data,
            "run_id": run_id,
        }


def job_row(
    exhibit: str, run_id: str, first_key: str, files: int, size: int, worker: str, attempts: int, when: str
) -> dict[str, Any]:
    """The ``triage_jobs`` row of a job a remote worker read: keyed by the run and the job's first
    file, so a job stored twice (a redelivered task's second result) is one row."""
    return {
        "id": f"{run_id}/{first_key}",
        "run_id": run_id,
        "exhibit": exhibit,
        "files": files,
        "bytes": size,
        "worker": worker,
        "attempts": attempts,
        "finished_utc": when,
    }


def warning_rows(exhibit: str, run_id: str, warnings: Iterable[TriageWarning]) -> list[dict[str, Any]]:
    """The ``triage_warnings`` rows of ``warnings`` (their ids come from the database, in order)."""
    return [
        {
            "run_id": run_id,
            "exhibit": exhibit,
            "plugin": w.plugin,
            "path": w.path,
            "message": w.message,
            "traceback": w.traceback,
        }
        for w in warnings
    ]


# -- statements -------------------------------------------------------------------------------------

#: How the run's storing connection uses SQLite (a server tunes its own). Each file row goes into
#: three B-trees, two of them keyed by hashes (the row key, the SHA-256), so a chunk's rows touch
#: index pages all over the file. With the defaults (a 2 MiB page cache, a checkpoint whenever the
#: WAL passes 1,000 pages) most inserts read their page back from the operating system and nearly
#: every commit copied the WAL into the database. 60,000 file rows, 1,024 a commit: 1.8-2.1 s of
#: CPU, 1.25-1.4 s with these; in whole runs of the `small` mix the run's process took 0.5 s less
#: (docs/performance.md). The cache grows only as pages are used; the WAL, up to ~40 MB, is
#: checkpointed by the next commit past that size and when the last connection closes.
BULK_PRAGMAS = ("PRAGMA cache_size = -16384", "PRAGMA wal_autocheckpoint = 10000")


def for_bulk_writes(conn: Connection) -> None:
    """Tune the connection a run stores its rows on (SQLite only; see :data:`BULK_PRAGMAS`)."""
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.dbapi_connection  # the driver's: no transaction is begun for it
        for pragma in BULK_PRAGMAS:
            dbapi.execute(pragma)  # type: ignore[union-attr]


#: Finished chunks stored in one transaction (:class:`ChunkGroup`). A commit writes every page the
#: transaction changed to the write-ahead log, and a file row goes into two indexes keyed by
#: hashes (its row key, its SHA-256), so each 1,024-file chunk changed index pages all over the
#: file and committing chunk by chunk wrote the same pages again and again: 51,317 file rows of
#: the ``misnamed`` mix took 0.83 s of CPU to store in 1,024-row transactions, 0.55 s in one.
GROUP_FILES = 8192
GROUP_FINDINGS = 20_000  # a chunk's findings count too: the write-ahead log grows with them
GROUP_SECONDS = 0.5  # and no group stays open (uncommitted, holding the write lock) longer


class ChunkGroup:
    """The transaction that several finished chunks of a run are stored in, each chunk in a
    savepoint of it.

    :meth:`begin` before storing a chunk (it opens the group's transaction unless it is open,
    then the chunk's savepoint), :meth:`stored` once the whole chunk is written, which commits
    once the group holds :data:`GROUP_FILES` files or :data:`GROUP_FINDINGS` findings or has been
    open :data:`GROUP_SECONDS`; :meth:`commit` before anything else begins a transaction on the
    connection and whenever the run waits for a chunk (the run's ``waiting``), and at the end;
    :meth:`close_after` when the run is ended by an error or Ctrl-C: the chunk being written is
    rolled back to its savepoint and the whole chunks before it are committed. Chunks are
    stored whole or not at all. A run killed loses the uncommitted group: those files are not
    stored, so the next run of the exhibit reads them again, and what the group settled stays
    pending (triage/engine/published.py) and is taken back by that run.
    """

    def __init__(self, conn: Connection, files: int | None = None) -> None:
        self.conn = conn
        self._limit = files  # None: GROUP_FILES (read when used); 1: every chunk its own commit
        self._transaction: Any = None
        self._chunk: Any = None  # the savepoint of the chunk being written
        self._files = 0
        self._findings = 0
        self._since = 0.0

    def begin(self) -> None:
        if self._transaction is None:
            self._transaction = self.conn.begin()
            self._files = self._findings = 0
            self._since = time.monotonic()
        self._chunk = self.conn.begin_nested()

    def stored(self, files: int, findings: int) -> None:
        chunk, self._chunk = self._chunk, None
        if chunk is not None:
            chunk.commit()  # released into the group's transaction
        self._files += files
        self._findings += findings
        if (
            self._files >= (self._limit or GROUP_FILES)
            or self._findings >= GROUP_FINDINGS
            or time.monotonic() - self._since >= GROUP_SECONDS
        ):
            self.commit()

    def commit(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            transaction.commit()

    def close_after(self, error: BaseException) -> None:
        """The run is ending with ``error`` (raised again by the caller): the chunk it broke
        into, if any, is rolled back to its savepoint, and the whole chunks stored before it are
        committed, as they would have been. If the database is what failed (the rollback or the
        commit fails), the group is rolled back; ``error`` stays the one reported."""
        transaction, self._transaction = self._transaction, None
        chunk, self._chunk = self._chunk, None
        if transaction is None:
            return
        try:
            if chunk is not None:
                chunk.rollback()
            transaction.commit()
        except Exception as exc:
            error.add_note(
                f"the files stored since the last commit are not kept: {type(exc).__name__}: {exc}"
            )
            with contextlib.suppress(Exception):
                transaction.rollback()


def store_listed(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Store file rows unless their key is stored already (an earlier run's row is kept as is)."""
    if conn.dialect.name != "sqlite":
        for batch in _batches(rows):
            insert_new(conn, File, batch, "key")
        return
    for batch in _batches(rows):
        _driver_insert(conn, File, FILE_COLUMNS, f"ON CONFLICT ({_quote(conn, 'key')}) DO NOTHING", batch)


def store_files(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store the rows of files that were read, with their results.

    A file's row is written once, with its results, rather than listed first and updated later
    (that doubled the database work of a run). A row an earlier, interrupted run left behind
    gets the new results (ON CONFLICT ... DO UPDATE of RESULT_COLUMNS).
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        q = conn.dialect.identifier_preparer.quote
        sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in RESULT_COLUMNS)
        _driver_insert(conn, File, FILE_COLUMNS, f"ON CONFLICT ({q('key')}) DO UPDATE SET {sets}", rows)
        return
    from sqlalchemy.dialects import postgresql  # here: the PostgreSQL dialect costs ~50 ms to import

    stmt = postgresql.insert(File)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"], set_={c: stmt.excluded[c] for c in RESULT_COLUMNS}
    )
    for batch in _batches(rows):
        conn.execute(stmt, batch)


def store_findings(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Store finding rows not stored yet (by fingerprint, unique with the locator it covers:
    :class:`~triage.store.models.Finding`); returns how many were new.

    On SQLite through the driver, as the files are (SQLAlchemy's per-row parameter processing
    was an eighth of the CPU of storing a million messages); sqlite3 sums the rows an
    ``executemany`` inserted, and a row skipped by ``ON CONFLICT DO NOTHING`` counts 0.
    """
    if not rows:
        return 0
    if conn.dialect.name != "sqlite":
        return insert_new(conn, Finding, rows, "fingerprint", any_unique=True)
    result = _driver_insert(conn, Finding, list(rows[0]), "ON CONFLICT DO NOTHING", rows)
    return max(int(result.rowcount or 0), 0)


def store_job(conn: Connection, row: dict[str, Any]) -> None:
    """Store a job's row unless it is stored already."""
    insert_new(conn, Job, [row], "id")


def store_warnings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(RunWarning), rows)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _driver_insert(
    conn: Connection, table: Table, columns: Sequence[str], conflict: str, rows: list[dict[str, Any]]
) -> CursorResult[Any]:
    """``INSERT INTO table (columns) VALUES (?, ...) <conflict>`` of ``rows`` through the SQLite
    driver, in one ``executemany``.

    The rows stay dicts keyed by column name up to here; each row's values are taken by name, in
    the order ``columns`` lists them in the statement (a missing column is a KeyError, never a
    shifted value). sqlite3 binds such a tuple 1.5 to 2.5 times as fast as the dict, by name.
    """
    names = ", ".join(_quote(conn, c) for c in columns)
    sql = f"INSERT INTO {_quote(conn, table.name)} ({names}) VALUES ({', '.join('?' * len(columns))}) {conflict}"
    values = itemgetter(*columns)
    return conn.exec_driver_sql(sql, [values(row) for row in rows])


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
