"""The ``exhibit`` command line as a user meets it: help with examples, --json on listings,
clear errors without tracebacks, and the triage commands on a real image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from custody.cli import _load_subcommands, app
from tests.conftest import CORPUS, need

_load_subcommands()
COMMAND = get_command(app)


def command_paths(group=COMMAND, prefix=()) -> Iterator[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from command_paths(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


ALL = list(command_paths())
LISTINGS = [
    ("actor", "list"),
    ("items",),
    ("custody", "log"),
    ("findings",),
    ("runs",),
    ("plugins", "list"),
    ("ls",),
    ("chats",),
    ("calls",),
    ("contacts",),
    ("timeline",),
    ("links",),
]


def test_the_cli_has_every_command() -> None:
    names = {" ".join(p) for p in ALL}
    for expected in (
        "init",
        "acquire",
        "actor add",
        "custody transfer",
        "custody verify",
        "custody proof",
        "custody checkpoint",
        "custody export",
        "ls",
        "cat",
        "triage",
        "findings",
        "export",
        "plugins list",
        "chats",
        "calls",
        "contacts",
        "timeline",
        "links",
    ):
        assert expected in names


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "$ exhibit " + path[0] in result.output


GROUPS = [(), *sorted({p[:1] for p in ALL if len(p) > 1})]


@pytest.mark.parametrize("path", GROUPS, ids=[" ".join(p) or "exhibit" for p in GROUPS])
def test_every_group_help_has_an_example_and_no_example_is_cut(path: tuple[str, ...]) -> None:
    """The root and each group (actor, custody, plugins, broker, hashset) show examples too (found
    in review: none did); and on a narrow terminal an example stays one line, so a pasted line is
    the whole command (found in review: Click wrapped them at 80 columns)."""
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "$ exhibit " + " ".join(path) in result.output
    for leaf in [p for p in ALL if p[: len(path)] == path][:8]:
        narrow = CliRunner().invoke(app, [*leaf, "--help"], terminal_width=60).output
        shown = [line.strip() for line in narrow.split("Example:", 1)[1].splitlines() if line.strip()]
        assert all(line.startswith("$ exhibit ") for line in shown), (leaf, shown)


@pytest.mark.parametrize("path", LISTINGS, ids=[" ".join(p) for p in LISTINGS])
def test_every_listing_has_json(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert "--json" in result.output


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage.launch", *args],  # the `exhibit` script
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    assert run("init", str(case), "--case-number", "T-1", "--title", "cli").returncode == 0
    assert (
        run("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner", "--case", str(case)).returncode
        == 0
    )
    return case


def test_errors_are_messages_not_tracebacks(case_dir: Path, tmp_path: Path) -> None:
    env = {"EXHIBIT_ACTOR": "ex"}
    bad = [
        ("items", "--case", str(tmp_path / "nowhere")),
        (
            "acquire",
            str(tmp_path / "missing.dd"),
            "--exhibit",
            "EX-1",
            "--description",
            "x",
            "--case",
            str(case_dir),
        ),
        ("custody", "transfer", "EX-404", "--to", "ex", "--case", str(case_dir)),
        ("ls", "EX-404", "--case", str(case_dir)),
        ("custody", "verify", "--against", str(tmp_path / "nope.json"), "--case", str(case_dir)),
        ("triage", "EX-404", "--case", str(case_dir)),
        ("custody", "verify", "EX-404", "--case", str(case_dir)),
        ("custody", "log", "EX-404", "--case", str(case_dir)),
        ("runs", "EX-404", "--case", str(case_dir)),
        ("runs", "EX-404", "--json", "--case", str(case_dir)),
        ("findings", "EX-404", "--case", str(case_dir)),
        ("acquire", str(case_dir), "--exhibit", "bad number!", "--description", "x", "--case", str(case_dir)),
    ]
    for args in bad:
        result = run(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "error:" in result.stderr, (args, result.stderr)
    nowhere = run("init", str(case_dir), "--case-number", "X", "--title", "again")
    assert nowhere.returncode == 2 and "already holds a case" in nowhere.stderr


def test_errors_found_in_review_say_what_to_do(case_dir: Path, tmp_path: Path) -> None:
    """Each of these ended with an error and no hint (and the PostgreSQL one with the server's
    line breaks shown as \\x0a\\x09)."""
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case_dir)}
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    garbage = tmp_path / "garbage-case"
    garbage.mkdir()
    (garbage / "exhibit-case.json").write_text("{garbage")
    for args, extra, says, hint in (
        (
            ("actor", "add", "ex", "--name", "Again", "--role", "examiner"),
            {},
            "already registered",
            "actor list",
        ),
        (
            ("custody", "verify", "--against", str(tmp_path / "nope.json")),
            {},
            "cannot open a checkpoint file",
            "path",
        ),
        (
            ("actor", "add", "ex2", "--name", "Another", "--role", "examiner"),
            {"EXHIBIT_CONFIG_DIR": str(a_file)},
            "not-a-folder/keys: Not a directory",
            "",
        ),
        (("items", "--case", str(garbage)), {}, "exhibit-case.json is unreadable", "backup copy"),
        (
            (
                "init",
                str(tmp_path / "pg"),
                "--case-number",
                "P",
                "--title",
                "t",
                "--db",
                "postgresql://postgres@127.0.0.1:1/x",
            ),
            {},
            "Connection refused Is the server running",
            "server runs",
        ),
    ):
        done = run(*args, env={**env, **extra})
        said = done.stderr
        assert done.returncode == 2 and "Traceback" not in said, (args, said)
        assert says in said and "hint:" in said and hint in said.split("hint:", 1)[1], (args, said)
        assert "\\x0a" not in said, (args, said)


def test_an_actor_who_looks_like_another_is_registered_with_a_warning(case_dir: Path) -> None:
    """Found in review: 'jd0e' named "Jane Doe" beside 'jdoe', or a name with a Cyrillic letter,
    was registered without a word; a report then showed its signatures as Jane Doe's."""
    env = {"EXHIBIT_CASE": str(case_dir)}
    first = run("actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer", env=env)
    assert first.returncode == 0 and "warning" not in first.stderr
    twin = run("actor", "add", "jd0e", "--name", "jane  DOE", "--role", "examiner", env=env)
    assert (
        twin.returncode == 0
        and "warning: jd0e: 'jdoe' is registered with the name 'Jane Doe' too" in twin.stderr
    )
    mixed = run("actor", "add", "jx", "--name", "Jane D\u043ee", "--role", "examiner", env=env)
    assert mixed.returncode == 0 and "mixes letters of CYRILLIC, LATIN scripts" in mixed.stderr, mixed.stderr


