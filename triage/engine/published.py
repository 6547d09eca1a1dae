"""The batches of a file's records that a worker publishes while it is still reading the file.

A file with many records (a chat database of a million messages) hands them to the run in batch
files (per_file.SpilledRecords, results.write_batch). The run stores each batch as soon as it
appears, in a transaction of its own, while it waits for the workers
(:meth:`Published.store_ready`), so storing a big database's records overlaps reading it instead
of following it; the batches still on disk when the file's result arrives are stored with that
result (results.found_records leaves out those stored already).

What was stored early can be taken back, by the ids it was given: a plugin that said "not my
format" after some of its batches were published withdrew them (``FileResult.dropped``), and a
worker ended for a stalled read leaves batches of files that are read again or reported unread
(:meth:`Published.withdraw_unsettled`). A stored batch of a file whose result has not arrived is
not final until that result is stored: each is noted in ``triage_pending`` in the transaction
that stores it and forgotten in the one that stores the file's result, so the findings a run
stored ahead of a file it never finished (it was killed) are taken back by the next run of the
exhibit before it reads anything (:func:`withdraw_abandoned`); that run reads the file again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select

from triage.engine import writes
from triage.engine.results import FileResult, batch_number, batch_stem, read_batch
from triage.store.models import Finding, PendingBatch


class Published:
    """The batch files of one run's spill folder and what the run stored of them."""

    def __init__(self, folder: Path, exhibit: str, run_id: str) -> None:
        self.folder = folder
        self.exhibit = exhibit
        self.run_id = run_id
        self.stored: dict[str, tuple[int, int]] = {}  # batch -> (ids above, up to) its rows got
        self.next: dict[str, int] = {}  # stem -> the number of its next batch to store
        self.ignored: set[str] = set()  # stems of files a broken pool was reading

    def store_ready(self, conn: Connection, heartbeat: Callable[[Connection], None]) -> int:
        """Store every batch published since the last call, each stem's in order; returns how
        many findings were new."""
        try:
            names = sorted(e.path for e in os.scandir(self.folder) if e.name.endswith(".batch"))
        except FileNotFoundError:
            return 0
        new = 0
        for path in names:
            stem = batch_stem(path)
            if path in self.stored or stem in self.ignored or batch_number(path) != self.next.get(stem, 0):
                continue  # stored, given up, or one before it is not there yet (the next call)
            try:
                where, records = read_batch(path)
            except FileNotFoundError:  # the worker removed it (its file failed)
                continue
            with conn.begin():
                heartbeat(conn)
                before = _last_id(conn)
                new += writes.store_findings(
                    conn, list(writes.finding_rows(self.exhibit, where, records, self.run_id))
                )
                span = self.stored[path] = (before, _last_id(conn))
                conn.execute(  # until the file's result is stored: a run that dies leaves it
                    insert(PendingBatch).values(
                        batch=path, exhibit=self.exhibit, run_id=self.run_id, above=span[0], upto=span[1]
                    )
                )
            self.next[stem] = self.next.get(stem, 0) + 1
        return new

    def settle(self, conn: Connection, results: Iterable[FileResult]) -> tuple[set[str], int]:
        """For a chunk's results, in the transaction storing them: (the batches of theirs stored
        already, how many stored findings their withdrawn batches took back)."""
        stored: set[str] = set()
        withdrawn = 0
        for result in results:
            for path in result.dropped:
                if path in self.stored:
                    withdrawn += self._withdraw(conn, self.stored[path])
            stored.update(path for path in result.spill if path in self.stored)
        settled = [p for r in results for p in (*r.spill, *r.dropped) if p in self.stored]
        if settled:
            conn.execute(delete(PendingBatch).where(PendingBatch.c.batch.in_(settled)))
        return stored, withdrawn

    def forget(self, results: Iterable[FileResult]) -> None:
        """After the chunk's transaction: the results' batches are final and removed."""
        for result in results:
            for path in (*result.spill, *result.dropped):
                self.stored.pop(path, None)
                self.next.pop(batch_stem(path), None)

    def withdraw_unsettled(self, conn: Connection) -> int:
        """Take back every stored batch whose file's result has not arrived (the pool broke: those
        files are read again, or reported unread), and give up every batch still in the folder,
        stored or not (a worker ended may have published one since the last look); returns how
        many findings were removed."""
        removed = 0
        with conn.begin():
            for span in self.stored.values():
                removed += self._withdraw(conn, span)
            if self.stored:
                conn.execute(delete(PendingBatch).where(PendingBatch.c.batch.in_(list(self.stored))))
        self.ignored.update(batch_stem(path) for path in self.stored)
        self.ignored.update(self.next)
        self.stored.clear()
        self.next.clear()
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.folder):
                if entry.name.endswith((".batch", ".part")):
                    self.ignored.add(batch_stem(entry.path.removesuffix(".part")))
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
        return removed

    def _withdraw(self, conn: Connection, span: tuple[int, int]) -> int:
        above, upto = span
        result = conn.execute(
            delete(Finding).where(Finding.c.run_id == self.run_id, Finding.c.id > above, Finding.c.id <= upto)
        )
        return max(int(result.rowcount or 0), 0)


def withdraw_abandoned(conn: Connection, exhibit: str) -> int:
    """Take back the findings an earlier run of ``exhibit`` stored ahead of files whose results it
    never stored (it was killed, or failed): the run about to read them again stores them itself.
    Called by a run holding the exhibit's lock before it reads anything; returns how many."""
    removed = 0
    pending = conn.execute(
        select(PendingBatch.c.run_id, PendingBatch.c.above, PendingBatch.c.upto).where(
            PendingBatch.c.exhibit == exhibit
        )
    ).all()
    for run_id, above, upto in pending:
        result = conn.execute(
            delete(Finding).where(Finding.c.run_id == run_id, Finding.c.id > above, Finding.c.id <= upto)
        )
        removed += max(int(result.rowcount or 0), 0)
    if pending:
        conn.execute(delete(PendingBatch).where(PendingBatch.c.exhibit == exhibit))
    return removed


def _last_id(conn: Connection) -> int:
    """The largest finding id stored (0 for none): a batch's rows get the ids after it."""
    return int(conn.execute(select(func.max(Finding.c.id))).scalar() or 0)
