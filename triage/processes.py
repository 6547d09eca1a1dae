"""Lifetimes of the processes a run starts: none may outlive the process that started it."""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["die_with_parent"]


def die_with_parent(parent_pid: int) -> None:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then exit at once if ``parent_pid`` is already gone.

    The one the engine's workers and the plugins' forked searches (triage/plugin/ahead.py) use.
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
