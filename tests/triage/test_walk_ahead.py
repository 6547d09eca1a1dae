"""The walk of a disk image started ahead, in a child, while the run gets ready
(triage/engine/walk_ahead.py): the run stores exactly what its own walk would have given, falls
back to its own walk when the child cannot give one, and leaves no child behind when it fails
before its walk. Real corpus images (deleted files, NTFS streams, a partitioned disk) through The
Sleuth Kit."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from tests.triage.images import Workspace
from triage.engine import walk_ahead
from triage.engine.run import TriageOptions, run_triage
from triage.errors import TriageError

IMAGES = ("dftt7-ntfs", "dftt6-fat", "fs-ntfs")


@pytest.fixture
def cases(tmp_path: Path) -> Iterator[Any]:
    made: list[Case] = []

    def new(name: str) -> Case:
        c = init_case(tmp_path / name, case_number="2026/12", title="walk ahead")
        add_actor(c, "ex", name="Ex Aminer", role="examiner")
        made.append(c)
        return c

    try:
        yield new
    finally:
        for c in made:
            c.close()


def _rows(case: Case) -> list[tuple[Any, ...]]:
    """Every stored file row in id order, without the run's id."""
    conn = sqlite3.connect(f"file:{case.root / 'case.sqlite'}?mode=ro", uri=True)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(triage_files)") if r[1] != "run_id"]
        return conn.execute(f"SELECT {', '.join(cols)} FROM triage_files ORDER BY id").fetchall()
    finally:
        conn.close()


