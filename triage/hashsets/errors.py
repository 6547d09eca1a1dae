"""Errors of hash-set import, listing and matching (all :class:`triage.errors.TriageError`)."""

from __future__ import annotations

from triage.errors import TriageError


class HashSetError(TriageError):
    """A hash-set file that cannot be read, a name taken or unknown, a bad option."""
