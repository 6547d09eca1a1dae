"""Custody's statements on the case database: plain SQL with ``:name`` parameters.

Every custody command reads or appends the ledger, and importing SQLAlchemy took 0.2-0.3 s of
each one's start (``custody verify`` of a small ledger: about half its time; issue 12). So custody
writes its few statements as SQL text and runs them on a :class:`Session`:

- an SQLite case whose URL names a plain file (the default, ``sqlite:///path``): the standard
  library's :mod:`sqlite3`, with the settings :func:`custody.store.db.make_engine` gives SQLAlchemy's
  connections (WAL, ``synchronous=FULL``, foreign keys, a 60 s busy timeout) and ``BEGIN
  IMMEDIATE`` before every write, so two writers never interleave;
- any other URL (PostgreSQL, an SQLite URL with options after a ``?``): SQLAlchemy's engine,
  which binds the same ``:name`` parameters for its driver.

Reads take a snapshot (an SQLite read transaction, PostgreSQL ``REPEATABLE READ``), and
:meth:`Database.snapshot` makes every read of a block share one (verification).

SQLAlchemy stays the case's engine for everything else (triage's tables, migrations, tests that
play the attacker): :attr:`Database.engine` makes it on first use, a second connection to the same
file. The statements use only what both databases accept (no ``::`` casts, no colons in literals).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from custody.store import BUSY_SECONDS, CUSTODY_VERSION, SQLITE_PRAGMAS

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

Params = Mapping[str, Any]

LEDGER_LOCK_KEY = 0x45584849  # "EXHI": the advisory lock every PostgreSQL append takes
WRITER_ROLE = "exhibit_writer"


class Session(Protocol):
    """One connection's statements; rows come back as tuples in the order the SELECT names them."""

    dialect: str

    def run(self, sql: str, params: Params | None = None) -> None:
        """A statement that returns no rows."""

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        """One statement for each of ``rows``."""

    def rows(self, sql: str, params: Params | None = None) -> Iterator[Sequence[Any]]:
        """A query's rows, streamed (a long ledger is never held at once)."""

    def first(self, sql: str, params: Params | None = None) -> Sequence[Any] | None:
        """A query's first row, or None."""


def ledger_lock(session: Session) -> None:
    """Serialise appends. SQLite and PostgreSQL differ in how a writer takes the ledger for itself:
    an SQLite write session already holds the database's write lock (``BEGIN IMMEDIATE``); on
    PostgreSQL ``pg_advisory_xact_lock`` on a fixed key, released at commit or rollback. The unique
    ``prev_hash`` column is the last line of defence against a forked chain."""
    if session.dialect == "postgresql":
        session.run("SELECT pg_advisory_xact_lock(:k)", {"k": LEDGER_LOCK_KEY})


def drop_to_writer_role(session: Session) -> None:
    """On PostgreSQL, append as the INSERT/SELECT-only role when this login may assume it."""
    if session.dialect != "postgresql":
        return
    allowed = session.first(
        "SELECT pg_has_role(current_user, :r, 'MEMBER') FROM pg_roles WHERE rolname = :r", {"r": WRITER_ROLE}
    )
    if allowed is not None and allowed[0]:
        session.run(f"SET LOCAL ROLE {WRITER_ROLE}")


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:name0, :name1, ...)`` and its parameters, for ``column IN`` a list of values."""
    params = {f"{name}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


def sqlite_file(url: str) -> str | None:
    """The file of a plain ``sqlite:///path`` URL, as SQLAlchemy reads it (``%XX`` decoded); None
    for any other URL (another database, an in-memory one, one with options after a ``?``)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = unquote(url.removeprefix("sqlite:///"))
    return path or None


