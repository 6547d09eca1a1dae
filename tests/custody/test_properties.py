"""Property-based tests (Hypothesis) of what reads user input in custody: the time parser, the
checkpoint-file reader and the command line's arguments. Whatever the input, the result is a value
or the documented error, never another exception, exit status 70 or a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.errors import CheckpointError, InvalidTime
from custody.items import acquire
from custody.keys import verify_signature
from custody.ledger import canonical, checkpoint_message
from custody.timefmt import OFFSET, format_offset, parse_offset, parse_stamp
from custody.verify import export_checkpoint, load_checkpoint_file
from tests.custody.clihelp import cli

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
UTC_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")

offsets = st.integers(min_value=-86399, max_value=86399).map(lambda s: timezone(timedelta(seconds=s)))
aware = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
)  # a day inside the range, so converting to UTC cannot leave it


# -- the time parser --------------------------------------------------------------------------------


@FAST
@given(aware, st.sampled_from(["seconds", "milliseconds", "microseconds", "auto"]))
def test_time_round_trip(when: datetime, spec: str) -> None:
    text = when.isoformat(timespec=spec)
    stamp = parse_stamp(text)
    assert UTC_FORMAT.match(stamp.utc) and OFFSET.match(stamp.offset)
    shown = datetime.fromisoformat(text)
    assert stamp.local() == shown  # the same instant
    assert stamp.local().utcoffset() == shown.utcoffset()  # and the same wall clock: the offset is exact
    assert parse_offset(format_offset(shown.utcoffset())).utcoffset(None) == shown.utcoffset()


@FAST
@given(st.text(max_size=80))
@example("2026-01-02T10:00+24:00")
@example("0001-01-01T00:00+01:00")
@example("2026-01-02T10:00+05:30:45.000001")
@example("\udcff")
def test_any_text_is_a_stamp_or_invalid_time(text: str) -> None:
    try:
        stamp = parse_stamp(text)
    except InvalidTime as exc:
        assert exc.hint and "--at" in exc.hint
        return
    assert UTC_FORMAT.match(stamp.utc) and OFFSET.match(stamp.offset)


# -- the checkpoint reader ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def one_case(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("prop")
    config = root / "config"
    old = os.environ.get("EXHIBIT_CONFIG_DIR")
    os.environ["EXHIBIT_CONFIG_DIR"] = str(config)
    try:
        case = init_case(root / "case", case_number="2026/017", title="Props")
        add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer")
        evidence = root / "ev.bin"
        evidence.write_bytes(os.urandom(2048))
        acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="d")
        yield case, config, export_checkpoint(case)
        case.close()
    finally:
        if old is None:
            os.environ.pop("EXHIBIT_CONFIG_DIR", None)
        else:
            os.environ["EXHIBIT_CONFIG_DIR"] = old


def _load(case: Case, path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with contextlib.suppress(CheckpointError):
        load_checkpoint_file(path, case.ledger.ledger_id, case.ledger.case_number)


@FAST
@given(st.binary(max_size=2000))
def test_checkpoint_reader_on_any_bytes(one_case: Any, tmp_path: Path, content: bytes) -> None:
    _load(one_case[0], tmp_path / "cp.json", content)


@FAST
@given(json_values)
def test_checkpoint_reader_on_any_json(one_case: Any, tmp_path: Path, value: Any) -> None:
    _load(one_case[0], tmp_path / "cp.json", json.dumps(value).encode())


@FAST
@given(st.data())
def test_checkpoint_reader_on_a_mutated_real_file(one_case: Any, tmp_path: Path, data: st.DataObject) -> None:
    """Replace one member of the file or of the signed body with anything: refused by the reader,
    or, when the file is still well formed (another valid tree size, root or signature), its
    signature no longer verifies (``custody verify --against`` reports SIGNATURE_INVALID);
    unless the value is the one that was there (then the file is still the valid original)."""
    case, _config, good = one_case
    document = json.loads(json.dumps(good))
    body = json.loads(document["checkpoint_canonical"])
    target = data.draw(st.sampled_from(["file", "body"]))
    holder = document if target == "file" else body
    member = data.draw(st.sampled_from(sorted(holder)))
    value = data.draw(json_values)
    unchanged = holder[member] == value and type(holder[member]) is type(value)
    holder[member] = value
    if target == "body":
        try:
            document["checkpoint_canonical"] = canonical(body).decode()
        except Exception:  # a value canonical JSON cannot hold: put it in as text
            document["checkpoint_canonical"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
        document["checkpoint"] = body
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(document))
    if unchanged:
        load_checkpoint_file(path, case.ledger.ledger_id, case.ledger.case_number)
        return
    try:
        loaded = load_checkpoint_file(path, case.ledger.ledger_id, case.ledger.case_number)
    except CheckpointError:
        return
    message = checkpoint_message(loaded["checkpoint_canonical"].encode())
    assert not verify_signature(loaded["signer_public_key"], loaded["signature"], message), (
        target,
        member,
        value,
    )


def test_a_checkpoint_file_with_another_valid_tree_size_is_read_but_its_signature_fails(
    one_case: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The draw Hypothesis found (tree_size 2 -> 1, the canonical text made again): the reader
    checks the form only, and ``custody verify --against`` refuses the signature."""
    case, _config, good = one_case
    body = json.loads(good["checkpoint_canonical"])
    body["tree_size"] = 1
    document = {**good, "checkpoint": body, "checkpoint_canonical": canonical(body).decode()}
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(document))
    loaded = load_checkpoint_file(path, case.ledger.ledger_id, case.ledger.case_number)
    message = checkpoint_message(loaded["checkpoint_canonical"].encode())
    assert not verify_signature(loaded["signer_public_key"], loaded["signature"], message)
    result = cli(capsys, "custody", "verify", "--case", str(case.root), "--against", str(path))
    assert result.code != 0 and "SIGNATURE_INVALID" in result.out + result.err, result


