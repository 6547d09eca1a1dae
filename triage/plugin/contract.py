"""The plugin contract: what a plugin declares, what it is handed, and how it reports.

A plugin is a class that *declares* its inputs (:class:`Targets`) and outputs (``emits``) as class
attributes, so the dispatcher, the ``plugins list`` command, the docs and the registry test can
read them without running any code, and implements one method::

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]

Plugins never write anything: they yield records and call :meth:`ParseContext.warn`; the engine
stores records, stamps them with the plugin's name and version and records the derivation in the
custody ledger. A file that turns out not to be the plugin's format is not a failure: the plugin
raises :class:`NotMyFormat` and the run moves on without a warning. Any other exception is a
failure of that plugin on that file, which the dispatcher turns into a warning.

The engine hands content as a :class:`FileItem`: the file may live inside a disk image, so a
plugin reads through ``open()``/``read_all()`` and never assumes a path on the host.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from triage.plugin.item import HEAD_SIZE, FileItem
from triage.plugin.options import Option, PluginOptions
from triage.plugin.records import RECORD_TYPE_PATTERN, Record
from triage.plugin.scratch import SQLITE_HEADER, Scratch

__all__ = [
    "HEAD_SIZE",
    "SQLITE_MAGIC",
    "FileItem",
    "NotMyFormat",
    "ParseContext",
    "ParseWarning",
    "Plugin",
    "SqliteSignature",
    "Targets",
    "plugin_problems",
    "select_list",
    "table_columns",
]


class NotMyFormat(Exception):
    """Raised by ``parse`` when the file is not in the plugin's format: not a failure, no warning."""


# --- declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqliteSignature:
    """Tables a database must have, each with (at least) the given columns: a subset match.

    Declare only what the plugin's queries need, so later app versions that add columns or
    tables still match.
    """

    tables: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, **tables: str | tuple[str, ...] | frozenset[str]) -> SqliteSignature:
        """Build from keyword arguments: ``SqliteSignature.of(sms=("_id", "date"))``."""
        return cls({t: frozenset((c,) if isinstance(c, str) else c) for t, c in tables.items()})

    def matches(self, schema: Mapping[str, frozenset[str]]) -> bool:
        """True when every required table exists with every required column (case-insensitive)."""
        lowered = {t.lower(): frozenset(c.lower() for c in cols) for t, cols in schema.items()}
        for table, cols in self.tables.items():
            have = lowered.get(table.lower())
            if have is None or not {c.lower() for c in cols} <= have:
                return False
        return True

    def missing(self, schema: Mapping[str, frozenset[str]]) -> list[str]:
        """What ``schema`` lacks of the signature, table by table: ``raw_contacts`` (a table
        missing, with the columns wanted of it) or ``data: no column mimetype_id``."""
        lowered = {t.lower(): frozenset(c.lower() for c in cols) for t, cols in schema.items()}
        found = []
        for table, cols in sorted(self.tables.items()):
            have = lowered.get(table.lower())
            if have is None:
                found.append(f"table {table}({', '.join(sorted(cols))})")
            elif lacking := sorted(c for c in cols if c.lower() not in have):
                found.append(f"{table}: no column {', '.join(lacking)}")
        return found

    def to_dict(self) -> dict[str, list[str]]:
        return {t: sorted(c) for t, c in sorted(self.tables.items())}


