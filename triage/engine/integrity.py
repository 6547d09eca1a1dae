"""The triage digest: what a completed run signs about the rows triage stored, and its checks.

Why: the triage tables are ordinary rows that anyone with write access to the case database can
edit. Each completed run therefore signs, in its ``triage.run`` ledger entry, a Merkle root (RFC
9162) per table over the canonical form of every stored row of the exhibit (the exhibit's whole
triage state when the run ended; docs/custody.md, "Triage digest", specifies it byte for byte).

Model: the latest ``triage.run`` entry with a digest anchors every row of its exhibit. Rows are
upserted and deduplicated across runs, so "the rows of run R" is ambiguous; "the exhibit's rows
as of the latest completed run" is not. A run that starts checks the stored rows against that
anchor first, drops the rows that differ and then re-reads everything from the evidence, so
nothing it signs is taken from rows that were changed.

``triage_anchors`` keeps each anchored row's leaf hash so that a mismatch can name the row; those
rows are trusted only when their own root equals the signed one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast, overload

from sqlalchemy import Boolean, Connection, Integer, Table, delete, insert, inspect, select

from custody import merkle
from custody.ledger import Ledger
from triage.processes import Ahead, AheadFailed
from triage.store.models import Anchor, File, Finding, RunWarning

FORMAT = "exhibit-triage-digest/1"
RUN_KIND = "triage.run"
#: ``exhibit hashset match`` adds findings after a run and signs the new digest in this entry
#: (triage/engine/rematch.py): the latest entry of either kind anchors the exhibit's rows.
MATCH_KIND = "hashset.match"
CODE = "TRIAGE_DATA_MISMATCH"
ANCHOR_CHUNK = 4096  # anchored rows per triage_anchors row
MAX_NAMED = 20  # problems named one by one per table and per re-hash before a summary line
DISCARD_CHUNK = 500  # keys of differing rows deleted per statement


@dataclass(frozen=True)
class TableSpec:
    """One digested table: its rows of an exhibit, identified and ordered by ``key``."""

    name: str
    table: Table
    key: str
    numeric_key: bool  # order by the integer value (warnings' id), else by the text's bytes

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns]


TABLES: tuple[TableSpec, ...] = (
    TableSpec("triage_files", File, "key", False),
    TableSpec("triage_findings", Finding, "fingerprint", False),
    TableSpec("triage_warnings", RunWarning, "id", True),
)
BY_NAME = {spec.name: spec for spec in TABLES}
#: Columns added after format 1 was specified: members of a row's canonical form only when not
#: NULL, so the rows stored before them keep the canonical bytes their digest was signed over.
OMITTED_WHEN_NULL = frozenset({"parent"})


# -- canonical form of a row ----------------------------------------------------------------------


def _value(column: Any, value: Any) -> Any:
    """The JSON value of one stored column: NULL -> null, Boolean -> true/false, integer ->
    number, text -> string (exactly as stored; JSON text columns are not parsed)."""
    if value is None:
        return None
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, Integer):  # BigInteger too
        return int(value)
    return str(value)


def canonical_row(table: Table, row: Any) -> bytes:
    """RFC 8785 canonical JSON of a row: an object of every column, name -> value.

    ``json.dumps`` with sorted keys and no spaces is RFC 8785 for these values (ASCII column
    names; strings, integers, true/false/null), about three times faster than the general
    canonicaliser; tests/triage/test_integrity.py checks the two agree on real rows.
    """
    mapping = row._mapping
    body = {
        c.name: _value(c, mapping[c.name])
        for c in table.columns
        if not (c.name in OMITTED_WHEN_NULL and mapping[c.name] is None)
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def leaf_of(table: Table, row: Any) -> bytes:
    return merkle.leaf_hash(canonical_row(table, row))


def _sort_key(spec: TableSpec, key: str) -> Any:
    """A key's place in the digest: the integer, or the text as a Python string (code-point order
    is the UTF-8 byte order the digest is defined by, lone surrogates included as
    ``surrogatepass`` writes them)."""
    return int(key) if spec.numeric_key else key


def _write_int(value: Any) -> str:
    return int.__repr__(value if type(value) is int else int(value))


def _write_text(value: Any, string: Callable[[str], str] = json.encoder.encode_basestring) -> str:
    return string(value if type(value) is str else str(value))


class _RowEncoder:
    """The canonical bytes of many rows of one table, fast (the end of every run digests them all).

    Same bytes as :func:`canonical_row` (a test checks it on real rows and odd values): the
    columns are selected in name order, so the object needs no sorting, and each row is written
    by one function made for the table (:func:`_row_writer`), one f-string of the members'
    fixed texts and each value's text, without a call per column for the common types; only
    Boolean columns (0/1 in SQLite) and values a driver returns in another Python type are
    converted.
    """

    def __init__(self, table: Table) -> None:
        self.columns = sorted(table.columns, key=lambda c: c.name)
        self.names = [c.name for c in self.columns]
        self.optional_at = [i for i, name in enumerate(self.names) if name in OMITTED_WHEN_NULL]
        self._all = _row_writer(self.columns, range(len(self.columns)))
        self._variants: dict[tuple[int, ...], Callable[[Sequence[Any]], bytes]] = {}

    def encode(self, row: Sequence[Any]) -> bytes:
        if self.optional_at:
            left_out = tuple(i for i in self.optional_at if row[i] is None)
            if left_out:  # members left out (a file not in an archive has no parent)
                write = self._variants.get(left_out)
                if write is None:
                    kept = [i for i in range(len(self.columns)) if i not in left_out]
                    write = self._variants[left_out] = _row_writer(self.columns, kept)
                return write(row)
        return self._all(row)


def _row_writer(columns: Sequence[Any], kept: Iterable[int]) -> Callable[[Sequence[Any]], bytes]:
    """A function writing a row's canonical bytes: the object of the columns at ``kept`` (positions
    in ``columns``, which are in name order), as :func:`canonical_row` writes it.

    Made once per table (and per set of members left out) as Python source, so that a row is one
    f-string: ``{"atime":...,"attr_id":...}`` with each member's fixed text (a name from the
    model, held in the function's namespace, never written into the source) and its value's text:
    a ``str`` quoted as ``json.dumps(ensure_ascii=False)`` quotes it, an ``int`` written by
    ``int.__repr__``, a Boolean column's 0/1 as ``false``/``true``, NULL as ``null``; any other
    type through the general writers. Half the time of writing the values one call at a time
    (50,000 file rows: 6.0 -> 3.5 µs a row).
    """
    names: dict[str, Any] = {
        "S": json.encoder.encode_basestring,
        "R": int.__repr__,
        "WI": _write_int,
        "WT": _write_text,
        "N": "null",
        "T": "true",
        "F": "false",
        "END": "}",
    }
    fields = []
    for j, i in enumerate(kept):
        column = columns[i]
        names[f"K{j}"] = ("{" if j == 0 else ",") + json.encoder.encode_basestring(column.name) + ":"
        v = f"r[{int(i)}]"
        if isinstance(column.type, Boolean):
            value = f"N if {v} is None else T if {v} else F"
        elif isinstance(column.type, Integer):  # BigInteger too
            value = f"R({v}) if {v}.__class__ is int else N if {v} is None else WI({v})"
        else:
            value = f"S({v}) if {v}.__class__ is str else N if {v} is None else WT({v})"
        fields.append(f"{{K{j}}}{{({value})}}")
    if not fields:
        return lambda r: b"{}"
    source = "def write(r):\n    return f'" + "".join(fields) + "{END}'.encode('utf-8', 'surrogatepass')\n"
    exec(compile(source, f"<canonical row writer of {len(fields)} columns>", "exec"), names)
    return cast(Callable[[Sequence[Any]], bytes], names["write"])


class Leaves(Sequence[bytes]):
    """The leaf hashes of one table's rows in digest order, with each row's key.

    Kept compact because the end of every run holds them for every stored row (a million
    findings): the keys in a list, the 32-byte hashes back to back in one bytearray, not a tuple
    and a bytes object per row. As a sequence it is the hashes (what the Merkle root is made of).
    """

    __slots__ = ("hashes", "keys")

    def __init__(self, keys: list[str] | None = None, hashes: bytearray | None = None) -> None:
        self.keys = keys if keys is not None else []
        self.hashes = hashes if hashes is not None else bytearray()

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, i: int) -> bytes: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[bytes]: ...
    def __getitem__(self, i: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return bytes(self.hashes[32 * i : 32 * i + 32])

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self.hashes)
        for i in range(len(self.keys)):
            yield bytes(view[32 * i : 32 * i + 32])

    def add(self, key: str, leaf: bytes | bytearray) -> None:
        self.keys.append(key)
        self.hashes += leaf

    def pairs(self) -> Iterator[tuple[str, bytes]]:
        """``(key, leaf hash)`` of every row, in order."""
        return zip(self.keys, self, strict=True)

    def root(self) -> str:
        return merkle.root_from_leaf_hashes(self).hex()

    def sorted_by(self, spec: TableSpec) -> Leaves:
        """The same rows in digest order (:func:`_sort_key`), when the database did not give them
        in it."""
        keys = self.keys
        order = sorted(
            range(len(keys)), key=(lambda i: int(keys[i])) if spec.numeric_key else keys.__getitem__
        )
        view = memoryview(self.hashes)
        hashes = bytearray()
        for i in order:
            hashes += view[32 * i : 32 * i + 32]
        return Leaves([keys[i] for i in order], hashes)


def table_leaves(conn: Connection, spec: TableSpec, exhibit: str) -> Leaves:
    """``(key, leaf hash)`` of every row of ``exhibit`` in ``spec``, in digest order.

    PostgreSQL is asked for that order (the "C" collation: byte order of the text keys), checked
    as the rows arrive; rows that did not come in it are sorted here. SQLite is not: it would sort
    the whole rows in a temporary B-tree (2 GB for a million findings, in a file outside the case
    folder) or, made to follow the key's index, read the table in random order; it gives the rows
    in the table's order and the keys are sorted here (a million in about a second).

    A SQLite case file whose table is large is read by two processes (:func:`_halves`), each half
    of the exhibit's row ids, when ``conn`` is outside a transaction: the helper's own connection
    sees what is committed, which is then all there is (inside one, this connection may hold rows
    no other can see yet).
    """
    t = spec.table
    encoder = _RowEncoder(t)
    query = select(*encoder.columns).where(t.c.exhibit == exhibit)
    if conn.dialect.name != "sqlite":
        order: Any = t.c[spec.key]
        if not spec.numeric_key:
            order = order.collate("C")
        rows = conn.execute(query.order_by(order).execution_options(yield_per=5000))
        return _leaves(rows, spec, encoder, in_order=True)
    dbapi = conn.connection.dbapi_connection
    database = conn.engine.url.database
    ids = _id_range(dbapi, spec, exhibit)
    if (
        database
        and database != ":memory:"
        and not dbapi.in_transaction  # type: ignore[union-attr]
        and ids is not None
        and ids[1] - ids[0] > SPLIT_ROWS
    ):
        middle = (ids[0] + ids[1]) // 2
        lower = _compiled(conn, query.where(t.c.id <= middle))
        upper = _compiled(conn, query.where(t.c.id > middle))
        return _halves(conn, database, _compiled(conn, query), lower, upper, spec, encoder)
    return _leaves(_driver_rows(dbapi, *_compiled(conn, query)), spec, encoder).sorted_by(spec)


#: A SQLite table whose rows of the exhibit span more row ids than this is digested by two
#: processes, each reading the rows of half of the ids.
SPLIT_ROWS = 20_000


def _id_range(dbapi: Any, spec: TableSpec, exhibit: str) -> tuple[int, int] | None:
    """The smallest and largest row id of ``exhibit``'s rows (None: it has none), asked of the
    driver (no transaction begun) and answered from the exhibit's index."""
    low, high = dbapi.execute(
        f'SELECT min(id), max(id) FROM "{spec.name}" WHERE exhibit = ?', (exhibit,)
    ).fetchone()
    return None if low is None else (int(low), int(high))


