"""custody.hashing: one pass, several digests in parallel, same answers as hashlib and coreutils."""

from __future__ import annotations

import hashlib
import random
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.errors import EvidenceError
from custody.hashing import (
    DEFAULT_ALGORITHMS,
    hash_bytes,
    hash_file,
    hash_reader,
    hash_stream,
    plan_lanes,
)
from custody.media import open_image
from tests.conftest import need, need_tool


def expected(data: bytes, algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in algorithms}


@pytest.mark.parametrize("chunk", [1, 7, 4096, 65536, 10**6])
def test_hash_stream_matches_hashlib_for_any_chunking(chunk: int) -> None:
    data = random.Random(chunk).randbytes(300_000 if chunk > 1 else 5000)
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    seen: list[int] = []
    assert hash_stream(pieces, progress=seen.append) == expected(data)
    assert seen == sorted(seen) and seen[-1] == len(data)


def test_empty_and_single_chunk_streams() -> None:
    assert hash_stream([]) == expected(b"")
    assert hash_stream([b"abc"]) == expected(b"abc")
    assert hash_stream([b"abc"], algorithms=("sha256", "md5")) == expected(b"abc", ("sha256", "md5"))


def test_other_algorithms_and_order() -> None:
    data = [b"x" * 5000, b"y" * 5000, b"z"]
    algs = ("sha512", "blake2b", "md5", "sha1", "sha256")
    result = hash_stream(data, algorithms=algs)
    assert list(result) == list(algs)
    assert result == expected(b"".join(data), algs)


def test_unknown_algorithm_fails_before_reading() -> None:
    consumed: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        consumed.append(b"x")
        yield b"x"

    with pytest.raises(ValueError):
        hash_stream(chunks(), algorithms=("md5", "nope"))
    assert consumed == []


def test_reader_error_propagates_and_stops_the_lanes() -> None:
    before = threading.active_count()

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"\0" * 65536
        raise EvidenceError("segment vanished")

    with pytest.raises(EvidenceError, match="segment vanished"):
        hash_stream(chunks())
    assert threading.active_count() == before


@pytest.mark.parametrize("lanes", [1, 2, 3, 8])
def test_plan_lanes_uses_every_algorithm_once(lanes: int) -> None:
    groups = plan_lanes(DEFAULT_ALGORITHMS, lanes)
    assert len(groups) == min(lanes, 3)
    assert sorted(a for g in groups for a in g) == sorted(DEFAULT_ALGORITHMS)


def test_hash_file_agrees_with_coreutils(tmp_path: Path) -> None:
    data = random.Random(3).randbytes(9 * 1024 * 1024 + 123)  # several chunks, ragged end
    path = tmp_path / "blob"
    path.write_bytes(data)
    got = hash_file(path)
    for algorithm in DEFAULT_ALGORITHMS:
        tool = need_tool(f"{algorithm}sum")
        out = subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout
        assert got[algorithm] == out.split()[0]


def test_hash_reader_is_media_not_container(corpus: Path) -> None:
    e01 = need(corpus / "disk" / "dfvfs" / "ext2.split.E01")
    reader = open_image(e01)
    try:
        assert hash_reader(reader)["md5"] == "196066add11fb71c4c49cf1bb50d6d24"
    finally:
        reader.close()
    assert hash_file(e01)["md5"] != "196066add11fb71c4c49cf1bb50d6d24"


def test_hash_bytes() -> None:
    assert hash_bytes(b"manifest") == expected(b"manifest")
