"""Report redaction: ``report_pseudonyms``, the case's key table of pseudonyms (never in a report).

Also, on PostgreSQL, the ``exhibit_examiner`` role (triage/store/grants.py) with its privileges on
every triage table so far, for per-person database logins.

Revision ID: t0005
Revises: t0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.grants import grant_examiner

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
    triage_tables = (
        "triage_alembic_version", "triage_runs", "triage_files", "triage_findings", "triage_warnings",
        "triage_anchors", "triage_locks", "hashsets", "hashset_hashes", "report_pseudonyms",
    )  # fmt: skip
    grant_examiner(op.get_bind(), [t for t in triage_tables if sa.inspect(op.get_bind()).has_table(t)])


def downgrade() -> None:
    op.drop_table("report_pseudonyms")
