"""The table names of a SQLite database read straight from its bytes, without SQLite.

Every SQLite plugin declares SQLite's magic, so every database in an image is a candidate of every
such plugin until its schema is known; asking SQLite takes a scratch copy of the file (and of its
``-wal``) and a connection. Most databases on a phone belong to no plugin, and a plugin's
signature needs named tables, so the table names alone can rule a database out: this module reads
them from ``sqlite_master`` (the table b-tree rooted at page 1) with a few random-access reads of
the file, following https://www.sqlite.org/fileformat2.html: the 100-byte header (page size,
reserved bytes, text encoding), table b-tree interior (0x05) and leaf (0x0D) pages, the record
format, and overflow pages when a record's first columns do not fit on its page.

The answer is only ever used to say "no plugin can match" (the dispatcher then skips the copy),
so it must hold every table SQLite would list; holding more is harmless (SQLite is then asked).
Anything this reader does not fully understand (a header SQLite would reject, an unknown page
type, a page outside the file, too many pages, a column that is not text) gives ``None``, and the
caller asks SQLite as before.

A ``-wal`` beside the database can hold newer versions of the schema's pages. SQLite reads, for
each page, its last committed frame in the WAL (frames whose salts and checksums are valid, up to
the last commit) or else the page in the file. Rather than decide which frames are valid, this
reader takes every version of every page (the file's and each WAL frame's) and walks the union
of the trees they form: whichever versions SQLite picks, each page it reads is among them, so its
tables are a subset of the names found. An overflow page with a version in the WAL is a doubt. A
hot ``-journal`` (rolled back on opening) is the caller's to decide: the dispatcher does not use
this reader when one has bytes.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["MAX_PAGES", "table_names"]

#: Pages (b-tree and overflow) read at most for one schema; past that the caller asks SQLite.
MAX_PAGES = 2000
_DEPTH = 32  # deeper than any real b-tree (SQLite itself gives up at 20)
_HEADER = b"SQLite format 3\x00"
_ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}
_LEAF = 0x0D
_INTERIOR = 0x05


class _Doubt(Exception):
    """Something this reader does not handle, or a damaged file: ask SQLite instead."""


def table_names(fh: BinaryIO, size: int, wal: bytes = b"") -> frozenset[str] | None:
    """The ``name`` of every ``sqlite_master`` row whose ``type`` is ``'table'``, or ``None``.

    ``fh`` is a seekable binary stream over the whole database file of ``size`` bytes; it is
    read, never written. ``wal`` is the content of the ``-wal`` beside it (empty when none).
    ``None`` means "not sure": the caller must fall back to SQLite.
    """
    try:
        return _Reader(fh, size, wal).tables()
    except (_Doubt, OSError, ValueError, IndexError, UnicodeError):
        return None


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, wal: bytes) -> None:
        self.fh = fh
        self.reads = 0
        fh.seek(0)
        header = fh.read(100)
        if len(header) < 100 or not header.startswith(_HEADER):
            raise _Doubt("no SQLite header")
        page_size = int.from_bytes(header[16:18], "big")
        if page_size == 1:
            page_size = 65536
        if page_size < 512 or page_size & (page_size - 1):
            raise _Doubt("page size")
        # SQLite refuses read versions above 2 and embedded payload fractions other than 64/32/32
        if header[18] not in (1, 2) or header[19] not in (1, 2) or header[21:24] != b"\x40\x20\x20":
            raise _Doubt("header fields")
        usable = page_size - header[20]
        if usable < 480:
            raise _Doubt("reserved bytes")
        self.page_size = page_size
        self.usable = usable
        self.pages = size // page_size
        if self.pages < 1:
            raise _Doubt("shorter than one page")
        self.wal = wal
        self.frames: dict[int, list[int]] = {}  # page number -> offsets of its versions in the WAL
        if wal:
            self._index_wal()
        # The text encoding is set with the first table (0 before: an empty database, whose page
        # 1 may be all the file holds while the WAL has the rest). Every version of page 1 must
        # agree with the file's on the page layout and with each other on the encoding.
        codes = {int.from_bytes(header[56:60], "big")}
        for at in self.frames.get(1, ()):
            other = wal[at : at + 100]
            if other[:16] != _HEADER or other[16:18] != header[16:18] or other[20:24] != header[20:24]:
                raise _Doubt("page 1 in the WAL")
            codes.add(int.from_bytes(other[56:60], "big"))
        codes.discard(0)
        if len(codes) > 1:
            raise _Doubt("text encoding")
        encoding = _ENCODINGS.get(codes.pop() if codes else 1)
        if encoding is None:
            raise _Doubt("text encoding")
        self.encoding = encoding

    def _index_wal(self) -> None:
        wal = self.wal
        if len(wal) < 32 or int.from_bytes(wal[:4], "big") not in (0x377F0682, 0x377F0683):
            raise _Doubt("WAL header")
        if int.from_bytes(wal[8:12], "big") != self.page_size:
            raise _Doubt("WAL page size")
        step = 24 + self.page_size
        for at in range(32, len(wal) - step + 1, step):
            number = int.from_bytes(wal[at : at + 4], "big")
            if number == 0:
                raise _Doubt("WAL frame of page 0")
            self.frames.setdefault(number, []).append(at + 24)

    def versions(self, number: int) -> list[bytes]:
        """Every version of page ``number``: the file's (if it has the page), then the WAL's."""
        found: list[bytes] = []
        if 1 <= number <= self.pages:
            found.append(self._read(number))
        for at in self.frames.get(number, ()):
            self._count()
            found.append(self.wal[at : at + self.page_size])
        if not found:
            raise _Doubt(f"page {number} outside the file")
        return found

    def page(self, number: int) -> bytes:
        """The only version of page ``number`` (an overflow page changed in the WAL is a doubt)."""
        if number in self.frames or not 1 <= number <= self.pages:
            raise _Doubt(f"overflow page {number} outside the file or in the WAL")
        return self._read(number)

    def _count(self) -> None:
        self.reads += 1
        if self.reads > MAX_PAGES:
            raise _Doubt("too many pages")

    def _read(self, number: int) -> bytes:
        self._count()
        self.fh.seek((number - 1) * self.page_size)
        data = self.fh.read(self.page_size)
        if len(data) != self.page_size:
            raise _Doubt("short read")
        return data

    def tables(self) -> frozenset[str]:
        names: set[str] = set()
        seen: set[int] = set()
        stack = [(1, 0)]
        while stack:
            number, depth = stack.pop()
            if depth > _DEPTH:
                raise _Doubt("too deep")
            if number in seen:  # every version of it was read already (or a loop: nothing new)
                continue
            seen.add(number)
            for data in self.versions(number):
                self._cells(data, number, depth, stack, names)
        return frozenset(names)

    def _cells(
        self, data: bytes, number: int, depth: int, stack: list[tuple[int, int]], names: set[str]
    ) -> None:
        """Push the children of one version of a b-tree page, or add the table names of its cells."""
        base = 100 if number == 1 else 0
        kind = data[base]
        cells = int.from_bytes(data[base + 3 : base + 5], "big")
        if kind == _INTERIOR:
            pointers = base + 12
            stack.append((int.from_bytes(data[base + 8 : base + 12], "big"), depth + 1))
        elif kind == _LEAF:
            pointers = base + 8
        else:
            raise _Doubt(f"page type {kind}")
        if pointers + 2 * cells > self.usable:
            raise _Doubt("cell count")
        for i in range(cells):
            at = int.from_bytes(data[pointers + 2 * i : pointers + 2 * i + 2], "big")
            if not pointers + 2 * cells <= at < self.usable:
                raise _Doubt("cell offset")
            if kind == _INTERIOR:
                if at + 4 > self.usable:
                    raise _Doubt("cell offset")
                stack.append((int.from_bytes(data[at : at + 4], "big"), depth + 1))
            else:
                name = self.entry(data, at)
                if name is not None:
                    names.add(name)

    def entry(self, data: bytes, at: int) -> str | None:
        """The table name a leaf cell of ``sqlite_master`` holds, or None for another type."""
        payload, at = _varint(data, at, self.usable)
        _rowid, at = _varint(data, at, self.usable)
        usable = self.usable
        most = usable - 35
        if payload <= most:
            local = payload
        else:
            least = (usable - 12) * 32 // 255 - 23
            local = least + (payload - least) % (usable - 4)
            if local > most:
                local = least
        if at + local > usable or (local < payload and at + local + 4 > usable):
            raise _Doubt("cell overruns its page")
        record = data[at : at + local]
        overflow = int.from_bytes(data[at + local : at + local + 4], "big") if local < payload else 0

        chain: set[int] = set()

        def need(n: int) -> bytes:
            """The record's first ``n`` bytes, following the overflow chain as far as needed."""
            nonlocal record, overflow
            if n > payload:
                raise _Doubt("record longer than its payload")
            while len(record) < n:
                if not overflow or overflow in chain:
                    raise _Doubt("overflow chain ends early or loops")
                chain.add(overflow)
                page = self.page(overflow)
                overflow = int.from_bytes(page[:4], "big")
                record += page[4:usable][: payload - len(record)]
            return record

        head_size, pos = _varint(need(min(9, payload)), 0, payload)
        header = need(head_size)
        types: list[int] = []
        while pos < head_size and len(types) < 2:
            serial, pos = _varint(header, pos, head_size)
            types.append(serial)
        if len(types) < 2:
            raise _Doubt("fewer than two columns")
        kind, name = types
        if kind < 13 or kind % 2 == 0 or name < 13 or name % 2 == 0:
            raise _Doubt("type or name is not text")
        kind_len = (kind - 13) // 2
        name_len = (name - 13) // 2
        body = need(head_size + kind_len + name_len)
        if body[head_size : head_size + kind_len].decode(self.encoding, "replace") != "table":
            return None
        return body[head_size + kind_len : head_size + kind_len + name_len].decode(self.encoding, "replace")


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    """SQLite's big-endian varint at ``data[at]`` (1 to 9 bytes) and the offset after it."""
    value = 0
    for i in range(9):
        if at + i >= min(end, len(data)):
            raise _Doubt("varint overruns")
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise AssertionError("unreachable")
