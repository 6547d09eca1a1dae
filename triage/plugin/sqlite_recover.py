"""Recover deleted records from an SQLite database, its WAL and its rollback journal.

For the chat plugins' deleted messages (issue 8, section 4); the SQLite table base
(:mod:`triage.plugin.sqlite_table`) is to call it for the tables a plugin declares. Written from
the SQLite database file format description (https://www.sqlite.org/fileformat2.html); no code
from other projects. Why our own code and not sqlite-dissect, what is recovered where and the
limits measured: docs/plugins.md, "Deleted records".

What is read, never written: the database bytes (a path is opened read-only, or bytes are
given), optionally the ``-wal`` file and the ``-journal`` file. SQLite itself is only used on
an empty in-memory database to learn the columns of a ``CREATE TABLE`` statement.

Where deleted records are looked for (``Location.kind``):

``freeblock``    a freeblock of a b-tree page of the current database (the first 4 bytes of
                 the freed cell were overwritten by the freeblock header, see
                 ``Carver.freed_cell``)
``unallocated``  the gap between the cell pointer array and the cell content area of a
                 b-tree page: cells freed at the start of the content area (their first 4
                 bytes overwritten too) and copies left behind when a page was rebuilt
``freelist``     a freelist trunk or leaf page (old page content left behind)
``wal``          a page image in a WAL frame (older versions of pages: their cells, freeblocks
                 and unallocated space); ``frame`` is the 1-based frame number
``superseded``   a page of the main file that a committed WAL frame replaces (the main-file
                 copy is the older version)
``journal``      a page image in a rollback journal; ``frame`` is the 1-based record number

``Location.area`` tells which part of the page: ``cell``, ``freeblock``, ``unallocated``,
``trunk`` (freelist trunk after its page-number array) or ``page`` (no b-tree header).

A recovered record that equals a live row (the current state = main file + committed WAL
frames) is not reported; equal recoveries from several places are reported once with the
other places in ``also_found``. Byte runs in searched areas that decode to nothing are counted
in ``RecoveryResult.fragments`` and never shown.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import marshal
import mmap
import re
import sqlite3
import struct
import time
from array import array
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

from triage.errors import TriageError

Value = int | float | str | bytes | None
Source = bytes | bytearray | memoryview | str | Path
Buffer = bytes | mmap.mmap  # a whole file: bytes given, or a read-only mapping of the file

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_MAGICS = (0x377F0682, 0x377F0683)
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")

PAGE_INTERIOR_INDEX = 2
PAGE_INTERIOR_TABLE = 5
PAGE_LEAF_INDEX = 10
PAGE_LEAF_TABLE = 13
BTREE_PAGE_TYPES = (PAGE_INTERIOR_INDEX, PAGE_INTERIOR_TABLE, PAGE_LEAF_INDEX, PAGE_LEAF_TABLE)

MAX_COLUMNS = 2000  # SQLite's default SQLITE_MAX_COLUMN
MAX_PAYLOAD = 1_000_000_000  # SQLite's default SQLITE_MAX_LENGTH
MIN_FRAGMENT_BYTES = 8  # a leftover needs this many non-zero bytes to count as a fragment
MAX_ALSO_FOUND = 16
# Up to 8 KiB pages the high bytes of a freeblock header are control characters, so one
# found over a record is telling; with larger pages ordinary bytes look like one too, and
# such look-alikes are not used as evidence of damage.
STALE_MARK_MAX_USABLE = 8192
MIN_LEARN_ROWS = 10  # live rows needed before "never NULL" is learned for a column

# Storage classes of serial types, as bit flags.
NULL, INT, REAL, TEXT, BLOB = 1, 2, 4, 8, 16
#: SQLite's ``typeof()`` names of the storage classes.
_TYPEOF_CLASSES = {"null": NULL, "integer": INT, "real": REAL, "text": TEXT, "blob": BLOB}
ANY = NULL | INT | REAL | TEXT | BLOB

# Which storage classes a carved column of each affinity may hold. INTEGER and REAL columns
# store numbers (REAL affinity writes integral values as integers); TEXT converts numbers to
# text (a blob in a TEXT column is possible but rare and the first source of false hits, so it
# is not accepted); NUMERIC and BLOB keep anything. Strictness here keeps carving honest.
AFFINITY_CLASSES: Mapping[str, int] = {
    "INTEGER": NULL | INT | REAL,
    "REAL": NULL | INT | REAL,
    "TEXT": NULL | TEXT,
    "NUMERIC": ANY,
    "BLOB": ANY,
}

_FRAGMENT_RE = re.compile(rb"[^\x00](?:\x00{0,7}[^\x00])*")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RecoveryError(TriageError, ValueError):
    """The input is not an SQLite database this module can read at all."""


class _OutOfTime(Exception):
    """The deadline given to :func:`recover` passed: the searches stop where they are."""


# ---------------------------------------------------------------------------------------------
# Low-level decoding


def read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """Decode the SQLite varint at ``pos`` (1-9 bytes, big-endian); None if it runs past ``end``."""
    if pos < end and buf[pos] < 0x80:
        return buf[pos], pos + 1
    value = 0
    for i in range(8):
        if pos + i >= end:
            return None
        byte = buf[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    if pos + 8 >= end:
        return None
    return (value << 8) | buf[pos + 8], pos + 9


def read_minimal_varint(buf: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """``read_varint`` refusing non-minimal encodings (a leading 0x80), which SQLite never
    writes: carving thus does not read a byte before a real varint as part of it."""
    if pos < end and buf[pos] == 0x80:
        return None
    return read_varint(buf, pos, end)


def varint_len(value: int) -> int:
    """Bytes the varint encoding of the unsigned 64-bit ``value`` takes."""
    if value < 0 or value >= 1 << 56:
        return 9
    length = 1
    while value >= 0x80:
        value >>= 7
        length += 1
    return length


def encode_varint(value: int) -> bytes:
    """Varint encoding of ``value`` (0 <= value < 2**56; enough for payload sizes)."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def to_signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def u16(buf: bytes, pos: int) -> int:
    return (buf[pos] << 8) | buf[pos + 1]


def u32(buf: Buffer, pos: int) -> int:
    return int.from_bytes(buf[pos : pos + 4], "big")


def serial_size(serial_type: int) -> int | None:
    """Content size of a serial type; None for the reserved types 10 and 11."""
    if serial_type >= 12:
        return (serial_type - 12) >> 1
    return (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, None, None)[serial_type]


def serial_class(serial_type: int) -> int:
    if serial_type == 0:
        return NULL
    if serial_type == 7:
        return REAL
    if serial_type < 10:
        return INT
    if serial_type < 12:
        return 0
    return BLOB if serial_type % 2 == 0 else TEXT


def decode_value(serial_type: int, raw: bytes, encoding: str, strict: bool) -> Value:
    """Decode one column; with ``strict`` a text that is not valid in ``encoding`` raises."""
    if serial_type == 0:
        return None
    if 1 <= serial_type <= 6:
        return int.from_bytes(raw, "big", signed=True)
    if serial_type == 7:
        number: float = struct.unpack(">d", raw)[0]
        return number
    if serial_type in (8, 9):
        return serial_type - 8
    if serial_type % 2 == 0:
        return bytes(raw)
    return bytes(raw).decode(encoding, "strict" if strict else "replace")


def decode_prefix_text(raw: bytes, encoding: str) -> str | None:
    """Decode the start of a cut text, dropping a character cut in half at its end."""
    for cut in range(4):
        if cut > len(raw):
            break
        try:
            return bytes(raw[: len(raw) - cut]).decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


# ---------------------------------------------------------------------------------------------
# Database header, pages, WAL, journal


@dataclass(frozen=True)
class DbHeader:
    page_size: int
    reserved: int
    page_count: int
    freelist_trunk: int
    freelist_count: int
    encoding: str

    @property
    def usable(self) -> int:
        return self.page_size - self.reserved


_ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}


def parse_db_header(page1: bytes, file_pages: int | None = None) -> DbHeader:
    """Parse the 100-byte header. ``file_pages`` bounds the page count when the file is known."""
    if len(page1) < 100 or page1[:16] != SQLITE_MAGIC:
        raise RecoveryError("not an SQLite 3 database (bad header)")
    raw_size = u16(page1, 16)
    page_size = 65536 if raw_size == 1 else raw_size
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise RecoveryError(f"invalid page size {raw_size}")
    reserved = page1[20]
    if page_size - reserved < 480:
        raise RecoveryError("reserved space leaves too little usable space")
    counted = u32(page1, 28)
    valid_count = counted > 0 and u32(page1, 92) == u32(page1, 24)
    page_count = counted if valid_count else (file_pages or 0)
    if file_pages is not None and (page_count == 0 or page_count > file_pages):
        page_count = file_pages
    return DbHeader(
        page_size=page_size,
        reserved=reserved,
        page_count=page_count,
        freelist_trunk=u32(page1, 32),
        freelist_count=u32(page1, 36),
        encoding=_ENCODINGS.get(u32(page1, 56), "utf-8"),
    )


@dataclass(frozen=True)
class WalFrame:
    number: int  # 1-based frame number in the file
    page: int
    commit_size: int  # database size in pages after this commit frame; 0 if not a commit
    data: bytes
    valid: bool  # salts and running checksum agree with the WAL header
    committed: bool  # valid and at or before the last valid commit frame


@dataclass(frozen=True)
class Wal:
    page_size: int
    frames: tuple[WalFrame, ...]

    def committed_overlay(self) -> tuple[dict[int, bytes], int | None]:
        """Newest committed image of each page, and the database size after the last commit."""
        overlay: dict[int, bytes] = {}
        size: int | None = None
        for frame in self.frames:
            if frame.committed:
                overlay[frame.page] = frame.data
                if frame.commit_size:
                    size = frame.commit_size
        return overlay, size


