"""Choosing the plugins for a file and running them so one failure never stops a triage run.

Matching goes from cheap to dear: glob on the path, MIME type sniffed from the first bytes, magic
bytes; then, for a plugin that passes one of those and declares a SQLite signature, the table
names read from the file itself (:mod:`triage.sources.sqlite_schema`), and only when they could
fit, a scratch copy of the database, whose copy and schema are shared by every plugin looking at
the same file.

Running collects, per plugin, the records, warnings and an outcome (``ok``, ``not-my-format``,
``failed``). A plugin's exception on one file becomes a warning carrying the traceback and the run
goes on with the next plugin: an execution report must say what failed and why, rather than a
crashed run or, worse, silence that reads as "no data".
"""

from __future__ import annotations

import functools
import re
import sqlite3
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from triage.plugin.contract import NotMyFormat, ParseContext, ParseWarning, Plugin, Targets
from triage.plugin.item import FileItem
from triage.plugin.records import Record
from triage.plugin.scratch import SQLITE_HEADER
from triage.sources.sqlite_schema import table_names

__all__ = [
    "WAL_LIMIT",
    "DispatchResult",
    "PluginRun",
    "TargetMatcher",
    "cheap_match",
    "confirm_candidates",
    "glob_matches",
    "library_warnings",
    "match_plugins",
    "run_plugins",
]

Outcome = Literal["ok", "not-my-format", "failed"]

