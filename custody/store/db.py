"""Opening a case database: engine set-up, migrations, and the append lock.

SQLite and PostgreSQL differ in how a writer takes the ledger for itself; both are hidden
behind :func:`ledger_lock`, which every append calls first inside its transaction:

- SQLite: every transaction starts with ``BEGIN IMMEDIATE``, so two writers never interleave;
- PostgreSQL: ``pg_advisory_xact_lock`` on a fixed key, released at commit or rollback.

The unique ``prev_hash`` column is the last line of defence against a forked chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from custody.errors import CaseNotFound

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = str(Path(__file__).with_name("migrations"))
LEDGER_LOCK_KEY = 0x45584849  # "EXHI": the advisory lock every PostgreSQL append takes
WRITER_ROLE = "exhibit_writer"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CaseNotFound(
            f"invalid database URL {url!r}", hint="use sqlite:///path or postgresql://user@host/db"
        ) from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, poolclass=NullPool, connect_args={"timeout": 60})
        _sqlite_setup(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def ledger_lock(conn: Connection) -> None:
    """Serialise appends (SQLite already holds its write lock from BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEDGER_LOCK_KEY})


def drop_to_writer_role(conn: Connection) -> None:
    """On PostgreSQL, append as the INSERT/SELECT-only role when this login may assume it."""
    if conn.dialect.name != "postgresql":
        return
    allowed = conn.execute(
        text("SELECT pg_has_role(current_user, :r, 'MEMBER') FROM pg_roles WHERE rolname = :r"),
        {"r": WRITER_ROLE},
    ).scalar()
    if allowed:
        conn.execute(text(f"SET LOCAL ROLE {WRITER_ROLE}"))


def alembic_config(conn: Connection, script_location: str = MIGRATIONS) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = conn
    return cfg


HEADS = {MIGRATIONS: ("custody_alembic_version", "c0001")}


def register_head(script_location: str, version_table: str, head: str) -> None:
    """Declare a package's newest revision so opening an up-to-date database skips Alembic."""
    HEADS[script_location] = (version_table, head)


def _at_head(engine: Engine, script_location: str) -> bool:
    known = HEADS.get(script_location)
    if known is None:
        return False
    table, head = known
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
    except Exception:  # no version table yet (new database) or unreadable: let Alembic decide
        return False
    return found == [head]


def migrate(engine: Engine, script_location: str = MIGRATIONS) -> None:
    """Bring the database to the newest schema of one package (custody by default).

    Each package (custody, triage) has its own migrations and version table. Alembic is only
    imported when the database is not already at the newest revision (it costs ~0.15 s).
    """
    if _at_head(engine, script_location):
        return
    from alembic import command

    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn, script_location), "heads")
    except OperationalError as exc:
        raise CaseNotFound(
            f"cannot open the case database {engine.url.render_as_string(hide_password=True)}: {exc.orig}",
            hint="check the database URL, that the server runs and that the database exists",
        ) from None
