"""Triage tables: runs, the files found, the plugins' findings and the run warnings.

Unlike the custody ledger these tables are a working index that a re-run can rebuild; what
must be tamper-evident (which files were read, with which hashes, by which run) goes into the
ledger as derived items. Every row still carries its provenance so a finding can be traced back
to the exact bytes it came from.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class TriageBase(DeclarativeBase):
    metadata = MetaData()


class Run(TriageBase):
    __tablename__ = "triage_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exhibit: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20))  # running, complete, interrupted, failed
    started_utc: Mapped[str] = mapped_column(String(40))
    started_offset: Mapped[str] = mapped_column(String(6))
    finished_utc: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(Text)  # JSON
    versions: Mapped[str] = mapped_column(Text)  # JSON: tool and plugin versions
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    resumed_from: Mapped[str | None] = mapped_column(String(36))


class File(TriageBase):
    """One entry of the evidence (file system entry, NTFS stream, or archive member)."""

    __tablename__ = "triage_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the identity fields
    exhibit: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int | None] = mapped_column(BigInteger)
    fs_type: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    attr_type: Mapped[int | None] = mapped_column(Integer)
    attr_id: Mapped[int | None] = mapped_column(Integer)
    stream: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean)
    realloc: Mapped[bool] = mapped_column(Boolean)
    mtime: Mapped[str | None] = mapped_column(String(40))
    atime: Mapped[str | None] = mapped_column(String(40))
    ctime: Mapped[str | None] = mapped_column(String(40))
    crtime: Mapped[str | None] = mapped_column(String(40))
    times_local: Mapped[bool] = mapped_column(Boolean)
    mode: Mapped[int | None] = mapped_column(Integer)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    gid: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    mime: Mapped[str | None] = mapped_column(String(100))
    ext_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    plugins: Mapped[str | None] = mapped_column(Text)  # JSON list of plugins that parsed it
    run_id: Mapped[str] = mapped_column(String(36))
    # A member of an archive found in the evidence (triage/sources/nested.py): the key of the
    # archive's row; its ``path`` is the archive's path, "!", and its path inside the archive.
    parent: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_triage_files_exhibit_path", "exhibit", "path"),)


class Finding(TriageBase):
    """One typed record a plugin produced, with its full provenance."""

    __tablename__ = "triage_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Unique with its locator (below): re-runs store a finding once.
    fingerprint: Mapped[str] = mapped_column(String(64))
    exhibit: Mapped[str] = mapped_column(String(200), index=True)
    record_type: Mapped[str] = mapped_column(String(100), index=True)
    plugin: Mapped[str] = mapped_column(String(100))
    plugin_version: Mapped[str] = mapped_column(String(40))
    partition: Mapped[int | None] = mapped_column(BigInteger)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(Text)
    stream: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    locator: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # JSON of the record's own fields (raw values)
    run_id: Mapped[str] = mapped_column(String(36))

    # A fingerprint covers the locator, so this refuses the rows a unique fingerprint would; led by
    # the locator, the findings of one table are added next to each other instead of at random
    # places of the index (migration t0009). A NULL locator counts as '', and only its first 200
    # characters lead (PostgreSQL refuses index entries over ~2.7 KB; the fingerprint decides).
    __table_args__ = (
        Index(
            "ux_triage_findings_locator_fingerprint",
            text("substr(coalesce(locator, ''), 1, 200)"),
            "fingerprint",
            unique=True,
        ),
    )


class RunWarning(TriageBase):
    __tablename__ = "triage_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    exhibit: Mapped[str] = mapped_column(String(200))
    plugin: Mapped[str | None] = mapped_column(String(100))
    path: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)


class Anchor(TriageBase):
    """The leaf hashes of stored rows, as the latest completed run of their exhibit anchored them.

    One row holds up to :data:`triage.engine.integrity.ANCHOR_CHUNK` consecutive rows of a digested table,
    in digest order: their keys, newline-separated, and their leaf hashes, hex, concatenated (one
    database row per anchored row made the end of every run insert tens of thousands of rows).

    The ledger's ``triage.run`` entry signs only each table's Merkle root; these rows (rewritten
    by every completed run) let verification name *which* row differs. They prove nothing by
    themselves: they are used only after their own root was found equal to the signed one.
    """

    __tablename__ = "triage_anchors"

    exhibit: Mapped[str] = mapped_column(String(200), primary_key=True)
    tbl: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    row_key: Mapped[str] = mapped_column(Text)  # the keys, "\n"-separated
    leaf: Mapped[str] = mapped_column(Text)  # the leaf hashes, 64 hex digits each, concatenated
    run_id: Mapped[str] = mapped_column(String(36))


class ExhibitLock(TriageBase):
    """At most one triage run per exhibit: the row of the run holding it (see triage/engine/lock.py)."""

    __tablename__ = "triage_locks"

    exhibit: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(BigInteger)
    pid_start: Mapped[int | None] = mapped_column(BigInteger)  # /proc/<pid>/stat start time
    acquired_utc: Mapped[str] = mapped_column(String(40))
    heartbeat_utc: Mapped[str] = mapped_column(String(40))


class HashSet(TriageBase):
    """One imported hash set (triage/hashsets): what it is, where it came from, what it held.

    Its hashes are rows of :class:`HashSetEntry`. ``source_sha256`` is the SHA-256 of the file it
    was imported from, also signed in the ``hashset.import`` ledger entry.
    """

    __tablename__ = "hashsets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # known-bad, known-good
    category: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(20))  # plain, hashdeep, nsrl, vics, pdq
    source_name: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_size: Mapped[int] = mapped_column(BigInteger)
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    imported_utc: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # importing, ready


class HashSetEntry(TriageBase):
    """One hash of a set: ``algo`` 1 MD5, 2 SHA-1, 3 SHA-256, 4 PDQ; ``digest`` its raw bytes.

    The primary key (algo, digest, set_id) is the lookup index (SQLite stores the table as that
    index alone: WITHOUT ROWID), and makes a hash count once per set.
    """

    __tablename__ = "hashset_hashes"

    algo: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    set_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = ({"sqlite_with_rowid": False},)


class Pseudonym(TriageBase):
    """The key of a report redaction (triage/report/redact.py): a listed value and its pseudonym.

    ``category`` is ``name``, ``number`` or ``account``; ``value`` the value as normalised for
    matching (a name case-folded with single spaces, a number in E.164, an account case-folded);
    ``pseudonym`` ``V1``, ``V2``, ... (values listed together for one person share it). This table
    stays in the case: no report ever holds it.
    """

    __tablename__ = "report_pseudonyms"
    __table_args__ = (UniqueConstraint("category", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    pseudonym: Mapped[str] = mapped_column(String(20))
    created_utc: Mapped[str] = mapped_column(String(40))


class Job(TriageBase):
    """One job of a distributed run (triage/distributed): which worker read which range of files.

    Written by the coordinator with the job's files, in the same transaction, once per job (a
    second result of the same job, after a redelivery, is ignored). Operational provenance, not
    in the signed digest (triage/engine/integrity.py): local runs write none.
    """

    __tablename__ = "triage_jobs"

    id: Mapped[str] = mapped_column(String(110), primary_key=True)  # run id / key of the job's first file
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    exhibit: Mapped[str] = mapped_column(String(200))
    files: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    worker: Mapped[str] = mapped_column(String(255))  # the Celery node name (name@host)
    attempts: Mapped[int] = mapped_column(Integer)  # tasks sent for the job (more than 1: a worker was lost)
    finished_utc: Mapped[str] = mapped_column(String(40))  # the coordinator's clock, when stored


class PendingBatch(TriageBase):
    """A batch of a file's findings stored while the file was still being read (triage/engine/
    published.py): the ids its rows got, until the file's result is stored with it (then the row
    is deleted in the same transaction). A row left behind is a run that ended before that file's
    result: the next run of the exhibit takes those findings back before it reads anything.
    Operational state, not in the signed digest."""

    __tablename__ = "triage_pending"

    batch: Mapped[str] = mapped_column(Text, primary_key=True)  # the batch file's path
    exhibit: Mapped[str] = mapped_column(String(200), index=True)
    run_id: Mapped[str] = mapped_column(String(36))
    above: Mapped[int] = mapped_column(BigInteger)  # the rows got the ids above this one
    upto: Mapped[int] = mapped_column(BigInteger)  # ... and up to this one


class BrokerChange(TriageBase):
    """One change of the case's broker setting (``exhibit broker set|clear``, triage/distributed/setting.py).

    Rows are only ever added: the latest row is the setting in force, a row with no ``url`` means
    it was cleared, and the earlier rows say who pointed the case at which broker, and when. The
    broker's password is never stored: ``url`` holds none, ``password_env`` or ``password_file``
    names where the coordinator reads it when a run starts.
    """

    __tablename__ = "triage_broker_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str | None] = mapped_column(Text)  # None: cleared (runs read in local processes)
    queue: Mapped[str | None] = mapped_column(String(255))  # None: the default queue
    job_files: Mapped[int | None] = mapped_column(Integer)  # None: the engine's job size
    password_env: Mapped[str | None] = mapped_column(String(255))  # an environment variable's name
    password_file: Mapped[str | None] = mapped_column(Text)  # an absolute path on the coordinator
    actor: Mapped[str] = mapped_column(String(64))
    changed_utc: Mapped[str] = mapped_column(String(40))
    changed_offset: Mapped[str] = mapped_column(String(6))
