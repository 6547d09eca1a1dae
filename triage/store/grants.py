"""PostgreSQL privileges of the triage tables, for per-person database logins (docs/lab.md).

The ledger tables are INSERT/SELECT-only for the ``exhibit_writer`` role (custody migrations). The
triage tables are a working index that runs rewrite, so a person who triages needs every data
privilege on them, and nothing more: ``exhibit_examiner`` (NOLOGIN) holds exactly that and is a
member of ``exhibit_writer``; a lab grants it to each person's login. Every triage migration that
creates a table calls :func:`grant_examiner` for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

EXAMINER_ROLE = "exhibit_examiner"
WRITER_ROLE = "exhibit_writer"


def ensure_examiner_role(conn: Connection) -> None:
    """Create ``exhibit_examiner`` (member of ``exhibit_writer``) unless it exists. Roles belong to
    the whole server, so another case's migration may be creating it at the same moment: the loser
    of that race finds the role made (duplicate_object, unique_violation, or "tuple concurrently
    updated", an internal_error, for the membership) and carries on."""
    conn.execute(
        text(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{EXAMINER_ROLE}') THEN "
            f"CREATE ROLE {EXAMINER_ROLE} NOLOGIN; END IF; "
            f"GRANT {WRITER_ROLE} TO {EXAMINER_ROLE}; "
            "EXCEPTION WHEN duplicate_object OR unique_violation OR internal_error THEN NULL; END $$"
        )
    )


def grant_examiner(conn: Connection, tables: Iterable[str]) -> None:
    """SELECT, INSERT, UPDATE, DELETE on ``tables`` (and their id sequences) to the examiner role."""
    if conn.dialect.name != "postgresql":
        return
    ensure_examiner_role(conn)
    for table in tables:
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {EXAMINER_ROLE}'))
        for (sequence,) in conn.execute(
            text(
                "SELECT pg_get_serial_sequence(:t, c.column_name) FROM information_schema.columns c "
                "WHERE c.table_name = :t AND c.table_schema = current_schema()"
            ),
            {"t": table},
        ):
            if sequence:
                conn.execute(text(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {EXAMINER_ROLE}"))
