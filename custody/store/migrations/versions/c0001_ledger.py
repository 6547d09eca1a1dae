"""Ledger tables (case_info, entries, checkpoints) and their append-only guards.

Revision ID: c0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = ("custody",)
depends_on = None

GUARDED = ("case_info", "entries", "checkpoints")
WRITER_ROLE = "exhibit_writer"


def upgrade() -> None:
    op.create_table(
        "case_info",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ledger_id", sa.String(36), nullable=False, unique=True),
        sa.Column("case_number", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("agency", sa.Text),
        sa.Column("created_utc", sa.String(40), nullable=False),
        sa.Column("created_offset", sa.String(6), nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("exhibit", sa.String(200)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("recorded_utc", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signatures", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_exhibit", "entries", ["exhibit"])
    op.create_index("ix_entries_kind", "entries", ["kind"])
    op.create_index(
        "uq_entries_acquired_exhibit",
        "entries",
        ["exhibit"],
        unique=True,
        sqlite_where=sa.text("kind = 'item.acquire'"),
        postgresql_where=sa.text("kind = 'item.acquire'"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in GUARDED:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'exhibit: {table} is append-only ({action} refused)'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION exhibit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'exhibit: % is append-only (% refused)', TG_TABLE_NAME, TG_OP; END $$"
        )
        for table in GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION exhibit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION exhibit_append_only()"
            )
        # The application appends under this role: it may read and insert, nothing else. Roles
        # belong to the whole server: another case's migration may be creating it at the same
        # moment, and the loser of that race finds it made (duplicate_object or unique_violation).
        op.execute(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER_ROLE}') THEN "
            f"CREATE ROLE {WRITER_ROLE} NOLOGIN; END IF; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        op.execute(f"GRANT SELECT, INSERT ON {', '.join(GUARDED)} TO {WRITER_ROLE}")
        op.execute(f"GRANT USAGE ON SEQUENCE checkpoints_id_seq TO {WRITER_ROLE}")


def downgrade() -> None:
    raise RuntimeError("the custody ledger is never downgraded: it would destroy evidence records")
