"""What the run asks of a runner that reads its files elsewhere than in its own processes.

A triage run reads its files with forked local workers (workers.py) unless
:class:`~triage.engine.run.TriageOptions` gives it a :class:`RemoteRunner` (triage/distributed:
Celery workers on other machines). The engine needs no more of one than this protocol, so it
never imports a broker's client: the jobs are the engine's own (ranges of the run's files), the
results are the same :class:`~triage.engine.results.FileResult` lists, and the run stays the only
writer of rows and of the ledger.

A remote worker walks the evidence itself, so a file of the walk is named by its row key alone.
The files of the later rounds are not in that walk; :class:`Whereabouts` says where each is, in a
few numbers, so that no listing and no content has to travel:

* an archive's member (:class:`InArchive`): the row key of the evidence's file that is its
  outermost archive; the worker walks that archive's members as the run did (same limits), which
  gives it the member and every archive between;
* a carved file (:class:`CarvedAt`): its image extents, read as the run reads them
  (triage/sources/carve.py: ``CarvedSource``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from triage.engine.per_file import FileJob
from triage.engine.results import FileResult
from triage.engine.workers import WorkerSetup
from triage.sources.nested import NestLimits

#: A job read remotely: its files, their results (same order), the worker's name and how many
#: times the job was sent (more than once when a worker was lost).
RemoteFinished = tuple[Sequence[FileJob], list[FileResult], str, int]


@dataclass(frozen=True, slots=True)
class InArchive:
    """Where an archive's member is: ``archive``, the row key of the evidence's file that holds it
    (its outermost archive), and ``walked``, how many members the run had walked in other
    archives before that one (what :attr:`NestLimits.total_members` counts)."""

    archive: str
    walked: int


@dataclass(frozen=True, slots=True)
class CarvedAt:
    """Where a carved file is: its file system's ``partition``, the image ``offset`` of its first
    byte, its ``length``, its ``kind`` (``jpeg``...) and its image ``extents`` (offset, length)."""

    partition: int
    offset: int
    length: int
    kind: str
    extents: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Whereabouts:
    """Where the files of a round that a worker's walk does not list are (by row key), and the
    limits the run followed archives with (``limits``: resolved, none left to a default)."""

    members: Mapping[str, InArchive] = field(default_factory=dict)
    carved: Mapping[str, CarvedAt] = field(default_factory=dict)
    limits: NestLimits | None = None


class RemoteRunner(Protocol):
    def check(self) -> None:
        """Raise a :class:`~triage.errors.TriageError` saying what to do when the run could not
        be carried out (the broker down, no worker listening): called before anything is
        recorded."""

    def describe(self) -> dict[str, Any]:
        """What the run's ledger entry records about the runner (no password)."""

    def processing(
        self, run_id: str, jobs: Sequence[FileJob], setup: WorkerSetup, where: Whereabouts | None = None
    ) -> AbstractContextManager[Iterator[RemoteFinished]]:
        """Read ``jobs`` (the walk's files, or with ``where`` archive members and carved files):
        yields each job as it finishes, exactly once each, in any order."""
