"""Start-up (issue 12): each command loads only what it needs, and still everything it needs.

``exhibit --version`` and ``exhibit --help`` answer without Typer (triage/launch.py); any other
command line loads only the module of the command it names, and Typer builds only that command's
parser (custody.cli.main). These tests run each command in a fresh process, with nothing imported
ahead, and compare what it prints with what the full CLI (every command loaded) prints; and they
check which heavy modules a command does not import (``sys.modules``, not a stopwatch: a test of
seconds would fail on a loaded machine and pass on a broken one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from custody.cli import _load_subcommands, app
from tests.procs import in_forked_child
from triage.launch import (
    ACQUIRE_FLAGS,
    ACQUIRE_VALUE_OPTIONS,
    COMMANDS,
    TRIAGE_FLAGS,
    TRIAGE_VALUE_OPTIONS,
    parse_acquire,
    parse_triage,
)
from triage.roothelp import ROOT_HELP

_load_subcommands()
FULL = get_command(app)


def _paths(group=FULL, prefix=()):  # type: ignore[no-untyped-def]
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _paths(cmd, (*prefix, name))


EVERY = list(_paths())  # every command and group, sub-commands included
GROUPS = {p[0] for p in EVERY if len(p) > 1}
FRESH_ENV = {"COLUMNS": "80", "TERM": "dumb"}


def exhibit(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``exhibit ARGS`` in a new interpreter (the installed script runs triage.launch:main)."""
    return subprocess.run(
        [sys.executable, "-m", "triage.launch", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **FRESH_ENV, **(env or {})},
        timeout=300,
    )


def typer_prints(*args: str) -> tuple[int, str]:
    """What the full CLI (every command loaded and built) prints for ``exhibit ARGS``, at 80 columns."""
    result = CliRunner().invoke(app, list(args), prog_name="exhibit", terminal_width=78)
    return result.exit_code, result.stdout


# -- --version and --help without Typer ---------------------------------------------------------


def test_version_is_the_installed_distributions() -> None:
    fast = exhibit("--version")
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, f"exhibit {version('exhibit')}\n", "")
    assert typer_prints("--version") == (0, fast.stdout)  # the Typer option says the same


@pytest.mark.parametrize("columns", ["80", "200"])
def test_root_help_is_typers_help(columns: str) -> None:
    """The copy in triage/roothelp.py is what Typer prints: rerun scripts/write_root_help.py when
    this fails after a command was added, renamed or re-described."""
    fast = exhibit("--help", env={"COLUMNS": columns})
    slow = exhibit("--help", env={"COLUMNS": columns, "EXHIBIT_NO_FAST_HELP": "1"})
    assert slow.returncode == 0 and slow.stdout == typer_prints("--help")[1], slow.stderr
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, slow.stdout, ""), (
        "triage/roothelp.py is stale: run .venv/bin/python scripts/write_root_help.py"
    )
    assert fast.stdout == ROOT_HELP


def test_narrow_terminal_help_comes_from_typer() -> None:
    """Below 80 columns click wraps the help to the terminal: the copy is not used."""
    narrow = exhibit("--help", env={"COLUMNS": "60"})
    assert narrow.returncode == 0 and narrow.stdout != ROOT_HELP
    assert narrow.stdout == exhibit("--help", env={"COLUMNS": "60", "EXHIBIT_NO_FAST_HELP": "1"}).stdout


# -- the registry of triage's commands ----------------------------------------------------------


def test_registry_names_what_each_module_registers() -> None:
    """COMMANDS (triage/launch.py) is exactly what the ``exhibit.cli`` entry points add: every
    command of theirs, each under the register function that adds it."""
    assert set(COMMANDS.values()) == {ep.value for ep in entry_points(group="exhibit.cli")}
    for target in set(COMMANDS.values()):
        module, _, function = target.partition(":")
        holder = typer.Typer()
        getattr(__import__(module, fromlist=[function]), function)(holder)
        added = {c.name for c in holder.registered_commands} | {g.name for g in holder.registered_groups}
        assert added == {name for name, t in COMMANDS.items() if t == target}, target