# -- the command line -------------------------------------------------------------------------------

# What argv can hold: any text without NUL, including the lone surrogates of non-UTF-8 bytes.
argv_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=60),
    st.binary(min_size=1, max_size=30).filter(lambda b: b"\x00" not in b).map(os.fsdecode),
)


def _clean(result: Any) -> None:
    """No crash: an exit code of ours, no traceback, no "internal error:" line (the generated text
    itself may say "internal error" or "Traceback" when the CLI quotes it: hypothesis found both)."""
    assert result.code in (0, 1, 2), result
    assert "Traceback (most recent call last)" not in result.err, result
    assert not any(line.startswith("internal error:") for line in result.err.splitlines()), result


@FAST
@given(argv_text)
@example("garbage")
@example("2026-01-02T10:00")
@example("2026-01-02T10:00+24:00")
def test_cli_at(
    one_case: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    case, config, _ = one_case
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(config))
    if at.startswith("-"):
        at = "x" + at  # a leading '-' would be read as an option by any parser
    args = (
        "custody",
        "move",
        "EX-001",
        "--location",
        "L",
        "--at",
        at,
        "--actor",
        "jdoe",
        "--case",
        str(case.root),
    )
    _clean(cli(capsys, *args))


@FAST
@given(argv_text)
@example("foo://")
@example("postgresql://u@h:port/d")
def test_cli_db(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    target = tmp_path / "c"
    if url.startswith("-") or url.startswith("sqlite") or url.startswith("postgresql"):
        url = "x" + url  # keep Hypothesis from creating databases on the server or elsewhere
    result = cli(capsys, "init", str(target), "--case-number", "1", "--title", "t", "--db", url)
    _clean(result)
    assert result.code == 2 and not target.exists()


@FAST
@given(argv_text, st.sampled_from(["log", "verify", "proof", "move"]))
@example(os.fsdecode(b"EX-\xff"), "log")
def test_cli_exhibit_ids(
    one_case: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exhibit: str,
    command: str,
) -> None:
    case, config, _ = one_case
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(config))
    if exhibit.startswith("-"):
        exhibit = "x" + exhibit
    extra = ("--location", "L", "--actor", "jdoe") if command == "move" else ()
    _clean(cli(capsys, "custody", command, exhibit, *extra, "--case", str(case.root)))


@FAST
@given(argv_text)
@example("/dev/zero")
@example("x" * 5000)
@example("internal error")  # quoted in the error message: not a crash
def test_cli_case_paths(capsys: pytest.CaptureFixture[str], folder: str) -> None:
    if folder.startswith("-"):
        folder = "x" + folder
    result = cli(capsys, "items", "--case", folder)
    _clean(result)
    assert result.code == 2
