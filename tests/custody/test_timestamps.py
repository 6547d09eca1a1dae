"""RFC 3161 time-stamps of checkpoints (issue 11, section 3), against a real local TSA: OpenSSL's
``openssl ts -reply`` behind HTTP on 127.0.0.1 (tests/custody/local_tsa.py), on SQLite and on the
PostgreSQL server. Tokens are checked again by ``openssl ts -verify`` as an independent oracle."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody import timefmt, timestamps
from custody.case import Case, open_case
from custody.events import record_event
from custody.items import acquire
from custody.verify import verify_case
from tests.custody.clihelp import cli
from tests.custody.conftest import tamper
from tests.custody.local_tsa import LocalTsa, running_tsa


@pytest.fixture(scope="module")
def tsa_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tsa")


@pytest.fixture
def tsa(tsa_folder: Path) -> Iterator[LocalTsa]:
    with running_tsa(tsa_folder / "a") as running:
        yield running


@pytest.fixture
def other_tsa(tsa_folder: Path) -> Iterator[LocalTsa]:
    with running_tsa(tsa_folder / "b", name="Other TSA") as running:
        yield running


@pytest.fixture
def acquired(case: Case, evidence: Path) -> Case:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    return case


def codes(case: Case, **kwargs: object) -> list[str]:
    return [p.code for p in verify_case(case, **kwargs).problems]  # type: ignore[arg-type]


def test_timestamp_of_the_latest_checkpoint_verifies_here_and_with_openssl(
    acquired: Case, tsa: LocalTsa, tmp_path: Path
) -> None:
    ca = timestamps.load_ca(tsa.ca)
    checkpoint = acquired.ledger.latest_checkpoint()
    assert checkpoint is not None
    token = timestamps.timestamp_checkpoint(acquired.database, checkpoint, tsa.url, ca)
    assert token.tree_size == checkpoint.tree_size == acquired.ledger.count()
    assert verify_case(acquired).ok
    # the oracle: OpenSSL verifies the stored response over the checkpoint's canonical body
    (tmp_path / "cp.txt").write_bytes(checkpoint.body.encode())
    (tmp_path / "t.tsr").write_bytes(timestamps.stored(acquired.database)[0].token)
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "cp.txt", "-in", "t.tsr", "-CAfile", str(tsa.ca)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    # the TSA was sent the hash of the body only
    assert len(tsa.requests) == 1 and checkpoint.body.encode() not in tsa.requests[0]
    # the export carries the token and its CA: openssl verifies it from the export alone
    from custody.exports import export_json

    exported = json.loads(export_json(acquired))["timestamps"][0]
    (tmp_path / "e.tsr").write_bytes(base64.b64decode(exported["token_der_base64"]))
    (tmp_path / "e.pem").write_text(exported["ca_pem"])
    again = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "cp.txt", "-in", "e.tsr", "-CAfile", "e.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert exported["gen_time"] == token.gen_time


def test_a_token_of_another_tsa_or_another_checkpoint_is_invalid(
    acquired: Case, tsa: LocalTsa, other_tsa: LocalTsa
) -> None:
    checkpoint = acquired.ledger.latest_checkpoint()
    assert checkpoint is not None
    # a token signed by another TSA, whose CA is not the one given: refused when received
    with pytest.raises(timestamps.TimestampError, match="does not verify"):
        timestamps.timestamp_checkpoint(
            acquired.database, checkpoint, other_tsa.url, timestamps.load_ca(tsa.ca)
        )
    assert timestamps.stored(acquired.database) == []
    timestamps.timestamp_checkpoint(acquired.database, checkpoint, tsa.url, timestamps.load_ca(tsa.ca))
    assert verify_case(acquired).ok
    # an attacker swaps the kept CA for another one: the chain no longer verifies
    tamper(acquired, "UPDATE checkpoint_timestamps SET ca_pem = %s", (other_tsa.ca.read_text(),))
    report = verify_case(acquired)
    assert [p.code for p in report.problems] == ["TIMESTAMP_INVALID"], report.problems
    # said in plain words first, the verifier's own reason after (review: a raw OpenSSL error stack)
    assert "does not chain to the kept CA certificate" in report.problems[0].detail, report.problems
    assert "ErrorStack" not in report.problems[0].detail


def test_an_edited_token_or_checkpoint_reference_is_invalid(acquired: Case, tsa: LocalTsa) -> None:
    checkpoint = acquired.ledger.latest_checkpoint()
    assert checkpoint is not None
    stored = timestamps.timestamp_checkpoint(
        acquired.database, checkpoint, tsa.url, timestamps.load_ca(tsa.ca)
    )
    token = bytearray(stored.token)
    token[-40] ^= 0x01  # inside the signature
    tamper(acquired, "UPDATE checkpoint_timestamps SET token = %s", (bytes(token),))
    assert codes(acquired) == ["TIMESTAMP_INVALID"]
    altered = verify_case(acquired).problems[0].detail
    assert "does not match its content (the token was altered)" in altered, altered
    tamper(acquired, "UPDATE checkpoint_timestamps SET token = %s", (stored.token,))
    assert codes(acquired) == []
    # the token moved to another checkpoint (an earlier one): imprint mismatch
    earlier = acquired.ledger.checkpoints()[0]
    tamper(
        acquired,
        "UPDATE checkpoint_timestamps SET tree_size = %s, root = %s",
        (earlier.tree_size, earlier.root),
    )
    report = verify_case(acquired)
    assert [p.code for p in report.problems] == ["TIMESTAMP_INVALID"]
    assert "its message imprint is not the SHA-256 of this checkpoint" in report.problems[0].detail
    assert "Mismatch between messages" in report.problems[0].detail  # the verifier's words, kept


def test_entries_whose_clock_contradicts_the_tsa_are_clock_anomalies(
    acquired: Case, tsa: LocalTsa, set_clock: Callable[[datetime], None]
) -> None:
    """With auto time-stamping, an entry recorded 'in the future' (by the recording computer's
    clock) is held by a checkpoint the TSA stamped earlier; one recorded in the past comes after a
    stamp that is later than it. Neither is out of order or in the future for the ledger's own
    clock checks, which cannot see them."""
    timestamps.configure(acquired.database, tsa.url, timestamps.load_ca(tsa.ca), auto=True)
    now = datetime.now(UTC)
    honest = record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 1").seq
    assert len(timestamps.stored(acquired.database)) == 1
    assert verify_case(acquired).ok
    set_clock(now + timedelta(minutes=30))
    ahead = record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 2").seq
    assert len(timestamps.stored(acquired.database)) == 2
    report = verify_case(acquired, now=now + timedelta(hours=1))
    assert [(p.code, p.seq) for p in report.problems] == [("CLOCK_ANOMALY", ahead)], report.problems
    assert "time-stamped at" in report.problems[0].detail and report.problems[0].exhibit == "EX-001"
    assert honest < ahead


def test_back_dated_entry_after_a_time_stamp_is_a_clock_anomaly(
    acquired: Case, tsa: LocalTsa, set_clock: Callable[[datetime], None]
) -> None:
    checkpoint = acquired.ledger.latest_checkpoint()
    assert checkpoint is not None
    timestamps.timestamp_checkpoint(acquired.database, checkpoint, tsa.url, timestamps.load_ca(tsa.ca))
    set_clock(datetime.now(UTC) - timedelta(hours=1))
    back = record_event(acquired, "move", "EX-001", actor="jdoe", location="back-dated").seq
    problems = [(p.code, p.seq) for p in verify_case(acquired).problems]
    assert problems == [("CLOCK_ANOMALY", back)], problems


def test_clock_rules_against_verified_tokens() -> None:
    """The two rules alone (the ledger's own order check would also catch some of these)."""
    t = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    tokens = [
        timestamps.Verified(3, t, timedelta(seconds=1), "tsa"),
        timestamps.Verified(6, t + timedelta(hours=1), timedelta(0), "tsa"),
    ]

    def utc(delta: timedelta) -> str:
        return timefmt.format_utc(t + delta)

    recorded = [
        (1, utc(-timedelta(minutes=5))),
        (2, utc(timedelta(seconds=60))),  # within accuracy + slack of the stamp holding it
        (3, utc(timedelta(seconds=62))),  # after the stamp of checkpoint 3, which holds it
        (4, utc(timedelta(minutes=2))),
        (5, utc(-timedelta(minutes=2))),  # before the stamp of checkpoint 3, which it follows
        (6, utc(timedelta(minutes=59))),
        (7, utc(timedelta(minutes=30))),  # before the stamp of checkpoint 6
        (8, None),
        (9, utc(timedelta(days=1))),  # after every stamp: nothing holds it yet
    ]
    found = list(timestamps.clock_problems(tokens, recorded))
    assert [p.seq for p in found] == [3, 5, 7]
    assert "checkpoint 3, which already holds this entry" in found[0].detail
    assert "which this entry comes after" in found[1].detail


def test_cli_init_with_a_tsa_stamps_every_checkpoint(
    tmp_path: Path, tsa: LocalTsa, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "case"
    r = cli(
        capsys,
        "init",
        str(root),
        "--case-number",
        "T/1",
        "--title",
        "T",
        "--tsa",
        tsa.url,
        "--tsa-ca",
        str(tsa.ca),
    )
    assert r.code == 0 and "time-stamped by" in r.out, r.err
    for args in (
        ("actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer"),
        ("actor", "add", "asmith", "--name", "Alan Smith", "--role", "examiner"),
    ):
        r = cli(capsys, *args, "--case", str(root))
        assert r.code == 0, r.err
    r = cli(capsys, "custody", "timestamp", "--list", "--json", "--case", str(root))
    listed = json.loads(r.out)
    with open_case(root) as case:
        assert [t["tree_size"] for t in listed] == [c.tree_size for c in case.ledger.checkpoints()] == [1, 2]
    r = cli(capsys, "custody", "verify", "--case", str(root))
    assert r.code == 0, r.out + r.err
    # the TSA goes away: the append is recorded all the same, with a warning that says what to do
    tsa.fail = True
    r = cli(capsys, "actor", "add", "bcole", "--name", "Bo Cole", "--role", "examiner", "--case", str(root))
    assert r.code == 0 and "not time-stamped" in r.message and "exhibit custody timestamp" in r.message
    with open_case(root) as case:
        assert case.ledger.count() == 3 and len(timestamps.stored(case.database)) == 2
    tsa.fail = False
    r = cli(capsys, "custody", "timestamp", "--case", str(root))
    assert r.code == 0 and "Checkpoint 3" in r.out, r.err
    r = cli(capsys, "custody", "verify", "--case", str(root))
    assert r.code == 0, r.out + r.err


def test_cli_refusals(
    tmp_path: Path, tsa: LocalTsa, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "case"
    r = cli(capsys, "init", str(root), "--case-number", "T/1", "--title", "T", "--tsa", tsa.url)
    assert r.clean_failure and "--tsa-ca" in r.message and not root.exists()
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("hello")
    r = cli(
        capsys,
        "init",
        str(root),
        "--case-number",
        "T/1",
        "--title",
        "T",
        "--tsa",
        tsa.url,
        "--tsa-ca",
        str(not_pem),
    )
    assert r.clean_failure and "no PEM certificate" in r.message and not root.exists()
    r = cli(capsys, "init", str(root), "--case-number", "T/1", "--title", "T")
    assert r.code == 0
    r = cli(capsys, "actor", "add", "jdoe", "--name", "Jane Doe", "--role", "examiner", "--case", str(root))
    r = cli(capsys, "custody", "timestamp", "--case", str(root))
    assert r.clean_failure and "no Time-Stamp Authority" in r.message
    r = cli(
        capsys,
        "custody",
        "timestamp",
        "--tsa",
        "http://127.0.0.1:9/tsr",
        "--tsa-ca",
        str(tsa.ca),
        "--case",
        str(root),
    )
    assert r.clean_failure and "cannot reach the TSA" in r.message
    with open_case(root) as case:
        assert timestamps.stored(case.database) == []


def test_an_export_carries_its_tokens_and_is_checked_without_the_database(
    acquired: Case, tsa: LocalTsa
) -> None:
    """verify_export (what verify-bundle uses): the tokens of the JSON export are verified against
    the exported checkpoints, and an edited one is TIMESTAMP_INVALID."""
    from custody.exports import export_json
    from custody.verify import verify_export

    checkpoint = acquired.ledger.latest_checkpoint()
    assert checkpoint is not None
    timestamps.timestamp_checkpoint(acquired.database, checkpoint, tsa.url, timestamps.load_ca(tsa.ca))
    document = json.loads(export_json(acquired))
    assert verify_export(document).ok
    token = bytearray(base64.b64decode(document["timestamps"][0]["token_der_base64"]))
    token[-30] ^= 1
    document["timestamps"][0]["token_der_base64"] = base64.b64encode(bytes(token)).decode()
    assert [p.code for p in verify_export(document).problems] == ["TIMESTAMP_INVALID"]
    document["timestamps"][0] = {"tree_size": "x"}
    assert [p.code for p in verify_export(document).problems] == ["TIMESTAMP_INVALID"]
