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
