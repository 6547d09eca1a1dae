"""An independent verifier of Exhibit ledgers, written from docs/custody.md alone.

It deliberately imports nothing from ``custody`` except to *produce* test data (through the
command line, in a subprocess): the checks below use only json, hashlib, rfc8785 and
cryptography, so if the documentation and the implementation ever disagree, these tests fail.

What it checks, from ``exhibit custody export --format json``, a checkpoint file
(``exhibit custody checkpoint --out``) and the output of ``exhibit custody proof EX``:

* every entry hash (RFC 8785 canonical bytes, SHA-256), ``seq`` and the ``prev`` chain;
* every required signature over ``b"EXHIBIT-ENTRY-V1\\x00" || raw entry hash``: the actor's, and
  the receiver's on a transfer, with keys from self-signed ``actor.add`` entries;
* every checkpoint: signature over ``b"EXHIBIT-CHECKPOINT-V1\\x00" || SHA-256(canonical)`` and its
  root against the RFC 9162 Merkle tree head of the first ``tree_size`` entries;
* an outside checkpoint file: signature, key, and that the export extends it;
* inclusion proofs: RFC 9162 section 2.1.3.2 against the signed checkpoint root.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
ENTRY_TAG = b"EXHIBIT-ENTRY-V1\x00"
CHECKPOINT_TAG = b"EXHIBIT-CHECKPOINT-V1\x00"

# ----------------------------------------------------------------------------- the verifier


def canonical(value: Any) -> bytes:
    return bytes(rfc8785.dumps(value))


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_head(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) as RFC 9162 section 2.1.1 defines it, by its recursive definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(tree_head(leaves[:k]), tree_head(leaves[k:]))


def signature_ok(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def inclusion_ok(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size or len(leaf) != 32 or any(len(p) != 32 for p in path):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and fn % 2 == 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


class Verifier:
    """Checks one export; ``problems`` lists everything wrong (empty: the export verifies)."""

    def __init__(self, export: dict[str, Any]) -> None:
        self.problems: list[str] = []
        self.keys: dict[str, str] = {}  # actor ID -> public key hex, first registration wins
        self.leaves: list[bytes] = []
        self.canonical_by_seq: dict[int, bytes] = {}
        if export.get("format") != "exhibit-ledger-export/1":
            self.fail(None, f"unknown export format {export.get('format')!r}")
        self.ledger_id = export["case"]["ledger_id"]
        self.case_number = export["case"]["case_number"]
        self._entries(export["entries"])
        self._checkpoints(export["checkpoints"])

    def fail(self, seq: int | None, what: str) -> None:
        self.problems.append(f"entry {seq}: {what}" if seq is not None else what)

    def _entries(self, entries: list[dict[str, Any]]) -> None:
        prev = GENESIS
        for position, entry in enumerate(entries, 1):
            body = entry["body"]
            raw = canonical(body)
            digest = hashlib.sha256(raw).hexdigest()
            seq = entry.get("seq")
            if seq != position or body.get("seq") != position:
                self.fail(seq, f"expected seq {position}, found {seq} (body says {body.get('seq')})")
            if digest != entry.get("entry_hash"):
                self.fail(seq, "entry_hash is not SHA-256 of the canonical body")
            if body.get("v") != 1:
                self.fail(seq, f"unknown entry version {body.get('v')!r}")
            if body.get("ledger") != self.ledger_id or body.get("case") != self.case_number:
                self.fail(seq, "entry of another ledger or case")
            if body.get("prev") != prev:
                self.fail(seq, "prev does not link to the previous entry")
            prev = digest
            self._signatures(seq, body, digest, entry.get("signatures") or [])
            data = body.get("data") or {}
            if body.get("kind") == "actor.add":
                self.keys.setdefault(str(data.get("id")), str(data.get("public_key")))
            self.leaves.append(leaf_hash(raw))
            self.canonical_by_seq[position] = raw

    def _signatures(self, seq: int | None, body: dict[str, Any], digest: str, sigs: list[Any]) -> None:
        actor = str(body.get("actor"))
        data = body.get("data") or {}
        keys = dict(self.keys)
        if body.get("kind") == "actor.add" and data.get("id") == actor and actor not in keys:
            keys[actor] = str(data.get("public_key"))  # self-registration
        required = [actor]
        if body.get("kind") == "custody.transfer":
            if not data.get("received_by"):
                self.fail(seq, "transfer without a receiver")
            else:
                required.append(str(data["received_by"]))
        given = {s.get("actor"): s.get("sig") for s in sigs if isinstance(s, dict)}
        message = ENTRY_TAG + bytes.fromhex(digest)
        for who in required:
            if who not in keys:
                self.fail(seq, f"{who!r} is not a registered actor here")
            elif who not in given:
                self.fail(seq, f"no signature by {who!r}")
            elif not signature_ok(keys[who], str(given[who]), message):
                self.fail(seq, f"signature of {who!r} does not verify")

    def _checkpoints(self, checkpoints: list[dict[str, Any]]) -> None:
        covered = 0
        for number, cp in enumerate(checkpoints, 1):
            size = self.checkpoint(cp["canonical"], cp["signature"], None, f"checkpoint {number}")
            covered = max(covered, size or 0)
        if covered != len(self.leaves):
            self.fail(None, f"the checkpoints cover {covered} entries, the export has {len(self.leaves)}")

    def checkpoint(self, text: str, signature: str, public_key: str | None, name: str) -> int | None:
        """Check one signed checkpoint against the entries; returns its tree size."""
        body = json.loads(text)
        if canonical(body) != text.encode("utf-8"):
            self.fail(None, f"{name}: not in canonical form")
        if body.get("format") != "exhibit-checkpoint/1":
            self.fail(None, f"{name}: unknown format {body.get('format')!r}")
        if body.get("ledger") != self.ledger_id or body.get("case") != self.case_number:
            self.fail(None, f"{name}: checkpoint of another ledger or case")
        registered = self.keys.get(body.get("signer"))
        if registered is None or (public_key is not None and public_key != registered):
            self.fail(None, f"{name}: signer {body.get('signer')!r} is not registered with that key")
        message = CHECKPOINT_TAG + hashlib.sha256(text.encode("utf-8")).digest()
        if not signature_ok(public_key or registered or "", signature, message):
            self.fail(None, f"{name}: signature does not verify")
        size = body.get("tree_size")
        if not isinstance(size, int) or size < 0 or size > len(self.leaves):
            self.fail(None, f"{name}: vouches for {size} entries, the export has {len(self.leaves)}")
            return None
        if tree_head(self.leaves[:size]).hex() != body.get("root"):
            self.fail(None, f"{name}: root differs from the tree head of the first {size} entries")
        return size

    def against_file(self, document: dict[str, Any]) -> None:
        """An outside checkpoint file: the export must extend what it vouched for."""
        if document.get("format") != "exhibit-checkpoint-file/1":
            self.fail(None, "checkpoint file: unknown format")
        self.checkpoint(
            document["checkpoint_canonical"],
            document["signature"],
            document["signer_public_key"],
            "checkpoint file",
        )

    def proofs(self, document: dict[str, Any]) -> None:
        """The output of ``exhibit custody proof EX``."""
        text = document["checkpoint_canonical"]
        size = self.checkpoint(text, document["checkpoint_signature"], None, "proof checkpoint")
        body = json.loads(text)
        root = bytes.fromhex(body["root"])
        if not document["proofs"]:
            self.fail(None, "no proofs")
        for proof in document["proofs"]:
            seq, raw = proof["seq"], proof["entry_canonical"].encode("utf-8")
            entry = json.loads(raw)
            if entry.get("seq") != seq or proof["leaf_index"] != seq - 1:
                self.fail(seq, "proof for the wrong position")
            if entry.get("exhibit") != document["exhibit"]:
                self.fail(seq, "proof of an entry about another exhibit")
            if self.canonical_by_seq.get(seq) != raw:
                self.fail(seq, "proof's entry differs from the exported entry")
            leaf = leaf_hash(raw)
            if leaf.hex() != proof["leaf_hash"]:
                self.fail(seq, "leaf_hash is not the leaf hash of the entry")
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            if size is None or not inclusion_ok(leaf, proof["leaf_index"], body["tree_size"], path, root):
                self.fail(seq, "inclusion proof does not lead to the checkpoint root")


# ----------------------------------------------------------------------------- a real case


def exhibit(env: dict[str, str], cwd: Path, *args: str, expect: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "custody.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == expect, (
        f"exhibit {' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def real_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A case built through the CLI; module-scoped because each command starts a Python process.

    The per-test autouse config fixture cannot reach a module fixture, so this one gives its
    processes their own EXHIBIT_CONFIG_DIR in the same way.
    """
    work = tmp_path_factory.mktemp("independent")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXHIBIT_")}
    env["EXHIBIT_CONFIG_DIR"] = str(work / "config")
    env["EXHIBIT_CASE"] = str(work / "case")
    env["EXHIBIT_ACTOR"] = "jdoe"
    (work / "note.txt").write_bytes(b"hello\n")
    (work / "docs" / "sub").mkdir(parents=True)
    (work / "docs" / "a.txt").write_bytes(b"a\n")
    (work / "docs" / "sub" / "b.txt").write_bytes(b"b\n")

    exhibit(env, work, "init", str(work / "case"), "--case-number", "2026/017", "--title", "Independent")
    exhibit(env, work, "actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer")
    exhibit(env, work, "actor", "add", "asmith", "--name", "Alan Smith", "--role", "examiner")
    exhibit(env, work, "acquire", "note.txt", "--exhibit", "EX-001", "--description", "A note")
    exhibit(env, work, "acquire", "docs", "--exhibit", "EX-002", "--description", "Documents")
    exhibit(env, work, "custody", "seal", "EX-001", "--seal", "S-1")
    exhibit(env, work, "custody", "transfer", "EX-001", "--to", "asmith", "--reason", "analysis")
    exhibit(env, work, "custody", "checkpoint", "--out", str(work / "checkpoint.json"))
    exhibit(env, work, "custody", "unseal", "EX-001", "--seal", "S-1", "--actor", "asmith")
    exhibit(env, work, "custody", "move", "EX-002", "--location", "Vault 3, shelf 2")
    exhibit(
        env, work, "custody", "correct", "EX-002", "--entry", "8", "--reason", "typo", "--location", "Shelf 4"
    )
    exhibit(env, work, "custody", "export", "--format", "json", "--out", str(work / "ledger.json"))
    proofs = exhibit(env, work, "custody", "proof", "EX-001")
    exhibit(env, work, "custody", "verify", "--against", str(work / "checkpoint.json"))
    return {
        "export": json.loads((work / "ledger.json").read_text(encoding="utf-8")),
        "checkpoint_file": json.loads((work / "checkpoint.json").read_text(encoding="utf-8")),
        "proofs": json.loads(proofs),
    }