def _compiled(conn: Connection, query: Any) -> tuple[str, list[Any]]:
    compiled = query.compile(dialect=conn.dialect)
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or ()]


def _driver_rows(dbapi: Any, sql: str, params: list[Any]) -> Iterator[Sequence[Any]]:
    """The rows of ``sql`` as the SQLite driver's own tuples (SQLAlchemy's row objects cost more
    than encoding the rows), fetched 5,000 at a time."""
    cursor = dbapi.cursor()
    cursor.arraysize = 5000
    return _fetched(cursor.execute(sql, params))


def _leaves(
    rows: Iterable[Sequence[Any]], spec: TableSpec, encoder: _RowEncoder, in_order: bool = False
) -> Leaves:
    """The leaves of ``rows``: in the rows' order, or, with ``in_order`` (the database was asked
    for the digest's order), in digest order, sorted here if a row did not come in it."""
    key_at = encoder.names.index(spec.key)
    encode, leaf_hash = encoder.encode, merkle.leaf_hash
    out = Leaves()
    if not in_order:
        for r in rows:
            out.add(str(r[key_at]), leaf_hash(encode(r)))
        return out
    ordered = True
    previous: Any = None
    numeric = spec.numeric_key
    for r in rows:
        key = str(r[key_at])
        # text keys: code-point order is UTF-8 byte order, so str comparison is the digest's
        now = int(key) if numeric else key
        if previous is not None and now <= previous:
            ordered = False
        previous = now
        out.add(key, leaf_hash(encode(r)))
    return out if ordered else out.sorted_by(spec)


