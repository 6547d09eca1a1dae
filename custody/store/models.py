"""The custody tables, as typed SQLAlchemy 2 ORM classes.

Only three tables: the case's identity, the append-only entries and the signed checkpoints.
Everything else (items, actors, custody state) is *derived* from entries when needed, so there
is no second copy of the truth that an attacker could edit without breaking a signature.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class CaseInfo(Base):
    """One row: which case this database holds. ``ledger_id`` is stamped into every entry."""

    __tablename__ = "case_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger_id: Mapped[str] = mapped_column(String(36), unique=True)
    case_number: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    agency: Mapped[str | None] = mapped_column(Text)
    created_utc: Mapped[str] = mapped_column(String(40))
    created_offset: Mapped[str] = mapped_column(String(6))


class Entry(Base):
    """One signed ledger entry. ``body`` is the RFC 8785 canonical JSON that is hashed and signed;
    the other columns repeat body fields for indexing and are checked against it on verify."""

    __tablename__ = "entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    exhibit: Mapped[str | None] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    recorded_utc: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    signatures: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_entries_kind", "kind"),
        # An exhibit number is acquired once per case: enforced by the database too.
        Index(
            "uq_entries_acquired_exhibit",
            "exhibit",
            unique=True,
            sqlite_where=text("kind = 'item.acquire'"),
            postgresql_where=text("kind = 'item.acquire'"),
        ),
    )


class Checkpoint(Base):
    """A signed statement "the ledger had ``tree_size`` entries with Merkle root ``root``"."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    # Unsigned cache of the compact Merkle range at tree_size, so the next append need not re-read
    # every entry. Verification never trusts it: it recomputes every root from the entries.
    frontier: Mapped[str] = mapped_column(Text, default="[]")


class CheckpointTimestamp(Base):
    """An RFC 3161 time-stamp token over a checkpoint's canonical body (custody/timestamps.py).

    ``token`` is the Time-Stamp Authority's whole DER ``TimeStampResp``; ``ca_pem`` the CA
    certificate it was verified against when received (kept to verify it again later);
    ``gen_time`` the token's ``genTime`` in UTC, for reading (verification takes it from the token).
    """

    __tablename__ = "checkpoint_timestamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[str] = mapped_column(String(64))
    tsa_url: Mapped[str] = mapped_column(Text)
    ca_pem: Mapped[str] = mapped_column(Text)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    gen_time: Mapped[str] = mapped_column(String(40))
    recorded_utc: Mapped[str] = mapped_column(String(40))


class TsaConfig(Base):
    """The case's Time-Stamp Authority; the latest row applies. ``auto``: time-stamp every checkpoint."""

    __tablename__ = "tsa_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    ca_pem: Mapped[str] = mapped_column(Text)
    auto: Mapped[bool] = mapped_column(Boolean)
    added_utc: Mapped[str] = mapped_column(String(40))


LEDGER_TABLES = ("case_info", "entries", "checkpoints", "checkpoint_timestamps", "tsa_config")
