"""One triage run per exhibit at a time: a lock row in the case database.

Why: two runs of the same exhibit at once each sign ``item.derive`` entries for the same files and
count each other's findings. The lock is a row of ``triage_locks`` whose primary key is the
exhibit, so SQLite and PostgreSQL alike let exactly one insert win; the other run refuses at once
with a message naming the holder.

A lock left by a run that died (``kill -9``, power loss) must not block for ever. It is stale when:

* it was taken on this host and its process is gone, or the pid now belongs to another process
  (its start time in ``/proc/<pid>/stat`` differs from the one recorded);
* it was taken on another host and has not been refreshed for ``STALE_AFTER`` (a run refreshes
  it with every chunk of files it stores; others see it when the chunk is committed).

A stale lock is deleted (only if it is still that run's) and taking the lock is tried again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from custody import timefmt
from triage.errors import TriageError
from triage.store.models import ExhibitLock

STALE_AFTER = timedelta(minutes=30)


class ExhibitBusy(TriageError):
    """Another triage run holds the exhibit."""


def _host() -> str:
    return socket.gethostname()[:255]


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), or None when unknown/gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of stat(5); fields here start at field 3
    except (IndexError, ValueError):
        return None


def _alive(pid: int, start: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now = process_start(pid)
    return start is None or now is None or now == start


def _stale(row: Any, now: datetime) -> bool:
    """``row``: the holder's ``triage_locks`` row."""
    if row.host == _host():
        return not _alive(int(row.pid), row.pid_start)
    try:
        last = timefmt.parse_utc(str(row.heartbeat_utc))
    except ValueError:  # a heartbeat that cannot be read shows no life
        return True
    return now - last > STALE_AFTER


def acquire(engine: Engine, exhibit: str, run_id: str) -> None:
    """Take the exhibit for ``run_id`` or raise :class:`ExhibitBusy`."""
    pid = os.getpid()
    for _ in range(5):
        stamp = timefmt.stamp().utc
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(ExhibitLock).values(
                        exhibit=exhibit,
                        run_id=run_id,
                        host=_host(),
                        pid=pid,
                        pid_start=process_start(pid),
                        acquired_utc=stamp,
                        heartbeat_utc=stamp,
                    )
                )
            return
        except IntegrityError:
            pass  # held already: see by whom, below
        with engine.begin() as conn:
            holder = conn.execute(select(ExhibitLock).where(ExhibitLock.c.exhibit == exhibit)).first()
            if holder is None:
                continue  # released meanwhile: try again
            if _stale(holder, datetime.now(UTC)):
                conn.execute(
                    delete(ExhibitLock).where(
                        ExhibitLock.c.exhibit == exhibit, ExhibitLock.c.run_id == holder.run_id
                    )
                )
                continue
        raise ExhibitBusy(
            f"exhibit {exhibit} is being triaged by another run ({holder.run_id}, process {holder.pid} "
            f"on {holder.host}, since {holder.acquired_utc})",
            hint="wait for that run to finish, then run this command again; a run that died is "
            f"detected and its lock cleared automatically (on another host after {int(STALE_AFTER.total_seconds() // 60)} "
            "minutes without progress)",
        )
    raise ExhibitBusy(
        f"cannot take the triage lock of exhibit {exhibit}: it keeps changing hands",
        hint="run this command again",
    )


def heartbeat(conn: Connection, exhibit: str, run_id: str) -> None:
    """Show the lock is alive (inside the caller's transaction)."""
    conn.execute(
        update(ExhibitLock)
        .where(ExhibitLock.c.exhibit == exhibit, ExhibitLock.c.run_id == run_id)
        .values(heartbeat_utc=timefmt.stamp().utc)
    )


def release(engine: Engine, exhibit: str, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            delete(ExhibitLock).where(ExhibitLock.c.exhibit == exhibit, ExhibitLock.c.run_id == run_id)
        )


@contextmanager
def holding(engine: Engine, exhibit: str, run_id: str) -> Iterator[None]:
    acquire(engine, exhibit, run_id)
    try:
        yield
    except BaseException as error:
        try:
            release(engine, exhibit, run_id)
        except Exception as exc:  # the run's own error is the one to report; a lock left is found stale
            error.add_note(
                f"the triage lock of exhibit {exhibit} could not be released either ({type(exc).__name__}: "
                f"{exc}); the next run finds it stale and clears it"
            )
        raise
    release(engine, exhibit, run_id)
