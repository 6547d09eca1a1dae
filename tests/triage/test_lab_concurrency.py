"""Many people on one case (issue 11, section 2), on the real PostgreSQL server: two examiners
triage two exhibits at the same time, as separate ``exhibit triage`` processes, while the evidence
officer records hand-overs of a third; the ledger stays one chain and verifies.

Also a per-person database login (docs/lab.md): a PostgreSQL role for one person, member of the
application's INSERT/SELECT-only ``exhibit_writer`` role, records custody events through Exhibit but
cannot change or delete the ledger even with SQL of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import init_case, open_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import CORPUS, PG_ADMIN, need, pg_connect
from tests.triage.test_engine import build_ext4
from triage.store import HEAD, ensure_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

OFFICER_SCRIPT = """
import sys
from pathlib import Path
from custody.case import open_case
from custody.events import record_event
with open_case(Path(sys.argv[1])) as case:
    for i in range(int(sys.argv[2])):
        record_event(case, "check-out", "EX-003", actor="jdoe", reason=f"hand-over {i}")
        record_event(case, "check-in", "EX-003", actor="jdoe", location=f"shelf {i}")
"""


def _image(folder: Path, tag: str) -> Path:
    jpeg = (need(CORPUS) / "images/gps/DSCN0010.jpg").read_bytes()
    files = {f"DCIM/{tag}{i:03d}.jpg": jpeg + tag.encode() + bytes([i]) for i in range(40)}
    files.update({f"data/{tag}{i}.bin": os.urandom(3000 + i) for i in range(800)})
    folder.mkdir()
    return build_ext4(folder, files, size_mib=32)


def test_two_examiners_and_an_evidence_officer_at_once(tmp_path: Path, pg_database: str) -> None:
    case = init_case(tmp_path / "case", case_number="2026/11", title="lab", db_url=pg_database)
    for who, role in (("jdoe", "evidence-officer"), ("asmith", "examiner"), ("bcole", "examiner")):
        add_actor(case, who, name=who.title(), role=role)
    acquire(case, _image(tmp_path / "a", "a"), exhibit="EX-001", actor="jdoe", description="disk a")
    acquire(case, _image(tmp_path / "b", "b"), exhibit="EX-002", actor="jdoe", description="disk b")
    small = tmp_path / "c.bin"
    small.write_bytes(os.urandom(4096))
    acquire(case, small, exhibit="EX-003", actor="jdoe", description="SIM card image")
    before = case.ledger.count()
    env = {**os.environ, "COLUMNS": "200"}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "custody.cli",
                "triage",
                ex,
                "--actor",
                who,
                "--workers",
                "1",
                "--case",
                str(case.root),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for ex, who in (("EX-001", "asmith"), ("EX-002", "bcole"))
    ]
    officer = subprocess.Popen(
        [sys.executable, "-c", OFFICER_SCRIPT, str(case.root), "15"], env=env, stderr=subprocess.PIPE
    )
    for proc in (*runs, officer):
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    entries = list(case.ledger.entries())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert len({e.prev_hash for e in entries}) == len(entries)  # one chain, no fork
    new = entries[before:]
    assert sum(e.kind.startswith("custody.") for e in new) == 30
    for exhibit, who in (("EX-001", "asmith"), ("EX-002", "bcole")):
        [run] = [e for e in new if e.kind == "triage.run" and e.exhibit == exhibit]
        derived = [e for e in new if e.kind == "item.derive" and e.exhibit == exhibit]
        assert run.actor == who and run.data["derived"] == len(derived) == 40
    report = verify_case(case)
    assert report.ok, report.problems[:5]
    case.close()


def test_a_per_person_login_records_but_cannot_rewrite(tmp_path: Path, pg_database: str) -> None:
    case = init_case(tmp_path / "case", case_number="2026/12", title="logins", db_url=pg_database)
    add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer")
    small = tmp_path / "c.bin"
    small.write_bytes(os.urandom(4096))
    acquire(case, small, exhibit="EX-001", actor="jdoe", description="SIM card image")
    acquire(case, _image(tmp_path / "a", "a"), exhibit="EX-002", actor="jdoe", description="disk")
    ensure_schema(case.engine)  # the triage tables, as any command of an examiner makes them
    case.close()
    login = f"jdoe_{pg_database.rsplit('_', 1)[-1]}"
    database = pg_database.rsplit("/", 1)[-1]
    with pg_connect() as conn:  # what docs/lab.md tells the database administrator to run
        conn.execute(f"CREATE ROLE {login} LOGIN")
        conn.execute(f"GRANT exhibit_examiner TO {login}")
    try:
        with pg_connect(database) as conn:
            conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {login}')
            conn.execute(f"GRANT USAGE ON SCHEMA public TO {login}")
        personal = PG_ADMIN.rsplit("/", 1)[0].replace("postgres@", f"{login}@") + "/" + database
        # Exhibit, connected as the person, appends and verifies
        (tmp_path / "case" / "exhibit-case.json").write_text(
            (tmp_path / "case" / "exhibit-case.json").read_text().replace(pg_database, personal)
        )
        with open_case(tmp_path / "case") as mine:
            from custody.events import record_event

            record_event(mine, "move", "EX-001", actor="jdoe", location="locker 4")
            assert verify_case(mine).ok
            with mine.engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT current_user").scalar() == login
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "custody.cli",
                "triage",
                "EX-002",
                "--actor",
                "jdoe",
                "--case",
                str(tmp_path / "case"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        with open_case(tmp_path / "case") as mine:
            report = verify_case(mine)
            assert report.ok, report.problems
            assert sum(e.kind == "item.derive" for e in mine.ledger.entries(exhibit="EX-002")) == 40
        # SQL of their own: no UPDATE or DELETE privilege, whatever the triggers
        import psycopg

        with psycopg.connect(
            personal.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as conn:
            for statement in (
                "UPDATE entries SET actor = 'x'",
                "DELETE FROM checkpoints",
                "TRUNCATE entries",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    finally:
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f"DROP OWNED BY {login}")
            conn.execute(f"DROP ROLE IF EXISTS {login}")


MIGRATE_SCRIPT = """
import sys
from sqlalchemy import create_engine
from triage.store import HEAD, ensure_schema
ensure_schema(create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1)))
"""


def test_commands_opening_a_new_case_at_once_migrate_it_once(tmp_path: Path, pg_database: str) -> None:
    """Was: two examiners' first triage runs on a new case both created the triage tables and one
    failed with an internal error (duplicate triage_alembic_version)."""
    init_case(tmp_path / "case", case_number="2026/13", title="race", db_url=pg_database).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", MIGRATE_SCRIPT, pg_database], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    with pg_connect(pg_database.rsplit("/", 1)[-1]) as conn:
        assert conn.execute("SELECT version_num FROM triage_alembic_version").fetchall() == [(HEAD,)]