def _wal_checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words) - 1, 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def parse_wal(data: Buffer) -> Wal | None:
    """Parse a WAL file; None if it has no valid header. Frames past the valid ones are kept."""
    if len(data) < 32:
        return None
    magic, version, page_size = u32(data, 0), u32(data, 4), u32(data, 8)
    if magic not in WAL_MAGICS or page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return None
    del version  # 3007000 in every WAL so far; not needed to read frames
    big_endian = magic & 1 == 1
    salts = data[16:24]
    s0, s1 = _wal_checksum(bytes(data[:24]), 0, 0, big_endian)
    chain_ok = (s0, s1) == (u32(data, 24), u32(data, 28))
    frame_size = 24 + page_size
    raw: list[tuple[int, int, bytes, bool]] = []
    last_commit = 0
    for index in range((len(data) - 32) // frame_size):
        start = 32 + index * frame_size
        head = bytes(data[start : start + 24])
        page = bytes(data[start + 24 : start + frame_size])
        if chain_ok and head[8:16] == salts:
            s0, s1 = _wal_checksum(head[:8] + page, s0, s1, big_endian)
            chain_ok = (s0, s1) == (u32(head, 16), u32(head, 20))
        else:
            chain_ok = False
        commit = u32(head, 4)
        if chain_ok and commit:
            last_commit = index + 1
        raw.append((u32(head, 0), commit, page, chain_ok))
    frames = tuple(
        WalFrame(i + 1, pgno, commit, page, ok, ok and i + 1 <= last_commit)
        for i, (pgno, commit, page, ok) in enumerate(raw)
    )
    return Wal(page_size, frames)


def parse_journal(data: Buffer, page_size: int, max_page: int) -> list[tuple[int, int, bytes]]:
    """Page records (record number, page number, page image) of a rollback journal.

    A journal's header may be zeroed (``journal_mode=PERSIST`` after commit); then the sector
    size is guessed as the first power of two whose first record looks like a page record.
    Record checksums are not verified: the records are only searched, never trusted.
    """
    sectors = [512 << k for k in range(8)]
    if data[:8] == JOURNAL_MAGIC and len(data) >= 28:
        sector, psize = u32(data, 20), u32(data, 24)
        if psize == page_size and sector in sectors:
            sectors = [sector]
    for sector in sectors:
        records = _journal_records(data, sector, page_size, max_page)
        if records:
            return records
    return []


def _journal_records(data: Buffer, start: int, page_size: int, max_page: int) -> list[tuple[int, int, bytes]]:
    records: list[tuple[int, int, bytes]] = []
    pos = start
    while pos + 4 + page_size <= len(data) and len(records) < len(data) // page_size:
        pgno = u32(data, pos)
        if not 1 <= pgno <= max_page:
            break
        records.append((len(records) + 1, pgno, bytes(data[pos + 4 : pos + 4 + page_size])))
        pos += page_size + 8
    return records


class PageSource(Protocol):
    def get(self, pgno: int) -> bytes | None: ...


class PageView:
    """Pages of the database as SQLite would read them: main file overlaid with WAL frames."""

    def __init__(self, data: Buffer, page_size: int, page_count: int, overlay: Mapping[int, bytes]):
        self._data = data
        self.page_size = page_size
        self.page_count = page_count
        self._overlay = overlay

    def get(self, pgno: int) -> bytes | None:
        if not 1 <= pgno <= self.page_count:
            return None
        if pgno in self._overlay:
            return self._overlay[pgno]
        return file_page(self._data, pgno, self.page_size)


@dataclass(frozen=True)
class FileSource:
    """Pages of the main file alone (the state at the last checkpoint, in WAL mode)."""

    data: Buffer
    page_size: int

    def get(self, pgno: int) -> bytes | None:
        return file_page(self.data, pgno, self.page_size)


class WalHistory:
    """Point-in-time page images: the page as of a given WAL frame."""

    def __init__(self, wal: Wal, base: PageSource):
        self._base = base
        self._frames: dict[int, list[WalFrame]] = {}
        self._commit_of: dict[int, int] = {}
        pending: list[int] = []
        for frame in wal.frames:
            self._frames.setdefault(frame.page, []).append(frame)
            pending.append(frame.number)
            if frame.commit_size:
                self._commit_of.update((n, frame.number) for n in pending)
                pending.clear()
        self._commit_of.update((n, len(wal.frames)) for n in pending)

    def at(self, frame_number: int) -> PageSource:
        """Pages as of the end of the transaction that wrote ``frame_number`` (a transaction
        writes its pages in page-number order, so a cell's overflow pages may come later)."""
        return _WalAt(self, self._commit_of.get(frame_number, frame_number))

    def get(self, pgno: int, frame_number: int) -> bytes | None:
        newest = None
        for frame in self._frames.get(pgno, ()):
            if frame.number > frame_number:
                break
            newest = frame
        return newest.data if newest is not None else self._base.get(pgno)


@dataclass(frozen=True)
class _WalAt:
    history: WalHistory
    frame_number: int

    def get(self, pgno: int) -> bytes | None:
        return self.history.get(pgno, self.frame_number)


@dataclass(frozen=True)
class Overlay:
    """Some pages replaced (journal images over the current view)."""

    pages: Mapping[int, bytes]
    base: PageSource

    def get(self, pgno: int) -> bytes | None:
        return self.pages.get(pgno) or self.base.get(pgno)


def file_page(data: Buffer, pgno: int, page_size: int) -> bytes | None:
    start = (pgno - 1) * page_size
    if pgno < 1 or start + page_size > len(data):
        return None
    return bytes(data[start : start + page_size])


# ---------------------------------------------------------------------------------------------
# B-tree pages


@dataclass(frozen=True)
class BTreeHeader:
    kind: int
    first_freeblock: int
    cell_count: int
    content_start: int
    right_child: int
    offset: int  # 100 on page 1, else 0
    size: int  # 8 for leaves, 12 for interior pages

    @property
    def pointers_end(self) -> int:
        return self.offset + self.size + 2 * self.cell_count

    @property
    def is_leaf(self) -> bool:
        return self.kind in (PAGE_LEAF_TABLE, PAGE_LEAF_INDEX)


def parse_btree_header(page: bytes, pgno: int, usable: int) -> BTreeHeader | None:
    """The b-tree page header, or None if the page does not look like a b-tree page."""
    offset = 100 if pgno == 1 else 0
    if len(page) < offset + 12:
        return None
    kind = page[offset]
    if kind not in BTREE_PAGE_TYPES:
        return None
    size = 8 if kind in (PAGE_LEAF_TABLE, PAGE_LEAF_INDEX) else 12
    cells = u16(page, offset + 3)
    content = u16(page, offset + 5) or 65536
    header = BTreeHeader(
        kind=kind,
        first_freeblock=u16(page, offset + 1),
        cell_count=cells,
        content_start=content,
        right_child=u32(page, offset + 8) if size == 12 else 0,
        offset=offset,
        size=size,
    )
    if header.pointers_end > usable or content > usable or content < header.pointers_end:
        return None
    return header


def cell_pointers(page: bytes, header: BTreeHeader, usable: int) -> list[int]:
    """Cell offsets from the pointer array; out-of-range pointers are dropped."""
    base = header.offset + header.size
    pointers = (u16(page, base + 2 * i) for i in range(header.cell_count))
    return [p for p in pointers if header.pointers_end <= p < usable]


def freeblocks(page: bytes, header: BTreeHeader, usable: int) -> list[tuple[int, int]]:
    """(offset, size) of each freeblock; the chain must ascend, so the walk always ends."""
    blocks: list[tuple[int, int]] = []
    offset, floor = header.first_freeblock, header.pointers_end
    while offset:
        if offset < floor or offset + 4 > usable:
            break
        size = u16(page, offset + 2)
        if size < 4 or offset + size > usable:
            break
        blocks.append((offset, size))
        floor = offset + size
        offset = u16(page, offset)
    return blocks


def local_payload_size(payload: int, usable: int) -> int:
    """Bytes of a table-leaf payload stored on the page itself (the rest is on overflow pages)."""
    max_local = usable - 35
    if payload <= max_local:
        return payload
    min_local = ((usable - 12) * 32 // 255) - 23
    local = min_local + (payload - min_local) % (usable - 4)
    return local if local <= max_local else min_local


def follow_overflow(
    source: PageSource, first: int, needed: int, usable: int, allowed: Callable[[int], bool]
) -> tuple[bytes, bool, tuple[int, ...]]:
    """Read ``needed`` bytes from an overflow chain: (bytes, complete, pages read).

    Stops (incomplete) at a page not ``allowed``. A chain whose last page does not end it
    (next pointer not 0) is a chain some later record rewrote: nothing of it is returned.
    """
    out = bytearray()
    pgno, pages, seen = first, list[int](), set[int]()
    while len(out) < needed:
        page = source.get(pgno) if pgno not in seen and allowed(pgno) else None
        if page is None:
            return bytes(out), False, tuple(pages)
        pages.append(pgno)
        seen.add(pgno)
        take = min(usable - 4, needed - len(out))
        out += page[4 : 4 + take]
        pgno = u32(page, 0)
    if pgno != 0:
        return b"", False, ()
    return bytes(out), True, tuple(pages)


def walk_btree(view: PageView, root: int, usable: int) -> tuple[list[int], set[int]]:
    """Leaf pages (in key order) and all pages of the b-tree rooted at ``root``."""
    leaves: list[int] = []
    visited: set[int] = set()
    stack = [root]
    while stack:
        pgno = stack.pop()
        page = view.get(pgno) if pgno not in visited else None
        if page is None:
            continue
        visited.add(pgno)
        header = parse_btree_header(page, pgno, usable)
        if header is None:
            continue
        if header.is_leaf:
            leaves.append(pgno)
            continue
        children = [u32(page, p) for p in cell_pointers(page, header, usable) if p + 4 <= usable]
        children.append(header.right_child)
        stack.extend(reversed(children))
    return leaves, visited


def read_freelist(view: PageView, first_trunk: int) -> tuple[dict[int, int], set[int]]:
    """Freelist trunk pages (page -> number of leaf entries) and leaf pages."""
    trunks: dict[int, int] = {}
    leaves: set[int] = set()
    pgno = first_trunk
    while pgno and pgno not in trunks:
        page = view.get(pgno)
        if page is None:
            break
        count = min(u32(page, 4), (len(page) - 8) // 4)
        trunks[pgno] = count
        for i in range(count):
            leaf = u32(page, 8 + 4 * i)
            if 1 <= leaf <= view.page_count:
                leaves.add(leaf)
        pgno = u32(page, 0)
    return trunks, leaves - set(trunks)


# ---------------------------------------------------------------------------------------------
# Schema and tables


@dataclass(frozen=True)
class Column:
    name: str
    declared_type: str
    affinity: str
    notnull: bool
    rowid_alias: bool
    # What SQLite reads for this column from a record written before ALTER TABLE ADD COLUMN
    # added it: the declared default when it is a literal (ADD COLUMN allows only constants).
    default: Value = None
    default_known: bool = True  # False: a default that is not a literal (an expression)


@dataclass(frozen=True)
class Table:
    name: str
    root_page: int
    columns: tuple[Column, ...]
    min_columns: int  # records written before ALTER TABLE ADD COLUMN have fewer columns
    # Learned from the live rows: per column the storage classes seen and the largest
    # integer serial type seen (1-6). Empty when there were too few rows to learn from.
    learned: tuple[tuple[int, int], ...] = ()

    @cached_property
    def ipk_index(self) -> int | None:
        return next((i for i, c in enumerate(self.columns) if c.rowid_alias), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def allowed_classes(self, index: int, carved: bool = True) -> int:
        """Storage classes column ``index`` may hold; carved bytes must also match what the
        live rows show (a column no live row leaves NULL is not NULL in a carved record)."""
        column = self.columns[index]
        if column.rowid_alias:
            return NULL  # the value lives in the rowid; the record stores NULL
        allowed = AFFINITY_CLASSES[column.affinity]
        if column.notnull:
            allowed &= ~NULL
        if carved and self.learned:
            allowed &= self.learned[index][0]
        return allowed

    def accepts(self, types: Sequence[int], carved: bool = True) -> bool:
        if not self.min_columns <= len(types) <= len(self.columns):
            return False
        if not all(serial_class(t) & self.allowed_classes(i, carved) for i, t in enumerate(types)):
            return False
        learned = self.learned if carved else ()
        return not learned or all(not 1 <= t <= 6 or t <= learned[i][1] for i, t in enumerate(types))


def affinity_of(declared: str) -> str:
    """Column affinity from the declared type (rules of SQLite's datatype documentation)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


_WITHOUT_ROWID = re.compile(r"\)\s*(?:STRICT\s*,\s*)?WITHOUT\s+ROWID\s*(?:,\s*STRICT\s*)?;?\s*$", re.I)


def table_columns(create_sql: str) -> tuple[Column, ...] | None:
    """Columns of a CREATE TABLE statement, learned by running it on an empty in-memory db."""
    if not re.match(r"\s*CREATE\s+TABLE\b", create_sql, re.I) or _WITHOUT_ROWID.search(create_sql):
        return None
    con = sqlite3.connect(":memory:")
    try:
        con.execute(create_sql)
        name = con.execute("SELECT name FROM sqlite_schema WHERE type='table'").fetchone()[0]
        info = con.execute(
            'SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info(?)', (name,)
        ).fetchall()
        pk_columns = [row for row in info if row[3]]
        columns = []
        for col_name, declared, notnull, pk, default in info:
            alias = bool(pk) and len(pk_columns) == 1 and str(declared).upper() == "INTEGER"
            value, known = _literal_default(con, default)
            columns.append(
                Column(
                    col_name, declared or "", affinity_of(declared or ""), bool(notnull), alias, value, known
                )
            )
    except (sqlite3.Error, TypeError):
        return None
    finally:
        con.close()
    return tuple(columns)


_LITERAL = re.compile(
    r"\(*\s*(?:NULL|TRUE|FALSE|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|'(?:[^']|'')*'"
    r"|[xX]'[0-9a-fA-F]*')\s*\)*",
    re.I,
)


def _literal_default(con: sqlite3.Connection, text: str | None) -> tuple[Value, bool]:
    """The value of a column's declared default when it is a literal (number, string, blob,
    NULL); ``(None, False)`` for an expression, which is not evaluated."""
    if text is None:
        return None, True
    if len(text) > 4096 or not _LITERAL.fullmatch(text):
        return None, False
    value = con.execute(f"SELECT {text}").fetchone()[0]
    return value, True


@dataclass(frozen=True)
class SchemaEntry:
    kind: str
    name: str
    root_page: int
    sql: str


def read_schema(view: PageView, usable: int, encoding: str) -> list[SchemaEntry]:
    entries = []
    for _rowid, values in iter_table_rows(view, 1, usable, encoding):
        if len(values) < 5:
            continue
        kind, name, _tbl, root, sql = values[:5]
        if isinstance(kind, str) and isinstance(name, str) and isinstance(root, int):
            entries.append(SchemaEntry(kind, name, root, sql if isinstance(sql, str) else ""))
    return entries


def iter_table_rows(
    view: PageView, root: int, usable: int, encoding: str
) -> Iterator[tuple[int, list[Value]]]:
    """(rowid, values) of the live rows of a table b-tree, overflow chains followed."""
    for rowid, values, _cell in iter_table_cells(view, root, usable, encoding):
        yield rowid, values


def iter_table_cells(
    view: PageView, root: int, usable: int, encoding: str
) -> Iterator[tuple[int, list[Value], bytes]]:
    """(rowid, values, the cell's bytes on its page) of the live rows of a table b-tree."""
    leaves, _ = walk_btree(view, root, usable)
    for pgno in leaves:
        page = view.get(pgno)
        header = parse_btree_header(page, pgno, usable) if page else None
        if page is None or header is None or header.kind != PAGE_LEAF_TABLE:
            continue
        for offset in cell_pointers(page, header, usable):
            row = _read_live_cell(view, page, offset, usable, encoding)
            if row is not None:
                yield row


def cell_extent(page: bytes, offset: int, usable: int) -> tuple[int, int, int, int] | None:
    """(payload size, rowid, payload offset, cell end) of a table-leaf cell at ``offset``."""
    head = read_varint(page, offset, usable)
    key = read_varint(page, head[1], usable) if head else None
    if head is None or key is None:
        return None
    local = local_payload_size(head[0], usable)
    end = key[1] + local + (4 if local < head[0] else 0)
    return (head[0], key[0], key[1], end) if end <= usable else None


def _read_live_cell(
    view: PageView, page: bytes, offset: int, usable: int, encoding: str
) -> tuple[int, list[Value], bytes] | None:
    extent = cell_extent(page, offset, usable)
    if extent is None:
        return None
    payload_size, rowid, pos, end = extent
    local = local_payload_size(payload_size, usable)
    payload = page[pos : pos + local]
    if local < payload_size:
        rest, _, _ = follow_overflow(
            view, u32(page, pos + local), payload_size - local, usable, lambda _p: True
        )
        payload += rest
    values = decode_record_lenient(payload, encoding)
    return None if values is None else (to_signed64(rowid), values, page[offset:end])


def decode_record_lenient(payload: bytes, encoding: str) -> list[Value] | None:
    """Decode a whole record; bad text is replaced, missing bytes give None (live rows only)."""
    head = read_varint(payload, 0, len(payload))
    if head is None or head[0] > len(payload):
        return None
    header_end, pos = head[0], head[1]
    types = []
    while pos < header_end:
        item = read_varint(payload, pos, header_end)
        if item is None or serial_size(item[0]) is None:
            return None
        types.append(item[0])
        pos = item[1]
    values: list[Value] = []
    body = header_end
    for serial_type in types:
        size = serial_size(serial_type) or 0
        raw = payload[body : body + size]
        values.append(decode_value(serial_type, raw, encoding, strict=False) if len(raw) == size else None)
        body += size
    return values


# ---------------------------------------------------------------------------------------------
# Carving


@dataclass(frozen=True)
class Location:
    kind: str  # freeblock | unallocated | freelist | wal | superseded | journal
    page: int
    offset: int
    frame: int | None = None
    area: str = ""  # cell | freeblock | unallocated | trunk | page

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "page": self.page, "offset": self.offset}
        if self.frame is not None:
            out["frame"] = self.frame
        if self.area:
            out["area"] = self.area
        return out


@dataclass(frozen=True)
class Hit:
    """One record decoded from a byte range ``[start, end)`` of a page image."""

    table: Table
    rowid: int | None
    values: tuple[Value, ...]
    start: int
    end: int
    truncated: bool = False
    notes: tuple[str, ...] = ()
    body: int = 0  # offset of the record body (after the record header)
    binary: tuple[tuple[int, int], ...] = ()  # on-page spans of non-text values
    overflow_pages: tuple[int, ...] = ()  # free pages the values were read from
    cut_values: tuple[Value, ...] | None = None  # the values from the page alone

    def cut(self, note: str) -> Hit:
        """This record with only what its own page holds (overflow content distrusted)."""
        values = self.cut_values if self.cut_values is not None else self.values
        return replace(self, values=values, truncated=True, notes=(note,), overflow_pages=(), cut_values=None)


@dataclass(frozen=True)
class Carver:
    """Decodes deleted records against the signatures of the target tables.

    ``source`` and ``overflow_ok`` say where overflow pages are read from and which may be
    used. For a cell of an old page version the source is that point in time and any page
    is fine; for a freed record only free pages are, and ``free_overflow`` is True: such
    content may have been rewritten by a later record, which ``_cut_shared_overflow``
    checks among the records found.
    """

    source: PageSource
    usable: int
    encoding: str
    overflow_ok: Callable[[int], bool]
    free_overflow: bool = True

    # --- whole cells (payload size and rowid intact)

    def cell_at(
        self, buf: bytes, pos: int, end: int, tables: Sequence[Table], carved: bool = True
    ) -> Hit | None:
        """A whole cell at ``pos``; ``carved`` is False when a cell pointer points there."""
        head = self.cell_head_at(buf, pos, end, tables, carved)
        if head is None:
            return None
        payload, rowid, types, header_len, body, matching = head
        for table in matching:
            hit = self.finish(buf, table, types, header_len, body, end, rowid, pos, payload, carved)
            if hit is not None:
                return hit
        return None

    def cell_head_at(
        self, buf: bytes, pos: int, end: int, tables: Sequence[Table], carved: bool = True
    ) -> tuple[int, int, list[int], int, int, list[Table]] | None:
        """Payload size, rowid and record header of a cell at ``pos`` that some table accepts
        and whose payload size agrees with the header; the body is not read."""
        head = read_minimal_varint(buf, pos, end)
        if head is None or not 2 <= head[0] <= MAX_PAYLOAD:
            return None
        key = read_minimal_varint(buf, head[1], end)
        if key is None or not 0 < key[0] < 1 << 63:
            return None
        parsed = parse_record_header(buf, key[1], end, _max_columns(tables))
        if parsed is None:
            return None
        types, header_len, body = parsed
        if header_len + sum(serial_size(t) or 0 for t in types) != head[0]:
            return None
        matching = [t for t in tables if t.accepts(types, carved)]
        return (head[0], key[0], types, header_len, body, matching) if matching else None

    def record_at(
        self, buf: bytes, pos: int, end: int, tables: Sequence[Table], head_possible: bool = True
    ) -> tuple[Hit | None, bool]:
        """A whole cell at ``pos``, else a freed cell under a stale freeblock header there.

        The flag tells whether a cell header that fits a table starts at ``pos`` even when
        its body does not decode: evidence that a cell was written there.
        """
        if not (buf[pos] or buf[pos + 1] or buf[pos + 2] or buf[pos + 3]):
            return None, False
        # The mark only needs the column affinities to fit (not what live rows teach).
        head = self.cell_head_at(buf, pos, end, tables, carved=False) if head_possible else None
        if head is not None:
            payload, rowid, types, header_len, body, matching = head
            for table in matching:
                if table.accepts(types, carved=True):
                    hit = self.finish(buf, table, types, header_len, body, end, rowid, pos, payload)
                    if hit is not None:
                        return hit, True
        stale = _stale_freeblock_size(buf, pos, end, self.usable)
        hit = self.freed_cell(buf, pos, stale[0], tables, stale[1]) if stale else None
        return hit, head is not None

    # --- freed cells whose first 4 bytes were overwritten by a freeblock header

    def freed_cell(
        self, buf: bytes, start: int, size: int, tables: Sequence[Table], size_known: bool = True
    ) -> Hit | None:
        """Decode the record of a cell freed at ``start`` (freeblock of ``size`` bytes).

        The 4 overwritten bytes held the payload-size and rowid varints and, for short cells
        with small rowids, the record-header length and even the first serial type. Each
        layout the lost bytes could have had is tried; a decode whose cell ends exactly at the
        end of the freeblock is preferred, then the layouts in the order generated.
        ``size_known`` is False for a stale header whose block was cut short: then no column
        size is inferred from the block size.
        """
        block_end = min(start + size, self.usable)
        layouts = self._freed_layouts(buf, start, block_end, tables, size_known)
        hits = [hit for hit in layouts if hit is not None]
        if not hits:
            return None
        exact = [hit for hit in hits if hit.end == block_end]
        best = (exact or hits)[0]
        if len({(h.table.name, h.values) for h in (exact or hits)}) > 1:
            best = replace(best, notes=(*best.notes, "ambiguous layout"))
        return best

    def _freed_layouts(
        self, buf: bytes, start: int, end: int, tables: Sequence[Table], size_known: bool
    ) -> Iterator[Hit | None]:
        for extra in range(10):
            yield from self._layout_header_intact(buf, start, end, extra, tables)
        for table in tables:
            yield from self._layout_header_length_lost(buf, start, end, table)
            yield from self._layout_first_type_lost(buf, start, end, table, size_known)

    def _layout_header_intact(
        self, buf: bytes, start: int, end: int, extra: int, tables: Sequence[Table]
    ) -> Iterator[Hit | None]:
        """Record header intact at ``start + 4 + extra``; size and rowid varints lost or cut."""
        hpos = start + 4 + extra
        if hpos >= end or (extra and buf[hpos - 1] & 0x80):
            return
        parsed = parse_record_header(buf, hpos, end, _max_columns(tables))
        if parsed is None:
            return
        types, header_len, body = parsed
        for table in tables:
            if not table.accepts(types):
                continue
            payload = header_len + sum(serial_size(t) or 0 for t in types)
            consistent, rowid = _prefix_rowid(buf[start + 4 : hpos], payload, 4 + extra)
            if not consistent:
                continue
            yield self.finish(buf, table, types, header_len, body, end, rowid, start, payload)

    def _layout_header_length_lost(
        self, buf: bytes, start: int, end: int, table: Table
    ) -> Iterator[Hit | None]:
        """Header-length varint lost; all serial types intact from ``start + 4``."""
        for count in range(len(table.columns), table.min_columns - 1, -1):
            read = read_varints(buf, start + 4, end, count)
            if read is None or not table.accepts(read[0]):
                continue
            types, body = read
            header_len = _header_len(body - (start + 4))
            if header_len is None:
                continue
            payload = header_len + sum(serial_size(t) or 0 for t in types)
            lost_len = header_len - (body - (start + 4))
            if 4 - varint_len(payload) - lost_len < 1:
                continue  # no room left for the rowid varint
            yield self.finish(buf, table, types, header_len, body, end, None, start, payload)

    def _layout_first_type_lost(
        self, buf: bytes, start: int, end: int, table: Table, size_known: bool
    ) -> Iterator[Hit | None]:
        """Header length and first serial type lost: payload size and rowid were 1 byte each.

        The first type is known when the first column is the rowid alias (NULL in the record).
        Otherwise its size is taken from the freeblock size (only for a real freeblock, and
        the record must then end exactly at the block end); such records carry a note, as
        the size is wrong if the freed cell was merged with a neighbour.
        """
        if table.ipk_index != 0 and not size_known:
            return
        for count in range(len(table.columns), table.min_columns - 1, -1):
            read = read_varints(buf, start + 4, end, count - 1)
            if read is not None:
                yield self._first_type_lost(buf, start, end, table, *read)

    def _first_type_lost(
        self, buf: bytes, start: int, end: int, table: Table, rest: list[int], body: int
    ) -> Hit | None:
        header_len = 2 + (body - (start + 4))
        rest_size = sum(serial_size(t) or 0 for t in rest)
        note: tuple[str, ...] = ()
        first = 0
        if table.ipk_index != 0:
            inferred = _type_for_size((end - start - 2) - header_len - rest_size, table.columns[0].affinity)
            if inferred is None:
                return None
            first, note = inferred, ("first column size inferred from freeblock size",)
        types = [first, *rest]
        payload = header_len + rest_size + (serial_size(first) or 0)
        if payload >= 128 or header_len >= 128 or first >= 128 or not table.accepts(types):
            return None
        hit = self.finish(buf, table, types, header_len, body, end, None, start, payload)
        if hit is None or (note and hit.end != end):
            return None
        return replace(hit, notes=hit.notes + note) if note else hit

    # --- common tail: body, overflow, values

    def finish(
        self,
        buf: bytes,
        table: Table,
        types: Sequence[int],
        header_len: int,
        body: int,
        end: int,
        rowid: int | None,
        cell_start: int,
        payload: int,
        carved: bool = True,
    ) -> Hit | None:
        """Decode the body of a record whose header was read; follow or flag overflow.

        A carved record whose body is empty (only NULL, 0 and 1 constants) is refused: such
        headers turn up by chance in stale pointer arrays and say nothing anyway; so is one
        that ``plausible`` rejects. A cell a pointer array still lists only has to decode.
        """
        sizes = [serial_size(t) or 0 for t in types]
        if header_len + sum(sizes) != payload or (carved and not any(sizes)):
            return None
        local = local_payload_size(payload, self.usable)
        local_body = local - header_len
        if local_body < 0:
            return None
        notes: tuple[str, ...] = ()
        if local == payload:
            if body + payload - header_len > end:
                return None
            blob, cell_end, complete = buf[body : body + local_body], body + local_body, True
        else:
            if body + local_body + 4 > end:
                return None
            first_overflow = u32(buf, body + local_body)
            rest, complete, pages = follow_overflow(
                self.source, first_overflow, payload - local, self.usable, self.overflow_ok
            )
            blob, cell_end = buf[body : body + local_body] + rest, body + local_body + 4
            notes = ("overflow followed",) if complete else ("overflow chain lost; values cut",)
        values = decode_columns(types, sizes, blob, self.encoding)
        if values is None or (carved and not plausible(values[0])):
            return None
        decoded, truncated = values
        row = _complete_row(table, decoded, rowid)
        binary = _binary_spans(types, sizes, body, body + local_body)
        hit = Hit(table, rowid, row, cell_start, cell_end, truncated, notes, body, binary)
        if local < payload and complete and self.free_overflow:
            local_only = decode_columns(types, sizes, buf[body : body + local_body], self.encoding)
            cut = _complete_row(table, local_only[0], rowid) if local_only else None
            hit = replace(hit, overflow_pages=pages, cut_values=cut)
        return hit


def _binary_spans(
    types: Sequence[int], sizes: Sequence[int], body: int, local_end: int
) -> tuple[tuple[int, int], ...]:
    """Page offsets of the numbers and blobs of a record (texts are checked by decoding)."""
    spans, pos = [], body
    for serial_type, size in zip(types, sizes, strict=False):
        if size and not (serial_type >= 13 and serial_type % 2) and pos < local_end:
            spans.append((pos, min(pos + size, local_end)))
        pos += size
    return tuple(spans)


def plausible(values: Sequence[Value]) -> bool:
    """A carved record must say something, and its texts must look like text.

    All-NULL/empty records are dropped (nothing to show, and the commonest false hit in
    zeroed space); so are texts with control characters other than tab, CR and LF, which
    decoding random bytes as UTF-8 produces and chat text does not hold.
    """
    informative = False
    for value in values:
        if isinstance(value, str) and _CONTROL_RE.search(value):
            return False
        if value is not None and value != "" and value != b"":
            informative = True
    return informative


def parse_record_header(
    buf: bytes, pos: int, end: int, max_types: int = MAX_COLUMNS
) -> tuple[list[int], int, int] | None:
    """(serial types, header length, body offset) of a record header starting at ``pos``."""
    head = read_minimal_varint(buf, pos, end)
    if head is None:
        return None
    header_len, cur = head
    header_end = pos + header_len
    if header_len < 2 or header_len > max_types * 9 + 3 or header_end > end:
        return None
    types: list[int] = []
    while cur < header_end:
        item = read_minimal_varint(buf, cur, header_end)
        if item is None or item[0] in (10, 11) or len(types) == max_types:
            return None
        types.append(item[0])
        cur = item[1]
    return types, header_len, header_end


@lru_cache(maxsize=64)
def header_start_pattern(tables: tuple[Table, ...]) -> re.Pattern[bytes]:
    """Where a record header of one of ``tables`` may start: its length byte(s), then a
    first serial type the first column allows. Used to skip hopeless offsets quickly."""
    lengths, firsts = bytearray(256), bytearray(256)
    long_header = False
    for table in tables:
        low, high = table.min_columns + 1, len(table.columns) * 9 + 1
        for value in range(max(2, low), min(high, 127) + 1):
            lengths[value] = 1
        long_header |= high >= 128
        allowed = table.allowed_classes(0)
        for value in range(128):
            if value not in (10, 11) and serial_class(value) & allowed:
                firsts[value] = 1
        if allowed & (TEXT | BLOB):
            firsts[0x81:] = b"\x01" * (256 - 0x81)
    length_class, first_class = _byte_class(lengths), _byte_class(firsts)
    if not length_class or not first_class:
        return re.compile(b"(?!)")
    pattern = b"[" + length_class + b"][" + first_class + b"]"
    if long_header:
        pattern = b"(?:" + pattern + b"|[\x81-\xff][\x00-\x7f][" + first_class + b"])"
    return re.compile(b"(?=" + pattern + b")", re.S)


@lru_cache(maxsize=8)
def stale_header_pattern(usable: int) -> re.Pattern[bytes]:
    """Where a freeblock header (next offset, size >= 4, both below ``usable``) may be."""
    high = re.escape(bytes([(usable - 1) >> 8]))
    return re.compile(
        b"(?=[\\x00-" + high + b"][\\s\\S](?:[\\x01-" + high + b"][\\s\\S]|\\x00[\\x04-\\xff]))", re.S
    )


def _byte_class(flags: bytearray) -> bytes:
    return b"".join(re.escape(bytes([b])) for b in range(256) if flags[b])


def _max_columns(tables: Sequence[Table]) -> int:
    return max((len(t.columns) for t in tables), default=0)


def read_varints(buf: bytes, pos: int, end: int, count: int) -> tuple[list[int], int] | None:
    values: list[int] = []
    for _ in range(count):
        item = read_minimal_varint(buf, pos, end)
        if item is None or item[0] in (10, 11):
            return None
        values.append(item[0])
        pos = item[1]
    return values, pos


def _header_len(types_len: int) -> int | None:
    """Record-header length when its serial types take ``types_len`` bytes."""
    for size_len in (1, 2, 3):
        if varint_len(types_len + size_len) == size_len:
            return types_len + size_len
    return None


def _type_for_size(size: int, affinity: str) -> int | None:
    """The serial type a column of ``affinity`` with ``size`` content bytes must have had."""
    if size < 0:
        return None
    if affinity == "TEXT":
        return 13 + 2 * size
    if affinity in ("INTEGER", "REAL"):
        if size == 8:
            return 7 if affinity == "REAL" else 6
        return {1: 1, 2: 2, 3: 3, 4: 4, 6: 5}.get(size)
    return None  # NUMERIC/BLOB: text or blob of that size would be a guess


def _prefix_rowid(visible: bytes, payload: int, prefix_len: int) -> tuple[bool, int | None]:
    """Check the visible tail of the cell prefix (payload varint + rowid varint).

    ``prefix_len`` bytes held both varints; the first 4 were overwritten, ``visible`` is the
    rest. Returns (consistent, rowid); the rowid is None unless it is wholly visible.
    """
    rowid_len = prefix_len - varint_len(payload)
    if not 1 <= rowid_len <= 9:
        return False, None
    rowid_bytes = visible[-rowid_len:] if rowid_len <= len(visible) else visible
    if any(b < 0x80 for b in rowid_bytes[:-1]):
        return False, None
    payload_visible = len(visible) - rowid_len
    if payload_visible > 0 and visible[:payload_visible] != encode_varint(payload)[-payload_visible:]:
        return False, None
    if rowid_len > len(visible):
        return True, None
    parsed = read_varint(rowid_bytes, 0, len(rowid_bytes))
    return (True, to_signed64(parsed[0])) if parsed else (False, None)


def decode_columns(
    types: Sequence[int], sizes: Sequence[int], blob: bytes, encoding: str
) -> tuple[list[Value], bool] | None:
    """Decode the body strictly. A cut body keeps whole columns, cuts a text or blob at the
    cut, and leaves later columns None (``truncated`` is then True)."""
    values: list[Value] = []
    pos, truncated = 0, False
    for serial_type, size in zip(types, sizes, strict=False):
        raw = blob[pos : pos + size]
        pos += size
        if len(raw) == size:
            try:
                values.append(decode_value(serial_type, raw, encoding, strict=True))
            except (UnicodeDecodeError, struct.error):
                return None
            continue
        truncated = True
        if serial_type >= 13 and serial_type % 2:
            values.append(decode_prefix_text(raw, encoding))
        elif serial_type >= 12:
            values.append(bytes(raw))
        else:
            values.append(None)
    return values, truncated


def _complete_row(table: Table, decoded: Sequence[Value], rowid: int | None) -> tuple[Value, ...]:
    """A record's values for every column: a record written before columns were added holds
    fewer, and SQLite reads the added ones as their declared defaults."""
    values = list(decoded) + [c.default for c in table.columns[len(decoded) :]]
    if table.ipk_index is not None:
        values[table.ipk_index] = rowid
    return tuple(values)


# ---------------------------------------------------------------------------------------------
# Scanning page images


@dataclass
class Found:
    hit: Hit
    where: Location


@dataclass
class PageScan:
    """Scans one page image; collects hits and counts leftovers as fragments."""

    carver: Carver
    kind: str
    fragments: Counter[str]
    stats: Counter[str]
    found: list[Found] = field(default_factory=list)
    cell_carver: Carver | None = None  # for cells still in a page's pointer array
    cache: dict[tuple[object, ...], tuple[list[Hit], int, int]] | None = None  # equal regions
    live_cells: Container[int] = field(default_factory=set)  # digests of live cells, not decoded again

    def btree_page(
        self, page: bytes, pgno: int, tables: Sequence[Table], frame: int | None, cells: bool
    ) -> None:
        usable = self.carver.usable
        header = parse_btree_header(page, pgno, usable)
        if header is None:
            self.region(page, 0 if pgno != 1 else 100, usable, pgno, tables, frame, "page")
            return
        if cells and header.kind == PAGE_LEAF_TABLE:
            self.cells(page, header, pgno, tables, frame)
        for offset, size in freeblocks(page, header, usable):
            self.freeblock(page, offset, size, pgno, tables, frame)
        # On an interior or index page, old table-leaf records lie under cells of another
        # shape: any plausible freeblock header inside a record then also marks damage.
        foreign = header.kind != PAGE_LEAF_TABLE
        self.carve(
            page,
            old_pointers_end(page, header, usable),
            header.content_start,
            pgno,
            tables,
            frame,
            "unallocated",
            foreign_cells=foreign,
        )

    def cells(
        self, page: bytes, header: BTreeHeader, pgno: int, tables: Sequence[Table], frame: int | None
    ) -> None:
        carver = self.cell_carver or self.carver
        for offset in cell_pointers(page, header, carver.usable):
            extent = cell_extent(page, offset, carver.usable)
            if extent is not None and cell_digest(page[offset : extent[3]]) in self.live_cells:
                self.stats["suppressed_live_duplicates"] += 1
                continue
            hit = carver.cell_at(page, offset, carver.usable, tables, carved=False)
            if hit is None:
                self.stats["cells_not_matching"] += 1
            else:
                self.add(hit, pgno, frame, "cell")

    def freeblock(
        self, page: bytes, offset: int, size: int, pgno: int, tables: Sequence[Table], frame: int | None
    ) -> None:
        self.stats["freeblocks"] += 1
        first = self.carver.freed_cell(page, offset, size, tables)
        self.carve(page, offset, offset + size, pgno, tables, frame, "freeblock", first)

    def region(
        self,
        page: bytes,
        start: int,
        end: int,
        pgno: int,
        tables: Sequence[Table],
        frame: int | None,
        area: str,
    ) -> None:
        self.carve(page, start, end, pgno, tables, frame, area)

    def carve(
        self,
        page: bytes,
        start: int,
        end: int,
        pgno: int,
        tables: Sequence[Table],
        frame: int | None,
        area: str,
        first: Hit | None = None,
        foreign_cells: bool = False,
    ) -> None:
        """Try every offset of ``[start, end)``; keep the records no later record overlaps.

        ``first`` is the record decoded at a freeblock start (whose own 4-byte header is not
        searched). Leftover bytes are counted as fragments.
        """
        key = (page[start:end], start, tuple(t.name for t in tables), first, foreign_cells, area)
        result = self.cache.get(key) if self.cache is not None else None
        if result is None:
            result = self._carve(page, start, end, tuple(tables), area, first, foreign_cells)
            if self.cache is not None:
                self.cache[key] = result
        kept, damaged, fragments = result
        self.fragments[f"{self.kind}/overwritten"] += damaged
        self.fragments[f"{self.kind}/{area}"] += fragments
        for hit in kept:
            self.add(hit, pgno, frame, area)

    def _carve(
        self,
        page: bytes,
        start: int,
        end: int,
        tables: tuple[Table, ...],
        area: str,
        first: Hit | None,
        foreign_cells: bool,
    ) -> tuple[list[Hit], int, int]:
        hits = [first] if first else []
        marks: list[int] = []  # a cell header starts here
        stale_marks: list[int] = []  # a freeblock header may start here
        begin = start + 4 if first or area == "freeblock" else start
        if first is None and page.count(0, begin, end) == end - begin:
            return [], 0, 0  # zeros hold no record, no header and no fragment (most free space)
        heads: set[int] = set()  # offsets where a cell could start: 2-14 bytes before a header
        for match in header_start_pattern(tables).finditer(page, begin, end):
            heads.update(range(max(begin, match.start() - 14), match.start() - 1))
        stale = {m.start() for m in stale_header_pattern(self.carver.usable).finditer(page, begin, end)}
        for pos in sorted(heads | stale):
            if pos > end - 4:
                break
            hit, mark = self.carver.record_at(page, pos, end, tables, pos in heads)
            if hit is not None:
                hits.append(hit)
            if mark:
                marks.append(pos)
            elif (
                self.carver.usable <= STALE_MARK_MAX_USABLE
                and pos in stale
                and _stale_freeblock_size(page, pos, end, self.carver.usable)
            ):
                (marks if foreign_cells else stale_marks).append(pos)
        kept, damaged = drop_overwritten(hits, marks, stale_marks)
        fragments, gap = 0, begin
        for hit in kept:
            fragments += count_fragments(page, gap, hit.start)
            gap = hit.end
        return kept, damaged, fragments + count_fragments(page, gap, end)

    def add(self, hit: Hit, pgno: int, frame: int | None, area: str) -> None:
        offset = hit.start
        self.found.append(Found(hit, Location(self._kind(area), pgno, offset, frame, area)))

    def _kind(self, area: str) -> str:
        if self.kind != "db":
            return self.kind
        return "unallocated" if area == "page" else area


def old_pointers_end(page: bytes, header: BTreeHeader, usable: int) -> int:
    """End of the cell pointers left past the array when cells were removed.

    They are 2-byte offsets of cells that were on the page: each still points at a cell
    start or a freeblock header, past the end of the array it was in. Read as a freeblock
    header they would give a false record start, so carving begins after them.
    """
    pos, lowest = header.pointers_end, usable
    while pos + 2 <= min(header.content_start, lowest):
        target = u16(page, pos)
        if not pos + 2 <= target < usable - 4 or not _cell_or_freeblock_at(page, target, usable):
            break
        lowest = min(lowest, target)
        pos += 2
    return pos


def _cell_or_freeblock_at(page: bytes, pos: int, usable: int) -> bool:
    if _stale_freeblock_size(page, pos, usable, usable):
        return True
    head = read_minimal_varint(page, pos, usable)
    key = read_minimal_varint(page, head[1], usable) if head else None
    return key is not None and key[1] < usable and page[key[1]] >= 2


def count_fragments(page: bytes, start: int, end: int) -> int:
    """Runs of at least MIN_FRAGMENT_BYTES non-zero bytes (gaps under 8 zeros joined)."""
    if end - start < MIN_FRAGMENT_BYTES:
        return 0
    runs = _FRAGMENT_RE.finditer(page, start, end)
    return sum(1 for m in runs if len(m.group()) - m.group().count(0) >= MIN_FRAGMENT_BYTES)


def drop_overwritten(
    hits: Sequence[Hit], marks: Sequence[int], stale_marks: Sequence[int] = ()
) -> tuple[list[Hit], int]:
    """Drop records that a later cell was written over.

    ``marks`` are offsets where a cell header fitting a table starts. A cell that starts
    inside record A was written after A (writing A's cell would otherwise have destroyed
    that header), so A's bytes from there on are the newer cell's: A would decode to wrong
    values and is dropped. ``stale_marks`` are offsets where a freeblock header may start:
    one over a number or blob of A (texts are guarded by strict decoding, which a header's
    zero and control bytes fail) means a cell was written and freed there, over A's
    values. Of records ending at the same byte, the one
    starting later checked more bytes and is kept (a freeblock-header layout one byte
    earlier is chance). Returns the kept records (by offset) and how many were dropped as
    written over.
    """
    by_end: dict[int, Hit] = {}
    for hit in hits:
        if hit.end not in by_end or hit.start > by_end[hit.end].start:
            by_end[hit.end] = hit
    hit_starts = {hit.start for hit in by_end.values()}
    starts = sorted(set(marks) | hit_starts)
    # A freeblock-header look-alike overlapping the start of a record's own header is chance.
    stale = sorted(m for m in stale_marks if not hit_starts & {m + 1, m + 2, m + 3})
    kept: list[Hit] = []
    dropped: list[Hit] = []
    for hit in sorted(by_end.values(), key=lambda h: h.start):
        if _any_between(starts, hit.start + 1, hit.end) or any(
            _any_between(stale, max(hit.body, low - 3), high) for low, high in hit.binary
        ):
            dropped.append(hit)
        else:
            kept.append(hit)
    # A dropped decode spanning a kept record's start was a chance reading, not a record.
    kept_starts = [hit.start for hit in kept]
    damaged = sum(1 for hit in dropped if not _any_between(kept_starts, hit.start + 1, hit.end))
    return kept, damaged


def _any_between(sorted_offsets: Sequence[int], low: int, high: int) -> bool:
    """Whether some offset lies in ``[low, high)``."""
    index = bisect.bisect_left(sorted_offsets, low)
    return index < len(sorted_offsets) and sorted_offsets[index] < high


def _stale_freeblock_size(page: bytes, pos: int, limit: int, usable: int) -> tuple[int, bool] | None:
    """Size of a freeblock header left at ``pos`` by an earlier free, if it is plausible.

    The block may since have been cut short by cells written after it, so the size is
    clamped to ``limit``. Returns (size, whether the size was not clamped).
    """
    if pos + 4 > limit:
        return None
    nxt, size = u16(page, pos), u16(page, pos + 2)
    if size < 4 or pos + size > usable:
        return None
    if nxt and not pos + size <= nxt < usable:
        return None
    return min(size, limit - pos), pos + size <= limit


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Candidate:
    table: str
    rowid: int | None
    values: tuple[Value, ...]
    columns: tuple[str, ...]
    where: Location
    status: str  # deleted | modified (older version of a live rowid) | rowid_unknown
    truncated: bool = False
    notes: tuple[str, ...] = ()
    also_found: list[Location] = field(default_factory=list)
    deleted: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "rowid": self.rowid,
            "values": dict(zip(self.columns, self.values, strict=False)),
            "deleted": True,
            "status": self.status,
            "where": self.where.as_dict(),
            "also_found": [loc.as_dict() for loc in self.also_found],
            "truncated": self.truncated,
            "notes": list(self.notes),
        }


@dataclass
class RecoveryResult:
    candidates: list[Candidate]
    fragments: Counter[str]
    stats: Counter[str]
    tables: dict[str, Table]
    owners: dict[int, str] = field(default_factory=dict)  # b-tree page -> owning table/index now

    def for_table(self, name: str) -> list[Candidate]:
        return [c for c in self.candidates if c.table == name]


@dataclass(frozen=True)
class LiveRows:
    """A table's live rows as SQLite reads them (see :func:`recover`'s ``live_values``)."""

    rows: Iterable[tuple[int, Sequence[Value]]]  # (rowid, values), values in column order
    # Per column: the smallest and largest integer the records on the pages hold (a REAL
    # column's integral values within 64 bits are written as integers), None for none; None
    # to have them learned from ``rows``.
    int_ranges: Sequence[tuple[int, int] | None] | None = None
    # The distinct tuples of the rows' storage classes, as SQLite's typeof() names them
    # ("null", "integer", "real", "text", "blob"; a REAL column's integral values within 64 bits
    # named "integer"), and the number of rows: given both (and ``int_ranges``), what recovery
    # learns needs no row, and ``rows`` is read only when a found record is compared with them.
    shapes: Sequence[tuple[str, ...]] | None = None
    count: int | None = None


#: Given a table, its live rows as SQLite reads them, or None (see recover()).
LiveValues = Callable[["Table"], "LiveRows | None"]


class _LiveIndex:
    """Live rows of one table, as digests by rowid and by content without the rowid alias.

    Holding every live row's values would take several times the table's size in memory; a
    digest takes a fixed few dozen bytes a row. The checks that need the values (a cut record
    against the live rows, damaged copies of live rows) read the table again from its pages
    (:meth:`rows`), once per recovery. ``rows`` makes a fresh iterator over the live cells.
    """

    def __init__(
        self,
        table: Table,
        rows: Callable[[], Iterable[tuple[int, list[Value], bytes]]],
        values: LiveRows | None = None,
    ):
        """``rows`` reads the live cells from the pages; ``values``, when given, are the same
        rows as SQLite itself returns them (``SELECT rowid, *`` on the database as the view
        shows it): the digests and what is learned come from them at C speed, and the cells'
        digests are then taken from the pages only if a search asks for one."""
        self._by_rowid = _DigestMap()  # rowid -> digest of the row without its rowid alias
        self._contents = _DigestSet()  # the same digests, to ask without a rowid
        self._table = table
        self._cells = rows
        self._classes: list[int] = []
        self._widest: list[int] = []
        self._count: int | None = None  # rows, when known before their digests
        self._unread: LiveRows | None = None  # rows whose digests are taken at the first question
        self.cells: Container[int]  # digests of the live cells as on the pages
        if (
            values is not None
            and values.shapes is not None
            and values.count is not None
            and values.int_ranges is not None
        ):
            self._learn_shapes(values.shapes, values.int_ranges)
            self._count = values.count
            self._unread = values
            self.cells = _LazyCells(rows)
            return
        if values is not None:
            try:
                self._read(values.rows, int_ranges=values.int_ranges)
                self.cells = _LazyCells(rows)
                return
            except sqlite3.Error:
                pass  # SQLite could not read the table to its end: the pages can say more
        cells = _DigestSet()

        def decoded() -> Iterator[tuple[int, list[Value]]]:
            for rowid, values, cell in rows():
                cells.add(cell_digest(cell))
                yield rowid, values

        self._read(decoded(), real_as_int=False)
        cells.freeze()
        self.cells = cells

    def _read(
        self,
        values: Iterable[tuple[int, Sequence[Value]]],
        real_as_int: bool = True,
        int_ranges: Sequence[tuple[int, int] | None] | None = None,
    ) -> None:
        table = self._table
        self._by_rowid = _DigestMap()
        self._contents = _DigestSet()
        self._classes = [0] * len(table.columns)
        self._widest = [0] * len(table.columns)
        if int_ranges is not None:
            self._read_fast(values, int_ranges)
            return
        real = [i for i, c in enumerate(table.columns) if real_as_int and c.affinity == "REAL"]
        for rowid, decoded in values:
            row = _complete_row(table, decoded[: len(table.columns)], rowid)
            for i in real:
                # A REAL column stores an integral value that fits 64 bits as an integer and
                # SQLite reads it back as a float: learn the class the record on the page has.
                value = row[i]
                if isinstance(value, float) and value.is_integer() and -(2**63) <= value < 2**63:
                    row = (*row[:i], int(value), *row[i + 1 :])
            self._add(rowid, row)
        self._by_rowid.freeze()
        self._contents.freeze()

    def _read_fast(
        self, values: Iterable[tuple[int, Sequence[Value]]], int_ranges: Sequence[tuple[int, int] | None]
    ) -> None:
        """The digests, and the storage classes from each row's tuple of value types (a table has
        few distinct ones); the integer widths come from ``int_ranges``."""
        table = self._table
        ipk = table.ipk_index
        real = [i for i, c in enumerate(table.columns) if c.affinity == "REAL"]
        shapes: set[tuple[type, ...]] = set()
        width = len(table.columns)
        blake2b, dumps = hashlib.blake2b, marshal.dumps
        for rowid, decoded in values:
            # SQLite gives every column (an added one's default too) and the rowid alias filled.
            row = tuple(decoded) if len(decoded) == width else _complete_row(table, decoded[:width], rowid)
            content = row if ipk is None else row[:ipk] + row[ipk + 1 :]
            shape = tuple(map(type, row))
            if float in shape:
                digest = row_digest(content)
                if real:
                    # A REAL column stores an integral value within 64 bits as an integer.
                    shape = tuple(
                        int
                        if i in real and t is float and row[i].is_integer() and -(2**63) <= row[i] < 2**63  # type: ignore[union-attr,operator]
                        else t
                        for i, t in enumerate(shape)
                    )
            else:  # row_digest without the floats to make canonical
                digest = int.from_bytes(blake2b(dumps(content, 2), digest_size=8).digest(), "big")
            self._by_rowid.add(rowid, digest)
            self._contents.add(digest)
            shapes.add(shape)
        bits = {type(None): NULL, int: INT, float: REAL, str: TEXT, bytes: BLOB}
        for shape in shapes:
            for i, t in enumerate(shape):
                self._classes[i] |= bits.get(t, BLOB if issubclass(t, bytes) else TEXT)
        self._learn_widths(int_ranges)
        self._by_rowid.freeze()
        self._contents.freeze()

    def _learn_widths(self, int_ranges: Sequence[tuple[int, int] | None]) -> None:
        for i, extremes in enumerate(int_ranges):
            if extremes is not None:
                self._widest[i] = max(_storage_of(v)[1] for v in extremes)

    def _learn_shapes(
        self, shapes: Iterable[tuple[str, ...]], int_ranges: Sequence[tuple[int, int] | None]
    ) -> None:
        """What :meth:`_read_fast` learns, from the storage classes SQLite names (LiveRows.shapes)."""
        width = len(self._table.columns)
        self._classes = [0] * width
        self._widest = [0] * width
        for shape in shapes:
            for i, name in enumerate(shape[:width]):
                self._classes[i] |= _TYPEOF_CLASSES.get(name, BLOB)
        self._learn_widths(int_ranges)

    def _digests(self) -> None:
        """The live rows' digests, taken at the first question (see ``LiveRows.shapes``); from
        the pages when SQLite cannot read the table to its end."""
        values, self._unread = self._unread, None
        if values is None:
            return
        classes, widest = self._classes, self._widest
        try:
            self._read(values.rows, int_ranges=values.int_ranges)
        except sqlite3.Error:
            self._read(((rowid, row) for rowid, row, _cell in self._cells()), real_as_int=False)
        self._classes, self._widest = classes, widest  # what was learned stays what the search used

    @property
    def by_rowid(self) -> _DigestMap:
        self._digests()
        return self._by_rowid

    @property
    def contents(self) -> _DigestSet:
        self._digests()
        return self._contents

    def _add(self, rowid: int, row: tuple[Value, ...]) -> None:
        digest = row_digest(self.content(row))  # the rowid alias is the key: it holds the rowid
        self._by_rowid.add(rowid, digest)
        self._contents.add(digest)
        classes, widest = self._classes, self._widest
        for i, value in enumerate(row):
            storage, int_type = _storage_of(value)
            classes[i] |= storage
            if int_type > widest[i]:
                widest[i] = int_type

    def rows(self) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """(rowid, values) of every live row, read from the pages again."""
        table = self._table
        for rowid, values, _cell in self._cells():
            yield rowid, _complete_row(table, values[: len(table.columns)], rowid)

    @property
    def ipk(self) -> int | None:
        return self._table.ipk_index

    def content(self, values: Sequence[Value]) -> tuple[Value, ...]:
        ipk = self._table.ipk_index
        return tuple(v for i, v in enumerate(values) if i != ipk)

    def is_live(self, rowid: int | None, values: tuple[Value, ...]) -> bool:
        if rowid is not None:
            return self.by_rowid.get(rowid) == row_digest(self.content(values))
        return row_digest(self.content(values)) in self.contents

    def covered(self, cut: Sequence[tuple[int | None, tuple[Value, ...]]]) -> set[int]:
        """Which of the cut records (rowid, values) agree with a live row on everything they
        still hold: their indexes in ``cut``. One pass over the live rows; a record without a
        rowid is compared with the rows sharing the start of its first text of at least 8
        characters, or with every row when it has none."""
        found: set[int] = set()
        if not cut:
            return found
        by_rowid: dict[int, list[int]] = {}
        by_anchor: dict[tuple[int, str], list[int]] = {}
        anywhere: list[int] = []
        for n, (rowid, values) in enumerate(cut):
            if rowid is not None:
                by_rowid.setdefault(rowid, []).append(n)
                continue
            anchor = next(
                ((i, v[:8]) for i, v in enumerate(values) if isinstance(v, str) and len(v) >= 8), None
            )
            if anchor is None:
                anywhere.append(n)
            else:
                by_anchor.setdefault(anchor, []).append(n)
        ipk = self.ipk
        for rowid, row in self.rows():
            for n in by_rowid.get(rowid, ()):
                if _agrees(cut[n][1], row, None):
                    found.add(n)
            if by_anchor:
                for i, v in enumerate(row):
                    if isinstance(v, str) and len(v) >= 8:
                        for n in by_anchor.get((i, v[:8]), ()):
                            if n not in found and _agrees(cut[n][1], row, ipk):
                                found.add(n)
            for n in anywhere:
                if n not in found and _agrees(cut[n][1], row, ipk):
                    found.add(n)
        return found

    def learn(self, table: Table) -> Table:
        """``table`` with what its live rows show (given enough rows): the storage classes
        of each column and how wide its integers get. Carved records must fit that too."""
        rows = self._count if self._count is not None else len(self._by_rowid)
        if rows < MIN_LEARN_ROWS:
            return table
        classes = list(self._classes)
        if table.ipk_index is not None:
            classes[table.ipk_index] = NULL
        return replace(table, learned=tuple(zip(classes, self._widest, strict=True)))

    def status(self, rowid: int | None) -> str:
        if rowid is None:
            return "rowid_unknown"
        return "modified" if rowid in self.by_rowid else "deleted"


def cell_digest(cell: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(cell, digest_size=8).digest(), "big")


def row_digest(values: Sequence[Value]) -> int:
    """A 64-bit digest of a row's values that is equal for rows Python finds equal (an
    integral real and the same integer digest alike, as ``1.0 == 1``)."""
    canon = tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in values)
    return int.from_bytes(hashlib.blake2b(marshal.dumps(canon, 2), digest_size=8).digest(), "big")


class _DigestSet:
    """64-bit digests in one sorted array: 8 bytes each, where a set of ints takes about 60
    (a million live rows: 8 MB, not 60 MB). Add, then :meth:`freeze`, then ask ``in``."""

    def __init__(self) -> None:
        self._values = array("Q")

    def add(self, digest: int) -> None:
        self._values.append(digest)

    def freeze(self) -> None:
        self._values = array("Q", sorted(self._values))  # duplicates are harmless to bisect

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, item: object) -> bool:
        values = self._values
        if not isinstance(item, int) or not 0 <= item < 1 << 64:
            return False
        i = bisect.bisect_left(values, item)
        return i < len(values) and values[i] == item


