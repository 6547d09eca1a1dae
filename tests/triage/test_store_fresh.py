"""A case without triage tables gets them from the models (custody.store.db.migrate with the
models' metadata), without Alembic: the same schema, to the constraint and index names, as
Alembic's migrations give, on SQLite and PostgreSQL, stamped at the head so that later
migrations run on it as on a migrated case. The first triage of every case made its tables on its
way to the walk (docs/performance.md: 0.06-0.22 s of a 5 s run).

Whenever a migration is added, the models must reach the same schema: this test says where not.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from custody.case import init_case, open_case
from custody.store.db import alembic_config
from tests.conftest import PG_ADMIN, pg_available, pg_connect
from triage.store import HEAD, MIGRATIONS, ensure_schema
from triage.store.models import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def two_cases(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Engine]]:
    """Two new cases' engines (custody tables, no triage tables yet), on the same server kind."""
    databases: list[str] = []
    if request.param == "postgresql":
        why = pg_available()
        if why:
            pytest.skip(why)
        databases = [f"exhibit_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        with pg_connect() as conn:
            for name in databases:
                conn.execute(f'CREATE DATABASE "{name}"')
    engines = []
    try:
        for n, label in enumerate(("made", "migrated")):
            db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + databases[n] if databases else None
            root = tmp_path / label
            init_case(root, case_number="2026/12", title="fresh tables", db_url=db_url).close()
            engines.append(open_case(root).engine)
        yield engines[0], engines[1]
    finally:
        for e in engines:
            e.dispose()
        if databases:
            with pg_connect() as conn:
                for name in databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: Every table the triage migrations make: the models' and the version table.
TABLES = sorted({*metadata.tables, "triage_alembic_version"})


def _schema(engine: Engine) -> dict[str, Any]:
    """Every triage table's columns (in order, with types, NULL, defaults, primary key), indexes
    (unique or not, columns or expressions, their SQL), constraints, foreign keys and rows; on
    SQLite the normalised CREATE text too, on PostgreSQL the privileges on them and on the
    sequences (the migrations grant them)."""
    if engine.dialect.name == "sqlite":
        con = sqlite3.connect(f"file:{engine.url.database}?mode=ro", uri=True)
        try:
            out: dict[str, Any] = {}
            present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for name in TABLES:
                if name not in present:
                    out[name] = None
                    continue
                indexes = []
                for row in con.execute(f'PRAGMA index_list("{name}")').fetchall():
                    columns = [
                        i[2] for i in con.execute(f'PRAGMA index_xinfo("{row[1]}")').fetchall() if i[5]
                    ]
                    index_sql = con.execute(
                        "SELECT sql FROM sqlite_master WHERE name = ?", (row[1],)
                    ).fetchone()
                    indexes.append((row[1], row[2], row[3], columns, index_sql[0] if index_sql else None))
                sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
                out[name] = {
                    # the CREATE text with spacing and quoting normalised (SQLite appends each ADD
                    # COLUMN to it as typed, and keeps the quotes of a renamed table): WITHOUT
                    # ROWID, CHECK, COLLATE and AUTOINCREMENT show only there
                    "sql": " ".join(sql.replace('"', "").replace("(", " ( ").replace(",", " , ").split()),
                    "table_list": con.execute(f'PRAGMA table_list("{name}")').fetchall(),
                    "rows": con.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall(),
                    "columns": con.execute(f'PRAGMA table_info("{name}")').fetchall(),
                    "indexes": sorted(indexes, key=str),
                    "foreign keys": con.execute(f'PRAGMA foreign_key_list("{name}")').fetchall(),
                }
            return out
        finally:
            con.close()
    names = {"names": TABLES}
    with engine.connect() as conn:
        return {
            "tables": conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_name = ANY(:names) ORDER BY 1"
                ),
                names,
            ).fetchall(),
            "columns": conn.execute(
                text(
                    "SELECT table_name, column_name, data_type, is_nullable, column_default, "
                    "character_maximum_length, ordinal_position FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = ANY(:names) ORDER BY 1, 2"
                ),
                names,
            ).fetchall(),
            "indexes": conn.execute(
                text(
                    "SELECT tablename, indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = 'public' AND tablename = ANY(:names) ORDER BY 1, 2"
                ),
                names,
            ).fetchall(),
            "constraints": conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                    "AND conrelid::regclass::text = ANY(:names) ORDER BY 1, 2"
                ),
                names,
            ).fetchall(),
            "rows": {
                name: conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1')).fetchall() for name in TABLES
            },
            "privileges": conn.execute(
                text(
                    "SELECT relname, relkind, relacl::text FROM pg_class "
                    "WHERE relnamespace = 'public'::regnamespace "
                    "AND (relname = ANY(:names) OR relkind = 'S') ORDER BY 1"
                ),
                names,
            ).fetchall(),
        }


def test_a_case_without_triage_tables_gets_alembics_schema_without_alembic(
    two_cases: tuple[Engine, Engine],
) -> None:
    made, migrated = two_cases
    from alembic import command

    with migrated.begin() as conn:  # the migrations, one by one, as every case before this change
        command.upgrade(alembic_config(conn, MIGRATIONS), "heads")
    ensure_schema(made)  # from the models
    assert "triage_files" in inspect(made).get_table_names()
    made_schema = _schema(made)
    assert all(made_schema.values()) and made_schema == _schema(migrated)
    with made.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM triage_alembic_version")).scalars().all() == [HEAD]
    with made.begin() as conn:  # Alembic finds it at its head: nothing to run
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = alembic_config(conn, MIGRATIONS)
        context = MigrationContext.configure(conn, opts={"version_table": "triage_alembic_version"})
        assert set(context.get_current_heads()) == set(ScriptDirectory.from_config(cfg).get_heads())


def test_the_models_path_does_not_import_alembic(tmp_path: Path) -> None:
    root = tmp_path / "case"
    init_case(root, case_number="2026/12", title="fresh tables").close()
    probe = (
        "import sys; from pathlib import Path; from custody.case import open_case; "
        "from triage.store import ensure_schema; "
        f"c = open_case(Path({str(root)!r})); ensure_schema(c.engine); c.close(); "
        "print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_case_with_some_triage_tables_is_left_to_alembic(tmp_path: Path) -> None:
    """Tables from an older Exhibit without a version table (or any other partial state) are not
    made over from the models: Alembic decides, as before (here it refuses to create a table that
    exists), and nothing is made. In a fresh process, to see that it was Alembic that answered."""
    root = tmp_path / "case"
    init_case(root, case_number="2026/12", title="partial").close()
    engine = open_case(root).engine
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE triage_runs (id VARCHAR(36) PRIMARY KEY)"))
    finally:
        engine.dispose()
    probe = (
        "import sys; from pathlib import Path; from custody.case import open_case; "
        "from triage.store import ensure_schema; "
        f"c = open_case(Path({str(root)!r}))\n"
        "try:\n    ensure_schema(c.engine)\nexcept Exception as exc:\n    print('refused:', 'triage_runs' in str(exc))\n"
        "print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["refused:", "True", "True"]  # by Alembic
    engine = open_case(root).engine
    try:
        assert "triage_files" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
