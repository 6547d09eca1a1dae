"""Private keys are refused when others could read or replace them (as ssh does), when the key
path is not a regular file, and one public key cannot stand for two actors (point 7 of issue 7)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor, signing_keys
from custody.case import Case, init_case
from custody.errors import ActorError
from custody.events import record_event
from custody.items import acquire
from custody.keys import key_path, load_private_key, public_hex
from custody.ledger import Draft, canonical, entry_message
from custody.verify import verify_case
from tests.custody.clihelp import cli, cli_child
from tests.custody.conftest import tamper


@pytest.fixture
def small_case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/017", title="Op. Keys")
    add_actor(c, "jdoe", name="Jane Doe", role="evidence-officer")
    try:
        yield c
    finally:
        c.close()


def test_key_readable_by_group_or_others_is_refused_with_the_chmod(
    small_case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    path = key_path("jdoe")
    for mode in (0o640, 0o604, 0o660):
        os.chmod(path, mode)
        with pytest.raises(ActorError) as refused:
            load_private_key("jdoe")
        assert refused.value.hint == f"chmod 600 '{path}'"
        assert f"{mode:04o}" in str(refused.value)
    result = cli(capsys, "actor", "list", "--case", str(small_case.root))
    assert result.code == 0  # listing needs no private key
    os.chmod(path, 0o644)
    result = cli(
        capsys,
        "custody",
        "checkpoint",
        "--out",
        str(small_case.root / "cp.json"),
        "--case",
        str(small_case.root),
    )
    assert result.code == 0
    acquire_args = ("acquire", str(small_case.root / "cp.json"), "--exhibit", "EX-1", "--description", "d")
    result = cli(capsys, *acquire_args, "--actor", "jdoe", "--case", str(small_case.root))
    assert result.clean_failure and f"chmod 600 '{path}'" in result.message
    os.chmod(path, 0o600)
    assert load_private_key("jdoe")


def test_keys_folder_writable_by_others_is_refused(small_case: Case) -> None:
    folder = key_path("jdoe").parent
    for mode in (0o770, 0o702, 0o777):
        os.chmod(folder, mode)
        with pytest.raises(ActorError) as refused:
            signing_keys(small_case, ["jdoe"])
        assert refused.value.hint == f"chmod 700 '{folder}'"
    os.chmod(folder, 0o750)  # readable by the group is what ssh accepts too; only writable is refused
    assert signing_keys(small_case, ["jdoe"])


def test_key_path_that_is_a_folder(small_case: Case) -> None:
    path = key_path("jdoe")
    path.unlink()
    path.mkdir(mode=0o700)
    with pytest.raises(ActorError, match="not a regular file"):
        load_private_key("jdoe")


def test_key_path_that_is_a_fifo_or_dev_zero_does_not_hang(small_case: Case) -> None:
    path = key_path("jdoe")
    path.unlink()
    os.mkfifo(path, 0o600)
    args = ("custody", "checkpoint", "--out", str(small_case.root / "x.json"), "--case", str(small_case.root))
    assert cli_child(*args).code == 0
    event = ("custody", "move", "EX-1", "--location", "L", "--actor", "jdoe", "--case", str(small_case.root))
    evidence = small_case.root / "evidence.bin"
    evidence.write_bytes(b"x" * 1000)
    acquire_args = ("acquire", str(evidence), "--exhibit", "EX-1", "--description", "d", "--actor", "jdoe")
    for target in ("fifo", "/dev/zero"):
        if target != "fifo":
            path.unlink()
            path.symlink_to(target)
        result = cli_child(*acquire_args, "--case", str(small_case.root), timeout=30)
        assert result.clean_failure, result
        assert "not a regular file" in " ".join(result.err.split())
    assert cli_child(*event).clean_failure


def test_oversized_key_file_is_refused_without_reading_it_all(small_case: Case) -> None:
    path = key_path("jdoe")
    with path.open("ab") as fh:
        fh.truncate(1 << 30)  # sparse: 1 GiB that takes no disk
    with pytest.raises(ActorError, match="larger than"):
        load_private_key("jdoe")


def test_same_key_for_a_second_actor_is_refused(small_case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    """The attacker copies jdoe's key file to another ID and registers it."""
    shutil.copy2(key_path("jdoe"), key_path("mallory"))
    with pytest.raises(ActorError, match="already registered for actor 'jdoe'"):
        add_actor(small_case, "mallory", name="M", role="courier")
    result = cli(
        capsys, "actor", "add", "mallory", "--name", "M", "--role", "courier", "--case", str(small_case.root)
    )
    assert result.clean_failure and "one key cannot stand for two people" in result.message
    assert [e.seq for e in small_case.ledger.entries()] == [1]


def test_verify_flags_a_forged_ledger_with_one_key_for_two_actors(case: Case, evidence: Path) -> None:
    """Bypassing 'actor add' (the attacker appends the registration themselves), jdoe's key becomes
    mallory's too and jdoe signs both sides of a transfer. Verify must say so (DUPLICATE_KEY)."""
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    shutil.copy2(key_path("jdoe"), key_path("mallory"))
    jdoe = load_private_key("jdoe")
    registration = Draft(
        kind="actor.add",
        actor="mallory",
        data={"id": "mallory", "name": "M", "role": "courier", "org": None, "public_key": public_hex(jdoe)},
    )
    [entry] = case.ledger.append([registration], {"mallory": jdoe}, checkpoint_signer="mallory")
    record_event(case, "transfer", "EX-001", actor="jdoe", receiver="mallory", reason="to myself")
    report = verify_case(case)
    assert [(p.code, p.seq) for p in report.problems] == [("DUPLICATE_KEY", entry.seq)]
    assert "'jdoe'" in report.problems[0].detail
    assert not verify_case(case, "EX-001").ok  # a ledger-wide problem shows for every exhibit


def test_verify_flags_a_duplicate_key_written_with_sql(case: Case) -> None:
    """Registration rows inserted with SQL, re-chained and signed as an attacker holding the key."""
    jdoe_key = load_private_key("jdoe")
    last = list(case.ledger.entries())[-1]
    body = json.loads(last.body)
    body.update(seq=last.seq + 1, prev=last.entry_hash, actor="mallory", kind="actor.add", exhibit=None)
    body["data"] = {
        "id": "mallory",
        "name": "M",
        "role": "courier",
        "org": None,
        "public_key": public_hex(jdoe_key),
        "algorithm": "ed25519",
    }
    raw = canonical(body)
    digest = hashlib.sha256(raw).hexdigest()
    sigs = json.dumps([{"actor": "mallory", "sig": jdoe_key.sign(entry_message(digest)).hex()}])
    tamper(
        case,
        "INSERT INTO entries (seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, signatures) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            last.seq + 1,
            digest,
            last.entry_hash,
            "actor.add",
            None,
            "mallory",
            body["recorded"]["utc"],
            raw.decode(),
            sigs,
        ),
    )
    codes = {(p.code, p.seq) for p in verify_case(case).problems}
    assert ("DUPLICATE_KEY", last.seq + 1) in codes
