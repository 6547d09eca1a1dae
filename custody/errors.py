"""Errors raised by the custody package.

Every error a user can cause derives from :class:`CustodyError`, so the CLI can turn it into a
one-line message (with a hint of what to do) instead of a traceback. :class:`UserError` is the
root that other packages' trees (``triage.errors``) derive from, so one CLI handler serves all::

    UserError
    ├── DiskFull                  the disk or quota ran out while writing (see environment_error)
    ├── DatabaseBusy              another command held the SQLite case's lock longer than a command waits
    ├── DatabaseGone              the database server went away during a command
    └── CustodyError
        ├── CaseNotFound          no case folder/database where one was looked for
        ├── CaseExists            ``init`` on a folder that already holds a case
        ├── CaseError             empty case number or title; a database URL Exhibit cannot use
        ├── ActorError            unknown actor, missing, unsafe or unreadable private key, wrong passphrase
        ├── ItemError             unknown or duplicate exhibit number, bad custody event
        ├── EvidenceError         evidence cannot be opened or read (missing segment, not an image, ...)
        │   └── UnsupportedSource the path is not a kind of evidence Exhibit can acquire
        ├── LedgerError           the ledger refused an append (concurrent fork, guard, bad state)
        ├── CheckpointError       a checkpoint file is unreadable, malformed or not for this case
        └── InvalidTime           a time given by the user is not ISO 8601 with an offset, or out of range
"""

from __future__ import annotations

import sys


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


class CaseError(CustodyError):
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


class InvalidTime(CustodyError):
    pass


class DatabaseGone(UserError):
    """The database server went away during a command (restarted, crashed, network cut)."""


class DiskFull(UserError):
    """The disk (or quota) ran out while writing; nothing half-done was committed to the ledger."""


class DatabaseBusy(UserError):
    """Another command held the SQLite case database's lock for longer than a command waits."""


_SQLITE_FULL = 13
_SQLITE_BUSY = 5  # "database is locked" (SQLITE_BUSY and its extended codes: the low byte)
_PG_DISK_FULL = "53100"
_PG_GONE = {"57P01", "57P02", "57P03"}  # admin_shutdown, crash_shutdown, cannot_connect_now


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps (``orig``) and its causes, each once."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        orig = getattr(item, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None, item.__cause__, item.__context__]
    return seen


#: how psycopg words a new connection that could not be made because the server is away (not
#: one it refused for a reason of its own: a password, a database that does not exist)
_SERVER_AWAY = (
    "connection refused",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "server closed the connection",
    "timeout expired",
    "no route to host",
    "network is unreachable",
    "connection reset",
)


def _connect_failed(cause: BaseException) -> bool:
    """psycopg's error when a new connection cannot be made because the server is away (down,
    shutting down or starting, unreachable): it has no SQLSTATE, and SQLAlchemy does not mark it
    invalidated. A command that opens another connection after the server went away (the next
    step of a triage run) fails with it rather than with a broken connection."""
    psycopg = sys.modules.get("psycopg")  # loaded when the error is psycopg's
    if psycopg is None or not isinstance(cause, psycopg.OperationalError):
        return False
    text = str(cause).lower()
    return any(words in text for words in _SERVER_AWAY)


_SQLITE_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def damaged_sqlite(exc: BaseException) -> str | None:
    """SQLite's words when ``exc`` (or the driver error it wraps) says the database file is not
    a database or is damaged, else ``None``."""
    for cause in _causes(exc):
        code = getattr(cause, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_DAMAGED:
            return str(cause).strip().splitlines()[0][:200] if str(cause).strip() else "damaged"
    return None


def environment_error(exc: BaseException) -> UserError | None:
    """A user-facing error for what the machine did rather than a bug in Exhibit, else ``None``.

    A full disk shows as ``OSError`` ENOSPC/EDQUOT from a write, as SQLite's SQLITE_FULL or as
    PostgreSQL's ``disk_full``; other ``OSError`` s (permission denied, not a folder) name their file.
    A command-line value that is not valid UTF-8 reaches the database as text it cannot encode.
    """
    import errno

    full = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
    causes = _causes(exc)
    for cause in causes:
        where = None
        if isinstance(cause, OSError) and cause.errno in full:
            where = cause.filename
        elif getattr(cause, "sqlite_errorcode", None) == _SQLITE_FULL or "database or disk is full" in str(
            cause
        ):
            where = "the case database"
        elif getattr(cause, "sqlstate", None) == _PG_DISK_FULL:
            where = "the PostgreSQL server's data folder"
        else:
            continue
        place = f" at {where}" if where else ""
        return DiskFull(
            f"the disk is full{place}: the command stopped and nothing was recorded for the unfinished step",
            hint=f"free space{place} (or raise the quota) and run the command again",
        )
    for cause in causes:
        code = getattr(cause, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == _SQLITE_BUSY:
            return DatabaseBusy(
                "the case database is locked: another command (a triage run, an acquisition) kept it "
                "busy for longer than this one waits; nothing was recorded for the unfinished step",
                hint="run the command again when the other one has finished",
            )
    for cause in causes:
        if isinstance(cause, UnicodeEncodeError) and "surrogate" in str(cause.reason):
            return UserError(
                "a value on the command line is not valid UTF-8 text",
                hint="exhibit numbers, actor IDs and other names must be UTF-8; check the terminal's encoding",
            )
    for cause in causes:
        sqlstate = getattr(cause, "sqlstate", None) or ""
        if (
            getattr(cause, "connection_invalidated", False)
            or sqlstate.startswith("08")
            or sqlstate in _PG_GONE
            or _connect_failed(cause)
        ):
            first = str(getattr(cause, "orig", None) or cause).strip().splitlines()[0][:200]
            return DatabaseGone(
                f"lost the connection to the case database ({first}): the command stopped; what was "
                "recorded before is kept, nothing of the unfinished step was",
                hint="when the database server is back, run the same command again "
                "(a triage run resumes where it stopped)",
            )
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror and cause.filename is not None:
            return UserError(
                f"cannot use {cause.filename}: {cause.strerror}",
                hint="check the path exists and that you may read or write it",
            )
    return None
