"""Errors raised by the custody package.

Every error a user can cause derives from :class:`CustodyError`, so the CLI can turn it into a
one-line message (with a hint of what to do) instead of a traceback. :class:`UserError` is the
root that other packages' trees (``triage.errors``) derive from, so one CLI handler serves all::

    UserError
    └── CustodyError
    ├── CaseNotFound          no case folder/database where one was looked for
    ├── CaseExists            ``init`` on a folder that already holds a case
    ├── ActorError            unknown actor, missing or unreadable private key, wrong passphrase
    ├── ItemError             unknown or duplicate exhibit number, bad custody event
    ├── EvidenceError         evidence cannot be opened or read (missing segment, not an image, ...)
    │   └── UnsupportedSource the path is not a kind of evidence Exhibit can acquire
    ├── LedgerError           the ledger refused an append (concurrent fork, guard, bad state)
    └── CheckpointError       a checkpoint file is unreadable or not for this ledger
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can act on; ``hint`` tells them what to do next."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CustodyError(UserError):
    """Base of every custody error."""


class CaseNotFound(CustodyError):
    pass


class CaseExists(CustodyError):
    pass


class ActorError(CustodyError):
    pass


class ItemError(CustodyError):
    pass


class EvidenceError(CustodyError):
    pass


class UnsupportedSource(EvidenceError):
    pass


class LedgerError(CustodyError):
    pass


class CheckpointError(CustodyError):
    pass
