"""The case's broker setting: ``triage_broker_settings``, one row per change (the latest applies).

Revision ID: t0007
Revises: t0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.grants import grant_examiner

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_broker_settings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("queue", sa.String(255), nullable=True),
        sa.Column("job_files", sa.Integer(), nullable=True),
        sa.Column("password_env", sa.String(255), nullable=True),
        sa.Column("password_file", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("changed_utc", sa.String(40), nullable=False),
        sa.Column("changed_offset", sa.String(6), nullable=False),
    )
    # PostgreSQL: per-person logins set and read it too
    grant_examiner(op.get_bind(), ["triage_broker_settings"])


def downgrade() -> None:
    op.drop_table("triage_broker_settings")
