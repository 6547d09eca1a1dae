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
    started: list[walk_ahead.WalkAhead] = []
    original = walk_ahead.start

    def recording(*args: Any) -> walk_ahead.WalkAhead | None:
        made = original(*args)
        assert made is not None
        started.append(made)
        return made

    monkeypatch.setattr(walk_ahead, "start", recording)
    with pytest.raises(TriageError, match="unknown plugin"):
        run_triage(case, "EX-1", actor="ex", options=TriageOptions(plugins=["no_such_plugin"]))
    [ahead] = started
    assert ahead._ahead is None  # cancelled: killed and reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of this process is left, not even a zombie
