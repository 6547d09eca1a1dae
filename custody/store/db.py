"""The case database through SQLAlchemy: engine set-up and migrations.

Every SQLite transaction of the engine starts with ``BEGIN IMMEDIATE``, as custody's own
connections do (custody/store/sql.py, where the ledger's append lock is), so two writers never
interleave.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.pool import QueuePool

from custody.errors import CaseError, CaseNotFound, DiskFull, environment_error
from custody.store import BUSY_SECONDS, CUSTODY_VERSION, SQLITE_PRAGMAS

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = str(Path(__file__).with_name("migrations"))


SUPPORTED = ("sqlite", "postgresql")  # the dialects the migrations and tests cover
URL_HINT = "use sqlite:///path/to/case.sqlite or postgresql://user@host/database"


def check_url(url: str) -> URL:
    """The parsed URL when Exhibit can use it; :class:`CaseError` (with what to type) otherwise."""
    shown = url if len(url) <= 200 else url[:200] + "..."
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise CaseError(f"invalid database URL {shown!r}", hint=URL_HINT) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise CaseError(
            f"unsupported database {backend!r} in {shown!r}: Exhibit stores cases in SQLite or PostgreSQL",
            hint=URL_HINT,
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    parsed = check_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            # One connection for the whole command, reused: each new SQLite connection repeats the
            # PRAGMAs below, and closing the last one checkpoints the WAL (a command opened seven to
            # nine in turn). No limit on connections held at once (max_overflow=-1).
            engine = create_engine(
                parsed,
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=-1,
                connect_args={"timeout": BUSY_SECONDS},
            )
            _sqlite_setup(engine)
            _not_across_fork(engine)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:  # an unknown driver (+name) or one not installed
        raise CaseError(
            f"cannot use the database URL {parsed.render_as_string(hide_password=True)!r}: {exc}",
            hint=URL_HINT,
        ) from None


def _not_across_fork(engine: Engine) -> None:
    """A process forked while connections sit in the pool never uses its parent's: SQLite
    connections must not cross a fork (SQLAlchemy's recipe: a check-out in another process drops
    the inherited connection, without closing the parent's, and opens a new one)."""

    @event.listens_for(engine, "connect")
    def _owner(_dbapi_conn: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _same_process(_dbapi_conn: Any, record: Any, proxy: Any) -> None:
        if record.info["pid"] != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise DisconnectionError(f"connection from process {record.info['pid']}, used in {os.getpid()}")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


MIGRATE_LOCK_KEY = 0x45584D4947  # "EXMIG": serialises schema migrations of one database


def alembic_config(conn: Connection, script_location: str = MIGRATIONS) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = conn
    return cfg


HEADS = {MIGRATIONS: CUSTODY_VERSION}


def register_head(script_location: str, version_table: str, head: str) -> None:
    """Declare a package's newest revision so opening an up-to-date database skips Alembic."""
    HEADS[script_location] = (version_table, head)


def _at_head(engine: Engine, script_location: str) -> bool:
    known = HEADS.get(script_location)
    return known is not None and at_head(engine, *known)


def at_head(engine: Engine, table: str, head: str) -> bool:
    """Whether the version table ``table`` holds exactly the revision ``head``."""
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
    except Exception:  # no version table yet (new database) or unreadable: let Alembic decide
        return False
    return found == [head]


def migrate(
    engine: Engine,
    script_location: str = MIGRATIONS,
    metadata: MetaData | None = None,
    made: Callable[[Connection, list[str]], None] | None = None,
) -> None:
    """Bring the database to the newest schema of one package (custody by default).

    Each package (custody, triage) has its own migrations and version table. Alembic is only
    imported when the database is not already at the newest revision (it costs ~0.15 s).
    With ``metadata`` (the package's models, which its migrations reach at their head: a test
    compares the two schemas on SQLite and PostgreSQL), a database holding none of the package's
    tables and no version table gets them from the models and its version stamped at the head,
    without Alembic: the first triage of a case made its tables on its way to the walk. ``made``
    is then called with the tables made (the version table included), in the same transaction,
    for what the migrations do besides the schema (the triage tables' PostgreSQL privileges): a
    migration that does more (seeds rows, grants to a new role) must be mirrored there, and the
    package's test comparing the two ways (tests/triage/test_store_fresh.py) compares rows too.
    """
    if _at_head(engine, script_location):
        return
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # two commands opening a new case at once (two examiners starting triage) must not
                # both create the tables: the second waits, then finds the schema at its head
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK_KEY})
            created = _created_at_head(conn, script_location, metadata) if metadata is not None else None
            if created is not None:
                if made is not None:
                    made(conn, created)
                return
            from alembic import command

            command.upgrade(alembic_config(conn, script_location), "heads")
    except OperationalError as exc:
        _raise_if_disk_full(engine, exc)
        raise CaseNotFound(
            f"cannot open the case database {engine.url.render_as_string(hide_password=True)}: "
            + " ".join(str(exc.orig).split()),  # the server's message on one line
            hint="check the database URL, that the server runs and that the database exists",
        ) from None


def _created_at_head(conn: Connection, script_location: str, metadata: MetaData) -> list[str] | None:
    """Make ``metadata``'s tables and the version table at its head (Alembic's own layout: one
    ``version_num`` column, its primary key named ``<table>_pkc``) if the database holds none of
    them, and name the tables made; None (nothing made) otherwise, or when the package's head is
    not registered: then Alembic decides."""
    known = HEADS.get(script_location)
    if known is None:
        return None
    version_table, head = known
    present = set(inspect(conn).get_table_names())
    if version_table in present or present & set(metadata.tables):
        return None
    metadata.create_all(conn, checkfirst=False)  # none of them is there: no look-up per table
    version = Table(
        version_table,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=head))
    return [*metadata.tables, version_table]


LOW_SPACE = 1024 * 1024  # below this much free space, a SQLite I/O error is taken for a full disk


def _raise_if_disk_full(engine: Engine, exc: BaseException) -> None:
    """Say "the disk is full" when it is: SQLite reports a full disk while opening a database as
    SQLITE_FULL or, when it cannot even create its shared-memory file, as a plain I/O error."""
    found = environment_error(exc)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    folder = Path(database).parent if database else None
    if not isinstance(found, DiskFull) and folder is not None:
        try:
            if shutil.disk_usage(folder).free < LOW_SPACE:
                found = DiskFull("")
        except OSError:
            pass  # the folder is unreadable: the caller's own message says so
    if isinstance(found, DiskFull):
        where = f" at {folder}" if folder is not None else " on the database server"
        raise DiskFull(
            f"the disk is full{where}: the case database cannot be opened or changed; nothing was recorded",
            hint=f"free space{where} and run the command again",
        ) from None
