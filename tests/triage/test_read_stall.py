"""A file The Sleuth Kit cannot finish opening costs that file, not the run.

The fuzz script (bench/fuzz_triage.py, seed 2028) found it on dftt's ext3 keyword image: an
*allocated* inode whose size a byte run made 0x41414141 (1 GB) over two direct blocks. libtsk's
``open_meta`` then builds a block map for the whole size inside one C call: 27.8 s there (``icat``
as slow), about 11 s on the 1 KiB-block ext3 below, and an image may hold thousands of such
inodes. The same inode is made here with the real tools (``mke2fs``, then ``debugfs sif`` to set
the size, which is what the mutation did), among ordinary files whose hashes ``icat`` gives.
See triage/engine/stall.py and docs/examiner.md ("File systems that stop The Sleuth Kit").
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import need_tool
from tests.triage.test_walkguard import Case as CliCase
from tests.triage.test_walkguard import user_text
from triage.engine import run as run_module
from triage.engine import workers
from triage.engine.run import TriageOptions, run_triage

STALL_S = 2  # EXHIBIT_READ_STALL_SECONDS of these tests; opening the slow inode takes ~11 s
SLOW_SIZE = 0x41414141
NAMES = [f"f{i:02d}.txt" for i in range(24)]


@pytest.fixture(scope="module")
def slow_inode_ext3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 KiB-block ext3 with 24 small files and ``slow.bin``, whose size says 1 GB."""
    need_tool("mke2fs")
    debugfs = need_tool("debugfs")
    folder = tmp_path_factory.mktemp("readstall")
    tree = folder / "tree"
    tree.mkdir()
    for i, name in enumerate(NAMES[:12]):
        (tree / name).write_bytes(f"file {i}\n".encode() * (i * 300 + 1))
    (tree / "slow.bin").write_bytes(os.urandom(2048))  # two direct blocks
    for i, name in enumerate(NAMES[12:], 12):
        (tree / name).write_bytes(f"file {i}\n".encode() * (i * 300 + 1))
    image = folder / "slow-inode.dd"
    subprocess.run(
        ["mke2fs", "-q", "-t", "ext3", "-b", "1024", "-d", str(tree), "-F", str(image), "8M"],
        check=True,
        env={**os.environ, "E2FSPROGS_FAKE_TIME": "1700000000"},
    )
    subprocess.run([debugfs, "-w", "-R", f"sif /slow.bin size {SLOW_SIZE:#x}", str(image)], check=True)
    image.chmod(0o444)
    return image


def inode_of(image: Path, name: str) -> int:
    listing = subprocess.run(["fls", str(image)], check=True, capture_output=True, text=True).stdout
    for line in listing.splitlines():
        kind_inode, _, entry = line.partition("\t")
        if entry == name:
            return int(kind_inode.split()[-1].rstrip(":"))
    raise AssertionError(f"{name} not in fls output")


def icat_sha256(image: Path, name: str) -> str:
    data = subprocess.run(["icat", str(image), str(inode_of(image, name))], check=True, capture_output=True)
    return hashlib.sha256(data.stdout).hexdigest()


