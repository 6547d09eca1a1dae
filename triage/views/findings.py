"""Reading back what triage stored: findings, files and runs (library side of the CLI)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, or_, select

from triage.errors import TriageError
from triage.plugin.records import Record, label_for
from triage.store.models import File, Finding, Job, Run, RunWarning


def _has_tables(engine: Engine) -> bool:
    return inspect(engine).has_table("triage_findings")


@dataclass(frozen=True)
class StoredFinding:
    id: int
    exhibit: str
    record_type: str
    plugin: str
    plugin_version: str
    partition: int | None
    inode: int | None
    path: str
    stream: str | None
    file_sha256: str | None
    locator: str | None
    data: dict[str, Any]
    run_id: str

    @property
    def parent(self) -> dict[str, Any] | None:
        """The SourceRef (as a dict) of the archive the file was read from, with its own
        ``parent`` when that archive is in another (triage/sources/nested.py); None: not in one."""
        source = self.data.get("source")
        parent = source.get("parent") if isinstance(source, dict) else None
        return parent if isinstance(parent, dict) else None

    def as_dict(self) -> dict[str, Any]:
        source: dict[str, Any] = {
            "item": self.exhibit,
            "partition": self.partition,
            "inode": self.inode,
            "path": self.path,
            "stream": self.stream,
            "sha256": self.file_sha256,
        }
        if (parent := self.parent) is not None:
            source["parent"] = parent
        return {
            "id": self.id,
            "exhibit": self.exhibit,
            "record_type": self.record_type,
            "plugin": self.plugin,
            "plugin_version": self.plugin_version,
            "source": source,
            "locator": self.locator,
            "data": self.data,
            "labels": labels_for(self.record_type, self.data),
            "run": self.run_id,
        }


@lru_cache(maxsize=1)
def _record_classes() -> dict[str, type[Record]]:
    from triage.plugin.registry import load_plugins

    return {r.record_type: r for cls in load_plugins().plugins for r in cls.emits}


def labels_for(record_type: str, data: dict[str, Any]) -> dict[str, str]:
    """Human labels of raw values (``sms_type`` 1 -> "received"), applied only when rendering."""
    record_class = _record_classes().get(record_type)
    if record_class is None:
        return {}
    found = {}
    for field_name, value in data.items():
        if isinstance(value, (str, int, bool)) or value is None:
            label = label_for(record_class, field_name, value)
            if label is not None:
                found[field_name] = label
    return found


#: The record type of a keyword search's hits (``triage.keywords.records.KeywordHit``, which the
#: views do not import; tests/triage/test_keywords.py checks the two agree).
KEYWORD_HIT = "keyword/hit"


def check_kinds(engine: Engine, kinds: Sequence[str] | None) -> None:
    """Refuse a ``--kind`` that no record type is or lies below, neither one a plugin or an
    analyzer emits nor one stored in the case (a misspelt kind would list nothing, or write a
    report of nothing, and say nothing)."""
    if not kinds:
        return
    from triage.hashsets.match import HIT_TYPE
    from triage.plugin.registry import load_analyzers, load_plugins

    plugins = load_plugins()
    analyzers = load_analyzers(taken=[cls.name for cls in plugins.plugins])
    emitted = {r.record_type for cls in plugins.plugins for r in cls.emits}
    emitted |= {r.record_type for cls in analyzers.analyzers for r in cls.emits}
    emitted |= {HIT_TYPE, KEYWORD_HIT}  # made by the run itself: hash-set and keyword hits
    for kind in kinds:
        prefix = kind.rstrip("/")
        if any(t == prefix or t.startswith(prefix + "/") for t in emitted):
            continue
        if _has_tables(engine):
            with engine.connect() as conn:
                stored = conn.execute(
                    select(Finding.c.id)
                    .where(
                        or_(Finding.c.record_type == prefix, Finding.c.record_type.startswith(prefix + "/"))
                    )
                    .limit(1)
                ).first()
            if stored is not None:
                continue
        families = sorted({t.split("/", 1)[0] for t in emitted})
        raise TriageError(
            f"no record type is or lies below {kind!r}",
            hint=f"give a record type or a family of them, e.g. {', '.join(families)}; "
            "'exhibit plugins list' shows every record type",
        )


def iter_findings(engine: Engine, exhibit: str, kind: str | None = None) -> Iterator[StoredFinding]:
    """Findings of ``exhibit``; ``kind`` selects a record type or a namespace prefix ("chat")."""
    if not _has_tables(engine):
        return
    query = select(Finding).where(Finding.c.exhibit == exhibit).order_by(Finding.c.id)
    if kind:
        query = query.where(
            or_(Finding.c.record_type == kind, Finding.c.record_type.startswith(kind.rstrip("/") + "/"))
        )
    with engine.connect() as conn:
        for r in conn.execute(query):
            yield stored_finding(r)


def _stored_as_is(value: str) -> bool:
    """Whether a JSON string ``value`` is written as its own characters whatever the writer's
    settings (ensure_ascii or not): printable ASCII other than the quote and the backslash."""
    return value.isascii() and value.isprintable() and '"' not in value and "\\" not in value


def stream_findings(
    engine: Engine,
    exhibits: Sequence[str] | None = None,
    record_types: Collection[str] | None = None,
    prefixes: Sequence[str] | None = None,
    mentioning: str | None = None,
) -> Iterator[StoredFinding]:
    """Findings of ``exhibits`` (``None``: the whole case) in id order, fetched in batches so that
    memory does not grow with their number (a server-side cursor on PostgreSQL).

    ``record_types`` keeps only those types (an empty collection keeps none); ``prefixes`` keeps
    the types equal to or below one of them (``chat`` keeps ``chat/android/sms``). ``mentioning``
    lets the database leave out the findings whose stored text cannot hold that string value (a
    coarse filter, in SQL: the caller still checks the field it wants): only for printable ASCII
    without quotes or backslashes, which every JSON writer in Exhibit stores as it is; anything
    else filters nothing (a conversation id with an accent may be stored escaped).
    """
    if not _has_tables(engine) or (record_types is not None and not record_types):
        return
    query = select(*FINDING_COLUMNS).order_by(Finding.c.id)
    if exhibits:
        query = query.where(Finding.c.exhibit.in_(list(exhibits)))
    if record_types is not None:
        query = query.where(Finding.c.record_type.in_(sorted(record_types)))
    if prefixes:
        query = query.where(
            or_(
                *(
                    or_(
                        Finding.c.record_type == p.rstrip("/"),
                        Finding.c.record_type.startswith(p.rstrip("/") + "/", autoescape=True),
                    )
                    for p in prefixes
                )
            )
        )
    if mentioning is not None and _stored_as_is(mentioning):
        query = query.where(Finding.c.data.contains(mentioning, autoescape=True))
    with engine.connect() as conn:
        for r in conn.execute(query.execution_options(yield_per=2000)):
            # by position: reading a Row's attributes costs more than decoding its JSON
            (
                fid,
                exhibit,
                rtype,
                plugin,
                version,
                partition,
                inode,
                path,
                stream,
                sha,
                locator,
                data,
                run,
            ) = r
            yield StoredFinding(
                fid,
                exhibit,
                rtype,
                plugin,
                version,
                partition,
                inode,
                path,
                stream,
                sha,
                locator,
                json.loads(data),
                run,
            )


#: The columns of a finding, in :class:`StoredFinding`'s order (see :func:`stored_finding`).
FINDING_COLUMNS = (
    Finding.c.id,
    Finding.c.exhibit,
    Finding.c.record_type,
    Finding.c.plugin,
    Finding.c.plugin_version,
    Finding.c.partition,
    Finding.c.inode,
    Finding.c.path,
    Finding.c.stream,
    Finding.c.file_sha256,
    Finding.c.locator,
    Finding.c.data,
    Finding.c.run_id,
)


def stored_finding(r: Any) -> StoredFinding:
    """A row of :data:`FINDING_COLUMNS` as a :class:`StoredFinding` (its data decoded)."""
    return StoredFinding(
        r.id,
        r.exhibit,
        r.record_type,
        r.plugin,
        r.plugin_version,
        r.partition,
        r.inode,
        r.path,
        r.stream,
        r.file_sha256,
        r.locator,
        json.loads(r.data),
        r.run_id,
    )


@dataclass(frozen=True)
class KnownFile:
    """What a triage run learnt about one file's content."""

    sha256: str
    mime: str | None
    ext_mismatch: bool


