"""What a worker hands back about one file: frozen, slotted dataclasses, cheap to pickle.

A worker process reads a file once and returns a :class:`FileResult` to the run, which alone
writes to the database (triage/engine/writes.py turns results into rows by column name). Results
cross the process boundary in lists of a thousand or so (multiprocessing pickles them), so they
hold only plain values: strings, numbers and tuples of the smaller classes below, and each class
pickles as a call of the class with its field values (:func:`_pickled_as_fields`).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar

from triage.engine.dispatch import Outcome

_T = TypeVar("_T")


def _pickled_as_fields(cls: type[_T]) -> type[_T]:
    """Pickle instances of the dataclass ``cls`` as ``cls(*field values)``.

    A frozen, slotted dataclass otherwise pickles through ``__getstate__``/``__setstate__``, which
    look the fields up again for every object: about five times slower for a chunk of results.
    Built from ``fields(cls)``, so a field added to the class is pickled too.
    """
    values: Callable[[Any], tuple[Any, ...]] = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: _T) -> tuple[Any, ...]:
        return (cls, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class TriageWarning:
    """A ``triage_warnings`` row before the run stamps it with its id and exhibit.

    ``plugin`` is None for the engine's own warnings (an unreadable file, a walk problem, a file
    not given to the plugins); ``path`` is None for a warning about the whole run.
    """

    plugin: str | None
    path: str | None
    message: str
    traceback: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The warning as :class:`~triage.engine.run.RunSummary` lists it (and ``--json`` prints it)."""
        return {
            "plugin": self.plugin,
            "path": self.path,
            "message": self.message,
            "traceback": self.traceback,
        }


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class PluginOutcome:
    """What one plugin made of the file: stored, as JSON, in the file's ``plugins`` column."""

    plugin: str
    version: str
    outcome: Outcome

    def as_dict(self) -> dict[str, str]:
        """The JSON object stored for it (members in this order: the stored text depends on it)."""
        return {"plugin": self.plugin, "version": self.version, "outcome": self.outcome}


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class FoundRecord:
    """One record a plugin produced, ready to store as a ``triage_findings`` row."""

    plugin: str
    version: str  # the plugin's
    record_type: str
    locator: str | None
    data: str  # the record's fields (raw values) as canonical JSON text: sorted keys, not ASCII-escaped


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything a worker learnt from reading one file once.

    The hashes not asked for are None. ``error`` says why the content could not be read in full
    (the hashes then cover what was read; no plugin saw the file). ``warnings`` are in the order
    they arose: the run stores them in that order, which fixes their ids and so the digest.
    """

    key: str  # the file's row (triage/engine/writes.py: file_key)
    bytes_read: int
    md5: str | None
    sha1: str | None
    sha256: str | None
    mime: str | None
    ext_mismatch: bool
    error: str | None = None
    plugins: tuple[PluginOutcome, ...] = ()
    records: tuple[FoundRecord, ...] = ()
    warnings: tuple[TriageWarning, ...] = ()
    spill: str | None = None  # the records are in this spill file instead (many records: SpilledRecords)
    archive: bool = False  # its first bytes are a zip's or a tar's (triage/sources/nested.py)

    @classmethod
    def unread(cls, key: str, error: str) -> FileResult:
        """The result of a file not read at all, with the reason (no hashes: a later run reads
        it again)."""
        return cls(
            key=key,
            bytes_read=0,
            md5=None,
            sha1=None,
            sha256=None,
            mime=None,
            ext_mismatch=False,
            error=error,
        )


def found_records(result: FileResult) -> Iterator[FoundRecord]:
    """The records of ``result`` in the order the plugins yielded them: from ``records``, or read
    back batch by batch from its spill file (triage/engine/per_file.py: SpilledRecords)."""
    if result.spill is None:
        yield from result.records
        return
    with open(result.spill, "rb") as f:
        while True:
            try:
                batch = marshal.load(f)  # data only (never code run): lists of field tuples
            except EOFError:
                return
            for fields_ in batch:
                yield FoundRecord(*fields_)
