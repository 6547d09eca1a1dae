"""Inserting rows a table may hold already: what the run's writes (triage/engine/writes.py) and
hash-set matching (triage/hashsets/match.py) share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table


def insert_new(
    conn: Connection, table: Table, rows: list[dict[str, Any]], key: str, *, any_unique: bool = False
) -> int:
    """Insert ``rows``, skipping those whose ``key`` exists (``any_unique``: those any unique
    index of ``table`` refuses, as the findings' is on the locator and the fingerprint); returns
    how many were new."""
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite  # here: the PostgreSQL dialect costs ~50 ms to import

    if conn.dialect.name == "postgresql":
        # psycopg's executemany reports no usable rowcount (it signed 0 new findings): count the
        # rows actually inserted, which RETURNING lists (SQLAlchemy batches them as one statement).
        target = None if any_unique else [key]
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=target).returning(table.c[key])
        return len(conn.execute(stmt, rows).all())
    result = conn.execute(
        sqlite.insert(table).on_conflict_do_nothing(index_elements=None if any_unique else [key]), rows
    )
    return max(int(result.rowcount or 0), 0)
