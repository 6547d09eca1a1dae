"""Run the ```console blocks of a documentation page, so the user pages cannot rot.

The convention (stated at the top of each page): in every fenced
```console block, a line starting with ``$ `` is a command and the lines after it are its output
(shown to the reader, not compared). A command must exit with status 0 unless its line ends with
``# exit status N``. ``export NAME=value`` lines change the environment of later commands. All
blocks of a page run in order in one empty temporary folder.

``exhibit ...`` lines run in this process (fast); the others run in ``bash -c``. Also:

* in-process ``exhibit ...`` commands get a real byte stream as stdout, so ``exhibit cat EX PATH >
  FILE`` (which writes bytes to ``sys.stdout.buffer``) works in-process, byte for byte;
* a fenced ```python block whose first line is ``# save as NAME`` is written to ``NAME`` in the
  folder before the commands run, so a page can show a short script and then run it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from custody import cli

__all__ = ["Command", "Ran", "documented_commands", "run_page", "saved_files"]

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


SAVED = re.compile(
    r"^```python[ \t]*\n# save as (?P<name>[\w.-]+)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S
)


@dataclass(frozen=True)
class Ran:
    command: Command
    code: int
    output: str  # stdout + stderr, undecodable bytes replaced
    seconds: float


def saved_files(text: str) -> dict[str, str]:
    """The ```python blocks marked ``# save as NAME``: NAME -> file text (comment line included)."""
    return {m.group("name"): f"# save as {m.group('name')}\n" + m.group("body") for m in SAVED.finditer(text)}


def _run_inprocess(
    args: list[str], stdout_path: Path | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    monkeypatch.setattr(sys, "argv", ["exhibit", *args])
    code: int
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out.flush()
    data = raw.getvalue()
    if stdout_path is not None:
        stdout_path.write_bytes(data)
    return code, data.decode("utf-8", "replace") + err.getvalue()


def run_page(
    doc: Path,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    timeout: float = 120,
    names: dict[str, str] | None = None,
) -> list[Ran]:
    """Run every command of ``doc`` in ``work``; fail the test at the first unexpected exit status.

    ``names`` replaces names of shared things in the page's text before it runs (a database or a
    queue on a shared server, made unique so that test runs at the same time cannot meet)."""
    text = doc.read_text(encoding="utf-8")
    for old, new in (names or {}).items():
        assert old in text, f"{doc.name} no longer names {old!r}"
        text = text.replace(old, new)
    commands = documented_commands(text)
    for name, body in saved_files(text).items():
        (work / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PWD", str(work))
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", venv_bin + os.pathsep + os.environ.get("PATH", ""))
    cli._load_subcommands()  # once: main() would load the add-on commands again for every command
    monkeypatch.setattr(cli, "_load_subcommands", lambda: None)

    done: list[Ran] = []
    for number, command in enumerate(commands, 1):
        where = f"command {number} of {doc.name}: $ {command.line}"
        started = time.monotonic()
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
            ran = subprocess.run(
                ["bash", "-c", command.shell],
                cwd=work,
                env=dict(os.environ),
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
            code, output = ran.returncode, ran.stdout + ran.stderr
        assert code == command.expected, f"{where}\nexit status {code}, expected {command.expected}\n{output}"
        done.append(Ran(command, code, output, time.monotonic() - started))
    return done
