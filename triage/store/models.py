"""Triage tables: runs, the files found, the plugins' findings and the run warnings.

Unlike the custody ledger these tables are a working index that a re-run can rebuild; what
must be tamper-evident (which files were read, with which hashes, by which run) goes into the
ledger as derived items. Every row still carries its provenance so a finding can be traced back
to the exact bytes it came from.

Core tables rather than ORM classes, as custody's (custody/store/models.py): triage only runs
statements on connections, and importing SQLAlchemy's ORM and building its mappers cost every
triage command about 0.13 s of its start (issue 12). A column is ``File.c.sha256``.
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
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


Run = Table(
    "triage_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("exhibit", String(200), index=True, nullable=False),
    Column("status", String(20), nullable=False),  # running, complete, interrupted, failed
    Column("started_utc", String(40), nullable=False),
    Column("started_offset", String(6), nullable=False),
    Column("finished_utc", String(40)),
    Column("actor", String(64), nullable=False),
    Column("arguments", Text, nullable=False),  # JSON
    Column("versions", Text, nullable=False),  # JSON: tool and plugin versions
    Column("counts", Text, default="{}", nullable=False),  # JSON
    Column("resumed_from", String(36)),
)


#: One entry of the evidence (file system entry, NTFS stream, or archive member).
File = Table(
    "triage_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), unique=True, nullable=False),  # sha256 of the identity fields
    Column("exhibit", String(200), nullable=False),
    Column("partition", BigInteger),
    Column("fs_type", String(20), nullable=False),
    Column("path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("inode", BigInteger),
    Column("attr_type", Integer),
    Column("attr_id", Integer),
    Column("stream", Text),
    Column("type", String(20), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("realloc", Boolean, nullable=False),
    Column("mtime", String(40)),
    Column("atime", String(40)),
    Column("ctime", String(40)),
    Column("crtime", String(40)),
    Column("times_local", Boolean, nullable=False),
    Column("mode", Integer),
    Column("uid", BigInteger),
    Column("gid", BigInteger),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64), index=True),
    Column("mime", String(100)),
    Column("ext_mismatch", Boolean, default=False, nullable=False),
    Column("error", Text),
    Column("plugins", Text),  # JSON list of plugins that parsed it
    Column("run_id", String(36), nullable=False),
    # A member of an archive found in the evidence (triage/sources/nested.py): the key of the
    # archive's row; its ``path`` is the archive's path, "!", and its path inside the archive.
    Column("parent", String(64)),
    Index("ix_triage_files_exhibit_path", "exhibit", "path"),
)


#: One typed record a plugin produced, with its full provenance.
Finding = Table(
    "triage_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Unique with its locator (below): re-runs store a finding once.
    Column("fingerprint", String(64), nullable=False),
    Column("exhibit", String(200), index=True, nullable=False),
    Column("record_type", String(100), index=True, nullable=False),
    Column("plugin", String(100), nullable=False),
    Column("plugin_version", String(40), nullable=False),
    Column("partition", BigInteger),
    Column("inode", BigInteger),
    Column("path", Text, nullable=False),
    Column("stream", Text),
    Column("file_sha256", String(64)),
    Column("locator", Text),
    Column("data", Text, nullable=False),  # JSON of the record's own fields (raw values)
    Column("run_id", String(36), nullable=False),
    # A fingerprint covers the locator, so this refuses the rows a unique fingerprint would; led by
    # the locator, the findings of one table are added next to each other instead of at random
    # places of the index (migration t0009). A NULL locator counts as '', and only its first 200
    # characters lead (PostgreSQL refuses index entries over ~2.7 KB; the fingerprint decides).
    Index(
        "ux_triage_findings_locator_fingerprint",
        text("substr(coalesce(locator, ''), 1, 200)"),
        "fingerprint",
        unique=True,
    ),
)


RunWarning = Table(
    "triage_warnings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), index=True, nullable=False),
    Column("exhibit", String(200), nullable=False),
    Column("plugin", String(100)),
    Column("path", Text),
    Column("message", Text, nullable=False),
    Column("traceback", Text),
)


#: The leaf hashes of stored rows, as the latest completed run of their exhibit anchored them.
#:
#: One row holds up to :data:`triage.engine.integrity.ANCHOR_CHUNK` consecutive rows of a digested table,
#: in digest order: their keys, newline-separated, and their leaf hashes, hex, concatenated (one
#: database row per anchored row made the end of every run insert tens of thousands of rows).
#:
#: The ledger's ``triage.run`` entry signs only each table's Merkle root; these rows (rewritten
#: by every completed run) let verification name *which* row differs. They prove nothing by
#: themselves: they are used only after their own root was found equal to the signed one.
Anchor = Table(
    "triage_anchors",
    metadata,
    Column("exhibit", String(200), primary_key=True),
    Column("tbl", String(40), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("row_key", Text, nullable=False),  # the keys, "\n"-separated
    Column("leaf", Text, nullable=False),  # the leaf hashes, 64 hex digits each, concatenated
    Column("run_id", String(36), nullable=False),
)


#: At most one triage run per exhibit: the row of the run holding it (see triage/engine/lock.py).
ExhibitLock = Table(
    "triage_locks",
    metadata,
    Column("exhibit", String(200), primary_key=True),
    Column("run_id", String(36), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", BigInteger, nullable=False),
    Column("pid_start", BigInteger),  # /proc/<pid>/stat start time
    Column("acquired_utc", String(40), nullable=False),
    Column("heartbeat_utc", String(40), nullable=False),
)


#: One imported hash set (triage/hashsets): what it is, where it came from, what it held.
#:
#: Its hashes are rows of :class:`HashSetEntry`. ``source_sha256`` is the SHA-256 of the file it
#: was imported from, also signed in the ``hashset.import`` ledger entry.
HashSet = Table(
    "hashsets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), unique=True, nullable=False),
    Column("kind", String(20), nullable=False),  # known-bad, known-good
    Column("category", String(100)),
    Column("format", String(20), nullable=False),  # plain, hashdeep, nsrl, vics, pdq
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("source_size", BigInteger, nullable=False),
    Column("counts", Text, default="{}", nullable=False),  # JSON
    Column("imported_utc", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # importing, ready
)


#: One hash of a set: ``algo`` 1 MD5, 2 SHA-1, 3 SHA-256, 4 PDQ; ``digest`` its raw bytes.
#:
#: The primary key (algo, digest, set_id) is the lookup index (SQLite stores the table as that
#: index alone: WITHOUT ROWID), and makes a hash count once per set.
HashSetEntry = Table(
    "hashset_hashes",
    metadata,
    Column("algo", SmallInteger, primary_key=True),
    Column("digest", LargeBinary(32), primary_key=True),
    Column("set_id", Integer, primary_key=True),
    Column("category", String(100)),
    sqlite_with_rowid=False,
)


#: The key of a report redaction (triage/report/redact.py): a listed value and its pseudonym.
#:
#: ``category`` is ``name``, ``number`` or ``account``; ``value`` the value as normalised for
#: matching (a name case-folded with single spaces, a number in E.164, an account case-folded);
#: ``pseudonym`` ``V1``, ``V2``, ... (values listed together for one person share it). This table
#: stays in the case: no report ever holds it.
Pseudonym = Table(
    "report_pseudonyms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("category", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("pseudonym", String(20), nullable=False),
    Column("created_utc", String(40), nullable=False),
    UniqueConstraint("category", "value"),
)


#: One job of a distributed run (triage/distributed): which worker read which range of files.
#:
#: Written by the coordinator with the job's files, in the same transaction, once per job (a
#: second result of the same job, after a redelivery, is ignored). Operational provenance, not
#: in the signed digest (triage/engine/integrity.py): local runs write none.
Job = Table(
    "triage_jobs",
    metadata,
    Column("id", String(110), primary_key=True),  # run id / key of the job's first file
    Column("run_id", String(36), index=True, nullable=False),
    Column("exhibit", String(200), nullable=False),
    Column("files", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("worker", String(255), nullable=False),  # the Celery node name (name@host)
    Column("attempts", Integer, nullable=False),  # tasks sent for the job (more than 1: a worker was lost)
    Column("finished_utc", String(40), nullable=False),  # the coordinator's clock, when stored
)


#: A batch of a file's findings stored while the file was still being read (triage/engine/
#: published.py): the ids its rows got, until the file's result is stored with it (then the row
#: is deleted in the same transaction). A row left behind is a run that ended before that file's
#: result: the next run of the exhibit takes those findings back before it reads anything.
#: Operational state, not in the signed digest.
PendingBatch = Table(
    "triage_pending",
    metadata,
    Column("batch", Text, primary_key=True),  # the batch file's path
    Column("exhibit", String(200), index=True, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("above", BigInteger, nullable=False),  # the rows got the ids above this one
    Column("upto", BigInteger, nullable=False),  # ... and up to this one
)


#: One change of the case's broker setting (``exhibit broker set|clear``, triage/distributed/setting.py).
#:
#: Rows are only ever added: the latest row is the setting in force, a row with no ``url`` means
#: it was cleared, and the earlier rows say who pointed the case at which broker, and when. The
#: broker's password is never stored: ``url`` holds none, ``password_env`` or ``password_file``
#: names where the coordinator reads it when a run starts.
BrokerChange = Table(
    "triage_broker_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text),  # None: cleared (runs read in local processes)
    Column("queue", String(255)),  # None: the default queue
    Column("job_files", Integer),  # None: the engine's job size
    Column("password_env", String(255)),  # an environment variable's name
    Column("password_file", Text),  # an absolute path on the coordinator
    Column("actor", String(64), nullable=False),
    Column("changed_utc", String(40), nullable=False),
    Column("changed_offset", String(6), nullable=False),
)
