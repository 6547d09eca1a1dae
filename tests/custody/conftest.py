"""Fixtures for the ledger tests: every test runs on SQLite AND on a fresh PostgreSQL database.

The PostgreSQL database is created for the test and dropped after it, so runs never share state.
Tamper helpers run plain SQL that bypasses the application (guards disabled first), as an
attacker with database access would.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case

PG_ADMIN = os.environ.get("EXHIBIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_connect(dbname: str | None = None):  # type: ignore[no-untyped-def]
    import psycopg

    url = PG_ADMIN if dbname is None else PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def pg_available() -> str | None:
    try:
        with _pg_connect() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: not here
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"
    return None


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database URL, dropped after the test."""
    why = pg_available()
    if why:
        pytest.skip(why)
    name = f"exhibit_test_{uuid.uuid4().hex[:12]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def case(tmp_path: Path, db_url: str | None) -> Iterator[Case]:
    """A case with two registered actors: jdoe (evidence officer) and asmith (examiner)."""
    c = init_case(tmp_path / "case", case_number="2026/017", title="Op. Test", agency="Lab", db_url=db_url)
    add_actor(c, "jdoe", name="Jane Doe", role="evidence-officer", org="City Police")
    add_actor(c, "asmith", name="Alan Smith", role="examiner", org="Lab")
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """A small raw image of random bytes (acquired read-only by the tests)."""
    path = tmp_path / "evidence" / "disk.dd"
    path.parent.mkdir()
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 512))
    return path


def tamper(case: Case, statement: str, params: dict[str, object] | tuple[object, ...] = ()) -> None:
    """Run SQL against the case database as an attacker: triggers dropped/disabled first."""
    url = case.engine.url
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            for table in ("case_info", "entries", "checkpoints"):
                for action in ("update", "delete"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
            conn.execute(statement.replace("%s", "?"), params)
        finally:
            conn.close()
    else:
        with _pg_connect(url.database) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(statement, params)  # type: ignore[arg-type]