def _warnings(case: Case) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{case.root / 'case.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT plugin, path, message FROM triage_warnings ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each run took its entries from the child (True) or walked itself (False)."""
    seen: list[bool] = []
    original = walk_ahead.WalkAhead.entries

    def spy(self: walk_ahead.WalkAhead, source: Any) -> Any:
        got = original(self, source)
        seen.append(got is not None)
        return got

    monkeypatch.setattr(walk_ahead.WalkAhead, "entries", spy)
    return seen


@pytest.mark.parametrize("image_id", IMAGES)
def test_the_walk_ahead_gives_the_rows_of_the_runs_own_walk(
    image_id: str, workspace: Workspace, cases: Any, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = workspace.get(image_id).path
    ahead, own = cases("ahead"), cases("own")
    for c in (ahead, own):
        acquire(c, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    run_triage(ahead, "EX-1", actor="ex", options=TriageOptions(workers=1))
    assert taken == [True]  # the child's walk was used
    monkeypatch.setattr(walk_ahead, "start", lambda *a: None)
    run_triage(own, "EX-1", actor="ex", options=TriageOptions(workers=1))
    rows = _rows(ahead)
    assert len(rows) > 10 and any(r[13] for r in rows)  # deleted entries too (column "deleted")
    assert rows == _rows(own)  # same rows, same keys, same order (ids)
    assert _warnings(ahead) == _warnings(own)


def test_a_child_that_fails_means_the_run_walks_itself(
    workspace: Workspace, cases: Any, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = workspace.get("dftt7-ntfs").path
    failing, own = cases("failing"), cases("own")
    for c in (failing, own):
        acquire(c, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")

    def broken(path: str, kind: str, exhibit: str) -> None:
        raise RuntimeError("the child's walk broke")

    monkeypatch.setattr(walk_ahead, "_walk_rows", broken)  # inherited by the forked child
    run_triage(failing, "EX-1", actor="ex", options=TriageOptions(workers=1))
    assert taken == [False]
    monkeypatch.setattr(walk_ahead, "start", lambda *a: None)
    run_triage(own, "EX-1", actor="ex", options=TriageOptions(workers=1))
    assert _rows(failing) == _rows(own) and len(_rows(own)) > 10


def test_a_run_that_fails_before_its_walk_ends_the_child(
    workspace: Workspace, cases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = workspace.get("dftt6-fat").path
    case = cases("c")
    acquire(case, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    started: list[tuple[walk_ahead.WalkAhead, int]] = []
    original = walk_ahead.start

    def recording(*args: Any) -> walk_ahead.WalkAhead | None:
        made = original(*args)
        assert made is not None and made._ahead is not None
        started.append((made, made._ahead._pid))  # type: ignore[arg-type]
        return made

    monkeypatch.setattr(walk_ahead, "start", recording)
    with pytest.raises(TriageError, match="unknown plugin"):
        run_triage(case, "EX-1", actor="ex", options=TriageOptions(plugins=["no_such_plugin"]))
    [(ahead, pid)] = started
    assert ahead._ahead is None  # cancelled
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped: not even a zombie is left


def test_two_file_systems_one_that_hangs_give_the_same_rows_and_warnings(
    tmp_path: Path, cases: Any, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MBR disk whose first file system is the ISO 9660 on which libtsk hangs and whose second
    is FAT (tests/triage/test_walkguard.py): the child's guarded walk abandons the first after the
    stall time, walks the second, and the run stores what its own walk stores, the walk's warning
    included, in the same order."""
    from tests.triage.test_walkguard import STALL_S, hanging_iso, two_partitions

    image = two_partitions(tmp_path, hanging_iso(tmp_path))
    monkeypatch.setenv("EXHIBIT_WALK_STALL_SECONDS", str(STALL_S))
    ahead, own = cases("ahead"), cases("own")
    for c in (ahead, own):
        acquire(c, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    run_triage(ahead, "EX-1", actor="ex", options=TriageOptions(workers=1))
    assert taken == [True]
    monkeypatch.setattr(walk_ahead, "start", lambda *a: None)
    run_triage(own, "EX-1", actor="ex", options=TriageOptions(workers=1))
    warnings = _warnings(ahead)
    assert any("could not be walked" in w[2] for w in warnings), warnings
    assert warnings == _warnings(own)
    rows = _rows(ahead)
    assert len(rows) > 10 and rows == _rows(own)  # the FAT partition's entries (the ISO gives none)


def test_ctrl_c_while_the_run_waits_for_the_child_ends_it_at_once() -> None:
    """The child ignores Ctrl-C (its parent ends it): a KeyboardInterrupt while the run waits for
    its result kills it rather than waiting for the rest of its work."""
    import signal
    import threading
    import time

    from triage.processes import Ahead

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)  # whatever the test runner installed
    try:
        ahead = Ahead(time.sleep, 30)
        pid = ahead._pid
        assert pid is not None
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            ahead.result()
        assert time.monotonic() - started < 5  # not the child's 30 s
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # killed and reaped
    finally:
        signal.signal(signal.SIGINT, previous)


# -- started by the launcher, before the engine is loaded ------------------------------------------

EARLY_PROBE = """
import json, sys
sys.argv = ["exhibit", *sys.argv[1:]]
from triage.engine import walk_ahead
seen = {}
start_early = walk_ahead.start_early
def probe(case, exhibit):
    seen["engine loaded"] = any(m in sys.modules for m in ("sqlalchemy", "typer", "triage.engine.run"))
    start_early(case, exhibit)
    seen["started"] = walk_ahead._early is not None
    seen["early"] = walk_ahead._early[1] if walk_ahead._early else None
walk_ahead.start_early = probe
entries = walk_ahead.WalkAhead.entries
def taken(self, source):
    got = entries(self, source)
    seen["taken"] = self is seen.get("early") and got is not None
    return got
walk_ahead.WalkAhead.entries = taken
from triage.launch import main
try:
    main()
except SystemExit:
    pass
seen.pop("early", None)
print(json.dumps(seen), file=sys.stderr)
"""


def _triage_in_a_new_process(case: Case, *env: str) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", EARLY_PROBE, "triage", "EX-1", "--actor", "ex", "--workers", "1", "--json",
         "--case", str(case.root)],
        capture_output=True, text=True, timeout=300, env={**os.environ, **dict(e.split("=", 1) for e in env)},
    )  # fmt: skip
    assert json.loads(done.stdout)["status"] == "complete", done.stdout + done.stderr
    seen: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return seen


def test_the_launcher_starts_the_walk_before_the_engine_loads_and_the_run_takes_it(
    workspace: Workspace, cases: Any
) -> None:
    """``exhibit triage`` of a disk image, in a fresh process: the launcher starts the walk before
    SQLAlchemy, Typer or the engine are imported, the run takes it, and the rows stored are those
    of a run whose launcher does not (``EXHIBIT_NO_EARLY_WALK``)."""
    image = workspace.get("dftt7-ntfs").path
    early, later = cases("early"), cases("later")
    for c in (early, later):
        acquire(c, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    assert _triage_in_a_new_process(early) == {"engine loaded": False, "started": True, "taken": True}
    seen = _triage_in_a_new_process(later, "EXHIBIT_NO_EARLY_WALK=1")
    assert "started" not in seen and seen.get("taken") is False  # the run's own walk ahead
    rows = _rows(early)
    assert len(rows) > 10 and rows == _rows(later)


def test_an_early_walk_of_something_else_is_ended_and_not_taken(
    workspace: Workspace, cases: Any, tmp_path: Path
) -> None:
    """The run takes the early walk only for the very path, kind and exhibit it resolves; any
    other is ended (no zombie left); a case or exhibit that does not exist starts nothing."""
    image = workspace.get("dftt6-fat").path
    case = cases("c")
    acquire(case, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    walk_ahead.start_early(case.root, "EX-1")
    assert walk_ahead._early is not None
    (what, early) = walk_ahead._early
    assert what == (str(image), "raw", "EX-1")
    pid = early._ahead._pid  # type: ignore[union-attr]
    other = walk_ahead.start(str(image), "raw", "EX-2")  # another exhibit of the same image
    try:
        assert other is not None and other is not early and walk_ahead._early is None
        assert early._ahead is None  # ended
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # and reaped
    finally:
        if other is not None:
            other.cancel()
    walk_ahead.start_early(case.root, "EX-404")
    walk_ahead.start_early(tmp_path / "no-case", "EX-1")
    assert walk_ahead._early is None
    walk_ahead.start_early(case.root, "EX-1")
    assert walk_ahead._early is not None
    pid = walk_ahead._early[1]._ahead._pid  # type: ignore[union-attr]
    walk_ahead.cancel_early()  # what the launcher does after a command that did not take it
    assert walk_ahead._early is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped


def test_a_command_line_typer_refuses_leaves_no_early_walk_behind(
    workspace: Workspace, cases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``exhibit triage EX-1 --workers abc``: the launcher starts the walk (it does not check
    values), Typer refuses the command line, and the walk's child is ended and reaped."""
    import sys

    from triage import launch

    image = workspace.get("dftt6-fat").path
    case = cases("c")
    acquire(case, image, exhibit="EX-1", actor="ex", description="disk", kind="raw")
    started: list[walk_ahead.WalkAhead] = []
    original = walk_ahead.start

    def recording(*args: Any) -> walk_ahead.WalkAhead | None:
        made = original(*args)
        if made is not None:
            started.append(made)
        return made

    monkeypatch.setattr(walk_ahead, "start", recording)
    monkeypatch.setattr(
        sys, "argv", ["exhibit", "triage", "EX-1", "--workers", "abc", "--case", str(case.root)]
    )
    with pytest.raises(SystemExit) as done:
        launch.main()
    assert done.value.code == 2
    [early] = started
    assert early._ahead is None and walk_ahead._early is None  # ended