class _DigestMap:
    """rowid -> 64-bit digest in two sorted arrays (16 bytes a row instead of ~100 in a dict);
    a rowid added twice keeps the last digest, as a dict would."""

    def __init__(self) -> None:
        self._rowids = array("q")
        self._digests = array("Q")

    def add(self, rowid: int, digest: int) -> None:
        self._rowids.append(rowid)
        self._digests.append(digest)

    def freeze(self) -> None:
        rowids = self._rowids
        if any(rowids[i] >= rowids[i + 1] for i in range(len(rowids) - 1)):  # not in b-tree order
            last = dict(zip(rowids, self._digests, strict=True))
            self._rowids = array("q", sorted(last))
            self._digests = array("Q", (last[r] for r in self._rowids))

    def __len__(self) -> int:
        return len(self._rowids)

    def get(self, rowid: int) -> int | None:
        rowids = self._rowids
        i = bisect.bisect_left(rowids, rowid)
        return self._digests[i] if i < len(rowids) and rowids[i] == rowid else None

    def __contains__(self, rowid: object) -> bool:
        return isinstance(rowid, int) and self.get(rowid) is not None


class _LazyCells:
    """Digests of a table's live cells, read from the pages at the first question."""

    def __init__(self, rows: Callable[[], Iterable[tuple[int, list[Value], bytes]]]) -> None:
        self._rows = rows
        self._digests: _DigestSet | None = None

    def __contains__(self, item: object) -> bool:
        if self._digests is None:
            digests = _DigestSet()
            for _rowid, _values, cell in self._rows():
                digests.add(cell_digest(cell))
            digests.freeze()
            self._digests = digests
        return item in self._digests


