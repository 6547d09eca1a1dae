"""Run the ```console blocks of a documentation page, so the user pages cannot rot.

The convention (stated at the top of each page): in every fenced
```console block, a line starting with ``$ `` is a command and the lines after it are its output.
A command must exit with status 0 unless its line ends with ``# exit status N``. ``export
NAME=value`` lines change the environment of later commands. All blocks of a page run in order in
one empty temporary folder.

The shown output is compared with what the command prints (stdout and stderr, in the order
printed), line by line, after both are normalised (:func:`normalise`) for what legitimately
differs from run to run:

* the run's folder is ``/tmp/NAME`` on the page (NAME: the last part of the test's folder, e.g.
  ``/tmp/lantern``), and the test's config folder (``$EXHIBIT_CONFIG_DIR``) is
  ``~/.config/exhibit``; a path into either that a table or a summary cut short with ``…``
  is ``<work>…`` (where the cut falls depends on how long the folder's path is);
* UUIDs, hex strings of 12 or more digits (digests, keys, signatures, run ids; also when Rich cut
  them with ``…``) and base64 strings of 40 or more characters are wildcards of their kind;
* a date or date and time in the output (ISO 8601, or ``ls -l``'s ``Dec  7 09:11``) that is
  within two days of the test run (the time of the
  run, not of the evidence) matches any date or date and time on the page at that place; other
  dates and times (those of the evidence, given on the command line ...) are compared;
* durations and speeds (``1.2 s``, ``0:00:03``, ``3.5 ms``, ``12.3 MB/s``, ``4 files/s``) are
  wildcards (a whole number of seconds, ``38 s``, is compared);
* runs of spaces are one space; blank lines and Rich's table borders are dropped and its column
  separators are ``|``: table cell texts are compared, column widths are not.

Everything else (counts, statuses, messages, warnings, table cells) must be equal. Two explicit
exceptions, to use sparingly:

* an output line that is just ``...`` stands for any number of lines (zero or more) left out of
  an abridged output;
* a command whose line ends with ``# output varies`` (or ``# exit status N, output varies``) has
  its exit status checked but not its output (for output that is unstable by nature, e.g. the
  order in which workers finish).

To refresh a page after a deliberate change, run the test with ``EXHIBIT_DOCS_REFRESH=DIR``: the
runner writes ``DIR/<page>`` with every compared output replaced by the one of this run, so that
the IDs and hashes shown agree with each other (outputs with a ``...`` line are left for a person
to abridge again), to be reviewed and copied over the page.

``exhibit ...`` lines run in this process (fast); the others run in ``bash -c``. Also:

* in-process ``exhibit ...`` commands get a real byte stream as stdout, so ``exhibit cat EX PATH >
  FILE`` (which writes bytes to ``sys.stdout.buffer``) works in-process, byte for byte;
* a fenced ```python block whose first line is ``# save as NAME`` is written to ``NAME`` in the
  folder before the commands run, so a page can show a short script and then run it.
"""

from __future__ import annotations

import contextlib
import functools
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
EXPECT = re.compile(r"\s+#\s*(?:exit status (?P<code>\d+))?(?:\s*,\s*)?(?P<varies>output varies)?\s*$")
INPROCESS = re.compile(r"^exhibit\s+(?P<args>[^|&;<>`$]*?)(?:\s+>\s*(?P<out>[^\s|&;<>`$]+))?\s*$")


@dataclass(frozen=True)
class Command:
    line: str  # as written after "$ "
    shell: str  # without the "# exit status" / "# output varies" comment
    expected: int
    shown: tuple[str, ...] = ()  # the output lines the page shows
    varies: bool = False  # "# output varies": the output is not compared
    span: tuple[int, int] = (0, 0)  # where the shown output is in the page's text


def documented_commands(text: str) -> list[Command]:
    found: list[Command] = []
    for block in BLOCK.finditer(text):
        offset = block.start(1)
        current: dict | None = None
        for line in block.group(1).splitlines(keepends=True):
            if line.startswith("$ "):
                if current is not None:
                    found.append(Command(**current))
                command = line[2:].strip()
                expected, varies = 0, False
                match = EXPECT.search(command)
                if match and (match.group("code") or match.group("varies")):
                    expected = int(match.group("code") or 0)
                    varies = bool(match.group("varies"))
                    command = command[: match.start()].rstrip()
                start = offset + len(line)
                current = {
                    "line": line[2:].rstrip("\n"),
                    "shell": command,
                    "expected": expected,
                    "varies": varies,
                    "shown": (),
                    "span": (start, start),
                }
            elif current is not None:
                current["shown"] = (*current["shown"], line.rstrip("\n"))
                current["span"] = (current["span"][0], offset + len(line))
            offset += len(line)
        if current is not None:
            found.append(Command(**current))
    return found


