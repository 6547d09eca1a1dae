"""Forensic triage: list and read every file of disk images and logical sources.

The public API is re-exported here; submodules are imported on first use so that ``import triage``
stays cheap for the CLI (start-up time counts in ``exhibit ls``)::

    from triage import open_source, list_entries, read_content, entry_to_json

    with open_source("disk.E01") as src:
        for entry in src.entries(recursive=True):
            ...
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.content import read_content, read_stream
    from triage.errors import (
        EntryNotFound,
        NoFileSystem,
        PluginError,
        SourceUnreadable,
        TriageError,
        UnsafePath,
        UnsupportedArchive,
        WalkWarning,
    )
    from triage.filesystems import FileSystem, ImageSource
    from triage.logical import FolderSource, TarSource, ZipSource
    from triage.sanitize import display_name, display_to_bytes, safe_relative_path
    from triage.walk import (
        FileEntry,
        Source,
        entry_to_json,
        entry_to_json_line,
        list_entries,
        open_source,
        walk_filesystem,
    )

_EXPORTS = {
    "TriageError": "triage.errors",
    "SourceUnreadable": "triage.errors",
    "NoFileSystem": "triage.errors",
    "EntryNotFound": "triage.errors",
    "UnsupportedArchive": "triage.errors",
    "UnsafePath": "triage.errors",
    "PluginError": "triage.errors",
    "WalkWarning": "triage.errors",
    "FileEntry": "triage.walk",
    "Source": "triage.walk",
    "open_source": "triage.walk",
    "list_entries": "triage.walk",
    "entry_to_json": "triage.walk",
    "entry_to_json_line": "triage.walk",
    "walk_filesystem": "triage.walk",
    "read_content": "triage.content",
    "read_stream": "triage.content",
    "ImageSource": "triage.filesystems",
    "FileSystem": "triage.filesystems",
    "FolderSource": "triage.logical",
    "ZipSource": "triage.logical",
    "TarSource": "triage.logical",
    "safe_relative_path": "triage.sanitize",
    "display_name": "triage.sanitize",
    "display_to_bytes": "triage.sanitize",
}

__all__ = [
    "EntryNotFound",
    "FileEntry",
    "FileSystem",
    "FolderSource",
    "ImageSource",
    "NoFileSystem",
    "PluginError",
    "Source",
    "SourceUnreadable",
    "TarSource",
    "TriageError",
    "UnsafePath",
    "UnsupportedArchive",
    "WalkWarning",
    "ZipSource",
    "display_name",
    "display_to_bytes",
    "entry_to_json",
    "entry_to_json_line",
    "list_entries",
    "open_source",
    "read_content",
    "read_stream",
    "safe_relative_path",
    "walk_filesystem",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'triage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
