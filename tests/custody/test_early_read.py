"""custody.early_read: the read pass of ``exhibit acquire`` running while the command starts up.

What must hold (issue 12): the digests are those of coreutils; the evidence is unchanged; a
failing check (no case, unknown actor, wrong passphrase, exhibit number taken or malformed, a
usage error) records nothing, says exactly what the command says without the early read, and
leaves no thread running; the recorded start is when the read really began.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest

from custody import early_read, timefmt
from custody.acquisition import acquire_source
from custody.early_read import EarlyRead
from custody.errors import EvidenceError, UnsupportedSource
from tests.conftest import need_tool

SPARSE_SIZE = 512 * 1024 * 1024  # all holes: no disk used, and still ~0.5 s or more to hash


def _threads() -> list[str]:
    """Threads of the read and of its hashing lanes still alive."""
    return [t.name for t in threading.enumerate() if t.name.startswith(("exhibit-early-read", "hash-"))]


def _identity(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _coreutils(path: Path) -> dict[str, str]:
    return {
        alg: subprocess.run(
            [need_tool(f"{alg}sum"), str(path)], check=True, capture_output=True, text=True
        ).stdout.split()[0]
        for alg in ("md5", "sha1", "sha256")
    }


@pytest.fixture
def sparse(tmp_path: Path) -> Path:
    """A 512 MiB file of holes: long enough to read that a check fails while it is being read."""
    path = tmp_path / "big.dd"
    with open(path, "wb") as f:
        f.truncate(SPARSE_SIZE)
    return path


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Every test ends with no read pending, no reading thread and the switch interval restored."""
    interval = sys.getswitchinterval()
    yield
    assert early_read._pending is None
    assert _threads() == []
    assert sys.getswitchinterval() == interval


def test_digests_are_coreutils_and_the_evidence_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "disk.dd"
    path.write_bytes(os.urandom(3 * 4 * 1024 * 1024 + 12345))  # four chunks, the last one short
    before = _identity(path)
    want = _coreutils(path)
    acquisition, started, finished = EarlyRead(path, None).result()
    assert acquisition.hashes == want
    assert acquisition == acquire_source(path)  # the same record as the direct call
    assert (acquisition.kind, acquisition.size) == ("raw", path.stat().st_size)
    assert started.utc <= finished.utc
    assert _identity(path) == before and _coreutils(path) == want


def test_started_is_when_the_read_began_not_when_it_was_taken(tmp_path: Path) -> None:
    path = tmp_path / "small.bin"
    path.write_bytes(b"evidence")
    before = timefmt.stamp()
    early = EarlyRead(path, "file")
    time.sleep(1.0)  # the command would be opening the case, unlocking the key ...
    taken = timefmt.stamp()
    acquisition, started, finished = early.result()
    assert acquisition.hashes["sha256"] == hashlib.sha256(b"evidence").hexdigest()
    assert before.utc <= started.utc <= finished.utc < taken.utc


def test_progress_while_waiting_reaches_the_size(tmp_path: Path) -> None:
    path = tmp_path / "disk.dd"
    path.write_bytes(os.urandom(9 * 1024 * 1024))
    seen: list[int] = []
    acquisition, _, _ = EarlyRead(path, None).result(seen.append)
    assert seen and seen[-1] == acquisition.size == 9 * 1024 * 1024 and seen == sorted(seen)


def test_cancel_stops_the_read_and_its_lanes(sparse: Path) -> None:
    before = _identity(sparse)
    early = EarlyRead(sparse, None)
    while early.done == 0 and early.running:  # reading and hashing, lanes started
        time.sleep(0.001)
    early.cancel()
    assert not early.running and early.done < SPARSE_SIZE
    assert _identity(sparse) == before
    with pytest.raises(RuntimeError, match="cancelled"):
        early.result()


@pytest.mark.parametrize(
    ("name", "kind", "error", "message"),
    [
        ("missing.dd", None, EvidenceError, "no such file or folder"),
        ("disk.dd", "bogus", UnsupportedSource, "unknown evidence kind"),
    ],
)
def test_a_problem_with_the_evidence_is_raised_when_taken(
    tmp_path: Path, name: str, kind: str | None, error: type[Exception], message: str
) -> None:
    (tmp_path / "disk.dd").write_bytes(b"x" * 10)
    early = EarlyRead(tmp_path / name, kind)
    with pytest.raises(error, match=message):
        early.result()


def test_begin_adopts_the_read_started_for_the_same_source(tmp_path: Path) -> None:
    path = tmp_path / "disk.dd"
    path.write_bytes(os.urandom(1000))
    started = early_read.start(str(path), None)
    assert early_read.begin(path, None) is started  # the launcher's str, the command's Path
    started.result()
    other = early_read.start(path, None)
    mine = early_read.begin(path, "file")  # another kind: a new read; the other is cancelled
    assert mine is not other and not other.running
    assert mine.result()[0].kind == "file"
    early_read.start(path, None)
    early_read.cancel()  # what the launcher does when no command took it


