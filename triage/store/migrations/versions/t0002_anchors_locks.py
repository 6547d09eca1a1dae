"""Row anchors of the triage digest, and the per-exhibit run lock.

Revision ID: t0002
Revises: t0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_anchors",
        sa.Column("exhibit", sa.String(200), primary_key=True),
        sa.Column("tbl", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("row_key", sa.Text, nullable=False),
        sa.Column("leaf", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
    )
    op.create_table(
        "triage_locks",
        sa.Column("exhibit", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.BigInteger, nullable=False),
        sa.Column("pid_start", sa.BigInteger),
        sa.Column("acquired_utc", sa.String(40), nullable=False),
        sa.Column("heartbeat_utc", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("triage_locks")
    op.drop_table("triage_anchors")
