"""Members of archives found in the evidence: ``triage_files.parent``, the key of the archive's row.

Revision ID: t0003
Revises: t0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triage_files") as batch:
        batch.add_column(sa.Column("parent", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("triage_files") as batch:
        batch.drop_column("parent")