# -- comparing the shown output with the real one ----------------------------------------------

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
HEX = re.compile(r"(?<![\w-])(?=[0-9]*[a-fA-F])(?:[0-9a-f]{12,}|[0-9A-F]{12,})(?:…|\b)")
BASE64 = re.compile(
    r"(?<![\w+/=])(?=[A-Za-z_+/-]*[0-9])(?=[0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{40,}={0,2}(?:…)?"
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WHEN = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?:…)?"
    rf"|\b(?:{'|'.join(MONTHS)}) +\d{{1,2}} +\d{{2}}:\d{{2}}\b"  # ls -l
)
DURATION = re.compile(
    r"\b\d+\.\d+\s?(?:ms|µs|s|sec|seconds?|min|minutes?|h)\b(?!/)"
    r"|\b\d+(?:\.\d+)?\s?(?:[KMGT]i?B|B|files|items|entries)/s\b|\b\d+:\d{2}:\d{2}(?:\.\d+)?\b"
)
BORDER = re.compile(
    r"^[\s─━═┄┅┈┉╌╍┌┍┎┏┐┑┒┓└┕┖┗┘┙┚┛├┝┞┟┠┡┢┣┤┥┦┧┨┩┪┫┬┭┮┯┰┱┲┳┴┵┶┷┸┹┺┻┼┽┾┿╀╁╂╃╄╅╆╇╈╉╊╋╭╮╯╰╞╡╪╤╧╘╛╒╕╔╗╚╝╠╣╦╩╬]+$"
)
BAR = re.compile(r"\s*[│┃║]\s*")
VARIABLE = re.compile("|".join(f"(?P<{n}>{r.pattern})" for n, r in [("uuid", UUID), ("when", WHEN)]))


def _recent(stamp: str, now: float) -> bool:
    """Is this date (and time) of the output the time of the run (within two days of it)?"""
    import datetime as dt

    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    try:
        if stamp[:3] in MONTHS:  # ls -l: "Dec  7 09:11", this year
            day = dt.date(today.year, MONTHS.index(stamp[:3]) + 1, int(stamp[3:].split()[0]))
        else:
            day = dt.date.fromisoformat(stamp[:10])
    except ValueError:
        return False
    return abs((day - today).days) <= 2


#: A path cut short by a table or a summary ("to=/tmp/lantern/expo…").
CUT_PATH = re.compile(r"(/[^\s|│…]*)…")


def _cut_place(match: re.Match[str], places: dict[str, str]) -> str:
    """A cut path in or of a test folder as ``<name>…``: where the cut falls depends on how long
    the folder's path is on this machine (the page's ``/tmp/lantern`` against pytest's)."""
    cut = match.group(1)
    for path, name in places.items():
        if cut.startswith(path) or (len(cut) >= 5 and path.startswith(cut)):
            return name + "…"
    return match.group()


def normalise(line: str, *, places: dict[str, str], now: float | None = None) -> str:
    """One output line as compared: see the module's docstring. ``now`` is given for a real
    output line (its run's dates and times become ``<when>``); a page's line gets ``None`` and is
    matched against the real line's ``<when>`` places by :func:`_same`."""
    line = CUT_PATH.sub(lambda m: _cut_place(m, places), line)
    for path, name in places.items():
        line = line.replace(path, name)
    line = UUID.sub("<uuid>", line)
    if now is not None:
        line = WHEN.sub(lambda m: "<when>" if _recent(m.group(), now) else m.group(), line)
    line = DURATION.sub("<duration>", line)
    line = HEX.sub("<hex>", line)
    line = BASE64.sub("<base64>", line)
    if BORDER.match(line):
        return ""
    line = BAR.sub(" | ", line)
    return " ".join(line.split())


