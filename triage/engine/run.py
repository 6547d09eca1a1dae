"""The triage run: walk every entry, read each file once, hash it, sniff it, offer it to the
plugins, store files and findings with provenance, and record what plugins read in the ledger.

Layout of a run
---------------
1. The parent process walks the source (fast; metadata only) and stores every entry.
2. Regular files are processed in chunks by worker processes (one per core): each worker opens
   the evidence itself, read-only, and reads every file exactly once: the same bytes feed the
   hashes, libmagic and, when a plugin's cheap targets match, the plugins.
3. Results come back to the parent, which alone writes to the database: one transaction per
   chunk, so a run killed midway keeps everything finished so far and a new run resumes there.
4. At the end, every file a plugin was handed becomes a derived item in the custody ledger, and
   a ``triage.run`` entry records tool and plugin versions, arguments and counts, all in ONE
   batched, signed append.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import multiprocessing
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import Connection, Engine, Table, insert, select, update

from custody import timefmt
from custody.actors import signing_keys
from custody.case import Case
from custody.items import DERIVE, Item, get_item, tool_version
from custody.ledger import Draft
from triage.engine import integrity
from triage.engine import lock as exhibit_lock
from triage.engine.dispatch import TargetMatcher, match_plugins, run_plugins
from triage.errors import TriageError
from triage.plugin.contract import ParseContext, Plugin
from triage.plugin.item import FileItem
from triage.plugin.records import SourceRef, record_to_dict
from triage.plugin.registry import load_plugins
from triage.plugin.scratch import Scratch, ScratchFull, scratch_limit, write_sparse
from triage.sources.entry import FileEntry, Source
from triage.sources.filetype import HEAD_SIZE, extension_mismatch, sniff_mime
from triage.sources.open import open_source
from triage.store import ensure_schema
from triage.store.models import File, Finding, Run, RunWarning

HASHES = ("md5", "sha1", "sha256")
IN_MEMORY_LIMIT = 64 * 1024 * 1024  # bigger files a plugin wants are spooled to the scratch folder
# A chunk is one task for a worker and one transaction in the parent: big enough that the
# per-chunk costs (pickling, a commit and its fsync) vanish, small enough to balance two workers.
CHUNK_FILES = 1024
CHUNK_BYTES = 128 * 1024 * 1024
SIBLINGS = ("-wal", "-shm", "-journal")


@dataclass
class TriageOptions:
    plugins: Sequence[str] | None = None  # None: every available plugin
    hashes: Sequence[str] = ("sha256",)
    workers: int | None = None  # None: one per core
    fresh: bool = False  # ignore what an interrupted run already stored
    scratch_limit: int | None = None  # bytes of scratch the run may hold at once (None: default)


@dataclass
class RunSummary:
    run_id: str
    exhibit: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    resumed_from: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "exhibit": self.exhibit,
            "status": self.status,
            "counts": self.counts,
            "warnings": self.warnings,
            "resumed_from": self.resumed_from,
        }


Progress = Callable[[int, int], None]  # (files done, bytes done)


# -- identity of entries ------------------------------------------------------------------------


def file_key(exhibit: str, e: FileEntry) -> str:
    ident = f"{exhibit}\x00{e.partition}\x00{e.inode}\x00{e.attr_type}\x00{e.attr_id}\x00{e.path}\x00{e.deleted}\x00{e.realloc}"
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_entries(exhibit: str, entries: Iterable[FileEntry]) -> Iterator[tuple[str, FileEntry]]:
    """Each walked entry with its stored row's key (the identity listed twice gets ``#n``).

    Shared by the run and by ``verify --rehash`` (triage/engine/verify.py), which must find the
    same row for the same entry.
    """
    seen: dict[str, int] = {}
    for e in entries:
        key = file_key(exhibit, e)
        if key in seen:  # the same identity listed twice: keep both, distinguishably
            seen[key] += 1
            key = hashlib.sha256(f"{key}#{seen[key]}".encode()).hexdigest()
        else:
            seen[key] = 0
        yield key, e


#: Columns of a stored entry, in the order of :func:`entry_values`.
ENTRY_COLUMNS = (
    "key", "exhibit", "partition", "fs_type", "path", "name", "inode", "attr_type", "attr_id",
    "stream", "type", "size", "deleted", "realloc", "mtime", "atime", "ctime", "crtime",
    "times_local", "mode", "uid", "gid", "md5", "sha1", "sha256", "mime", "ext_mismatch", "error",
    "plugins", "run_id",
)  # fmt: skip


def entry_values(exhibit: str, key: str, e: FileEntry, run_id: str) -> tuple[Any, ...]:
    """The row of a walked entry (no content results yet) as a tuple in ENTRY_COLUMNS order."""
    return (
        key, exhibit, e.partition, e.fs_type, e.path, e.name, e.inode, e.attr_type, e.attr_id,
        e.stream, e.type, e.size, e.deleted, e.realloc, e.mtime, e.atime, e.ctime, e.crtime,
        e.times_local, e.mode, e.uid, e.gid, None, None, None, None, False, None, None, run_id,
    )  # fmt: skip


# -- worker side ----------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _pool_worker_init(parent_pid: int, *init_args: Any) -> None:
    """Initializer of a pool worker: die with the run, then open the evidence (_worker_init).

    A worker must never outlive its run (``kill -9`` of the run would otherwise leave workers
    reading the evidence): ask Linux to SIGKILL this process when its parent dies, then check
    the parent is still the run, since it may have died between the fork and the request.
    """
    die_with_parent(parent_pid)
    _worker_init(*init_args)


def die_with_parent(parent_pid: int) -> None:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then exit at once if ``parent_pid`` is already gone."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util
        import signal

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the run died before the request took effect
        os._exit(1)


def _worker_init(
    source_path: str, plugin_names: list[str], scratch_parent: str, exhibit: str, scratch_share: int
) -> None:
    _worker["source"] = open_source(source_path)
    classes = {cls.name: cls for cls in load_plugins().plugins}
    _worker["plugins"] = [classes[name]() for name in plugin_names]
    _worker["filters"] = _CheapFilters(_worker["plugins"])
    _worker["scratch_parent"] = scratch_parent
    _worker["scratch_share"] = scratch_share
    _worker["exhibit"] = exhibit


class _CheapFilters:
    """The run's plugins and their cheap targets, compiled once per worker (dispatch.TargetMatcher)."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = list(plugins)
        self.matcher = TargetMatcher(p.targets for p in self.plugins)

    def candidates(self, path: str, head: bytes, mime: str | None) -> list[Plugin]:
        return TargetMatcher.pick(self.plugins, self.matcher.accepting(path, head, mime))


