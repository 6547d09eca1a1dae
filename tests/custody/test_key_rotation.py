"""Key rotation and revocation (issue 11, section 2): ``exhibit actor rotate-key`` and
``exhibit actor revoke``, on SQLite and on the PostgreSQL server. Signatures are checked with the
raw Ed25519 keys (cryptography), not only through the verifier."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody import keys, timefmt
from custody.actors import get_actor, list_actors, revoke_key, rotate_key, signing_keys
from custody.case import Case
from custody.errors import ActorError
from custody.events import record_event
from custody.items import acquire
from custody.ledger import Draft, entry_message
from custody.verify import export_checkpoint, verify_case
from tests.custody.clihelp import cli


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def acquired(case: Case, evidence: Path) -> Case:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    return case


def signed_by(case: Case, seq: int, public_key: str) -> bool:
    entry = next(e for e in case.ledger.entries() if e.seq == seq)
    sig = next(s["sig"] for s in entry.signatures if s["actor"] == entry.actor)
    return keys.verify_signature(public_key, sig, entry_message(entry.entry_hash))


def test_rotation_keeps_old_entries_verifying_and_signs_new_ones_with_the_new_key(
    acquired: Case, tmp_path: Path, config_dir: Path
) -> None:
    before = record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 1").seq
    old = get_actor(acquired, "jdoe").public_key
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(export_checkpoint(acquired)))
    actor, entry, retired = rotate_key(acquired, "jdoe")
    assert actor.public_key != old and actor.key_seq == entry.seq
    assert retired == config_dir / "keys" / f"jdoe.{old[:16]}.retired.pem"
    assert keys.public_hex(keys.load_private_key("jdoe")) == actor.public_key
    after = record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 2").seq
    assert signed_by(acquired, before, old) and not signed_by(acquired, before, actor.public_key)
    assert signed_by(acquired, entry.seq, old)  # the rotation itself: signed by the key it replaces
    assert signed_by(acquired, after, actor.public_key) and not signed_by(acquired, after, old)
    report = verify_case(acquired, against=kept)  # a checkpoint kept before the rotation still holds
    assert report.ok, report.problems
    assert get_actor(acquired, "jdoe").public_key == actor.public_key
    assert entry.data["previous_key"] == old and entry.data["public_key"] == actor.public_key


def test_a_rotation_without_a_valid_proof_changes_no_key(acquired: Case) -> None:
    """Someone holding jdoe's old key claims a new key they cannot prove: the rotation is reported
    and entries signed with the claimed key are not jdoe's."""
    old_key = signing_keys(acquired, ["jdoe"])["jdoe"]
    stranger = keys.Ed25519PrivateKey.generate()
    claimed = keys.Ed25519PrivateKey.generate()
    data = {
        "id": "jdoe",
        "previous_key": keys.public_hex(old_key),
        "public_key": keys.public_hex(claimed),
        "algorithm": "ed25519",
        "proof": stranger.sign(
            keys.rotation_message(
                acquired.ledger.ledger_id, "jdoe", keys.public_hex(old_key), keys.public_hex(claimed)
            )
        ).hex(),
    }
    [rot] = acquired.ledger.append(
        [Draft(kind="actor.rotate", actor="jdoe", data=data)],
        {"jdoe": old_key},
        checkpoint_signer="jdoe",
    )
    [later] = acquired.ledger.append(
        [Draft(kind="custody.move", actor="jdoe", exhibit="EX-001", data=_move("forged"))],
        {"jdoe": claimed},
        checkpoint_signer="jdoe",
        checkpoint_key=claimed,
    )
    problems = [(p.code, p.seq) for p in verify_case(acquired).problems]
    assert ("SIGNATURE_INVALID", rot.seq) in problems
    assert ("SIGNATURE_INVALID", later.seq) in problems


def _move(location: str) -> dict[str, object]:
    return {
        "event": "move",
        "occurred": None,
        "location": location,
        "reason": None,
        "authority": None,
        "condition": None,
        "notes": None,
    }


