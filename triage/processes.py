"""Lifetimes of the processes a run starts: none may outlive the process that started it.

:class:`Ahead`: a function run in a forked child process while this one goes on; its result
collected later. For work that needs only files and a database, not this process's objects: the
walk of a disk image while the run gets ready (triage/engine/walk_ahead.py), the deleted-record
search of a big database beside its live rows (triage/plugin/sqlite_table.py), half of a large
table's digest (triage/engine/integrity.py), half of an independent analyzer's records
(triage/engine/analysis.py). The result comes back pickled through a pipe (plain data: the child
never touches a connection or file of this process's but the ones it opens itself), an
exception as its type name and message. The child ignores Ctrl-C (this process ends it), dies
with this process (``PR_SET_PDEATHSIG``, so a worker killed with ``kill -9`` leaves nothing
behind) and leaves with ``os._exit`` (no exit handler of this process's runs twice). This module
imports only the standard library: the launcher starts a walk with it before the engine loads.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Ahead", "AheadFailed", "die_with_parent"]


def die_with_parent(parent_pid: int) -> None:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then exit at once if ``parent_pid`` is already gone.

    The one the engine's workers and every :class:`Ahead` child use.
    ``triage.sources._fastwalk`` has the same call in C for the walk guard's child
    (triage/sources/walkguard.py), but that module is built only where libtsk-dev and a compiler
    are present, and workers run for every kind of evidence (folders, archives, E01 through
    pytsk3), so the engine cannot rely on it.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the run died before the request took effect
        os._exit(1)


T = TypeVar("T")


class AheadFailed(Exception):
    """The child raised (``kind`` is the exception's type name) or ended without a result."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Ahead(Generic[T]):
    """``function(*args)`` computed by a forked child; :meth:`result` waits for it."""

    def __init__(self, function: Callable[..., T], *args: Any) -> None:
        reader, writer = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            raise
        if pid == 0:  # the child
            os.close(reader)
            _run_child(writer, parent, function, args)  # never returns
        os.close(writer)
        self._pid: int | None = pid
        self._reader = os.fdopen(reader, "rb")

    def result(self) -> T:
        """The function's value; :class:`AheadFailed` if it raised or the child died."""
        try:
            try:
                status, payload = pickle.load(self._reader)
            except (EOFError, pickle.UnpicklingError, OSError) as exc:
                raise AheadFailed("ChildDied", f"the forked process ended without a result ({exc})") from None
            except BaseException:  # Ctrl-C while waiting: the child ignores it, so end it now
                self._kill()
                raise
        finally:
            self._reader.close()
            self._reap()
        if status == "ok":
            return payload
        raise AheadFailed(*payload)

    def cancel(self) -> None:
        """End the child (its result is not wanted any more)."""
        self._kill()
        self._reader.close()
        self._reap()

    def _kill(self) -> None:
        if self._pid is not None:  # not reaped yet, so the pid is still the child's
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)

    def _reap(self) -> None:
        if self._pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


def _run_child(writer: int, parent: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent)
        gc.freeze()  # what was inherited is never collected here (no copy-on-write of it)
        try:
            out: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            out = ("error", ("MemoryError", "out of memory"))
        except Exception as exc:
            out = ("error", (type(exc).__name__, str(exc)))
        with os.fdopen(writer, "wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        code = 1
    finally:
        os._exit(code)