# -- exhibit acquire: the read starts before the CLI loads ---------------------------------------


def test_the_launcher_knows_every_option_of_acquire() -> None:
    """triage.launch.parse_acquire finds the evidence path among acquire's options: it must know
    which of them take a value (an option it does not know means: no early read)."""
    params = [p for p in _command(("acquire",)).params if p.param_type_name == "option"]
    takes_value = {name for p in params if not p.is_flag for name in p.opts}
    flags = {name for p in params if p.is_flag and p.name != "help" for name in p.opts}
    assert (takes_value, flags) == (set(ACQUIRE_VALUE_OPTIONS), set(ACQUIRE_FLAGS))


def test_the_launcher_knows_every_option_of_triage() -> None:
    """triage.launch.parse_triage finds the exhibit and ``--case`` among triage's options, to
    start walking a disk image early: it must know which of them take a value."""
    params = [p for p in _command(("triage",)).params if p.param_type_name == "option"]
    takes_value = {name for p in params if not p.is_flag for name in p.opts}
    flags = {name for p in params if p.is_flag and p.name != "help" for name in (*p.opts, *p.secondary_opts)}
    assert (takes_value, flags) == (set(TRIAGE_VALUE_OPTIONS), set(TRIAGE_FLAGS))


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        (["EX-1"], (None, "EX-1")),
        (["EX-1", "--case", "c", "--json", "--no-carve", "--workers", "2"], (Path("c"), "EX-1")),
        (["--case=c", "--option", "a.b=1", "--", "-EX"], (Path("c"), "-EX")),
        (["EX-1", "--help"], None),
        (["EX-1", "--csae", "c"], None),
        (["EX-1", "EX-2"], None),
        (["--case", "c"], None),
        (["EX-1", "--case"], None),
    ],
)
def test_parse_triage(argv: list[str], parsed: tuple[Path | None, str] | None) -> None:
    assert parse_triage(argv) == parsed


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        (["d.dd", "--exhibit", "EX-1", "--description", "x"], (Path("d.dd"), None)),
        (["--exhibit=EX-1", "--kind", "raw", "--json", "--", "-odd.dd"], (Path("-odd.dd"), "raw")),
        (["--description", "d.dd", "--case", "c", "e.E01", "--kind=e01"], (Path("e.E01"), "e01")),
        (["d.dd", "--help"], None),
        (["d.dd", "--exhibt", "EX-1"], None),
        (["d.dd", "e.dd"], None),
        (["--exhibit", "EX-1"], None),
        (["d.dd", "--kind"], None),
    ],
)
def test_parse_acquire(argv: list[str], parsed: tuple[Path, str | None] | None) -> None:
    assert parse_acquire(argv) == parsed