#: A ``-wal`` larger than this is not read for the table names: the scratch copy decides.
WAL_LIMIT = 4 * 1024 * 1024


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob to a regex: ``**`` spans directories, ``*``/``?`` stay inside one."""
    out: list[str] = []
    i = 0
    p = pattern.replace("\\", "/")
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = p.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = p[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    regex = "".join(out)
    if not (p.startswith("/") or p.startswith("**")):  # unanchored: treat as relative to the root
        regex = "/" + regex
    return re.compile(regex + r"\Z", re.IGNORECASE | re.DOTALL)


def glob_matches(pattern: str, path: str) -> bool:
    """Case-insensitive glob match of a whole path from the file-system root.

    ``/data/*/mmssms.db`` matches one directory level; ``**/History`` matches ``/History`` and
    any ``.../History``. Backslashes in ``path`` are treated as separators.
    """
    return _glob_regex(pattern).match(_normalised(path)) is not None


class TargetMatcher:
    """The cheap targets (globs, MIME types, magic) of several plugins, compiled once.

    The one place that decides whether a file is a plugin's *candidate*: :func:`cheap_match` and
    :func:`match_plugins` use it, and the engine builds one per worker for the run's plugins and
    asks it about every file (most match nothing, so the question must be cheap). Each distinct
    magic signature is compared once for all plugins, the MIME types are one dict look-up, and
    each plugin's globs are one regex (the alternation of their :func:`glob_matches` translations).

    Answers are bit masks over the ``targets`` given, in order: bit ``i`` is set when
    ``targets[i]`` accepts the file; :meth:`pick` turns a mask back into the plugins.
    """

    def __init__(self, targets: Iterable[Targets]) -> None:
        self._globs: list[tuple[int, re.Pattern[str]]] = []  # (bit, one regex of all its globs)
        self._regex: dict[int, re.Pattern[str]] = {}  # bit -> that regex
        # Which targets' globs could match a file, from its base name alone (most globs end in a
        # literal name or ``*.ext``): a file named so that no glob's last part fits is answered
        # without a regex. The regex still decides for the targets the name lets through.
        self._by_name: dict[str, int] = {}  # lower-case base name -> bits (last part a literal)
        self._by_ext: dict[str, int] = {}  # lower-case ".ext" -> bits (last part ``*.ext``)
        self._by_suffix: list[tuple[str, int]] = []  # (lower-case suffix, bits): last part ``*literal``
        self._any_name = 0  # bits with a glob whose last part is any other pattern: always asked
        self._glob_bits = 0
        magic: dict[tuple[int, bytes], int] = {}
        self._mimes: dict[str, int] = {}
        self._magic_bits = self._mime_bits = 0  # the targets that declare any magic, any MIME type
        for i, t in enumerate(targets):
            bit = 1 << i
            if t.globs:
                alternation = "|".join(f"(?:{_glob_regex(g).pattern})" for g in t.globs)
                rx = re.compile(alternation, re.IGNORECASE | re.DOTALL)
                self._globs.append((bit, rx))
                self._regex[bit] = rx
                self._glob_bits |= bit
                for g in t.globs:
                    self._index_last_part(g, bit)
            for off, sig in t.magic:
                magic[(off, sig)] = magic.get((off, sig), 0) | bit
                self._magic_bits |= bit
            for m in t.mime_types:
                self._mimes[m.lower()] = self._mimes.get(m.lower(), 0) | bit
                self._mime_bits |= bit
        self._magic = [(off, off + len(sig), sig, bits) for (off, sig), bits in magic.items()]

    def _index_last_part(self, glob: str, bit: int) -> None:
        """File ``glob`` under what its last path part requires of a base name (see __init__)."""
        last = glob.replace("\\", "/").rsplit("/", 1)[-1]
        wild = "*?[]\\"
        if not last.isascii() or not last or last.startswith("**"):
            self._any_name |= bit
        elif not any(c in wild for c in last):
            self._by_name[last.lower()] = self._by_name.get(last.lower(), 0) | bit
        elif last[0] == "*" and not any(c in wild for c in last[1:]):
            suffix = last[1:].lower()
            if suffix.startswith(".") and "." not in suffix[1:]:
                self._by_ext[suffix] = self._by_ext.get(suffix, 0) | bit
            else:
                self._by_suffix.append((suffix, bit))
        else:
            self._any_name |= bit

    def _name_bits(self, norm: str) -> int:
        """The targets whose globs' last parts may fit the base name of ``norm`` (a superset)."""
        name = norm[norm.rfind("/") + 1 :]
        if not name.isascii():  # case-insensitive regex matching beyond ASCII: leave it to the regexes
            return self._glob_bits
        name = name.lower()
        bits = self._any_name | self._by_name.get(name, 0)
        dot = name.rfind(".")
        if dot != -1:
            bits |= self._by_ext.get(name[dot:], 0)
        for suffix, bit in self._by_suffix:
            if name.endswith(suffix):
                bits |= bit
        return bits

    def accepting(self, path: str, head: bytes, mime: str | None) -> int:
        """The targets whose cheap filters accept a file: its ``path``, first bytes and MIME type."""
        hit = self._mime_hits(mime) | self._magic_hits(head)
        return hit | self._glob_hits(path, hit)

    def accepting_item(self, item: FileItem) -> int:
        """:meth:`accepting` for ``item``, reading its head and sniffing its MIME type only when a
        target that globs did not already accept declares magic, or MIME types."""
        hit = self._glob_hits(item.path, 0)
        if self._magic_bits & ~hit:
            hit |= self._magic_hits(item.head)
        if self._mime_bits & ~hit:
            hit |= self._mime_hits(item.mime)
        return hit

    def named(self, path: str) -> int:
        """The targets one of whose globs matches ``path`` (the file is *named* as what they read)."""
        return self._glob_hits(path, 0)

    @staticmethod
    def pick(plugins: Sequence[Plugin], mask: int) -> list[Plugin]:
        """The plugins of ``mask`` (``plugins`` in the order of the targets compiled)."""
        picked = []
        while mask:  # the set bits only, lowest first
            low = mask & -mask
            picked.append(plugins[low.bit_length() - 1])
            mask ^= low
        return picked

    def _mime_hits(self, mime: str | None) -> int:
        return self._mimes.get(mime.lower(), 0) if mime else 0

    def _magic_hits(self, head: bytes) -> int:
        hit = 0
        for off, end, sig, bits in self._magic:
            if head[off:end] == sig:
                hit |= bits
        return hit

    def _glob_hits(self, path: str, known: int) -> int:
        """The targets not in ``known`` whose globs match ``path``."""
        ask = self._glob_bits & ~known
        if not ask:
            return 0
        norm = _normalised(path)
        ask &= self._name_bits(norm)
        hit = 0
        while ask:
            bit = ask & -ask
            ask ^= bit
            if self._regex[bit].match(norm) is not None:
                hit |= bit
        return hit


