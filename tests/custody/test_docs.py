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

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from custody import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-officer.md"
BLOCK = re.compile(r"^```console[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
EXPECT = re.compile(r"\s+#\s*exit status (\d+)\s*$")
INPROCESS = re.compile(r"^exhibit\s+(?P<args>[^|&;<>`$]*?)(?:\s+>\s*(?P<out>[^\s|&;<>`$]+))?\s*$")


@dataclass(frozen=True)
class Command:
    line: str  # as written after "$ "
    shell: str  # without the "# exit status" comment
    expected: int


def documented_commands(text: str) -> list[Command]:
    found: list[Command] = []
    for block in BLOCK.findall(text):
        for line in block.splitlines():
            if not line.startswith("$ "):
                continue
            command = line[2:].strip()
            expected = 0
            match = EXPECT.search(command)
            if match:
                expected = int(match.group(1))
                command = command[: match.start()].rstrip()
            found.append(Command(line[2:], command, expected))
    return found


def test_convention_is_parsed() -> None:
    sample = (
        "intro\n```console\n$ exhibit items\nEX-1 ...\n$ exhibit custody verify  # exit status 1\n```\n"
        "```text\n$ not run\n```\n"
    )
    assert documented_commands(sample) == [
        Command("exhibit items", "exhibit items", 0),
        Command("exhibit custody verify  # exit status 1", "exhibit custody verify", 1),
    ]


def _run_inprocess(
    args: list[str], stdout_path: Path | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "argv", ["exhibit", *args])
    code: int
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if stdout_path is not None:
        stdout_path.write_text(out.getvalue(), encoding="utf-8")
    return code, out.getvalue() + err.getvalue()


def test_walkthrough_commands_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("ewfacquire", "sqlite3", "bash", "head"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the walk-through uses it)")
    commands = documented_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) > 30, "the walk-through lost its console blocks"

    work = tmp_path / "walkthrough"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("PWD", str(work))
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", venv_bin + os.pathsep + os.environ.get("PATH", ""))
    cli._load_subcommands()  # once: main() would load the add-on commands again for every command
    monkeypatch.setattr(cli, "_load_subcommands", lambda: None)

    for number, command in enumerate(commands, 1):
        where = f"command {number} of {DOC.name}: $ {command.line}"
        if command.shell.startswith("export "):
            for assignment in shlex.split(command.shell.removeprefix("export ")):
                name, _, value = assignment.partition("=")
                monkeypatch.setenv(name, os.path.expandvars(value))
            continue
        match = INPROCESS.match(command.shell)
        if match:
            args = shlex.split(os.path.expandvars(match.group("args")))
            target = work / match.group("out") if match.group("out") else None
            code, output = _run_inprocess(args, target, monkeypatch)
        else:
            done = subprocess.run(
                ["bash", "-c", command.shell],
                cwd=work,
                env=dict(os.environ),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
            code, output = done.returncode, done.stdout + done.stderr
        assert code == command.expected, f"{where}\nexit status {code}, expected {command.expected}\n{output}"

    # The same last check through a real process, as a user's shell would run it.
    last = commands[-1]
    assert last.shell.startswith("exhibit custody verify --against")
    done = subprocess.run(
        [sys.executable, "-m", "custody.cli", *shlex.split(last.shell)[1:]],
        cwd=work,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == last.expected, done.stdout + done.stderr
    assert "TRUNCATED" in done.stdout + done.stderr