class _AnyOf:
    """Membership in any of several sets, without building their union."""

    def __init__(self, sets: Iterable[Container[int]]) -> None:
        self._sets = list(sets)

    def __contains__(self, item: object) -> bool:
        return any(item in s for s in self._sets)


def int_serial_type(value: int) -> int:
    """The integer serial type (1-6) SQLite writes ``value`` with; 0 for 0 and 1 (types 8, 9)."""
    return _storage_of(value)[1]


def _storage_of(value: Value) -> tuple[int, int]:
    """Storage class of a value and, for an integer, the serial type SQLite writes it with."""
    if value is None:
        return NULL, 0
    if isinstance(value, int):
        if value in (0, 1):
            return INT, 0  # serial types 8 and 9 (no body bytes)
        bits = (value if value >= 0 else ~value).bit_length() + 1  # with the sign bit
        return INT, next((t for t, width in _INT_TYPE_BITS if bits <= width), 6)
    if isinstance(value, float):
        return REAL, 0
    return (TEXT, 0) if isinstance(value, str) else (BLOB, 0)


_INT_TYPE_BITS = ((1, 8), (2, 16), (3, 24), (4, 32), (5, 48))


def _agrees(cut: Sequence[Value], row: Sequence[Value], skip: int | None) -> bool:
    for i, (part, full) in enumerate(zip(cut, row, strict=False)):
        if i == skip or part is None:
            continue
        if isinstance(part, (str, bytes)) and type(full) is type(part) and full.startswith(part):  # type: ignore[arg-type]
            continue
        if part != full:
            return False
    return True


