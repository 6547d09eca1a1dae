"""Helpers shared by the WhatsApp plugins (Android and iOS); not a plugin module itself.

- :class:`MediaIndex` finds the media files a WhatsApp database refers to in the same evidence
  with **one** :meth:`~triage.plugin.FileItem.find` per database (never one per message), keyed
  by the path the app records (``Media/WhatsApp Images/IMG-...jpg`` on Android,
  ``Media/<jid>/x/y/<uuid>.jpg`` on iOS), so a message row looks its file up in a dict. The index
  holds the media files of the extraction, not the messages, so its size does not grow with the
  message table.
- :func:`table_columns_by_name` lists a database's tables and columns once.
"""

from __future__ import annotations

import posixpath
import sqlite3
from collections.abc import Callable

from triage.plugin import Attachment, FileItem, ParseContext, RelatedFile

__all__ = ["MediaIndex", "as_int", "as_text", "table_columns_by_name"]


class MediaIndex:
    """Files of the same source, by the relative path the app records for them."""

    def __init__(self, files: dict[str, RelatedFile] | None = None) -> None:
        self.files: dict[str, RelatedFile] = files or {}

    @classmethod
    def build(
        cls, item: FileItem, ctx: ParseContext, pattern: str, key: Callable[[str], str | None]
    ) -> MediaIndex:
        """One ``item.find(pattern)``; ``key(found path)`` names each file (``None``: leave it out).

        When two files get the same key (the same folder seen under two mount points, such as
        ``/sdcard`` and ``/data/media/0``), the first in path order is kept. A search that fails
        is a warning; the messages are still read, their attachments without a found file.
        """
        files: dict[str, RelatedFile] = {}
        try:
            for found in item.find(pattern):
                name = key(found.path)
                if name is not None:
                    files.setdefault(name, found)
        except OSError as exc:
            ctx.warn(f"media files not searched ({pattern}): {exc}")
        return cls(files)

    def __len__(self) -> int:
        return len(self.files)

    def attachment(
        self, recorded: str | None, key: str | None, *, name: str | None = None, mime: str | None = None
    ) -> Attachment:
        """What the app recorded (``recorded``), and the file found under ``key`` if any."""
        found = self.files.get(key) if key else None
        if name is None and recorded:
            name = posixpath.basename(recorded.replace("\\", "/")) or None
        return Attachment(
            name=name,
            mime=mime,
            recorded_path=recorded,
            path=found.path if found is not None else None,
            size=found.size if found is not None else None,
        )


def table_columns_by_name(con: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """``{table name (lower case): its columns (lower case)}`` of every table of the database."""
    names = [str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        name.lower(): frozenset(
            str(r[0]).lower() for r in con.execute("SELECT name FROM pragma_table_info(?)", (name,))
        )
        for name in names
    }


def as_text(value: object) -> str | None:
    """A text column's value, ``None`` for NULL and for the empty text WhatsApp writes for "none"."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def as_int(value: object) -> int | None:
    """An integer column's value; numeric text (``media_wa_type`` is declared TEXT) as its integer."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
