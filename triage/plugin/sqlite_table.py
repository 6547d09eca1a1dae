"""A base for plugins that turn SQLite table rows into records: declare the tables, map one row.

Chat, call-log, contact and browser databases are all read the same way: select some columns of
a table (some of them missing in older app versions), walk the rows in key order, make one record
per row and point it at ``table.key=N``. The hard parts are the same too, and are solved here once
instead of in every plugin:

- a column the schema lacks is selected as ``NULL`` (declared *optional*), while a missing table or
  *required* column means the file is not the plugin's (:class:`~triage.plugin.NotMyFormat`);
- rows are streamed from the cursor one at a time, so a table of millions of messages never sits in
  memory (the records the engine collects are its own business);
- a row the plugin's mapping cannot handle, or whose text is not UTF-8, is one warning with that
  row's locator, and the next row is read: one bad row no longer ends the file;
- a database error while reading a table (a damaged page halfway through) ends that table with one
  warning saying how many rows were read; the rows before it are kept and the next table is read.

A plugin declares its :class:`Table` s (with :class:`Join` s for tables looked up per row in SQL),
derives its ``Targets.sqlite`` from them with :func:`sqlite_signature`, and implements
:meth:`SqliteTablePlugin.record`. Small tables every row refers to (chat sessions, group members)
can be read once per file into maps by overriding :meth:`SqliteTablePlugin.lookups`, with
:func:`read_rows` applying the same tolerance to them. See docs/plugins.md.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
import traceback
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar, cast
from urllib.parse import quote

from triage.plugin.contract import (
    FileItem,
    NotMyFormat,
    ParseContext,
    ParseWarning,
    Plugin,
    SqliteSignature,
    table_columns,
)
from triage.plugin.records import Record, SourceRef
from triage.plugin.scratch import PristineCopy
from triage.plugin.sqlite_recover import (
    Candidate,
    LiveRows,
    RecoveryResult,
    Value,
    recover,
)
from triage.plugin.sqlite_recover import Column as RecoveredColumn
from triage.plugin.sqlite_recover import Table as RecoveredTable
from triage.processes import Ahead, AheadFailed

__all__ = [
    "MAX_ROW_WARNINGS",
    "MIN_RECOVER_COLUMNS",
    "RECOVER_AHEAD_BYTES",
    "RECOVER_MAX_BYTES",
    "RECOVER_SECONDS",
    "Join",
    "Recovered",
    "RowContext",
    "RowGroups",
    "SqliteTablePlugin",
    "Table",
    "UndecodableText",
    "read_rows",
    "rows_where",
    "sqlite_signature",
]

L = TypeVar("L")

#: Names SQLite accepts for the implicit row id of a (rowid) table; never listed by table_info.
ROWID_NAMES = frozenset({"rowid", "oid", "_rowid_"})

#: Row warnings listed per table; further ones are only counted, in one summary warning, so a
#: mapping that fails on every row of a big table does not bury the run under identical warnings.
MAX_ROW_WARNINGS = 100

_DATABASE_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)  # see _sqlite_message

#: Default bound of deleted-record recovery per file (see SqliteTablePlugin.recover_max_bytes):
#: recovery holds the live rows of the declared tables in memory to tell deleted rows from them.
RECOVER_MAX_BYTES = 256 * 1024**2
#: Default time bound of deleted-record recovery per file, in seconds.
RECOVER_SECONDS = 300.0
#: A database (with its -wal/-journal) of at least this many bytes has its deleted records searched
#: by a forked child while the live rows are read (:meth:`SqliteTablePlugin._recover_ahead`).
RECOVER_AHEAD_BYTES = 16 * 1024**2
#: Tables with fewer columns than this (besides an INTEGER PRIMARY KEY) give no recovered rows.
MIN_RECOVER_COLUMNS = 3


# --- declarations ---------------------------------------------------------------------------------


def _names(value: tuple[str, ...], what: str) -> None:
    """Catch ``required="body"`` (a string is a tuple of one-letter columns to Python)."""
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{what} must be a tuple of column names, not {value!r}")


@dataclass(frozen=True)
class Join:
    """A table LEFT JOINed to every row: the row of ``table`` whose ``key`` equals ``on``.

    ``on`` is a column of the main table (a foreign key such as ``visits.url``). The joined columns
    come back named ``"<table>.<column>"`` (``row["urls.title"]``), always including
    ``"<table>.<key>"``, which is NULL when the row points at nothing: a dangling reference the
    plugin may warn about. Joining in SQL leaves the joined table on disk where a lookup map would
    hold it in memory, so join big tables (a browser's ``urls``) rather than mapping them.
    ``required`` columns go into the plugin's signature; ``optional`` ones read as NULL when
    absent, and so does everything when a join without required columns finds no table.
    """

    table: str
    on: str
    key: str = "rowid"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _names(self.required, f"Join({self.table!r}).required")
        _names(self.optional, f"Join({self.table!r}).optional")

    @property
    def columns(self) -> tuple[str, ...]:
        """The key, then the required and optional columns, each once, as declared."""
        return _unique((self.key, *self.required, *self.optional))


@dataclass(frozen=True)
class Table:
    """A table read row by row, one record per row, in the order of ``order_by``.

    ``key`` names the row in locators (``sms._id=42``): an alias of the rowid such as ``_id`` or
    ``Z_PK``, or ``"rowid"`` itself; it should be unique. ``required`` columns must exist (they
    make the plugin's :func:`sqlite_signature`), ``optional`` ones read as NULL when this schema
    lacks them. ``where`` and ``order_by`` are SQL text; columns there are qualified with the table
    name when joins make them ambiguous. Keep the default order (the key): a damaged table then
    still yields every row before the damage, and none is read twice. ``label`` names the data in
    the warning for a damaged table (``"SMS"`` gives "damaged SMS database: ...").
    ``recover=False`` keeps the deleted rows of this table from being recovered (see
    :meth:`SqliteTablePlugin.parse`): for a table whose rows are not evidence of anything when
    deleted (a cache), or whose mapping cannot make sense of a row out of its context.
    """

    name: str
    key: str = "rowid"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    joins: tuple[Join, ...] = ()
    where: str | None = None
    order_by: str | None = None
    label: str = ""
    recover: bool = True

    def __post_init__(self) -> None:
        _names(self.required, f"Table({self.name!r}).required")
        _names(self.optional, f"Table({self.name!r}).optional")
        if not isinstance(self.joins, tuple) or not all(isinstance(j, Join) for j in self.joins):
            raise TypeError(f"Table({self.name!r}).joins must be a tuple of Join")

    @property
    def columns(self) -> tuple[str, ...]:
        """The key, then the required and optional columns, each once, as declared."""
        return _unique((self.key, *self.required, *self.optional))

    def locator(self, key: object) -> str:
        """``<table>.<key column>=<value>``: the row in the file, as records and warnings cite it."""
        return f"{self.name}.{self.key}={key}"


def _unique(names: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return tuple(out)


def _needed(key: str, required: tuple[str, ...]) -> tuple[str, ...]:
    """Columns that must exist: the key (unless it is the implicit rowid) and the required ones."""
    return _unique(required if key.lower() in ROWID_NAMES else (key, *required))


def sqlite_signature(*tables: Table) -> SqliteSignature:
    """The ``Targets.sqlite`` of a plugin reading ``tables``: each with its key and required columns.

    Also the ``on`` column of every join, and each joined table that has required columns. Pass
    the lookup tables the plugin cannot do without as well (``sqlite_signature(*tables, SESSIONS)``).
    """
    wanted: dict[str, set[str]] = {}
    for table in tables:
        ons = tuple(j.on for j in table.joins)
        wanted.setdefault(table.name, set()).update(_needed(table.key, (*table.required, *ons)))
        for join in table.joins:
            if join.required:
                wanted.setdefault(join.table, set()).update(_needed(join.key, join.required))
    return SqliteSignature({name: frozenset(cols) for name, cols in wanted.items()})


# --- what the mapping is handed -------------------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    """Where a deleted row handed to :meth:`SqliteTablePlugin.record` was recovered from.

    ``kind`` is where in the files it was found: ``freeblock`` or ``unallocated`` (free space of
    a page in use), ``freelist`` (a page the database no longer uses), ``wal`` (a frame of the
    ``-wal``: ``frame`` is its 1-based number), ``superseded`` (a main-file page a WAL frame
    replaces) or ``journal`` (a page record of the ``-journal``: ``frame`` is its 1-based number).
    ``page`` and ``offset`` are the page number and the byte offset of the record in that page;
    ``area`` the part of the page (``cell``, ``freeblock``, ``unallocated``, ``trunk``, ``page``).
    ``rowid`` is ``None`` when it was overwritten (usual for a freeblock); ``truncated`` means
    only part of the record was left (missing columns are NULL). ``also_found`` lists other
    places holding the same record, in the grammar of :meth:`place`.
    """

    kind: str
    page: int
    offset: int
    frame: int | None = None
    area: str = ""
    rowid: int | None = None
    truncated: bool = False
    also_found: tuple[str, ...] = ()

    def place(self) -> str:
        """``<kind>:[frame=<n>,]page=<n>,offset=<n>[,area=<area>][,truncated]``."""
        return _place(self.kind, self.page, self.offset, self.frame, self.area, self.truncated)


def _place(kind: str, page: int, offset: int, frame: int | None, area: str, truncated: bool = False) -> str:
    text = f"{kind}:" + (f"frame={frame}," if frame is not None else "") + f"page={page},offset={offset}"
    if area and area != kind:
        text += f",area={area}"
    return text + (",truncated" if truncated else "")


class RowContext(Generic[L]):
    """Everything :meth:`SqliteTablePlugin.record` knows about a row besides its values.

    ``source`` and ``locator`` go into the record as they are; ``lookups`` is what
    :meth:`SqliteTablePlugin.lookups` returned for this file; ``has(column)`` tells a NULL the
    database stored from a column this schema version does not have. ``item`` is the database
    file itself, for finding the files its rows name (``at.item.find(...)``: an attachment's path).
    ``recovered`` is ``None`` for a live row and says where a deleted row recovered from the
    file's free space, WAL or journal was found (:class:`Recovered`); ``locator`` then names that
    place too. The base flags the record of such a row itself.
    """

    __slots__ = ("_ctx", "_present", "item", "key", "locator", "lookups", "recovered", "source", "table")

    def __init__(
        self,
        *,
        table: str,
        key: object,
        locator: str,
        source: SourceRef,
        lookups: L,
        present: frozenset[str],
        ctx: ParseContext,
        item: FileItem | None = None,
        recovered: Recovered | None = None,
    ) -> None:
        self.table = table  # the table's name, for plugins that read several
        self.recovered = recovered  # where a row recovered from deleted space was found; None: live
        self.item = item  # the database being read (None only when built outside the base)
        self.key = key  # the row's key value
        self.locator = locator
        self.source = source
        self.lookups = lookups
        self._present = present
        self._ctx = ctx

    def has(self, column: str) -> bool:
        """True when this database has the declared ``column`` (``"date_sent"``, ``"urls.title"``)."""
        return column.lower() in self._present

    def warn(self, message: str) -> None:
        """Report something about this row (its locator is added) and keep the record."""
        self._ctx.warn(message, locator=self.locator)


class UndecodableText(bytes):
    """The raw bytes of a TEXT value that is not UTF-8.

    The base skips a row holding one, with a warning; a lookup query a plugin runs itself on the
    connection gets these instead of an exception (their JSON form is hex, never a crash).
    """


class _TextDecoder:
    """A connection's ``text_factory``: UTF-8 text as ``str``, anything else as UndecodableText.

    Python's own decoding raises from the fetch and leaves the cursor on the same row, so one
    non-UTF-8 message would end its table. ``failed`` counts the bad values, so the reader notices
    one by comparing the count around a fetch instead of scanning every value of every row.
    """

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed = 0

    def __call__(self, data: bytes) -> str | UndecodableText:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.failed += 1
            return UndecodableText(data)


def _decoder(con: sqlite3.Connection) -> _TextDecoder:
    factory = con.text_factory
    if isinstance(factory, _TextDecoder):
        return factory
    decoder = _TextDecoder()
    con.text_factory = decoder
    return decoder


# --- reading one table ----------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Plan:
    """One table's query against this database's schema, and which declared columns it has."""

    table: Table
    sql: str
    present: frozenset[str]  # lower-case declared names (``col``, ``joined.col``) the schema has
    select: str = ""  # the select list, joins and where of ``sql``, for recovered rows
    joins: str = ""
    where: str = ""

    def recovered_sql(self, columns: tuple[str, ...]) -> str:
        """The same query over one recovered row given as parameters, one per name of ``columns``:
        the row stands in for the table (same name), so the joins and ``where`` apply to it."""
        params = ", ".join(f"? AS {_quote(c)}" for c in columns)
        return f"SELECT {self.select} FROM (SELECT {params}) AS {_quote(self.table.name)}{self.joins}{self.where}"


def _plan(con: sqlite3.Connection, table: Table) -> _Plan:
    """The SELECT for ``table`` on this schema.

    NotMyFormat when a table or required column is absent; OperationalError (a plugin failure)
    when the query does not compile here, e.g. a ``where`` naming a column this schema lacks.
    """
    have = table_columns(con, table.name)
    if not have:
        raise NotMyFormat(f"no table {table.name}")
    ons = tuple(j.on for j in table.joins)
    _require(table.name, have, _needed(table.key, (*table.required, *ons)))
    t = _quote(table.name)
    select: list[str] = []
    present: set[str] = set()
    for col in table.columns:
        if col.lower() in have or col.lower() in ROWID_NAMES:
            select.append(f"{t}.{_quote(col)} AS {_quote(col)}")
            present.add(col.lower())
        else:
            select.append(f"NULL AS {_quote(col)}")
    joins: list[str] = []
    for join in table.joins:
        jhave = table_columns(con, join.table)
        if join.required:
            _require(join.table, jhave, _needed(join.key, join.required))
        elif join.key.lower() not in jhave and join.key.lower() not in ROWID_NAMES:
            jhave = frozenset()  # an optional join that cannot be made: its columns read as NULL
        j = _quote(join.table)
        for col in join.columns:
            alias = _quote(f"{join.table}.{col}")
            if jhave and (col.lower() in jhave or col.lower() in ROWID_NAMES):
                select.append(f"{j}.{_quote(col)} AS {alias}")
                present.add(f"{join.table}.{col}".lower())
            else:
                select.append(f"NULL AS {alias}")
        if jhave:
            joins.append(f" LEFT JOIN {j} ON {j}.{_quote(join.key)} = {t}.{_quote(join.on)}")
    where = f" WHERE ({table.where})" if table.where else ""
    sql = f"SELECT {', '.join(select)} FROM {t}{''.join(joins)}{where}"
    sql += f" ORDER BY {table.order_by or f'{t}.{_quote(table.key)}'}"
    try:  # compiled, not run: a mistake in the declarations is the plugin's failure, not damage
        con.execute(f"EXPLAIN {sql}").close()
    except sqlite3.OperationalError as exc:
        raise sqlite3.OperationalError(
            f"the query for table {table.name} does not compile: {exc}: {sql}"
        ) from exc
    return _Plan(table, sql, frozenset(present), ", ".join(select), "".join(joins), where)


def _require(name: str, have: frozenset[str], needed: tuple[str, ...]) -> None:
    if not have:
        raise NotMyFormat(f"no table {name}")
    missing = [c for c in needed if c.lower() not in have]
    if missing:
        raise NotMyFormat(f"table {name} has no column {', '.join(missing)}")


class _RowWarnings:
    """The row warnings of one table: the first :data:`MAX_ROW_WARNINGS` listed, the rest counted."""

    def __init__(self, ctx: ParseContext, table: str) -> None:
        self.ctx = ctx
        self.table = table
        self.count = 0

    def add(self, locator: str, message: str, trace: str | None = None) -> None:
        self.count += 1
        if self.count <= MAX_ROW_WARNINGS:
            self.ctx.warnings.append(ParseWarning(self.ctx.plugin, self.ctx.path, message, locator, trace))

    def close(self) -> None:
        if self.count > MAX_ROW_WARNINGS:
            self.ctx.warn(
                f"table {self.table}: {self.count - MAX_ROW_WARNINGS} more row(s) skipped with a warning "
                f"that is not listed (the first {MAX_ROW_WARNINGS} are)"
            )


def _stream(
    con: sqlite3.Connection, ctx: ParseContext, plan: _Plan, notes: _RowWarnings
) -> Iterator[sqlite3.Row]:
    """The rows of one table, fetched one at a time, each decoded or skipped with a warning.

    A database error ends the table with one warning giving the number of rows read. Python's
    sqlite3 builds a row, then steps to the next one and drops the row it built when that step
    fails, so the last readable row before a damaged page would be lost: in key order it is asked
    for again on its own (``LIMIT 1 OFFSET n`` never steps past it).
    """
    decoder = _decoder(con)
    read = 0
    failure: str | None = None
    try:
        cursor = con.execute(plan.sql)
        while True:
            before = decoder.failed
            row = cursor.fetchone()
            if row is None:
                return
            read += 1
            if decoder.failed == before:
                yield row
            else:
                notes.add(_row_locator(plan.table, row), _undecodable(row))
    except _DATABASE_ERRORS as exc:
        failure = _sqlite_message(exc)
    if failure is None:
        return
    if plan.table.order_by is None:
        before = decoder.failed
        try:
            dropped = con.execute(f"{plan.sql} LIMIT 1 OFFSET {read}").fetchone()
        except _DATABASE_ERRORS:
            dropped = None
        if dropped is not None:
            read += 1
            if decoder.failed == before:
                yield dropped
            else:
                notes.add(_row_locator(plan.table, dropped), _undecodable(dropped))
    label = f"{plan.table.label} " if plan.table.label else ""
    ctx.warn(
        f"damaged {label}database: reading table {plan.table.name} stopped after {read} row(s): {failure}"
    )


def _row_locator(table: Table, row: sqlite3.Row) -> str:
    return table.locator(row[table.key])


def _undecodable(row: sqlite3.Row) -> str:
    bad = [
        f"{name} ({bytes(value[:32]).hex()}{'…' if len(value) > 32 else ''})"
        for name, value in zip(row.keys(), row, strict=True)
        if isinstance(value, UndecodableText)
    ]
    return f"row skipped: text that is not UTF-8 in {', '.join(bad)}"


def _sqlite_message(exc: Exception) -> str:
    """The error's text. SQLite may quote damaged bytes in a message, which Python's sqlite3 then
    fails to decode, raising UnicodeDecodeError instead of the DatabaseError; show those bytes escaped."""
    if isinstance(exc, UnicodeDecodeError):
        raw = exc.object if isinstance(exc.object, bytes) else bytes(exc.object)
        return raw.decode("utf-8", "backslashreplace")
    return str(exc)


def read_rows(con: sqlite3.Connection, ctx: ParseContext, table: Table) -> Iterator[sqlite3.Row]:
    """Every row of ``table`` with the base's tolerance, for :meth:`SqliteTablePlugin.lookups`.

    Missing optional columns read as NULL; a row whose text is not UTF-8 is skipped with a warning;
    a damaged table ends with a warning and what was read. A table the database does not have
    yields nothing (older app versions lack some); one without the key or a required column yields
    nothing, with a warning.
    """
    _decoder(con)
    if not table_columns(con, table.name):
        return
    try:
        plan = _plan(con, table)
    except NotMyFormat as exc:
        ctx.warn(f"{exc}: not read")
        return
    notes = _RowWarnings(ctx, table.name)
    yield from _stream(con, ctx, plan, notes)
    notes.close()


def rows_where(
    con: sqlite3.Connection, ctx: ParseContext, table: Table, by: str, key: object
) -> list[sqlite3.Row]:
    """The rows of ``table`` whose column ``by`` equals ``key``, read with :func:`read_rows`'s
    tolerance (in the table's ``order_by``); none for a NULL key or one of no SQL literal form."""
    literal = sql_literal(key)
    if literal is None:
        return []
    match = f"{_quote(by)} = {literal}"
    where = f"({table.where}) AND {match}" if table.where else match
    return list(read_rows(con, ctx, dataclasses.replace(table, where=where)))


def sql_literal(value: object) -> str | None:
    """``value`` as an SQL literal (integers, reals, text, blobs); ``None`` for anything else."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"X'{bytes(value).hex()}'"
    return None


def _sqlite_order(value: object) -> tuple[int, object]:
    """A sort key following SQLite's order of storage classes: NULL, numbers, text, blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, bytes(value) if isinstance(value, bytes | bytearray | memoryview) else repr(value))


class RowGroups:
    """The rows of a side table that belong to each row of the main table, read in step with it.

    A message has several attachments, a contact several phone numbers: side tables as big as the
    main one, so a lookup map would hold them all in memory. Instead ``table`` is read once, in
    the order of its column ``by`` (give ``order_by`` accordingly, e.g. ``"message_id, rowid"``),
    beside the main table read in key order; :meth:`take` returns the rows whose ``by`` equals
    the main row's key and skips those no main row claims. Only one group is held at a time.

    Reading goes through :func:`read_rows`, with its tolerance: a missing table gives no rows, a
    damaged one ends with a warning. Keys are asked for in ascending order (the base reads the
    main table by its key) but for recovered rows, which come after the live ones.
    Make it in :meth:`SqliteTablePlugin.lookups`, which runs once per file.
    """

    def __init__(self, con: sqlite3.Connection, ctx: ParseContext, table: Table, by: str) -> None:
        if not table.order_by:
            raise ValueError(f"RowGroups({table.name!r}) needs the table's order_by to sort by {by!r}")
        self._rows = read_rows(con, ctx, table)
        self._con, self._ctx, self._table = con, ctx, table
        self._by = by
        self._next: sqlite3.Row | None = None
        self._done = False
        self._last: tuple[int, object] | None = None
        self.unclaimed = 0  # side rows skipped because no main row has their key

    def _peek(self) -> sqlite3.Row | None:
        if self._next is None and not self._done:
            self._next = next(self._rows, None)
            self._done = self._next is None
        return self._next

    def take(self, key: object) -> list[sqlite3.Row]:
        """The side rows whose ``by`` column equals ``key`` (the main row's key), in table order."""
        wanted = _sqlite_order(key)
        if self._last is not None and wanted < self._last:
            return rows_where(self._con, self._ctx, self._table, self._by, key)
        self._last = wanted
        group: list[sqlite3.Row] = []
        while (row := self._peek()) is not None:
            have = _sqlite_order(row[self._by])
            if have > wanted:
                break
            if have == wanted:
                group.append(row)
            else:
                self.unclaimed += 1
            self._next = None
        return group


# --- the base class -------------------------------------------------------------------------------


class SqliteTablePlugin(Plugin, Generic[L]):
    """Base of plugins that make one record per row of SQLite tables; see the module docstring.

    Subclasses declare ``tables`` (and ``name``, ``version``, ``description``, ``targets`` with
    ``sqlite=sqlite_signature(*tables)``, ``emits``) and implement :meth:`record`. ``L`` is the type
    :meth:`lookups` returns: ``SqliteTablePlugin[None]`` for a plugin without lookups.
    """

    tables: ClassVar[tuple[Table, ...]]
    #: Largest database (with its -wal and -journal, in bytes) whose deleted rows are recovered;
    #: a bigger one gets a warning instead. 0 turns recovery off for the plugin.
    recover_max_bytes: ClassVar[int] = RECOVER_MAX_BYTES
    #: Seconds the search for deleted rows may take per file; then what was found is reported.
    recover_seconds: ClassVar[float] = RECOVER_SECONDS

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        tables = cls.__dict__.get("tables")
        if tables is not None and (
            not isinstance(tables, tuple) or not tables or not all(isinstance(t, Table) for t in tables)
        ):
            raise TypeError(f"{cls.__qualname__}.tables must be a non-empty tuple of Table")

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        """The tables to read in this database, in order (default: every declared table).

        Override it when app versions differ in *which tables* they have, not only in columns:
        a database of one version holds ``messages``, the next ``message``, a third both (then
        ``where`` can keep the second copy of a row out). Return a subset of ``tables`` or other
        :class:`Table` declarations; raise :class:`~triage.plugin.NotMyFormat` when the file is not
        the plugin's, or return ``()`` after a ``ctx.warn`` when it is but its schema is not
        supported. Runs before :meth:`lookups`.
        """
        return self.tables

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> L:
        """Read what the rows will look up, once per file, before the tables (default: nothing).

        Override it to return maps of small tables, such as ``{row["Z_PK"]: row for row in
        read_rows(con, ctx, SESSIONS)}``; the result reaches :meth:`record` as ``at.lookups``.
        These maps are held in memory for the whole file, so keep them to tables that are small
        next to the main one (chats, members, handles); join big ones with :class:`Join` instead.
        An exception here fails the plugin on the file, as any parse failure does.
        """
        return cast(L, None)

    @abstractmethod
    def record(self, row: sqlite3.Row, at: RowContext[L]) -> Record:
        """The record of one row (``row["column"]``, joined ones ``row["table.column"]``).

        Use ``at.source`` and ``at.locator`` for the record's provenance. Raise to skip the row:
        the exception becomes a warning for that row (``at.locator``) and the next row is read.
        ``at.warn()`` reports something about a row whose record is still returned.
        """

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        """Read every declared table, in order, and yield one record per readable row; then the
        records of the deleted rows recovered from those tables (see :meth:`recovered_records`).

        NotMyFormat, before any record, when a declared table or required column is missing.
        """
        con = ctx.open_sqlite(item)
        _decoder(con)
        plans = [_plan(con, table) for table in self.tables_in(con, item, ctx)]
        if not plans:  # the plugin's file, in a schema it does not support (it said so)
            return
        lookups = self.lookups(con, ctx)
        ahead = self._recover_ahead(con, item, ctx, plans)
        try:
            yield from self._live(con, item, ctx, plans, lookups)
            yield from self._recovered(con, item, ctx, plans, lookups, ahead)
        finally:
            if ahead is not None:
                ahead.cancel()  # the file was left early (after a result, cancel does nothing)

    def _live(
        self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext, plans: list[_Plan], lookups: L
    ) -> Iterator[Record]:
        for plan in plans:
            table = plan.table
            notes = _RowWarnings(ctx, table.name)
            for row in _stream(con, ctx, plan, notes):
                key = row[table.key]
                at = RowContext(
                    table=table.name,
                    key=key,
                    locator=table.locator(key),
                    source=item.source,
                    lookups=lookups,
                    present=plan.present,
                    ctx=ctx,
                    item=item,
                )
                record = self._record(row, at, notes)
                if record is not None:
                    yield record
            notes.close()

    def _record(self, row: sqlite3.Row, at: RowContext[L], notes: _RowWarnings) -> Record | None:
        try:
            return self.record(row, at)
        except (NotMyFormat, MemoryError):
            raise
        except Exception as exc:
            notes.add(at.locator, f"row skipped: {type(exc).__name__}: {exc}", traceback.format_exc())
            return None

    def _recovery_sizes(self, item: FileItem, plans: list[_Plan]) -> list[int] | None:
        """The sizes of the database and its ``-wal``/``-journal`` when deleted records of some
        of ``plans``' tables are to be searched for, else None."""
        if self.recover_max_bytes <= 0 or not any(plan.table.recover for plan in plans):
            return None
        sizes = [item.size]
        for suffix in ("-wal", "-journal"):
            sibling = item.sibling(suffix)
            if sibling is not None:
                sizes.append(sibling.size)
        return sizes

    def _recover_ahead(
        self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext, plans: list[_Plan]
    ) -> Ahead[RecoveryResult] | None:
        """The deleted-record search of a database of at least :data:`RECOVER_AHEAD_BYTES`,
        started in a forked child (triage/processes.py) before the live rows are read, so the
        two share the cores; None where the search is done afterwards, in this process (small
        databases, or no search)."""
        sizes = self._recovery_sizes(item, plans)
        if sizes is None or sum(sizes) > self.recover_max_bytes or sum(sizes) < RECOVER_AHEAD_BYTES:
            return None
        try:
            pristine = ctx.scratch.pristine(item)
            (database,) = [row[2] for row in con.execute("PRAGMA database_list") if row[1] == "main"]
            names = sorted({plan.table.name for plan in plans if plan.table.recover})
            return Ahead(_search, pristine, names, self.recover_seconds, database)
        except Exception:  # no process left, or the pristine copy failed: the search is done
            return None  # afterwards, where that failure is reported as a warning

    def _recovered(
        self,
        con: sqlite3.Connection,
        item: FileItem,
        ctx: ParseContext,
        plans: list[_Plan],
        lookups: L,
        ahead: Ahead[RecoveryResult] | None = None,
    ) -> Iterator[Record]:
        """The records of the deleted rows of the declared tables, flagged and located.

        Read-only, on unmodified copies of the database and its ``-wal`` / ``-journal``
        (:mod:`triage.plugin.sqlite_recover`); bounded by :attr:`recover_max_bytes` and
        :attr:`recover_seconds`. Each row goes through the table's joins and ``where`` (given as
        the table itself) and then :meth:`record`, as a live row does. A row that equals a live
        row, and an older version of a row still live (an edit, not a deletion), is not reported.
        """
        sizes = self._recovery_sizes(item, plans)
        if sizes is None:
            return
        wanted = [plan for plan in plans if plan.table.recover]
        if sum(sizes) > self.recover_max_bytes:
            ctx.warn(
                f"deleted records not recovered: the database with its -wal/-journal is {sum(sizes)} bytes, "
                f"more than the {self.recover_max_bytes} bytes recovery reads"
            )
            return
        names = sorted({plan.table.name for plan in wanted})
        started = time.monotonic()
        try:
            if ahead is not None:
                result = _searched(ahead)
            else:
                result = _search_on(con, ctx.scratch.pristine(item), names, started + self.recover_seconds)
        except MemoryError:
            ctx.warn("deleted records not recovered: out of memory")
            return
        except AheadFailed as exc:  # what the forked search raised, or that it died
            ctx.warn(f"deleted records not recovered: {exc.kind}: {exc}")
            return
        except Exception as exc:
            ctx.warn(f"deleted records not recovered: {type(exc).__name__}: {exc}")
            return
        if result.stats.get("wal_other_page_size"):
            ctx.warn(
                f"the write-ahead log beside it says its pages are {result.stats['wal_other_page_size']} "
                "bytes, not the database's: it is not this database's log and was not searched for "
                "deleted records (the database itself was)"
            )
        if result.stats.get("timed_out"):
            ctx.warn(
                f"recovery of deleted records stopped after {self.recover_seconds} s: the records found "
                f"until then are reported, the rest of the file was not searched"
            )
        decoder = _decoder(con)
        for plan in wanted:
            table = plan.table
            notes = _RowWarnings(ctx, table.name)
            schema = result.tables.get(table.name)
            twins = _LiveTwins(con, schema) if schema is not None else None
            uncompared: list[str] = []  # the same database error, row after row: said once
            for candidate in result.for_table(table.name):
                if candidate.status == "modified":
                    continue  # an older version of a row that is still there: an edit, not a deletion
                if not _trusted(candidate, result) or twins is None:
                    continue
                try:
                    if twins.of(candidate):
                        continue  # a copy or an older version of a live row, not a deleted one
                except _DATABASE_ERRORS as exc:
                    uncompared.append(_sqlite_message(exc))
                    continue
                found = _recovered_at(candidate)
                columns, params = _recovered_params(candidate)
                before = decoder.failed
                where = f"{table.name}.{table.key}=?@{found.place()}"
                try:
                    row = con.execute(plan.recovered_sql(columns), params).fetchone()
                except _DATABASE_ERRORS as exc:
                    notes.add(where, f"recovered row skipped: {_sqlite_message(exc)}")
                    continue
                if row is None:
                    continue  # the table's ``where`` leaves it out, as it would the live row
                key = row[table.key]
                locator = f"{table.locator('?' if key is None else key)}@{found.place()}"
                if decoder.failed != before:
                    notes.add(locator, _undecodable(row))
                    continue
                at = RowContext(
                    table=table.name,
                    key=key,
                    locator=locator,
                    source=item.source,
                    lookups=lookups,
                    present=plan.present,
                    ctx=ctx,
                    item=item,
                    recovered=found,
                )
                record = self._record(row, at, notes)
                if record is not None:
                    yield _flagged(record, found, locator)
            if uncompared:  # never report what may be a live row as deleted (found in review: 38 lines)
                ctx.warn(
                    f"table {table.name}: {len(uncompared)} recovered row(s) not reported: they could not "
                    f"be compared with the live rows ({'; '.join(dict.fromkeys(uncompared))}), so they may "
                    "be live rows SQLite could not read"
                )
            notes.close()


# --- recovered rows -------------------------------------------------------------------------------

_ROWID_NAMES = frozenset({"rowid", "oid", "_rowid_"})


def _replace_bad_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")  # as recovery decodes a live row's text


def _search_on(
    con: sqlite3.Connection, pristine: PristineCopy, names: list[str], deadline: float
) -> RecoveryResult:
    """The deleted-record search of :meth:`SqliteTablePlugin._recovered` with ``con`` on the
    plugin's scratch copy: that copy shows the state recovery reads (the WAL applied) unless a hot
    journal was rolled back in it, and then the live rows are read from the pages instead."""
    return recover(
        pristine.db,
        pristine.wal,
        pristine.journal,
        names,
        deadline=deadline,
        live_values=_live_values(con) if pristine.journal is None else None,
    )


def _search(pristine: PristineCopy, names: list[str], seconds: float, database: str) -> RecoveryResult:
    """:func:`_search_on`, run by a forked child (:class:`~triage.processes.Ahead`) on its own
    read-only connection to the plugin's scratch copy ``database`` (a connection of the parent's
    is never used across the fork)."""
    con = sqlite3.connect(f"file:{quote(database)}?mode=ro", uri=True)
    try:
        con.execute("PRAGMA query_only = 1")
        con.row_factory = sqlite3.Row
        _decoder(con)
        return _search_on(con, pristine, names, time.monotonic() + seconds)
    finally:
        con.close()


def _searched(ahead: Ahead[RecoveryResult]) -> RecoveryResult:
    """The forked search's result; its running out of memory raised as MemoryError here."""
    try:
        return ahead.result()
    except AheadFailed as exc:
        if exc.kind == "MemoryError":
            raise MemoryError from None
        raise


def _live_values(con: sqlite3.Connection) -> Callable[[RecoveredTable], LiveRows | None]:
    """For :func:`recover`: a table's live rows as SQLite reads them from the scratch copy, or
    ``None`` where ``SELECT rowid, *`` would not give what recovery reads from the record (generated
    or hidden columns, a column named like the rowid, a default that is an expression, a schema
    that differs from recovery's)."""

    def rows(table: RecoveredTable) -> LiveRows | None:
        try:
            info = con.execute(f"PRAGMA table_xinfo({_quote(table.name)})").fetchall()
        except _DATABASE_ERRORS:
            return None
        names = [str(r[1]) for r in info]
        if (
            names != [c.name for c in table.columns]
            or any(r[6] for r in info)
            or any(c.name.lower() in _ROWID_NAMES and not c.rowid_alias for c in table.columns)
            or not all(c.default_known for c in table.columns)
        ):
            return None
        rows = _fetch_live(con, f"SELECT rowid, * FROM {_quote(table.name)}")
        try:
            shapes, count = _live_shapes(con, table)
        except _DATABASE_ERRORS:
            shapes, count = None, None
        try:
            ranges = _live_int_ranges(con, table, shapes)
        except _DATABASE_ERRORS:
            return LiveRows(rows)  # learned from the rows instead
        return LiveRows(rows, ranges, shapes, count)

    return rows


def _column_sql(column: RecoveredColumn) -> tuple[str, str]:
    """The column as SQL, and its storage class as recovery counts it: SQLite's ``typeof`` name,
    but ``integer`` for a REAL column's integral values within 64 bits (SQLite writes them as
    integers)."""
    q = "rowid" if column.rowid_alias else _quote(column.name)
    if column.affinity != "REAL":
        return q, f"typeof({q})"
    return q, (
        f"CASE WHEN typeof({q})='real' AND {q}=CAST({q} AS INTEGER) AND {q}>=-9223372036854775808.0"
        f" AND {q}<9223372036854775808.0 THEN 'integer' ELSE typeof({q}) END"
    )


def _live_int_ranges(
    con: sqlite3.Connection, table: RecoveredTable, shapes: list[tuple[str, ...]] | None = None
) -> list[tuple[int, int] | None]:
    """Per column, the smallest and largest integer its live records hold (None: no integer),
    found by SQLite in one pass (:func:`_column_sql` tells an integer). Given the rows'
    ``shapes`` (:func:`_live_shapes`), a column that holds no integer is not asked, and one that
    holds only integers and NULL is asked without testing each value's type."""
    parts = []
    for n, column in enumerate(table.columns):
        q, kind = _column_sql(column)
        classes = None if shapes is None else {shape[n] for shape in shapes}
        if classes is not None and "integer" not in classes:
            parts += ["NULL", "NULL"]
        elif classes is not None and classes <= {"integer", "null"} and column.affinity != "REAL":
            parts += [f"min({q})", f"max({q})"]
        else:
            parts += [
                f"min(CASE WHEN {kind}='integer' THEN CAST({q} AS INTEGER) END)",
                f"max(CASE WHEN {kind}='integer' THEN CAST({q} AS INTEGER) END)",
            ]
    if all(part == "NULL" for part in parts):
        return [None] * len(table.columns)  # no integer anywhere (or no row): nothing to ask
    cursor = con.cursor()
    cursor.row_factory = None
    row = cursor.execute(f"SELECT {', '.join(parts)} FROM {_quote(table.name)}").fetchone()
    return [None if row[2 * i] is None else (row[2 * i], row[2 * i + 1]) for i in range(len(table.columns))]


def _live_shapes(con: sqlite3.Connection, table: RecoveredTable) -> tuple[list[tuple[str, ...]], int]:
    """The distinct tuples of the live rows' storage classes (:func:`_column_sql`) and the
    number of rows, found by SQLite: what recovery learns from the rows without reading them
    into Python (``LiveRows.shapes``)."""
    kinds = ", ".join(_column_sql(column)[1] for column in table.columns)
    cursor = con.cursor()
    cursor.row_factory = None
    shapes = [tuple(row) for row in cursor.execute(f"SELECT DISTINCT {kinds} FROM {_quote(table.name)}")]
    (count,) = cursor.execute(f"SELECT count(*) FROM {_quote(table.name)}").fetchone()
    return shapes, int(count)


def _fetch_live(con: sqlite3.Connection, sql: str) -> Iterator[tuple[int, Sequence[Value]]]:
    factory = con.text_factory
    con.text_factory = _replace_bad_text
    try:
        cursor = con.cursor()
        cursor.row_factory = None
        for row in cursor.execute(sql):
            yield row[0], row[1:]
    finally:
        con.text_factory = factory


def _recovered_at(candidate: Candidate) -> Recovered:
    where = candidate.where
    return Recovered(
        kind=where.kind,
        page=where.page,
        offset=where.offset,
        frame=where.frame,
        area=where.area,
        rowid=candidate.rowid,
        truncated=candidate.truncated,
        also_found=tuple(_place(o.kind, o.page, o.offset, o.frame, o.area) for o in candidate.also_found),
    )


def _recovered_params(candidate: Candidate) -> tuple[tuple[str, ...], tuple[Value, ...]]:
    """The recovered row as column names and values: every column of the table (NULL where
    nothing was recovered), plus the rowid under each of its names the table does not use."""
    columns = list(candidate.columns)
    values = list(candidate.values[: len(columns)])
    values += [None] * (len(columns) - len(values))
    have = {c.lower() for c in columns}
    for alias in ("rowid", "oid", "_rowid_"):
        if alias not in have:
            columns.append(alias)
            values.append(candidate.rowid)
    return tuple(columns), tuple(values)


def _trusted(candidate: Candidate, result: RecoveryResult) -> bool:
    """Whether a carved record's place can hold a row of its table.

    Free space of a page that another table or an index owns now is not searched for this
    table's rows: on the corpus every record carved there was another table's bytes decoded
    under the wrong schema (a deleted ``ZKIKUSER`` row read as a ``ZKIKATTACHMENTEXTRA`` one,
    full-text-index pages read as ``android_metadata`` locales). The same holds for WAL and
    journal images of such pages. Freelist pages belong to no one and are kept. A record with
    nothing but NULLs besides its rowid says nothing and is dropped too, and so is every record
    of a table of fewer than :data:`MIN_RECOVER_COLUMNS` columns besides its rowid alias: one or
    two small values match the bytes of anything (on the corpus: ``android_metadata`` locales
    from a full-text index, two-integer Core Data join rows from a user table's freeblocks).
    """
    where = candidate.where
    owner = result.owners.get(where.page)
    if where.kind in ("freeblock", "unallocated") and owner != candidate.table:
        return False
    if where.kind in ("wal", "superseded", "journal") and owner not in (None, candidate.table):
        return False
    table = result.tables.get(candidate.table)
    ipk = table.ipk_index if table is not None else None
    if len(candidate.columns) - (ipk is not None) < MIN_RECOVER_COLUMNS:
        return False
    return any(v is not None for i, v in enumerate(candidate.values) if i != ipk)


class _LiveTwins:
    """Tells a recovered row that is a copy or an older version of a live row, by SQL on the table.

    A row updated in place leaves its older version in a freeblock when its size changed, usually
    without its rowid; that is not a deleted row. Such a candidate is recognised by
    (1) agreeing with a live row on every value it holds (NULLs being values it lost), or
    (2) sharing with a live row the values of an identity: the columns of a UNIQUE index, or an
    *identity-like* column: with at least 20 live rows, an INTEGER or TEXT column whose live
    values are all present and all different (TEXT ones at least 8 characters long: a JID, a
    GUID, a message key id, a user foreign key). On the corpus, (1) is an iMessage ``chat`` row,
    (2) three Kik users whose display names changed and a Kik user-extra row. The price: a deleted
    row sharing such a value with a live row (a re-sent message with the same id, a second
    message at the same millisecond when every live time differs) is not reported.
    """

    MIN_IDENTITY_LENGTH = 8  # characters of every value of an identity-like TEXT column
    MIN_IDENTITY_ROWS = 20  # live rows needed before distinct values are taken as identities

    def __init__(self, con: sqlite3.Connection, schema: RecoveredTable) -> None:
        self._con = con
        self._schema = schema
        self._from = _quote(schema.name)
        self._identity: list[tuple[str, ...]] | None = None

    def identity(self) -> list[tuple[str, ...]]:
        """Column sets naming a row: those of the table's UNIQUE indexes, then single columns
        whose live values are all present and all different (TEXT ones at least 8 characters
        long), given at least 20 live rows."""
        if self._identity is None:
            found: list[tuple[str, ...]] = []
            for index in self._con.execute(f"PRAGMA index_list({self._from})").fetchall():
                if index[2] and index[4] == 0:  # unique, not partial
                    names = [r[2] for r in self._con.execute(f"PRAGMA index_info({_quote(index[1])})")]
                    if names and all(isinstance(n, str) for n in names):
                        found.append(tuple(names))
            (rows,) = self._con.execute(f"SELECT count(*) FROM {self._from}").fetchone()
            for i, column in enumerate(self._schema.columns):
                if rows < self.MIN_IDENTITY_ROWS:
                    break
                if i == self._schema.ipk_index or column.affinity not in ("TEXT", "INTEGER"):
                    continue
                q = _quote(column.name)
                present, distinct, shortest = self._con.execute(
                    f"SELECT count({q}), count(DISTINCT {q}), min(length({q})) FROM {self._from}"
                ).fetchone()
                long_enough = column.affinity != "TEXT" or (shortest or 0) >= self.MIN_IDENTITY_LENGTH
                if rows == present == distinct and long_enough:
                    found.append((column.name,))
            self._identity = found
        return self._identity

    def of(self, candidate: Candidate) -> bool:
        ipk = self._schema.ipk_index
        known = [
            (name, value)
            for i, (name, value) in enumerate(zip(candidate.columns, candidate.values, strict=False))
            if i != ipk and value is not None
        ]
        if known and self._exists(known):
            return True
        values = dict(zip(candidate.columns, candidate.values, strict=False))
        for names in self.identity():
            pairs = [(n, values.get(n)) for n in names]
            if all(v is not None for _, v in pairs) and self._exists(pairs):
                return True
        return False

    def _exists(self, pairs: Sequence[tuple[str, Value]]) -> bool:
        where = " AND ".join(f"{_quote(name)} = ?" for name, _ in pairs)
        sql = f"SELECT 1 FROM {self._from} WHERE {where} LIMIT 1"
        return self._con.execute(sql, [value for _, value in pairs]).fetchone() is not None


_FIELDS: dict[type[Record], frozenset[str]] = {}


def _field_names(cls: type[Record]) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


def _flagged(record: Record, found: Recovered, locator: str) -> Record:
    """``record`` marked as recovered from ``found`` (and ``deleted``, where the class has it)."""
    changes: dict[str, object] = {"recovered": found.kind, "locator": locator}
    if "deleted" in _field_names(type(record)):
        changes["deleted"] = True
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]
