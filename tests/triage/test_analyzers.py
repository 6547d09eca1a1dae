"""Analyzers: the contract and the registry (the engine running them is tested with the engine)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import AnalysisContext, Analyzer, Record, StoredRecord
from triage.plugin.analyzer import analyzer_problems, reads_type
from triage.plugin.registry import load_analyzers


@dataclass(frozen=True, kw_only=True)
class _Count(Record):
    record_type: ClassVar[str] = "test/analysis/count"
    n: int


class CountChats(Analyzer):
    """Counts the chat records of a run (a stand-in for a real analyzer)."""

    name = "count_chats"
    version = "1"
    description = "counts chat records"
    reads = ("chat",)
    emits = (_Count,)

    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        first = None
        n = 0
        for r in records:
            first = first or r
            n += 1
        if first is not None:
            yield _Count(source=first.source, n=n)


def test_a_valid_analyzer_has_no_problems_and_reads_namespaces() -> None:
    assert analyzer_problems(CountChats) == []
    assert reads_type(CountChats, "chat/android/sms")
    assert reads_type(CountChats, "chat")
    assert not reads_type(CountChats, "chatter/x") and not reads_type(CountChats, "browser/chrome/visit")


def test_broken_analyzers_are_described() -> None:
    class NoReads(CountChats):
        """Reads nothing."""

        reads = ()

    class NotOne:
        pass

    assert any("'reads'" in p for p in analyzer_problems(NoReads))
    assert analyzer_problems(NotOne) == [f"{NotOne!r} is not a subclass of triage.plugin.Analyzer"]


class _EP:
    """An importlib.metadata entry point as the registry sees it (name, value, dist, load)."""

    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self.dist, self._obj = name, f"x:{name}", None, obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def test_third_party_analyzers_are_checked_and_names_are_unique() -> None:
    class Broken(CountChats):
        """No version."""

        version = ""

    eps = [
        _EP("good", CountChats),
        _EP("bad", Broken),
        _EP("boom", ImportError("no module")),
        _EP("dup", CountChats),
    ]
    loaded = load_analyzers(builtin=(), discover=lambda: eps, taken=["sms_android"])  # type: ignore[arg-type,return-value]
    assert [a.name for a in loaded.analyzers] == ["count_chats"]
    assert len(loaded.warnings) == 3
    assert any("not a valid analyzer" in w for w in loaded.warnings)
    assert any("cannot load" in w for w in loaded.warnings)
    assert any("already taken" in w for w in loaded.warnings)


# --- in a real run ----------------------------------------------------------------------------------

import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import CORPUS, need  # noqa: E402


class Exploding(Analyzer):
    """Fails after its first record (the run must go on)."""

    name = "exploding_analyzer"
    version = "1"
    description = "fails"
    reads = ("chat/android/sms",)
    emits = (_Count,)

    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        first = next(iter(records))
        yield _Count(source=first.source, n=-1)
        raise RuntimeError("analyzer bug")


def test_analyzers_run_after_the_plugins_over_the_runs_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire
    from custody.verify import verify_case
    from triage.engine.run import run_triage
    from triage.plugin.registry import LoadedAnalyzers
    from triage.views.findings import iter_findings

    db = need(CORPUS / "chats/mmssms.db")
    evidence = tmp_path / "phone" / "data/data/com.android.providers.telephony/databases"
    evidence.mkdir(parents=True)
    (evidence / "mmssms.db").write_bytes(db.read_bytes())
    monkeypatch.setattr(
        "triage.engine.run.load_analyzers",
        lambda taken=(): LoadedAnalyzers(analyzers=[CountChats, Exploding], origins={}, warnings=[]),
    )
    case = init_case(tmp_path / "case", case_number="2026/8", title="analyzers")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, tmp_path / "phone", exhibit="EX-1", actor="asmith", description="phone")
        summary = run_triage(case, "EX-1", actor="asmith")
        assert summary.status == "complete"
        assert {f.plugin for f in iter_findings(case.engine, "EX-1", "test/analysis")} == {
            "count_chats",
            "exploding_analyzer",
        }
        counts = sorted(f.data["n"] for f in iter_findings(case.engine, "EX-1", "test/analysis"))
        assert counts == [-1, 9]  # 9 SMS (corpus README); the failing one kept what it yielded
        sms_sha = hashlib.sha256(db.read_bytes()).hexdigest()
        assert {f.file_sha256 for f in iter_findings(case.engine, "EX-1", "test/analysis")} == {sms_sha}
        failures = [w for w in summary.warnings if w["plugin"] == "exploding_analyzer"]
        assert len(failures) == 1 and "analyzer bug" in failures[0]["message"]
        assert verify_case(case).ok  # the analyzers' findings are covered by the run's digest
    finally:
        case.close()


@dataclass(frozen=True, kw_only=True)
class _Echo(Record):
    record_type: ClassVar[str] = "test/analysis/echo"
    n: int


class EchoLines(Analyzer):
    """One record per line record read (each on its own), a run-wide note and a warning for every
    hundredth line: what the two halves of a split run must give, once each, in order."""

    name = "echo_lines"
    version = "1"
    description = "echoes"
    reads = ("test/line",)
    emits = (_Echo,)
    independent = True

    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        ctx.warn("a run-wide note")
        for r in records:
            if r.data["number"] % 100 == 0:
                ctx.warn(f"line {r.data['number']}", path=r.source.path, locator=r.locator)
            if r.data["number"] % 250 == 0:  # the same warning again and again: each one kept
                ctx.warn("a long line", path=r.source.path, locator=r.locator)
            yield _Echo(source=r.source, locator=r.locator, n=r.data["number"])


def test_an_independent_analyzer_over_a_large_run_is_split_in_two_processes_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire
    from custody.verify import verify_case
    from tests.triage.test_record_spill import LinesPlugin
    from triage.engine import analysis
    from triage.engine.run import run_triage
    from triage.plugin.registry import LoadedAnalyzers, LoadedPlugins

    monkeypatch.setattr(
        "triage.engine.run.load_plugins",
        lambda: LoadedPlugins(plugins=[LinesPlugin], origins={}, warnings=[]),
    )
    monkeypatch.setattr(
        "triage.engine.run.load_analyzers",
        lambda taken=(): LoadedAnalyzers(analyzers=[EchoLines], origins={}, warnings=[]),
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.lines").write_text("".join(f"line {n}\n" for n in range(1, 1001)))
    marks = tmp_path / "marks"
    marks.mkdir()
    real = analysis._Pass.second_half

    def marked(self: Any, *args: Any) -> Any:  # in the helper: leaves a mark, then does the work
        (marks / str(os.getpid())).touch()
        return real(self, *args)

    def fails(self: Any, *args: Any) -> Any:
        raise RuntimeError("the helper's database went away")

    results = {}
    for name, split, helper in (("one", 10**9, real), ("two", 100, marked), ("fallback", 100, fails)):
        monkeypatch.setattr(analysis, "SPLIT_IDS", split)
        monkeypatch.setattr(analysis._Pass, "second_half", helper)
        case = init_case(tmp_path / name, case_number="2026/8", title="split")
        try:
            add_actor(case, "asmith", name="Alan Smith", role="examiner")
            acquire(case, evidence, exhibit="EX-1", actor="asmith", description="lines")
            summary = run_triage(case, "EX-1", actor="asmith")
            assert summary.status == "complete" and summary.counts["findings"] == 2000
            conn = sqlite3.connect(f"file:{case.root / 'case.sqlite'}?mode=ro", uri=True)
            rows = conn.execute(
                "SELECT fingerprint, locator, data FROM triage_findings WHERE plugin = 'echo_lines' ORDER BY id"
            ).fetchall()
            conn.close()
            notes = [(w["path"], w["message"]) for w in summary.warnings if w["plugin"] == "echo_lines"]
            results[name] = (rows, notes)
            assert verify_case(case).ok
            assert not list(case.scratch_dir.rglob("analysis-*"))  # the helper's rows file removed
        finally:
            case.close()
    rows, notes = results["one"]
    assert [json.loads(d)["n"] for _, _, d in rows] == list(range(1, 1001))
    expected = [(None, "a run-wide note")]
    for n in range(1, 1001):
        expected += [("/a.lines", f"line {n} (at line={n})")] if n % 100 == 0 else []  # the row named
        expected += [("/a.lines", f"a long line (at line={n})")] if n % 250 == 0 else []
    assert notes == expected
    assert results["two"] == results["one"] == results["fallback"]  # same rows, order and warnings
    assert len(list(marks.iterdir())) == 1 and not (marks / str(os.getpid())).exists()  # another process
