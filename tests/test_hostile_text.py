"""Issue 7 point 1: evidence text is text. Every command that prints shows values from the evidence,
the ledger or the user literally, with control, bidi and invisible characters escaped, and --json
keeps the real values.

The evidence is real: an ext4 image made by ``mke2fs -d`` from a folder with hostile names (a
folder ``[`` holding ``x].jpg``, an escape sequence, a right-to-left override, a zero-width space,
a line separator), a real GPS photo under the hostile name, and an ``mmssms.db`` built from SQL
with hostile bodies. Every command runs as the ``exhibit`` script in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from custody.safetext import escape, is_unsafe, json_visible
from tests.conftest import CORPUS, need, need_tool
from triage.sanitize import display_name, display_to_bytes

ESC_CLEAR = "\x1b[2J\x1b[H"
RLO, ZWSP, LSEP = "\u202e", "\u200b", "\u2028"
#: Characters that must never reach a human output raw.
RAW_FORBIDDEN = ("\x1b", RLO, ZWSP, LSEP, "\u2066", "\ufeff", "\x85", "\x9b", "\x08")

BODIES = [
    "Meet [at pier 7] 22:00, bring [cash]",
    "bad [/] tag",
    "[link=https://evil.example]click here[/link]",
    f"{ESC_CLEAR}OK: 0 problems",
    f"rtl {RLO}evil{ZWSP}x{LSEP}y :smile:",
    "c1 \x9b31mred\x9b0m \u2066isolated\u2069",  # U+009B: CSI in one character
]
NAMES = [
    f"{ESC_CLEAR}OK",
    f"rtl_{RLO}gpj.exe",
    f"zw{ZWSP}x",
    f"ls{LSEP}y",
    "[link=https:x]click",
    "bs_\x08.txt",
]
ACTOR_NAME = f"Ex [link=https://evil.example]Am[/link] [/] {RLO}iner"
LOCATION = f"Vault [red]3[/] {ESC_CLEAR}OK"
REASON = f"[/]imaging{LSEP}OK: 0 problems"
SEAL_A = "S-[/]1"
SEAL_B = f"S-[bold]2{RLO}"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage.launch", *args],  # the `exhibit` script
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env={**os.environ, "COLUMNS": "1000", **env},
        timeout=300,
    )


def assert_literal(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    """The command ended as expected, with no traceback, and nothing hostile reached the output raw.

    The messages are ascii(): output decoded with surrogateescape cannot travel in a pytest-xdist
    report (a failure here once crashed the whole run instead of failing this test)."""
    both = result.stdout + result.stderr
    assert result.returncode == code, ascii((result.args, result.stdout, result.stderr))
    assert "Traceback" not in both and "internal error" not in both, ascii(both)
    for ch in RAW_FORBIDDEN:
        assert ch not in both, ascii((ch, both))
    return both


def assert_no_raw(text: str) -> None:
    assert not any(is_unsafe(ch) for ch in text if ch not in "\n\t"), ascii(text)


@dataclass
class Hostile:
    env: dict[str, str]
    tmp: Path


def _build_tree(root: Path) -> None:
    (root / "[").mkdir(parents=True)
    shutil.copy(need(CORPUS / "images" / "gps" / "DSCN0010.jpg"), root / "[" / "x].jpg")
    for i, name in enumerate(NAMES):
        (root / name).write_text(f"file {i}\n")
    (root / "data").mkdir()
    con = sqlite3.connect(root / "data" / "mmssms.db")
    con.executescript(
        "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,"
        " date INTEGER, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1,"
        " type INTEGER, reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT,"
        " locked INTEGER DEFAULT 0);"
    )
    for i, body in enumerate(BODIES, 1):
        con.execute(
            "INSERT INTO sms (_id, thread_id, address, date, read, type, body) VALUES (?, 1, ?, ?, 1, 1, ?)",
            (i, f"+1555[b]{RLO}", 1262304000000 + i, body),
        )
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    mke2fs = shutil.which("mke2fs") or shutil.which("mke2fs", path="/usr/sbin:/sbin")
    if not mke2fs:
        pytest.skip("mke2fs is not installed")
    tmp = tmp_path_factory.mktemp("hostile")
    _build_tree(tmp / "tree")
    image = tmp / "hostile.ext4"
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext4", "-d", str(tmp / "tree"), str(image), "8M"], check=True)
    case = tmp / "case"
    # module-scoped: the keys live in the module's own folder, not the per-test one of conftest
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case), "EXHIBIT_CONFIG_DIR": str(tmp / "config")}
    assert_literal(run("init", str(case), "--case-number", "T-1", "--title", f"Op [/] {RLO}", env=env))
    assert_literal(run("actor", "add", "ex", "--name", ACTOR_NAME, "--role", "examiner", env=env))
    assert_literal(
        run(
            "acquire",
            str(image),
            "--exhibit",
            "EX-1",
            "--description",
            f"disk [/] {ESC_CLEAR}",
            "--location",
            LOCATION,
            "--notes",
            REASON,
            env=env,
        )
    )
    assert_literal(run("triage", "EX-1", "--workers", "1", env=env))
    for event in ("check-out", "check-in"):
        assert_literal(run("custody", event, "EX-1", "--reason", REASON, "--location", LOCATION, env=env))
    return Hostile(env, tmp)


def test_registration_and_acquisition_print_values_literally(tmp_path: Path) -> None:
    case = tmp_path / "case"
    env = {"EXHIBIT_ACTOR": "ex", "EXHIBIT_CASE": str(case)}
    init = assert_literal(run("init", str(case), "--case-number", "T-[/]2", "--title", "t", env=env))
    assert "Created case T-[/]2" in init
    added = assert_literal(
        run("actor", "add", "ex", "--name", ACTOR_NAME, "--role", "examiner", "--org", "[/]Org", env=env)
    )
    assert escape(ACTOR_NAME) in added and "\\u202e" in added
    listed = assert_literal(run("actor", "list", env=env))
    assert "[link=https://evil.example]Am[/link]" in listed and "[/]Org" in listed  # not a link
    assert json.loads(run("actor", "list", "--json", env=env).stdout)[0]["name"] == ACTOR_NAME


def test_findings_show_every_word_of_the_evidence(hostile: Hostile) -> None:
    shown = assert_literal(run("findings", "EX-1", env=hostile.env))
    for body in BODIES:
        assert escape(body) in shown, (body, shown)
    assert "Meet [at pier 7] 22:00, bring [cash]" in shown  # no word vanishes
    assert "\\x1b[2J\\x1b[HOK: 0 problems" in shown and "\\u202eevil\\u200bx\\u2028y :smile:" in shown
    assert "/[/x].jpg" in shown  # the photo's findings, under its hostile path
    exact = json.loads(assert_literal(run("findings", "EX-1", "--json", env=hostile.env)))
    assert sorted(f["data"]["body"] for f in exact if "body" in f["data"]) == sorted(
        BODIES
    )  # --json is exact


def test_views_show_every_word_of_the_evidence(hostile: Hostile) -> None:
    """chats, timeline, calls, contacts and links (issue 8): bodies and numbers literally, --json exact."""
    chats = assert_literal(run("chats", "EX-1", env=hostile.env))
    for body in BODIES:
        assert escape(body) in chats, (body, chats)
    assert (
        "Meet [at pier 7] 22:00, bring [cash]" in chats
        and "[link=https://evil.example]click here[/link]" in chats
    )
    assert "<-  +1555[b]\\u202e: \\x1b[2J\\x1b[HOK: 0 problems" in chats  # the sender, then the body
    timeline = assert_literal(run("timeline", env=hostile.env))
    assert escape(BODIES[4]) in timeline and "chat/android/sms timestamp" in timeline
    for command in (("calls",), ("contacts",), ("links",), ("timeline", "--files")):
        assert_literal(run(*command, env=hostile.env))
    exact = [
        json.loads(line) for line in assert_literal(run("chats", "--json", env=hostile.env)).splitlines()
    ]
    assert sorted(m["body"] for m in exact) == sorted(BODIES)
    for command in (("timeline", "--json"), ("calls", "--json"), ("contacts", "--json"), ("links", "--json")):
        assert_literal(run(*command, env=hostile.env))  # the real values, as JSON escapes
    assert {m["sender"] for m in exact} == {f"+1555[b]{RLO}"}


def test_custody_log_survives_a_hostile_derived_path(hostile: Hostile) -> None:
    log = assert_literal(run("custody", "log", "--all", env=hostile.env))
    assert "path=/[/x].jpg" in log and escape(LOCATION) in log and escape(REASON) in log
    entries = json.loads(run("custody", "log", "--json", env=hostile.env).stdout)
    assert any(e["body"]["data"].get("location") == LOCATION for e in entries)


def test_export_prints_the_hostile_path_after_recording_it(hostile: Hostile) -> None:
    out = hostile.tmp / "exports"
    exported = assert_literal(run("export", "EX-1", "/[/x].jpg", "--to", str(out), env=hostile.env))
    assert exported.startswith("/[/x].jpg -> ")
    assert (out / "[" / "x].jpg").read_bytes() == need(
        CORPUS / "images" / "gps" / "DSCN0010.jpg"
    ).read_bytes()


@pytest.mark.parametrize("fast", [True, False], ids=["fast-ls", "full-cli"])
def test_ls_escapes_bidi_invisible_and_separators(hostile: Hostile, fast: bool) -> None:
    env = {**hostile.env, **({} if fast else {"EXHIBIT_NO_FAST_LS": "1"})}
    plain = assert_literal(run("ls", "EX-1", "-r", env=env))
    assert_no_raw(plain.replace("\t", ""))
    for expected in (
        "\\x1b[2J\\x1b[HOK",
        "rtl_\\u202egpj.exe",
        "zw\\u200bx",
        "ls\\u2028y",
        "bs_\\x08.txt",
        "[/x].jpg",
    ):
        assert f"\t{expected}\n" in plain, (expected, plain)
    lines = [json.loads(x) for x in run("ls", "EX-1", "--json", env=env).stdout.splitlines()]
    names = {display_to_bytes(x["name"]) for x in lines}
    assert {n.encode() for n in NAMES} <= names  # the display names give back the raw bytes exactly


def test_ls_python_walk_matches_the_c_walk(hostile: Hostile) -> None:
    from triage.views.listing import write_listing

    outputs = []
    for fast in (True, False):
        chunks: list[str] = []
        write_listing(
            str(hostile.tmp / "hostile.ext4"), None, recursive=True, deleted_only=False, partition=None,
            as_json=False, known={}, write=chunks.append, warnings=[], fast=fast,
        )  # fmt: skip
        outputs.append("".join(chunks))
    assert outputs[0] == outputs[1] and "rtl_\\u202egpj.exe" in outputs[0]


def test_custody_events_verify_and_checkpoint_print_literally(hostile: Hostile) -> None:
    env = hostile.env
    moved = assert_literal(run("custody", "move", "EX-1", "--location", LOCATION, env=env))
    assert moved.startswith("Recorded move of EX-1")
    assert_literal(run("custody", "seal", "EX-1", "--seal", SEAL_A, "--reason", REASON, env=env))
    # the unseal names another seal: a SEAL_MISMATCH whose detail quotes both seals from the ledger
    unsealed = assert_literal(run("custody", "unseal", "EX-1", "--seal", SEAL_B, env=env))
    assert "SEAL_MISMATCH" in unsealed and SEAL_A in unsealed and "S-[bold]2\\u202e" in unsealed
    verified = assert_literal(run("custody", "verify", env=env), code=1)
    assert "SEAL_MISMATCH" in verified and "S-[/]1" in verified and "FAILED (1 problems)" in verified
    report = json.loads(run("custody", "verify", "--json", env=env).stdout)
    assert any(repr(SEAL_B) in p["detail"] for p in report["problems"])  # as verify wrote it
    target = hostile.tmp / f"cp [red]{RLO}.json"
    wrote = assert_literal(run("custody", "checkpoint", "--out", str(target), env=env))
    assert "cp [red]\\u202e.json" in wrote and target.exists()
    exported = assert_literal(run("custody", "export", "--out", str(target) + ".ledger", env=env))
    assert "cp [red]\\u202e.json.ledger" in exported


def test_items_runs_cat_and_plugins_list_print_literally(hostile: Hostile) -> None:
    env = hostile.env
    items = assert_literal(run("items", env=env))
    assert "disk [/] \\x1b[2J\\x1b[H" in items
    assert_literal(run("runs", "EX-1", env=env))
    assert_literal(run("plugins", "list", env=env))
    # cat of a folder writes its raw directory data to stdout, as icat does: evidence bytes, not text
    # (ext4's checksummed directory tail differs with each image and may hold 0x1b); only the warning
    # on stderr is text
    cat = subprocess.run(
        [sys.executable, "-m", "triage.launch", "cat", "EX-1", "/["],
        capture_output=True,
        env={**os.environ, "COLUMNS": "1000", **env},
        timeout=300,
    )
    stderr = cat.stderr.decode("utf-8", "surrogateescape")
    warning = assert_literal(subprocess.CompletedProcess(cat.args, cat.returncode, "", stderr))
    assert "warning: /[ is a folder" in warning and "'exhibit ls EX-1 /['" in warning
    folder = next(
        json.loads(line)
        for line in run("ls", "EX-1", "--json", env=env).stdout.splitlines()
        if json.loads(line)["path"] == "/["
    )
    icat = subprocess.run(
        [need_tool("icat"), str(hostile.tmp / "hostile.ext4"), str(folder["inode"])],
        capture_output=True,
        timeout=60,
    )
    assert icat.stdout and cat.stdout == icat.stdout


def test_errors_quote_user_values_literally(hostile: Hostile) -> None:
    env = hostile.env
    unknown = assert_literal(run("custody", "log", f"EX-[/]{ESC_CLEAR}", env=env), code=2)
    assert "error:" in unknown and "EX-[/]" in unknown
    actor = assert_literal(
        run("custody", "move", "EX-1", "--location", "x", "--actor", f"[/]{RLO}", env=env), code=2
    )
    assert "[/]" in actor and "\\u202e" in actor
    usage = assert_literal(run("items", f"--bogus{ESC_CLEAR}", env=env), code=2)
    assert "--bogus\\x1b[2J" in usage
    missing = assert_literal(run("cat", "EX-1", f"/nope[red]x{RLO}", env=env), code=2)
    assert "nope[red]x" in missing and "\\u202e" in missing


def test_a_name_is_found_typed_with_its_real_characters_or_as_ls_prints_it(hostile: Hostile) -> None:
    """Found in review: ``cat`` and ``export`` found a name only in the escaped form ``ls`` prints
    (``\\x1b[2J...``); typed with its real characters (bash's ``$'\\e[2J...'``) it was "no entry",
    shown as Python writes a string. Both forms find it now; a name not there is shown escaped,
    once, with what to type."""
    env = hostile.env
    for i, name in enumerate(NAMES):
        if name.startswith("[link"):
            continue  # no control character: one form only
        for typed in (f"/{name}", "/" + escape(name)):
            done = run("cat", "EX-1", typed, env=env)
            assert done.returncode == 0 and done.stdout == f"file {i}\n", (ascii(typed), ascii(done.stderr))
    listed = [json.loads(line)["path"] for line in run("ls", "EX-1", "--json", env=env).stdout.splitlines()]
    assert all(not is_unsafe(ch) for p in listed for ch in p)  # what ls prints holds nothing to convert
    missing = assert_literal(run("cat", "EX-1", f"/gone{ESC_CLEAR}\udcff", env=env), code=2)
    assert "no entry '/gone\\x1b[2J\\x1b[H\\xff'" in missing and "as ls prints it" in missing, ascii(missing)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-ls", "full-cli"])
def test_ls_of_a_non_utf8_exhibit_id_is_a_usage_error(hostile: Hostile, fast: bool) -> None:
    env = {**hostile.env, **({} if fast else {"EXHIBIT_NO_FAST_LS": "1"})}
    result = subprocess.run(
        [sys.executable, "-m", "triage.launch", "ls", b"EX-\xff".decode("utf-8", "surrogateescape")],
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert "EX-\\xff is not UTF-8" in err


# -- the escaping itself -------------------------------------------------------------------------


def test_escape_shows_every_kind_of_hidden_character() -> None:
    cases = {
        "a\x1bb": "a\\x1bb",
        "\x85": "\\u0085",
        RLO + "\u2066\u200e\u061c": "\\u202e\\u2066\\u200e\\u061c",
        ZWSP + "\u200d\u2060\ufeff": "\\u200b\\u200d\\u2060\\ufeff",
        LSEP + "\u2029": "\\u2028\\u2029",
        "\ue000\U000e0001": "\\ue000\\U000e0001",
        "\u3164\u115f\ufe0f": "\\u3164\\u115f\\ufe0f",
        "\udcff": "\\xff",
        "\xa0": "\\u00a0",
        "Meet [at pier 7] é 中文 C:\\x": "Meet [at pier 7] é 中文 C:\\x",
    }
    for raw, shown in cases.items():
        assert escape(raw) == shown, raw


@settings(deadline=None)  # a loaded 2-core machine may stall one example past the default
@given(st.text(alphabet=st.characters(codec=None)))
def test_escaped_text_holds_no_hidden_character(text: str) -> None:
    shown = escape(text)
    assert not any(is_unsafe(ch) for ch in shown)
    assert escape(shown) == shown


@settings(deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
@example(f"{RLO}\x9b\x7f\U000e0001 中文 é\n\ud800")
def test_json_text_holds_no_hidden_character_and_the_same_value(text: str) -> None:
    value = {"body": text, "list": [text, 1]}
    for line in (
        json.dumps(value, ensure_ascii=False),
        *json.dumps(value, ensure_ascii=False, indent=2).split("\n"),
    ):
        shown = json_visible(line)
        assert not any(is_unsafe(ch) for ch in shown if ch > "\x7e"), ascii(shown)
        assert "\n" not in shown
    assert json.loads(json_visible(json.dumps(value, ensure_ascii=False))) == value


@settings(deadline=None)
@given(st.binary(max_size=64))
@example("rtl_\u202egpj.exe\u200b\u2028\u3164".encode())
@example(b"\xff\\/\x1b\xc2\x85")
def test_display_names_are_safe_and_reversible(raw: bytes) -> None:
    name = display_name(raw)
    assert not any(is_unsafe(ch) for ch in name) and "/" not in name
    assert display_to_bytes(name) == raw
    assert escape(name) == name  # already literal: escaping again changes nothing


def test_the_literal_console_and_table_never_parse_markup() -> None:
    from rich.text import Text

    from custody.console import LiteralConsole, LiteralTable

    console = LiteralConsole(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    table = LiteralTable("a", "b")
    table.add_row("[/]", Text("x"))
    console.print(f"[bold]{ESC_CLEAR}[link=https://e]l[/link] :smile:", markup=True, emoji=True)
    console.print(table)
    text = console.export_text()
    assert "[bold]\\x1b[2J\\x1b[H[link=https://e]l[/link] :smile:" in text and "[/]" in text


def test_command_modules_use_the_literal_console() -> None:
    """New command code cannot slip back to Rich's parsing Console or Table."""
    root = Path(__file__).resolve().parent.parent
    views = [str(p.relative_to(root)) for p in (root / "triage" / "views").glob("*.py")]
    for module in ("custody/cli.py", "triage/cli.py", "triage/launch.py", *views):
        source = (root / module).read_text()
        assert "from rich.console import Console" not in source, module
        assert "from rich.table import Table" not in source, module
        assert "[/]" not in source and "[bold" not in source and "[red]" not in source, module
