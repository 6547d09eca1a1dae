"""Triage tables: runs, files, findings, warnings.

Revision ID: t0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t0001"
down_revision = None
branch_labels = ("triage",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("exhibit", sa.String(200), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_utc", sa.String(40), nullable=False),
        sa.Column("started_offset", sa.String(6), nullable=False),
        sa.Column("finished_utc", sa.String(40)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("resumed_from", sa.String(36)),
    )
    op.create_table(
        "triage_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("exhibit", sa.String(200), nullable=False),
        sa.Column("partition", sa.BigInteger),
        sa.Column("fs_type", sa.String(20), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("inode", sa.BigInteger),
        sa.Column("attr_type", sa.Integer),
        sa.Column("attr_id", sa.Integer),
        sa.Column("stream", sa.Text),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("realloc", sa.Boolean, nullable=False),
        sa.Column("mtime", sa.String(40)),
        sa.Column("atime", sa.String(40)),
        sa.Column("ctime", sa.String(40)),
        sa.Column("crtime", sa.String(40)),
        sa.Column("times_local", sa.Boolean, nullable=False),
        sa.Column("mode", sa.Integer),
        sa.Column("uid", sa.BigInteger),
        sa.Column("gid", sa.BigInteger),
        sa.Column("md5", sa.String(32)),
        sa.Column("sha1", sa.String(40)),
        sa.Column("sha256", sa.String(64), index=True),
        sa.Column("mime", sa.String(100)),
        sa.Column("ext_mismatch", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("plugins", sa.Text),
        sa.Column("run_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_triage_files_exhibit_path", "triage_files", ["exhibit", "path"])
    op.create_table(
        "triage_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("exhibit", sa.String(200), nullable=False, index=True),
        sa.Column("record_type", sa.String(100), nullable=False, index=True),
        sa.Column("plugin", sa.String(100), nullable=False),
        sa.Column("plugin_version", sa.String(40), nullable=False),
        sa.Column("partition", sa.BigInteger),
        sa.Column("inode", sa.BigInteger),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("stream", sa.Text),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("locator", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
    )
    op.create_table(
        "triage_warnings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), nullable=False, index=True),
        sa.Column("exhibit", sa.String(200), nullable=False),
        sa.Column("plugin", sa.String(100)),
        sa.Column("path", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("traceback", sa.Text),
    )


def downgrade() -> None:
    for table in ("triage_warnings", "triage_findings", "triage_files", "triage_runs"):
        op.drop_table(table)
