"""Distributed triage: ``triage_jobs``, which worker read which job of a run.

Revision ID: t0006
Revises: t0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.grants import grant_examiner

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_jobs",
        sa.Column("id", sa.String(110), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False, index=True),
        sa.Column("exhibit", sa.String(200), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_utc", sa.String(40), nullable=False),
    )
    grant_examiner(op.get_bind(), ["triage_jobs"])  # PostgreSQL: per-person logins store jobs too


def downgrade() -> None:
    op.drop_table("triage_jobs")
