"""Sorting and grouping more rows than fit in memory, in the case's scratch folder.

A case can hold millions of findings; the views read them from the case database as a stream
(never a whole list) and sort or aggregate them on disk, in ordinary SQLite files in
``<case>/scratch`` (the case database itself may be PostgreSQL, whose JSON functions differ from
SQLite's, and is never written by a view). :class:`Spool` is an external merge sort: sorted runs
of bounded size written to a scratch file, merged when read back. :func:`open_scratch_database` gives
a bare scratch SQLite file (``exhibit links`` aggregates in one). Every such file is deleted when
the view is done, even after an error.

:func:`sort_key` turns the ISO 8601 times Exhibit stores (``...T12:00:00Z``, ``...T12:00:00.5Z``,
NTFS's seven fraction digits, FAT's local times without ``Z``) into strings that sort in time
order; :func:`encode_key` packs several such strings into one byte key that sorts component by
component, ``None`` after every value.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from custody.safetext import json_visible

__all__ = [
    "SortedRows",
    "Spool",
    "encode_key",
    "json_line",
    "open_scratch_database",
    "remove_scratch_database",
    "sort_key",
]

_ISO = re.compile(r"^(-?\d{1,6})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,12}))?(Z|[+-]00:00)?$")
_RUN_BYTES = 16 * 1024 * 1024


def sort_key(text: object) -> str | None:
    """A string that sorts in time order for a stored ISO 8601 time (UTC ``Z``, or local without zone).

    ``2020-10-27T04:01:00.1902856Z`` becomes ``2020-10-27T04:01:00.190285600``: the year is padded
    to four digits and the fraction to nine, so that plain string comparison is time comparison
    (``...:00Z`` sorts before ``...:00.5Z``, which raw text does not). ``None`` for anything else.
    """
    if not isinstance(text, str):
        return None
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _zone = match.groups()
    if year.startswith("-"):
        return None  # before year 1: no calendar of ours has it
    fraction = (fraction or "").ljust(9, "0")[:9]
    return f"{int(year):04d}-{month}-{day}T{hour}:{minute}:{second}.{fraction}"


def _part(value: str | None) -> bytes:
    if value is None:
        return b"\x02"
    return b"\x01" + value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def encode_key(*parts: str | None) -> bytes:
    """One byte string ordering like the tuple ``parts`` (text in code point order, ``None`` last)."""
    return b"".join(_part(p) for p in parts)


def json_line(value: Any) -> str:
    """One line of JSON (JSON Lines): UTF-8 text as is, except the characters a terminal acts on or
    hides and those some readers take for a line break inside a string (U+0085, U+2028, U+2029:
    Python's ``str.splitlines``, older JavaScript), written as ``\\u`` escapes
    (:func:`custody.safetext.json_visible`: an SMS body holding U+009B or a right-to-left override
    prints as its escape). A value holding a lone surrogate (bytes that were not UTF-8, kept by
    the evidence's decoding) is written all in ``\\u`` escapes. Either way the JSON decodes to
    exactly the value."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True)
    return json_visible(text)


class SortedRows:
    """Keyed rows, produced on demand, sorted through a :class:`Spool` each time they are read.

    ``rows`` is called once per reading and gives ``(key, value)`` pairs; iterating gives the values
    in key order, :meth:`json_lines` their JSON text without decoding it again (``--json`` output).
    """

    def __init__(self, folder: Path, rows: Callable[[], Iterable[tuple[bytes, Any]]]) -> None:
        self._folder = folder
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        with Spool(self._folder) as spool:
            spool.extend(self._rows())
            yield from spool.values()

    def json_lines(self) -> Iterator[str]:
        with Spool(self._folder) as spool:
            spool.extend(self._rows())
            yield from spool.json_lines()


def open_scratch_database(folder: Path) -> tuple[sqlite3.Connection, Path]:
    """A new, empty SQLite file in ``folder`` tuned for one writer that never needs to survive a crash
    (no journal, no sync) and a small page cache; close it with :func:`remove_scratch_database`."""
    fd, name = tempfile.mkstemp(prefix="view-", suffix=".sqlite", dir=folder)
    os.close(fd)
    path = Path(name)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "temp_store = FILE",
            "cache_size = -8192",  # KiB: memory stays small whatever the row count
        ):
            con.execute(f"PRAGMA {pragma}")
    except BaseException:
        remove_scratch_database(con, path)
        raise
    return con, path


def remove_scratch_database(con: sqlite3.Connection, path: Path) -> None:
    """Close ``con`` and delete its file (and any journal SQLite left beside it)."""
    con.close()
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()


class Spool:
    """Rows of JSON-able values stored under a byte key; read back in key order, then insertion order.

    An external merge sort: rows are kept in memory up to ``run_bytes`` (16 MiB by default), then
    sorted and written as one *run* to a scratch SQLite file (created on the first spill, so a small
    view never touches the disk); reading merges the runs, each read back in the order it was
    written. Memory is one run's worth plus one row per run, whatever the number of rows; the disk
    is written once, sequentially (an index filled in key order made the same job three times slower
    on a slow disk, and SQLite's own sort spills into the system's temporary folder, not the case's).

    Use as a context manager::

        with Spool(case.scratch_dir) as spool:
            spool.add(encode_key(time, exhibit), {...})
            for value in spool.values():
                ...
    """

    def __init__(self, folder: Path, *, run_bytes: int = _RUN_BYTES) -> None:
        self._folder = folder
        self._run_bytes = run_bytes
        self._con: sqlite3.Connection | None = None
        self.path: Path | None = None
        self._seq = 0
        self._run: list[tuple[bytes, int, str]] = []
        self._run_size = 0
        self._runs: list[tuple[int, int]] = []  # first and last rowid of each run written
        self._written = 0

    def add(self, key: bytes, value: Any) -> None:
        """Store ``value`` (JSON-able) under ``key``."""
        self._seq += 1
        text = json_line(value)
        self._run.append((key, self._seq, text))
        self._run_size += len(key) + 2 * len(text) + 120  # roughly what Python holds for the row
        if self._run_size >= self._run_bytes:
            self._spill()

    def _spill(self) -> None:
        """Sort the rows in memory and write them as one run."""
        if not self._run:
            return
        if self._con is None:
            self._con, self.path = open_scratch_database(self._folder)
            self._con.execute(
                "CREATE TABLE rows (id INTEGER PRIMARY KEY, key BLOB NOT NULL, value TEXT NOT NULL)"
            )
        self._run.sort()
        first = self._written + 1
        self._con.execute("BEGIN")
        self._con.executemany(
            "INSERT INTO rows (id, key, value) VALUES (?, ?, ?)",
            ((first + i, key, text) for i, (key, _seq, text) in enumerate(self._run)),
        )
        self._con.execute("COMMIT")
        self._written += len(self._run)
        self._runs.append((first, self._written))
        self._run.clear()
        self._run_size = 0

    def __len__(self) -> int:
        return self._seq

    def values(self) -> Iterator[Any]:
        """Every stored value, in key order (equal keys in the order they were added)."""
        for text in self.json_lines():
            yield json.loads(text)

    def json_lines(self) -> Iterator[str]:
        """The stored values as :func:`json_line` wrote them, in the order of :meth:`values`."""
        if not self._runs:  # everything fits in one run: no disk at all
            self._run.sort()
            for _key, _seq, text in self._run:
                yield text
            return
        self._spill()
        con = self._con
        assert con is not None

        def run(first: int, last: int) -> Iterator[tuple[bytes, int, str]]:
            query = "SELECT id, key, value FROM rows WHERE id BETWEEN ? AND ? ORDER BY id"
            for rowid, key, text in con.execute(query, (first, last)):
                yield key, rowid, text  # within a run rowids follow the sorted order: a stable tie-break

        for _key, _rowid, text in heapq.merge(*(run(a, b) for a, b in self._runs)):
            yield text

    def extend(self, rows: Iterable[tuple[bytes, Any]]) -> None:
        for key, value in rows:
            self.add(key, value)

    def close(self) -> None:
        if self._con is not None and self.path is not None:
            remove_scratch_database(self._con, self.path)
        self._con = None
        self._run.clear()

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
