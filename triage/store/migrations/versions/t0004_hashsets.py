"""Hash sets: ``hashsets`` (one row per imported set) and ``hashset_hashes`` (its hashes).

Revision ID: t0004
Revises: t0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hashsets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_size", sa.BigInteger(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("imported_utc", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "hashset_hashes",
        sa.Column("algo", sa.SmallInteger(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("algo", "digest", "set_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("hashset_hashes")
    op.drop_table("hashsets")
