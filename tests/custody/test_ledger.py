"""The ledger on real databases: appends, signatures, custody events, guards, proofs, exports."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from custody import merkle
from custody.actors import add_actor, list_actors
from custody.case import Case, find_case_dir, open_case
from custody.cli import custody_app
from custody.errors import ActorError, CaseNotFound, ItemError
from custody.events import EVENTS, record_event
from custody.exports import export_csv, export_json
from custody.items import acquire, get_item, list_items, record_derived
from custody.keys import key_path, load_private_key
from custody.proofs import inclusion_proofs
from custody.verify import export_checkpoint, verify_case


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_actor_keys_are_private_and_recorded(case: Case) -> None:
    path = key_path("jdoe")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    public = {a.id: a.public_key for a in list_actors(case)}
    key = load_private_key("jdoe")
    from custody.keys import public_hex

    assert public["jdoe"] == public_hex(key)
    with pytest.raises(ActorError, match="already registered"):
        add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer")


def test_passphrase_protected_key(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    add_actor(case, "pfox", name="Pat Fox", role="prosecutor", passphrase="correct horse")
    assert b"ENCRYPTED" in key_path("pfox").read_bytes()
    with pytest.raises(ActorError, match="passphrase"):
        load_private_key("pfox")
    monkeypatch.setenv("EXHIBIT_KEY_PASSPHRASE", "wrong")
    with pytest.raises(ActorError, match="wrong passphrase"):
        load_private_key("pfox")
    monkeypatch.setenv("EXHIBIT_KEY_PASSPHRASE", "correct horse")
    load_private_key("pfox")


def test_acquire_records_hashes_and_leaves_evidence_untouched(case: Case, evidence: Path) -> None:
    before = fingerprint(evidence)
    item, entry = acquire(
        case,
        evidence,
        exhibit="EX-001",
        actor="jdoe",
        description="USB stick",
        serial="SN1",
        location="Lab 2",
    )
    assert fingerprint(evidence) == before
    data = evidence.read_bytes()
    assert item.hashes == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    body = json.loads(entry.body)
    assert body["recorded"]["utc"].endswith("Z") and body["recorded"]["offset"][0] in "+-"
    assert body["data"]["identifiers"]["serial"] == "SN1"
    assert get_item(case, "EX-001").hashes == item.hashes
    with pytest.raises(ItemError, match="already exists"):
        acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="again")
    assert verify_case(case, rehash=True).ok


def test_custody_events_and_log(case: Case, evidence: Path) -> None:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    record_event(case, "seal", "EX-001", actor="jdoe", seal="S-1", location="Store B")
    record_event(
        case, "transfer", "EX-001", actor="jdoe", receiver="asmith", reason="analysis", authority="W-118"
    )
    record_event(case, "unseal", "EX-001", actor="asmith", seal="S-1")
    record_event(case, "check-out", "EX-001", actor="asmith", reason="imaging")
    record_event(case, "check-in", "EX-001", actor="asmith", condition="intact")
    record_event(case, "move", "EX-001", actor="asmith", location="Vault 3")
    record_event(case, "correct", "EX-001", actor="asmith", corrects=9, reason="shelf", location="Vault 4")
    record_event(case, "examine", "EX-001", actor="asmith", at="2026-01-02T10:00:00+01:00")
    kinds = [e.kind for e in case.ledger.entries(exhibit="EX-001")]
    assert kinds == [
        "item.acquire",
        "custody.seal",
        "custody.transfer",
        "custody.unseal",
        "custody.check-out",
        "custody.check-in",
        "custody.move",
        "custody.correct",
        "custody.examine",
    ]
    transfer = next(case.ledger.entries(exhibit="EX-001", kinds=["custody.transfer"]))
    assert {s["actor"] for s in transfer.signatures} == {"jdoe", "asmith"}
    examine = next(case.ledger.entries(exhibit="EX-001", kinds=["custody.examine"]))
    assert examine.data["occurred"] == {"utc": "2026-01-02T09:00:00.000000Z", "offset": "+01:00"}
    report = verify_case(case)
    assert report.ok, report.problems
    with pytest.raises(ItemError, match="needs --to"):
        record_event(case, "transfer", "EX-001", actor="jdoe")
    for event, spec in EVENTS.items():  # each missing field is named by the option that gives it
        options = {o for p in typer.main.get_command(custody_app).commands[event].params for o in p.opts}
        for needed in spec.requires:
            with pytest.raises(ItemError, match="needs --") as refused:
                record_event(
                    case, event, "EX-001", actor="jdoe", **{f: "x" for f in spec.requires if f != needed}
                )
            named = refused.value.args[0].split("needs ", 1)[1]
            assert named in options and named in str(refused.value.hint), (event, needed, named)
    with pytest.raises(ItemError, match="does not exist"):
        record_event(case, "correct", "EX-001", actor="jdoe", corrects=999, reason="x")
    with pytest.raises(ItemError, match="no exhibit"):
        record_event(case, "move", "EX-404", actor="jdoe", location="x")
    exported = json.loads(export_json(case))
    assert [i["exhibit"] for i in exported["items"]] == ["EX-001"]
    assert len(exported["entries"]) == case.ledger.count()
    assert export_csv(case).count("\n") == case.ledger.count() + 1


def test_custody_logic_problems(case: Case, evidence: Path) -> None:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    record_event(case, "seal", "EX-001", actor="jdoe", seal="S-1")
    record_event(case, "unseal", "EX-001", actor="jdoe", seal="S-2")
    record_event(case, "check-out", "EX-001", actor="jdoe")
    record_event(case, "check-out", "EX-001", actor="asmith")
    record_event(case, "examine", "EX-001", actor="asmith", at="2099-01-01T00:00:00+00:00")
    codes = [(p.code, p.seq) for p in verify_case(case).problems]
    assert ("SEAL_MISMATCH", 5) in codes
    assert ("CUSTODY_GAP", 7) in codes
    assert ("CLOCK_ANOMALY", 8) in codes


def test_derived_items_are_one_batch(case: Case, evidence: Path) -> None:
    item, _ = acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    before = len(case.ledger.checkpoints())
    derived = [
        {
            "path": f"/f{i}",
            "inode": i,
            "partition": 0,
            "hashes": {"sha256": "0" * 64},
            "run": "r1",
            "parent_sha256": item.hashes["sha256"],
        }
        for i in range(500)
    ]
    stored = record_derived(case, "EX-001", derived, actor="asmith")
    assert len(stored) == 500
    assert len(case.ledger.checkpoints()) == before + 1  # one append, one checkpoint
    assert verify_case(case).ok


def test_inclusion_proofs_verify_independently(case: Case, evidence: Path) -> None:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    record_event(case, "move", "EX-001", actor="jdoe", location="Vault")
    result = inclusion_proofs(case, "EX-001")
    assert result["ok"] and len(result["proofs"]) == 2
    root = bytes.fromhex(result["checkpoint"]["root"])
    for proof in result["proofs"]:
        leaf = merkle.leaf_hash(proof["entry_canonical"].encode())
        merkle.verify_inclusion(
            leaf,
            proof["leaf_index"],
            result["checkpoint"]["tree_size"],
            [bytes.fromhex(h) for h in proof["audit_path"]],
            root,
        )
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(
                leaf,
                proof["leaf_index"] + 1,
                result["checkpoint"]["tree_size"],
                [bytes.fromhex(h) for h in proof["audit_path"]],
                root,
            )


def test_checkpoint_file_and_consistency(case: Case, evidence: Path, tmp_path: Path) -> None:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    saved = tmp_path / "cp.json"
    saved.write_text(json.dumps(export_checkpoint(case)))
    record_event(case, "move", "EX-001", actor="jdoe", location="Vault")
    assert verify_case(case, against=saved).ok


def test_guards_reject_update_and_delete(case: Case) -> None:
    for statement in (
        "UPDATE entries SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 2",
        "DELETE FROM checkpoints",
        "UPDATE case_info SET title = 'x'",
    ):
        with pytest.raises(DBAPIError), case.engine.begin() as conn:
            conn.execute(text(statement))
    assert case.ledger.count() == 2


@pytest.mark.postgres
def test_postgres_writer_role_may_only_insert_and_select(tmp_path: Path, pg_database: str) -> None:
    from custody.case import init_case

    c = init_case(tmp_path / "pg", case_number="1", title="t", db_url=pg_database)
    try:
        add_actor(c, "jdoe", name="Jane Doe", role="evidence-officer")
        with c.engine.begin() as conn:
            conn.execute(text("SET LOCAL ROLE exhibit_writer"))
            assert conn.execute(text("SELECT count(*) FROM entries")).scalar() == 1
        for statement in ("UPDATE entries SET actor = 'x'", "DELETE FROM entries", "TRUNCATE entries"):
            with pytest.raises(DBAPIError, match="permission denied"), c.engine.begin() as conn:
                conn.execute(text("SET LOCAL ROLE exhibit_writer"))
                conn.execute(text(statement))
    finally:
        c.close()


def test_case_is_found_like_git(case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sub = case.root / "notes" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert find_case_dir() == case.root
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXHIBIT_CASE", str(case.root))
    assert find_case_dir() == case.root
    monkeypatch.delenv("EXHIBIT_CASE")
    with pytest.raises(CaseNotFound):
        find_case_dir()
    with open_case(case.root) as again:
        assert again.identity == case.identity


def test_items_listing(case: Case, evidence: Path) -> None:
    acquire(case, evidence, exhibit="EX-002", actor="jdoe", description="b")
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="a")
    assert [i.exhibit for i in list_items(case)] == ["EX-002", "EX-001"]
    assert os.path.samefile(get_item(case, "EX-001").source_path, evidence)
