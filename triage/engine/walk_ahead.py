"""A disk image's entries walked in a forked child while the run gets ready.

Before its walk a run loads the plugins, unlocks the actor's key, makes or checks the triage
tables, takes the exhibit's lock and checks the stored rows against their anchors: about half a
second on one core, while the other core waits. The walk needs only the evidence, so for a disk
image it starts first, in a child (:class:`~triage.processes.Ahead`) that opens the image on
its own and walks it in C as the run would (:meth:`ImageSource.walk_rows`, each file system in
its guarded grandchild: a walk that hangs or drowns is still ended, with its warning). The run
takes the rows when it comes to its walk; they are the entries its own walk would give, in the
same order, with the walk's warnings and each entry's row key (:func:`rowkeys.keyed_entries`,
which the child computes too: a SHA-256 per entry, a tenth of a second per 50,000).

For ``exhibit triage`` the launcher starts the walk even earlier, before the CLI and the engine
are imported (:func:`start_early`; about half a second sooner): this module and what it imports
are kept light for that (the standard library, the sources, the row keys of
:mod:`triage.engine.rowkeys`; not SQLAlchemy, not the plugin API).

Whatever goes wrong in the child (the image cannot be opened there, a file system needs the
pytsk3 walk, the child dies) only means the run walks the image itself, as without this; the
child is ended when the run does not get to its walk.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

from triage.engine.rowkeys import keyed_entries
from triage.errors import WalkWarning
from triage.processes import Ahead, AheadFailed
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


#: the walk the launcher started before the engine was loaded, with what it walks
_early: tuple[tuple[str, str, str], WalkAhead] | None = None


def start_early(case: Path | None, exhibit: str) -> None:
    """Start the walk of ``exhibit``'s disk image now, for :func:`start` to hand to the run.

    Called by the ``exhibit`` launcher (triage/launch.py) for ``exhibit triage``, before the CLI
    and the engine are imported (about half a second): the exhibit's path and kind are read as
    ``exhibit ls`` reads them (custody.locate: a SQLite case only, opened read-only; SQLite may
    leave its ``-wal`` and ``-shm`` files beside the case database, as any command that opens
    the case does; a database another process holds locked is waited for a moment, not 30 s).
    It only starts work: anything that goes wrong here (no such case or exhibit, another
    database) starts nothing, and the command reports it as usual; the run takes the walk only
    when it is of the very path, kind and exhibit it resolves itself (:func:`start`).
    """
    global _early
    cancel_early()
    try:
        from custody.locate import quick_case

        quick = quick_case(case, timeout=0.2)
        if quick is None:
            return
        try:
            acquisition = quick.acquisition(exhibit)
        finally:
            quick.close()
        what = (str(acquisition["source_path"]), str(acquisition["kind"]), exhibit)
    except Exception:  # the command finds and reports the problem itself
        return
    walk = start(*what)
    if walk is not None:
        _early = (what, walk)


def cancel_early() -> None:
    """End the walk :func:`start_early` started if no run took it (a usage error, say)."""
    global _early
    early, _early = _early, None
    if early is not None:
        early[1].cancel()


def start(source_path: str, kind: str, exhibit: str) -> WalkAhead | None:
    """The walk ahead of exhibit ``exhibit``'s disk image (None for other kinds of evidence, or
    without ``fork``): the one :func:`start_early` started when it walks the same, else a new one."""
    global _early
    early, _early = _early, None
    if early is not None:
        if early[0] == (source_path, kind, exhibit):
            return early[1]
        early[1].cancel()
    if kind not in IMAGE_KINDS or not hasattr(os, "fork"):
        return None
    try:
        return WalkAhead(source_path, kind, exhibit)
    except OSError:  # out of processes: the run walks itself
        return None
