"""A finding's uniqueness kept by an index led by its locator: ``(substr(coalesce(locator, ''), 1, 200), fingerprint)``.

A fingerprint is a SHA-256, so the unique index on it alone put every new finding on a random
page of the index: a million messages of one database touched the whole index with every batch
(the run's storing process spent twice as long as with no such index). A fingerprint covers the
locator, so two rows with the same fingerprint have the same locator and this index refuses the
same rows the old one did; led by the locator (``message._id=N`` in row order), a database's
findings are added near each other. A NULL locator counts as ``''`` (SQLite and PostgreSQL
take NULLs in a unique index as distinct), and only the first 200 characters lead (a locator is
made from the evidence, and PostgreSQL refuses index entries over about 2.7 KB; the fingerprint
still decides).

SQLite cannot drop a table's UNIQUE constraint: the table is made again with the same columns
and rows (ids kept). PostgreSQL drops the constraint.

Revision ID: t0009
Revises: t0008
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None

TABLE = "triage_findings"
INDEX = "ux_triage_findings_locator_fingerprint"
LEAD = "substr(coalesce(locator, ''), 1, 200)"
OLD_INDEX = "ux_triage_findings_fingerprint"  # the downgrade's stand-in for the old constraint


def _columns() -> list[sa.Column[Any]]:
    """triage_findings' columns as t0001 made them, without the unique constraint."""
    return [
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("exhibit", sa.String(200), nullable=False),
        sa.Column("record_type", sa.String(100), nullable=False),
        sa.Column("plugin", sa.String(100), nullable=False),
        sa.Column("plugin_version", sa.String(40), nullable=False),
        sa.Column("partition", sa.BigInteger(), nullable=True),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("stream", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("locator", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.create_table("_triage_findings_new", *_columns())
        names = ", ".join(c.name for c in _columns())
        op.execute(f"INSERT INTO _triage_findings_new ({names}) SELECT {names} FROM {TABLE} ORDER BY id")
        op.drop_table(TABLE)
        op.rename_table("_triage_findings_new", TABLE)
        op.create_index("ix_triage_findings_exhibit", TABLE, ["exhibit"])
        op.create_index("ix_triage_findings_record_type", TABLE, ["record_type"])
    else:
        for unique in sa.inspect(bind).get_unique_constraints(TABLE):
            if unique["column_names"] == ["fingerprint"] and unique["name"]:
                op.drop_constraint(unique["name"], TABLE, type_="unique")
    op.create_index(INDEX, TABLE, [sa.text(LEAD), "fingerprint"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, TABLE)
    op.create_index(OLD_INDEX, TABLE, ["fingerprint"], unique=True)
