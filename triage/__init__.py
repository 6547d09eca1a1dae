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
    from triage.errors import (
        EntryNotFound,
        NoFileSystem,
        PasswordRequired,
        PluginError,
        SourceUnreadable,
        TriageError,
        UnsafePath,
        UnsupportedArchive,
        WalkWarning,
        WrongPassword,
    )
    from triage.sanitize import display_name, display_to_bytes, safe_relative_path
    from triage.sources.content import read_stream
    from triage.sources.entry import FileEntry, Source, entry_to_json, entry_to_json_line
    from triage.sources.filesystems import FileSystem
    from triage.sources.image_source import ImageSource
    from triage.sources.ios_backup import IosBackupSource
    from triage.sources.logical import FolderSource, TarSource, ZipSource
    from triage.sources.open import list_entries, open_source, read_content
    from triage.sources.walk import walk_filesystem

_EXPORTS = {
    "TriageError": "triage.errors",
    "SourceUnreadable": "triage.errors",
    "NoFileSystem": "triage.errors",
    "EntryNotFound": "triage.errors",
    "UnsupportedArchive": "triage.errors",
    "UnsafePath": "triage.errors",
    "PluginError": "triage.errors",
    "WalkWarning": "triage.errors",
    "PasswordRequired": "triage.errors",
    "WrongPassword": "triage.errors",
    "FileEntry": "triage.sources.entry",
    "Source": "triage.sources.entry",
    "open_source": "triage.sources.open",
    "list_entries": "triage.sources.open",
    "entry_to_json": "triage.sources.entry",
    "entry_to_json_line": "triage.sources.entry",
    "walk_filesystem": "triage.sources.walk",
    "read_content": "triage.sources.open",
    "read_stream": "triage.sources.content",
    "ImageSource": "triage.sources.image_source",
    "FileSystem": "triage.sources.filesystems",
    "FolderSource": "triage.sources.logical",
    "ZipSource": "triage.sources.logical",
    "TarSource": "triage.sources.logical",
    "IosBackupSource": "triage.sources.ios_backup",
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
    "IosBackupSource",
    "NoFileSystem",
    "PasswordRequired",
    "PluginError",
    "Source",
    "SourceUnreadable",
    "TarSource",
    "TriageError",
    "UnsafePath",
    "UnsupportedArchive",
    "WalkWarning",
    "WrongPassword",
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