def test_the_same_evidence_under_a_second_number_is_said(case_dir: Path, tmp_path: Path) -> None:
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case_dir)}
    item = tmp_path / "usb.dd"
    item.write_bytes(b"\x00" * 4096)
    assert (
        run("acquire", str(item), "--exhibit", "EX-1", "--description", "USB stick", env=env).returncode == 0
    )
    again = run("acquire", str(item), "--exhibit", "EX-2", "--description", "the same stick", env=env)
    assert again.returncode == 0
    assert "warning: EX-2 has the SHA-256 of EX-1 (USB stick)" in " ".join(again.stderr.split())


def test_evidence_moved_after_acquisition_is_said_so(case_dir: Path, tmp_path: Path) -> None:
    """Found in review: a folder moved after it was acquired gave "not a folder", an image "no such
    file": each command now says the evidence is no longer where it was acquired, and what to do."""
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case_dir)}
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "notes.txt").write_text("pier 7\n")
    image = tmp_path / "disk.dd"
    shutil.copyfile(need(CORPUS / "disk/dfvfs/ímynd.dd"), image)
    for path, exhibit in ((folder, "EX-1"), (image, "EX-2")):
        done = run("acquire", str(path), "--exhibit", exhibit, "--description", "x", env=env)
        assert done.returncode == 0, done.stderr
    folder.rename(tmp_path / "phone.moved")
    image.rename(tmp_path / "disk.moved")
    for exhibit, path in (("EX-1", folder), ("EX-2", image)):
        for args in (
            ("ls", exhibit),
            ("ls", exhibit, "-r", "--json"),
            ("triage", exhibit),
            ("cat", exhibit, "/x"),
        ):
            done = run(*args, env=env)
            said = " ".join(done.stderr.split())
            assert done.returncode == 2 and "Traceback" not in said, (args, said)
            assert f"{path}: the evidence is no longer at the path it was acquired from" in said, (args, said)
            assert "mount the drive" in said, (args, said)


