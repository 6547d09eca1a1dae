"""Errors and warnings of the triage package.

Every error a user can cause while looking inside evidence derives from :class:`TriageError`, so
the CLI prints one line (plus ``hint``) instead of a traceback. Image-level problems found by the
custody layer (missing segment, not an image) stay :class:`custody.errors.EvidenceError`; triage
re-raises them unchanged so the user sees the same message whichever command they ran::

    TriageError                 base; ``hint`` says what to do next
    ├── SourceUnreadable        the image/folder/archive cannot be read at all (truncated, I/O error)
    │   └── EvidenceMissing     nothing is at the path an exhibit was acquired from (moved, unmounted)
    ├── NoFileSystem            no volume system and no file system TSK knows (random bytes, wiped)
    ├── EntryNotFound           the path / inode / stream asked for does not exist in the source
    ├── UnsupportedArchive      a logical source that is neither a folder, a zip nor a tar
    ├── PasswordRequired        an encrypted source (an iTunes backup) opened without its password
    │   └── WrongPassword       ... or with a password that does not open it
    ├── UnsafePath              an exported name cannot be made safe (should not happen: sanitize escapes)
    ├── WalkAbandoned           one file system's walk hung or blew its memory and was ended
    ├── DistributedError        a run on Celery workers cannot go on (broker down, no worker, a worker failed)
    └── PluginError             a triage plugin failed (raised by plugins, never by the walk itself)

Partial damage is *not* an error: the walk keeps going and records a :class:`WalkWarning` for each
unreadable directory, unreadable metadata entry or unreadable run of a file, because an examiner
would rather see 99 % of a damaged disk with a note than nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from custody.errors import UserError


class TriageError(UserError):
    """Base of every triage error; ``hint`` tells the user what to do next.

    It derives from :class:`custody.errors.UserError`, so the one CLI handler turns any of these
    into a message instead of a traceback.
    """


class SourceUnreadable(TriageError):
    """The source as a whole cannot be read (truncated image, I/O error, unreadable archive)."""


class EvidenceMissing(SourceUnreadable):
    """Nothing is at the path the exhibit was acquired from: moved, renamed, or its drive not mounted."""


class NoFileSystem(TriageError):
    """Neither a partition table nor a file system that The Sleuth Kit recognises was found."""


class EntryNotFound(TriageError):
    """The requested path, meta address or stream does not exist in the source."""


class UnsupportedArchive(TriageError):
    """A logical source that is not a folder, a zip or a tar archive."""


class DistributedError(TriageError):
    """A run fanned out to Celery workers cannot start or go on: the broker does not answer, no
    worker listens on the queue, or a worker failed on a job (the message names the worker)."""


class PasswordRequired(TriageError):
    """An encrypted source was opened without its password. The message names the source and the
    option that gives the password; it never holds a password."""


class WrongPassword(PasswordRequired):
    """The password given does not open the encrypted source (never repeated in the message)."""


class UnsafePath(TriageError):
    """A name that cannot be turned into a safe relative export path."""


class WalkAbandoned(TriageError):
    """The walk of one file system was ended (no progress, out of its memory, crashed): see
    :mod:`triage.sources.walkguard`. The other file systems of the evidence are still walked."""

    def __init__(self, message: str, *, offset: int, fs_type: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.offset = offset
        self.fs_type = fs_type


class PluginError(TriageError):
    """A triage plugin failed; plugins wrap their own exceptions in this."""


@dataclass(frozen=True, slots=True)
class WalkWarning:
    """A part of the source that could not be read; the walk continued without it.

    ``source`` names the image or folder, ``path`` the entry (or ``partition@offset``) concerned and
    ``problem`` says what went wrong in words an examiner can put into a report.
    """

    source: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.problem}"
