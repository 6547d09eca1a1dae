"""Run the "Try it on one machine" walk-through of docs/lab.md: a case on the real PostgreSQL
server, an ``exhibit worker`` on the real Redis, the case's broker setting, a triage read by the
worker, and the run's record of it (same convention as tests/test_docs_pages.py).

The page's database and queue names are made unique for the test run, so that runs at the same
time on the shared servers cannot meet; the worker the page starts is killed by the page, and
again here if a command failed before that line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import FORENSICS_SAMPLES, PG_ADMIN, pg_available, pg_connect
from tests.docs_runner import run_page
from tests.procs import children
from tests.triage.test_distributed import REDIS, _reachable

LAB = Path(__file__).resolve().parents[1] / "docs" / "lab.md"
PAGE_BROKER = "redis://127.0.0.1:6379/0"  # the broker the page names

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _stop_worker(pid_file: Path, queue: str) -> None:
    """The worker the page started, if a command failed before the page's own ``kill``: ended
    as its unit would end it (SIGTERM, then SIGKILL after 15 s), its pool processes too, and only
    when the process of that pid is still that worker (its command line names the test's queue)."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        if queue.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return  # gone (the page stopped it) and the pid is someone else's now, or never ours
    except OSError:
        return
    pool = children(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    for left in [pid, *pool]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(left, signal.SIGKILL)


def _forget_queue(queue: str) -> None:
    """The queue's keys in Redis (Celery's bindings and the list), so runs leave nothing behind."""
    import redis

    client = redis.Redis.from_url(PAGE_BROKER)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


def test_lab_trial_on_one_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for why in (pg_available(), _reachable(REDIS)):
        if why:
            pytest.skip(why)
    for tool in ("createdb", "jq", "unxz"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install postgresql-client jq xz-utils)")
    if not (FORENSICS_SAMPLES / "fs.vfat.xz").exists():
        pytest.skip(
            f"sample image absent: {FORENSICS_SAMPLES / 'fs.vfat.xz'} (apt-get install forensics-samples-vfat)"
        )
    if "@127.0.0.1:5432/" not in PG_ADMIN:
        pytest.skip(f"the page uses PostgreSQL at 127.0.0.1:5432; the tests were given {PG_ADMIN}")
    tag = uuid.uuid4().hex[:10]
    database, queue = f"exhibit_trial_{tag}", f"lab-trial-{tag}"
    work = tmp_path / "lab"
    work.mkdir()
    names = {
        "exhibit_trial": database,
        "lab-trial": queue,
        "trial@%h": f"trial-{tag}@%h",
        "trial@vm": f"trial-{tag}@{socket.gethostname()}",  # the worker as the page shows it
    }
    try:
        ran = run_page(LAB, work, monkeypatch, names=names, timeout=180)
    finally:
        _stop_worker(work / "worker.pid", queue)
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _forget_queue(queue)

    runs = json.loads((work / "runs.json").read_text())
    distributed = runs[0]["arguments"]["distributed"]
    assert distributed["broker"] == PAGE_BROKER and distributed["queue"] == queue
    assert distributed["broker_from"] == "case setting" and distributed["job_files"] == 16
    ((node, share),) = runs[0]["workers"].items()  # one worker read every file, in several jobs
    assert node.startswith(f"trial-{tag}@") and share["files"] == 60 and share["jobs"] >= 4
    triages = [r.output for r in ran if r.command.shell.startswith("exhibit triage EX-001")]
    assert len(triages) == 2 and all("60 files hashed" in t for t in triages)
    assert "on the workers" in triages[0] and "from the case setting" in triages[0]
    assert "reading on this machine (--local" in triages[1]
    assert "43 new findings" in triages[0] and "0 new findings" in triages[1]  # the same findings again
    verified = [r.output for r in ran if r.command.shell == "exhibit custody verify"]
    assert verified and "OK" in verified[0], verified