def test_acquire_in_a_fresh_process_reads_early_and_hashes_as_coreutils(tmp_path: Path) -> None:
    """With nothing imported ahead, ``exhibit acquire`` starts the read in the launcher and the
    command takes it: the recorded digests are coreutils' (and the same without the early read),
    and the evidence is unchanged."""
    env, _ = _case_with_examiner(tmp_path, "S-5")
    disk = tmp_path / "disk.dd"
    disk.write_bytes(os.urandom(2 * 4 * 1024 * 1024 + 4097))
    before = disk.stat()
    want = {
        alg: subprocess.run(
            [f"{alg}sum", str(disk)], check=True, capture_output=True, text=True
        ).stdout.split()[0]
        for alg in ("md5", "sha1", "sha256")
    }
    for number, off in (("EX-1", {}), ("EX-2", {"EXHIBIT_NO_EARLY_READ": "1"})):
        done = exhibit(
            "acquire", str(disk), "--exhibit", number, "--description", "d", "--json", env={**env, **off}
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["hashes"] == want
    after = disk.stat()
    assert (after.st_mtime_ns, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)
    assert "custody.early_read" in loaded_by(
        "acquire", str(disk), "--exhibit", "EX-3", "--description", "d", env=env
    )
    assert "custody.early_read" not in loaded_by("custody", "move", "EX-1", "--location", "vault", env=env)


QUICK_EXIT_PROBE = """
import atexit, sys
atexit.register(lambda: print("exit functions ran", file=sys.stderr))
class TornDown:  # says so when the interpreter's teardown clears this module (a quick exit has none)
    def __del__(self):
        print("torn down", file=sys.stderr)
marker = TornDown()
sys.argv = ["exhibit", *sys.argv[1:]]
from triage.launch import run
run()
"""


def test_acquire_ends_at_once_with_its_status_output_and_exit_functions(tmp_path: Path) -> None:
    """After ``exhibit acquire`` the script ends the process without the interpreter's teardown
    (triage.launch.run): its output is complete, its exit status kept, its exit functions run."""
    env, one = _case_with_examiner(tmp_path, "S-6")
    for number, code in (("EX-1", 0), ("EX-1", 2)):  # recorded; then refused (the number is taken)
        done = subprocess.run(
            [sys.executable, "-c", QUICK_EXIT_PROBE, "acquire", str(one), "--exhibit", number, "--description", "b", "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, **FRESH_ENV, **env},
            timeout=120,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        assert done.stderr.endswith("exit functions ran\n") and "torn down" not in done.stderr
        if code == 0:
            assert json.loads(done.stdout)["exhibit"] == "EX-1"
        else:
            assert "error: exhibit 'EX-1' already exists in this case" in done.stderr


def test_triage_ends_at_once_with_its_summary_its_case_closed_and_verified(tmp_path: Path) -> None:
    """After ``exhibit triage`` the script ends the process without the interpreter's teardown too:
    the JSON summary is whole, exit functions ran, no WAL is left beside the case database (the
    case was closed, so its last connection checkpointed), the ledger verifies, and a refused run
    keeps its status."""
    env, _ = _case_with_examiner(tmp_path, "S-7")
    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    for n in range(30):
        (folder / "sub" / f"f{n}.txt").write_text(f"line {n}\n" * (n + 1))
    assert exhibit("acquire", str(folder), "--exhibit", "EX-1", "--description", "f", env=env).returncode == 0
    for number, code in (("EX-1", 0), ("EX-9", 2)):  # read and recorded; then an exhibit not in the case
        done = subprocess.run(
            [sys.executable, "-c", QUICK_EXIT_PROBE, "triage", number, "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, **FRESH_ENV, **env},
            timeout=300,
        )
        assert done.returncode == code, done.stderr
        assert done.stderr.endswith("exit functions ran\n") and "torn down" not in done.stderr
        if code == 0:
            summary = json.loads(done.stdout)
            assert summary["status"] == "complete" and summary["counts"]["files"] == 30
        else:
            assert "EX-9" in done.stderr and "Traceback" not in done.stderr
    case = Path(env["EXHIBIT_CASE"])
    assert not list(case.glob("*-wal")), sorted(p.name for p in case.iterdir())
    verified = exhibit("custody", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_exhibit_collects_less_often_and_still_collects() -> None:
    """``exhibit`` sets the collector's thresholds (triage.launch.GC_THRESHOLDS) before anything
    else, for its process and what it forks; the collector stays on, so cyclic garbage is still
    freed (memory bounded)."""
    from triage.launch import GC_THRESHOLDS

    probe = (
        "import gc, json, os, sys, triage.launch as L\n"
        "default = gc.get_threshold()\n"
        "sys.argv = ['exhibit', '--version']\n"
        "try:\n    L.main()\nexcept SystemExit:\n    pass\n"
        "class Cycle:\n    pass\n"
        "before = gc.get_stats()[0]['collections']\n"
        "for _ in range(100_000):\n    c = Cycle(); c.me = c\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n    os.write(w, json.dumps(gc.get_threshold()).encode()); os._exit(0)\n"
        "os.wait()\n"
        "print(json.dumps([default, gc.get_threshold(), json.loads(os.read(r, 100)), gc.isenabled(),"
        " gc.get_stats()[0]['collections'] - before]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={**os.environ, **FRESH_ENV}
    )
    assert done.returncode == 0, done.stderr
    default, ours, forked, enabled, collections = json.loads(done.stdout.splitlines()[-1])
    assert tuple(default) != GC_THRESHOLDS  # Python's own (700, 10, 10)
    assert tuple(ours) == tuple(forked) == GC_THRESHOLDS
    assert enabled and 0 < collections <= 100_000 // GC_THRESHOLDS[0] + 1  # collected, less often


# -- every command in a fresh process -----------------------------------------------------------


def test_every_command_help_in_a_fresh_process() -> None:
    """``exhibit PATH --help`` for every command, group and sub-command, each in a new process,
    prints what the full CLI prints; every leaf command's help has its example."""

    def one(path: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str]]:
        return path, exhibit(*path, "--help")

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, EVERY))
    assert len(done) > 45
    for path, fresh in done:
        assert fresh.returncode == 0, (path, fresh.stderr)
        assert (0, fresh.stdout) == typer_prints(*path, "--help"), path
        if not hasattr(_command(path), "commands"):
            assert "Example:" in fresh.stdout and f"$ exhibit {' '.join(path)}" in fresh.stdout, path


def _command(path: tuple[str, ...]):  # type: ignore[no-untyped-def]
    cmd = FULL
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


def test_usage_errors_are_the_full_clis() -> None:
    """A mistake is reported as the full CLI reports it (the pruned app changes nothing)."""
    for args in (["acquire"], ["custody", "move"], ["custody", "nosuch"], ["nosuch"], ["ls"], ["report"]):
        fresh = exhibit(*args)
        assert fresh.returncode == 2 and "Traceback" not in fresh.stderr, args
        assert "Usage: exhibit" in fresh.stderr and "Error:" in fresh.stderr, (args, fresh.stderr)
    unknown = exhibit("nosuch")
    assert "No such command 'nosuch'" in unknown.stderr


@pytest.mark.slow
def test_every_command_works_in_a_fresh_process(tmp_path: Path) -> None:
    """A real, minimal run of every command, each in a new process: the lazily loaded module of
    each command is enough for it to work."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "notes.txt").write_text("call Dani on +44 7700 900123 about the van\n", encoding="utf-8")
    (evidence / "data.bin").write_bytes(os.urandom(4096))
    one = tmp_path / "one.bin"
    one.write_bytes(b"x")
    (tmp_path / "terms.txt").write_text("van\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_text("d41d8cd98f00b204e9800998ecf8427e\n", encoding="utf-8")
    case = tmp_path / "case"
    env = {"EXHIBIT_CASE": str(case), "EXHIBIT_ACTOR": "ex"}
    ran: set[str] = set()

    def ok(*args: str, code: int = 0) -> str:
        done = exhibit(*args, env=env, cwd=tmp_path)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, args
        ran.add(" ".join(args[:2]) if args[0] in GROUPS else args[0])
        return done.stdout

    ok("init", str(case), "--case-number", "S-1", "--title", "start-up")
    ok("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner")
    ok("actor", "add", "as2", "--name", "As Two", "--role", "evidence-officer")
    assert len(json.loads(ok("actor", "list", "--json"))) == 2
    ok("acquire", str(evidence), "--exhibit", "EX-1", "--description", "a folder")
    ok("acquire", str(one), "--exhibit", "EX-2", "--description", "one byte")
    assert [i["exhibit"] for i in json.loads(ok("items", "--json"))] == ["EX-1", "EX-2"]
    ok("custody", "check-out", "EX-1", "--reason", "imaging")
    ok("custody", "check-in", "EX-1", "--location", "store")
    ok("custody", "transfer", "EX-1", "--to", "as2", "--reason", "analysis")
    ok("custody", "seal", "EX-2", "--seal", "S-1")
    ok("custody", "unseal", "EX-2", "--seal", "S-1")
    moved = json.loads(ok("custody", "move", "EX-1", "--location", "vault", "--json"))
    ok("custody", "examine", "EX-1", "--reason", "triage")
    ok("custody", "correct", "EX-1", "--entry", str(moved["seq"]), "--reason", "wrong shelf", "--location", "shelf 3")  # fmt: skip
    assert len(json.loads(ok("custody", "log", "--json"))) >= 12
    assert ok("custody", "export", "--format", "csv")
    assert json.loads(ok("custody", "proof", "EX-1"))["ok"]
    ok("custody", "checkpoint", "--out", str(tmp_path / "cp.json"))
    ok("custody", "timestamp", "--list", "--json")
    assert "OK" in ok("custody", "verify", "--against", str(tmp_path / "cp.json"))
    assert "notes.txt" in ok("ls", "EX-1", "-r")
    assert "notes.txt" in exhibit("ls", "EX-1", "-r", env={**env, "EXHIBIT_NO_FAST_LS": "1"}).stdout
    assert "Dani" in ok("cat", "EX-1", "/notes.txt")
    ok("triage", "EX-1")
    ok("findings", "EX-1", "--json")
    assert json.loads(ok("runs", "--json"))
    for view in ("chats", "calls", "contacts", "timeline", "links"):
        ok(view, "--json")
    ok("carved", "EX-1", "--json")
    ok("export", "EX-1", "/notes.txt", "--to", str(tmp_path / "out"))
    ok("export-case", "--format", "dfxml", "--out", str(tmp_path / "EX-1.xml"), "--exhibit", "EX-1")
    assert "sms_android" in ok("plugins", "list")
    ok("hashset", "import", str(tmp_path / "bad.txt"), "--name", "bad", "--kind", "known-bad")
    assert "bad" in ok("hashset", "list")
    ok("hashset", "match", "EX-1")
    ok("hashset", "remove", "bad", "--reason", "test over")
    ok("broker", "set", "redis://127.0.0.1:6379/0", "--password-env", "LAB_BROKER_PW")
    assert json.loads(ok("broker", "show", "--json"))["password_env"] == "LAB_BROKER_PW"
    assert "Broker cleared" in ok("broker", "clear")
    ok("search", "EX-1", "--keywords", str(tmp_path / "terms.txt"))
    ok("report", "--format", "html", "--out", str(tmp_path / "report"))
    ok("verify-report", str(tmp_path / "report"))
    ok("bundle", "--out", str(tmp_path / "bundle.zip"))
    ok("verify-bundle", str(tmp_path / "bundle.zip"))
    ok("custody", "return", "EX-2", "--reason", "case closed")
    ok("custody", "dispose", "EX-2", "--authority", "court order 1", "--method", "shredding")
    ok("actor", "rotate-key", "as2")
    ok("actor", "revoke", "as2", "--reason", "left the lab")
    assert "OK" in ok("custody", "verify", "EX-1", "--rehash")
    leaves = {" ".join(p) for p in EVERY if not hasattr(_command(p), "commands")}
    assert leaves - ran == {"worker"}  # needs a broker; its --help is checked above


# -- what a command does not import -------------------------------------------------------------

PROBE = """
import sys
sys.argv = ["exhibit", *sys.argv[1:]]
from triage.launch import main
try:
    main()
except SystemExit:
    pass
print(sorted(sys.modules), file=sys.stderr)
"""

NEVER_FOR_CUSTODY = (
    "sqlalchemy",  # an SQLite case at its head: custody's statements run on sqlite3 (custody/store/sql.py)
    "alembic",  # the schema is at its head
    "triage.cli",
    "triage.engine",
    "triage.plugin",
    "triage.views",
    "plugins",
    "pydantic",
    "weasyprint",
    "jinja2",
    "celery",
    "numpy",
    "PIL",
)


def loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **FRESH_ENV, **(env or {})},
        timeout=120,
    )
    return set(eval(done.stderr.strip().splitlines()[-1]))  # the list printed by PROBE


def _under(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("args", [("--version",), ("--help",)], ids=" ".join)
def test_version_and_help_load_neither_typer_nor_the_ledger(args: tuple[str, ...]) -> None:
    modules = loaded_by(*args)
    assert "triage.launch" in modules  # the probe ran the command
    assert _under(modules, ("typer", "click", "rich", "sqlalchemy", "cryptography", "custody.cli")) == []


def _case_with_examiner(tmp_path: Path, number: str) -> tuple[dict[str, str], Path]:
    """A new case with the examiner ``ex``, made current through the returned environment, and a
    one-byte file to acquire."""
    case = tmp_path / "case"
    env = {"EXHIBIT_CASE": str(case), "EXHIBIT_ACTOR": "ex"}
    one = tmp_path / "one.bin"
    one.write_bytes(b"x")
    for setup in (
        ("init", str(case), "--case-number", number, "--title", "start-up"),
        ("actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner"),
    ):
        assert exhibit(*setup, env=env).returncode == 0
    return env, one


def test_recording_commands_load_only_the_ledger(tmp_path: Path) -> None:
    env, one = _case_with_examiner(tmp_path, "S-2")
    for args in (
        ("acquire", str(one), "--exhibit", "EX-1", "--description", "one byte"),
        ("custody", "move", "EX-1", "--location", "vault"),
        ("custody", "verify"),
        ("items",),
    ):
        modules = loaded_by(*args, env=env)
        assert {"custody.ledger", "custody.store.sql"} <= modules, args  # the probe ran the command
        assert _under(modules, NEVER_FOR_CUSTODY) == [], args
        if args[0] != "acquire" and args[-1] != "verify":  # those two show a progress bar
            assert "rich.progress" not in modules, args
    log = exhibit("custody", "log", "--json", env=env)
    assert [e["body"]["kind"] for e in json.loads(log.stdout)][-2:] == ["item.acquire", "custody.move"]


def test_triage_commands_use_the_tables_without_the_orm(tmp_path: Path) -> None:
    """Triage's tables are Core tables (triage/store/models.py): a triage run and the listings of
    its results load them, and not SQLAlchemy's ORM (about 0.13 s of their start)."""
    env, _ = _case_with_examiner(tmp_path, "S-8")
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "note.txt").write_text("call +44 20 7946 0958\n")
    assert exhibit("acquire", str(folder), "--exhibit", "EX-1", "--description", "f", env=env).returncode == 0
    for args in (("triage", "EX-1"), ("runs",), ("findings", "EX-1"), ("timeline",)):
        modules = loaded_by(*args, env=env)
        assert "triage.store.models" in modules, args  # the probe ran the command and read the tables
        assert _under(modules, ("sqlalchemy.orm",)) == [], args
    listed = exhibit("findings", "EX-1", "--json", env=env)
    assert listed.returncode == 0 and "+442079460958" in listed.stdout, listed.stdout + listed.stderr


CELERY_PROBE = """
import sys
sys.argv = ["exhibit", *sys.argv[1:]]
from triage.launch import main
try:
    main()
    code = 0
except SystemExit as done:
    code = done.code
print(code, sorted(m for m in sys.modules if m.split(".")[0] in ("celery", "kombu")), file=sys.stderr)
"""


def test_a_triage_on_this_machine_does_not_load_celery(tmp_path: Path) -> None:
    """Celery (and kombu) are for runs on workers (--broker or the case's broker): a whole local
    run, with no broker set, completes without importing them (31 ms of its start-up)."""
    env, _ = _case_with_examiner(tmp_path, "S-8")
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "note.txt").write_text("call +44 20 7946 0958\n")
    assert exhibit("acquire", str(folder), "--exhibit", "EX-1", "--description", "f", env=env).returncode == 0
    done = subprocess.run(
        [sys.executable, "-c", CELERY_PROBE, "triage", "EX-1", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **FRESH_ENV, **env},
        timeout=300,
    )
    assert json.loads(done.stdout)["status"] == "complete", done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == "0 []", done.stderr