def _normalised(path: str) -> str:
    """``path`` as globs see it: ``/`` separators, one leading ``/``."""
    return "/" + path.replace("\\", "/").lstrip("/")


def cheap_match(targets: Targets, item: FileItem) -> bool:
    """True when any cheap filter (glob, MIME type, magic) of ``targets`` accepts ``item``."""
    return TargetMatcher((targets,)).accepting_item(item) != 0


def match_plugins(item: FileItem, plugins: Sequence[Plugin], ctx: ParseContext) -> list[Plugin]:
    """The plugins whose targets accept ``item``, in the order given.

    SQLite signatures are checked last and only for cheap candidates, against the schema of the
    scratch copy (WAL applied), read once per file. A file that is not a readable database simply
    does not match a SQLite plugin, except that a file *named* as the plugin's database (one of
    its globs matches) is not passed over silently: ``ctx`` gets a warning naming the plugin, the
    file and the problem, because a damaged ``mmssms.db`` read as "no messages" is wrong evidence.
    """
    matcher = TargetMatcher(p.targets for p in plugins)
    cheap = matcher.accepting_item(item)
    candidates = TargetMatcher.pick(plugins, cheap)

    def named() -> list[bool]:
        bits = matcher.named(item.path)
        return [bool(bits >> i & 1) for i in range(len(plugins)) if cheap >> i & 1]

    return confirm_candidates(item, candidates, ctx, named)


def confirm_candidates(
    item: FileItem,
    candidates: Sequence[Plugin],
    ctx: ParseContext,
    named: Callable[[], Sequence[bool]],
    wal: Callable[[], bytes | None] | None = None,
) -> list[Plugin]:
    """Of ``candidates`` (plugins whose cheap targets accept ``item``, as :class:`TargetMatcher`
    found), those whose SQLite signature, if they declare one, the file's schema meets: the second
    half of :func:`match_plugins`, for a caller that already asked a matcher (the engine).

    ``named()`` says, per candidate, whether one of its globs matches the file's path (asked only
    when a signature is not met). The schema is read at most once, and only from a file whose
    first bytes are SQLite's: a file that is not a database costs no scratch copy.

    Before that copy, the table names are read from the file itself
    (:func:`triage.sources.sqlite_schema.table_names`): when no SQLite candidate's tables are all
    there and no such candidate is named by the file's path (which would earn a warning worded
    from SQLite's own reading), those candidates are dropped with no copy and no connection, as
    the copy's schema would have dropped them. ``wal()`` gives the content of the file's ``-wal``
    (``b""`` when none), whose frames may hold newer schema pages, or ``None`` when the file's
    siblings could change the schema in a way not read here (a ``-journal`` with content, a
    ``-wal`` over :data:`WAL_LIMIT`): then the copy decides. By default it asks ``item.sibling``,
    which an engine's item answers by spooling the sibling, so the engine passes its own.
    """
    if _ruled_out_by_names(item, candidates, named, wal):
        return [p for p in candidates if p.targets.sqlite is None]
    chosen: list[Plugin] = []
    flags: Sequence[bool] | None = None
    schema: dict[str, frozenset[str]] | None = None
    problem: str | None = None
    asked = False
    for i, plugin in enumerate(candidates):
        targets = plugin.targets
        if targets.sqlite is not None:
            if not asked:
                schema, problem = _schema(item, ctx)
                asked = True
            if schema is None or not targets.sqlite.matches(schema):
                if flags is None:
                    flags = named()
                if flags[i]:
                    lacking = "; ".join(targets.sqlite.missing(schema or {}))
                    why = problem or f"it lacks the tables and columns the plugin reads: {lacking}"
                    ctx.warnings.append(
                        ParseWarning(plugin.name, item.path, f"database skipped by {plugin.name}: {why}")
                    )
                continue
        chosen.append(plugin)
    return chosen


