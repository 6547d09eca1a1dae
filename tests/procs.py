"""Processes as Linux's /proc shows them, for tests that must find what a command left running;
and a forked child's answer, for tests of what must not cross a fork."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def in_forked_child(work: Callable[[], str]) -> str:
    """What ``work`` returns when run in a forked child, which then leaves without running
    finalizers (``os._exit``), so that nothing the parent set up is closed by the child's exit."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, work().encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        return os.read(read, 1000).decode()
    finally:
        os.close(read)
        os.waitpid(pid, 0)


def children(pid: int) -> set[int]:
    """The pids whose parent is ``pid`` (field 4 of ``/proc/<pid>/stat``, read after the command
    name, which may itself hold spaces and parentheses)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes()
            except OSError:  # ended meanwhile
                continue
            if int(stat[stat.rfind(b")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found