#: what the plugins import only where they use it (docs/plugins.md, "Heavy libraries")
HEAVY = ("PIL", "numpy", "pdqhash", "pi_heif", "pypdf", "fontTools", "phonenumbers", "exifread")

HEAVY_PROBE = """
import sys
import triage.engine.run
from triage.plugin.registry import load_plugins
loaded = load_plugins()
assert len(loaded.plugins) > 20, loaded
print(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:]))
"""


def test_loading_the_plugins_imports_no_heavy_library() -> None:
    """Pillow, numpy, the PDQ binding, pypdf, phonenumbers and exifread are imported by the
    process that parses a picture, a PDF or a phone number, not when the plugins are loaded: a
    triage's start (before its workers fork) is shorter by about 0.12 s."""
    done = subprocess.run(
        [sys.executable, "-c", HEAVY_PROBE, *HEAVY], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_plugins_load_their_heavy_libraries_when_they_parse(tmp_path: Path, corpus: Path) -> None:
    """With nothing imported ahead (a fresh process), a triage still gets each plugin's records
    whose library is imported only when it parses: the PDQ hash and EXIF of a JPEG, the PDQ hash
    of a HEIC (pi-heif's opener registered then), a PDF's metadata, a phone number in a text."""
    from pypdf import PdfWriter

    env, _ = _case_with_examiner(tmp_path, "S-9")
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(corpus / "images" / "Canon_40D.jpg", folder / "photo.jpg")
    shutil.copy(corpus / "images" / "heic" / "iphone_13_pro_max.heic", folder / "photo.heic")
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": "Shipment schedule"})
    with open(folder / "schedule.pdf", "wb") as fh:
        writer.write(fh)
    (folder / "note.txt").write_text("call +44 20 7946 0958 tonight\n")
    assert exhibit("acquire", str(folder), "--exhibit", "EX-1", "--description", "f", env=env).returncode == 0
    done = exhibit("triage", "EX-1", "--json", env=env)
    assert json.loads(done.stdout)["status"] == "complete", done.stdout + done.stderr
    shown = exhibit("findings", "EX-1", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    kinds = {(f["record_type"], f["source"]["path"].rsplit("/", 1)[-1]) for f in found}
    for wanted in [
        ("media/image/pdq", "photo.jpg"),
        ("media/photo/exif", "photo.jpg"),
        ("media/image/pdq", "photo.heic"),
        ("document/pdf", "schedule.pdf"),
        ("indicator/text", "note.txt"),
    ]:
        assert wanted in kinds, (wanted, sorted(kinds))
    assert any("+442079460958" in json.dumps(f) for f in found), found


# -- the database opened once -------------------------------------------------------------------

COUNT_CONNECTIONS = """
import sys
import sqlite3
import sqlite3.dbapi2 as dbapi
opened = []
connect = dbapi.connect
dbapi.connect = sqlite3.connect = lambda *a, **k: opened.append(a) or connect(*a, **k)
sys.argv = ["exhibit", *sys.argv[1:]]
from triage.launch import main
try:
    main()
except SystemExit as done:
    print(done.code, len(opened), file=sys.stderr)
"""


def test_a_command_opens_the_database_once(tmp_path: Path) -> None:
    env, one = _case_with_examiner(tmp_path, "S-3")
    for args in (
        ("acquire", str(one), "--exhibit", "EX-1", "--description", "one byte"),
        ("custody", "move", "EX-1", "--location", "vault"),
        ("custody", "verify"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", COUNT_CONNECTIONS, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **FRESH_ENV, **env},
            timeout=120,
        )
        assert done.stderr.split()[-2:] == ["0", "1"], (args, done.stderr)


def test_a_forked_process_opens_its_own_connection(tmp_path: Path) -> None:
    """The pooled SQLite connection never crosses a fork: the child gets a new one, and the
    parent's still works after the child is gone."""
    from custody.case import init_case

    case = init_case(tmp_path / "case", case_number="S-4", title="fork")
    try:
        with case.engine.connect() as conn:
            parent_connection = conn.connection.dbapi_connection

        def child() -> str:
            with case.engine.connect() as conn:
                fresh = conn.connection.dbapi_connection is not parent_connection
                count = case.ledger.count()
            return f"{fresh} {count}"

        answer = in_forked_child(child)
        assert answer == "True 0"
        with case.engine.connect() as conn:
            assert conn.connection.dbapi_connection is parent_connection
        assert case.ledger.count() == 0
    finally:
        case.close()
