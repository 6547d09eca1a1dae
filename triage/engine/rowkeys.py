"""The key of a walked entry's ``triage_files`` row: a SHA-256 of the entry's identity.

Its own module, importing nothing heavier than :mod:`hashlib`, because the walk of a disk image
starts in a forked child before the rest of the engine is loaded (triage/engine/walk_ahead.py)
and computes the keys there; :mod:`triage.engine.writes` uses them for every row it writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from triage.sources.entry import FileEntry


def file_key(exhibit: str, e: FileEntry) -> str:
    ident = f"{exhibit}\x00{e.partition}\x00{e.inode}\x00{e.attr_type}\x00{e.attr_id}\x00{e.path}\x00{e.deleted}\x00{e.realloc}"
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_entries(exhibit: str, entries: Iterable[FileEntry]) -> Iterator[tuple[str, FileEntry]]:
    """Each walked entry with its stored row's key (the identity listed twice gets ``#n``).

    Shared by the run and by ``verify --rehash`` (triage/engine/verify.py), which must find the
    same row for the same entry.
    """
    seen: dict[str, int] = {}
    for e in entries:
        key = file_key(exhibit, e)
        if key in seen:  # the same identity listed twice: keep both, distinguishably
            seen[key] += 1
            key = hashlib.sha256(f"{key}#{seen[key]}".encode()).hexdigest()
        else:
            seen[key] = 0
        yield key, e
