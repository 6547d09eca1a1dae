"""Fixtures for the ledger tests: every test runs on SQLite AND on a fresh PostgreSQL database.

The PostgreSQL database is created for the test and dropped after it, so runs never share state.
Tamper helpers run plain SQL that bypasses the application (guards disabled first), as an
attacker with database access would.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from custody import timefmt
from custody.actors import add_actor
from custody.case import Case, init_case
from tests.conftest import pg_connect


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


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the recording computer's clock for the entries recorded next (the ledger takes its
    stamps from ``custody.timefmt.stamp``): entries are recorded for real, properly signed."""
    real = timefmt.stamp

    def setter(when: datetime) -> None:
        monkeypatch.setattr(timefmt, "stamp", lambda dt=None: real(dt or when))

    return setter


def tamper(case: Case, statement: str, params: dict[str, object] | tuple[object, ...] = ()) -> None:
    """Run SQL against the case database as an attacker: triggers dropped/disabled first."""
    url = case.engine.url
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            for table in ("case_info", "entries", "checkpoints", "checkpoint_timestamps", "tsa_config"):
                for action in ("update", "delete"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
            conn.execute(statement.replace("%s", "?"), params)
        finally:
            conn.close()
    else:
        with pg_connect(url.database) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(statement, params)  # type: ignore[arg-type]