def _halves(
    conn: Connection,
    database: str,
    whole: tuple[str, list[Any]],
    lower: tuple[str, list[Any]],
    upper: tuple[str, list[Any]],
    spec: TableSpec,
    encoder: _RowEncoder,
) -> Leaves:
    """The leaves of the ``lower`` rows (read by a forked helper, triage/processes.py, on its
    own read-only connection to ``database``) and of the ``upper`` ones (read here meanwhile),
    joined and sorted: the same leaves as one process reading them all (``whole``), which is done
    when the helper cannot give its half (it cannot be started, failed or was killed). The end of
    a run, its check of the stored rows and ``exhibit custody verify`` digest every row of the
    exhibit; on two cores this halves that wait.
    """
    dbapi = conn.connection.dbapi_connection
    try:
        helper = Ahead(_half_in_helper, database, lower, spec, encoder)
    except OSError:  # out of processes
        return _leaves(_driver_rows(dbapi, *whole), spec, encoder).sorted_by(spec)
    try:
        high = _leaves(_driver_rows(dbapi, *upper), spec, encoder)
    except BaseException:  # Ctrl-C, an error: the helper is not waited for
        helper.cancel()
        raise
    try:
        keys, hashes = helper.result()
    except AheadFailed:
        return _leaves(_driver_rows(dbapi, *whole), spec, encoder).sorted_by(spec)
    low = Leaves(keys, bytearray(hashes))
    low.keys.extend(high.keys)
    low.hashes += high.hashes
    return low.sorted_by(spec)