# -- the command, in this process: the launcher starts the read, the command takes or cancels it --


def _exhibit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """``exhibit ARGS`` through triage.launch.main in this process: exit status and stderr."""
    from triage.launch import main

    monkeypatch.setattr(sys, "argv", ["exhibit", *args])
    with pytest.raises(SystemExit) as done:
        main()
    code = done.value.code
    return code if isinstance(code, int) else 0, capsys.readouterr().err


class _Seen(EarlyRead):
    """An EarlyRead that remembers itself (what the test then inspects)."""

    made: ClassVar[list[_Seen]] = []

    def __init__(self, path: Path | str, kind: str | None) -> None:
        super().__init__(path, kind)
        self.made.append(self)


@pytest.fixture
def acquiring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Path]:
    """A case with the examiner ``ex`` and the passphrase-protected ``locked``, and EX-1 acquired."""
    case = tmp_path / "case"
    monkeypatch.setenv("EXHIBIT_CASE", str(case))
    monkeypatch.setenv("EXHIBIT_ACTOR", "ex")
    (tmp_path / "one.bin").write_bytes(b"x")
    assert _exhibit(monkeypatch, capsys, "init", str(case), "--case-number", "E-1", "--title", "t")[0] == 0
    assert _exhibit(monkeypatch, capsys, "actor", "add", "ex", "--name", "Ex", "--role", "examiner")[0] == 0
    monkeypatch.setenv("EXHIBIT_KEY_PASSPHRASE", "right")
    added = _exhibit(
        monkeypatch, capsys, "actor", "add", "locked", "--name", "L", "--role", "examiner", "--passphrase"
    )
    assert added[0] == 0, added
    monkeypatch.delenv("EXHIBIT_KEY_PASSPHRASE")
    one = str(tmp_path / "one.bin")
    assert _exhibit(monkeypatch, capsys, "acquire", one, "--exhibit", "EX-1", "--description", "b")[0] == 0
    _Seen.made.clear()
    monkeypatch.setattr(early_read, "EarlyRead", _Seen)
    yield case


def _entries(case: Path) -> int:
    from custody.case import open_case

    opened = open_case(case)
    try:
        return opened.ledger.count()
    finally:
        opened.close()


FAILING: dict[str, tuple[list[str | None], dict[str, str]]] = {
    "no case": (["--case", "{tmp}/nowhere"], {}),
    "unknown actor": (["--actor", "nobody"], {}),
    "wrong passphrase": (["--actor", "locked"], {"EXHIBIT_KEY_PASSPHRASE": "wrong"}),
    "no passphrase": (["--actor", "locked"], {}),
    "exhibit number taken": (["--exhibit", "EX-1"], {}),
    "bad exhibit number": (["--exhibit", "EX 2!"], {}),
    "usage error": (["--description", None], {}),  # the required --description left out
}


@pytest.mark.parametrize("failure", list(FAILING))
def test_a_failing_check_records_nothing_and_stops_the_read(
    failure: str,
    acquiring: Path,
    sparse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra, env = FAILING[failure]
    args = ["acquire", str(sparse), "--exhibit", "EX-2", "--description", "big"]
    args += [a.replace("{tmp}", str(tmp_path)) for a in extra if a is not None]
    if None in extra:
        args = args[:4]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    entries, before = _entries(acquiring), _identity(sparse)

    code, said = _exhibit(monkeypatch, capsys, *args)

    assert code == 2 and "Traceback" not in said
    [early] = _Seen.made  # the launcher started one read, stopped before the end of the evidence
    assert not early.running and early.done < SPARSE_SIZE
    assert _threads() == [] and early_read._pending is None
    assert _entries(acquiring) == entries and _identity(sparse) == before
    monkeypatch.setenv(early_read.OFF_ENV, "1")
    assert _exhibit(monkeypatch, capsys, *args) == (code, said)  # what it said without the early read
    assert len(_Seen.made) == 1


def test_the_command_takes_the_launchers_read(
    acquiring: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "disk.dd"
    path.write_bytes(os.urandom(2 * 4 * 1024 * 1024 + 1))
    before, want = _identity(path), _coreutils(path)
    from custody.case import open_case
    from custody.items import get_item

    assert (
        _exhibit(monkeypatch, capsys, "acquire", str(path), "--exhibit", "EX-3", "--description", "d")[0] == 0
    )
    [early] = _Seen.made  # one read: the launcher's, taken by the command (not a second one)
    assert early.done == path.stat().st_size
    case = open_case(acquiring)
    try:
        item = get_item(case, "EX-3")
    finally:
        case.close()
    assert item.hashes == want and _identity(path) == before
    read = item.data
    assert read["started"]["utc"] <= read["finished"]["utc"] <= item.recorded_utc
    assert datetime.fromisoformat(read["started"]["utc"].rstrip("Z")) > datetime(2026, 1, 1)
