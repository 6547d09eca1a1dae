"""Bad conditions of a distributed run (issue 11, section 4), with real processes and servers.

- the broker restarts in the middle of a run (a private ``redis-server`` of the test's own,
  tests/private_broker.py: the shared one is never restarted);
- a worker that cannot see the evidence path;
- two coordinators on the same exhibit;
- a worker whose clock is wrong.

The PostgreSQL restart is tests/triage/test_db_restart.py; a worker killed is
tests/triage/test_distributed.py, whose fixtures (the ext4 image, the slow test plugin, the
``exhibit worker`` processes) these tests use.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custody.case import open_case
from custody.verify import verify_case
from tests.private_broker import PrivateRedis, private_redis
from tests.triage import test_distributed as distributed
from tests.triage.test_distributed import EXHIBIT, Workers, _canonical, _case, _local_run
from triage.engine.run import TriageOptions, run_triage
from triage.views.findings import list_runs

pytestmark = pytest.mark.slow

image = distributed.image  # the fixtures: the small ext4 phone, the slow test plugin
slow_plugin = distributed.slow_plugin


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


def _workers(url: str, plugins: Path, tmp_path: Path) -> Workers:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return Workers(url, f"test-{uuid.uuid4().hex[:10]}", plugins, logs)


def test_a_redis_restart_in_the_middle_of_a_run(
    tmp_path: Path, image: Path, slow_plugin: Path, redis_server: PrivateRedis
) -> None:
    from triage.distributed.runner import CeleryRunner

    expected = _local_run(tmp_path, image, ["slow_test.ms=0"])
    marker = tmp_path / "started"
    marker.mkdir()
    workers = _workers(redis_server.url, slow_plugin, tmp_path)
    try:
        workers.start("r1")
        workers.start("r2")
        workers.wait_listening()
        c = _case(tmp_path / "remote-case", image)
        outcome: dict[str, Any] = {}

        def coordinate() -> None:
            runner = CeleryRunner(redis_server.url, queue=workers.queue, job_files=1)
            options = TriageOptions(
                option_values=["slow_test.ms=700", f"slow_test.marker={marker}"], runner=runner
            )
            try:
                outcome["summary"] = run_triage(c, "EX-001", actor="asmith", options=options)
            except BaseException as exc:
                outcome["error"] = exc

        coordinator = threading.Thread(target=coordinate)
        coordinator.start()
        deadline = time.monotonic() + 30
        while len(list(marker.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(marker.iterdir())) >= 3, "no slow file was started"
        redis_server.restart(down=1.0)
        coordinator.join(180)
        assert not coordinator.is_alive(), "the run hangs after the broker restarted"
        assert "error" not in outcome, outcome.get("error")
        assert outcome["summary"].status == "complete"
        assert _canonical(c) == expected  # exactly the rows of a local run: none lost, none twice
        assert verify_case(c).ok
        [run] = list_runs(c.engine, "EX-001")
        # the jobs the restarted server lost were sent again
        assert max(w["most_attempts"] for w in run["workers"].values()) >= 2, run["workers"]
        c.close()
    finally:
        workers.stop()


def _triage_cli(case: Path, url: str, queue: str, plugins: Path, *options: str, **env: str) -> list[str]:
    return [EXHIBIT, "triage", "EX-001", "--actor", "asmith", "--broker", url, "--queue", queue,
            "--job-files", "1", *(a for o in options for a in ("--option", o)), "--case", str(case)]  # fmt: skip


def _env(plugins: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{plugins}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "EXHIBIT_KEY_PASSPHRASE": "",
        **extra,
    }


def test_a_broker_gone_for_good_stops_the_run_clearly_and_it_resumes(
    tmp_path: Path, image: Path, slow_plugin: Path, redis_server: PrivateRedis
) -> None:
    expected = _local_run(tmp_path, image, ["slow_test.ms=0"])
    marker = tmp_path / "started"
    marker.mkdir()
    workers = _workers(redis_server.url, slow_plugin, tmp_path)
    try:
        workers.start("g1")
        workers.wait_listening()
        _case(tmp_path / "case", image).close()
        command = _triage_cli(
            tmp_path / "case", redis_server.url, workers.queue, slow_plugin,
            "slow_test.ms=700", f"slow_test.marker={marker}",
        )  # fmt: skip
        env = _env(slow_plugin, EXHIBIT_BROKER_WAIT_SECONDS="4")
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 60
        while len(list(marker.iterdir())) < 2 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        assert run.poll() is None and len(list(marker.iterdir())) >= 2, "the run did not get going"
        redis_server.stop()
        started = time.monotonic()
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 2, err
        said = " ".join(err.split())
        assert "lost the broker at" in said and "did not come back within 4 s" in said, err
        assert "run the same command again to resume" in said, err
        assert "Traceback" not in err and "internal error" not in err
        assert time.monotonic() - started < 60  # it waited the 4 s asked for (and the requests' own timeouts)
        with open_case(tmp_path / "case") as c:
            [failed] = list_runs(c.engine, "EX-001")
            assert failed["status"] == "failed"
        # the broker back (empty), the same command resumes where the run stopped
        redis_server.start()
        workers.wait_listening(timeout=60)  # the worker reconnects by itself
        again = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
        assert again.returncode == 0, again.stderr[-3000:]
        with open_case(tmp_path / "case") as c:
            runs = list_runs(c.engine, "EX-001")
            assert sorted(r["status"] for r in runs) == ["complete", "failed"]
            failed, done = sorted(runs, key=lambda r: r["status"], reverse=True)
            # resumed: what the failed run stored was kept and not read again
            stored_before = sum(w["files"] for w in failed["workers"].values())
            assert stored_before >= 1
            assert (
                sum(w["files"] for w in done["workers"].values()) == 13 - stored_before
            )  # the image holds 13 files
            assert _canonical(c) == expected
            report = verify_case(c)
            assert report.ok, report.problems
    finally:
        workers.stop()
