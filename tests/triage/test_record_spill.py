"""A file with very many records is streamed to the store, never held whole in a list.

Past ``SPILL_RECORDS`` records of one file, the worker publishes them in batch files in the run's
scratch folder, and the run stores each batch, while the worker goes on reading when it is a
forked one (triage/engine/per_file.py: SpilledRecords; triage/engine/published.py). These tests
lower the threshold (the forked workers inherit it) so a few thousand records cross it many
times, and check that nothing is lost, duplicated or reordered, that the run really stores
batches while the file is read, that a plugin which says "not my format" after its batches were
published (or stored) loses only its own records, that batches of a file a broken pool was
reading are taken back, that the batch files are gone after the run, and that the stored
findings verify.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import verify_case
from triage.engine import per_file, workers
from triage.engine.results import FileResult
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
    assert not [p for p in case.scratch_dir.rglob("*") if p.is_file()]  # batch files removed
    assert verify_case(case).ok


def _with_batches(spill: tuple[str, ...], dropped: tuple[str, ...] = ()) -> FileResult:
    """A file's result whose records are in the batch files ``spill`` (``dropped`` withdrawn)."""
    return dataclasses.replace(FileResult.unread("k", ""), error=None, spill=spill, dropped=dropped)


def test_dropping_a_plugin_after_a_spill_keeps_the_earlier_plugins_records(tmp_path: Path) -> None:
    """The unit: records of plugin A in memory, plugin B publishes batches, then says not my
    format: A's records are in a batch of their own, B's batches are listed as withdrawn."""
    where = ("k", None, None, "/a.lines", None, "00" * 32)
    spill = per_file.SpilledRecords(tmp_path, "", "", where)
    source = None
    first = spill.for_plugin(LinesPlugin())
    for n in range(3):
        first.add(Line(source=source, locator=f"a={n}", number=n, text="a"))  # type: ignore[arg-type]
    second = spill.for_plugin(ChangesItsMindPlugin())
    for n in range(per_file.SPILL_RECORDS * 2 + 7):
        second.add(Line(source=source, locator=f"b={n}", number=n, text="b"))  # type: ignore[arg-type]
    assert len(spill.batches) == 3  # A's three records, then two of B's full batches
    second.drop()
    kept, batches, dropped = spill.finish()
    assert kept == () and len(batches) == 1 and len(dropped) == 2
    from triage.engine.results import found_records, read_batch, remove_batches

    assert read_batch(batches[0])[0] == where  # each batch says which file it is of
    result = _with_batches(batches, dropped)
    assert [r.locator for r in found_records(result)] == ["a=0", "a=1", "a=2"]
    assert [r.locator for r in found_records(result, stored={batches[0]})] == []
    from triage.engine.results import batch_number, batch_stem, next_batch

    more = next_batch(batches, dropped)  # the keyword hits' batch, after the withdrawn ones
    assert batch_stem(more) == batch_stem(batches[0]) and batch_number(more) == 3
    assert more not in (*batches, *dropped)
    remove_batches(result)
    assert list(tmp_path.iterdir()) == []  # batches, withdrawn ones and their name's file


#: The case database a forked worker's plugin looks into (set before the run forks it).
_CASE_DB: list[str] = []  # the SQLAlchemy URL of the case database