@pytest.fixture
def case_data(real_case: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(real_case)  # each test may tamper with its own copy


def full_check(data: dict[str, Any]) -> list[str]:
    verifier = Verifier(data["export"])
    verifier.against_file(data["checkpoint_file"])
    verifier.proofs(data["proofs"])
    return verifier.problems


def entry(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in data["export"]["entries"] if e["body"]["kind"] == kind)


# ----------------------------------------------------------------------------- tests


def test_tree_head_matches_rfc_9162_shape() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(5)]
    a, b = node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3])
    assert tree_head(leaves) == node_hash(node_hash(a, b), leaves[4])
    assert tree_head([]) == hashlib.sha256(b"").digest()


def test_a_real_ledger_verifies_independently(case_data: dict[str, Any]) -> None:
    assert full_check(case_data) == []
    export = case_data["export"]
    assert [e["seq"] for e in export["entries"]] == list(range(1, 10))
    transfer = entry(case_data, "custody.transfer")
    assert [s["actor"] for s in transfer["signatures"]] == ["jdoe", "asmith"]
    assert case_data["checkpoint_file"]["checkpoint"]["tree_size"] == 6
    assert len(export["checkpoints"]) == 9  # one per command that recorded something
    assert [p["seq"] for p in case_data["proofs"]["proofs"]] == [3, 5, 6, 7]


