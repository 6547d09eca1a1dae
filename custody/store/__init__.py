"""The case database: custody's own statements (sql), SQLAlchemy's engine and migrations (db),
the tables (models)."""

#: custody's Alembic version table and the revision its models are at (custody/store/migrations)
CUSTODY_VERSION = ("custody_alembic_version", "c0002")

#: how long a statement waits for another connection's lock on an SQLite case before "database is
#: locked" (custody.errors.DatabaseBusy), on custody's connections and the engine's alike
BUSY_SECONDS = 60.0

#: what every connection to an SQLite case runs first, custody's and the engine's alike (the
#: busy wait is the driver's ``timeout``, which sets SQLite's busy timeout)
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON")
