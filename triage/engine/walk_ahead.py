"""A disk image's entries walked in a forked child while the run gets ready.

Before its walk a run loads the plugins, unlocks the actor's key, makes or checks the triage
tables, takes the exhibit's lock and checks the stored rows against their anchors: about half a
second on one core, while the other core waits. The walk needs only the evidence, so for a disk
image it starts first, in a child (:class:`~triage.plugin.ahead.Ahead`) that opens the image on
its own and walks it in C as the run would (:meth:`ImageSource.walk_rows`, each file system in
its guarded grandchild: a walk that hangs or drowns is still ended, with its warning). The run
takes the rows when it comes to its walk; they are the entries its own walk would give, in the
same order, with the walk's warnings and each entry's row key (:func:`writes.keyed_entries`,
which the child computes too: a SHA-256 per entry, a tenth of a second per 50,000).

Whatever goes wrong in the child (the image cannot be opened there, a file system needs the
pytsk3 walk, the child dies) only means the run walks the image itself, as without this; the
child is ended when the run does not get to its walk.
"""

from __future__ import annotations

import marshal
import os

from triage.engine.writes import keyed_entries
from triage.errors import WalkWarning
from triage.plugin.ahead import Ahead, AheadFailed
from triage.sources.entry import FileEntry, Source, new_entry
from triage.sources.image_source import ImageSource, entries_of
from triage.sources.open import IMAGE_KINDS, open_source


def _walk_rows(path: str, kind: str, exhibit: str) -> bytes | None:
    """In the child: the rows, walk warnings (as their fields) and row keys of the image at
    ``path`` in one ``marshal`` block, or None. One block of plain values, as the walk guard sends
    the rows: pickling them would keep a memo entry per tuple and string (about twice the memory
    of the walk, and four times the time)."""
    with open_source(path, kind) as source:
        if not isinstance(source, ImageSource):
            return None
        walked = source.walk_rows()
        if walked is None:
            return None
        rows, warnings = walked
        keys = [key for key, _ in keyed_entries(exhibit, (new_entry(*row) for row in rows))]
        return marshal.dumps((rows, [(w.source, w.path, w.problem) for w in warnings], keys))


class WalkAhead:
    """The walk of one image, started now; :meth:`entries` gives its entries, :meth:`cancel` ends it."""

    def __init__(self, path: str, kind: str, exhibit: str) -> None:
        self._ahead: Ahead[bytes | None] | None = Ahead(_walk_rows, path, kind, exhibit)

    def entries(self, source: Source) -> tuple[list[FileEntry], list[str]] | None:
        """The entries of ``source`` (the same image, opened by the run) as its recursive walk
        gives them, with their row keys; the walk's warnings are added to ``source.warnings``.
        None: walk it here."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        if not isinstance(source, ImageSource):
            ahead.cancel()
            return None
        try:
            walked = ahead.result()
        except AheadFailed:
            return None
        if walked is None:
            return None
        rows, warnings, keys = marshal.loads(walked)
        del walked  # the block (~150 bytes an entry) is not held while the entries are made
        source.warnings.extend(WalkWarning(*fields) for fields in warnings)
        return entries_of(rows), keys

    def cancel(self) -> None:
        """End the child if its walk was not taken."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.cancel()


def start(source_path: str, kind: str, exhibit: str) -> WalkAhead | None:
    """The walk ahead of exhibit ``exhibit``'s disk image (None for other kinds of evidence, or
    without ``fork``)."""
    if kind not in IMAGE_KINDS or not hasattr(os, "fork"):
        return None
    try:
        return WalkAhead(source_path, kind, exhibit)
    except OSError:  # out of processes: the run walks itself
        return None
