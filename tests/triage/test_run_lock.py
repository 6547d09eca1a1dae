"""Issue 7 point 6: one triage run per exhibit at a time, and workers die with their run.

Real ``exhibit triage`` processes on a real ext4 image (mke2fs -d), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import CORPUS, need
from tests.procs import children
from tests.triage.test_engine import build_ext4
from triage.engine import lock
from triage.engine.run import TriageOptions, run_triage
from triage.store import ensure_schema
from triage.store.models import ExhibitLock, Run


@pytest.fixture(scope="module")
def busy_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough files (photos a plugin reads, random data) to keep a run busy for a few seconds."""
    jpeg = (need(CORPUS) / "images/gps/DSCN0010.jpg").read_bytes()
    files = {f"d{i % 9}/f{i}.bin": os.urandom(2048 + i) for i in range(6000)}
    files.update({f"DCIM/{i:03d}.jpg": jpeg for i in range(200)})
    return build_ext4(tmp_path_factory.mktemp("busy"), files, size_mib=128)


def _case(root: Path, image: Path, url: str | None) -> Case:
    case = init_case(root, case_number="2026/7", title="lock", db_url=url)
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    acquire(case, image, exhibit="EX-001", actor="asmith", description="busy")
    return case


def _triage(case: Case, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "custody.cli", "triage", "EX-001", *args, "--case", str(case.root)],
        env={**os.environ, "EXHIBIT_ACTOR": "asmith"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def _lock_holder(case: Case) -> str | None:
    try:
        with case.engine.connect() as conn:
            return conn.execute(select(ExhibitLock.c.run_id)).scalar()
    except Exception:  # the table does not exist yet
        return None


def _runs(case: Case) -> int:
    """Triage runs started (the row exists before the run walks the evidence)."""
    try:
        with case.engine.connect() as conn:
            return len(conn.execute(select(Run.c.id)).all())
    except Exception:  # the table does not exist yet
        return 0


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_concurrent_runs_of_one_exhibit(
    tmp_path: Path, busy_image: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Was: both ran, duplicating item.derive entries (and, on PostgreSQL, miscounting findings)."""
    url = request.getfixturevalue("pg_database") if backend == "postgresql" else None
    case = _case(tmp_path / "case", busy_image, url)
    try:
        first = _triage(case, "--workers", "1")
        _wait_for(lambda: _runs(case) or first.poll() is not None)
        assert first.poll() is None, "the first run ended before the second one started"
        second = _triage(case, "--workers", "1")
        out, err = second.communicate(timeout=120)
        running = first.poll() is None
        assert second.returncode == 2, (out, err)
        assert b"EX-001 is being triaged by another run" in err and b"Traceback" not in err
        assert running, "the first run ended before the second one was refused"
        assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else b""
        derived = [
            (e.data["path"], e.data["inode"])
            for e in case.ledger.entries(exhibit="EX-001")
            if e.kind == "item.derive"
        ]
        assert len(derived) == len(set(derived)) == 200
        [run] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == "triage.run"]
        assert run.data["counts"]["findings"] == run.data["digest"]["tables"]["triage_findings"]["rows"]
        assert _lock_holder(case) is None  # released
        report = verify_case(case)
        assert report.ok, report.problems
    finally:
        case.close()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    ("host", "pid", "age", "taken"),
    [
        ("here", "dead", 0, True),  # this host, process gone: stale
        ("here", "reused", 0, True),  # this host, pid alive but another process (start time differs)
        ("here", "alive", 0, False),  # this host, the holder is running
        ("elsewhere", "alive", 3600, True),  # another host, no progress for an hour: stale
        ("elsewhere", "alive", 60, False),  # another host, progress a minute ago
    ],
)
def test_a_stale_lock_is_cleared_a_live_one_refuses(
    tmp_path: Path, busy_image: Path, host: str, pid: str, age: int, taken: bool
) -> None:
    from datetime import UTC, datetime, timedelta

    from custody import timefmt

    case = _case(tmp_path / "case", busy_image, None)
    try:
        ensure_schema(case.engine)
        holder_pid = _dead_pid() if pid == "dead" else os.getpid()
        start = lock.process_start(os.getpid())
        assert start is not None
        beat = timefmt.stamp(datetime.now(UTC) - timedelta(seconds=age)).utc
        with case.engine.begin() as conn:
            conn.execute(
                insert(ExhibitLock).values(
                    exhibit="EX-001",
                    run_id="old-run",
                    host=socket.gethostname() if host == "here" else "lab-pc-7",
                    pid=holder_pid,
                    pid_start=start + 1 if pid == "reused" else start,
                    acquired_utc=beat,
                    heartbeat_utc=beat,
                )
            )
        if taken:
            lock.acquire(case.engine, "EX-001", "new-run")
            assert _lock_holder(case) == "new-run"
        else:
            with pytest.raises(lock.ExhibitBusy) as info:
                run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
            assert "old-run" in str(info.value) and info.value.hint
            assert _lock_holder(case) == "old-run"
            assert not any(e.kind == "triage.run" for e in case.ledger.entries())
    finally:
        case.close()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def _holding(path: Path) -> list[int]:
    """Pids with ``path`` open, from /proc/*/fd."""
    target = str(path.resolve())
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fds = list((d / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    pids.append(int(d.name))
                    break
            except OSError:
                continue
    return pids


def test_kill_9_of_a_multi_worker_run_kills_its_workers(tmp_path: Path, busy_image: Path) -> None:
    """Was: the workers went on running, with the evidence open, after the run was killed."""
    case = _case(tmp_path / "case", busy_image, None)
    try:
        run = _triage(case, "--workers", "2")
        workers: set[int] = set()

        def reading() -> bool:
            # the run's children that hold the evidence open now: its pool's workers (the walk's
            # child, which ends after the walk, is left out once it has gone)
            holders = set(_holding(busy_image))
            workers.clear()
            workers.update(p for p in children(run.pid) if _alive(p) and p in holders)
            return len(workers) >= 2 or run.poll() is not None

        _wait_for(reading)
        assert run.poll() is None and len(workers) >= 2, "the run ended before two workers read"
        run.send_signal(signal.SIGKILL)
        run.wait()
        _wait_for(lambda: not any(_alive(p) for p in workers), timeout=5)
        assert not _holding(busy_image)
    finally:
        case.close()


def test_a_worker_whose_run_is_gone_exits(tmp_path: Path) -> None:
    """The race the parent-death signal cannot cover: the parent died before the request."""
    code = (
        "import os, sys\n"
        "from triage.engine.workers import die_with_parent\n"
        "die_with_parent(int(sys.argv[1]))\n"
        "print('still here')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "1"], capture_output=True, timeout=60)
    assert done.returncode == 1 and b"still here" not in done.stdout
    mine = subprocess.run([sys.executable, "-c", code, str(os.getpid())], capture_output=True, timeout=60)
    assert mine.returncode == 0 and b"still here" in mine.stdout


def test_a_failing_release_does_not_hide_the_runs_own_error(tmp_path: Path) -> None:
    """Found in review: when the run failed and releasing its lock failed too (the database gone
    read-only, the table damaged), the release error replaced the run's, so the examiner was told
    about the lock instead of what went wrong."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'case.db'}")
    ensure_schema(engine)
    with pytest.raises(ValueError, match="the run's own problem"), lock.holding(engine, "EX-001", "run-1"):
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE triage_locks"))  # release will fail
        raise ValueError("the run's own problem")
    engine.dispose()
