"""``exhibit``'s entry point: ``exhibit ls`` straight away, everything else through the full CLI.

Importing the CLI (Typer with its pydantic adapters, rich, the add-on entry points) takes about
0.45 s, three times what ``fls`` needs to list a 50,000-file disk, and ``exhibit ls -r`` must stay
within 3x of ``fls`` (issue 3). So a plain ``exhibit ls`` command line is recognised here and run
without loading Typer. Only the exact options of ``exhibit ls`` are accepted; anything else
(``--help``, a typo, a missing exhibit, an unknown case) goes to :func:`custody.cli.main`, which
parses and reports it the usual way. Either way the command runs the same function,
:func:`triage.views.listing.run_listing`.

``exhibit --version`` and ``exhibit --help`` are answered here too, without Typer: the version from
the installed distribution's metadata, the help from :mod:`triage.roothelp`, a copy of what Typer
prints (tests/test_startup.py compares the two; ``scripts/write_root_help.py`` rewrites it).
Every other command line goes to the full CLI with :data:`COMMANDS`, so that it imports only the
module of the command it names; and ``exhibit custody verify`` runs triage's check through
:func:`verify_check`, which loads the triage engine only for a case that was triaged. What
``exhibit`` loads on demand is decided here, in one place.

``exhibit acquire PATH ...`` starts reading the evidence here, before Typer is loaded
(:func:`parse_acquire` finds the path and ``--kind``; :mod:`custody.early_read` reads and hashes
in a thread while the command loads and checks the case, the actor and the key). ``exhibit
triage EX ...`` likewise starts walking a disk image (:func:`parse_triage` finds the exhibit and
``--case``; :func:`triage.engine.walk_ahead.start_early` forks the walk while the CLI and the
engine load, and the run takes it if it resolves the same evidence). The ``exhibit``
script's entry point is :func:`run`, which after ``exhibit acquire`` ends the process without the
interpreter's teardown.

The script lives in triage rather than custody because it must know triage's commands, and custody
never imports triage (imports flow plugins -> triage -> custody).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custody.case import Case
    from custody.verify import Report

#: The function that adds each of triage's top-level commands to the ``exhibit`` app
#: ("module:function", the values of the ``exhibit.cli`` entry points): ``exhibit COMMAND`` imports
#: that module alone. tests/test_startup.py checks it against what the entry points register.
COMMANDS: dict[str, str] = {
    "search": "triage.keyword_cli:register",
    "report": "triage.report.cli:register",
    "verify-report": "triage.report.cli:register",
    **dict.fromkeys(
        (
            "ls", "cat", "triage", "findings", "export", "runs", "chats", "calls", "contacts", "timeline",
            "links", "carved", "export-case", "worker", "broker", "bundle", "verify-bundle", "plugins", "hashset",
        ),
        "triage.cli:register",
    ),
}  # fmt: skip


def verify_check(
    case: Case,
    report: Report,
    exhibit: str | None,
    rehash: bool,
    *,
    options: Sequence[str] = (),
    options_files: Sequence[Path] = (),
) -> None:
    """The ``exhibit.verify`` entry point: :func:`triage.engine.verify.check` (the stored triage rows
    against what the runs signed), loaded only for a case that holds triage runs (or when evidence
    options are given, which that check refuses if wrong): ``exhibit custody verify`` of a case
    never triaged does not import the triage engine."""
    if not options and not options_files and not case.database.has_table("triage_runs"):
        return
    from triage.engine.verify import check

    check(case, report, exhibit, rehash, options=options, options_files=options_files)


#: Below this terminal width click wraps the help to the terminal (above, to 78 columns).
HELP_COLUMNS = 80


@dataclass
class LsArgs:
    exhibit: str
    path: str | None = None
    recursive: bool = False
    deleted: bool = False
    partition: int | None = None
    mismatch: bool = False
    # --option / --options-file (an encrypted backup's password) are left to Typer: never set here
    option: tuple[str, ...] = ()  # what Typer gives for a list option not given
    options_file: tuple[Path, ...] = ()
    archives: bool = False
    show_known: bool = False  # files of known-good hash sets: listed (the full CLI does it when some matched)
    case: Path | None = None
    as_json: bool = False


_FLAGS = {
    "-r": "recursive",
    "--recursive": "recursive",
    "--deleted": "deleted",
    "--mismatch": "mismatch",
    "--archives": "archives",
    "--show-known": "show_known",
}


def scan(
    argv: list[str], flags: Mapping[str, str], values: Mapping[str, str]
) -> tuple[list[str], dict[str, object]] | None:
    """A command's arguments, read the way Typer would read a plain command line: the positional
    arguments, and the options by field name (``True`` for a flag of ``flags``, the text for an
    option of ``values``, given as ``--opt value`` or ``--opt=value``); ``None`` for anything
    else (``--help``, an unknown or misspelt option, an option missing its value): Typer's job."""
    positional: list[str] = []
    options: dict[str, object] = {}
    i = 0
    only_positional = False
    while i < len(argv):
        arg = argv[i]
        i += 1
        if only_positional or not arg.startswith("-") or arg == "-":
            positional.append(arg)
        elif arg == "--":
            only_positional = True
        elif arg in flags:
            options[flags[arg]] = True
        else:
            name, eq, value = arg.partition("=")
            if name not in values:
                return None
            if not eq:
                if i >= len(argv):
                    return None
                value = argv[i]
                i += 1
            options[values[name]] = value
    return positional, options