def _stored(locator: str, timeout: float = 20.0) -> bool:
    """Whether a finding with ``locator`` is in the case database (waiting up to ``timeout``),
    asked on a connection of this (forked) process's own."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(_CASE_DB[0], poolclass=NullPool)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    query = text("SELECT 1 FROM triage_findings WHERE locator = :l")
                    if conn.execute(query, {"l": locator}).first():
                        return True
            except OperationalError:  # locked for a moment
                pass
            time.sleep(0.05)
        return False
    finally:
        engine.dispose()


class WaitsForTheStorePlugin(Plugin):
    """Yields ROWS records, and after the first half waits until the run has stored its first
    record: it then records whether the run stored it while the file was still being read."""

    name = "waits"
    version = "1.0.0"
    description = "overlap witness"
    targets = Targets(globs=("**/*.lines",))
    emits = (Line,)

    def parse(self, item, ctx) -> Iterator[Line]:  # type: ignore[no-untyped-def]
        for n in range(1, ROWS + 1):
            yield Line(source=item.source, locator=f"waits={n}", number=n, text="x")
            if n == ROWS // 2:
                seen = _stored("waits=1")
                yield Line(source=item.source, locator="overlap", number=0, text=str(seen))


class WithdrawsPlugin(Plugin):
    """Yields ROWS records, waits until the run stored some of them, then says not my format."""

    name = "withdraws"
    version = "1.0.0"
    description = "not my format, after the run stored some"
    targets = Targets(globs=("**/*.lines",))
    emits = (Line,)

    def parse(self, item, ctx) -> Iterator[Line]:  # type: ignore[no-untyped-def]
        for n in range(1, ROWS + 1):
            yield Line(source=item.source, locator=f"withdraws={n}", number=n, text="never kept")
        assert _stored("withdraws=1")  # published and stored before the plugin changed its mind
        raise NotMyFormat("not mine after all")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_big_files_records_are_stored_while_it_is_read_and_withdrawn_ones_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, store: str
) -> None:
    """A forked worker publishes batches; the run stores them while the worker goes on (the
    plugin sees its first record in the case database before it has yielded the rest), and a
    plugin that says "not my format" after its batches were stored has them taken back; on the
    SQLite case file and on a lab's PostgreSQL."""
    db_url = request.getfixturevalue("pg_database") if store == "postgresql" else None
    case = init_case(tmp_path / "case", case_number="2026/11", title="spill", db_url=db_url)
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    monkeypatch.setattr(per_file, "SPILL_RECORDS", 100)
    monkeypatch.setattr(workers, "POOL_FOR_BYTES", 1)  # this one-chunk folder read by a forked worker
    monkeypatch.setattr(
        "triage.engine.run.load_plugins",
        lambda: LoadedPlugins(plugins=[WaitsForTheStorePlugin, WithdrawsPlugin], origins={}, warnings=[]),
    )
    _CASE_DB[:] = [case.engine.url.render_as_string(hide_password=False)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.lines").write_text("".join(f"line {n}\n" for n in range(1, ROWS + 1)))
    acquire(case, evidence, exhibit="EX-001", actor="asmith", description="lines")
    try:
        summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=2))
        assert summary.status == "complete"
        assert summary.counts["findings"] == ROWS + 1
        with case.engine.connect() as conn:
            rows = conn.execute(text("SELECT plugin, locator, data FROM triage_findings ORDER BY id")).all()
            pending = conn.execute(text("SELECT count(*) FROM triage_pending")).scalar()
        assert {plugin for plugin, _, _ in rows} == {"waits"}  # the withdrawn batches are gone
        assert json.loads(dict((loc, data) for _, loc, data in rows)["overlap"])["text"] == "True"
        expected = [f"waits={n}" for n in range(1, ROWS // 2 + 1)] + ["overlap"]
        expected += [f"waits={n}" for n in range(ROWS // 2 + 1, ROWS + 1)]
        assert [loc for _, loc, _ in rows] == expected  # once each, in order
        assert pending == 0  # every batch stored ahead was settled with its file
        assert not [p for p in case.scratch_dir.rglob("*") if p.is_file()]  # batch files removed
        assert verify_case(case).ok
    finally:
        _CASE_DB.clear()
        case.close()


def test_batches_of_files_a_broken_pool_was_reading_are_taken_back(case: Case, tmp_path: Path) -> None:
    """The unit, on the case's real database: batches stored early and never settled by a
    result (their worker was ended) are removed at the restart and never stored again; a
    stem's batches are stored in order, never past a missing one."""
    from triage.engine.published import Published
    from triage.engine.results import batch_path, write_batch
    from triage.store import ensure_schema

    ensure_schema(case.engine)
    folder = tmp_path / "spill"
    folder.mkdir()
    where = ("k", None, None, "/a.lines", None, "00" * 32)

    def rows(first: int) -> list[tuple[str, str, str, str | None, str]]:
        return [("p", "1", "test/line", f"n={n}", f'{{"n": {n}}}') for n in range(first, first + 10)]

    stem = str(folder / "fabc.file")
    write_batch(Path(batch_path(stem, 0)), where, rows(0))
    write_batch(Path(batch_path(stem, 2)), where, rows(20))  # batch 1 is not there yet
    published = Published(folder, "EX-001", "run-1")
    with case.engine.connect() as conn:
        assert published.store_ready(conn, lambda c: None) == 10  # batch 0 only
        write_batch(Path(batch_path(stem, 1)), where, rows(10))
        assert published.store_ready(conn, lambda c: None) == 20  # then 1 and 2, in order
        with case.engine.connect() as other:
            ids = other.execute(text("SELECT locator FROM triage_findings ORDER BY id")).scalars().all()
        assert ids == [f"n={n}" for n in range(30)]
        late = str(folder / "flate.file")  # published by the ended worker after the last look
        write_batch(Path(batch_path(late, 0)), where, rows(100))
        assert published.withdraw_unsettled(conn) == 30
        with case.engine.connect() as other:
            assert other.execute(text("SELECT count(*) FROM triage_findings")).scalar() == 0
            assert other.execute(text("SELECT count(*) FROM triage_pending")).scalar() == 0
        assert not list(folder.glob("*.batch"))  # given up, stored or not
        write_batch(Path(batch_path(stem, 3)), where, rows(30))
        write_batch(Path(batch_path(late, 1)), where, rows(110))
        assert published.store_ready(conn, lambda c: None) == 0  # those files are given up


def test_batches_a_killed_run_stored_ahead_of_a_file_are_taken_back_by_the_next_run(
    case: Case, tmp_path: Path
) -> None:
    """Each batch stored ahead is noted in the same transaction; the note goes with the file's
    result. A run killed before that result leaves the note: the next run of the exhibit takes
    those findings back (and only those: a settled batch's and another exhibit's stay)."""
    from triage.engine.published import Published, withdraw_abandoned
    from triage.engine.results import batch_path, write_batch
    from triage.store import ensure_schema

    ensure_schema(case.engine)
    folder = tmp_path / "spill"
    folder.mkdir()
    where = ("k", None, None, "/a.lines", None, "00" * 32)

    def batch(stem: str, n: int, first: int) -> str:
        path = batch_path(str(folder / stem), n)
        rows = [("p", "1", "test/line", f"n={i}", f'{{"n": {i}}}') for i in range(first, first + 10)]
        write_batch(Path(path), where, rows)
        return path

    killed = Published(folder, "EX-001", "run-1")
    other = Published(folder, "EX-002", "run-9")
    with case.engine.connect() as conn:
        settled = batch("fdone.file", 0, 0)
        batch("fhalf.file", 0, 10)
        assert killed.store_ready(conn, lambda c: None) == 20
        with conn.begin():  # the first file's result arrives; the second one's never does
            killed.settle(conn, [_with_batches((settled,))])
        for path in folder.glob("*.batch"):
            path.unlink()
        batch("fthird.file", 0, 50)
        assert other.store_ready(conn, lambda c: None) == 10  # another exhibit's run, unfinished
        with conn.begin():
            assert withdraw_abandoned(conn, "EX-001") == 10
        with conn.begin():
            assert withdraw_abandoned(conn, "EX-001") == 0  # once
    with case.engine.connect() as conn:
        left = conn.execute(text("SELECT exhibit, locator FROM triage_findings ORDER BY id")).all()
        pending = conn.execute(text("SELECT exhibit FROM triage_pending")).scalars().all()
    assert left == [("EX-001", f"n={i}") for i in range(10)] + [("EX-002", f"n={i}") for i in range(50, 60)]
    assert pending == ["EX-002"]
