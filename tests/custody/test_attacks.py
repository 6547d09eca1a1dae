"""Attacks on the ledger and the evidence, done as an attacker would: plain SQL and file edits
that bypass the application. Each must be caught by ``verify`` with the right stable code."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody.case import Case
from custody.events import record_event
from custody.items import acquire
from custody.ledger import canonical, entry_message
from custody.verify import Report, export_checkpoint, verify_case
from tests.conftest import need_tool
from tests.custody.conftest import tamper


def codes(report: Report) -> set[tuple[str, int | None]]:
    return {(p.code, p.seq) for p in report.problems}


@pytest.fixture
def history(case: Case, evidence: Path) -> Case:
    """Entries: 1-2 actors, 3 acquire EX-001, 4 seal, 5 move, 6 check-out, 7 check-in, 8 move."""
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk", location="Lab 2")
    record_event(case, "seal", "EX-001", actor="jdoe", seal="S-1")
    record_event(case, "move", "EX-001", actor="jdoe", location="Store B")
    record_event(case, "check-out", "EX-001", actor="asmith", reason="imaging")
    record_event(case, "check-in", "EX-001", actor="asmith")
    record_event(case, "move", "EX-001", actor="jdoe", location="Vault 3")
    assert verify_case(case).ok
    return case


def body_of(case: Case, seq: int) -> str:
    return next(e.body for e in case.ledger.entries() if e.seq == seq)


def test_edit_a_field(history: Case) -> None:
    tamper(history, "UPDATE entries SET body = replace(body, 'Store B', 'Store C') WHERE seq = 5")
    assert ("ENTRY_HASH_MISMATCH", 5) in codes(verify_case(history))


def test_edit_an_indexed_column_only(history: Case) -> None:
    tamper(history, "UPDATE entries SET actor = 'asmith' WHERE seq = 5")
    assert ("ENTRY_HASH_MISMATCH", 5) in codes(verify_case(history))


def test_edit_and_recompute_the_entry_hash(history: Case) -> None:
    new_body = body_of(history, 5).replace("Store B", "Store C")
    new_hash = hashlib.sha256(new_body.encode()).hexdigest()
    tamper(history, "UPDATE entries SET body = %s, entry_hash = %s WHERE seq = 5", (new_body, new_hash))
    found = codes(verify_case(history))
    assert ("SIGNATURE_INVALID", 5) in found
    assert ("PREV_HASH_MISMATCH", 6) in found
    assert any(code == "ROOT_MISMATCH" for code, _ in found)


def test_recompute_whole_suffix_without_the_key(history: Case) -> None:
    """Re-chain every later entry (hashes and prev links) but sign with a key not registered."""
    forger = Ed25519PrivateKey.generate()
    prev = None
    for entry in list(history.ledger.entries()):
        if entry.seq < 5:
            prev = entry.entry_hash
            continue
        body = json.loads(entry.body)
        body["prev"] = prev
        if entry.seq == 5:
            body["data"]["location"] = "Store C"
        raw = canonical(body)
        digest = hashlib.sha256(raw).hexdigest()
        sigs = json.dumps([{"actor": entry.actor, "sig": forger.sign(entry_message(digest)).hex()}])
        tamper(
            history,
            "UPDATE entries SET body = %s, entry_hash = %s, prev_hash = %s, signatures = %s WHERE seq = %s",
            (raw.decode(), digest, "f" * 63 + str(entry.seq % 10), sigs, entry.seq),
        )
        tamper(history, "UPDATE entries SET prev_hash = %s WHERE seq = %s", (prev, entry.seq))
        prev = digest
    found = codes(verify_case(history))
    assert {("SIGNATURE_INVALID", s) for s in range(5, 9)} <= found
    assert not any(code == "PREV_HASH_MISMATCH" for code, _ in found)
    assert any(code == "ROOT_MISMATCH" for code, _ in found)


def test_delete_a_middle_entry(history: Case) -> None:
    tamper(history, "DELETE FROM entries WHERE seq = 5")
    found = codes(verify_case(history))
    assert ("SEQ_GAP", 6) in found and ("PREV_HASH_MISMATCH", 6) in found


def test_swap_two_entries(history: Case) -> None:
    rows = {e.seq: e for e in history.ledger.entries() if e.seq in (5, 6)}
    tamper(history, "DELETE FROM entries WHERE seq IN (5, 6)")
    for new_seq, old in ((5, rows[6]), (6, rows[5])):
        tamper(
            history,
            "INSERT INTO entries (seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, signatures) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                new_seq,
                old.entry_hash,
                old.prev_hash,
                old.kind,
                old.exhibit,
                old.actor,
                old.recorded_utc,
                old.body,
                json.dumps(old.signatures),
            ),
        )
    found = codes(verify_case(history))
    assert ("SEQ_GAP", 5) in found
    assert ("PREV_HASH_MISMATCH", 5) in found


def test_insert_a_forged_entry(history: Case) -> None:
    last = list(history.ledger.entries())[-1]
    forger = Ed25519PrivateKey.generate()
    for actor, expected in (("mallory", "UNKNOWN_SIGNER"), ("jdoe", "SIGNATURE_INVALID")):
        body = json.loads(last.body)
        body.update(seq=last.seq + 1, prev=last.entry_hash, actor=actor, kind="custody.dispose")
        raw = canonical(body)
        digest = hashlib.sha256(raw).hexdigest()
        sig = json.dumps([{"actor": actor, "sig": forger.sign(entry_message(digest)).hex()}])
        tamper(history, "DELETE FROM entries WHERE seq = %s", (last.seq + 1,))
        tamper(
            history,
            "INSERT INTO entries (seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, signatures) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                last.seq + 1,
                digest,
                last.entry_hash,
                "custody.dispose",
                "EX-001",
                actor,
                last.recorded_utc,
                raw.decode(),
                sig,
            ),
        )
        found = codes(verify_case(history))
        assert (expected, last.seq + 1) in found
        assert ("ROOT_MISMATCH", last.seq + 1) in found  # no checkpoint covers it


def test_insert_in_the_middle(history: Case) -> None:
    tamper(history, "DELETE FROM entries WHERE seq >= 6")
    found = codes(verify_case(history))
    assert any(code == "TRUNCATED" for code, _ in found)  # stored checkpoints vouch for more


def test_truncate_tail_against_exported_checkpoint(history: Case, tmp_path: Path) -> None:
    saved = tmp_path / "checkpoint.json"
    saved.write_text(json.dumps(export_checkpoint(history)))
    tamper(history, "DELETE FROM entries WHERE seq >= 7")
    tamper(history, "DELETE FROM checkpoints WHERE tree_size >= 7")
    assert verify_case(history).ok  # the database alone now looks consistent ...
    assert any(
        code == "TRUNCATED" for code, _ in codes(verify_case(history, against=saved))
    )  # ... the file is not


def test_rewritten_history_is_inconsistent_with_checkpoint(history: Case, tmp_path: Path) -> None:
    saved = tmp_path / "checkpoint.json"
    saved.write_text(json.dumps(export_checkpoint(history)))
    tamper(history, "UPDATE entries SET body = replace(body, 'Store B', 'Store C') WHERE seq = 5")
    assert any(c == "INCONSISTENT_WITH_CHECKPOINT" for c, _ in codes(verify_case(history, against=saved)))


def test_equivocating_checkpoint(history: Case) -> None:
    cp = history.ledger.latest_checkpoint()
    assert cp is not None
    body = json.loads(cp.body)
    body["root"] = "ab" * 32
    tamper(
        history,
        "INSERT INTO checkpoints (tree_size, root, signer, body, signature, frontier) VALUES "
        "(%s, %s, %s, %s, %s, '[]')",
        (cp.tree_size, body["root"], cp.signer, canonical(body).decode(), cp.signature),
    )
    found = codes(verify_case(history))
    assert ("ROOT_MISMATCH", cp.tree_size) in found and ("SIGNATURE_INVALID", cp.tree_size) in found


def test_replace_evidence_file(history: Case, evidence: Path) -> None:
    evidence.chmod(0o644)
    data = bytearray(evidence.read_bytes())
    data[1000] ^= 0xFF
    evidence.write_bytes(bytes(data))
    assert verify_case(history).ok  # the ledger itself is intact
    found = verify_case(history, rehash=True)
    assert ("ITEM_HASH_MISMATCH", 3) in codes(found)
    detail = next(p.detail for p in found.problems if p.code == "ITEM_HASH_MISMATCH")
    assert "md5" in detail and "sha1" in detail and "sha256" in detail


def test_only_one_of_three_hashes_matches(history: Case) -> None:
    body = json.loads(body_of(history, 3))
    body["data"]["acquisition"]["hashes"]["sha1"] = "0" * 40
    body["data"]["acquisition"]["hashes"]["sha256"] = "0" * 64
    raw = canonical(body).decode()
    tamper(history, "UPDATE entries SET body = %s WHERE seq = 3", (raw,))
    report = verify_case(history, rehash=True)
    mismatch = [p for p in report.problems if p.code == "ITEM_HASH_MISMATCH"]
    assert mismatch and "sha1" in mismatch[0].detail and "sha256" in mismatch[0].detail
    assert "md5" not in mismatch[0].detail  # md5 matches, and matching one is not enough


def test_seal_number_mismatch_and_custody_gap(history: Case) -> None:
    record_event(history, "unseal", "EX-001", actor="jdoe", seal="S-9")
    record_event(history, "check-in", "EX-001", actor="jdoe")
    found = codes(verify_case(history))
    assert ("SEAL_MISMATCH", 9) in found and ("CUSTODY_GAP", 10) in found


def test_clock_going_backwards(history: Case) -> None:
    body = json.loads(body_of(history, 6))
    body["recorded"]["utc"] = "2001-01-01T00:00:00.000000Z"
    tamper(history, "UPDATE entries SET body = %s WHERE seq = 6", (canonical(body).decode(),))
    assert ("CLOCK_ANOMALY", 6) in codes(verify_case(history))


def test_derived_item_with_missing_parent(history: Case) -> None:
    from custody.items import record_derived

    record_derived(history, "EX-001", [{"path": "/a", "parent_sha256": "0" * 64}], actor="asmith")
    found = codes(verify_case(history))
    assert ("DERIVED_PARENT_MISMATCH", 9) in found


def make_e01(work: Path, name: str, case_number: str) -> Path:
    """An uncompressed E01 made by ewfacquire, so chunk bytes are the media bytes."""
    need_tool("ewfacquire")
    src = work / "src.raw"
    if not src.exists():
        src.write_bytes(bytes(range(256)) * 8192)
    subprocess.run(
        [
            "ewfacquire",
            "-u",
            "-t",
            str(work / name),
            "-c",
            "none",
            "-C",
            case_number,
            "-D",
            "test disk",
            "-e",
            "Examiner One",
            "-E",
            "EV-9",
            "-N",
            "notes",
            "-f",
            "encase6",
            str(src),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return work / f"{name}.E01"


@pytest.fixture
def e01_set(tmp_path: Path) -> Path:
    work = tmp_path / "e01"
    work.mkdir()
    return make_e01(work, "disk", "2026/017")


def test_flip_one_byte_inside_an_e01_chunk(case: Case, e01_set: Path) -> None:
    item, _ = acquire(case, e01_set, exhibit="EX-E01", actor="jdoe", description="E01")
    assert item.kind == "e01"
    assert item.data["acquisition"]["e01_hash_match"]["md5"] is True
    data = bytearray(e01_set.read_bytes())
    data[len(data) // 2] ^= 0x01
    e01_set.write_bytes(bytes(data))
    found = codes(verify_case(case, rehash=True))
    assert ("ITEM_HASH_MISMATCH", item.seq) in found
    assert ("E01_STORED_HASH_MISMATCH", item.seq) in found


def test_edit_e01_header(case: Case, e01_set: Path) -> None:
    """Same media, other header values (case number): only the header check can catch it."""
    item, _ = acquire(case, e01_set, exhibit="EX-E01", actor="jdoe", description="E01")
    assert item.data["acquisition"]["e01"]["headers"]["case_number"] == "2026/017"
    forged = make_e01(e01_set.parent, "forged", "2026/999")
    shutil.copy(forged, e01_set)
    report = verify_case(case, rehash=True)
    found = {p.code for p in report.problems}
    assert "E01_HEADER_MISMATCH" in found
    assert "ITEM_HASH_MISMATCH" not in found
    assert any("case_number" in p.detail for p in report.problems)


def test_release_by_someone_who_does_not_hold_it(history: Case) -> None:
    record_event(history, "transfer", "EX-001", actor="asmith", receiver="jdoe", reason="not theirs to give")
    assert ("CUSTODY_GAP", 9) in codes(verify_case(history))


def test_check_in_by_another_person(history: Case) -> None:
    record_event(history, "check-out", "EX-001", actor="jdoe")
    record_event(history, "check-in", "EX-001", actor="asmith")
    assert ("CUSTODY_GAP", 10) in codes(verify_case(history))


def test_registration_signed_by_someone_else(history: Case) -> None:
    """A key 'registered' in an entry signed by another actor gains no authority."""
    mallory = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    from custody.actors import signing_keys
    from custody.ledger import Draft

    public = (
        mallory.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    )
    keys = signing_keys(history, ["jdoe"])
    history.ledger.append(
        [
            Draft(
                kind="actor.add",
                actor="jdoe",
                data={"id": "mallory", "name": "M", "role": "examiner", "public_key": public},
            )
        ],
        keys,
        checkpoint_signer="jdoe",
    )
    assert ("UNKNOWN_SIGNER", 9) in codes(verify_case(history))


def test_signed_but_not_canonical_body(history: Case) -> None:
    """Re-serialised with spaces and re-signed with the real key: still rejected (not canonical)."""
    from custody.keys import load_private_key

    entry = next(e for e in history.ledger.entries() if e.seq == 8)
    text = json.dumps(json.loads(entry.body), indent=1)
    digest = hashlib.sha256(text.encode()).hexdigest()
    sig = json.dumps([{"actor": "jdoe", "sig": load_private_key("jdoe").sign(entry_message(digest)).hex()}])
    tamper(
        history,
        "UPDATE entries SET body = %s, entry_hash = %s, signatures = %s WHERE seq = 8",
        (text, digest, sig),
    )
    found = verify_case(history)
    assert any(p.code == "ENTRY_HASH_MISMATCH" and "canonical" in p.detail for p in found.problems)


@pytest.mark.parametrize(
    ("seq", "member", "value"),
    [
        (5, "recorded", "2026-01-01T00:00:00Z"),
        (5, "recorded", [1, 2]),
        (5, "data", "Store C"),
        (5, "data", ["Store C"]),
        (5, "exhibit", 7),
        (5, "signers", "jdoe"),
        (1, "data", "jdoe"),
        (6, "data", {"occurred": "yesterday", "reason": ["x"]}),
    ],
)
def test_a_body_of_the_wrong_shape_is_reported_not_a_crash(
    history: Case, seq: int, member: str, value: object
) -> None:
    """An attacker who rewrites a body with members of the wrong JSON type (found in review:
    ``"recorded": "..."`` raised AttributeError inside verify, an internal error) gets a report."""
    body = json.loads(body_of(history, seq))
    body[member] = value
    tamper(history, "UPDATE entries SET body = %s WHERE seq = %s", (canonical(body).decode(), seq))
    report = verify_case(history)
    assert not report.ok
    assert ("ENTRY_HASH_MISMATCH", seq) in codes(report), report.problems