_LS_FLAGS = {**_FLAGS, "--json": "as_json"}
_LS_VALUES = {"--partition": "partition", "--case": "case"}


def parse_ls(argv: list[str]) -> LsArgs | None:
    """The arguments of ``exhibit ls`` (after ``ls``), or ``None`` when Typer should parse them."""
    scanned = scan(argv, _LS_FLAGS, _LS_VALUES)
    if scanned is None:
        return None
    positional, options = scanned
    if "case" in options:
        options["case"] = Path(str(options["case"]))
    if "partition" in options:
        try:
            options["partition"] = int(str(options["partition"]))
        except ValueError:
            return None
    if not 1 <= len(positional) <= 2:
        return None
    return LsArgs(positional[0], positional[1] if len(positional) > 1 else None, **options)  # type: ignore[arg-type]


def _fast_ls(args: LsArgs) -> int | None:
    """Run ``exhibit ls``; ``None`` when the full CLI should take over (nothing written yet)."""
    import sqlite3

    from custody.errors import UserError
    from custody.safetext import escape
    from triage.errors import WalkAbandoned
    from triage.views.listing import evidence_of, has_hash_hits, is_member_path, run_listing, stdout_bytes

    if is_member_path(args.path) or (args.archives and args.recursive):
        return None  # archives inside the evidence are opened by the full CLI's ls (listing.member_listing)
    written = False

    def write(text: str) -> None:
        nonlocal written
        written = True
        sys.stdout.write(text)

    def write_bytes(block: bytes) -> None:
        nonlocal written
        written = True
        stdout_bytes(block)

    try:
        source_path, kind, known = evidence_of(args.case, args.exhibit, with_known=True)
        if known and has_hash_hits(args.case, args.exhibit):
            return None  # files to hide or mark (triage/hashsets/known.py): the full CLI's ls
        run_listing(
            source_path, kind, known, args.exhibit, args.path, args.recursive, args.deleted, args.partition,
            args.mismatch, args.as_json, write=write, write_bytes=write_bytes, direct_stdout=True,
        )  # fmt: skip
    except UserError as exc:
        if not written and not isinstance(exc, WalkAbandoned):
            return None  # the full CLI reports it, the same way as for every command (not a walk
            # that hung: running it again would hang again)
        print(escape(f"error: {exc}"), file=sys.stderr)
        if exc.hint:
            print(escape(f"hint: {exc.hint}"), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError:
        if not written:
            return None  # a damaged or locked case database: the full CLI names it and says what to do
        raise
    except BrokenPipeError:  # `exhibit ls -r | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: nothing was recorded for the unfinished step", file=sys.stderr)
        return 130
    return 0


#: The options of ``exhibit acquire`` that take a value, and its one flag (tests/test_startup.py
#: checks them against the command's parameters).
ACQUIRE_VALUE_OPTIONS = frozenset(
    ("--exhibit", "--description", "--actor", "--make", "--model", "--serial", "--location", "--notes",
     "--kind", "--case")
)  # fmt: skip
ACQUIRE_FLAGS = frozenset(("--json",))


def parse_acquire(argv: list[str]) -> tuple[Path, str | None] | None:
    """The evidence path and ``--kind`` of ``exhibit acquire`` (after ``acquire``), or ``None``
    when the command line is anything but a plain, complete-looking acquisition (Typer parses
    every command line anyway: this only decides what to start reading early)."""
    scanned = scan(
        argv, {flag: flag for flag in ACQUIRE_FLAGS}, {name: name for name in ACQUIRE_VALUE_OPTIONS}
    )
    if scanned is None or len(scanned[0]) != 1:
        return None
    kind = scanned[1].get("--kind")
    return Path(scanned[0][0]), None if kind is None else str(kind)


#: The options of ``exhibit triage`` that take a value, and its flags (tests/test_startup.py checks
#: them against the command's parameters).
TRIAGE_VALUE_OPTIONS = frozenset(
    ("--actor", "--plugins", "--hash", "--workers", "--scratch-limit", "--option", "--options-file",
     "--archive-depth", "--keywords", "--pdq-distance", "--broker", "--queue", "--job-files", "--case")
)  # fmt: skip
TRIAGE_FLAGS = frozenset(("--fresh", "--carve", "--no-carve", "--local", "--json"))


def parse_triage(argv: list[str]) -> tuple[Path | None, str] | None:
    """The ``--case`` and exhibit of ``exhibit triage`` (after ``triage``), or ``None`` when the
    command line is anything but a plain one (Typer parses every command line anyway: this only
    decides which disk image to start walking early)."""
    scanned = scan(argv, {flag: flag for flag in TRIAGE_FLAGS}, {name: name for name in TRIAGE_VALUE_OPTIONS})
    if scanned is None or len(scanned[0]) != 1:
        return None
    case = scanned[1].get("--case")
    return (None if case is None else Path(str(case))), scanned[0][0]


def _root_help() -> str | None:
    """What ``exhibit --help`` prints, when the copy in :mod:`triage.roothelp` is that text: the
    terminal is wide enough, and no add-on outside Exhibit registers commands."""
    import shutil
    from importlib.metadata import entry_points

    if shutil.get_terminal_size().columns < HELP_COLUMNS:
        return None
    if {ep.value for ep in entry_points(group="exhibit.cli")} != set(COMMANDS.values()):
        return None
    from triage.roothelp import ROOT_HELP

    return ROOT_HELP


def main() -> None:
    """The ``exhibit`` command."""
    collect_less()
    argv = sys.argv[1:]
    if argv == ["--version"]:
        from custody import tool_version

        sys.stdout.write(tool_version() + "\n")
        sys.exit(0)
    if argv == ["--help"] and not os.environ.get("EXHIBIT_NO_FAST_HELP"):
        text = _root_help()
        if text is not None:
            sys.stdout.write(text)
            sys.exit(0)
    if argv[:1] == ["ls"] and not os.environ.get("EXHIBIT_NO_FAST_LS"):
        args = parse_ls(argv[1:])
        if args is not None:
            code = _fast_ls(args)
            if code is not None:
                sys.exit(code)
    early = parse_acquire(argv[1:]) if argv[:1] == ["acquire"] else None
    if early is not None:
        from custody import early_read

        if early_read.wanted():  # read while the CLI and the case load (custody.early_read)
            early_read.start(*early)
    walk = (
        parse_triage(argv[1:])
        if argv[:1] == ["triage"] and not os.environ.get("EXHIBIT_NO_EARLY_WALK")
        else None
    )
    try:
        if walk is not None:
            from triage.engine import walk_ahead

            walk_ahead.start_early(*walk)  # a disk image's walk, while the CLI and the engine load
        from custody.cli import main as full_cli

        full_cli(argv, COMMANDS)
    finally:
        if early is not None:
            early_read.cancel()  # the command did not take it: a usage error, say
        if walk is not None:
            from triage.engine import walk_ahead

            walk_ahead.cancel_early()  # likewise (a run that took it has already)


#: Commands after which the ``exhibit`` process ends without tearing the interpreter down.
QUICK_EXIT = frozenset(("acquire", "triage"))


#: The cyclic garbage collector's thresholds in an ``exhibit`` process and the processes it forks:
#: a collection of the youngest objects after 20,000 more allocations than releases (Python's
#: default, 700, made a triage's own process collect some seventy times per 50,000 files walked,
#: each young collection promoting the walk's objects towards the full collections that traverse
#: every object the imports made). A triage's process leaves about 3,000 objects in cycles for a
#: 50,000-file run; the collector still runs, so memory stays bounded (docs/performance.md).
GC_THRESHOLDS = (20_000, 20, 20)


def collect_less() -> None:
    """Set :data:`GC_THRESHOLDS` for this process (and what it forks from now on)."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)


def run() -> None:
    """The ``exhibit`` script: :func:`main`; then, after a command of :data:`QUICK_EXIT`, the
    process ends at once.

    Tearing the interpreter down (clearing some 470 modules, a last garbage collection) takes
    0.05-0.1 s once SQLAlchemy, Typer and cryptography are loaded, all of it after the work is done
    and recorded: for ``exhibit acquire`` that is a few per cent of the command (issue 12's
    1.15x ``md5sum``). So once the command has returned, its exit functions are run, standard
    output and error flushed, and the process leaves with its exit status, unless some other
    thread is still alive (then Python ends as usual). The acquire command closes the case and
    writes nothing else, so nothing is left for the teardown to do. ``exhibit triage`` likewise:
    its workers have ended, its case is closed (the last connection checkpoints the WAL) before
    its summary is printed, and a triage leaves the walk's and the results' objects behind, whose
    teardown took about 0.2 s of a 7 s run (issue 12's triage target). :func:`main` itself keeps
    Python's exit (tests call it in their own process).
    """
    try:
        main()
    except SystemExit as done:
        if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT and isinstance(done.code, int | None):
            _exit_now(done.code or 0)
        raise


def _exit_now(code: int) -> None:
    """``os._exit(code)`` after the exit functions and a flush; returns if other threads live."""
    import atexit
    import threading

    if threading.active_count() != 1:
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: Python's own exit would fail the same way
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    run()
