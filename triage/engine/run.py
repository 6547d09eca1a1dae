"""A triage run: walk every entry, read each file once, store files and findings with their
provenance, and record in the ledger what the plugins read and a digest of everything stored.

Layout of a run (:class:`TriageRun`, holding the exhibit's lock throughout: triage/engine/lock.py)
---------------------------------------------------------------------------------------------------
1. The stored rows are checked against the exhibit's latest signed digest (integrity.py); rows
   that differ are dropped and every file is read again.
2. The run walks the source (fast; metadata only): every entry becomes a ``triage_files`` row,
   every regular file not read yet a job.
3. Worker processes read the files in chunks (workers.py; one file: per_file.py) and hand back
   typed results (results.py). The run alone writes to the database (writes.py): whole chunks,
   several to a transaction (writes.ChunkGroup, committed at least every half second and
   whenever the run waits), and one transaction per batch of a big file's findings stored while
   the file is still read (published.py), so a run killed midway keeps every file committed so
   far (the batches of a file it did not finish are taken back by the next run) and a new run
   resumes there, reading the others again.
3b. The files whose content is a zip or tar (a result's ``archive``; and those read by an
   earlier run, looked at again) are opened from the evidence and their members walked
   (triage/sources/nested.py; archives in archives too, within the limits); the members are
   read as a second round of step 3, each row naming its archive's (``parent``). For a disk
   image, the files carved from free space (carving.py) are read as a third round.
3c. With a :class:`~triage.engine.remote.RemoteRunner` (``--broker``), the workers of every
   round are remote (triage/distributed): the walk's files go by key, the members by their
   outermost archive, the carved files by their image extents (remote.py); what is carved is
   decided here, once. The run stores their results as it stores its own workers'.
4. At the end, every file a plugin was handed becomes a derived item in the custody ledger, and
   a ``triage.run`` entry records tool and plugin versions, arguments, counts and the digest of
   the stored rows, all in ONE batched, signed append.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from custody import timefmt
from custody.actors import signing_keys
from custody.case import Case
from custody.items import DERIVE, Item, get_item, tool_version
from custody.ledger import Draft, StoredEntry
from triage.engine import carving, integrity, walk_ahead, workers, writes
from triage.engine import lock as exhibit_lock
from triage.engine.analysis import run_analyzers
from triage.engine.carving import CarveProgress
from triage.engine.options import run_options, source_options
from triage.engine.per_file import FileJob, PathIndex
from triage.engine.published import Published, withdraw_abandoned
from triage.engine.remote import CarvedAt, InArchive, RemoteRunner, Whereabouts
from triage.engine.results import FileResult, TriageWarning, found_records, origin, remove_batches
from triage.engine.rowkeys import keyed_entries
from triage.engine.stall import stall_seconds
from triage.engine.writes import HASHES
from triage.errors import TriageError
from triage.hashsets import store as hashsets
from triage.keywords.terms import KeywordSpec
from triage.plugin.options import for_record
from triage.plugin.registry import load_analyzers, load_plugins
from triage.plugin.scratch import Scratch, scratch_limit
from triage.sources.carve import CARVED_FS, CarveLimits
from triage.sources.entry import FileEntry, Source
from triage.sources.logical import max_expansion
from triage.sources.nested import NestedSource, NestLimits
from triage.sources.open import IMAGE_KINDS, open_source
from triage.store import ensure_schema
from triage.store.models import File, Run

SIBLINGS = ("-wal", "-shm", "-journal")
FINDINGS_BATCH = 10_000  # finding rows per INSERT while a chunk is stored


@dataclass
class TriageOptions:
    plugins: Sequence[str] | None = None  # None: every available plugin
    hashes: Sequence[str] = ("sha256",)
    workers: int | None = None  # None: one per core
    fresh: bool = False  # ignore what an interrupted run already stored
    scratch_limit: int | None = None  # bytes of scratch the run may hold at once (None: default)
    option_values: Sequence[str] = ()  # --option PLUGIN.NAME=VALUE texts, checked before the run
    option_files: Sequence[Path] = ()  # TOML options files (values kept out of shell history)
    nested: NestLimits | None = None  # archives inside the evidence: how far to follow them (None: defaults)
    carve: bool = True  # carve the free space of disk images (triage/engine/carving.py)
    carve_limits: CarveLimits | None = None  # None: the defaults
    carve_progress: CarveProgress | None = None  # (partition, bytes done, bytes of free space)
    keywords: KeywordSpec | None = None  # terms to search in files, records and the image (triage/keywords)
    pdq_distance: int = 31  # hash sets: a PDQ hash within this many bits of a known-bad one is a hit
    # the files read by remote workers (triage/distributed) instead of local processes: the walk's,
    # the archives' members and the carved files (what was carved is decided here, once)
    runner: RemoteRunner | None = None


@dataclass
class RunSummary:
    run_id: str
    exhibit: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # TriageWarning.as_dict()
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


class _StoreMeanwhile:
    """While forked workers read: store the batches of records they publish (published.py)."""

    def __init__(self, published: Published, counts: dict[str, int]) -> None:
        self.published = published
        self.counts = counts
        self.group: writes.ChunkGroup | None = None  # the run's storing connection's, once it is open

    def _heartbeat(self, conn: Connection) -> None:
        exhibit_lock.heartbeat(conn, self.published.exhibit, self.published.run_id)

    def waiting(self) -> None:
        if self.group is not None:
            self.group.commit()  # the chunks stored so far: the workers are slower than storing
            self.counts["findings"] += self.published.store_ready(self.group.conn, self._heartbeat)

    def restarting(self) -> None:
        if self.group is not None:
            self.group.commit()  # the chunks that arrived are stored; the others are taken back
            self.counts["findings"] -= self.published.withdraw_unsettled(self.group.conn)


@dataclass(slots=True)
class _Walked:
    """What the walk found, in walk order: the entries stored as listed, the files to read, and
    the warnings so far (the stored rows' check, then the walk's)."""

    listed: list[tuple[str, FileEntry]] = field(default_factory=list)  # (row key, entry): not read
    jobs: list[FileJob] = field(default_factory=list)  # stored with their results
    warnings: list[TriageWarning] = field(default_factory=list)
    index: PathIndex | None = None  # every file by path, for the plugins' related files
    parents: dict[str, str] = field(default_factory=dict)  # a member's row key -> its archive's
    files: list[tuple[str, FileEntry]] = field(default_factory=list)  # (key, allocated file), walk order
    done: set[str] = field(default_factory=set)  # keys of the files read by an earlier run
    done_archives: set[str] = field(default_factory=set)  # those of them to look at for archives
    where: Whereabouts | None = None  # where a remote worker finds the round's files (remote.py)


def _plugins_in(stored: str) -> set[str]:
    """The plugin names in a files row's ``plugins`` column (JSON list of outcomes)."""
    try:
        outcomes = json.loads(stored)
    except ValueError:
        return set()
    if not isinstance(outcomes, list):
        return set()
    return {o["plugin"] for o in outcomes if isinstance(o, dict) and isinstance(o.get("plugin"), str)}


