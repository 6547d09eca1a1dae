"""Exhibit's custody ledger: cases, actors, evidence items and their signed, chained history.

The public surface is small and re-exported here; modules stay importable for specialists.
"""

from custody.case import Case, init_case, open_case
from custody.errors import CustodyError, UserError
from custody.ledger import Draft, StoredEntry

__all__ = ["Case", "CustodyError", "Draft", "StoredEntry", "UserError", "init_case", "open_case"]
