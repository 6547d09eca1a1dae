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
import uuid
from pathlib import Path

import pytest

from tests.conftest import FORENSICS_SAMPLES, PG_ADMIN, pg_available, pg_connect
from tests.docs_runner import run_page
from tests.triage.test_distributed import REDIS, _reachable

LAB = Path(__file__).resolve().parents[1] / "docs" / "lab.md"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


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
    try:
        ran = run_page(
            LAB, work, monkeypatch, names={"exhibit_trial": database, "lab-trial": queue}, timeout=180
        )
    finally:
        pid = work / "worker.pid"
        if pid.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.read_text()), signal.SIGKILL)
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    runs = json.loads((work / "runs.json").read_text())
    distributed = runs[0]["arguments"]["distributed"]
    assert distributed["broker"] == "redis://127.0.0.1:6379/0" and distributed["queue"] == queue
    assert distributed["broker_from"] == "case setting" and distributed["job_files"] == 16
    ((node, share),) = runs[0]["workers"].items()  # one worker read every file, in several jobs
    assert node.startswith("trial@") and share["files"] == 60 and share["jobs"] >= 4
    triages = [r.output for r in ran if r.command.shell.startswith("exhibit triage EX-001")]
    assert len(triages) == 2 and all("60 files hashed" in t for t in triages)
    assert "on the workers" in triages[0] and "from the case setting" in triages[0]
    assert "reading on this machine (--local" in triages[1]
    assert "43 new findings" in triages[0] and "0 new findings" in triages[1]  # the same findings again
    verified = [r.output for r in ran if r.command.shell == "exhibit custody verify"]
    assert verified and "OK" in verified[0], verified
