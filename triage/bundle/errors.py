"""Errors of ``exhibit bundle`` and ``exhibit verify-bundle`` (all :class:`triage.errors.TriageError`)."""

from __future__ import annotations

from triage.errors import TriageError


class BundleError(TriageError):
    """A bundle that cannot be made (an existing output file, triage data that no longer matches
    its signed digest, a report file that cannot be read) or a file that is refused as a bundle
    (not a zip, a hostile member name, a zip bomb). Nothing is written when it is raised."""
