"""What the run asks of a runner that reads its files elsewhere than in its own processes.

A triage run reads its files with forked local workers (workers.py) unless
:class:`~triage.engine.run.TriageOptions` gives it a :class:`RemoteRunner` (triage/distributed:
Celery workers on other machines). The engine needs no more of one than this protocol, so it
never imports a broker's client: the jobs are the engine's own (ranges of the run's files), the
results are the same :class:`~triage.engine.results.FileResult` lists, and the run stays the only
writer of rows and of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from triage.engine.per_file import FileJob
from triage.engine.results import FileResult
from triage.engine.workers import WorkerSetup

#: A job read remotely: its files, their results (same order), the worker's name and how many
#: times the job was sent (more than once when a worker was lost).
RemoteFinished = tuple[Sequence[FileJob], list[FileResult], str, int]


class RemoteRunner(Protocol):
    def check(self) -> None:
        """Raise a :class:`~triage.errors.TriageError` saying what to do when the run could not
        be carried out (the broker down, no worker listening): called before anything is
        recorded."""

    def describe(self) -> dict[str, Any]:
        """What the run's ledger entry records about the runner (no password)."""

    def processing(
        self, run_id: str, jobs: Sequence[FileJob], setup: WorkerSetup
    ) -> AbstractContextManager[Iterator[RemoteFinished]]:
        """Read ``jobs``: yields each job as it finishes, exactly once each, in any order."""
