"""Watching the triage workers for a read of the evidence that never ends.

Why: a damaged or crafted file system can make one call into The Sleuth Kit run for a very long
time. The fuzz script found an allocated ext3 inode whose size was set to 1 GB over two direct
blocks: ``open_meta`` alone builds its block map for 11-28 s (``icat`` is as slow), and an image
can hold thousands of such inodes. The call holds the GIL inside C, so nothing in the worker can
stop it; the run can only end the worker from outside, record the file as unread and go on.

How: every pool worker owns one slot of a small array shared with the run (:class:`ReadWatch`):
its pid, the index of the job it is on, what it is doing and when it last made progress. The
worker's :class:`Heartbeat` stores the time when it starts a file and at every chunk of content
the evidence reader hands over (a few stores of a double: nothing measurable per chunk). While
the run waits for chunks of work it asks :meth:`ReadWatch.stalled` which workers have been in
one read for longer than ``EXHIBIT_READ_STALL_SECONDS`` (60 by default); triage/engine/workers.py
kills those and reads the rest again in a new pool.

Only reading is watched. A plugin parsing a file already read (in memory or a scratch copy) is not
stalled by the evidence; its time is its own.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray

from triage.errors import TriageError

STALL_ENV = "EXHIBIT_READ_STALL_SECONDS"
DEFAULT_STALL_SECONDS = 60.0

_FIELDS = 4  # per slot: pid, job index, phase, monotonic time of the last progress
_PID, _JOB, _PHASE, _SINCE = range(_FIELDS)
IDLE, READING, PARSING = 0.0, 1.0, 2.0


def stall_seconds() -> float:
    """``EXHIBIT_READ_STALL_SECONDS``, or the default; a value that is not a positive number is
    an error of the command (with a hint), not a reason to run without the guard."""
    raw = os.environ.get(STALL_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_STALL_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):  # also false for NaN
        raise TriageError(
            f"{STALL_ENV}={raw!r} is not a positive number",
            hint=f"set {STALL_ENV} to e.g. {int(DEFAULT_STALL_SECONDS)} or unset it (see docs/examiner.md)",
        )
    return value


class Heartbeat:
    """What one worker tells the run about its progress (a no-op outside a watched pool)."""

    __slots__ = ("_array", "_base")

    def __init__(self, array: ctypes.Array[ctypes.c_double] | None = None, slot: int = 0) -> None:
        self._array = array
        self._base = slot * _FIELDS

    def begin(self, job: int) -> None:
        """Starting to read job number ``job`` of the run."""
        a = self._array
        if a is not None:
            b = self._base
            a[b + _SINCE] = time.monotonic()
            a[b + _JOB] = job
            a[b + _PHASE] = READING

    def reading(self) -> None:
        """Reading evidence again (a related file a plugin asked for)."""
        a = self._array
        if a is not None:
            a[self._base + _SINCE] = time.monotonic()
            a[self._base + _PHASE] = READING

    def tick(self) -> None:
        """A chunk of content arrived: the reader is making progress."""
        a = self._array
        if a is not None:
            a[self._base + _SINCE] = time.monotonic()

    def parsing(self) -> None:
        """Done reading for now: plugins are at work (not watched)."""
        a = self._array
        if a is not None:
            a[self._base + _PHASE] = PARSING

    def idle(self) -> None:
        a = self._array
        if a is not None:
            a[self._base + _PHASE] = IDLE


NO_HEARTBEAT = Heartbeat()


@dataclass(frozen=True, slots=True)
class Stalled:
    """A worker found in one read for too long."""

    pid: int
    job: int  # index in the run's job list
    seconds: float


class ReadWatch:
    """The slots of a pool's workers, made by the run before it forks them."""

    def __init__(self, slots: int, limit: float) -> None:
        self.slots = slots
        self.limit = limit
        self.array = RawArray(ctypes.c_double, slots * _FIELDS)
        self.lock = multiprocessing.get_context("fork").Lock()

    def reset(self) -> None:
        """Free every slot (before a new pool is started)."""
        with self.lock:
            ctypes.memset(self.array, 0, ctypes.sizeof(self.array))

    def claim(self) -> Heartbeat:
        """A free slot for this (newly forked) worker."""
        pid = os.getpid()
        with self.lock:
            for slot in range(self.slots):
                if self.array[slot * _FIELDS + _PID] == 0:
                    self.array[slot * _FIELDS + _PID] = pid
                    return Heartbeat(self.array, slot)
        return NO_HEARTBEAT  # more workers than slots: cannot happen with a fixed-size pool

    def stalled(self) -> list[Stalled]:
        """The workers that have been in one read for longer than the limit."""
        now = time.monotonic()
        found = []
        a = self.array
        for slot in range(self.slots):
            b = slot * _FIELDS
            pid, job, phase, since = a[b + _PID], a[b + _JOB], a[b + _PHASE], a[b + _SINCE]
            if pid and phase == READING and now - since > self.limit:
                found.append(Stalled(int(pid), int(job), now - since))
        return found