class TriageRun:
    """One run over one exhibit. Use :func:`run_triage`; this class holds the run's state."""

    def __init__(self, case: Case, exhibit: str, actor: str, options: TriageOptions) -> None:
        self.case = case
        self.engine: Engine = case.engine
        self.item: Item = get_item(case, exhibit)
        self.exhibit = exhibit
        self.actor = actor
        self.options = options
        # A disk image is walked from now on, in a child, while the run gets ready (plugins, key,
        # tables, lock, stored-row check): triage/engine/walk_ahead.py. Ended if the run fails first.
        self._walk_ahead = walk_ahead.start(self.item.source_path, self.item.kind, exhibit)
        try:
            self._prepare(options)
        except BaseException:
            self.cancel_walk_ahead()
            raise

    def cancel_walk_ahead(self) -> None:
        """End the walk ahead if the run has not taken it (a run that fails before its walk)."""
        if self._walk_ahead is not None:
            self._walk_ahead.cancel()
            self._walk_ahead = None

    def _prepare(self, options: TriageOptions) -> None:
        """What ``__init__`` checks and loads: hashes, plugins, analyzers, options."""
        self.hashes = tuple(dict.fromkeys([*(h.lower() for h in options.hashes), "sha256"]))
        unknown = [h for h in self.hashes if h not in HASHES]
        if unknown:
            raise TriageError(
                f"unknown hash algorithm(s): {', '.join(unknown)}", hint="use md5, sha1, sha256"
            )
        loaded = load_plugins()
        self.load_warnings = loaded.warnings
        found = load_analyzers(taken=[cls.name for cls in loaded.plugins])
        self.load_warnings += found.warnings
        self.analyzer_classes = list(found.analyzers)
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
        stall_seconds()  # and a bad EXHIBIT_READ_STALL_SECONDS (the workers read it again)
        max_expansion()  # and a bad EXHIBIT_MAX_EXPANSION (read again by each archive opened)
        # a misspelt plugin or option, or a value of the wrong type, fails here: before the run
        self.plugin_options = run_options(
            [*self.plugin_classes, *self.analyzer_classes], options.option_values, options.option_files
        )
        self.source_options = source_options(self.plugin_options)
        self.run_id = str(uuid.uuid4())
        self.rebuild = False  # stored rows differed from their anchor: read every file again
        # stored with the walk's warnings: plugins and analyzers left out at load (a module they
        # need is not installed, a third-party one breaks the contract), rows dropped by _check_stored
        self._early_warnings: list[TriageWarning] = [TriageWarning(None, None, w) for w in self.load_warnings]
        self._archives: set[str] = set()  # keys of the files read whose content is a zip's or tar's

    # ------------------------------------------------------------------------------------------
    def execute(
        self, progress: Progress | None = None, on_total: Callable[[int, int], None] | None = None
    ) -> RunSummary:
        if self.options.runner is not None:
            self.options.runner.check()  # the broker and a worker answer: before anything is recorded
        keys = signing_keys(self.case, [self.actor])  # unlock before the long part
        ensure_schema(self.engine)
        # the file hashes the hash sets hold are computed in the same read (no second read to match)
        self.hashes = tuple(dict.fromkeys([*self.hashes, *sorted(hashsets.algorithms_in_sets(self.engine))]))
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
        if self.plugin_options:
            arguments["options"] = for_record(self.plugin_options)  # secrets: given, not recorded
        if self.options.nested is not None:  # recorded when not the defaults (verify --rehash uses them)
            arguments["archives"] = dataclasses.asdict(self.options.nested)
        if self.options.runner is not None:
            arguments["distributed"] = self.options.runner.describe()
        if not self.options.carve:  # recorded when not the default
            arguments["carve"] = False
        if self.options.keywords is not None:
            from triage.keywords.records import VERSION as KEYWORDS_VERSION

            arguments["keywords"] = self.options.keywords.for_record()
            versions["keywords"] = KEYWORDS_VERSION
        matched_sets = hashsets.list_sets(self.engine)
        if matched_sets:  # which sets the run matched against (only when there are some)
            arguments["hashsets"] = [
                {"name": s.name, "kind": s.kind, "sha256": s.source_sha256}
                for s in matched_sets
                if s.status == "ready"
            ]
            arguments["pdq_distance"] = self.options.pdq_distance
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
        try:
            with open_source(self.item.source_path, self.item.kind, options=self.source_options) as source:
                walked = self._walk_entries(source, counts)
            total = [len(walked.jobs), sum(j.entry.size for j in walked.jobs)]
            if on_total is not None:
                on_total(*total)
            self._process(walked, summary, progress, remote=self.options.runner)
            members = self._walk_archives(walked, counts)
            if members.jobs or members.listed or members.warnings:
                if on_total is not None:
                    on_total(total[0] + len(members.jobs), total[1] + sum(j.entry.size for j in members.jobs))
                self._process(members, summary, progress, remote=self.options.runner)
            carved = self._walk_carved(walked, counts)
            if carved.jobs or carved.listed or carved.warnings:
                if on_total is not None:
                    on_total(len(carved.jobs), sum(j.entry.size for j in carved.jobs))
                self._process(carved, summary, progress, remote=self.options.runner)
                self._store_carves(summary)
            self._analyze(summary)
            if self.options.keywords is not None:
                from triage.engine.keywords import search_after_files

                search_after_files(self, summary)  # the run's records and, for a disk image, every byte
            self._match_hashsets(summary)
            derived = self._record_in_ledger(keys, versions, arguments, counts, started, resumed_from)
            counts["derived"] = derived
            summary.status = "complete"
        except (KeyboardInterrupt, SystemExit) as exc:
            self._finish_after(exc, "interrupted", counts)
            raise
        except BaseException as exc:
            self._finish_after(exc, "failed", counts)
            raise
        try:
            self._finish("complete", counts)
        except Exception as exc:
            exc.add_note(
                f"run {self.run_id} did complete and is recorded in the ledger; only its triage_runs row "
                "still says 'running' (exhibit custody verify reports it)"
            )
            raise
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
            self._early_warnings.append(
                TriageWarning(
                    plugin=None,
                    path=None,
                    message=f"stored triage data differed from what run {anchor.run} signed "
                    f"(ledger entry {anchor.seq}): {line}; the differing rows were dropped and every "
                    "file is read again from the evidence",
                )
            )

    def _close_interrupted_runs(self) -> str | None:
        """Mark the exhibit's runs still ``running`` (killed, or their database went away) as
        ``interrupted``; returns the latest one's id (this run resumes it).

        A run whose ``triage.run`` entry is in the ledger did complete: it was stopped after
        signing, before its row was marked (the row is written after the entry, in another
        transaction). Its row is completed from the signed entry instead, as that run would
        have written it, so the row and the entry agree again (``exhibit custody verify``).
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Run.c.id, Run.c.status)
                .where(Run.c.exhibit == self.exhibit, Run.c.status.in_(("running", "interrupted", "failed")))
                .order_by(Run.c.started_utc)
            ).all()
        if not rows:
            return None
        unfinished = {r.id for r in rows}
        signed: dict[str, tuple[StoredEntry, dict[str, Any]]] = {}
        for entry in self.case.ledger.entries(exhibit=self.exhibit, kinds=[integrity.RUN_KIND]):
            try:
                data = entry.data
            except ValueError:  # not JSON: the ledger's own checks report it
                continue
            # an entry not of the shape a run writes is left to verify to report, never trusted
            if (
                isinstance(data, dict)
                and isinstance(data.get("run"), str)
                and data["run"] in unfinished
                and isinstance(data.get("counts"), dict)
            ):
                signed[data["run"]] = (entry, data)
        running = [r.id for r in rows if r.status == "running" and r.id not in signed]
        if not (signed or running):
            return None
        with self.engine.begin() as conn:
            for run_id, (entry, data) in signed.items():
                counts = {**data["counts"], "derived": data.get("derived")}
                conn.execute(
                    update(Run)
                    .where(Run.c.id == run_id)
                    .values(status="complete", finished_utc=entry.recorded_utc, counts=json.dumps(counts))
                )
            if running:
                conn.execute(update(Run).where(Run.c.id.in_(running)).values(status="interrupted"))
        return running[-1] if running else None

    def _walk_archives(self, walked: _Walked, counts: dict[str, int]) -> _Walked:
        """The members of the zip and tar files found in the evidence (triage/sources/nested.py),
        to read as a second round: the archives are the files whose content the first round found
        to start like one (FileResult.archive), and the files an earlier run read (whose content
        is looked at again here). Archives in archives are walked here too, within the limits.
        Big archives are spooled in a scratch folder of the run, within its scratch limit; the
        first round's workers are done by then.

        For remote workers, each member's job names the evidence's file it is in (its outermost
        archive) and how many members were walked before that archive: a worker walks that
        archive again as here, within the same limits, and finds the member (and every archive
        between) by its key (triage/distributed/tasks.py)."""
        done = walked.done_archives
        candidates = [(key, e) for key, e in walked.files if key in self._archives or key in done]
        out = _Walked(parents={})
        if not candidates:
            return out
        scratch_parent = self.case.scratch_dir / self.run_id
        scratch_parent.mkdir(parents=True, exist_ok=True)
        entries: list[FileEntry] = []
        try:
            with (
                open_source(self.item.source_path, self.item.kind, options=self.source_options) as source,
                Scratch(scratch_parent, limit=self.scratch_limit) as scratch,
            ):
                nested = NestedSource(source, limits=self.options.nested, scratch=scratch)
                before = len(nested.warnings)
                key_of = {(e.partition, e.path, e.inode): key for key, e in candidates}
                within: list[InArchive] = []  # each entry's outermost archive, for remote workers
                try:
                    for archive_key, archive in candidates:
                        walked_before = nested.walked
                        entries.extend(nested.expand(archive))
                        within.extend([InArchive(archive_key, walked_before)] * (len(entries) - len(within)))
                finally:
                    nested.close_archives()
                warnings = nested.warnings[before:]
        finally:
            shutil.rmtree(scratch_parent, ignore_errors=True)
        out.warnings.extend(TriageWarning(None, None, str(w)) for w in warnings)
        if not entries:
            return out
        assert walked.index is not None
        out.index = walked.index.extended(entries, nested.members)
        by_path = {(e.partition, e.path): e for e in entries if e.type == "file" and not e.deleted}
        remote: dict[str, InArchive] = {}
        for (key, e), outermost in zip(keyed_entries(self.exhibit, entries), within, strict=True):
            counts["entries"] += 1
            key_of[(e.partition, e.path, e.inode)] = key
            member = nested.member(e)
            if member is not None:
                a = member.archive
                parent = key_of.get((a.partition, a.path, a.inode))
                if parent is not None:
                    out.parents[key] = parent
            if e.type != "file":
                out.listed.append((key, e))
            elif key in walked.done:
                counts["skipped"] += 1
                out.listed.append((key, e))
            else:
                siblings = {
                    suffix: by_path[(e.partition, e.path + suffix)]
                    for suffix in SIBLINGS
                    if (e.partition, e.path + suffix) in by_path
                }
                out.jobs.append(FileJob(key, e, siblings))
                remote[key] = outermost
        if self.options.runner is not None:
            out.where = Whereabouts(members=remote, limits=_resolved(self.options.nested))
        return out

    def _walk_carved(self, walked: _Walked, counts: dict[str, int]) -> _Walked:
        """The files carved from the free space of a disk image (triage/engine/carving.py), to
        read as a third round; nothing for other evidence or with ``carve`` off. What was carved
        is decided here, once (carving scans the free space); remote workers read the carved files
        from the image extents their jobs carry."""
        out = _Walked(parents={})
        self._carves: list[tuple[str, Any]] = []
        if not self.options.carve or self.item.kind not in IMAGE_KINDS:
            return out
        found, warnings = carving.carve_source(
            self.item.source_path, self.item.kind, self.options.carve_limits, self.options.carve_progress
        )
        out.warnings.extend(TriageWarning(carving.CARVER, None, w) for w in warnings)
        out.index = PathIndex((), walked.index.members if walked.index else None)
        out.index.carved = {(c.partition, c.path): c.extents for c in found}
        remote: dict[str, CarvedAt] = {}
        for (key, e), c in zip(keyed_entries(self.exhibit, (c.entry() for c in found)), found, strict=True):
            counts["entries"] += 1
            counts["carved"] = counts.get("carved", 0) + 1
            self._carves.append((key, c))
            if key in walked.done:
                counts["skipped"] += 1
                out.listed.append((key, e))
            else:
                out.jobs.append(FileJob(key, e, {}))
                remote[key] = CarvedAt(c.partition, c.offset, c.length, c.kind, c.extents)
        if self.options.runner is not None:
            out.where = Whereabouts(carved=remote)
        return out

    def _store_carves(self, summary: RunSummary) -> None:
        """The carve findings of the files carved (provenance, validity), once their rows are stored."""
        rows = list(carving.finding_rows(self.exhibit, self.run_id, self._carves))
        with self.engine.begin() as conn:
            summary.counts["findings"] += writes.store_findings(conn, rows)

    def _walk_entries(self, source: Source, counts: dict[str, int]) -> _Walked:
        """Walk every entry: those stored as listed, and the files to read (_process stores both)."""
        done: set[str] = set()
        if not (self.options.fresh or self.rebuild):
            # A file an earlier run read is not read again, unless a plugin that looked at it is
            # given options now (a key for an encrypted database: the first run could not read it).
            optioned = {name for name, values in self.plugin_options.values.items() if values}
            with self.engine.connect() as conn:
                done = {
                    r.key
                    for r in conn.execute(
                        select(File.c.key, File.c.plugins).where(
                            File.c.exhibit == self.exhibit, File.c.type == "file", File.c.sha256.is_not(None)
                        )
                    )
                    if not (optioned and r.plugins and optioned & _plugins_in(r.plugins))
                }
        walked = _Walked(warnings=list(self._early_warnings))
        ahead, self._walk_ahead = self._walk_ahead, None
        got = ahead.entries(source) if ahead is not None else None
        entries = got[0] if got is not None else list(source.entries(None, recursive=True))
        walked.index = PathIndex(entries)
        walked.done = done
        # the -wal/-shm/-journal files beside a file, by the file's path: looked for among the few
        # paths with such an ending, not by three look-ups for every file
        beside: dict[tuple[int | None, str], dict[str, FileEntry]] = {}
        for e in entries:
            if e.path.endswith(SIBLINGS) and e.type == "file" and not e.deleted:
                suffix = next(s for s in SIBLINGS if e.path.endswith(s))
                beside.setdefault((e.partition, e.path[: -len(suffix)]), {})[suffix] = e
        counts["entries"] += len(entries)
        listed, files, jobs = walked.listed, walked.files, walked.jobs
        keyed = zip(got[1], entries, strict=True) if got is not None else keyed_entries(self.exhibit, entries)
        for key, e in keyed:
            if e.type != "file":
                listed.append((key, e))
                continue
            if not e.deleted:
                files.append((key, e))
            if key in done:
                counts["skipped"] += 1
                listed.append((key, e))  # its stored row, with its results, is kept
                if not e.deleted:
                    walked.done_archives.add(key)  # not read now: whether it is an archive is looked at
                continue
            found = beside.get((e.partition, e.path)) if beside else None
            jobs.append(FileJob(key, e, {s: found[s] for s in SIBLINGS if s in found} if found else {}))
        walked.warnings.extend(TriageWarning(None, None, str(w)) for w in source.warnings)
        return walked

    def _store_entries(self, conn: Connection, walked: _Walked, summary: RunSummary) -> None:
        """Store every entry walked but the files to read (one transaction), and the warnings so
        far; the files are stored with their results (_store_chunk)."""
        with conn.begin():
            writes.store_listed(
                conn,
                (
                    writes.file_row(self.exhibit, key, e, self.run_id, parent=walked.parents.get(key))
                    for key, e in walked.listed
                ),
            )
            writes.store_warnings(conn, writes.warning_rows(self.exhibit, self.run_id, walked.warnings))
        summary.warnings.extend(w.as_dict() for w in walked.warnings)
        summary.counts["warnings"] += len(walked.warnings)

    def _process(
        self,
        walked: _Walked,
        summary: RunSummary,
        progress: Progress | None,
        remote: RemoteRunner | None = None,
    ) -> None:
        """Read the files with the workers while storing the listed entries, then every chunk's
        results as it comes back, on one connection (closing SQLite's last one checkpoints the WAL).

        With ``remote``, the chunks are read by its workers (triage/engine/remote.py) and each is
        stored with a ``triage_jobs`` row naming the worker."""
        count = self.options.workers or os.cpu_count() or 1
        with self.engine.begin() as conn:  # what a run killed mid-file stored ahead of it
            withdraw_abandoned(conn, self.exhibit)
        scratch_parent = self.case.scratch_dir / self.run_id
        (scratch_parent / workers.SPILL_FOLDER).mkdir(parents=True, exist_ok=True)
        setup = workers.WorkerSetup(
            source_path=self.item.source_path,
            kind=self.item.kind,
            source_options=self.source_options,
            plugin_options=self.plugin_options,
            plugin_classes=tuple(self.plugin_classes),
            exhibit=self.exhibit,
            hashes=self.hashes,
            scratch_parent=scratch_parent,
            scratch_limit=self.scratch_limit,
            keywords=self.options.keywords,
        )
        if remote is not None:
            try:
                with (
                    remote.processing(self.run_id, walked.jobs, setup, walked.where) as read,
                    self.engine.connect() as conn,
                ):
                    writes.for_bulk_writes(conn)
                    each = writes.ChunkGroup(conn, files=1)  # a chunk and its job row: one commit
                    self._store_entries(conn, walked, summary)
                    for chunk, results, worker, attempts in read:
                        job = writes.job_row(
                            self.exhibit,
                            self.run_id,
                            chunk[0].key,
                            len(chunk),
                            sum(j.entry.size for j in chunk),
                            worker,
                            attempts,
                            timefmt.stamp().utc,
                        )
                        self._store_chunk(each, chunk, results, summary, walked.parents, job)
                        self._archives.update(r.key for r in results if r.archive)
                        if progress is not None:
                            progress(summary.counts["files"], summary.counts["bytes"])
            finally:
                shutil.rmtree(scratch_parent, ignore_errors=True)
            return
        published = Published(scratch_parent / workers.SPILL_FOLDER, self.exhibit, self.run_id)
        meanwhile = _StoreMeanwhile(published, summary.counts)
        try:
            # The workers are forked on entry (no database connection open yet) and busy: the
            # listed entries are stored meanwhile, then the batches of records they publish.
            with (
                workers.processing(walked.jobs, setup, count, walked.index, meanwhile) as finished,
                self.engine.connect() as conn,
            ):
                writes.for_bulk_writes(conn)
                group = meanwhile.group = writes.ChunkGroup(conn)
                self._store_entries(conn, walked, summary)
                try:
                    for chunk, results in finished:
                        self._store_chunk(group, chunk, results, summary, walked.parents, published=published)
                        self._archives.update(r.key for r in results if r.archive)
                        if progress is not None:
                            progress(summary.counts["files"], summary.counts["bytes"])
                except BaseException as exc:
                    group.close_after(exc)
                    raise
                group.commit()
        finally:
            # What a chunk's Scratch did not remove. Errors ignored on purpose: a scratch folder
            # left behind (it is under the case's scratch folder) is no reason to fail a run that
            # stored everything, nor to replace the error of one that did not.
            shutil.rmtree(scratch_parent, ignore_errors=True)

    def _analyze(self, summary: RunSummary) -> None:
        """The analyzers, over what this run stored (triage/engine/analysis.py)."""
        if not self.analyzer_classes:
            return
        scratch = self.case.scratch_dir / f"{self.run_id}-analysis"  # a helper's rows (analysis.py)
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            new, warnings = run_analyzers(
                self.engine, self.exhibit, self.run_id, self.analyzer_classes, self.plugin_options, scratch
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        summary.counts["findings"] += new
        if warnings:
            with self.engine.begin() as conn:
                writes.store_warnings(conn, writes.warning_rows(self.exhibit, self.run_id, warnings))
            summary.counts["warnings"] += len(warnings)
            summary.warnings.extend(w.as_dict() for w in warnings)

    def _match_hashsets(self, summary: RunSummary) -> None:
        """The exhibit's files and records against the hash sets: ``hash/hit`` findings of this
        run (triage/hashsets/match.py), before the digest is taken."""
        from triage.hashsets.match import match_exhibit

        found = match_exhibit(self.engine, self.exhibit, self.run_id, distance=self.options.pdq_distance)
        summary.counts["findings"] += found.new
        if found.hits:
            summary.counts["hash_hits"] = found.hits
        notes = [TriageWarning("hashsets", None, note) for note in found.notes]
        if notes:
            with self.engine.begin() as conn:
                writes.store_warnings(conn, writes.warning_rows(self.exhibit, self.run_id, notes))
            summary.counts["warnings"] += len(notes)
            summary.warnings.extend(w.as_dict() for w in notes)

    def _store_chunk(
        self,
        group: writes.ChunkGroup,
        chunk: Sequence[FileJob],
        results: list[FileResult],
        summary: RunSummary,
        parents: dict[str, str] | None = None,
        job_row: dict[str, Any] | None = None,
        published: Published | None = None,
    ) -> None:
        """Store one chunk's files, findings and warnings, whole, in ``group``'s transaction (and
        ``job_row``, the ``triage_jobs`` row of a chunk a remote worker read); the batches of
        records ``published`` stored while the chunk was read are not stored again."""
        conn = group.conn
        counts = summary.counts
        files: list[dict[str, Any]] = []
        warnings: list[TriageWarning] = []
        new_findings = written = 0
        group.begin()
        stored, withdrawn = published.settle(conn, results) if published is not None else (set(), 0)
        new_findings -= withdrawn
        for job, result in zip(chunk, results, strict=True):
            parent = parents.get(job.key) if parents else None
            files.append(writes.file_row(self.exhibit, job.key, job.entry, self.run_id, result, parent))
            warnings.extend(result.warnings)
            counts["files"] += 1
            counts["bytes"] += result.bytes_read
            if result.error:
                counts["errors"] += 1
                warnings.append(TriageWarning(None, job.entry.path, f"cannot read: {result.error}"))
        exhibit_lock.heartbeat(conn, self.exhibit, self.run_id)
        writes.store_files(conn, files)  # one executemany per chunk
        findings: list[dict[str, Any]] = []
        for job, result in zip(chunk, results, strict=True):
            # streamed in batches: a file can hold a million records (its batch files)
            where = origin(job.key, job.entry, result.sha256)
            for row in writes.finding_rows(self.exhibit, where, found_records(result, stored), self.run_id):
                written += 1
                findings.append(row)
                if len(findings) >= FINDINGS_BATCH:
                    new_findings += writes.store_findings(conn, findings)
                    findings = []
        new_findings += writes.store_findings(conn, findings)
        writes.store_warnings(conn, writes.warning_rows(self.exhibit, self.run_id, warnings))
        if job_row is not None:
            writes.store_job(conn, job_row)
        group.stored(len(files), written)  # whole: released, and committed with its group
        for result in results:
            remove_batches(result)
        if published is not None:
            published.forget(results)
        counts["findings"] += new_findings
        counts["warnings"] += len(warnings)
        summary.warnings.extend(w.as_dict() for w in warnings)

    def _record_in_ledger(
        self,
        keys: dict[str, Any],
        versions: dict[str, Any],
        arguments: dict[str, Any],
        counts: dict[str, int],
        started: timefmt.Stamp,
        resumed_from: str | None,
    ) -> int:
        """Every file a plugin of any run read (an outcome other than ``not-my-format``) or that
        was carved, not yet in the ledger, plus this run's summary with the digest of every stored
        row of the exhibit (triage/engine/integrity.py). A file every plugin it was offered to
        declined (a text file without identifiers, a ``.jpg`` that is a GIF) is not derived from.

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
            .where(
                File.c.exhibit == self.exhibit,
                # an outcome other than not-my-format (checked again below), or carved
                or_(
                    writes.read_by_a_plugin(File.c.plugins),
                    File.c.fs_type == CARVED_FS,
                ),
                File.c.sha256.is_not(None),
            )
            .order_by(File.c.path, File.c.partition, File.c.inode, File.c.key)
        )
        drafts = []
        carves: dict[tuple[int | None, str], dict[str, Any]] | None = None
        with self.engine.connect() as conn:
            for f in conn.execute(query):
                hashes = {name: value for name in HASHES if (value := getattr(f, name)) is not None}
                ident = (f.partition, f.inode, f.path, f.stream, f.sha256)
                outcomes = json.loads(f.plugins) if f.plugins else []
                if f.fs_type != CARVED_FS and all(
                    isinstance(o, dict) and o.get("outcome") == "not-my-format" for o in outcomes
                ):
                    continue
                if ident in already:
                    continue
                already.add(ident)
                data = {
                    "path": f.path,
                    "partition": f.partition,
                    "inode": f.inode,
                    "stream": f.stream,
                    "size": f.size,
                    "deleted": bool(f.deleted),
                    "hashes": hashes,
                    "parent_sha256": self.item.hashes.get("sha256"),
                    "run": f.run_id,
                    "plugins": outcomes,
                }
                if f.fs_type == CARVED_FS:
                    if carves is None:  # read once: what carving stored about each carved file
                        carves = carving.stored_carves(conn, self.exhibit)
                    data["carved"] = carving.ledger_provenance(carves.get((f.partition, f.path)))
                if f.parent is not None:
                    data["within"] = _archive_chain(conn, self.exhibit, f.parent)
                drafts.append(Draft(kind=DERIVE, actor=self.actor, exhibit=self.exhibit, data=data))
            conn.commit()  # the read transaction (and SQLite's write lock) ends: the digest reads what is committed
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
        """Record how the run ended in its ``triage_runs`` row."""
        with self.engine.begin() as conn:
            conn.execute(
                update(Run)
                .where(Run.c.id == self.run_id)
                .values(status=status, finished_utc=timefmt.stamp().utc, counts=json.dumps(counts))
            )

    def _finish_after(self, error: BaseException, status: str, counts: dict[str, int]) -> None:
        """:meth:`_finish` for a run ended by ``error``, which stays the error reported.

        When the run row cannot be written either (the database is what failed, often), that
        second problem is added to ``error`` as a note rather than raised in its place; the row
        stays ``running`` and the next run of the exhibit marks it ``interrupted``.
        """
        try:
            self._finish(status, counts)
        except Exception as exc:
            error.add_note(
                f"the triage_runs row of run {self.run_id} could not be marked {status} either: "
                f"{type(exc).__name__}: {exc}"
            )


