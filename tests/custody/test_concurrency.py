"""Concurrent writers and crashes: the chain must stay linear and nothing half-written may remain."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from custody.actors import signing_keys
from custody.case import Case, init_case, open_case
from custody.ledger import Draft
from custody.verify import verify_case

REPO = Path(__file__).resolve().parents[2]


def _appender(case_dir: str, config_dir: str, worker: int, count: int) -> None:
    os.environ["EXHIBIT_CONFIG_DIR"] = config_dir
    with open_case(Path(case_dir)) as case:
        keys = signing_keys(case, ["jdoe"])
        for i in range(count):
            case.ledger.append(
                [Draft(kind="custody.examine", actor="jdoe", exhibit=None, data={"worker": worker, "i": i})],
                keys,
                checkpoint_signer="jdoe",
            )


def run_concurrent(case: Case, workers: int, each: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_appender, args=(str(case.root), os.environ["EXHIBIT_CONFIG_DIR"], w, each))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    entries = list(case.ledger.entries())
    assert len(entries) == 2 + workers * each
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert len({e.prev_hash for e in entries}) == len(entries)  # no fork: every prev used once
    got = {(e.data["worker"], e.data["i"]) for e in entries if e.kind == "custody.examine"}
    assert got == {(w, i) for w in range(workers) for i in range(each)}  # nothing lost
    report = verify_case(case)
    assert report.ok, report.problems[:5]


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_processes_two_hundred_appends_postgres(tmp_path: Path, pg_database: str) -> None:
    from custody.actors import add_actor

    case = init_case(tmp_path / "case", case_number="C", title="t", db_url=pg_database)
    add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer")
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    try:
        run_concurrent(case, workers=8, each=200)
    finally:
        case.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL: the 8 x 200 test above
def test_concurrent_appends_sqlite(case: Case) -> None:
    assert case.engine.dialect.name == "sqlite"
    run_concurrent(case, workers=4, each=50)


def _exhibit(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "custody.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_kill_during_acquire_leaves_no_record(case: Case, tmp_path: Path) -> None:
    big = tmp_path / "big.dd"
    with open(big, "wb") as fh:
        fh.truncate(6 * 1024**3)  # sparse: reads fast, but takes seconds to hash
    env = {**os.environ, "EXHIBIT_ACTOR": "jdoe"}
    before = case.ledger.count()
    proc = _exhibit(
        "acquire", str(big), "--exhibit", "EX-BIG", "--description", "big", "--case", str(case.root), env=env
    )
    time.sleep(2.5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert case.ledger.count() == before
    assert not any(True for _ in case.ledger.entries(exhibit="EX-BIG"))
    assert verify_case(case).ok


APPEND_SCRIPT = """
import os, sys
from pathlib import Path
from custody.case import open_case
from custody.actors import signing_keys
from custody.ledger import Draft
case = open_case(Path(sys.argv[1]))
keys = signing_keys(case, ["jdoe"])
drafts = [Draft(kind="item.note", actor="jdoe", data={"i": i, "pad": "x" * 200}) for i in range(60000)]
print("ready", flush=True)
case.ledger.append(drafts, keys, checkpoint_signer="jdoe")
print("done", flush=True)
"""


def test_kill_during_append_leaves_no_half_batch(case: Case) -> None:
    before = case.ledger.count()
    proc = subprocess.Popen(
        [sys.executable, "-c", APPEND_SCRIPT, str(case.root)], stdout=subprocess.PIPE, env=dict(os.environ)
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(1.0)
    assert proc.poll() is None, "the append finished before it could be killed; make the batch larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert case.ledger.count() == before  # all of the batch or none of it: here, none
    report = verify_case(case)
    assert report.ok, report.problems
