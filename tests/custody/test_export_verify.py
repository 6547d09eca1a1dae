"""custody.verify.verify_export and custody.proofs.consistency_proofs: the checks of a ledger that
need no database (what ``exhibit verify-bundle`` runs on the bundle's export), on SQLite and
PostgreSQL.

The export of an untouched case verifies with the same result as the stored ledger; each kind of
change an attacker could make to the file (a body, a hash, a signature, an entry removed, two
entries swapped, a checkpoint changed, the case block) gives the problem code the stored ledger
would; and every consistency proof verifies with RFC 9162's algorithm against the earlier
checkpoints' roots, and fails for a wrong root.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from custody import merkle
from custody.case import Case
from custody.errors import LedgerError
from custody.events import record_event
from custody.exports import export_json
from custody.items import acquire
from custody.proofs import consistency_proofs
from custody.verify import verify_case, verify_export


@pytest.fixture
def exported(case: Case, evidence: Path) -> dict[str, Any]:
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="a disk")
    record_event(case, "seal", "EX-001", actor="jdoe", seal="S-1")
    record_event(case, "transfer", "EX-001", actor="jdoe", receiver="asmith", reason="analysis")
    record_event(case, "unseal", "EX-001", actor="asmith", seal="S-1")
    assert verify_case(case).ok
    document: dict[str, Any] = json.loads(export_json(case))
    return document


def _codes(document: dict[str, Any]) -> set[str]:
    return {p.code for p in verify_export(document).problems}


def test_an_untouched_export_verifies(case: Case, exported: dict[str, Any]) -> None:
    report = verify_export(exported)
    stored = verify_case(case)
    assert report.ok and report.entries == stored.entries == 6
    assert report.checkpoints == stored.checkpoints == len(exported["checkpoints"])


def test_every_change_to_the_export_is_a_problem(exported: dict[str, Any]) -> None:
    changes: list[tuple[str, Any]] = []

    def body(d: dict[str, Any]) -> None:
        d["entries"][3]["body"]["data"]["seal"] = "S-2"

    def entry_hash(d: dict[str, Any]) -> None:
        d["entries"][2]["entry_hash"] = "0" * 64

    def signature(d: dict[str, Any]) -> None:
        sig = d["entries"][4]["signatures"][1]["sig"]
        d["entries"][4]["signatures"][1]["sig"] = ("1" if sig[0] != "1" else "2") + sig[1:]

    def removed(d: dict[str, Any]) -> None:
        del d["entries"][3]

    def swapped(d: dict[str, Any]) -> None:
        d["entries"][3], d["entries"][4] = d["entries"][4], d["entries"][3]

    def checkpoint(d: dict[str, Any]) -> None:
        d["checkpoints"][-1]["canonical"] = d["checkpoints"][-1]["canonical"].replace(
            '"tree_size":6', '"tree_size":5'
        )

    def case_block(d: dict[str, Any]) -> None:
        d["case"]["case_number"] = "2026/018"

    changes = [
        (body, "ENTRY_HASH_MISMATCH"),
        (entry_hash, "ENTRY_HASH_MISMATCH"),
        (signature, "SIGNATURE_INVALID"),
        (removed, "SEQ_GAP"),
        (swapped, "PREV_HASH_MISMATCH"),
        (checkpoint, "SIGNATURE_INVALID"),
        (case_block, "ENTRY_HASH_MISMATCH"),
    ]
    for change, code in changes:
        altered = copy.deepcopy(exported)
        change(altered)
        assert code in _codes(altered), change.__name__


def test_what_is_not_an_export_is_refused(exported: dict[str, Any]) -> None:
    for bad in ([], {"format": "something else"}, {**exported, "entries": "x"}, {**exported, "case": {}}):
        with pytest.raises(LedgerError, match="not an Exhibit ledger export"):
            verify_export(bad)
    odd = copy.deepcopy(exported)
    odd["entries"][2]["body"]["data"]["notes"] = 1.5  # not representable in RFC 8785 as signed
    odd["entries"].append("not an entry")
    assert "ENTRY_HASH_MISMATCH" in _codes(odd)


def test_consistency_proofs_verify_against_every_earlier_checkpoint(
    case: Case, exported: dict[str, Any]
) -> None:
    proofs = consistency_proofs(case)
    latest = json.loads(proofs["checkpoint_canonical"])
    assert proofs["ok"] and latest["tree_size"] == 6
    earlier = [json.loads(cp["canonical"]) for cp in exported["checkpoints"][:-1]]
    assert [(p["tree_size"], p["root"]) for p in proofs["proofs"]] == [
        (e["tree_size"], e["root"]) for e in earlier
    ]
    new_root = bytes.fromhex(latest["root"])
    for p in proofs["proofs"]:
        path = [bytes.fromhex(h) for h in p["consistency_path"]]
        merkle.verify_consistency(p["tree_size"], 6, bytes.fromhex(p["root"]), new_root, path)
        wrong = bytes.fromhex(p["root"][:-1] + ("0" if p["root"][-1] != "0" else "1"))
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(p["tree_size"], 6, wrong, new_root, path)