@dataclass
class _Job:
    key: str
    entry: FileEntry
    siblings: dict[str, FileEntry]


def _spooled_opener(data: bytes | Path) -> Callable[[], BinaryIO]:
    if isinstance(data, Path):
        return lambda: open(data, "rb")
    return lambda: io.BytesIO(data)


class _Spool:
    """Content kept for the plugins while it is hashed: in memory up to IN_MEMORY_LIMIT, then in
    a sparse scratch file charged to the run's scratch budget (never a whole big file in memory)."""

    def __init__(self, scratch: Scratch, label: str, known_big: bool) -> None:
        self.scratch = scratch
        self.label = label
        self.kept: list[bytes] = []
        self.kept_bytes = 0
        self.out: BinaryIO | None = None
        self.path: Path | None = None
        self.charged = 0
        if known_big:
            self._to_disk()

    def _to_disk(self) -> None:
        fd, name = tempfile.mkstemp(dir=self.scratch.dir, suffix=".spool")
        self.out, self.path = os.fdopen(fd, "wb"), Path(name)
        for earlier in self.kept:
            self._write(earlier)
        self.kept = []

    def _write(self, chunk: bytes) -> None:
        assert self.out is not None
        n = write_sparse(self.out, chunk)
        self.scratch.charge(n, f"{self.label}: spooled for the plugins")  # ScratchFull past the cap
        self.charged += n

    def add(self, chunk: bytes) -> None:
        if self.out is None:
            self.kept.append(chunk)
            self.kept_bytes += len(chunk)
            if self.kept_bytes > IN_MEMORY_LIMIT:  # the declared size was wrong: do not trust it
                self._to_disk()
        else:
            self._write(chunk)

    def finish(self) -> bytes | Path:
        if self.out is None:
            return b"".join(self.kept)
        self.out.truncate()
        self.out.close()
        self.out = None
        assert self.path is not None
        return self.path

    def discard(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
        self.kept = []
        self.scratch.uncharge(self.charged)
        self.charged = 0


def _process_range(start: int, stop: int, hashes: Sequence[str]) -> list[dict[str, Any]]:
    """Process ``jobs[start:stop]`` of the run's job list, which a forked worker inherited from the
    parent: only two integers travel to the worker, not tens of thousands of pickled entries."""
    return _process_chunk(_worker["jobs"][start:stop], hashes)


def _process_chunk(jobs: list[_Job], hashes: Sequence[str]) -> list[dict[str, Any]]:
    source: Source = _worker["source"]
    filters: _CheapFilters = _worker["filters"]
    exhibit: str = _worker["exhibit"]
    results: list[dict[str, Any]] = []
    with Scratch(Path(_worker["scratch_parent"]), limit=_worker["scratch_share"]) as scratch:
        ctx = ParseContext(scratch=scratch)
        for job in jobs:
            results.append(_process_file(source, filters, exhibit, job, hashes, ctx, scratch))
    return results


def _process_file(
    source: Source,
    filters: _CheapFilters,
    exhibit: str,
    job: _Job,
    hashes: Sequence[str],
    ctx: ParseContext,
    scratch: Scratch,
) -> dict[str, Any]:
    entry = job.entry
    result: dict[str, Any] = {"key": job.key, "records": [], "warnings": [], "plugins": [], "bytes": 0}
    digests = [hashlib.new(name) for name in hashes]
    head = b""
    mime: str | None = None
    sniffed: bytes | None = None  # the head ``mime`` was sniffed from
    spool: _Spool | None = None
    candidates: list[Plugin] | None = None
    warnings_before = len(source.warnings)
    size = 0
    spools: list[_Spool] = []  # every scratch file made for this file, removed at the end
    try:
        try:
            for chunk in source.read(entry):
                if not head:
                    head = chunk[:HEAD_SIZE]
                for d in digests:
                    d.update(chunk)
                size += len(chunk)
                if candidates is None:
                    mime, sniffed = sniff_mime(head), head  # libmagic once per file, on the head only
                    candidates = filters.candidates(entry.path, head, mime)
                    if candidates:
                        try:  # a scratch failure skips the plugins, never blames the evidence
                            spool = _Spool(scratch, entry.path, entry.size > IN_MEMORY_LIMIT)
                        except (ScratchFull, OSError) as exc:
                            _skip_warning(result, entry.path, candidates, exc)
                            candidates = []
                        else:
                            spools.append(spool)
                if spool is not None:
                    try:
                        spool.add(chunk)
                    except (ScratchFull, OSError) as exc:  # keep hashing; only the plugins are skipped
                        _skip_warning(result, entry.path, candidates or [], exc)
                        spool.discard()
                        spool, candidates = None, []
        except Exception as exc:  # unreadable content: keep the entry, say why
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            result["bytes"] = size
        for warning in source.warnings[warnings_before:]:
            result["warnings"].append(
                {"plugin": None, "path": entry.path, "message": str(warning), "traceback": None}
            )
        if sniffed is not head:  # no content, or the head was completed after the first (empty) chunk
            mime = sniff_mime(head)
        result["mime"] = mime
        result["ext_mismatch"] = extension_mismatch(entry.name, mime)
        result["hashes"] = {name: d.hexdigest() for name, d in zip(hashes, digests, strict=True)}
        if not candidates or spool is None or "error" in result:
            return result
        _run_plugins(
            source, exhibit, job, result, head, mime, spool.finish(), candidates, ctx, scratch, spools
        )
    finally:
        for made in spools:
            made.discard()
    return result


def _skip_warning(result: dict[str, Any], path: str, plugins: Sequence[Plugin], exc: Exception) -> None:
    """Say which plugins did not see ``path`` and why (the scratch cap, or a scratch disk error)."""
    names = ", ".join(p.name for p in plugins) or "none"
    if isinstance(exc, TriageError):
        why = f"{exc} (hint: {exc.hint})" if exc.hint else str(exc)
    else:
        why = f"cannot write its scratch copy: {type(exc).__name__}: {exc}"
    result["warnings"].append(
        {"plugin": None, "path": path, "message": f"not given to plugin(s) {names}: {why}", "traceback": None}
    )


def _run_plugins(
    source: Source,
    exhibit: str,
    job: _Job,
    result: dict[str, Any],
    head: bytes,
    mime: str | None,
    content: bytes | Path,
    candidates: list[Plugin],
    ctx: ParseContext,
    scratch: Scratch,
    spools: list[_Spool],
) -> None:
    entry = job.entry
    ref = SourceRef(
        item=exhibit,
        path=entry.path,
        sha256=result["hashes"]["sha256"],
        partition=entry.partition,
        inode=entry.inode,
        stream=entry.stream,
    )

    def sibling(suffix: str) -> FileItem | None:
        """A ``-wal``/``-shm``/``-journal`` next to the file: streamed into a charged scratch spool
        while hashed (a 3 GB WAL never sits in memory); ScratchFull propagates to the caller."""
        other = job.siblings.get(suffix)
        if other is None:
            return None
        spool = _Spool(scratch, other.path, other.size > IN_MEMORY_LIMIT)
        spools.append(spool)
        digest = hashlib.sha256()
        length = 0
        try:
            for chunk in source.read(other):
                digest.update(chunk)
                length += len(chunk)
                spool.add(chunk)
        except ScratchFull:
            raise
        except Exception as exc:  # an unreadable sibling: the database is read without it
            ctx.warn(f"{other.path} ignored: cannot read it: {type(exc).__name__}: {exc}")
            spool.discard()
            return None
        return FileItem(
            source=SourceRef(
                item=exhibit,
                path=other.path,
                sha256=digest.hexdigest(),
                partition=other.partition,
                inode=other.inode,
                stream=other.stream,
            ),
            size=length,
            opener=_spooled_opener(spool.finish()),
        )

    item = FileItem(
        source=ref, size=entry.size, opener=_spooled_opener(content), head=head, mime=mime, siblings=sibling
    )
    try:
        try:
            chosen = match_plugins(item, candidates, ctx)
        except ScratchFull as exc:
            _skip_warning(result, entry.path, candidates, exc)
            return
        if chosen:
            dispatched = run_plugins(item, chosen, ctx)
            for run in dispatched.runs:
                result["plugins"].append(
                    {"plugin": run.plugin, "version": run.version, "outcome": run.outcome}
                )
                for record in run.records:
                    result["records"].append(
                        {
                            "plugin": run.plugin,
                            "version": run.version,
                            "record_type": type(record).record_type,
                            "locator": record.locator,
                            "data": record_to_dict(record),
                        }
                    )
                for w in run.warnings:
                    result["warnings"].append(
                        {"plugin": w.plugin, "path": w.path, "message": w.message, "traceback": w.traceback}
                    )
    finally:
        scratch.release(item)
        for w in ctx.warnings:  # warnings about the file itself, before any plugin ran
            result["warnings"].append(
                {
                    "plugin": w.plugin or None,
                    "path": w.path or entry.path,
                    "message": w.message,
                    "traceback": w.traceback,
                }
            )
        ctx.warnings.clear()


# -- parent side ----------------------------------------------------------------------------------

_files = cast(Table, File.__table__)
#: What a processed file adds to its row (the row itself was stored by the walk): executed with a
#: list of parameter dicts, whose other keys (md5, sha1, ..., run_id) are the columns SET.
_RESULT_COLUMNS = ("md5", "sha1", "sha256", "mime", "ext_mismatch", "error", "plugins", "run_id")


def _upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], key: str) -> int:
    """Insert ``rows``, skipping those whose ``key`` exists; returns how many were new."""
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite  # here: the PostgreSQL dialect costs ~50 ms to import

    if conn.dialect.name == "postgresql":
        # psycopg's executemany reports no usable rowcount (it signed 0 new findings): count the
        # rows actually inserted, which RETURNING lists (SQLAlchemy batches them as one statement).
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        return len(conn.execute(stmt, rows).all())
    result = conn.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=[key]), rows)
    return max(int(result.rowcount or 0), 0)


