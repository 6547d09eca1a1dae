"""Bad input ends in a clear message and exit status 2, never "internal error" (70) or a
traceback, and reads of files the user names are bounded (points 8 and 9 of issue 7)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import export_checkpoint
from tests.custody.clihelp import cli, cli_child


@pytest.fixture
def sqlite_case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/017", title="Op. Input")
    add_actor(c, "jdoe", name="Jane Doe", role="evidence-officer")
    evidence = tmp_path / "evidence.bin"
    evidence.write_bytes(os.urandom(4096))
    acquire(c, evidence, exhibit="EX-001", actor="jdoe", description="d")
    try:
        yield c
    finally:
        c.close()


# -- --at -----------------------------------------------------------------------------------------

BAD_TIMES = {
    "garbage": "not an ISO 8601",
    "2026-01-02T10:00": "no UTC offset",
    "2026-01-02": "no UTC offset",
    "2026-01-02T10:00+24:00": "less than 24 hours",
    "2026-01-02T10:00-24:00": "less than 24 hours",
    "10000-01-01T00:00+00:00": "not an ISO 8601",
    "0000-01-01T00:00+00:00": "not an ISO 8601",
    "0001-01-01T00:30+01:00": "outside the years 1 to 9999",
    "9999-12-31T23:30-01:00": "outside the years 1 to 9999",
    "2026-01-02T10:00+05:30:45.5": "fraction of a second",
    "x" * 10_000: "too long",
}


@pytest.mark.parametrize("value", list(BAD_TIMES))
def test_bad_at_is_a_usage_error(sqlite_case: Case, capsys: pytest.CaptureFixture[str], value: str) -> None:
    before = sqlite_case.ledger.count()
    result = cli(
        capsys, "custody", "move", "EX-001", "--location", "L", "--at", value, "--actor", "jdoe",
        "--case", str(sqlite_case.root),
    )  # fmt: skip
    assert result.clean_failure, result
    assert "invalid time" in result.message and BAD_TIMES[value] in result.message
    assert "--at 2026-01-02T10:00+01:00" in result.message  # the hint shows the format
    assert sqlite_case.ledger.count() == before


@pytest.mark.parametrize(
    ("value", "utc", "offset"),
    [
        ("2026-01-02T10:00-05:30:45", "2026-01-02T15:30:45.000000Z", "-05:30:45"),
        ("2026-01-02T10:00+05:30:45", "2026-01-02T04:29:15.000000Z", "+05:30:45"),
        ("2026-01-02T10:00+05:30", "2026-01-02T04:30:00.000000Z", "+05:30"),
        ("0001-01-01T00:00-01:00", "0001-01-01T01:00:00.000000Z", "-01:00"),
    ],
)
def test_offsets_are_stored_exactly(
    sqlite_case: Case, capsys: pytest.CaptureFixture[str], value: str, utc: str, offset: str
) -> None:
    """An offset with seconds was rounded (-05:30:45 became -05:31); now it is kept as given."""
    result = cli(
        capsys, "custody", "move", "EX-001", "--location", "L", "--at", value, "--actor", "jdoe",
        "--case", str(sqlite_case.root), "--json",
    )  # fmt: skip
    assert result.code == 0, result
    occurred = json.loads(result.out)["body"]["data"]["occurred"]
    assert occurred == {"utc": utc, "offset": offset}


# -- init -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("foo://", "unsupported database 'foo'"),
        ("mysql://user@host/db", "unsupported database 'mysql'"),
        ("oracle://user@host/db", "unsupported database 'oracle'"),
        ("postgresql://user@host:port/db", "invalid database URL"),
        ("not a url", "invalid database URL"),
        ("", "invalid database URL"),
        ("sqlite+nodriver:///x.sqlite", "cannot use the database URL"),
        ("postgresql+nodriver://user@host/db", "cannot use the database URL"),
    ],
)
def test_unusable_database_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, says: str
) -> None:
    target = tmp_path / "new-case"
    result = cli(capsys, "init", str(target), "--case-number", "1", "--title", "t", "--db", url)
    assert result.clean_failure, result
    assert says in result.message
    assert not target.exists()  # nothing created for a URL that cannot work


def test_unusable_database_url_in_the_case_file(
    sqlite_case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sqlite_case.root / "exhibit-case.json"
    data = json.loads(config.read_text())
    data["database"] = "foo://"
    config.write_text(json.dumps(data))
    result = cli(capsys, "items", "--case", str(sqlite_case.root))
    assert result.clean_failure and "unsupported database 'foo'" in result.message


@pytest.mark.parametrize("number", ["", " ", "\t\n "])
def test_empty_case_number_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    result = cli(capsys, "init", str(tmp_path / "c"), "--case-number", number, "--title", "t")
    assert result.clean_failure and "the case number is empty" in result.message
    assert not (tmp_path / "c").exists()


# -- checkpoint files -----------------------------------------------------------------------------


@pytest.fixture
def checkpoint(sqlite_case: Case) -> dict[str, object]:
    return export_checkpoint(sqlite_case)


def _verify_against(capsys: pytest.CaptureFixture[str], case: Case, path: Path) -> object:
    return cli(capsys, "custody", "verify", "--against", str(path), "--case", str(case.root))


def _edit(checkpoint: dict[str, object], **changes: object) -> dict[str, object]:
    data = json.loads(json.dumps(checkpoint))
    body = json.loads(str(data["checkpoint_canonical"]))
    for key, value in changes.items():
        if key in body:
            body[key] = value
        else:
            data[key] = value
    if any(key in body for key in changes):
        from custody.ledger import canonical

        data["checkpoint_canonical"] = canonical(body).decode()
        data["checkpoint"] = body
    return data


def test_good_checkpoint_file_passes(
    sqlite_case: Case, checkpoint: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(checkpoint, indent=2) + "\n")
    result = _verify_against(capsys, sqlite_case, path)
    assert result.code == 0, result  # type: ignore[attr-defined]


def _bad_files(checkpoint: dict[str, object]) -> dict[str, tuple[str, str]]:
    """name -> (file text, what the message says)."""
    text = str(checkpoint["checkpoint_canonical"])
    body = json.loads(text)
    files: dict[str, tuple[str, str]] = {}

    def put(name: str, data: object, says: str) -> None:
        files[name] = (json.dumps(data, indent=2), says)

    put("tree_size_1e999", {**checkpoint, "checkpoint_canonical": text.replace(
        f'"tree_size":{body["tree_size"]}', '"tree_size":1e999')}, "not an integer")  # fmt: skip
    put(
        "tree_size_string",
        _edit(checkpoint, tree_size=str(body["tree_size"])),
        "tree_size must be an integer",
    )
    put("tree_size_zero", _edit(checkpoint, tree_size=0), "tree_size must be an integer")
    put("tree_size_huge", {**checkpoint, "checkpoint_canonical": text.replace(
        f'"tree_size":{body["tree_size"]}', f'"tree_size":{2**53}'), "checkpoint": {**body, "tree_size": 2**53}},
        "tree_size must be an integer")  # fmt: skip
    put("tree_size_bool", _edit(checkpoint, tree_size=True), "tree_size must be an integer")
    put("signature_null", {**checkpoint, "signature": None}, "signature must be")
    put("signature_short", {**checkpoint, "signature": "ab"}, "signature must be")
    put("key_upper", {**checkpoint, "signer_public_key": str(checkpoint["signer_public_key"]).upper()},
        "signer_public_key must be")  # fmt: skip
    put("root_not_hex", _edit(checkpoint, root="z" * 64), "root must be")
    put("extra_member", {**checkpoint, "note": "hi"}, "members must be exactly")
    put(
        "missing_member", {k: v for k, v in checkpoint.items() if k != "signature"}, "members must be exactly"
    )
    put("body_extra", {**checkpoint, "checkpoint_canonical": text[:-1] + ',"zz":1}'},
        "must be an object of exactly")  # fmt: skip
    put("non_canonical", {**checkpoint, "checkpoint_canonical": json.dumps(body, indent=1)}, "canonical")
    put("parsed_differs", {**checkpoint, "checkpoint": {**body, "tree_size": 99}}, "checkpoint differs")
    put("other_case", _edit(checkpoint, case="2025/999"), "of case '2025/999'")
    put("other_ledger", _edit(checkpoint, ledger="0" * 8 + "-0000-0000-0000-" + "0" * 12), "another ledger")
    put("format", {**checkpoint, "format": "exhibit-checkpoint-file/2"}, "unknown format")
    put("inner_format", _edit(checkpoint, format="x"), "unknown format")
    put(
        "bad_time",
        _edit(checkpoint, time={"utc": "yesterday", "offset": "+00:00"}),
        "time is not a valid stamp",
    )
    put("signer", _edit(checkpoint, signer="no body"), "signer is not an actor ID")
    files["nested"] = ("[" * 100_000 + "]" * 100_000, "larger than")
    files["nested_small"] = ("[" * 30_000 + "]" * 30_000, "nested too deeply")
    files["nan"] = (json.dumps(checkpoint).replace('"signature"', '"x": NaN, "signature"'), "NaN is not JSON")
    files["duplicate"] = (json.dumps(checkpoint)[:-1] + ', "format": "exhibit-checkpoint-file/1"}', "twice")
    files["array"] = ("[]", "not a JSON object")
    files["empty"] = ("", "not JSON")
    files["latin1"] = ('{"format": "\xe9"}', "not UTF-8")
    return files


def test_malformed_checkpoint_files_are_refused(
    sqlite_case: Case, checkpoint: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, (text, says) in _bad_files(checkpoint).items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(text.encode("latin-1" if name == "latin1" else "utf-8"))
        result = _verify_against(capsys, sqlite_case, path)
        assert result.clean_failure, (name, result)  # type: ignore[attr-defined]
        assert says in result.message, (name, result.message)  # type: ignore[attr-defined]


def test_checkpoint_of_another_real_case(
    sqlite_case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = init_case(tmp_path / "other", case_number="2026/018", title="Other")
    try:
        add_actor(other, "jdoe", name="Jane Doe", role="evidence-officer")
        path = tmp_path / "other.json"
        path.write_text(json.dumps(export_checkpoint(other), indent=2))
    finally:
        other.close()
    result = _verify_against(capsys, sqlite_case, path)
    assert result.clean_failure and "another ledger" in result.message  # type: ignore[attr-defined]


def test_checkpoint_path_that_never_ends_or_blocks(sqlite_case: Case, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    sparse = tmp_path / "big.json"
    with sparse.open("wb") as fh:
        fh.truncate(8 << 30)  # 8 GiB of zeros that take no disk
    for target, says in (
        ("/dev/zero", "not a regular file"),
        (str(fifo), "not a regular file"),
        (str(tmp_path), "not a regular file"),
        (str(sparse), "larger than"),
        (str(tmp_path / "missing.json"), "No such file"),
    ):
        result = cli_child(
            "custody", "verify", "--against", target, "--case", str(sqlite_case.root), timeout=30
        )
        assert result.clean_failure, (target, result)
        assert says in " ".join(result.err.split()), (target, result.err)


# -- input that is not UTF-8, and environment failures ----------------------------------------------


def test_non_utf8_exhibit_number(sqlite_case: Case) -> None:
    bad = os.fsdecode(b"EX-\xff")
    for args in (
        ("ls", bad),
        ("custody", "log", bad),
        ("custody", "verify", bad),
        ("custody", "move", bad, "--location", "L", "--actor", "jdoe"),
        ("cat", bad, "/x"),
    ):
        result = cli_child(*args, "--case", str(sqlite_case.root))
        # a usage error of the argument ("Error: Invalid value for 'exhibit': EX-\xff is not UTF-8
        # text") or of the library ("error: ... not valid UTF-8"): exit 2 either way, never a traceback
        assert result.code == 2, (args, result)
        assert "error:" in result.err.lower() and "Traceback" not in result.err, (args, result)
        assert "internal error" not in result.err, (args, result)
        assert "UTF-8" in result.err and "EX-\\xff" in result.err, (args, result.err)


def test_writing_to_a_full_disk_or_unwritable_place(sqlite_case: Case, tmp_path: Path) -> None:
    """A full disk, a missing folder, a folder, and a file that exists (an earlier export or
    checkpoint, kept as evidence: never replaced): exit 2 with what to do."""
    root = str(sqlite_case.root)
    kept = tmp_path / "checkpoint-kept.json"
    kept.write_text("an earlier checkpoint\n")
    for args, says in (
        (("custody", "export", "--out", "/dev/full"), "the disk is full"),
        (("custody", "checkpoint", "--out", "/dev/full"), "the disk is full"),
        (("custody", "export", "--out", str(tmp_path / "no" / "such" / "x.json")), "No such file"),
        (("custody", "export", "--out", str(tmp_path)), "is a folder"),
        (("custody", "export", "--out", str(kept)), "already exists"),
        (("custody", "checkpoint", "--out", str(kept)), "already exists"),
    ):
        result = cli_child(*args, "--case", root)
        assert result.clean_failure, (args, result)
        assert says in " ".join(result.err.split()), (args, result.err)
    assert kept.read_text() == "an earlier checkpoint\n"
    written = tmp_path / "new-checkpoint.json"
    assert cli_child("custody", "checkpoint", "--out", str(written), "--case", root).code == 0
    assert json.loads(written.read_text())["checkpoint"]["tree_size"] >= 1


FULL_DISK_SCRIPT = r"""
set -u
mount -t tmpfs -o size=4m tmpfs "$MNT" || exit 99
cd "$MNT"
exhibit() { "$PY" -m triage.launch "$@"; }
exhibit init case --case-number 1 --title t >/dev/null && cd case || exit 98
exhibit actor add jdoe --name J --role examiner >/dev/null || exit 97
exhibit acquire "$EVIDENCE" --exhibit EX-1 --description d >/dev/null || exit 96
dd if=/dev/zero of=../fill bs=4k 2>/dev/null
truncate -s -"$FREE_KB"K ../fill
exhibit custody move EX-1 --location Vault; echo "move=$?"
exhibit triage EX-1; echo "triage=$?"
rm ../fill
exhibit custody verify --json > ../verify.json; echo "verify=$?"
cat ../verify.json
"""


@pytest.mark.parametrize("free_kb", [16, 40])
def test_disk_fills_during_append_and_triage(tmp_path: Path, free_kb: int) -> None:
    """A real full file system (a 4 MiB tmpfs in a private mount namespace): the append and the
    triage stop with 'the disk is full' and exit 2, and the ledger holds nothing half-recorded."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    evidence = tmp_path / "ev.bin"
    evidence.write_bytes(os.urandom(100_000))
    env = {
        **os.environ,
        "MNT": str(mnt),
        "PY": sys.executable,
        "EVIDENCE": str(evidence),
        "FREE_KB": str(free_kb),
        "EXHIBIT_ACTOR": "jdoe",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", FULL_DISK_SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    if done.returncode == 99 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    text = " ".join(done.stderr.split())
    assert "move=2" in done.stdout and "triage=2" in done.stdout, (done.stdout, done.stderr)
    assert text.count("the disk is full") == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert "verify=0" in done.stdout
    report = json.loads(done.stdout[done.stdout.index("{") :])
    assert report["ok"] and report["entries"] == 2  # the actor and the acquisition, nothing half-written
