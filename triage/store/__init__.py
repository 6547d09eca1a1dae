"""The triage tables inside the case database (migrated separately from the custody ledger)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from custody.store.db import migrate, register_head

MIGRATIONS = str(Path(__file__).with_name("migrations"))
HEAD = "t0009"  # bump with every new migration (a test checks it against Alembic's head)
register_head(MIGRATIONS, "triage_alembic_version", HEAD)


def ensure_schema(engine: Engine) -> None:
    """The triage tables at their newest schema: a case without them gets them from the models
    (custody.store.db.migrate), an older one is migrated by Alembic."""
    from triage.store.grants import grant_examiner
    from triage.store.models import metadata

    # tables made from the models get the privileges each migration grants as it makes its tables
    migrate(engine, MIGRATIONS, metadata, made=grant_examiner)