def _insert_ignore(
    conn: Connection, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]], key: str
) -> None:
    """``_upsert`` of many rows given as tuples; on SQLite one plain DB-API executemany.

    Same statement and values as ``_upsert`` (SQLAlchemy's Boolean binds 1/0, as sqlite3 binds
    True/False), without building a dict per row and SQLAlchemy's per-row parameter processing:
    the 50,000 entry rows of a walk go in about twice as fast.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        for start in range(0, len(rows), 5000):
            _upsert(
                conn, table, [dict(zip(columns, r, strict=True)) for r in rows[start : start + 5000]], key
            )
        return
    q = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT ({q(key)}) DO NOTHING"
    )
    conn.exec_driver_sql(sql, rows)


def _store_files(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Store processed files: whole rows (ENTRY_COLUMNS order) with their results.

    A file's row is written once, with its results, rather than listed first and updated later
    (that doubled the database work of a run). A row an earlier, interrupted run left behind
    gets the new results (ON CONFLICT ... DO UPDATE of the result columns).
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":  # plain DB-API executemany: no per-row SQLAlchemy processing
        q = conn.dialect.identifier_preparer.quote
        sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in _RESULT_COLUMNS)
        conn.exec_driver_sql(
            f"INSERT INTO {q(_files.name)} ({', '.join(q(c) for c in ENTRY_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ENTRY_COLUMNS))}) ON CONFLICT ({q('key')}) DO UPDATE SET {sets}",
            rows,
        )
        return
    from sqlalchemy.dialects import postgresql

    stmt = postgresql.insert(_files)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"], set_={c: stmt.excluded[c] for c in _RESULT_COLUMNS}
    )
    for start in range(0, len(rows), 5000):
        conn.execute(stmt, [dict(zip(ENTRY_COLUMNS, r, strict=True)) for r in rows[start : start + 5000]])


def _finding_rows(exhibit: str, job: _Job, result: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
    rows = []
    e = job.entry
    for rec in result["records"]:
        data = json.dumps(rec["data"], sort_keys=True, ensure_ascii=False)
        fingerprint = hashlib.sha256(
            "\x00".join(
                [
                    exhibit,
                    rec["plugin"],
                    rec["version"],
                    rec["record_type"],
                    job.key,
                    str(rec["locator"]),
                    data,
                ]
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        rows.append(
            {
                "fingerprint": fingerprint,
                "exhibit": exhibit,
                "record_type": rec["record_type"],
                "plugin": rec["plugin"],
                "plugin_version": rec["version"],
                "partition": e.partition,
                "inode": e.inode,
                "path": e.path,
                "stream": e.stream,
                "file_sha256": result["hashes"].get("sha256"),
                "locator": rec["locator"],
                "data": data,
                "run_id": run_id,
            }
        )
    return rows


class TriageRun:
    """One run over one exhibit. Use :func:`run_triage`; this class holds the run's state."""

    def __init__(self, case: Case, exhibit: str, actor: str, options: TriageOptions) -> None:
        self.case = case
        self.engine: Engine = case.engine
        self.item: Item = get_item(case, exhibit)
        self.exhibit = exhibit
        self.actor = actor
        self.options = options
        self.hashes = tuple(dict.fromkeys([*(h.lower() for h in options.hashes), "sha256"]))
        unknown = [h for h in self.hashes if h not in HASHES]
        if unknown:
            raise TriageError(
                f"unknown hash algorithm(s): {', '.join(unknown)}", hint="use md5, sha1, sha256"
            )
        loaded = load_plugins()
        self.load_warnings = loaded.warnings
        available = {cls.name: cls for cls in loaded.plugins}
        if options.plugins is not None:
            missing = [n for n in options.plugins if n not in available]
            if missing:
                raise TriageError(
                    f"unknown plugin(s): {', '.join(missing)}",
                    hint="'exhibit plugins list' shows the available plugins",
                )
            self.plugin_classes = [available[n] for n in options.plugins]
        else:
            self.plugin_classes = list(available.values())
        self.scratch_limit = scratch_limit(options.scratch_limit)  # a bad EXHIBIT_SCRATCH_LIMIT fails here
        self.run_id = str(uuid.uuid4())
        self._entry_rows: dict[str, tuple[Any, ...]] = {}  # files to process: their rows, until stored
        self.rebuild = False  # stored rows differed from their anchor: read every file again
        self._integrity_warnings: list[dict[str, Any]] = []

    # ------------------------------------------------------------------------------------------
    def execute(
        self, progress: Progress | None = None, on_total: Callable[[int, int], None] | None = None
    ) -> RunSummary:
        keys = signing_keys(self.case, [self.actor])  # unlock before the long part
        ensure_schema(self.engine)
        with exhibit_lock.holding(self.engine, self.exhibit, self.run_id):
            return self._execute_locked(keys, progress, on_total)

    def _execute_locked(
        self,
        keys: dict[str, Any],
        progress: Progress | None,
        on_total: Callable[[int, int], None] | None,
    ) -> RunSummary:
        """The run, while it holds the exhibit (triage/engine/lock.py)."""
        self._check_stored()
        resumed_from = self._close_interrupted_runs()
        started = timefmt.stamp()
        versions = {
            "tool": tool_version(),
            "plugins": {cls.name: cls.version for cls in self.plugin_classes},
        }
        arguments = {
            "plugins": [cls.name for cls in self.plugin_classes],
            "hashes": list(self.hashes),
            "fresh": self.options.fresh,
            "workers": self.options.workers,
        }
        with self.engine.begin() as conn:
            conn.execute(
                insert(Run).values(
                    id=self.run_id,
                    exhibit=self.exhibit,
                    status="running",
                    started_utc=started.utc,
                    started_offset=started.offset,
                    actor=self.actor,
                    arguments=json.dumps(arguments),
                    versions=json.dumps(versions),
                    counts="{}",
                    resumed_from=resumed_from,
                )
            )
        counts = {
            "entries": 0,
            "files": 0,
            "bytes": 0,
            "findings": 0,
            "warnings": 0,
            "skipped": 0,
            "errors": 0,
        }
        summary = RunSummary(self.run_id, self.exhibit, "running", counts, resumed_from=resumed_from)
        summary.warnings.extend(self._integrity_warnings)
        try:
            with open_source(self.item.source_path) as source:
                jobs, rows = self._walk_entries(source, counts, summary)
            if on_total is not None:
                on_total(len(jobs), sum(j.entry.size for j in jobs))
            self._process(jobs, rows, counts, summary, progress)
            derived = self._record_in_ledger(keys, versions, arguments, counts, started, resumed_from)
            counts["derived"] = derived
            summary.status = "complete"
        except (KeyboardInterrupt, SystemExit):
            self._finish("interrupted", counts)
            raise
        except BaseException:
            self._finish("failed", counts)
            raise
        self._finish("complete", counts)
        return summary

    def _check_stored(self) -> None:
        """Check the exhibit's stored rows against the latest signed digest before using any.

        Rows that differ (edited, inserted; every row of a table whose anchors were altered too)
        are deleted and the run reads every file again, so the entries it signs are recomputed
        from the evidence, never taken from changed rows. Nothing anchored yet (first run, or a
        ledger from before digests): nothing to check against.
        """
        anchor = integrity.latest_anchors(self.case.ledger, self.exhibit).get(self.exhibit)
        if anchor is None:
            return
        with self.engine.begin() as conn:
            diffs = integrity.compare(conn, self.exhibit, anchor)
            if not diffs:
                return
            integrity.discard(conn, self.exhibit, diffs)
        self.rebuild = True
        for line in integrity.summarise(diffs):
            self._integrity_warnings.append(
                {
                    "plugin": None,
                    "path": None,
                    "message": f"stored triage data differed from what run {anchor.run} signed "
                    f"(ledger entry {anchor.seq}): {line}; the differing rows were dropped and every "
                    "file is read again from the evidence",
                    "traceback": None,
                }
            )

    def _close_interrupted_runs(self) -> str | None:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(Run.id)
                .where(Run.exhibit == self.exhibit, Run.status == "running")
                .order_by(Run.started_utc)
            ).all()
            if rows:
                conn.execute(update(Run).where(Run.id.in_([r.id for r in rows])).values(status="interrupted"))
        return rows[-1].id if rows else None

    def _walk_entries(
        self, source: Source, counts: dict[str, int], summary: RunSummary
    ) -> tuple[list[_Job], list[tuple[Any, ...]]]:
        """Walk every entry: the rows to store and the files to process (stored by _process)."""
        done: set[str] = set()
        if not (self.options.fresh or self.rebuild):
            with self.engine.connect() as conn:
                done = {
                    r.key
                    for r in conn.execute(
                        select(File.key).where(
                            File.exhibit == self.exhibit, File.type == "file", File.sha256.is_not(None)
                        )
                    )
                }
        rows: list[tuple[Any, ...]] = []
        jobs: list[_Job] = []
        by_path: dict[tuple[int | None, str], FileEntry] = {}
        entries = list(source.entries(None, recursive=True))
        for e in entries:
            if e.type == "file" and not e.deleted:
                by_path[(e.partition, e.path)] = e
        for key, e in keyed_entries(self.exhibit, entries):
            counts["entries"] += 1
            row = entry_values(self.exhibit, key, e, self.run_id)
            rows.append(row)
            if e.type != "file":
                continue
            if key in done:
                counts["skipped"] += 1
                continue
            self._entry_rows[key] = row  # stored with its results
            siblings = {
                suffix: by_path[(e.partition, e.path + suffix)]
                for suffix in SIBLINGS
                if (e.partition, e.path + suffix) in by_path
            }
            jobs.append(_Job(key, e, siblings))
        for w in source.warnings:
            summary.warnings.append({"plugin": None, "path": None, "message": str(w), "traceback": None})
        return jobs, rows

    def _store_entries(self, conn: Connection, rows: list[tuple[Any, ...]], summary: RunSummary) -> None:
        """Store every entry walked but the files to process (one transaction); those are
        stored with their results (_store_chunk), from ``_entry_rows``."""
        with conn.begin():
            _insert_ignore(
                conn, File.__table__, ENTRY_COLUMNS, [r for r in rows if r[0] not in self._entry_rows], "key"
            )
            self._store_warnings(conn, summary.warnings)
        summary.counts["warnings"] += len(summary.warnings)

    def _store_warnings(self, conn: Connection, warnings: list[dict[str, Any]]) -> None:
        if warnings:
            conn.execute(
                insert(RunWarning),
                [{"run_id": self.run_id, "exhibit": self.exhibit, **w} for w in warnings],
            )

    def _chunks(self, jobs: list[_Job]) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` ranges of ``jobs``: at most CHUNK_FILES files or about CHUNK_BYTES."""
        first = 0
        size = 0
        for i, job in enumerate(jobs):
            size += job.entry.size
            if i + 1 - first >= CHUNK_FILES or size >= CHUNK_BYTES:
                yield first, i + 1
                first, size = i + 1, 0
        if first < len(jobs):
            yield first, len(jobs)

    def _process(
        self,
        jobs: list[_Job],
        rows: list[tuple[Any, ...]],
        counts: dict[str, int],
        summary: RunSummary,
        progress: Progress | None,
    ) -> None:
        workers = self.options.workers or os.cpu_count() or 1
        scratch_parent = self.case.scratch_dir / self.run_id
        scratch_parent.mkdir(parents=True, exist_ok=True)
        chunks = list(self._chunks(jobs))
        parallel = workers > 1 and len(chunks) > 1
        init_args = (
            self.item.source_path,
            [c.name for c in self.plugin_classes],
            str(scratch_parent),
            self.exhibit,
            # the run's limit split between the workers, so together they never exceed it
            self.scratch_limit // (workers if parallel else 1),
        )

        try:
            if not parallel:
                _worker_init(*init_args)
                try:
                    with self.engine.connect() as conn:
                        self._store_entries(conn, rows, summary)
                        for start, stop in chunks:
                            chunk = jobs[start:stop]
                            self._absorb(conn, chunk, _process_chunk(chunk, self.hashes), summary, progress)
                finally:
                    _worker["source"].close()
            else:
                ctx = multiprocessing.get_context("fork")
                _worker["jobs"] = jobs  # inherited by the forked workers; see _process_range
                # Keep the collector off what the workers inherit: a collection in a worker would
                # write to every inherited object (copy-on-write faults for the whole walk).
                gc.freeze()
                try:
                    with ProcessPoolExecutor(
                        workers,
                        mp_context=ctx,
                        initializer=_pool_worker_init,
                        initargs=(os.getpid(), *init_args),
                    ) as pool:
                        pending: dict[Future[list[dict[str, Any]]], tuple[int, int]] = {}
                        queue = iter(chunks)
                        for span in queue:
                            pending[pool.submit(_process_range, *span, self.hashes)] = span
                            if len(pending) >= workers * 2:
                                break
                        # The workers are forked by now (no database connection open in them) and
                        # busy: store the entries meanwhile, then every chunk's results on the same
                        # connection (not one per chunk: closing SQLite's last one checkpoints the WAL).
                        try:
                            with self.engine.connect() as conn:
                                self._store_entries(conn, rows, summary)
                                while pending:
                                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                                    for fut in finished:
                                        start, stop = pending.pop(fut)
                                        nxt = next(queue, None)
                                        if nxt is not None:  # keep the workers fed while we store
                                            pending[pool.submit(_process_range, *nxt, self.hashes)] = nxt
                                        chunk = jobs[start:stop]
                                        self._absorb(conn, chunk, fut.result(), summary, progress)
                        except BaseException:
                            pool.shutdown(wait=True, cancel_futures=True)
                            raise
                finally:
                    _worker.pop("jobs", None)
                    gc.unfreeze()
        finally:
            import shutil

            shutil.rmtree(scratch_parent, ignore_errors=True)

    def _absorb(
        self,
        conn: Connection,
        chunk: list[_Job],
        results: list[dict[str, Any]],
        summary: RunSummary,
        progress: Progress | None,
    ) -> None:
        self._store_chunk(conn, chunk, results, summary.counts, summary)
        if progress is not None:
            progress(summary.counts["files"], summary.counts["bytes"])

    def _store_chunk(
        self,
        conn: Connection,
        chunk: list[_Job],
        results: list[dict[str, Any]],
        counts: dict[str, int],
        summary: RunSummary,
    ) -> None:
        findings: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        updates: list[tuple[Any, ...]] = []
        with conn.begin():
            for job, result in zip(chunk, results, strict=True):
                h = result["hashes"]
                updates.append(
                    (
                        *self._entry_rows.pop(job.key)[: -len(_RESULT_COLUMNS)],
                        h.get("md5"),
                        h.get("sha1"),
                        h.get("sha256"),
                        result["mime"],
                        result["ext_mismatch"],
                        result.get("error"),
                        json.dumps(result["plugins"]) if result["plugins"] else None,
                        self.run_id,
                    )
                )
                findings.extend(_finding_rows(self.exhibit, job, result, self.run_id))
                warnings.extend(result["warnings"])
                counts["files"] += 1
                counts["bytes"] += result["bytes"]
                if result.get("error"):
                    counts["errors"] += 1
                    warnings.append(
                        {
                            "plugin": None,
                            "path": job.entry.path,
                            "message": f"cannot read: {result['error']}",
                            "traceback": None,
                        }
                    )
            exhibit_lock.heartbeat(conn, self.exhibit, self.run_id)
            _store_files(conn, updates)  # one executemany per chunk
            new_findings = _upsert(conn, Finding.__table__, findings, "fingerprint")
            self._store_warnings(conn, warnings)
        counts["findings"] += new_findings
        counts["warnings"] += len(warnings)
        summary.warnings.extend(warnings)

    def _record_in_ledger(
        self,
        keys: dict[str, Any],
        versions: dict[str, Any],
        arguments: dict[str, Any],
        counts: dict[str, int],
        started: timefmt.Stamp,
        resumed_from: str | None,
    ) -> int:
        """Every file any run handed to a plugin, not yet in the ledger, plus this run's summary
        with the digest of every stored row of the exhibit (triage/engine/integrity.py).

        Read from the stored files rather than from this run's results, so files processed by an
        interrupted run are recorded by the run that completes it (the rows were checked against
        their anchor when this run started: _check_stored); sorted, so the order of the entries
        does not depend on which worker finished first.
        """
        already = set()
        for entry in self.case.ledger.entries(exhibit=self.exhibit, kinds=[DERIVE]):
            d = entry.data
            already.add(
                (
                    d.get("partition"),
                    d.get("inode"),
                    d.get("path"),
                    d.get("stream"),
                    (d.get("hashes") or {}).get("sha256"),
                )
            )
        query = (
            select(File)
            .where(File.exhibit == self.exhibit, File.plugins.is_not(None), File.sha256.is_not(None))
            .order_by(File.path, File.partition, File.inode, File.key)
        )
        drafts = []
        with self.engine.connect() as conn:
            for f in conn.execute(query):
                hashes = {name: value for name in HASHES if (value := getattr(f, name)) is not None}
                ident = (f.partition, f.inode, f.path, f.stream, f.sha256)
                if ident in already:
                    continue
                already.add(ident)
                drafts.append(
                    Draft(
                        kind=DERIVE,
                        actor=self.actor,
                        exhibit=self.exhibit,
                        data={
                            "path": f.path,
                            "partition": f.partition,
                            "inode": f.inode,
                            "stream": f.stream,
                            "size": f.size,
                            "deleted": bool(f.deleted),
                            "hashes": hashes,
                            "parent_sha256": self.item.hashes.get("sha256"),
                            "run": f.run_id,
                            "plugins": json.loads(f.plugins),
                        },
                    )
                )
            state = integrity.state_of(conn, self.exhibit)
        drafts.append(
            Draft(
                kind=integrity.RUN_KIND,
                actor=self.actor,
                exhibit=self.exhibit,
                data={
                    "run": self.run_id,
                    "versions": versions,
                    "arguments": arguments,
                    "counts": dict(counts),
                    "derived": len(drafts),
                    "started": {"utc": started.utc, "offset": started.offset},
                    "resumed_from": resumed_from,
                    "digest": integrity.digest_of(state),
                },
            )
        )
        self.case.ledger.append(drafts, keys, checkpoint_signer=self.actor)
        with self.engine.begin() as conn:
            integrity.store_anchors(conn, self.exhibit, self.run_id, state)
        return len(drafts) - 1

    def _finish(self, status: str, counts: dict[str, int]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(Run)
                    .where(Run.id == self.run_id)
                    .values(status=status, finished_utc=timefmt.stamp().utc, counts=json.dumps(counts))
                )
        except Exception:  # the run row is bookkeeping; never mask the real outcome
            pass


def run_triage(
    case: Case,
    exhibit: str,
    *,
    actor: str,
    options: TriageOptions | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Triage ``exhibit``: the library call behind ``exhibit triage``."""
    return TriageRun(case, exhibit, actor, options or TriageOptions()).execute(progress, on_total)
