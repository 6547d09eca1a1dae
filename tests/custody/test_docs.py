"""Run the walk-through in docs/evidence-officer.md, so the documented commands cannot rot.

Convention (also stated at the top of that document): in every fenced ```console block, a line
starting with ``$ `` is a command; other lines are the output of the command above them, compared
with what it prints after the normalisation tests/docs_runner.py describes. A command must exit with status 0 unless its line ends with a comment
``# exit status N``. Blocks in any other language (```text, ```sh ...) are not run.

All blocks of the document run in order, in one empty temporary folder, like a person following
the text in one terminal: ``export NAME=value`` lines change the environment of later commands.

Speed: starting Python and importing the CLI costs about a second per command on a loaded 2-core
machine, too slow for ~40 commands. So ``exhibit ...`` lines (optionally ending in ``> FILE``) run
in this process through :func:`custody.cli.main`, the same entry point as the installed
``exhibit`` script, with the same exit-code mapping; every other line runs in ``bash -c``. One
final command runs as a real subprocess as well, to show both paths agree.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_runner import documented_commands, output_differs, run_page

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-officer.md"


def test_convention_is_parsed() -> None:
    sample = (
        "intro\n```console\n$ exhibit items\nEX-1 ...\n$ exhibit custody verify  # exit status 1\n```\n"
        "```text\n$ not run\n```\n"
    )
    assert [(c.line, c.shell, c.expected, c.shown, c.varies) for c in documented_commands(sample)] == [
        ("exhibit items", "exhibit items", 0, ("EX-1 ...",), False),
        ("exhibit custody verify  # exit status 1", "exhibit custody verify", 1, (), False),
    ]
    varies = documented_commands("```console\n$ exhibit runs  # exit status 1, output varies\nx\n```\n")
    assert [(c.shell, c.expected, c.varies) for c in varies] == [("exhibit runs", 1, True)]


def test_outputs_are_compared() -> None:
    places = {"/tmp/pytest-7/walkthrough": "<work>", "/tmp/walkthrough": "<work>"}
    now = 1_796_000_000.0  # 2026-11-29
    real = (
        "Acquired EX-001 (raw, 1048576 bytes) as entry 3 at 2026-11-29T10:00:01.5Z\n"
        "  sha256 0b1e8d9f0c5a6b7c8d9e0f1a2b3c4d5e\n"
        "│ a │ 9f86d081884c7d65… │ /tmp/pytest-7/walkthrough/x │ 2020-01-02T03:04:05Z │\n"
        "-r--r--r-- 1 root root 32 Nov 29 09:11 x\n"
    )
    same = (
        "Acquired EX-001 (raw, 1048576 bytes) as entry 3 at 2026-03-01T08:00:00.0Z",
        "  sha256 ffff8d9f0c5a6b7c8d9e0f1a2b3c4d5e",
        "│ a     │ 2c26b46b68ffc68f… │ /tmp/walkthrough/x   │ 2020-01-02T03:04:05Z │",
        "-r--r--r-- 1 root root 32 Mar  1 14:31 x",
    )
    assert output_differs(same, real, places=places, now=now) is None
    assert output_differs((same[0], "..."), real, places=places, now=now) is None
    assert output_differs(("...", same[2], "..."), real, places=places, now=now) is None
    assert output_differs(("...",), "", places=places, now=now) is None
    for wrong in (
        (same[0].replace("entry 3", "entry 4"), *same[1:]),  # a count
        same[:3],  # a line missing
        (*same[:2], same[2].replace("2020-01-02", "2020-01-03"), same[3]),  # a time of the evidence
        (*same[:2], same[2].replace("│ a", "│ b"), same[3]),  # a cell
        (*same[:3], same[3].replace(" 32 ", " 33 ")),  # a size
    ):
        assert output_differs(wrong, real, places=places, now=now) is not None, wrong


def test_walkthrough_commands_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("ewfacquire", "sqlite3", "bash", "head"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the walk-through uses it)")
    commands = documented_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) > 30, "the walk-through lost its console blocks"
    work = tmp_path / "harbour"  # the page shows it as /tmp/harbour
    work.mkdir()
    run_page(DOC, work, monkeypatch, timeout=60)

    # The same last check through a real process, as a user's shell would run it.
    last = commands[-1]
    assert last.shell.startswith("exhibit custody verify --against")
    done = subprocess.run(
        [sys.executable, "-m", "custody.cli", *shlex.split(last.shell)[1:]],
        cwd=work,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == last.expected, done.stdout + done.stderr
    assert "TRUNCATED" in done.stdout + done.stderr