def _half_in_helper(
    database: str, half: tuple[str, list[Any]], spec: TableSpec, encoder: _RowEncoder
) -> tuple[list[str], bytes]:
    """In the forked helper of :func:`_halves`: its half's keys and leaf hashes. Never uses a
    connection of the parent's."""
    import sqlite3
    from urllib.parse import quote

    con = sqlite3.connect(f"file:{quote(database)}?mode=ro", uri=True)
    try:
        leaves = _leaves(_driver_rows(con, *half), spec, encoder)
    finally:
        con.close()
    return leaves.keys, bytes(leaves.hashes)


def _fetched(cursor: Any) -> Iterator[Sequence[Any]]:
    try:
        while batch := cursor.fetchmany():
            yield from batch
    finally:
        cursor.close()


def state_of(conn: Connection, exhibit: str) -> dict[str, Leaves]:
    return {spec.name: table_leaves(conn, spec, exhibit) for spec in TABLES}


def digest_of(state: dict[str, Leaves]) -> dict[str, Any]:
    """The ``digest`` member of a ``triage.run`` entry."""
    return {
        "format": FORMAT,
        "tables": {name: {"rows": len(leaves), "root": leaves.root()} for name, leaves in state.items()},
    }


def store_anchors(conn: Connection, exhibit: str, run_id: str, state: dict[str, Leaves]) -> None:
    """Replace the exhibit's row anchors by ``state`` (call inside a transaction).

    Stored in chunks of :data:`ANCHOR_CHUNK` rows (see :class:`triage.store.models.Anchor`),
    inserted a few chunks at a time (a million rows' text at once is ~130 MB).
    """
    conn.execute(delete(Anchor).where(Anchor.c.exhibit == exhibit))
    rows = []
    for name, leaves in state.items():
        for position, start in enumerate(range(0, len(leaves), ANCHOR_CHUNK)):
            stop = min(start + ANCHOR_CHUNK, len(leaves))
            rows.append(
                {
                    "exhibit": exhibit,
                    "tbl": name,
                    "position": position,
                    "row_key": "\n".join(leaves.keys[start:stop]),
                    "leaf": leaves.hashes[32 * start : 32 * stop].hex(),
                    "run_id": run_id,
                }
            )
            if len(rows) >= 16:
                conn.execute(insert(Anchor), rows)
                rows = []
    if rows:
        conn.execute(insert(Anchor), rows)


