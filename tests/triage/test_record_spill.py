"""A file with very many records is streamed to the store, never held whole in a list.

Past ``SPILL_RECORDS`` records of one file, the worker appends them in batches to a spill file in
the run's scratch folder and the run stores them batch by batch (triage/engine/per_file.py:
SpilledRecords). These tests lower the threshold (the forked workers inherit it) so a few
thousand records cross it many times, and check that nothing is lost, duplicated or reordered,
that a plugin which says "not my format" after spilling loses only its own records, that the
spill files are gone after the run, and that the stored findings verify.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import verify_case
from triage.engine import per_file
from triage.engine.run import TriageOptions, run_triage
from triage.plugin import NotMyFormat, Plugin, Targets
from triage.plugin.records import Record
from triage.plugin.registry import LoadedPlugins

ROWS = 2_345


@dataclass(frozen=True, kw_only=True)
class Line(Record):
    record_type: ClassVar[str] = "test/line"
    number: int
    text: str


class LinesPlugin(Plugin):
    """Reads ``*.lines`` files; emits one ``test/line`` per line."""

    name = "lines"
    version = "1.0.0"
    description = "every line of a .lines file"
    targets = Targets(globs=("**/*.lines",))
    emits = (Line,)

    def parse(self, item, ctx) -> Iterator[Line]:  # type: ignore[no-untyped-def]
        with item.open() as f:
            for n, line in enumerate(f, 1):
                yield Line(source=item.source, locator=f"line={n}", number=n, text=line.decode().rstrip("\n"))


class ChangesItsMindPlugin(Plugin):
    """Yields as many records as the lines plugin, then says the file is not its format."""

    name = "changes_its_mind"
    version = "1.0.0"
    description = "not my format, after all"
    targets = Targets(globs=("**/*.lines",))
    emits = (Line,)

    def parse(self, item, ctx) -> Iterator[Line]:  # type: ignore[no-untyped-def]
        for n in range(1, ROWS + 1):
            yield Line(source=item.source, locator=f"mind={n}", number=n, text="never stored")
        raise NotMyFormat("not mine after all")


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/11", title="spill")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    try:
        yield c
    finally:
        c.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_many_records_of_one_file_are_all_stored_in_order(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(per_file, "SPILL_RECORDS", 100)
    monkeypatch.setattr(
        "triage.engine.run.load_plugins",
        lambda: LoadedPlugins(plugins=[LinesPlugin, ChangesItsMindPlugin], origins={}, warnings=[]),
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("a.lines", "b.lines"):
        (evidence / name).write_text("".join(f"{name} line {n}\n" for n in range(1, ROWS + 1)))
    (evidence / "small.lines").write_text("one\ntwo\n")
    acquire(case, evidence, exhibit="EX-001", actor="asmith", description="lines")
    summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=workers))
    assert summary.status == "complete"
    assert summary.counts["findings"] == 2 * ROWS + 2
    conn = sqlite3.connect(f"file:{case.root / 'case.sqlite'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT path, plugin, locator, data FROM triage_findings ORDER BY id").fetchall()
    finally:
        conn.close()
    assert {plugin for _, plugin, _, _ in rows} == {"lines"}  # the other plugin's records dropped
    for name in ("a.lines", "b.lines"):
        mine = [(loc, json.loads(data)) for path, _, loc, data in rows if path == f"/{name}"]
        assert [loc for loc, _ in mine] == [f"line={n}" for n in range(1, ROWS + 1)]  # in order, once
        assert [d["text"] for _, d in mine] == [f"{name} line {n}" for n in range(1, ROWS + 1)]
    outcomes = {w["plugin"] for w in summary.warnings}
    assert "changes_its_mind" not in outcomes  # "not my format" is not a warning
    assert not list((case.scratch_dir).rglob("*.records"))  # spill files removed
    assert verify_case(case).ok


def test_dropping_a_plugin_after_a_spill_keeps_the_earlier_plugins_records(tmp_path: Path) -> None:
    """The unit: records of plugin A in memory, plugin B spills, then says not my format."""
    spill = per_file.SpilledRecords(tmp_path, "", "")
    source = None
    first = spill.for_plugin(LinesPlugin())
    for n in range(3):
        first.add(Line(source=source, locator=f"a={n}", number=n, text="a"))  # type: ignore[arg-type]
    second = spill.for_plugin(ChangesItsMindPlugin())
    for n in range(per_file.SPILL_RECORDS * 2 + 7):
        second.add(Line(source=source, locator=f"b={n}", number=n, text="b"))  # type: ignore[arg-type]
    assert spill.path is not None  # it did spill
    second.drop()
    kept, path = spill.finish()
    assert kept == () and path is not None
    from triage.engine.results import FileResult, found_records

    result = FileResult(
        key="k", bytes_read=0, md5=None, sha1=None, sha256=None, mime=None, ext_mismatch=False, spill=path
    )
    assert [r.locator for r in found_records(result)] == ["a=0", "a=1", "a=2"]
