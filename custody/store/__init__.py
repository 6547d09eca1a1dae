"""The case database: custody's own statements (sql), SQLAlchemy's engine and migrations (db),
the tables (models)."""

#: custody's Alembic version table and the revision its models are at (custody/store/migrations)
CUSTODY_VERSION = ("custody_alembic_version", "c0002")