def _resolved(limits: NestLimits | None) -> NestLimits:
    """``limits`` (None: the defaults) with the expansion ratio this process uses when it is left
    to the default (a remote worker then follows archives exactly as this run does)."""
    from triage.sources.logical import max_expansion

    limits = limits or NestLimits()
    return limits if limits.ratio is not None else dataclasses.replace(limits, ratio=max_expansion())


def _archive_chain(conn: Connection, exhibit: str, key: str | None) -> list[dict[str, Any]]:
    """The archives a member was read from, innermost first, as stored (path, partition, inode,
    stream, sha256): what a derived item found inside an archive is derived from."""
    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    while key is not None and key not in seen:
        seen.add(key)
        row = conn.execute(
            select(
                File.c.path, File.c.partition, File.c.inode, File.c.stream, File.c.sha256, File.c.parent
            ).where(File.c.exhibit == exhibit, File.c.key == key)
        ).first()
        if row is None:
            break
        chain.append(
            {
                "path": row.path,
                "partition": row.partition,
                "inode": row.inode,
                "stream": row.stream,
                "sha256": row.sha256,
            }
        )
        key = row.parent
    return chain


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
    run = TriageRun(case, exhibit, actor, options or TriageOptions())
    try:
        return run.execute(progress, on_total)
    finally:
        run.cancel_walk_ahead()