def stored(case_root: Path) -> dict[str, sqlite3.Row]:
    conn = sqlite3.connect(f"file:{case_root / 'case.sqlite'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {r["path"]: r for r in conn.execute("SELECT * FROM triage_files WHERE type = 'file'")}
    finally:
        conn.close()


def test_libtsk_takes_seconds_to_open_the_inode(slow_inode_ext3: Path) -> None:
    """The defect itself, so the tests below cannot pass for want of it: ``icat`` of the inode is
    still busy after twice the stall limit (about 11 s on a quiet machine; it is stopped at three
    times the limit, as waiting longer proves nothing more)."""
    need_tool("icat")
    started = time.monotonic()
    try:
        subprocess.run(
            ["icat", str(slow_inode_ext3), str(inode_of(slow_inode_ext3, "slow.bin"))],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=3 * STALL_S,
        )
    except subprocess.TimeoutExpired:
        return  # still reading: the defect is there
    assert time.monotonic() - started > 2 * STALL_S


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/9", title="read stall")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    try:
        yield c
    finally:
        c.close()


def test_a_stalled_read_is_ended_and_every_other_file_is_read(
    case: Case, slow_inode_ext3: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, chunks of four files: the stalled worker is killed, the pool restarted for
    the chunks not finished, and every other file is hashed as icat reads it."""
    need_tool("icat")
    monkeypatch.setattr(workers, "CHUNK_FILES", 4)  # inherited by the forked workers
    monkeypatch.setenv("EXHIBIT_READ_STALL_SECONDS", str(STALL_S))
    restarts: list[int] = []  # the run is told, to take back what the ended worker's files stored
    real_restarting = run_module._StoreMeanwhile.restarting

    def restarting(self: run_module._StoreMeanwhile) -> None:
        restarts.append(1)
        real_restarting(self)

    monkeypatch.setattr(run_module._StoreMeanwhile, "restarting", restarting)
    before = (hashlib.sha256(slow_inode_ext3.read_bytes()).hexdigest(), slow_inode_ext3.stat().st_mtime_ns)
    acquire(case, slow_inode_ext3, exhibit="EX-001", actor="asmith", description="slow inode")
    started = time.monotonic()
    summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=2))
    elapsed = time.monotonic() - started
    assert summary.status == "complete"
    assert restarts == [1]
    assert elapsed < 8 * STALL_S, elapsed  # not the ~11 s libtsk needs for the inode (nor twice)
    files = stored(case.root)
    for name in NAMES:
        assert files[f"/{name}"]["sha256"] == icat_sha256(slow_inode_ext3, name), name
        assert files[f"/{name}"]["error"] is None
    slow = files["/slow.bin"]
    assert slow["sha256"] is None and "ReadAbandoned" in slow["error"]
    assert "EXHIBIT_READ_STALL_SECONDS" in slow["error"]
    assert summary.counts["errors"] == 1
    problems = [w for w in summary.warnings if w["path"] == "/slow.bin"]
    assert len(problems) == 1 and "made no progress" in problems[0]["message"]
    assert verify_case(case).ok
    assert (
        hashlib.sha256(slow_inode_ext3.read_bytes()).hexdigest(),
        slow_inode_ext3.stat().st_mtime_ns,
    ) == before


def test_triage_as_the_user_runs_it_prints_the_file_and_completes(
    tmp_path: Path, slow_inode_ext3: Path
) -> None:
    """One worker and one chunk: the image is still read in a watched worker process."""
    cli = CliCase(tmp_path / "case")
    cli.acquire("SLOW", slow_inode_ext3)
    res, elapsed, _ = cli.run(
        "triage", "SLOW", "--actor", "ex", "--workers", "1", EXHIBIT_READ_STALL_SECONDS=str(STALL_S)
    )
    text = res.stdout + user_text(res)
    assert res.returncode == 0, text
    assert elapsed < 8 * STALL_S, elapsed
    assert "/slow.bin" in text and "made no progress" in text
    assert "Traceback" not in text
    files = stored(cli.root)
    assert sum(1 for r in files.values() if r["sha256"]) == len(NAMES)
    verify, _, _ = cli.run("custody", "verify")
    assert verify.returncode == 0, verify.stdout + user_text(verify)


def test_a_bad_stall_setting_is_a_clear_error_before_the_run(tmp_path: Path, slow_inode_ext3: Path) -> None:
    cli = CliCase(tmp_path / "case")
    cli.acquire("SLOW", slow_inode_ext3)
    res, _, _ = cli.run("triage", "SLOW", "--actor", "ex", EXHIBIT_READ_STALL_SECONDS="soon")
    assert res.returncode == 2
    assert "EXHIBIT_READ_STALL_SECONDS='soon' is not a positive number" in user_text(res)
    assert "hint:" in user_text(res) and "Traceback" not in res.stderr
    runs, _, _ = cli.run("runs", "SLOW", "--json")
    assert runs.returncode == 0 and "running" not in runs.stdout and "failed" not in runs.stdout