def test_revocation_flags_entries_signed_with_the_key_since_it_was_compromised(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    t0 = datetime.now(UTC) + timedelta(minutes=1)
    set_clock(t0)
    honest = record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 1").seq
    set_clock(t0 + timedelta(minutes=10))
    stolen_key = signing_keys(acquired, ["jdoe"])["jdoe"]
    suspect = record_event(acquired, "move", "EX-001", actor="jdoe", location="van").seq
    by_other = record_event(acquired, "move", "EX-001", actor="asmith", location="lab").seq
    set_clock(t0 + timedelta(minutes=20))
    revoked, entry = revoke_key(
        acquired,
        "jdoe",
        by="asmith",
        reason="laptop stolen",
        effective=timefmt.stamp(t0 + timedelta(minutes=5)),
    )
    assert revoked.revoked_seq == entry.seq
    # the thief keeps signing with the stolen key after the revocation
    set_clock(t0 + timedelta(minutes=30))
    [thief] = acquired.ledger.append(
        [Draft(kind="custody.move", actor="jdoe", exhibit="EX-001", data=_move("elsewhere"))],
        {"jdoe": stolen_key},
        checkpoint_signer="jdoe",
    )
    report = verify_case(acquired, now=t0 + timedelta(hours=1))
    flagged = [(p.code, p.seq) for p in report.problems]
    assert flagged == [("KEY_REVOKED", suspect), ("KEY_REVOKED", thief.seq)], report.problems
    assert honest < suspect < by_other < entry.seq
    assert "laptop" not in report.problems[0].detail and "revoked at entry" in report.problems[0].detail
    # who revoked it is said (found in review: any registered actor may revoke, even back in time)
    assert f"revoked at entry {entry.seq} by 'asmith'" in report.problems[0].detail
    # Exhibit itself refuses to sign with a revoked key
    with pytest.raises(ActorError, match="revoked"):
        record_event(acquired, "move", "EX-001", actor="jdoe", location="x")
    with pytest.raises(ActorError, match="already revoked"):
        revoke_key(acquired, "jdoe", by="asmith", reason="again")
    with pytest.raises(ActorError, match="revoked"):
        rotate_key(acquired, "jdoe")
    assert [a.id for a in list_actors(acquired) if a.revoked_seq] == ["jdoe"]


def test_revocation_in_the_future_or_without_reason_is_refused(acquired: Case) -> None:
    with pytest.raises(ActorError, match="future"):
        revoke_key(
            acquired,
            "jdoe",
            by="jdoe",
            reason="x",
            effective=timefmt.stamp(datetime.now(UTC) + timedelta(days=1)),
        )
    with pytest.raises(ActorError, match="reason"):
        revoke_key(acquired, "jdoe", by="jdoe", reason=" ")


def test_cli_rotate_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "case"
    assert cli(capsys, "init", str(root), "--case-number", "T/1", "--title", "T").code == 0
    for who in ("jdoe", "asmith"):
        r = cli(capsys, "actor", "add", who, "--name", who.title(), "--role", "examiner", "--case", str(root))
        assert r.code == 0, r.err
    r = cli(capsys, "actor", "rotate-key", "jdoe", "--case", str(root))
    assert r.code == 0 and "Rotated the key of jdoe as entry 3" in r.out, r.err
    r = cli(capsys, "actor", "list", "--case", str(root))
    assert "since entry 3" in r.out
    r = cli(
        capsys,
        "actor",
        "revoke",
        "jdoe",
        "--reason",
        "lost",
        "--from",
        "2999-01-01T00:00Z",
        "--actor",
        "asmith",
        "--case",
        str(root),
    )
    assert r.clean_failure and "future" in r.message
    r = cli(capsys, "actor", "revoke", "jdoe", "--reason", "lost", "--actor", "asmith", "--case", str(root))
    assert r.code == 0 and "Revoked the key of jdoe" in r.out, r.err
    r = cli(capsys, "actor", "list", "--json", "--case", str(root))
    listed = {a["id"]: a for a in json.loads(r.out)}
    assert listed["jdoe"]["revoked_seq"] == 4 and listed["asmith"]["revoked_seq"] is None
    r = cli(capsys, "custody", "verify", "--case", str(root))
    assert r.code == 0, r.out + r.err
    r = cli(capsys, "actor", "rotate-key", "jdoe", "--case", str(root))
    assert r.clean_failure and "revoked" in r.message


def test_an_export_is_checked_with_rotations_and_revocations(acquired: Case) -> None:
    """verify_export (what verify-bundle uses) follows key rotations and flags revoked keys too."""
    from custody.exports import export_json
    from custody.verify import verify_export

    rotate_key(acquired, "jdoe")
    record_event(acquired, "move", "EX-001", actor="jdoe", location="shelf 2")
    assert verify_export(json.loads(export_json(acquired))).ok
    stolen = signing_keys(acquired, ["jdoe"])["jdoe"]
    revoke_key(acquired, "jdoe", by="asmith", reason="stolen")
    [late] = acquired.ledger.append(
        [Draft(kind="custody.move", actor="jdoe", exhibit="EX-001", data=_move("gone"))],
        {"jdoe": stolen},
        checkpoint_signer="jdoe",
    )
    report = verify_export(json.loads(export_json(acquired)))
    assert [(p.code, p.seq) for p in report.problems] == [("KEY_REVOKED", late.seq)]