def _ruled_out_by_names(
    item: FileItem,
    candidates: Sequence[Plugin],
    named: Callable[[], Sequence[bool]],
    wal: Callable[[], bytes | None] | None,
) -> bool:
    """True when the file's own table names show that no SQLite candidate can match and none is
    named by the path; False whenever SQLite must be asked (see :func:`confirm_candidates`)."""
    wanted = [(i, p.targets.sqlite) for i, p in enumerate(candidates) if p.targets.sqlite is not None]
    if not wanted or not item.head.startswith(SQLITE_HEADER):
        return False
    try:
        content = _sibling_wal(item) if wal is None else wal()
        if content is None:
            return False
        with item.open() as fh:
            size = fh.seek(0, 2)
            names = table_names(fh, size, content)
    except OSError:
        return False
    if names is None:
        return False
    lowered = {n.lower() for n in names}
    for _i, signature in wanted:
        if all(t.lower() in lowered for t in signature.tables):
            return False
    flags = named()
    return not any(flags[i] for i, _s in wanted)


def _sibling_wal(item: FileItem) -> bytes | None:
    """``item``'s ``-wal`` content (``b""`` when none), or None when a ``-journal`` with content
    lies beside it or the ``-wal`` is over :data:`WAL_LIMIT` (see :func:`confirm_candidates`)."""
    journal = item.sibling("-journal")
    if journal is not None and journal.size > 0:
        return None
    other = item.sibling("-wal")
    if other is None or other.size == 0:
        return b""
    return other.read_all() if other.size <= WAL_LIMIT else None


def _schema(item: FileItem, ctx: ParseContext) -> tuple[dict[str, frozenset[str]] | None, str | None]:
    """The scratch copy's schema, or ``None`` and why not."""
    if not item.head.startswith(SQLITE_HEADER):
        if not item.head:
            return None, "an empty file (0 bytes), not a SQLite 3 database"
        if not item.head.strip(b"\x00"):
            return None, f"not a SQLite 3 database: its first {len(item.head)} bytes are all zero"
        return None, f"not a SQLite 3 database (its first bytes are {item.head[:16].hex()})"
    try:
        return ctx.scratch.sqlite_schema(item), None
    except sqlite3.DatabaseError as exc:  # nor are its deleted records searched (found in review)
        return None, (
            f"unreadable SQLite database: {exc}; neither its rows nor its deleted records were read "
            "(copy it out with 'exhibit export' for a repair tool)"
        )


@dataclass
class PluginRun:
    """What one plugin did with one file."""

    plugin: str
    version: str
    outcome: Outcome
    records: list[Record] = field(default_factory=list)  # empty when run_plugins was given a sink
    warnings: list[ParseWarning] = field(default_factory=list)
    count: int = 0  # records kept (in ``records`` or the sink)


@dataclass
class DispatchResult:
    """Every plugin run on one file, in order; the engine stamps records with ``run.plugin``."""

    path: str
    runs: list[PluginRun] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [r for run in self.runs for r in run.records]

    @property
    def warnings(self) -> list[ParseWarning]:
        return [w for run in self.runs for w in run.warnings]

    @property
    def failed(self) -> list[str]:
        return [run.plugin for run in self.runs if run.outcome == "failed"]


class RecordSink(Protocol):
    """Where one plugin's records go as they are yielded (the engine's streams them to its store)."""

    def add(self, record: Record) -> None: ...

    def drop(self) -> None:
        """Forget every record added: the plugin said the file is not its format after all."""


