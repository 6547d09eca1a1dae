"""What a worker does with one file: read it once, hash and sniff it, and hand it to the plugins.

The same bytes feed the hashes, libmagic (on the first bytes only) and, when a plugin's cheap
targets accept the file (dispatch.TargetMatcher), a :class:`Spool` that keeps the content for
the plugins: in memory up to :data:`IN_MEMORY_LIMIT`, beyond that in a sparse scratch file charged
to the run's scratch budget. The answer is a frozen :class:`~triage.engine.results.FileResult`;
nothing here writes to the database.

Failures are sorted by whose they are: content that cannot be read is the evidence's and becomes
the file's ``error``; a scratch disk that is full or failing is ours and only skips the plugins,
with a warning naming them; a plugin's exception is the plugin's (dispatch.run_plugins).
"""

from __future__ import annotations

import hashlib
import heapq
import io
import os
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from triage.engine.dispatch import WAL_LIMIT, TargetMatcher, confirm_candidates, run_plugins
from triage.engine.results import (
    FileResult,
    FoundRecord,
    Origin,
    PluginOutcome,
    TriageWarning,
    batch_path,
    next_batch,
    origin,
    write_batch,
)
from triage.engine.stall import NO_HEARTBEAT, Heartbeat
from triage.errors import SourceUnreadable, TriageError
from triage.keywords.match import KeywordSet
from triage.keywords.records import ENGINE_NAME as KEYWORDS_NAME
from triage.keywords.records import VERSION as KEYWORDS_VERSION
from triage.keywords.scan import FileSearch
from triage.plugin.contract import ParseContext, Plugin
from triage.plugin.item import FileItem, RelatedFile, path_pattern
from triage.plugin.records import Record, SourceRef, record_json
from triage.plugin.scratch import Scratch, ScratchFull, write_sparse
from triage.sources.carve import CarvedSource
from triage.sources.entry import FileEntry, Source
from triage.sources.filetype import HEAD_SIZE, extension_mismatch, sniff_mime
from triage.sources.nested import Members, NestedSource, chain_of, damaged_stream, sniff_archive