def _anchored(conn: Connection, spec: TableSpec, exhibit: str) -> Leaves | None:
    """The anchored ``(key, leaf)`` of ``spec``'s rows, in order; ``None`` when the chunks are
    malformed (then they were altered: the caller reports the table without naming a row)."""
    if not inspect(conn).has_table(Anchor.name):
        return None  # dropped (or never made: a case from before the digest, which signs none)
    chunks = conn.execute(
        select(Anchor.c.row_key, Anchor.c.leaf)
        .where(Anchor.c.exhibit == exhibit, Anchor.c.tbl == spec.name)
        .order_by(Anchor.c.position)
    ).all()
    anchored = Leaves()
    for keys_text, leaves_hex in chunks:
        try:
            leaves = bytes.fromhex(leaves_hex)
        except (TypeError, ValueError):  # not hex: altered (reported, without naming the row)
            return None
        keys = keys_text.split("\n") if keys_text else []
        if len(leaves) != 32 * len(keys):
            return None
        anchored.keys.extend(keys)
        anchored.hashes += leaves
    return anchored


# -- comparing the stored rows with their anchor --------------------------------------------------


@dataclass(frozen=True)
class AnchorEntry:
    """The latest ``triage.run`` entry of an exhibit that carries a digest."""

    seq: int
    exhibit: str
    run: str
    digest: dict[str, Any]


def latest_anchors(ledger: Ledger, exhibit: str | None = None) -> dict[str, AnchorEntry]:
    found: dict[str, AnchorEntry] = {}
    for e in ledger.entries(exhibit=exhibit, kinds=[RUN_KIND, MATCH_KIND]):
        try:
            data = e.data
        except ValueError:  # not JSON: the ledger checks report ENTRY_HASH_MISMATCH
            continue
        digest = data.get("digest") if isinstance(data, dict) else None
        if isinstance(digest, dict) and digest.get("format") == FORMAT and e.exhibit:
            run = data.get("run") if e.kind == RUN_KIND else data.get("match")
            found[e.exhibit] = AnchorEntry(e.seq, e.exhibit, str(run), digest)
    return found


@dataclass(frozen=True)
class Difference:
    """One stored row that does not match the anchor (``key`` None: the row cannot be named)."""

    table: str
    key: str | None
    change: str  # edited, deleted, inserted, duplicated, unlocatable
    detail: str

    def describe(self) -> str:
        if self.key is None:
            return f"{self.table}: {self.detail}"
        return f"{self.table} row {_key_name(self.table)}={self.key} {self.change}{self.detail}"


def _key_name(table: str) -> str:
    return BY_NAME[table].key


def _describe_rows(conn: Connection, spec: TableSpec, exhibit: str, keys: Sequence[str]) -> dict[str, str]:
    """A few words identifying each stored row of ``keys`` for a human (its path, record type),
    in one query: a finding's fingerprint has no index of its own (the unique index is led by the
    locator), so each look-up is a pass over the exhibit's rows."""
    if not keys:
        return {}
    t = spec.table
    values: list[Any] = [int(k) for k in keys] if spec.numeric_key else list(keys)
    described: dict[str, str] = {}
    for row in conn.execute(select(t).where(t.c.exhibit == exhibit, t.c[spec.key].in_(values))):
        m = row._mapping
        bits = [f"{c}={m[c]!r}" for c in ("path", "record_type", "message") if c in m and m[c] is not None]
        described.setdefault(str(m[spec.key]), f" ({', '.join(bits)[:200]})" if bits else "")
    return described