def _merge(found: Sequence[Found], live: Mapping[str, _LiveIndex], stats: Counter[str]) -> list[Candidate]:
    """Drop live duplicates; report equal recoveries once (known rowid first)."""
    merged: dict[tuple[object, ...], Candidate] = {}
    by_content: dict[tuple[object, ...], Candidate] = {}
    ordered = sorted(found, key=lambda f: (f.hit.rowid is None, f.hit.truncated))
    cut: dict[str, list[Found]] = {}
    for item in ordered:
        if item.hit.truncated:
            cut.setdefault(item.hit.table.name, []).append(item)
    covered: set[int] = set()  # id() of the cut records a live row covers
    for name, items in cut.items():
        hits = [(item.hit.rowid, item.hit.values) for item in items]
        covered.update(id(items[n]) for n in live[name].covered(hits))
    for item in ordered:
        hit, index = item.hit, live[item.hit.table.name]
        duplicate = id(item) in covered if hit.truncated else index.is_live(hit.rowid, hit.values)
        if duplicate:
            stats["suppressed_live_duplicates"] += 1
            continue
        content_key = (hit.table.name, index.content(hit.values))
        key = (hit.table.name, hit.rowid, hit.values) if hit.rowid is not None else content_key
        existing = merged.get(key) or (by_content.get(content_key) if hit.rowid is None else None)
        if existing is not None:
            if len(existing.also_found) < MAX_ALSO_FOUND and item.where != existing.where:
                existing.also_found.append(item.where)
            stats["merged_duplicates"] += 1
            continue
        candidate = Candidate(
            hit.table.name,
            hit.rowid,
            hit.values,
            hit.table.column_names,
            item.where,
            index.status(hit.rowid),
            hit.truncated,
            hit.notes,
        )
        merged[key] = candidate
        by_content.setdefault(content_key, candidate)
    return sorted(merged.values(), key=_location_order)


