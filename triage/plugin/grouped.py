"""Rows of a child table grouped under the rows of their parent table, read as one merge join.

Many artifacts keep one thing across a parent table and a one-to-many child table: an MMS is a
``pdu`` row with its ``part`` and ``addr`` rows, a contact a ``raw_contacts`` row with its ``data``
rows. The child tables are as big as the parent (bigger: several parts per message), so a lookup
map of them would hold the whole table in memory, and a query per parent row is quadratic when the
foreign key has no index (an old or stripped schema). :class:`GroupedRows` reads the child table
once, ordered by its foreign key, beside the parent's rows (which the
:class:`~triage.plugin.sqlite_table.SqliteTablePlugin` base reads in key order): asked for the
children of each parent in turn, it hands over one group at a time and never holds more.

Keys are compared in SQLite's own order (NULL, numbers, text, blobs), so a foreign key stored as
text or NULL by a damaged or hostile database ends up in no group instead of raising. Children
whose parent never comes (their parent row was deleted, or never existed) are counted in
:attr:`GroupedRows.unclaimed` rather than lost silently.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace

from triage.plugin.contract import ParseContext
from triage.plugin.sqlite_table import Table, read_rows, rows_where

__all__ = ["GroupedRows", "sqlite_order"]


def sqlite_order(value: object) -> tuple[int, object]:
    """A sort key ordering values as SQLite's ``ORDER BY`` does with the BINARY collation.

    NULL first, then integers and reals by value, then text (UTF-8 byte order is code point
    order, which is how Python compares ``str``), then blobs.
    """
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, bytes | bytearray | memoryview):
        return (3, bytes(value))
    return (4, repr(value))


class GroupedRows:
    """The rows of ``table`` whose ``by`` column equals each parent key, asked for in key order.

    ``table`` is declared as for :func:`~triage.plugin.sqlite_table.read_rows` (missing optional
    columns read as NULL, a bad row or a damaged page is a warning); its ``order_by`` is replaced
    by ``by`` then its key. The table is not read until the first :meth:`take`. A database without
    the table gives empty groups (older schemas lack some tables).
    """

    def __init__(self, con: sqlite3.Connection, ctx: ParseContext, table: Table, by: str) -> None:
        ordered = replace(table, order_by=f"{_quote(by)}, {_quote(table.key)}")
        self._con, self._ctx, self._table = con, ctx, ordered
        self._by = by
        self._rows: Iterator[sqlite3.Row] = read_rows(con, ctx, ordered)
        self._next: sqlite3.Row | None = None
        self._started = False
        self._last: tuple[int, object] | None = None
        #: rows passed over because no parent asked for their key (orphans, or keys out of order)
        self.unclaimed = 0

    def _advance(self) -> None:
        self._next = next(self._rows, None)

    def take(self, key: object) -> list[sqlite3.Row]:
        """The rows whose ``by`` equals ``key``, in key order of the child table.

        Keys come in non-decreasing SQLite order (the parent table's key order) for live rows.
        A smaller key than the last one (a deleted parent row recovered after the live rows)
        is looked up with a query of its own (:func:`rows_where`), which scans the table when
        ``by`` has no index: fine for the few recovered rows, not as the way to read a table.
        """
        order = sqlite_order(key)
        if self._last is not None and order < self._last:
            return rows_where(self._con, self._ctx, self._table, self._by, key)
        self._last = order
        if not self._started:
            self._started = True
            self._advance()
        while self._next is not None and sqlite_order(self._next[self._by]) < order:
            self.unclaimed += 1
            self._advance()
        group: list[sqlite3.Row] = []
        while self._next is not None and sqlite_order(self._next[self._by]) == order:
            group.append(self._next)
            self._advance()
        return group


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
