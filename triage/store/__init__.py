"""The triage tables inside the case database (migrated separately from the custody ledger)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from custody.store.db import migrate

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def ensure_schema(engine: Engine) -> None:
    migrate(engine, MIGRATIONS)