def test_triage_commands_on_a_real_image(case_dir: Path, tmp_path: Path) -> None:
    image = need(CORPUS / "disk/dfvfs/ext2.E01")
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case_dir)}
    assert run("acquire", str(image), "--exhibit", "EX-1", "--description", "ext2", env=env).returncode == 0
    triage = run("triage", "EX-1", "--json", env=env)
    assert triage.returncode == 0, triage.stderr
    assert json.loads(triage.stdout)["status"] == "complete"
    lines = [json.loads(x) for x in run("ls", "EX-1", "-r", "--json", env=env).stdout.splitlines()]
    assert lines and all(
        {"partition", "path", "inode", "deleted", "type", "size", "sha256"} <= set(x) for x in lines
    )
    text_file = next(x for x in lines if x["path"] == "/a_directory/a_file")
    assert text_file["sha256"] and text_file["type"] == "file"
    cat = subprocess.run(
        [sys.executable, "-m", "custody.cli", "cat", "EX-1", "/a_directory/a_file"],
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    import hashlib

    assert hashlib.sha256(cat.stdout).hexdigest() == text_file["sha256"]
    by_inode = subprocess.run(
        [sys.executable, "-m", "custody.cli", "cat", "EX-1", "--inode", str(text_file["inode"])],
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert by_inode.stdout == cat.stdout
    folder = next(x for x in lines if x["path"] == "/a_directory")
    cat_dir = subprocess.run(
        [sys.executable, "-m", "custody.cli", "cat", "EX-1", "/a_directory"],
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert cat_dir.returncode == 0 and b"is a folder" in cat_dir.stderr
    if shutil.which("icat"):  # the raw directory data, byte for byte what icat prints
        icat = subprocess.run(["icat", str(image), str(folder["inode"])], capture_output=True, timeout=60)
        assert cat_dir.stdout == icat.stdout and icat.stdout
    out = tmp_path / "exports"
    exported = run("export", "EX-1", "/a_directory/a_file", "--to", str(out), "--json", env=env)
    assert exported.returncode == 0, exported.stderr
    assert (out / "a_directory" / "a_file").read_bytes() == cat.stdout
    assert json.loads(run("plugins", "list", "--json", env=env).stdout)
    assert json.loads(run("runs", "EX-1", "--json", env=env).stdout)[0]["status"] == "complete"
    assert json.loads(run("findings", "EX-1", "--json", env=env).stdout) == []
    assert run("custody", "verify", env=env).returncode == 0


def test_passphrase_variable_is_one_name() -> None:
    import custody.cli
    import custody.keys

    assert custody.cli.PASSPHRASE_ENV == custody.keys.PASSPHRASE_ENV


def test_triage_migration_head_is_declared() -> None:
    """triage.store.HEAD lets an up-to-date database skip Alembic; it must be Alembic's head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import triage.store
    from custody.store import db

    for location, (_table, head) in db.HEADS.items():
        cfg = Config()
        cfg.set_main_option("script_location", location)
        assert ScriptDirectory.from_config(cfg).get_current_head() == head
    assert triage.store.MIGRATIONS in db.HEADS
