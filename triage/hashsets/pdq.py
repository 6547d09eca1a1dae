"""PDQ near-duplicate search: Hamming distance between 256-bit hashes, with numpy.

A PDQ hash is 256 bits (64 hex digits). Two images are near-duplicates when their hashes differ
in at most ``distance`` bits (31 by default). The sets' PDQ hashes are held as an ``(n, 4)``
array of 64-bit words; each query is XORed against all of them and the bits counted
(``numpy.bitwise_count``), about 4 ns a comparison: a million set hashes against a thousand
images in a few seconds. Above :data:`triage.hashsets.match.PDQ_BLOCK` set hashes the array is
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


class PdqIndex:
    """The PDQ hashes of some sets, searchable by Hamming distance."""

    def __init__(self, conn: Connection, set_ids: Sequence[int], *, block: int) -> None:
        self.conn = conn
        self.set_ids = list(set_ids)
        self.block = block
        self._cached: list[tuple[np.ndarray, list[tuple[bytes, int, str | None]]]] | None = None
        first = next(store.pdq_blocks(conn, self.set_ids, block), None)
        if first is not None and len(first) < block:  # small enough: kept
            self._cached = [(words([d for d, _s, _c in first]), first)]
        elif first is None:
            self._cached = []

    def _blocks(self) -> Iterator[tuple[np.ndarray, list[tuple[bytes, int, str | None]]]]:
        if self._cached is not None:
            yield from self._cached
            return
        for rows in store.pdq_blocks(self.conn, self.set_ids, self.block):
            yield words([d for d, _s, _c in rows]), rows

    def search(
        self, queries: Sequence[bytes], distance: int
    ) -> Iterator[tuple[int, bytes, int, str | None, int]]:
        """``(query index, set hash, set id, category, distance)`` of every pair within ``distance``."""
        if not queries:
            return
        q = words(queries)
        for array, rows in self._blocks():
            if not len(rows):
                continue
            for qi in range(len(q)):
                d = np.bitwise_count(array ^ q[qi]).sum(axis=1, dtype=np.int32)
                for i in np.flatnonzero(d <= distance):
                    digest, set_id, category = rows[int(i)]
                    yield qi, digest, set_id, category, int(d[i])
