"""Run the walk-through in docs/evidence-officer.md, so the documented commands cannot rot.

Convention (also stated at the top of that document): in every fenced ```console block, a line
starting with ``$ `` is a command; other lines are the output of the command above them (shown for
the reader, not compared). A command must exit with status 0 unless its line ends with a comment
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

from tests.docs_runner import Command, documented_commands, run_page

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-officer.md"


def test_convention_is_parsed() -> None:
    sample = (
        "intro\n```console\n$ exhibit items\nEX-1 ...\n$ exhibit custody verify  # exit status 1\n```\n"
        "```text\n$ not run\n```\n"
    )
    assert documented_commands(sample) == [
        Command("exhibit items", "exhibit items", 0),
        Command("exhibit custody verify  # exit status 1", "exhibit custody verify", 1),
    ]


def test_walkthrough_commands_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("ewfacquire", "sqlite3", "bash", "head"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the walk-through uses it)")
    commands = documented_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) > 30, "the walk-through lost its console blocks"
    work = tmp_path / "walkthrough"
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