def _drop_damaged_copies(
    candidates: list[Candidate], live: Mapping[str, _LiveIndex], stats: Counter[str]
) -> list[Candidate]:
    """Drop carved records that equal a trusted row but for one number or blob.

    A later write can hit a carved record's numbers and leave no trace (texts are guarded
    by decoding). When such a record matches, in every other column, a live row or a cell
    still listed in an old page's pointer array, it is taken as a damaged copy of that row:
    a copy of a live row is dropped, a copy of an old cell joins that cell's places. (An old
    version differing from a trusted one only in a number, e.g. a re-stamped date, is lost
    that way: the price of not reporting damaged values.)
    """
    carved: dict[tuple[object, ...], list[Candidate]] = {}
    for candidate in candidates:
        if candidate.where.area != "cell" and not candidate.truncated:
            key = _text_key(candidate.table, candidate.values, live[candidate.table].ipk)
            carved.setdefault(key, []).append(candidate)
    if not carved:
        return candidates
    copy_of: dict[int, Candidate | None] = {}  # id(carved candidate) -> trusted (None: live)

    def check(table: str, row: Sequence[Value], rowid: int | None, trusted: Candidate | None) -> None:
        ipk = live[table].ipk
        for candidate in carved.get(_text_key(table, row, ipk), ()):
            if (
                candidate is not trusted
                and id(candidate) not in copy_of
                and candidate.rowid in (None, rowid)
                and _one_number_differs(candidate.values, row, ipk)
            ):
                copy_of[id(candidate)] = trusted

    for candidate in candidates:
        if candidate.where.area == "cell" and not candidate.truncated:
            check(candidate.table, candidate.values, candidate.rowid, candidate)
    for name, rows in live.items():
        if any(key[0] == name for key in carved):
            for rowid, row in rows.rows():
                check(name, row, rowid, None)
    kept: list[Candidate] = []
    for candidate in candidates:
        if id(candidate) not in copy_of:
            kept.append(candidate)
            continue
        trusted = copy_of[id(candidate)]
        if trusted is None:
            stats["suppressed_damaged_copies_of_live"] += 1
        else:
            if len(trusted.also_found) < MAX_ALSO_FOUND:
                trusted.also_found.append(candidate.where)
            stats["merged_damaged_copies"] += 1
    return kept