@dataclass(frozen=True)
class Targets:
    """Which files a plugin wants.

    A file is a *candidate* when any cheap filter matches: one of the ``globs`` (case-insensitive,
    anchored at the file-system root: ``/data/**/mmssms.db`` or ``**/History``), one of the sniffed
    ``mime_types``, or one of the ``magic`` byte strings at its offset. When ``sqlite`` is set, a
    candidate must in addition be a SQLite database with that schema; the dispatcher checks it
    last, once per file, on the scratch copy. Declare magic for self-identifying formats so renamed
    or extracted files are still found; globs alone miss them.
    """

    globs: tuple[str, ...] = ()
    mime_types: tuple[str, ...] = ()
    magic: tuple[tuple[int, bytes], ...] = ()
    sqlite: SqliteSignature | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for ``exhibit plugins list --json`` and the docs."""
        return {
            "globs": list(self.globs),
            "mime_types": list(self.mime_types),
            "magic": [{"offset": off, "hex": sig.hex()} for off, sig in self.magic],
            "sqlite": self.sqlite.to_dict() if self.sqlite else None,
        }


#: Magic of every SQLite 3 database, for plugins' ``Targets.magic``.
SQLITE_MAGIC: tuple[int, bytes] = (0, SQLITE_HEADER)


# --- what a plugin is handed ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParseWarning:
    """Something a plugin (or the dispatcher on its behalf) wants the examiner to know."""

    plugin: str
    path: str
    message: str
    locator: str | None = None
    traceback: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "plugin": self.plugin,
            "path": self.path,
            "message": self.message,
            "locator": self.locator,
            "traceback": self.traceback,
        }

    @property
    def text(self) -> str:
        """The message with the row or part it is about, as the run stores and prints it (found
        in review: the locator a plugin gave was lost on the way to the examiner)."""
        if not self.locator or self.locator in self.message:
            return self.message
        return f"{self.message} (at {self.locator})"


@dataclass
class ParseContext:
    """The only side channel a plugin has: warnings, scratch space, safe SQLite access.

    One context per (plugin, file) run: :meth:`for_plugin` derives it from the engine's context
    and shares the :class:`~triage.plugin.scratch.Scratch` area, so a database is copied once per file
    however many plugins read it.
    """

    scratch: Scratch
    plugin: str = ""
    path: str = ""
    warnings: list[ParseWarning] = field(default_factory=list)
    #: this plugin's option values (``--option PLUGIN.NAME=VALUE``), typed as it declared them
    options: Mapping[str, Any] = field(default_factory=dict)
    #: every plugin's values: the engine's context holds them, for_plugin() hands each its own
    run_options: PluginOptions | None = None

    @property
    def scratch_dir(self) -> Path:
        """A private writable folder, removed with the scratch area; never inside the evidence."""
        return self.scratch.dir

    def warn(self, message: str, *, locator: str | None = None) -> None:
        """Record a problem (a bad row, an unreadable field) and carry on."""
        self.warnings.append(ParseWarning(self.plugin, self.path, message, locator))

    def open_sqlite(self, item: FileItem) -> sqlite3.Connection:
        """A read-only connection on a scratch copy of ``item`` with its WAL applied.

        Raises :class:`NotMyFormat` when the file is not a SQLite 3 database. Rows come back as
        :class:`sqlite3.Row`. The connection is closed with the scratch area.
        """
        if not item.head.startswith(SQLITE_HEADER):
            raise NotMyFormat(f"{item.path} is not a SQLite 3 database")
        copy = self.scratch.sqlite_copy(item)
        if copy.wal_size and not copy.wal_frames:
            self.warn(f"-wal of {copy.wal_size} bytes held no committed frame: nothing replayed")
        return self.scratch.open_sqlite(item)

    def for_plugin(self, plugin: str, item: FileItem) -> ParseContext:
        """A context for one plugin on one file, sharing this context's scratch area."""
        mine = self.run_options.of(plugin) if self.run_options is not None else {}
        return ParseContext(
            scratch=self.scratch, plugin=plugin, path=item.path, options=mine, run_options=self.run_options
        )


# --- the plugin base class ------------------------------------------------------------------------


class Plugin(ABC):
    """Base class of every artifact plugin; see the module docstring and docs/plugins.md."""

    name: ClassVar[str]
    version: ClassVar[str]  # bump whenever the output for the same input changes
    description: ClassVar[str]
    targets: ClassVar[Targets]
    emits: ClassVar[tuple[type[Record], ...]]
    #: settings the examiner may give (``--option NAME.OPTION=VALUE``); read from ``ctx.options``
    options: ClassVar[tuple[Option, ...]] = ()
    #: the top-level Python modules ``parse`` imports where it uses them (docs/plugins.md, "Heavy
    #: libraries"): when one is not installed the plugin is left out at load, with one warning,
    #: rather than failing on every file it is offered
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        """Whether a file that starts with ``head`` (its first :data:`HEAD_SIZE` bytes, fewer
        for a smaller file) and holds ``size`` bytes may be this plugin's: ``False`` only where
        ``parse`` would raise NotMyFormat before doing anything else (no read past the head, no
        warning, no record). The engine asks it first, when its targets offered the file (a
        ``.jpg`` name over other bytes), and then records the plugin's not-my-format without
        building an item or calling ``parse``: a file that is not the plugin's costs its check
        of the first bytes and nothing more. By default every offered file may be. Not asked
        of a plugin with a ``sqlite`` signature (its schema decides); one that raises is the
        plugin's failure (a warning), and the file goes to ``parse``."""
        return True

    @abstractmethod
    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """Yield records; raise NotMyFormat if the file is not ours; ctx.warn() and skip bad rows."""


