"""Alembic environment of the triage tables (own version table; custody migrates separately)."""

from __future__ import annotations

from alembic import context

from triage.store.models import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,
    version_table="triage_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
