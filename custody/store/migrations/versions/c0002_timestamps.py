"""RFC 3161 time-stamps of checkpoints (``checkpoint_timestamps``) and the case's Time-Stamp
Authority (``tsa_config``), both append-only like the ledger.

Revision ID: c0002
Revises: c0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

GUARDED = ("checkpoint_timestamps", "tsa_config")
WRITER_ROLE = "exhibit_writer"


def upgrade() -> None:
    op.create_table(
        "checkpoint_timestamps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("tsa_url", sa.Text, nullable=False),
        sa.Column("ca_pem", sa.Text, nullable=False),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", sa.String(40), nullable=False),
        sa.Column("recorded_utc", sa.String(40), nullable=False),
    )
    op.create_index("ix_checkpoint_timestamps_tree_size", "checkpoint_timestamps", ["tree_size"])
    op.create_table(
        "tsa_config",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("ca_pem", sa.Text, nullable=False),
        sa.Column("auto", sa.Boolean, nullable=False),
        sa.Column("added_utc", sa.String(40), nullable=False),
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
        for table in GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION exhibit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION exhibit_append_only()"
            )
        op.execute(f"GRANT SELECT, INSERT ON {', '.join(GUARDED)} TO {WRITER_ROLE}")
        # a person's own login (docs/lab.md) must see which schema the database is at
        op.execute(f"GRANT SELECT ON custody_alembic_version TO {WRITER_ROLE}")
        for table in GUARDED:
            op.execute(f"GRANT USAGE ON SEQUENCE {table}_id_seq TO {WRITER_ROLE}")


def downgrade() -> None:
    raise RuntimeError("the custody ledger is never downgraded: it would destroy evidence records")