def plugin_problems(cls: object) -> list[str]:
    """What is wrong with a would-be plugin class (empty list: it honours the contract).

    Used by the registry to reject broken third-party plugins with a warning instead of failing
    mid-run, and by the registry-wide test for built-ins.
    """
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        return [f"{cls!r} is not a subclass of triage.plugin.Plugin"]
    problems: list[str] = []
    label = getattr(cls, "__qualname__", repr(cls))
    if getattr(cls, "__abstractmethods__", None):
        problems.append(f"{label}: abstract methods not implemented: {sorted(cls.__abstractmethods__)}")
    for attr in ("name", "version", "description"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{label}: class attribute {attr!r} must be a non-empty string")
    if not isinstance(getattr(cls, "targets", None), Targets):
        problems.append(f"{label}: 'targets' must be a triage.plugin.Targets")
    else:
        t = cls.targets
        if not (t.globs or t.mime_types or t.magic):
            problems.append(f"{label}: targets declare no glob, MIME type or magic: nothing would match")
        for glob in t.globs:
            if not (glob.startswith("/") or glob.startswith("**/")):
                problems.append(f"{label}: glob {glob!r} must be anchored ('/...' or '**/...')")
    emits = getattr(cls, "emits", None)
    if not isinstance(emits, tuple) or not emits:
        problems.append(f"{label}: 'emits' must be a non-empty tuple of Record subclasses")
    else:
        for rec in emits:
            if not (isinstance(rec, type) and issubclass(rec, Record)):
                problems.append(f"{label}: emits {rec!r}, which is not a Record subclass")
                continue
            rtype = getattr(rec, "record_type", None)
            if not isinstance(rtype, str) or not RECORD_TYPE_PATTERN.match(rtype):
                problems.append(f"{label}: {rec.__name__}.record_type {rtype!r} is not namespaced (a/b/c)")
    options = getattr(cls, "options", ())
    if not isinstance(options, tuple) or not all(isinstance(o, Option) for o in options):
        problems.append(f"{label}: 'options' must be a tuple of triage.plugin.Option")
    elif len({o.name for o in options}) != len(options):
        problems.append(f"{label}: two options share a name")
    problems += requires_problems(cls, label)
    if not (cls.__doc__ or "").strip():
        problems.append(f"{label}: no docstring")
    return problems


def requires_problems(cls: type, label: str) -> list[str]:
    """What is wrong with a plugin's or analyzer's ``requires`` (top-level module names)."""
    requires = getattr(cls, "requires", ())
    if not isinstance(requires, tuple) or not all(isinstance(r, str) and r.isidentifier() for r in requires):
        return [f"{label}: 'requires' must be a tuple of top-level module names"]
    return []


def missing_modules(cls: type) -> list[str]:
    """The modules of ``cls.requires`` that are not installed (looked for, not imported)."""
    import importlib.util

    missing = []
    for name in getattr(cls, "requires", ()):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


# --- small helpers for SQLite plugins -------------------------------------------------------------


def table_columns(con: sqlite3.Connection, table: str) -> frozenset[str]:
    """Column names of ``table`` (lower-case), empty when the table does not exist."""
    return frozenset(
        str(r[0]).lower() for r in con.execute("SELECT name FROM pragma_table_info(?)", (table,))
    )


def select_list(
    available: frozenset[str], wanted: Iterable[str], *, prefix: str = "", alias_prefix: str = ""
) -> str:
    """A SELECT list naming each wanted column, or ``NULL AS col`` when this schema lacks it.

    Lets one query serve several app versions; the record then holds ``None`` for a field the
    database never had, which is different from a value the plugin failed to read. ``prefix``
    qualifies columns (``"v."``); ``alias_prefix`` renames them in the result (``"u_"``).
    """
    parts = []
    for col in wanted:
        if col.lower() in available:
            parts.append(f'{prefix}"{col}" AS "{alias_prefix}{col}"')
        else:
            parts.append(f'NULL AS "{alias_prefix}{col}"')
    return ", ".join(parts)
