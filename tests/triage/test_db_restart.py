"""Bad conditions (issue 11, section 4): the PostgreSQL server restarts in the middle of a triage run.
On a server of the test's own (tests/private_pg.py), never the shared one. The run stops with a
clear message (no traceback, exit status 2), nothing half-written is kept, and the same command
run again resumes and completes; the ledger verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from custody.actors import add_actor
from custody.case import init_case, open_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import CORPUS, need
from tests.private_pg import private_postgres
from tests.triage.test_engine import build_ext4
from triage.store.models import File

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_a_postgresql_restart_stops_the_run_cleanly_and_it_resumes(tmp_path: Path) -> None:
    jpeg = (need(CORPUS) / "images/gps/DSCN0010.jpg").read_bytes()
    files = {f"d{i % 9}/f{i}.bin": os.urandom(2048 + i) for i in range(6000)}
    files.update({f"DCIM/{i:03d}.jpg": jpeg + bytes([i % 256, i // 256]) for i in range(150)})
    image = build_ext4(tmp_path, files, size_mib=128)
    with private_postgres() as server:
        server.create_database("case1")
        case = init_case(tmp_path / "case", case_number="2026/9", title="restart", db_url=server.url("case1"))
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, image, exhibit="EX-001", actor="asmith", description="busy")
        case.close()
        command = [
            sys.executable, "-m", "custody.cli", "triage", "EX-001", "--actor", "asmith", "--workers", "1",
            "--case", str(tmp_path / "case"),
        ]  # fmt: skip
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and run.poll() is None and stored < 500:
            time.sleep(0.2)
            with open_case(tmp_path / "case") as c, c.engine.connect() as conn:
                try:
                    stored = conn.execute(select(func.count()).select_from(File)).scalar_one()
                except Exception:  # the table is not made yet
                    stored = 0
        assert run.poll() is None, "the run ended before the server restarted"
        server.restart()
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 2, err
        assert "lost the connection to the case database" in err and "run the same command again" in " ".join(
            err.split()
        )
        assert "Traceback" not in err and "internal error" not in err
        again = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        with open_case(tmp_path / "case") as c:
            report = verify_case(c)
            assert report.ok, report.problems
            derived = [e for e in c.ledger.entries(exhibit="EX-001") if e.kind == "item.derive"]
            assert len(derived) == len({(e.data["path"], e.data["inode"]) for e in derived}) == 150


def test_a_server_gone_before_the_runs_next_connection_is_said_so(tmp_path: Path) -> None:
    """The server goes away between two steps of a run (here after the walk, its connections
    closed): the next step's new connection fails with psycopg's "connection failed", which has
    no SQLSTATE and is not marked invalidated. It is reported as the lost connection it is
    (exit 2, run it again), not as an internal error."""
    from custody.errors import DatabaseGone, environment_error
    from triage.engine.run import run_triage

    image = build_ext4(tmp_path, {f"d/f{i}.bin": os.urandom(300) for i in range(50)})
    with private_postgres() as server:
        server.create_database("gone")
        case = init_case(tmp_path / "case", case_number="2026/9", title="gone", db_url=server.url("gone"))
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, image, exhibit="EX-001", actor="asmith", description="small")

        def server_gone(files: int, size: int) -> None:
            server.stop()
            case.engine.dispose()  # the pooled connections closed: the next step opens a new one

        with pytest.raises(Exception) as raised:
            run_triage(case, "EX-001", actor="asmith", on_total=server_gone)
        assert "connection failed" in str(raised.value)
        said = environment_error(raised.value)
        assert isinstance(said, DatabaseGone), raised.value
        assert "lost the connection to the case database" in str(said)
        assert "run the same command again" in (said.hint or "")


def test_a_connection_the_server_refuses_for_its_own_reason_is_not_a_lost_one(pg_database: str) -> None:
    """A server that answers but refuses (no such database) is not "lost the connection ... run
    it again when the server is back": that advice would not help."""
    from sqlalchemy import create_engine

    from custody.errors import DatabaseGone, environment_error

    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1) + "_missing")
    with pytest.raises(Exception) as raised:
        engine.connect()
    engine.dispose()
    assert "does not exist" in str(raised.value)
    assert not isinstance(environment_error(raised.value), DatabaseGone)
