"""Analyzers: plugins that run after the file plugins, over the records a run stored.

A file plugin sees one file; some questions need many records at once (which identifiers recur
across apps and exhibits, which files match a hash set, which messages hold a keyword). An
analyzer declares the record types it ``reads`` (exact types or namespaces such as ``chat``) and
the records it ``emits``, and implements :meth:`Analyzer.analyze`, which is handed the run's stored
records of those types as a stream, in the order they were stored. The engine never buffers
them: an analyzer that needs an aggregate keeps it bounded itself (or emits per record).

What an analyzer yields is stored as findings of the same run, with the analyzer's name and
version, and is covered by the run's digest like every other finding. Its records point to the
evidence through the records they came from: :class:`StoredRecord` carries their
:class:`~triage.plugin.records.SourceRef` and locator. An exception is a warning naming the
analyzer; the run goes on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from triage.plugin.contract import ParseWarning, requires_problems
from triage.plugin.options import Option
from triage.plugin.records import RECORD_TYPE_PATTERN, Record, SourceRef

__all__ = ["AnalysisContext", "Analyzer", "StoredRecord", "analyzer_problems", "reads_type"]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as the run stored it: raw fields (``data``, JSON form), where it came from, who made it."""

    record_type: str
    data: Mapping[str, Any]
    source: SourceRef
    locator: str | None
    plugin: str


@dataclass
class AnalysisContext:
    """What an analyzer is given besides the records: the exhibit and run, its options, warnings."""

    exhibit: str
    run_id: str
    analyzer: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)

    def warn(self, message: str, *, path: str = "", locator: str | None = None) -> None:
        self.warnings.append(ParseWarning(self.analyzer, path, message, locator))


class Analyzer(ABC):
    """Base class of every analyzer; see the module docstring and docs/plugins.md."""

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    reads: ClassVar[tuple[str, ...]]  # record types or namespaces ("chat", "chat/android/sms")
    emits: ClassVar[tuple[type[Record], ...]]
    options: ClassVar[tuple[Option, ...]] = ()
    #: Each record is analyzed on its own, nothing carried from one to the next: the engine may
    #: then give a large run's records to two processes, each with half of them and its own
    #: instance and context (triage/engine/analysis.py); identical warnings are given once.
    independent: ClassVar[bool] = False
    #: the top-level modules ``analyze`` imports where it uses them; one not installed leaves the
    #: analyzer out at load, with a warning (as for plugins: triage.plugin.contract.Plugin.requires)
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        """Yield records derived from ``records``; ctx.warn() for a record that cannot be used."""


def reads_type(analyzer: type[Analyzer], record_type: str) -> bool:
    """Does ``analyzer`` read records of ``record_type`` (an exact type or one under a namespace)?"""
    return any(record_type == r or record_type.startswith(r.rstrip("/") + "/") for r in analyzer.reads)


def analyzer_problems(cls: object) -> list[str]:
    """What is wrong with a would-be analyzer class (empty list: it honours the contract)."""
    if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
        return [f"{cls!r} is not a subclass of triage.plugin.Analyzer"]
    label = cls.__qualname__
    problems: list[str] = []
    if getattr(cls, "__abstractmethods__", None):
        problems.append(f"{label}: abstract methods not implemented: {sorted(cls.__abstractmethods__)}")
    for attr in ("name", "version", "description"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{label}: class attribute {attr!r} must be a non-empty string")
    reads = getattr(cls, "reads", None)
    if not isinstance(reads, tuple) or not reads or not all(isinstance(r, str) and r for r in reads):
        problems.append(f"{label}: 'reads' must be a non-empty tuple of record types or namespaces")
    emits = getattr(cls, "emits", None)
    if not isinstance(emits, tuple) or not emits:
        problems.append(f"{label}: 'emits' must be a non-empty tuple of Record subclasses")
    else:
        for rec in emits:
            if not (isinstance(rec, type) and issubclass(rec, Record)):
                problems.append(f"{label}: emits {rec!r}, which is not a Record subclass")
            elif not RECORD_TYPE_PATTERN.match(getattr(rec, "record_type", "") or ""):
                problems.append(f"{label}: {rec.__name__}.record_type is not namespaced (a/b/c)")
    options = getattr(cls, "options", ())
    if not isinstance(options, tuple) or not all(isinstance(o, Option) for o in options):
        problems.append(f"{label}: 'options' must be a tuple of triage.plugin.Option")
    problems += requires_problems(cls, label)
    if not (cls.__doc__ or "").strip():
        problems.append(f"{label}: no docstring")
    return problems
