"""The custody tables, as SQLAlchemy Core tables.

Only three tables: the case's identity, the append-only entries and the signed checkpoints.
Everything else (items, actors, custody state) is *derived* from entries when needed, so there
is no second copy of the truth that an attacker could edit without breaking a signature.

Core tables rather than ORM classes: custody only runs statements on connections, and importing
SQLAlchemy's ORM (and building its mappers) doubled what every ``exhibit`` command paid for
SQLAlchemy at start-up (issue 12). A column is ``Entry.c.seq``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: One row: which case this database holds. ``ledger_id`` is stamped into every entry.
CaseInfo = Table(
    "case_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ledger_id", String(36), unique=True, nullable=False),
    Column("case_number", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("agency", Text),
    Column("created_utc", String(40), nullable=False),
    Column("created_offset", String(6), nullable=False),
)

#: One signed ledger entry. ``body`` is the RFC 8785 canonical JSON that is hashed and signed;
#: the other columns repeat body fields for indexing and are checked against it on verify.
Entry = Table(
    "entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_hash", String(64), unique=True, nullable=False),
    Column("prev_hash", String(64), unique=True, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("exhibit", String(200), index=True),
    Column("actor", String(64), nullable=False),
    Column("recorded_utc", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("signatures", Text, nullable=False),
    Index("ix_entries_kind", "kind"),
    # uq_entries_acquired_exhibit: see with_partial_indexes()
)

#: A signed statement "the ledger had ``tree_size`` entries with Merkle root ``root``".
#: ``frontier``: unsigned cache of the compact Merkle range at tree_size, so the next append need
#: not re-read every entry. Verification never trusts it: it recomputes every root from the entries.
Checkpoint = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("signer", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("frontier", Text, nullable=False, default="[]"),
)

#: An RFC 3161 time-stamp token over a checkpoint's canonical body (custody/timestamps.py).
#: ``token`` is the Time-Stamp Authority's whole DER ``TimeStampResp``; ``ca_pem`` the CA
#: certificate it was verified against when received (kept to verify it again later);
#: ``gen_time`` the token's ``genTime`` in UTC, for reading (verification takes it from the token).
CheckpointTimestamp = Table(
    "checkpoint_timestamps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, index=True, nullable=False),
    Column("root", String(64), nullable=False),
    Column("tsa_url", Text, nullable=False),
    Column("ca_pem", Text, nullable=False),
    Column("token", LargeBinary, nullable=False),
    Column("gen_time", String(40), nullable=False),
    Column("recorded_utc", String(40), nullable=False),
)

#: The case's Time-Stamp Authority; the latest row applies. ``auto``: time-stamp every checkpoint.
TsaConfig = Table(
    "tsa_config",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("ca_pem", Text, nullable=False),
    Column("auto", Boolean, nullable=False),
    Column("added_utc", String(40), nullable=False),
)

LEDGER_TABLES = ("case_info", "entries", "checkpoints", "checkpoint_timestamps", "tsa_config")


def with_partial_indexes() -> MetaData:
    """:data:`metadata` with the partial unique index the first migration creates: an exhibit
    number is acquired once per case, enforced by the database too.

    Declared here only for Alembic's environment (what autogenerate compares the database with):
    a partial index is declared per dialect (``sqlite_where``, ``postgresql_where``), and declaring
    it imports each dialect's module, which an SQLite case's commands would pay for at start-up.
    """
    if "uq_entries_acquired_exhibit" not in {ix.name for ix in Entry.indexes}:
        Index(
            "uq_entries_acquired_exhibit",
            Entry.c.exhibit,
            unique=True,
            sqlite_where=text("kind = 'item.acquire'"),
            postgresql_where=text("kind = 'item.acquire'"),
        )
    return metadata