IN_MEMORY_LIMIT = 64 * 1024 * 1024  # bigger files a plugin wants are spooled to the scratch folder
SPILL_RECORDS = 5000  # a file's records kept in memory; beyond, they go to batch files (SpilledRecords)


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to read: its row's key, its entry, and the ``-wal``/``-shm``/``-journal`` files
    next to it (by suffix), which a SQLite plugin reads with it."""

    key: str
    entry: FileEntry
    siblings: dict[str, FileEntry]


class PathIndex:
    """Every file of the source by partition and path, for plugins' related files (FileItem.find).

    Built once from the walk (the entries are in memory already) and inherited by the workers.
    An exact path is a dictionary look-up; a glob scans the partition's paths in order.
    """

    def __init__(self, entries: Iterable[FileEntry], members: Members | None = None) -> None:
        #: the members of archives found in the evidence, as the walk found them (nested.py)
        self.members: Members = members or {}
        #: files carved from free space: (partition, path) -> image extents (triage/sources/carve.py)
        self.carved: dict[tuple[int | None, str], tuple[tuple[int, int], ...]] = {}
        self.files: dict[int | None, dict[str, FileEntry]] = {}
        for e in entries:
            if e.type == "file":
                self.files.setdefault(e.partition, {}).setdefault(e.path, e)
        self.sorted: dict[int | None, list[str]] = {}
        self.base: PathIndex | None = None  # looked in first (overlaid)

    def extended(self, entries: Iterable[FileEntry], members: Members) -> PathIndex:
        """This index with ``entries`` added (the members of archives), and ``members``."""
        out = PathIndex((), members)
        out.files = {partition: dict(paths) for partition, paths in self.files.items()}
        for e in entries:
            if e.type == "file":
                out.files.setdefault(e.partition, {}).setdefault(e.path, e)
        return out

    def overlaid(self, entries: Iterable[FileEntry], members: Members) -> PathIndex:
        """What :meth:`extended` gives, without copying this index: ``find`` looks here first,
        then in ``entries``, in one path order (a remote worker's view of one archive's members
        beside a walk of a million files, made per archive: triage/distributed/tasks.py)."""
        out = PathIndex(entries, members)
        out.base = self
        return out

    def find(self, partition: int | None, pattern: str) -> Iterator[FileEntry]:
        if self.base is None:
            return self._find(partition, pattern)
        base = self.base.files.get(partition, {})
        if not any(c in pattern for c in "*?"):
            return self.base._find(partition, pattern) if pattern in base else self._find(partition, pattern)
        own = (e for e in self._find(partition, pattern) if e.path not in base)
        return heapq.merge(self.base._find(partition, pattern), own, key=lambda e: e.path)

    def _find(self, partition: int | None, pattern: str) -> Iterator[FileEntry]:
        files = self.files.get(partition, {})
        if not any(c in pattern for c in "*?"):
            if pattern in files:
                yield files[pattern]
            return
        if partition not in self.sorted:
            self.sorted[partition] = sorted(files)
        rx = path_pattern(pattern)
        for path in self.sorted[partition]:
            if rx.fullmatch(path):
                yield files[path]


class Spool:
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


class SpilledRecords:
    """One file's records as the plugins yield them: in memory up to :data:`SPILL_RECORDS`, then
    published in batches of files in the run's spill folder (results.write_batch).

    So a database of a million messages costs a batch of memory in the worker and in the run,
    not a million records in each (and the pickled copy between them). The run stores each batch
    as soon as it is published, while the worker goes on reading the file (published.py:
    ``Published.store_ready``), or else with the file's result; then it removes the files. A batch
    holds ``marshal`` data (a header saying which file, lists of field tuples), never code or
    pickles, and only one plugin's records: a plugin that says "not my format" after some of
    its batches were published withdraws those batches (``dropped``), which the run then takes
    back out of the store.
    """

    def __init__(self, spill_dir: Path | None, plugin: str, version: str, header: Origin) -> None:
        self.spill_dir = spill_dir  # None: never spilled (a processor made outside a run)
        self.header = header  # which file the batches are of
        self.plugin = plugin
        self.version = version
        self.kept: list[tuple[str, str, str, str | None, str]] = []
        self.batches: list[Path] = []
        self.dropped: list[Path] = []
        self._stem: str | None = None  # the batch files' common prefix, made at the first batch
        self._mark = (0, 0)  # where the current plugin's records start: (batches, kept)

    def for_plugin(self, plugin: Plugin) -> SpilledRecords:
        """Start a plugin's records (the sink dispatch.run_plugins hands them to)."""
        self.plugin, self.version = plugin.name, plugin.version
        self._mark = (len(self.batches), len(self.kept))
        return self

    def add(self, record: Record) -> None:
        self.kept.append(
            (
                self.plugin,
                self.version,
                type(record).record_type,
                record.locator,
                record_json(record),
            )
        )
        if len(self.kept) >= SPILL_RECORDS and self.spill_dir is not None:
            self._flush()

    def _flush(self) -> None:
        batches, kept = self._mark
        if kept and len(self.batches) == batches:
            # The earlier plugins' records still in memory go in a batch of their own, so that
            # this plugin's batches can be withdrawn without them.
            earlier, self.kept = self.kept[:kept], self.kept[kept:]
            self._publish(earlier)
            self._mark = (len(self.batches), 0)
        self._publish(self.kept)
        self.kept = []

    def _publish(self, rows: list[tuple[str, str, str, str | None, str]]) -> None:
        assert self.spill_dir is not None
        if self._stem is None:
            fd, name = tempfile.mkstemp(dir=self.spill_dir, prefix="f", suffix=".file")
            os.close(fd)  # reserves the prefix; the run removes it with the batches (batch_stem)
            self._stem = name
        path = Path(batch_path(self._stem, len(self.batches) + len(self.dropped)))
        write_batch(path, self.header, rows)
        self.batches.append(path)

    def drop(self) -> None:
        """Forget the current plugin's records (NotMyFormat), keeping the earlier plugins'."""
        batches, kept = self._mark
        if len(self.batches) == batches:  # nothing published since the mark
            del self.kept[kept:]
            return
        self.dropped.extend(self.batches[batches:])  # the run takes back what it stored of them
        del self.batches[batches:]
        self.kept = []  # (kept was 0 at the mark's first batch)

    def finish(self) -> tuple[tuple[FoundRecord, ...], tuple[str, ...], tuple[str, ...]]:
        """(records in memory, batch files holding the records instead, batch files withdrawn)."""
        if self.batches and self.kept:
            self._publish(self.kept)
            self.kept = []
        dropped = tuple(map(str, self.dropped))
        if not self.batches:
            return tuple(FoundRecord(*r) for r in self.kept), (), dropped
        return (), tuple(map(str, self.batches)), dropped

    def discard(self) -> None:
        for path in (*self.batches, *self.dropped):
            path.unlink(missing_ok=True)
        if self._stem is not None:
            Path(self._stem).unlink(missing_ok=True)
        self.batches, self.dropped, self._stem = [], [], None