class _Kept:
    """The default sink: the records in the plugin run's list."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records

    def add(self, record: Record) -> None:
        self.records.append(record)

    def drop(self) -> None:
        self.records.clear()


class _LibraryWarnings:
    """Python warnings a library raises while a plugin reads a file (Pillow's "Truncated File
    Read" or "Corrupt EXIF data", a parser's note on a malformed header), kept as that plugin's
    warnings for that file instead of lines printed on the examiner's terminal with no file named.

    Installed once per process (again if something, such as a test's ``catch_warnings``, put the
    previous hook back): a ``showwarning`` that keeps what is shown while a plugin runs and
    passes the rest on, and an ``always`` filter at the end of the list, so the second file that
    raises the same warning gets it too (Python's default shows one once per place in the code).
    Filters set before it (``ignore`` for deprecations, ``-W``, ``PYTHONWARNINGS``) still apply.
    """

    def __init__(self) -> None:
        self.kept: list[str] | None = None  # while a plugin runs
        self._shown: Callable[..., object] | None = None

    def _show(self, message: Warning | str, category: type[Warning], filename: str, lineno: int,
              file: object = None, line: str | None = None) -> None:  # fmt: skip
        if self.kept is None:
            if self._shown is not None:
                self._shown(message, category, filename, lineno, file, line)
            return
        self.kept.append(f"{_library(filename)} warned: {message} ({category.__name__})")

    def start(self) -> None:
        if warnings.showwarning != self._show:
            self._shown = warnings.showwarning
            warnings.showwarning = self._show
            warnings.filterwarnings("always", append=True)
        self.kept = []

    def stop(self) -> list[str]:
        """The warnings kept since :meth:`start`, each once with how many times it came."""
        kept, self.kept = self.kept or [], None
        if not kept:
            return []
        counts: dict[str, int] = {}
        for text in kept:
            counts[text] = counts.get(text, 0) + 1
        return [text if n == 1 else f"{text}, {n} times" for text, n in counts.items()]


def _library(filename: str) -> str:
    """The package a warning came from, by its file: ``.../site-packages/PIL/Image.py`` -> ``PIL``."""
    parts = filename.replace("\\", "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts[:-1]:
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return parts[-1].removesuffix(".py") or "a library"


#: The process's keeper of library warnings (:class:`_LibraryWarnings`).
library_warnings = _LibraryWarnings()


def run_plugins(
    item: FileItem,
    plugins: Iterable[Plugin],
    ctx: ParseContext,
    sink: Callable[[Plugin], RecordSink] | None = None,
) -> DispatchResult:
    """Run each plugin on ``item``, isolating failures.

    - ``NotMyFormat`` -> outcome ``not-my-format``, no records, no warning.
    - any other exception -> outcome ``failed`` and a warning with the traceback; records yielded
      before the failure are kept (they were read correctly) and the warning says how many.
    - a record of a type the plugin does not declare in ``emits`` is dropped with a warning.
    - a Python warning a library raises during the run becomes the plugin's warning for the file
      (:class:`_LibraryWarnings`), not a line on the terminal.

    Records go to ``sink(plugin)`` as they are yielded when a sink is given (nothing is kept in
    ``PluginRun.records``: a million-row table is never a list here), else to ``records``.
    ``PluginRun.count`` is the number of records kept either way.
    """
    result = DispatchResult(path=item.path)
    for plugin in plugins:
        pctx = ctx.for_plugin(plugin.name, item)
        run = PluginRun(plugin=plugin.name, version=plugin.version, outcome="ok")
        out: RecordSink = _Kept(run.records) if sink is None else sink(plugin)
        allowed = tuple(plugin.emits)
        count = 0
        library_warnings.start()
        try:
            for record in plugin.parse(item, pctx):
                if not isinstance(record, allowed):
                    pctx.warn(f"dropped a {type(record).__name__}: not in the plugin's declared 'emits'")
                    continue
                out.add(record)
                count += 1
        except NotMyFormat:
            run.outcome = "not-my-format"
            out.drop()
            count = 0
        except Exception as exc:  # the plugin's failure, not the run's: recorded with its traceback
            run.outcome = "failed"
            pctx.warnings.append(
                ParseWarning(
                    plugin=plugin.name,
                    path=item.path,
                    message=f"plugin failed after {count} record(s): {type(exc).__name__}: {exc}",
                    traceback="".join(traceback.format_exception(exc)),
                )
            )
        finally:  # also when the run itself is ending (an interrupt): warnings print again after
            kept = library_warnings.stop()
        if run.outcome != "not-my-format":  # a library's words on a file the plugin declined: not news
            for text in kept:
                pctx.warn(text)
        run.count = count
        run.warnings = list(pctx.warnings)
        result.runs.append(run)
    return result