def test_worked_example_relations_in_the_docs_hold(case_data: dict[str, Any]) -> None:
    """The byte layouts stated in docs/custody.md: 49-byte entry and 54-byte checkpoint messages."""
    first = case_data["export"]["entries"][0]
    message = ENTRY_TAG + bytes.fromhex(first["entry_hash"])
    assert len(message) == 49 and ENTRY_TAG.hex() == "455848494249542d454e5452592d563100"
    assert len(CHECKPOINT_TAG) + 32 == 54
    assert CHECKPOINT_TAG.hex() == "455848494249542d434845434b504f494e542d563100"
    assert first["body"]["prev"] == GENESIS
    assert first["body"]["data"]["public_key"] == case_data["checkpoint_file"]["signer_public_key"]


def test_rejects_an_edited_field(case_data: dict[str, Any]) -> None:
    entry(case_data, "custody.move")["body"]["data"]["location"] = "Vault 9"
    problems = full_check(case_data)
    assert any("entry_hash is not SHA-256" in p for p in problems)


def test_rejects_an_edited_field_with_recomputed_hashes(case_data: dict[str, Any]) -> None:
    """Recompute the edited entry's hash and every later prev/hash: the signatures still fail."""
    entries = case_data["export"]["entries"]
    entries[2]["body"]["data"]["description"] = "A different note"
    prev = entries[1]["entry_hash"]
    for e in entries[2:]:
        e["body"]["prev"] = prev
        e["entry_hash"] = prev = hashlib.sha256(canonical(e["body"])).hexdigest()
    problems = Verifier(case_data["export"]).problems
    assert not any("entry_hash" in p or "prev" in p for p in problems)
    assert sum("does not verify" in p for p in problems) >= len(entries) - 2
    assert any("root differs" in p for p in problems)