def _declines(plugin: Plugin, head: bytes, entry: FileEntry, warnings: list[TriageWarning]) -> bool:
    """Whether ``plugin``'s Plugin.claims rules the file out. Not asked of a plugin with a SQLite
    signature (the schema decides for it, with its own warnings). A ``claims`` that raises is
    the plugin's failure, never the evidence's: a warning with the traceback, and the file is
    given to the plugin's ``parse`` as if claimed."""
    if plugin.targets.sqlite is not None:
        return False
    try:
        return not plugin.claims(head, entry.size)
    except Exception as exc:  # recorded, not swallowed
        warnings.append(
            TriageWarning(
                plugin.name,
                entry.path,
                f"plugin's claims failed: {type(exc).__name__}: {exc}; the file was given to its parse",
                "".join(traceback.format_exception(exc)),
            )
        )
        return False


def _with_declined(
    outcomes: tuple[PluginOutcome, ...], offered: Sequence[Plugin], declined: Sequence[Plugin]
) -> tuple[PluginOutcome, ...]:
    """``outcomes`` (of the plugins given the file) and a not-my-format for each plugin in
    ``declined`` (its Plugin.claims ruled the file out), in the order the plugins were offered,
    as if each had been run."""
    ran = {o.plugin: o for o in outcomes}
    merged = []
    for p in offered:
        if p in declined:
            merged.append(PluginOutcome(p.name, p.version, "not-my-format"))
        elif p.name in ran:
            merged.append(ran.pop(p.name))
    return (*merged, *ran.values())


def _opener(data: bytes | Path) -> Callable[[], BinaryIO]:
    if isinstance(data, Path):
        return lambda: open(data, "rb")
    return lambda: io.BytesIO(data)


def _not_given(path: str, plugins: Sequence[Plugin], exc: Exception) -> TriageWarning:
    """Which plugins did not see ``path`` and why (the scratch cap, or a scratch disk error)."""
    names = ", ".join(p.name for p in plugins) or "none"
    if isinstance(exc, TriageError):
        why = f"{exc} (hint: {exc.hint})" if exc.hint else str(exc)
    else:
        why = f"cannot write its scratch copy: {type(exc).__name__}: {exc}"
    return TriageWarning(None, path, f"not given to plugin(s) {names}: {why}")