def compare(conn: Connection, exhibit: str, anchor: AnchorEntry) -> list[Difference]:
    """Every difference between the stored rows of ``exhibit`` and ``anchor``, per table in
    digest order (a table's first difference comes first)."""
    diffs: list[Difference] = []
    tables = anchor.digest.get("tables") or {}
    for spec in TABLES:
        signed = tables.get(spec.name) or {}
        leaves = table_leaves(conn, spec, exhibit)
        root = leaves.root()
        if root == signed.get("root") and len(leaves) == signed.get("rows"):
            continue
        diffs.extend(_locate(conn, spec, exhibit, leaves, signed))
    return diffs


def _locate(
    conn: Connection,
    spec: TableSpec,
    exhibit: str,
    leaves: Leaves,
    signed: dict[str, Any],
) -> list[Difference]:
    anchored = _anchored(conn, spec, exhibit)
    anchors_root = anchored.root() if anchored is not None else None
    if anchored is None or anchors_root != signed.get("root") or len(anchored) != signed.get("rows"):
        return [
            Difference(
                spec.name,
                None,
                "unlocatable",
                f"{len(leaves)} rows now, {signed.get('rows')} anchored, and the stored row anchors "
                "were altered too, so the differing rows cannot be named",
            )
        ]
    now: dict[str, bytes] = {}
    duplicated: set[str] = set()  # a key two stored rows share (only a finding's can: see below)
    for key, leaf in leaves.pairs():
        if key in now:
            duplicated.add(key)
        now[key] = leaf
    then = dict(anchored.pairs())
    found: list[tuple[str, str]] = []
    for key in sorted(now.keys() | then.keys(), key=lambda k: _sort_key(spec, k)):
        if key in duplicated:
            found.append((key, "duplicated"))
        elif key not in then:
            found.append((key, "inserted"))
        elif key not in now:
            found.append((key, "deleted"))
        elif now[key] != then[key]:
            found.append((key, "edited"))
    if not found:
        # The database keeps a finding's fingerprint unique only with its locator (which the
        # fingerprint covers): rows can be made to differ in ways the keys do not show. Then
        # no row is named, and every row of the table is re-read from the evidence.
        return [
            Difference(
                spec.name,
                None,
                "unlocatable",
                f"{len(leaves)} rows now, {signed.get('rows')} signed, and their root differs from the "
                "signed one, but no row can be named",
            )
        ]
    named = [key for key, change in found[:MAX_NAMED] if change != "deleted"]
    described = _describe_rows(conn, spec, exhibit, named)
    return [
        Difference(
            spec.name,
            key,
            change,
            (" (more than one stored row)" if change == "duplicated" else "") + described.get(key, ""),
        )
        for key, change in found
    ]


def discard(conn: Connection, exhibit: str, diffs: Sequence[Difference]) -> None:
    """Delete the stored rows named in ``diffs`` (every row of a table that cannot be located),
    so that a run re-reads them from the evidence instead of signing them."""
    whole = {d.table for d in diffs if d.key is None}
    for name in whole:
        t = BY_NAME[name].table
        conn.execute(delete(t).where(t.c.exhibit == exhibit))
    keyed: dict[str, list[Any]] = {}
    for d in diffs:
        if d.key is not None and d.table not in whole and d.change != "deleted":
            spec = BY_NAME[d.table]
            keyed.setdefault(d.table, []).append(int(d.key) if spec.numeric_key else d.key)
    for name, keys in keyed.items():
        spec = BY_NAME[name]
        t = spec.table
        for start in range(0, len(keys), DISCARD_CHUNK):  # a few passes, not one per row
            chunk = keys[start : start + DISCARD_CHUNK]
            conn.execute(delete(t).where(t.c.exhibit == exhibit, t.c[spec.key].in_(chunk)))


def summarise(diffs: Iterable[Difference]) -> Iterator[str]:
    """One line per table: its first difference and how many rows differ."""
    by_table: dict[str, list[Difference]] = {}
    for d in diffs:
        by_table.setdefault(d.table, []).append(d)
    for table_diffs in by_table.values():
        first = table_diffs[0].describe()
        more = len(table_diffs) - 1
        yield first + (f"; {more} more row(s) of the table differ" if more else "")