def _same(shown: str, real: str) -> bool:
    """A page's normalised line against a real one: equal, except that where the real line has
    ``<when>`` (a date or time of the run) the page may have any date or time."""
    if shown == real:
        return True
    if "<when>" not in real:
        return False
    pattern = "".join(
        f"(?:{WHEN.pattern})" if part == "<when>" else re.escape(part) for part in re.split(r"(<when>)", real)
    )
    return re.fullmatch(pattern, shown) is not None


def output_differs(shown: tuple[str, ...], output: str, *, places: dict[str, str], now: float) -> str | None:
    """None when the real ``output`` matches the ``shown`` lines, else a diff for the reader."""
    page = [normalise(line, places=places) if line.strip() != "..." else "..." for line in shown]
    real = [normalise(line, places=places, now=now) for line in output.splitlines()]
    page = [line for line in page if line]
    real = [line for line in real if line]

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(page):
            return j == len(real)
        if page[i] == "...":
            return match(i + 1, j) or (j < len(real) and match(i, j + 1))
        return j < len(real) and _same(page[i], real[j]) and match(i + 1, j + 1)

    try:
        if match(0, 0):
            return None
    finally:
        match.cache_clear()
    import difflib

    return "\n".join(
        difflib.unified_diff(
            page, real, "shown on the page (normalised)", "printed (normalised)", lineterm=""
        )
    )


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
    # stderr in the same stream, in the order printed (as a terminal shows them), unless stdout
    # goes to a file
    err: io.TextIOBase = (
        io.StringIO()
        if stdout_path is not None
        else io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)
    )
    monkeypatch.setattr(sys, "argv", ["exhibit", *args])
    code: int
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out.flush()
    err.flush()
    data = raw.getvalue()
    if stdout_path is None:
        return code, data.decode("utf-8", "replace")
    stdout_path.write_bytes(data)
    return code, err.getvalue()


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
    now = time.time()
    config = os.environ.get("EXHIBIT_CONFIG_DIR")
    places = {str(work): "<work>", f"/tmp/{work.name}": "<work>", "~/.config/exhibit": "<config>"}
    if config:
        places = {config: "<config>", **places}
    wrong: list[tuple[Command, str, str]] = []
    outputs: list[tuple[Command, str]] = []
    for name, body in saved_files(text).items():
        (work / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PWD", str(work))
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", venv_bin + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")  # stdout and stderr of a subprocess in order
    # as the pages show it, whatever the terminal (pytest-xdist's workers set COLUMNS=80): 160
    # columns, for the commands run here and in subprocesses alike
    monkeypatch.setenv("COLUMNS", "160")
    for console in (cli.out, cli.err):
        monkeypatch.setattr(console, "_width", 160)
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
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
            code, output = ran.returncode, ran.stdout
        assert code == command.expected, f"{where}\nexit status {code}, expected {command.expected}\n{output}"
        done.append(Ran(command, code, output, time.monotonic() - started))
        if not command.varies:
            diff = output_differs(command.shown, output, places=places, now=now)
            outputs.append((command, output))
            if diff is not None:
                wrong.append((command, output, f"{where}\n{diff}"))
    paths = {str(work): f"/tmp/{work.name}", config or "~": "~/.config/exhibit"}
    _refresh(doc, text, names or {}, outputs, paths)
    assert not wrong, f"{len(wrong)} shown outputs of {doc.name} differ from what the commands print:\n\n" + (
        "\n\n".join(why for _, _, why in wrong)
    )
    return done


def _refresh(
    doc: Path, text: str, names: dict[str, str], outputs: list[tuple[Command, str]], paths: dict[str, str]
) -> None:
    """With ``$EXHIBIT_DOCS_REFRESH`` set to a folder: write the page there with the real outputs
    in place of the differing ones (see the module's docstring)."""
    folder = os.environ.get("EXHIBIT_DOCS_REFRESH")
    if not folder:
        return
    for command, output in sorted(outputs, key=lambda w: w[0].span, reverse=True):
        if "..." in (line.strip() for line in command.shown):
            continue  # abridged by a person: left for a person
        for real, shown in paths.items():
            output = output.replace(real, shown)
        start, end = command.span
        text = text[:start] + "".join(line.rstrip() + "\n" for line in output.splitlines()) + text[end:]
    for old, new in names.items():
        text = text.replace(new, old)
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / doc.name).write_text(text, encoding="utf-8")
