"""The findings' unique index (migration t0009): led by the locator, refusing what a unique
fingerprint refused, on SQLite and PostgreSQL, and a case made before it upgraded with its rows.

Why the index changed: a fingerprint is a SHA-256, so a unique index on it alone put each new
finding on a random page of the index; storing a million messages' findings took 47 s of the
run's time (36.5 s of CPU) with it and 20 s (18 s) led by the locator (docs/performance.md, "The search's live rows and the findings' index").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from custody.case import init_case, open_case
from custody.store.db import alembic_config
from triage.engine import writes
from triage.store import HEAD, MIGRATIONS, ensure_schema
from triage.store.inserts import insert_new
from triage.store.models import Finding


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A new case's database engine, on SQLite and on PostgreSQL (no triage tables yet)."""
    db_url = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    root = tmp_path / "case"
    init_case(root, case_number="2026/12", title="findings index", db_url=db_url).close()
    engine = open_case(root).engine
    try:
        yield engine
    finally:
        engine.dispose()


def _row(n: int, locator: str | None, data: str = "{}") -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{n}\x00{locator}\x00{data}".encode()).hexdigest()
    return {
        "fingerprint": fingerprint,
        "exhibit": "EX-001",
        "record_type": "chat/android/sms",
        "plugin": "sms_android",
        "plugin_version": "1",
        "partition": None,
        "inode": None,
        "path": "/data/mmssms.db",
        "stream": None,
        "file_sha256": None,
        "locator": locator,
        "data": data,
        "run_id": "run-1",
    }


def _assert_schema(engine: Engine) -> None:
    """triage_findings has the index led by the locator's first 200 characters, the indexes on
    exhibit and record type, and no other unique index or constraint (a fingerprint under
    another locator, which a real one never is, is stored)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            schema = conn.execute(
                text("SELECT group_concat(sql, ' ') FROM sqlite_master WHERE tbl_name = 'triage_findings'")
            ).scalar()
        else:
            schema = conn.execute(
                text("SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE tablename = 'triage_findings'")
            ).scalar()
        assert writes.store_findings(conn, [{**_row(1, "sms._id=1"), "locator": "sms._id=1000"}]) == 1
    schema = " ".join(str(schema).lower().replace("''::text", "''").split())
    for name in ("ix_triage_findings_exhibit", "ix_triage_findings_record_type"):
        assert name in schema
    assert "ux_triage_findings_locator_fingerprint" in schema
    assert "substr(coalesce(locator, ''), 1, 200), fingerprint" in schema
    assert schema.count("unique") == (1 if engine.dialect.name == "sqlite" else 2)  # + PostgreSQL's pkey


def test_a_finding_is_stored_once_with_or_without_a_locator(engine: Engine) -> None:
    """The same rows stored twice (a re-run) are new once, NULL locators included (a unique
    index takes NULLs as distinct: the index counts NULL as ''); rows differing only in their
    fingerprint are both kept."""
    ensure_schema(engine)
    rows = [_row(n, f"sms._id={n}" if n % 3 else None) for n in range(1, 31)]
    rows.append(_row(99, None, '{"other": 1}'))  # same NULL locator, another fingerprint
    with engine.begin() as conn:
        assert writes.store_findings(conn, rows) == 31
    with engine.begin() as conn:
        assert writes.store_findings(conn, rows) == 0
        assert writes.store_findings(conn, [*rows[:5], _row(100, None)]) == 1
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM triage_findings")).scalar() == 32
    _assert_schema(engine)


def test_a_case_from_before_the_index_is_upgraded_with_its_findings(engine: Engine) -> None:
    """Triage tables made at t0008 (unique fingerprint) with findings in them: the upgrade keeps
    every row and id, and then refuses the same duplicates."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn, MIGRATIONS), "t0008")
    rows = [_row(n, f"sms._id={n}" if n % 2 else None) for n in range(1, 21)]
    with engine.begin() as conn:
        table: Any = Finding
        assert insert_new(conn, table, rows, "fingerprint") == 20
        before = conn.execute(
            text("SELECT id, fingerprint, locator, data FROM triage_findings ORDER BY id")
        ).all()
    ensure_schema(engine)
    with engine.begin() as conn:
        version = conn.execute(text("SELECT version_num FROM triage_alembic_version")).scalars().all()
        assert version == [HEAD] == ["t0009"]
        after = conn.execute(
            text("SELECT id, fingerprint, locator, data FROM triage_findings ORDER BY id")
        ).all()
        assert after == before
        assert writes.store_findings(conn, rows) == 0
        assert writes.store_findings(conn, [_row(21, None)]) == 1
    _assert_schema(engine)


def test_a_locator_of_any_length_is_stored_once(engine: Engine) -> None:
    """A locator is made from the evidence (a row's key, a document's part name) and can be long
    and random: PostgreSQL refuses a B-tree entry over about 2.7 KB, so only the locator's first
    200 characters lead the index; rows sharing them still differ by fingerprint."""
    import random

    ensure_schema(engine)
    rnd = random.Random(8)
    prefix = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(200))
    long = [
        _row(n, prefix + "".join(rnd.choice("0123456789abcdef") for _ in range(20_000))) for n in range(3)
    ]
    with engine.begin() as conn:
        assert writes.store_findings(conn, long) == 3
        assert writes.store_findings(conn, long) == 0
        stored = conn.execute(text("SELECT locator FROM triage_findings ORDER BY id")).scalars().all()
    assert stored == [r["locator"] for r in long]
