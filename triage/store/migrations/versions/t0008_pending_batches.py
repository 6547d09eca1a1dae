"""Batches of findings stored before their file's result: ``triage_pending`` (id ranges).

Revision ID: t0008
Revises: t0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.grants import grant_examiner

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_pending",
        sa.Column("batch", sa.Text(), primary_key=True),
        sa.Column("exhibit", sa.String(200), nullable=False, index=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("above", sa.BigInteger(), nullable=False),
        sa.Column("upto", sa.BigInteger(), nullable=False),
    )
    grant_examiner(op.get_bind(), ["triage_pending"])


def downgrade() -> None:
    op.drop_table("triage_pending")
