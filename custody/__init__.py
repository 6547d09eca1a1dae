"""Exhibit's custody ledger: cases, actors, evidence items and their signed, chained history.

The public surface is small and re-exported here, lazily: ``import custody.media`` (used by
triage for every image it opens) must not pay for SQLAlchemy, Alembic and cryptography.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custody.case import Case, init_case, open_case
    from custody.errors import CustodyError, UserError
    from custody.ledger import Draft, StoredEntry

__all__ = [
    "Case",
    "CustodyError",
    "Draft",
    "StoredEntry",
    "UserError",
    "init_case",
    "open_case",
    "tool_version",
]

_HOME = {
    "Case": "custody.case",
    "init_case": "custody.case",
    "open_case": "custody.case",
    "CustodyError": "custody.errors",
    "UserError": "custody.errors",
    "Draft": "custody.ledger",
    "StoredEntry": "custody.ledger",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'custody' has no attribute {name!r}")


def tool_version() -> str:
    """ "exhibit VERSION": what ``exhibit --version`` prints and what entries record as their tool,
    from the installed distribution's metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"exhibit {version('exhibit')}"
    except PackageNotFoundError:
        return "exhibit (unreleased)"
