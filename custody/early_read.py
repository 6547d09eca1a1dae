"""An acquisition's read pass, started while ``exhibit acquire`` is still starting up.

Why: before it can record anything, a recording command pays a fixed cost of about 0.35 s of CPU
(importing SQLAlchemy and cryptography, opening the case, loading and checking the actor's key),
and hashing 1 GiB takes about 1.4 s on two cores. Run one after the other, they made ``exhibit
acquire`` of 1 GiB 1.24x ``md5sum`` of it (issue 12 wants <= 1.15x). Nothing in that fixed cost
depends on the evidence, and nothing in the read depends on the case, so they can run at once:
the read pass starts in a thread as soon as the command line names the evidence, and the command
waits for it only once the case, the actor and the key have been checked.

How: :func:`start` runs :func:`custody.acquisition.acquire_source` (the very function the
command runs otherwise: same detection, same read-only opening, same one-pass hashing, same
changed-while-read check, for every kind of source) in a thread. ``exhibit`` (triage/launch.py)
calls it before it even imports Typer; the command itself (``custody.cli.acquire``) calls
:func:`begin`, which adopts that read when it is for the same path and kind, or starts one. It
hands the read to :func:`custody.items.acquire`, which checks the exhibit number, the actor and
the key first, and only then takes :meth:`EarlyRead.result`: it waits for the digests while the
progress bar follows the bytes read.

Custody rules kept:

* The evidence is opened read-only, by the same code as before (:mod:`custody.media`).
* Nothing is recorded unless every check passes: a check that fails raises as before, and the
  read is cancelled (it stops at its next chunk) and its thread joined, by the command and,
  whatever happens, by the launcher before the process ends. No thread is left running.
* The recorded ``started`` and ``finished`` are when the read really began and ended (stamped in
  the reading thread), which may now be before the case was opened.
* A problem with the evidence (missing, unreadable, changed while read, an unknown ``--kind``)
  is raised when the result is taken, after the checks, so every error message and its order
  are as before.

Threads, not processes: hashlib releases the GIL on large buffers, so the digests run on the
cores while the main thread imports. While it imports, though, the main thread holds the GIL
most of the time, and a hashing thread that wants it back would wait up to the interpreter's
switch interval (5 ms, as long as digesting one chunk): the interval is lowered while the read
runs alongside the start-up (:data:`SWITCH_INTERVAL`) and restored once the command waits for it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custody.acquisition import Acquisition
    from custody.timefmt import Stamp

#: Set (to anything) to read only after the checks, as before (the benchmarks compare both).
OFF_ENV = "EXHIBIT_NO_EARLY_READ"
#: GIL switch interval (seconds) while the read overlaps the start-up; Python's default is 0.005.
SWITCH_INTERVAL = 0.0005
#: How often the waiting command reports the bytes read to its progress bar (seconds).
PROGRESS_EVERY = 0.1


_overlaps = 0  # reads running alongside a start-up (the switch interval is lowered while > 0)
_saved_interval = 0.0
_overlap_lock = threading.Lock()


def _overlap(change: int) -> None:
    """Count reads that overlap a start-up; lower the switch interval for the first, restore it
    after the last (several at once, in tests say, leave it as they found it)."""
    global _overlaps, _saved_interval
    with _overlap_lock:
        if _overlaps == 0 and change > 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, SWITCH_INTERVAL))
        _overlaps += change
        if _overlaps == 0:
            sys.setswitchinterval(_saved_interval)


class _Cancelled(BaseException):
    """Raised inside the reading thread to stop it (a BaseException: no ``except Exception`` in
    the per-kind readers may take it for a damaged member)."""


class EarlyRead:
    """One acquisition of ``path`` (as ``kind``; None: detected) running in a thread."""

    def __init__(self, path: Path | str, kind: str | None) -> None:
        self.path = Path(path)
        self.kind = kind
        self.done = 0  # bytes read so far
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._outcome: tuple[Acquisition, Stamp, Stamp] | None = None
        self._error: BaseException | None = None
        self._overlapping = True
        _overlap(+1)
        self._thread = threading.Thread(target=self._run, name="exhibit-early-read", daemon=True)
        self._thread.start()

    def _progress(self, done: int) -> None:
        self.done = done
        if self._stop.is_set():
            raise _Cancelled

    def _run(self) -> None:
        try:
            from custody.acquisition import acquire_source
            from custody.timefmt import stamp

            started = stamp()
            acquisition = acquire_source(self.path, kind=self.kind, progress=self._progress)
            self._outcome = (acquisition, started, stamp())
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the command, which raises it after its checks
            self._error = exc
        finally:
            self._finished.set()

    def _restore_switch_interval(self) -> None:
        if self._overlapping:
            self._overlapping = False
            _overlap(-1)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def matches(self, path: Path | str, kind: str | None) -> bool:
        return self.path == Path(path) and self.kind == kind and not self._stop.is_set()

    def result(self, progress: Callable[[int], None] | None = None) -> tuple[Acquisition, Stamp, Stamp]:
        """Wait for the read; the acquisition and when its read started and finished.

        ``progress(bytes_done)`` is called from this thread while waiting. Raises what the read
        raised (``EvidenceError``, ``UnsupportedSource``, ...), exactly as a direct call would.
        """
        if self._stop.is_set():
            raise RuntimeError("this read was cancelled")
        self._restore_switch_interval()  # from now on this thread only waits
        try:
            while not self._finished.wait(PROGRESS_EVERY if progress is not None else None):
                if progress is not None:
                    progress(self.done)
        except BaseException:  # Ctrl-C while waiting: stop reading, then let it propagate
            self.cancel()
            raise
        self._thread.join()
        if progress is not None:
            progress(self.done)
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def cancel(self) -> None:
        """Stop the read (at its next chunk) and wait for its thread; nothing of it is kept."""
        self._stop.set()
        self._thread.join()
        self._restore_switch_interval()


def wanted() -> bool:
    """False when $EXHIBIT_NO_EARLY_READ is set."""
    return not os.environ.get(OFF_ENV)


_pending: EarlyRead | None = None
_lock = threading.Lock()


def start(path: Path | str, kind: str | None) -> EarlyRead:
    """Start reading ``path`` now, for the command that will take it with :func:`begin`."""
    global _pending
    with _lock:
        if _pending is not None:
            _pending.cancel()
        _pending = EarlyRead(path, kind)
        return _pending


def begin(path: Path | str, kind: str | None) -> EarlyRead:
    """The read :func:`start` began for ``path`` and ``kind``, or a new one (any other is cancelled).

    The caller owns it from now on: it takes :meth:`EarlyRead.result` or calls
    :meth:`EarlyRead.cancel`.
    """
    global _pending
    with _lock:
        early, _pending = _pending, None
        if early is not None and early.matches(path, kind):
            return early
        if early is not None:
            early.cancel()
        return EarlyRead(path, kind)


def cancel() -> None:
    """Cancel a read that :func:`start` began and no command took (a usage error, say)."""
    global _pending
    with _lock:
        early, _pending = _pending, None
    if early is not None:
        early.cancel()
