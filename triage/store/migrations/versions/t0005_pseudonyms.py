"""Report redaction: ``report_pseudonyms``, the case's key table of pseudonyms (never in a report).

Revision ID: t0005
Revises: t0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_pseudonyms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("pseudonym", sa.String(20), nullable=False),
        sa.Column("created_utc", sa.String(40), nullable=False),
        sa.UniqueConstraint("category", "value"),
    )


def downgrade() -> None:
    op.drop_table("report_pseudonyms")
