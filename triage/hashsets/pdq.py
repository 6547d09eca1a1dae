"""PDQ near-duplicate search: Hamming distance between 256-bit hashes, with numpy.

A PDQ hash is 256 bits (64 hex digits). Two images are near-duplicates when their hashes differ
in at most ``distance`` bits (31 by default). The sets' PDQ hashes are held as four contiguous
columns of 64-bit words; for each query every column is XORed with the query's word and its bits
counted (``numpy.bitwise_count``) into preallocated buffers, about 10 ns a comparison on the
build machine (a row-wise ``(n, 4)`` array with temporaries took 70 ns): a million set hashes
against a thousand images in about ten seconds. Above :data:`triage.hashsets.match.PDQ_BLOCK` set hashes the array is
read block by block for each page of queries, so memory stays bounded whatever the set size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection

from triage.hashsets import store

_PDQ = re.compile(r"[0-9a-fA-F]{64}")


def parse_pdq(value: Any) -> bytes | None:
    """The 32 bytes of a PDQ hash given as 64 hex digits; None for anything else."""
    if not isinstance(value, str) or not _PDQ.fullmatch(value):
        return None
    return bytes.fromhex(value)


def words(digests: Sequence[bytes]) -> np.ndarray:
    """``(n, 4)`` uint64 words of 32-byte hashes (byte order is irrelevant to a Hamming distance)."""
    if not digests:
        return np.zeros((0, 4), dtype=np.uint64)
    return np.frombuffer(b"".join(digests), dtype=np.uint64).reshape(-1, 4)


def hamming(a: bytes, b: bytes) -> int:
    """Bits that differ between two equal-length byte strings (the reference the tests check against)."""
    return int.from_bytes(a, "big").__xor__(int.from_bytes(b, "big")).bit_count()


class _Block:
    """One block of set hashes: the four word columns and the rows they came from."""

    def __init__(self, rows: list[tuple[bytes, int, str | None]]) -> None:
        array = words([d for d, _s, _c in rows])
        self.columns = [np.ascontiguousarray(array[:, i]) for i in range(4)]
        self.rows = rows

    def within(self, query: np.ndarray, distance: int) -> Iterator[tuple[int, int]]:
        """``(row index, distance)`` of the rows within ``distance`` of ``query`` (4 words)."""
        n = len(self.rows)
        buf = np.empty(n, dtype=np.uint64)
        bits = np.empty(n, dtype=np.uint8)
        total = np.zeros(n, dtype=np.uint16)  # up to 256: a uint8 would wrap
        for i in range(4):
            np.bitwise_xor(self.columns[i], query[i], out=buf)
            np.bitwise_count(buf, out=bits)
            total += bits
        for j in np.flatnonzero(total <= distance):
            yield int(j), int(total[j])


class PdqIndex:
    """The PDQ hashes of some sets, searchable by Hamming distance."""

    def __init__(self, conn: Connection, set_ids: Sequence[int], *, block: int) -> None:
        self.conn = conn
        self.set_ids = list(set_ids)
        self.block = block
        self._cached: list[_Block] | None = None
        first = next(store.pdq_blocks(conn, self.set_ids, block), None)
        if first is None:
            self._cached = []
        elif len(first) < block:  # small enough: kept
            self._cached = [_Block(first)]

    @classmethod
    def of(cls, rows: list[tuple[bytes, int, str | None]]) -> PdqIndex:
        """An index over ``rows`` held in memory (no database)."""
        index = cls.__new__(cls)
        index._cached = [_Block(rows)] if rows else []
        return index

    def _blocks(self) -> Iterator[_Block]:
        if self._cached is not None:
            yield from self._cached
            return
        for rows in store.pdq_blocks(self.conn, self.set_ids, self.block):
            yield _Block(rows)

    def search(
        self, queries: Sequence[bytes], distance: int
    ) -> Iterator[tuple[int, bytes, int, str | None, int]]:
        """``(query index, set hash, set id, category, distance)`` of every pair within ``distance``."""
        if not queries:
            return
        q = words(queries)
        for block in self._blocks():
            for qi in range(len(q)):
                for j, dist in block.within(q[qi], distance):
                    digest, set_id, category = block.rows[j]
                    yield qi, digest, set_id, category, dist
