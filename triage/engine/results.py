"""What a worker hands back about one file: frozen, slotted dataclasses, cheap to pickle.

A worker process reads a file once and returns a :class:`FileResult` to the run, which alone
writes to the database (triage/engine/writes.py turns results into rows by column name). Results
cross the process boundary in lists of a thousand or so (multiprocessing pickles them), so they
hold only plain values: strings, numbers and tuples of the smaller classes below, and each class
pickles as a call of the class with its field values (:func:`_pickled_as_fields`).
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from triage.engine.dispatch import Outcome

if TYPE_CHECKING:
    from triage.sources.entry import FileEntry

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
    spill: tuple[str, ...] = ()  # the records are in these batch files instead, in order (SpilledRecords)
    dropped: tuple[str, ...] = ()  # batch files a plugin withdrew (not my format, after all): not in spill
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


#: The file records come from, as their ``triage_findings`` rows name it: (the file's row key,
#: partition, inode, path, stream, sha256). A batch file starts with it, so the run can store the
#: batch while the worker is still reading that file.
Origin = tuple[str, int | None, int | None, str, str | None, str | None]


def origin(key: str, entry: FileEntry, sha256: str | None) -> Origin:
    """Where records come from: the file of row ``key``, with content ``sha256``."""
    return (key, entry.partition, entry.inode, entry.path, entry.stream, sha256)


def write_batch(path: Path, header: Origin, rows: list[tuple[str, str, str, str | None, str]]) -> None:
    """Publish one batch of a file's records at ``path``: written under another name, then
    renamed, so a reader that sees ``path`` sees all of it. ``rows`` are FoundRecord fields."""
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as f:
        marshal.dump(header, f)  # data only (never code or pickles)
        marshal.dump(rows, f)
    os.rename(part, path)


def read_batch(path: str | Path) -> tuple[Origin, list[FoundRecord]]:
    """The header and records of a batch file written by :func:`write_batch`."""
    with open(path, "rb") as f:
        header = marshal.load(f)
        rows = marshal.load(f)
    return header, [FoundRecord(*fields_) for fields_ in rows]


def batch_stem(path: str | Path) -> str:
    """The file every batch of one file's records is named after (``<stem>-NNNNNN.batch``)."""
    return str(path).rsplit("-", 1)[0]


def batch_number(path: str | Path) -> int:
    """The place of a batch among its file's batches (0, 1, ...)."""
    return int(str(path).rsplit("-", 1)[1].removesuffix(".batch"))


def batch_path(stem: str, number: int) -> str:
    """The batch file ``number`` of ``stem``: names sort in the order of the batches."""
    return f"{stem}-{number:06d}.batch"


def next_batch(kept: tuple[str, ...], withdrawn: tuple[str, ...]) -> str:
    """The name of one more batch of the file whose batches are ``kept`` (at least one) and
    ``withdrawn``: after all of them (a number is never used twice: the run may have stored a
    withdrawn batch, and takes it back by its name)."""
    return batch_path(batch_stem(kept[0]), 1 + max(map(batch_number, (*kept, *withdrawn))))


def remove_batches(result: FileResult) -> None:
    """Remove the batch files of ``result`` (kept and withdrawn) and the file naming them."""
    stems = set()
    for path in (*result.spill, *result.dropped):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        stems.add(batch_stem(path))
    for stem in stems:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stem)


def found_records(result: FileResult, stored: Container[str] = ()) -> Iterator[FoundRecord]:
    """The records of ``result`` in the order the plugins yielded them: from ``records``, or read
    back batch by batch from its batch files (triage/engine/per_file.py: SpilledRecords), leaving
    out the batches in ``stored`` (the run stored them while the file was being read)."""
    yield from result.records
    for path in result.spill:
        if path not in stored:
            yield from read_batch(path)[1]
