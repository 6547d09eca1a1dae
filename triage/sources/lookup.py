"""Finding one entry in a source by path or meta address (``exhibit cat``, ``exhibit export``)."""

from __future__ import annotations

from triage.errors import EntryNotFound
from triage.sanitize import as_listed
from triage.sources.entry import FileEntry, Source


def find_entry(
    source: Source, path: str, partition: int | None = None, inode: int | None = None
) -> FileEntry:
    """The entry at ``path`` (allocated preferred over deleted), or with meta address ``inode``."""
    if inode is not None:
        for e in source.entries(None, recursive=True, partition=partition):
            if e.inode == inode and e.stream is None and e.type != "dir":
                return e
        raise EntryNotFound(f"no file with meta address {inode}", hint="'exhibit ls EX -r' lists addresses")
    clean = "/" + as_listed(path).strip("/")
    parent = clean.rsplit("/", 1)[0] or "/"
    matches = [e for e in source.entries(parent, partition=partition) if e.path == clean]
    if not matches:
        raise EntryNotFound(
            f"no entry '{clean}' in the evidence",
            hint="'exhibit ls EX [DIR]' lists a folder; give a name as ls prints it (escapes such as \\xff "
            "typed as they are)",
        )
    matches.sort(key=lambda e: (e.deleted, e.realloc))
    return matches[0]