class FileProcessor:
    """Reads files of one evidence source for the run's plugins (one per worker process)."""

    def __init__(
        self,
        source: Source,
        exhibit: str,
        hashes: Sequence[str],
        plugins: Sequence[Plugin],
        index: PathIndex | None = None,
        heartbeat: Heartbeat = NO_HEARTBEAT,
        spill_dir: Path | None = None,
        keywords: KeywordSet | None = None,
    ) -> None:
        self.keywords = keywords  # terms searched in every file's bytes as it is read (triage/keywords)
        self.spill_dir = spill_dir  # where many records of one file go (None: kept in memory)
        self.heartbeat = heartbeat  # told of every chunk read, so a stalled read can be ended
        self.index = index  # the walk's files, for FileItem.find (None: plugins find nothing)
        if index is not None and index.carved:
            source = CarvedSource(source, index.carved)  # carved files are read from their extents
        if index is not None and index.members and not isinstance(source, NestedSource):
            # members of archives in the evidence are read from their archive (nested.py)
            source = NestedSource(source, members=index.members)
        self.source = source
        self.exhibit = exhibit
        self.hashes = tuple(hashes)
        self.plugins = tuple(plugins)
        self.matcher = TargetMatcher(p.targets for p in self.plugins)  # compiled once, asked per file
        self._bit = {id(p): 1 << i for i, p in enumerate(self.plugins)}

    def _wal(self, job: FileJob) -> bytes | None:
        """The content of the ``-wal`` the walk found beside the job's file (``b""`` when none),
        or None when a ``-journal`` with content is there or the ``-wal`` is over
        :data:`~triage.engine.dispatch.WAL_LIMIT` or unreadable: what
        :func:`~triage.engine.dispatch.confirm_candidates` reads the table names with. Read
        straight from the source, not spooled: it is small, and dropped at once."""
        journal = job.siblings.get("-journal")
        if journal is not None and journal.size > 0:
            return None
        wal = job.siblings.get("-wal")
        if wal is None or wal.size == 0:
            return b""
        if wal.size > WAL_LIMIT:
            return None
        try:
            return b"".join(self.source.read(wal))
        except Exception:  # any reader's failure: the scratch copy decides, and reports it
            return None

    def _named(self, path: str, candidates: Sequence[Plugin]) -> list[bool]:
        """Per candidate, whether one of its globs matches ``path`` (the file is named as its)."""
        named = self.matcher.named(path)
        return [bool(named & self._bit[id(p)]) for p in candidates]

    def process(self, job: FileJob, ctx: ParseContext, scratch: Scratch) -> FileResult:
        """Read ``job``'s file once: hashes, MIME type, and what the plugins it matches found."""
        entry = job.entry
        source = self.source
        if isinstance(source, NestedSource):
            source.use_scratch(scratch)  # archives are spooled within this chunk's budget
        digests = [hashlib.new(name) for name in self.hashes]
        warnings: list[TriageWarning] = []
        error: str | None = None
        head = b""
        mime: str | None = None
        sniffed: bytes | None = None  # the head ``mime`` was sniffed from
        spool: Spool | None = None
        candidates: list[Plugin] | None = None  # None: not asked yet (no content read)
        offered: list[Plugin] = []  # when some declined: the plugins whose targets accept the file
        declined: list[Plugin] = []  # those of them whose Plugin.claims ruled the file out
        warnings_before = len(source.warnings)
        size = 0
        spools: list[Spool] = []  # every scratch file made for this file, removed at the end
        tick = self.heartbeat.tick
        search = FileSearch(self.keywords) if self.keywords is not None else None
        keep_content = False  # the keyword search needs the content too (a document's text)
        try:
            try:
                for chunk in source.read(entry):
                    tick()
                    if not head:
                        head = chunk[:HEAD_SIZE]
                    for d in digests:
                        d.update(chunk)
                    size += len(chunk)
                    if search is not None:
                        search.feed(chunk)
                    if candidates is None:
                        mime, sniffed = sniff_mime(head), head  # libmagic once per file, on the head only
                        candidates = TargetMatcher.pick(
                            self.plugins, self.matcher.accepting(entry.path, head, mime)
                        )
                        # those the first bytes already rule out are not given the file at all
                        declined = [p for p in candidates if head and _declines(p, head, entry, warnings)]
                        if declined:
                            offered = candidates
                            candidates = [p for p in offered if p not in declined]
                        keep_content = search is not None and search.wants_content(head, entry.size)
                        if candidates or keep_content:
                            try:  # a scratch failure skips the plugins, never blames the evidence
                                spool = Spool(scratch, entry.path, entry.size > IN_MEMORY_LIMIT)
                            except (ScratchFull, OSError) as exc:
                                warnings.append(_not_given(entry.path, candidates, exc))
                                candidates, declined = [], []  # no outcome for any plugin, as before
                            else:
                                spools.append(spool)
                    if spool is not None:
                        try:
                            spool.add(chunk)
                        except (ScratchFull, OSError) as exc:  # keep hashing; only the plugins are skipped
                            warnings.append(_not_given(entry.path, candidates or [], exc))
                            spool.discard()
                            spool, candidates, declined = None, [], []
            # Broad on purpose, and recorded, not swallowed: whatever the reader of this kind of
            # evidence raises (libtsk, libewf, zipfile, tarfile, OSError) means the content cannot
            # be read in full; the entry is kept, with the reason as its ``error``.
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            warnings.extend(
                TriageWarning(None, entry.path, str(w)) for w in source.warnings[warnings_before:]
            )
            if sniffed is not head:  # no content, or the head was completed after the first (empty) chunk
                mime = sniff_mime(head)
            hexes = {name: d.hexdigest() for name, d in zip(self.hashes, digests, strict=True)}
            plugins: tuple[PluginOutcome, ...] = ()
            records: tuple[FoundRecord, ...] = ()
            spill: tuple[str, ...] = ()
            dropped: tuple[str, ...] = ()
            content = spool.finish() if spool is not None and error is None else None
            if candidates and spool is not None and content is not None:
                self.heartbeat.parsing()
                plugins, records, spill, dropped = self._run_plugins(
                    job,
                    hexes["sha256"],
                    head,
                    mime,
                    content,
                    candidates,
                    ctx,
                    scratch,
                    spools,
                    warnings,
                )
            if declined and error is None:
                plugins = _with_declined(plugins, offered, declined)
            if search is not None:
                records, spill = self._keyword_records(
                    search,
                    job.key,
                    entry,
                    hexes["sha256"],
                    content if keep_content else None,
                    head,
                    records,
                    spill,
                    dropped,
                    warnings,
                )
            archive = error is None and sniff_archive(head) is not None
            damage = None if archive or error is not None else damaged_stream(head)
            if damage is not None:  # a .tar.gz (or any compressed file) broken from its start
                warnings.append(
                    TriageWarning(None, entry.path, f"{damage}: whether it holds an archive cannot be told")
                )
            return FileResult(
                key=job.key,
                bytes_read=size,
                md5=hexes.get("md5"),
                sha1=hexes.get("sha1"),
                sha256=hexes.get("sha256"),
                mime=mime,
                ext_mismatch=extension_mismatch(entry.name, mime),
                error=error,
                plugins=plugins,
                records=records,
                warnings=tuple(warnings),
                spill=spill,
                dropped=dropped,
                archive=archive,
            )
        finally:
            for made in spools:
                made.discard()

    def _keyword_records(
        self,
        search: FileSearch,
        key: str,
        entry: FileEntry,
        sha256: str,
        content: bytes | Path | None,
        head: bytes,
        records: tuple[FoundRecord, ...],
        spill: tuple[str, ...],
        dropped: tuple[str, ...],
        warnings: list[TriageWarning],
    ) -> tuple[tuple[FoundRecord, ...], tuple[str, ...]]:
        """The plugins' records with the keyword hits of the file added (in a batch file of their
        own after the plugins' when the plugins' records went to batch files); the search's
        problems go to ``warnings``."""
        ref = SourceRef(
            item=self.exhibit,
            path=entry.path,
            sha256=sha256,
            partition=entry.partition,
            inode=entry.inode,
            stream=entry.stream,
            parent=self.parent_ref(entry),
        )
        rows, problems = search.finish(ref, content, head, entry.size)
        warnings.extend(TriageWarning(KEYWORDS_NAME, entry.path, p) for p in problems)
        found = [FoundRecord(KEYWORDS_NAME, KEYWORDS_VERSION, *row) for row in rows]
        if not spill or not found:
            return records + tuple(found), spill
        path = next_batch(spill, dropped)
        write_batch(
            Path(path),
            origin(key, entry, sha256),
            [tuple(getattr(r, n) for n in FoundRecord.__slots__) for r in found],
        )
        return records, (*spill, path)

    def _outermost(self, entry: FileEntry) -> tuple[int | None, str] | None:
        """The file of the evidence ``entry`` is inside (its outermost archive), or None.

        The related files a plugin finds for an archive's member are the evidence's files and
        the members of the same outermost archive, never another archive's (two phones' zips on
        one laptop are two phones); a remote worker reading one archive's members then sees
        exactly what a local run does (triage/distributed/tasks.py)."""
        if self.index is None or not self.index.members:
            return None
        chain = chain_of(self.index.members, entry)
        return (chain[-1][0].partition, chain[-1][0].path) if chain else None

    def parent_ref(self, entry: FileEntry) -> SourceRef | None:
        """The SourceRef of the archive ``entry`` is a member of (with its own parents), or None."""
        if self.index is None or not self.index.members:
            return None
        ref: SourceRef | None = None
        for archive, sha256 in reversed(chain_of(self.index.members, entry)):
            ref = SourceRef(
                item=self.exhibit,
                path=archive.path,
                sha256=sha256,
                partition=archive.partition,
                inode=archive.inode,
                stream=archive.stream,
                parent=ref,
            )
        return ref

    def _run_plugins(
        self,
        job: FileJob,
        sha256: str,
        head: bytes,
        mime: str | None,
        content: bytes | Path,
        candidates: list[Plugin],
        ctx: ParseContext,
        scratch: Scratch,
        spools: list[Spool],
        warnings: list[TriageWarning],
    ) -> tuple[tuple[PluginOutcome, ...], tuple[FoundRecord, ...], tuple[str, ...], tuple[str, ...]]:
        """The plugins' outcomes, records (or the batch files holding the records) and withdrawn
        batch files for the file; their warnings go to ``warnings``."""
        entry = job.entry
        source = self.source
        exhibit = self.exhibit
        ref = SourceRef(
            item=exhibit,
            path=entry.path,
            sha256=sha256,
            partition=entry.partition,
            inode=entry.inode,
            stream=entry.stream,
            parent=self.parent_ref(entry),
        )

        def read_other(other: FileEntry) -> FileItem | None:
            """Another file of the source (a ``-wal`` beside it, a related file a plugin found):
            streamed into a charged scratch spool while hashed (a 3 GB WAL never sits in
            memory); ScratchFull propagates to the caller."""
            spool = Spool(scratch, other.path, other.size > IN_MEMORY_LIMIT)
            spools.append(spool)
            digest = hashlib.sha256()
            length = 0
            heartbeat = self.heartbeat
            heartbeat.reading()
            try:
                for chunk in source.read(other):
                    heartbeat.tick()
                    digest.update(chunk)
                    length += len(chunk)
                    spool.add(chunk)
            except ScratchFull:
                raise
            # Broad on purpose (as for the file itself), and recorded: the plugin goes on without
            # the unreadable file, and its warnings say so.
            except Exception as exc:
                ctx.warn(f"{other.path} ignored: cannot read it: {type(exc).__name__}: {exc}")
                spool.discard()
                return None
            finally:
                heartbeat.parsing()
            return FileItem(
                source=SourceRef(
                    item=exhibit,
                    path=other.path,
                    sha256=digest.hexdigest(),
                    partition=other.partition,
                    inode=other.inode,
                    stream=other.stream,
                    parent=self.parent_ref(other),
                ),
                size=length,
                opener=_opener(spool.finish()),
            )

        def sibling(suffix: str) -> FileItem | None:
            other = job.siblings.get(suffix)
            return None if other is None else read_other(other)

        index = self.index

        def finder(pattern: str) -> Iterator[RelatedFile]:
            if index is None:
                return
            outermost = self._outermost(entry)
            for other in index.find(entry.partition, pattern):
                if other.path == entry.path:
                    continue
                if self._outermost(other) not in (None, outermost):
                    continue  # a member of another archive: not a related file of this one's

                def make(other: FileEntry = other) -> FileItem:
                    found = read_other(other)
                    if found is None:
                        raise SourceUnreadable(f"{self.source.name}: {other.path} cannot be read")
                    return found

                yield RelatedFile(other.path, other.size, other.deleted, make)

        item = FileItem(
            source=ref,
            size=entry.size,
            opener=_opener(content),
            head=head,
            mime=mime,
            siblings=sibling,
            finder=finder,
        )
        outcomes: list[PluginOutcome] = []
        found = SpilledRecords(self.spill_dir, "", "", origin(job.key, entry, sha256))
        kept: tuple[FoundRecord, ...] = ()
        spill: tuple[str, ...] = ()
        dropped: tuple[str, ...] = ()
        try:
            try:
                chosen = confirm_candidates(
                    item,
                    candidates,
                    ctx,
                    lambda: self._named(entry.path, candidates),
                    lambda: self._wal(job),
                )
            except ScratchFull as exc:
                warnings.append(_not_given(entry.path, candidates, exc))
                return (), (), (), ()
            if chosen:
                for run in run_plugins(item, chosen, ctx, found.for_plugin).runs:
                    outcomes.append(PluginOutcome(run.plugin, run.version, run.outcome))
                    warnings.extend(
                        TriageWarning(w.plugin, w.path, w.text, w.traceback) for w in run.warnings
                    )
            kept, spill, dropped = found.finish()
        except BaseException:
            found.discard()
            raise
        finally:
            scratch.release(item)
            # warnings about the file itself, before any plugin ran
            warnings.extend(
                TriageWarning(w.plugin or None, w.path or entry.path, w.text, w.traceback)
                for w in ctx.warnings
            )
            ctx.warnings.clear()
        return tuple(outcomes), kept, spill, dropped
