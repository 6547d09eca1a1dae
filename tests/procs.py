"""Processes as Linux's /proc shows them, for tests that must find what a command left running."""

from __future__ import annotations

from pathlib import Path


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