def test_rejects_a_dropped_entry(case_data: dict[str, Any]) -> None:
    del case_data["export"]["entries"][4]
    problems = full_check(case_data)
    assert any("expected seq 5" in p for p in problems)
    assert any("prev does not link" in p for p in problems)


def test_rejects_a_dropped_tail_only_against_the_outside_checkpoint(case_data: dict[str, Any]) -> None:
    """Cut the tail and its checkpoints: consistent in itself, but the kept checkpoint file says no."""
    export = case_data["export"]
    export["entries"] = export["entries"][:5]
    export["checkpoints"] = [c for c in export["checkpoints"] if json.loads(c["canonical"])["tree_size"] <= 5]
    verifier = Verifier(export)
    assert verifier.problems == []
    verifier.against_file(case_data["checkpoint_file"])
    assert any("vouches for 6 entries" in p for p in verifier.problems)


def test_rejects_a_flipped_signature_bit(case_data: dict[str, Any]) -> None:
    transfer = entry(case_data, "custody.transfer")
    cosignature = transfer["signatures"][1]
    assert cosignature["actor"] == "asmith"
    sig = bytearray(bytes.fromhex(cosignature["sig"]))
    sig[10] ^= 0x01
    cosignature["sig"] = sig.hex()
    problems = full_check(case_data)
    assert any("signature of 'asmith' does not verify" in p for p in problems)


def test_rejects_a_transfer_without_the_receivers_signature(case_data: dict[str, Any]) -> None:
    transfer = entry(case_data, "custody.transfer")
    transfer["signatures"] = transfer["signatures"][:1]
    assert any("no signature by 'asmith'" in p for p in full_check(case_data))


def test_rejects_a_forged_checkpoint(case_data: dict[str, Any]) -> None:
    last = case_data["export"]["checkpoints"][-1]
    body = json.loads(last["canonical"])
    body["root"] = "00" * 32
    last["canonical"] = canonical(body).decode("utf-8")
    problems = Verifier(case_data["export"]).problems
    assert any("signature does not verify" in p for p in problems)
    assert any("root differs" in p for p in problems)


def test_rejects_corrupted_inclusion_proofs(case_data: dict[str, Any]) -> None:
    base = case_data["proofs"]
    for damage in ("flip", "off_by_one", "extra", "missing", "empty"):
        proofs = copy.deepcopy(base)
        proof = proofs["proofs"][-1]
        path = proof["audit_path"]
        if damage == "flip":
            element = bytearray(bytes.fromhex(path[0]))
            element[0] ^= 0x80
            path[0] = element.hex()
        elif damage == "off_by_one":
            proof["leaf_index"] += 1
        elif damage == "extra":
            path.append(path[-1])
        elif damage == "missing":
            path.pop()
        else:
            proof["audit_path"] = []
        verifier = Verifier(case_data["export"])
        verifier.proofs(proofs)
        assert verifier.problems, f"a proof damaged by {damage} was accepted"