def integrity_error(exc: BaseException) -> bool:
    """Whether the database refused a statement for a constraint (a unique key taken)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    errors = sys.modules.get("sqlalchemy.exc")  # its errors come only where it is loaded
    return errors is not None and isinstance(exc, errors.IntegrityError)


class _SqliteSession:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run(self, sql: str, params: Params | None = None) -> None:
        self._conn.execute(sql, params or {})

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        self._conn.executemany(sql, rows)

    def rows(self, sql: str, params: Params | None = None) -> Iterator[Sequence[Any]]:
        return iter(self._conn.execute(sql, params or {}))

    def first(self, sql: str, params: Params | None = None) -> Sequence[Any] | None:
        cursor = self._conn.execute(sql, params or {})
        try:
            row: Sequence[Any] | None = cursor.fetchone()
        finally:
            cursor.close()  # a statement left unfinished would hold its transaction open
        return row


class _EngineSession:
    def __init__(self, conn: Connection) -> None:
        from sqlalchemy import text

        self._conn = conn
        self._text = text
        self.dialect = conn.dialect.name

    def run(self, sql: str, params: Params | None = None) -> None:
        self._conn.execute(self._text(sql), dict(params or {}))

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            self._conn.execute(self._text(sql), [dict(r) for r in rows])

    def rows(self, sql: str, params: Params | None = None) -> Iterator[Sequence[Any]]:
        statement = self._text(sql).execution_options(yield_per=5000)  # a server-side cursor on PostgreSQL
        return iter(self._conn.execute(statement, dict(params or {})))

    def first(self, sql: str, params: Params | None = None) -> Sequence[Any] | None:
        return self._conn.execute(self._text(sql), dict(params or {})).first()


class Database:
    """The case database as custody uses it. SQLite connections are pooled as the engine pools
    them (one kept open for the whole command; a statement run while another is still reading
    gets a connection of its own) and never cross a fork: a forked child opens its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._file = sqlite_file(url)
        self._engine: Engine | None = None
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()  # ``pinned``: (process, session) of :meth:`snapshot`
        #: a forked child's connections of its parent: kept referenced and never closed, since
        #: SQLite must neither use nor close in a child what its parent opened (closing the file
        #: there would release the locks the child's own connection holds on it)
        self._inherited: list[sqlite3.Connection] = []

    @property
    def engine(self) -> Engine:
        """SQLAlchemy's engine on the same database, made on first use."""
        if self._engine is None:
            from custody.store import db

            self._engine = db.make_engine(self.url)
        return self._engine

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read of this thread inside the block (:meth:`read`) sees the same committed rows,
        whatever other commands write meanwhile: verification reads the entries and the
        checkpoints in several passes, and an append between two of them would look like entries
        no checkpoint covers."""
        if self._pinned() is not None:
            yield
            return
        with self.read() as session:
            self._local.pinned = (os.getpid(), session)
            try:
                yield
            finally:
                self._local.pinned = None

    def _pinned(self) -> Session | None:
        pinned = getattr(self._local, "pinned", None)
        return pinned[1] if pinned is not None and pinned[0] == os.getpid() else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading: one snapshot of the database while it lasts (on PostgreSQL, a
        ``REPEATABLE READ`` transaction: every statement sees the same committed rows); inside
        :meth:`snapshot`, that one's."""
        pinned = self._pinned()
        if pinned is not None:
            yield pinned
            return
        if self._file is None:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                yield _EngineSession(conn)
            return
        with self._connection("BEGIN") as conn:
            yield _SqliteSession(conn)  # rolled back at the end: a read writes nothing

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it raises.
        On SQLite the write lock is taken at once (``BEGIN IMMEDIATE``)."""
        if self._file is None:
            with self.engine.begin() as conn:
                yield _EngineSession(conn)
            return
        owner = os.getpid()
        with self._connection("BEGIN IMMEDIATE") as conn:
            yield _SqliteSession(conn)
            if os.getpid() != owner:  # a child forked inside the block: the transaction is its parent's
                raise RuntimeError("a write session begun in another process cannot be committed here")
            conn.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        if self._file is None:
            from sqlalchemy import inspect

            return inspect(self.engine).has_table(name)
        with self.read() as s:
            found = s.first("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n", {"n": name})
        return found is not None

    def at_head(self, version: tuple[str, str] = CUSTODY_VERSION) -> bool:
        """Whether a package's schema is at its newest revision (``version``: its version table
        and head): then opening the case needs neither Alembic nor, on SQLite, SQLAlchemy."""
        table, head = version
        if self._file is None:
            from custody.store import db

            return db.at_head(self.engine, table, head)
        try:
            with self.read() as s:
                found = [row[0] for row in s.rows(f"SELECT version_num FROM {table}")]
        except sqlite3.Error:  # no version table yet (a new database) or unreadable: migrations decide
            return False
        return found == [head]

    def close(self) -> None:
        with self._lock:
            self._after_fork()
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def _connection(self, begin: str) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction begun with ``begin``; whatever is not committed when the
        block ends is rolled back, and a connection that cannot roll back is closed, not kept."""
        with self._lock:
            self._after_fork()
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        owner = os.getpid()
        try:
            conn.execute(begin)
            yield conn
        finally:
            self._give_back(conn, owner)

    def _give_back(self, conn: sqlite3.Connection, owner: int) -> None:
        """Roll back what was not committed and keep ``conn`` for the next session, unless one is
        kept already or it cannot roll back: then close it. In a child forked while it was in use
        (``owner``, the process it was taken in, is the parent), it is set aside untouched."""
        if os.getpid() != owner:
            with self._lock:
                self._inherited.append(conn)
            return
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            # the error that ended the session (if any) is the one to report; a connection that
            # cannot roll back is closed, which discards its transaction
            conn.close()
            return
        with self._lock:
            keep = not self._idle
            if keep:
                self._idle.append(conn)
        if not keep:
            conn.close()

    def _after_fork(self) -> None:
        """In a forked child (under the lock): set the parent's connections aside."""
        if os.getpid() != self._pid:
            self._inherited += self._idle
            self._idle, self._pid = [], os.getpid()

    def _connect(self) -> sqlite3.Connection:
        assert self._file is not None
        conn = sqlite3.connect(
            self._file, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma)
        except BaseException:
            conn.close()
            raise
        return conn