def known_files(engine: Engine, exhibit: str) -> dict[tuple[Any, ...], KnownFile]:
    """Files a triage run hashed, by (partition, inode, attr_type, attr_id, path)."""
    if not _has_tables(engine):
        return {}
    query = select(
        File.c.partition,
        File.c.inode,
        File.c.attr_type,
        File.c.attr_id,
        File.c.path,
        File.c.sha256,
        File.c.mime,
        File.c.ext_mismatch,
    ).where(File.c.exhibit == exhibit, File.c.sha256.is_not(None))
    with engine.connect() as conn:
        return {
            (r[0], r[1], r[2], r[3], r[4]): KnownFile(str(r[5]), r[6], bool(r[7]))
            for r in conn.execute(query)
        }


def known_hashes(engine: Engine, exhibit: str) -> dict[tuple[Any, ...], str]:
    """SHA-256 of files a triage run hashed, by (partition, inode, attr_type, attr_id, path)."""
    return {key: known.sha256 for key, known in known_files(engine, exhibit).items()}


def unfinished(engine: Engine, found: Iterable[StoredFinding]) -> dict[str, tuple[str, int]]:
    """Of ``found``, those of a run that did not complete (running, interrupted, failed, or no such
    run): run id -> (its status, how many), their rows not signed yet (``custody verify`` notes
    them). Hash-set hits carry the id of the match that made them, not of a run: left out."""
    from triage.hashsets.match import HIT_TYPE

    counts: dict[str, int] = {}
    for f in found:
        if f.record_type != HIT_TYPE:
            counts[f.run_id] = counts.get(f.run_id, 0) + 1
    if not counts or not _has_tables(engine):
        return {}
    with engine.connect() as conn:
        known = dict(conn.execute(select(Run.c.id, Run.c.status).where(Run.c.id.in_(list(counts)))).all())
    return {r: (str(known.get(r, "no such run")), n) for r, n in counts.items() if known.get(r) != "complete"}