def _text_key(table: str, values: Sequence[Value], ipk: int | None) -> tuple[object, ...]:
    """The columns a damaged copy still shares with its row: all but numbers and blobs."""
    return (
        table,
        *(v if not isinstance(v, (int, float, bytes)) else 0 for i, v in enumerate(values) if i != ipk),
    )


def _one_number_differs(values: Sequence[Value], row: Sequence[Value], ipk: int | None) -> bool:
    differing = [i for i, (a, b) in enumerate(zip(values, row, strict=False)) if i != ipk and a != b]
    return len(differing) == 1 and all(
        isinstance(v[differing[0]], (int, float, bytes)) for v in (values, row)
    )


_KIND_ORDER = {"freeblock": 0, "unallocated": 0, "freelist": 1, "superseded": 2, "wal": 3, "journal": 4}


def _location_order(candidate: Candidate) -> tuple[int, int, int, int]:
    where = candidate.where
    return (_KIND_ORDER.get(where.kind, 9), where.frame or 0, where.page, where.offset)


# ---------------------------------------------------------------------------------------------
# Entry point


def _open(source: Source, stack: contextlib.ExitStack) -> Buffer:
    """The bytes of ``source``: given bytes, or the file mapped read-only (not copied)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    handle = stack.enter_context(open(source, "rb"))  # noqa: SIM115 - closed by the stack
    try:
        return stack.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    except ValueError:  # an empty file cannot be mapped
        return b""


def recover(
    db: Source,
    wal: Source | None = None,
    journal: Source | None = None,
    tables: Iterable[str] | None = None,
    min_columns: Mapping[str, int] | None = None,
    deadline: float | None = None,
    live_values: LiveValues | None = None,
) -> RecoveryResult:
    """Recover deleted records of ``tables`` (default: every rowid table but sqlite_*).

    ``live_values``, when given, returns for a table the (rowid, values) of its live rows as
    SQLite reads them from the same database state (the WAL applied, no journal rolled back),
    or ``None`` when it cannot; the live rows are then not decoded in Python, which is what
    recovery spends most of its time on when little was deleted.

    ``deadline`` is a :func:`time.monotonic` instant: when it passes, the searches stop at the
    page they are on and what was found until then is merged and returned, with
    ``stats["timed_out"]`` set to 1 (the pages not searched are simply not looked at).
    """
    with contextlib.ExitStack() as stack:
        data = _open(db, stack)
        wal_log = parse_wal(_open(wal, stack)) if wal is not None else None
        journal_data = _open(journal, stack) if journal is not None else None
        return _recover(data, wal_log, journal_data, tables, min_columns or {}, deadline, live_values)


def _recover(
    data: Buffer,
    wal_log: Wal | None,
    journal: Buffer | None,
    tables: Iterable[str] | None,
    min_columns: Mapping[str, int],
    deadline: float | None = None,
    live_values: LiveValues | None = None,
) -> RecoveryResult:
    header, view = _open_view(data, wal_log)
    stats: Counter[str] = Counter()
    fragments: Counter[str] = Counter()
    schema = read_schema(view, header.usable, header.encoding)
    targets = _target_tables(schema, tables, min_columns, stats)
    live = {
        t.name: _LiveIndex(
            t,
            lambda t=t: iter_table_cells(view, t.root_page, header.usable, header.encoding),  # type: ignore[misc]
            live_values(t) if live_values is not None else None,
        )
        for t in targets.values()
    }
    targets = {name: live[name].learn(table) for name, table in targets.items()}
    page1 = view.get(1) or b""
    trunks, free_leaves = read_freelist(view, u32(page1, 32) if len(page1) >= 100 else 0)
    scans = _Scans(
        carver=Carver(view, header.usable, header.encoding, lambda p: p in free_leaves),
        owners=_page_owners(view, schema, header.usable),
        tables=list(targets.values()),
        fragments=fragments,
        stats=stats,
        live_cells=_AnyOf(index.cells for index in live.values()),
        deadline=deadline,
    )
    if scans.tables:
        try:
            scans.current(view)
            scans.freelist(view, trunks, free_leaves)
            if wal_log is not None and wal_log.page_size == header.page_size:
                scans.wal(FileSource(data, header.page_size), wal_log)
            elif wal_log is not None:  # not this database's log (found in review: an IndexError
                stats["wal_other_page_size"] = wal_log.page_size  # lost the main file's records)
            if journal is not None:
                max_page = max(view.page_count, len(data) // header.page_size)
                scans.journal(view, parse_journal(journal, header.page_size, max_page))
        except _OutOfTime:
            stats["timed_out"] = 1
    stats["records_found_raw"] = len(scans.found)
    _cut_shared_overflow(scans.found, stats)
    candidates = _drop_damaged_copies(_merge(scans.found, live, stats), live, stats)
    stats["candidates"] = len(candidates)
    return RecoveryResult(candidates, fragments, stats, targets, dict(scans.owners))


@dataclass
class _Scans:
    """The searches of one ``recover`` call, sharing their results and counters."""

    carver: Carver  # for freed records: overflow only through current free leaves
    owners: Mapping[int, str]  # b-tree page -> owning table or index
    tables: list[Table]
    fragments: Counter[str]
    stats: Counter[str]
    live_cells: Container[int]
    deadline: float | None = None  # time.monotonic() instant after which no page is searched
    found: list[Found] = field(default_factory=list)
    cache: dict[tuple[object, ...], tuple[list[Hit], int, int]] = field(default_factory=dict)

    def tick(self) -> None:
        """Stop the searches (:class:`_OutOfTime`) once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OutOfTime

    def tables_for(self, pgno: int) -> list[Table]:
        """The target tables, the one owning ``pgno`` now first."""
        owner = self.owners.get(pgno)
        return sorted(self.tables, key=lambda t: t.name != owner)

    def page_scan(self, kind: str, cell_carver: Carver | None = None, cache: bool = False) -> PageScan:
        return PageScan(
            self.carver, kind, self.fragments, self.stats, self.found, cell_carver,
            self.cache if cache else None, self.live_cells,
        )  # fmt: skip

    def current(self, view: PageView) -> None:
        """Freeblocks and unallocated space of every b-tree page of the current state."""
        scan = self.page_scan("db")
        for pgno in sorted(self.owners):
            self.tick()
            page = view.get(pgno)
            if page is not None:
                scan.btree_page(page, pgno, self.tables_for(pgno), None, cells=False)

    def freelist(self, view: PageView, trunks: Mapping[int, int], leaves: set[int]) -> None:
        scan = self.page_scan("freelist")
        for pgno, count in sorted(trunks.items()):
            self.tick()
            page = view.get(pgno)
            if page is not None:
                scan.region(page, 8 + 4 * count, self.carver.usable, pgno, self.tables, None, "trunk")
        for pgno in sorted(leaves):
            self.tick()
            page = view.get(pgno)
            if page is not None:
                scan.btree_page(page, pgno, self.tables, None, cells=True)
        self.stats["freelist_pages"] = len(trunks) + len(leaves)

    def wal(self, main_file: FileSource, wal_log: Wal) -> None:
        """Every WAL frame, then every main-file page a committed frame replaces.

        Cells still in such a page read their overflow pages as of the same moment: the WAL
        frames up to that frame's commit over the main file, or the main file itself.
        """
        history = WalHistory(wal_log, main_file)
        for frame in wal_log.frames:
            self.tick()
            self.stats["wal_frames"] += 1
            self.stats["wal_frames_valid"] += frame.valid
            then = replace(
                self.carver, source=history.at(frame.number), overflow_ok=_any_page, free_overflow=False
            )
            scan = self.page_scan("wal", then, cache=True)
            scan.btree_page(frame.data, frame.page, self.tables_for(frame.page), frame.number, cells=True)
        before = replace(self.carver, source=main_file, overflow_ok=_any_page, free_overflow=False)
        old = self.page_scan("superseded", before, cache=True)
        for pgno in sorted({f.page for f in wal_log.frames if f.committed}):
            self.tick()
            page = main_file.get(pgno)
            if page is not None:
                old.btree_page(page, pgno, self.tables_for(pgno), None, cells=True)

    def journal(self, view: PageView, records: Sequence[tuple[int, int, bytes]]) -> None:
        """Every rollback-journal page image; overflow read from the journal's own images
        (the state before that transaction) or from pages free now."""
        originals: dict[int, bytes] = {}
        for _number, pgno, page in records:
            originals.setdefault(pgno, page)
        free_now = self.carver.overflow_ok
        then = replace(
            self.carver, source=Overlay(originals, view), overflow_ok=lambda p: p in originals or free_now(p)
        )
        scan = self.page_scan("journal", then, cache=True)
        for number, pgno, page in records:
            self.tick()
            self.stats["journal_records"] += 1
            scan.btree_page(page, pgno, self.tables_for(pgno), number, cells=True)


