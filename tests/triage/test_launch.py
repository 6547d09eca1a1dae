"""``exhibit ls`` through the start-up fast path equals ``exhibit ls`` through the full Typer CLI."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from custody.cli import app
from tests.conftest import CORPUS, need
from triage.launch import parse_ls

ACCEPTED = [
    ["EX-1"],
    ["EX-1", "/dir", "-r", "--json"],
    ["--json", "EX-1", "--recursive", "--deleted"],
    ["--partition", "1048576", "EX-1", "--mismatch"],
    ["--partition=512", "EX-1", "some dir", "--case=/tmp/a case"],
    ["EX-1", "--case", "/tmp/x", "--", "-odd-folder"],
    ["EX-1", "-"],
]
REFUSED = [
    [],
    ["--help"],
    ["EX-1", "-h"],
    ["EX-1", "-rj"],
    ["EX-1", "--jsn"],
    ["EX-1", "--partition"],
    ["EX-1", "--partition", "x1"],
    ["EX-1", "a", "b"],
]


def typer_params(argv: list[str]) -> dict[str, object]:
    """What Typer makes of ``exhibit ls ARGV`` (triage's commands registered as main() does)."""
    from custody.cli import _load_subcommands

    group = typer.main.get_command(app)
    if "ls" not in group.commands:  # type: ignore[attr-defined]
        _load_subcommands()
        group = typer.main.get_command(app)
    command = group.commands["ls"]  # type: ignore[attr-defined]
    params = dict(command.make_context("ls", list(argv)).params)
    # Typer before 0.29 makes a Path of a path option only when it calls the command, not when it
    # parses: compare what the command receives
    if isinstance(params.get("case"), str):
        params["case"] = Path(params["case"])
    return params


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_fast_parser_reads_what_typer_reads(argv: list[str]) -> None:
    parsed = parse_ls(argv)
    assert parsed is not None
    assert dataclasses.asdict(parsed) == typer_params(argv)


@pytest.mark.parametrize("argv", REFUSED, ids=lambda a: " ".join(a) or "nothing")
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_ls(argv) is None


def exhibit(*args: str, env: dict[str, str], fast: bool) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    if not fast:
        full["EXHIBIT_NO_FAST_LS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "triage.launch", *args], capture_output=True, text=True, env=full, timeout=120
    )


def test_both_ways_print_the_same(tmp_path: Path) -> None:
    image = need(CORPUS / "disk/dfvfs/ext2.E01")
    case = tmp_path / "case"
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case), "COLUMNS": "200"}
    for setup in (
        ("init", str(case), "--case-number", "L-1", "--title", "launch"),
        ("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner"),
        ("acquire", str(image), "--exhibit", "EX-1", "--description", "ext2"),
    ):
        done = exhibit(*setup, env=env, fast=False)
        assert done.returncode == 0, done.stderr
    commands = [
        ("ls", "EX-1"),
        ("ls", "EX-1", "-r", "--json"),
        ("ls", "EX-1", "-r", "--deleted"),
        ("ls", "EX-1", "/a_directory", "--json"),
        ("ls", "EX-1", "--partition", "0", "-r"),
        ("ls", "EX-1", "/no/such/folder"),  # an error before any output: the full CLI reports it
        ("ls", "EX-404"),
        ("ls", "EX-1", "--partition", "4096"),
        ("ls", "EX-1", "--case", str(tmp_path / "nowhere")),
    ]
    for i, args in enumerate(commands):
        if i == 2:  # after a triage run, --json adds sha256/mime/mismatch
            assert exhibit("triage", "EX-1", env=env, fast=False).returncode == 0
        fast, slow = exhibit(*args, env=env, fast=True), exhibit(*args, env=env, fast=False)
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr), (
            args
        )
    listed = exhibit("ls", "EX-1", "-r", "--json", env=env, fast=True).stdout
    assert '"sha256": "' in listed and "Traceback" not in listed


def test_help_still_comes_from_typer() -> None:
    done = exhibit("ls", "--help", env={"COLUMNS": "200"}, fast=True)
    assert done.returncode == 0 and "Example" in done.stdout and "--partition" in done.stdout


def test_ls_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    image = need(CORPUS / "disk/dfvfs/ext2.E01")
    case = tmp_path / "case"
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case)}
    for setup in (
        ("init", str(case), "--case-number", "L-2", "--title", "pipe"),
        ("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner"),
        ("acquire", str(image), "--exhibit", "EX-1", "--description", "ext2"),
    ):
        assert exhibit(*setup, env=env, fast=False).returncode == 0
    shell = f"{sys.executable} -m triage.launch ls EX-1 -r --json | head -c 10"
    done = subprocess.run(
        shell, shell=True, capture_output=True, text=True, env={**os.environ, **env}, timeout=60
    )
    assert done.stdout and "Traceback" not in done.stderr and "Error" not in done.stderr


def test_ls_does_not_load_the_full_cli(tmp_path: Path) -> None:
    """The point of the fast path: ``exhibit ls`` answers without importing Typer (or rich)."""
    image = need(CORPUS / "disk/dfvfs/ext2.E01")
    case = tmp_path / "case"
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case)}
    for setup in (
        ("init", str(case), "--case-number", "L-3", "--title", "imports"),
        ("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner"),
        ("acquire", str(image), "--exhibit", "EX-1", "--description", "ext2"),
    ):
        assert exhibit(*setup, env=env, fast=False).returncode == 0
    code = (
        "import sys\n"
        "from triage.launch import main\n"
        "sys.argv = ['exhibit', 'ls', 'EX-1', '-r', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('typer', 'rich', 'pydantic', 'sqlalchemy') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=60
    )
    assert done.stdout.count("\n") >= 5, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