def unsigned_runs(engine: Engine, exhibits: Sequence[str] | None = None) -> dict[str, tuple[str, str, int]]:
    """Runs of ``exhibits`` (all when None) that did not complete and stored findings: run id ->
    (exhibit, status, how many findings), rows a view lists although no signed digest covers them
    yet. Only runs the case records (a row of no run at all is ``custody verify``'s to find: it
    needs a scan of every row, this a look at the runs). Hash-set hits are left out."""
    from triage.hashsets.match import HIT_TYPE

    if not _has_tables(engine):
        return {}
    query = select(Run.c.id, Run.c.exhibit, Run.c.status).where(Run.c.status != "complete")
    if exhibits:
        query = query.where(Run.c.exhibit.in_(list(exhibits)))
    with engine.connect() as conn:
        runs = {r.id: (r.exhibit, r.status) for r in conn.execute(query)}
        if not runs:
            return {}
        counted = conn.execute(
            select(Finding.c.run_id, func.count())
            .where(Finding.c.run_id.in_(list(runs)), Finding.c.record_type != HIT_TYPE)
            .group_by(Finding.c.run_id)
        ).all()
    return {run: (*runs[run], int(n)) for run, n in counted if n}


def list_runs(engine: Engine, exhibit: str | None = None) -> list[dict[str, Any]]:
    if not _has_tables(engine):
        return []
    query = select(Run).order_by(Run.c.started_utc)
    if exhibit:
        query = query.where(Run.c.exhibit == exhibit)
    with engine.connect() as conn:
        workers = _workers_by_run(conn) if inspect(conn).has_table("triage_jobs") else {}
        warnings: dict[str, list[dict[str, Any]]] = {}
        for w in conn.execute(select(RunWarning).order_by(RunWarning.c.id)):
            warnings.setdefault(w.run_id, []).append(
                {"plugin": w.plugin, "path": w.path, "message": w.message, "traceback": w.traceback}
            )
        return [
            {
                "run": r.id,
                "exhibit": r.exhibit,
                "status": r.status,
                "started_utc": r.started_utc,
                "finished_utc": r.finished_utc,
                "actor": r.actor,
                "arguments": json.loads(r.arguments),
                "versions": json.loads(r.versions),
                "counts": json.loads(r.counts or "{}"),
                "resumed_from": r.resumed_from,
                "warnings": warnings.get(r.id, []),
                # the Celery workers of a distributed run (triage_jobs), by node name; {} for a local run
                "workers": workers.get(r.id, {}),
            }
            for r in conn.execute(query)
        ]


def _workers_by_run(conn: Connection) -> dict[str, dict[str, dict[str, int]]]:
    """Per run, what each worker read: jobs, files, bytes (from ``triage_jobs``)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    query = select(
        Job.c.run_id,
        Job.c.worker,
        func.count(),
        func.sum(Job.c.files),
        func.sum(Job.c.bytes),
        func.max(Job.c.attempts),
    ).group_by(Job.c.run_id, Job.c.worker)
    for run_id, worker, jobs, files, size, attempts in conn.execute(query):
        out.setdefault(run_id, {})[worker] = {
            "jobs": int(jobs),
            "files": int(files or 0),
            "bytes": int(size or 0),
            "most_attempts": int(attempts or 1),
        }
    return out