def _any_page(_pgno: int) -> bool:
    return True


def _check_page_size(page1: bytes, page_size: int, length: int) -> None:
    """Refuse a header whose page size the file contradicts: its valid page count times another
    page size is exactly the file's length (found in review: a header saying 32768 on a file of
    4096-byte pages made live rows be carved from "free" space and reported as deleted)."""
    counted = u32(page1, 28)
    if not counted or u32(page1, 92) != u32(page1, 24) or counted * page_size == length:
        return
    for other in (1 << n for n in range(9, 17)):
        if other != page_size and counted * other == length:
            raise RecoveryError(
                f"the header's page size {page_size} does not fit the file: its {counted} pages make "
                f"{length} bytes only at {other} bytes a page (a damaged or altered header)"
            )


def _open_view(data: Buffer, wal_log: Wal | None) -> tuple[DbHeader, PageView]:
    overlay, wal_size = wal_log.committed_overlay() if wal_log else ({}, None)
    page1 = overlay.get(1) or data[:100]
    if len(page1) < 100 or page1[:16] != SQLITE_MAGIC:
        raise RecoveryError("not an SQLite 3 database (bad header)")
    page_size = parse_db_header(page1).page_size
    _check_page_size(bytes(page1[:100]), page_size, len(data))
    file_pages = len(data) // page_size
    if wal_log is not None and wal_log.page_size != page_size:
        overlay, wal_size = {}, None
    header = parse_db_header(overlay.get(1) or data[:page_size], max(file_pages, wal_size or 0))
    page_count = wal_size or header.page_count
    return header, PageView(data, page_size, page_count, overlay)


def _target_tables(
    schema: Sequence[SchemaEntry],
    wanted: Iterable[str] | None,
    min_columns: Mapping[str, int],
    stats: Counter[str],
) -> dict[str, Table]:
    names = set(wanted) if wanted is not None else None
    targets: dict[str, Table] = {}
    for entry in schema:
        if entry.kind != "table" or entry.name.startswith("sqlite_"):
            continue
        if names is not None and entry.name not in names:
            continue
        columns = table_columns(entry.sql)
        if columns is None:
            stats["tables_skipped"] += 1  # virtual, WITHOUT ROWID or unparsable
            continue
        low = min_columns.get(entry.name, len(columns))
        targets[entry.name] = Table(entry.name, entry.root_page, columns, max(1, min(low, len(columns))))
    return targets


def _page_owners(view: PageView, schema: Sequence[SchemaEntry], usable: int) -> dict[int, str]:
    owners: dict[int, str] = {}
    for entry in [SchemaEntry("table", "sqlite_schema", 1, ""), *schema]:
        if entry.root_page > 0:
            for pgno in walk_btree(view, entry.root_page, usable)[1]:
                owners.setdefault(pgno, entry.name)
    return owners


def _cut_shared_overflow(found: list[Found], stats: Counter[str]) -> None:
    """Cut values read from free overflow pages that two different records claim.

    A freed overflow page can be reused by a later record and freed again; then an older
    record's chain leads to the newer record's bytes. When both records were found, both
    claim the page and neither tail can be trusted: both keep only what their page holds.
    """
    claims: dict[int, set[tuple[str, tuple[Value, ...]]]] = {}
    for item in found:
        for pgno in item.hit.overflow_pages:
            claims.setdefault(pgno, set()).add((item.hit.table.name, item.hit.values))
    for item in found:
        if any(len(claims[p]) > 1 for p in item.hit.overflow_pages):
            item.hit = item.hit.cut("overflow pages also claimed by another record; cut")
            stats["overflow_cut_shared"] += 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python recover.py DB [--wal W] [--journal J] [--table T ...]``: JSON lines on stdout."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--wal")
    parser.add_argument("--journal")
    parser.add_argument("--table", action="append")
    args = parser.parse_args(argv)
    result = recover(args.db, args.wal, args.journal, args.table)
    for candidate in result.candidates:
        print(json.dumps(candidate.as_dict(), default=lambda v: v.hex() if isinstance(v, bytes) else str(v)))
    print(json.dumps({"fragments": result.fragments, "stats": result.stats}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
