"""Alembic environment: always run programmatically with a live connection (see custody.store.db)."""

from __future__ import annotations

from alembic import context

from custody.store.models import with_partial_indexes

connection = context.config.attributes["connection"]
# Each package keeps its own version table, so custody never needs to know later packages.
context.configure(
    connection=connection,
    target_metadata=with_partial_indexes(),
    render_as_batch=True,
    version_table="custody_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
