"""Inclusion proofs: evidence that an exhibit's entries are in the tree a checkpoint signed.

A prosecutor can hand these to a defence expert with the checkpoint: the expert recomputes
the root from each entry and its audit path without needing the rest of the ledger.
"""

from __future__ import annotations

import json
from typing import Any

from custody import merkle
from custody.case import Case
from custody.errors import CheckpointError, ItemError


def inclusion_proofs(case: Case, exhibit: str) -> dict[str, Any]:
    cp = case.ledger.latest_checkpoint()
    if cp is None:
        raise CheckpointError("the ledger has no checkpoint yet", hint="record something first")
    leaves = case.ledger.leaf_hashes(cp.tree_size)
    root = bytes.fromhex(cp.root)
    proofs = []
    for entry in case.ledger.entries(exhibit=exhibit):
        if entry.seq > cp.tree_size:
            continue
        index = entry.seq - 1
        path = merkle.inclusion_proof(leaves, index)
        leaf = merkle.leaf_hash(entry.body.encode("utf-8"))
        try:
            merkle.verify_inclusion(leaf, index, cp.tree_size, path, root)
            verified = True
        except merkle.ProofError:
            verified = False
        proofs.append(
            {
                "seq": entry.seq,
                "kind": entry.kind,
                "leaf_index": index,
                "leaf_hash": leaf.hex(),
                "entry_canonical": entry.body,
                "audit_path": [h.hex() for h in path],
                "verified": verified,
            }
        )
    if not proofs:
        raise ItemError(f"no entries about exhibit {exhibit!r}", hint="'exhibit items' lists the exhibits")
    from custody.actors import get_actor
    from custody.keys import verify_signature
    from custody.ledger import checkpoint_message

    signer = get_actor(case, cp.signer)
    signed = verify_signature(signer.public_key, cp.signature, checkpoint_message(cp.body.encode("utf-8")))
    return {
        "exhibit": exhibit,
        "checkpoint": json.loads(cp.body),
        "signer_public_key": signer.public_key,
        "checkpoint_signature_valid": signed,
        "checkpoint_canonical": cp.body,
        "checkpoint_signature": cp.signature,
        "proofs": proofs,
        "ok": signed and all(p["verified"] for p in proofs),
    }


CONSISTENCY_FORMAT = "exhibit-consistency-proofs/1"


def consistency_proofs(case: Case) -> dict[str, Any]:
    """RFC 9162 consistency proofs from every earlier checkpoint of the case to the latest.

    Whoever kept an earlier checkpoint (its size and root) can check with its proof alone that
    the latest checkpoint's tree extends it: nothing it vouched for was altered or removed
    (docs/custody.md, "Consistency proofs").
    """
    checkpoints = case.ledger.checkpoints()
    if not checkpoints:
        raise CheckpointError("the ledger has no checkpoint yet", hint="record something first")
    latest = checkpoints[-1]
    tree = merkle.MerkleTree(case.ledger.leaf_hashes(latest.tree_size))
    new_root = bytes.fromhex(latest.root)
    proofs = []
    for cp in checkpoints[:-1]:
        if not 0 < cp.tree_size < latest.tree_size:
            continue  # not an earlier tree (only a damaged ledger has such a checkpoint)
        path = tree.consistency_proof(cp.tree_size, latest.tree_size)
        try:
            merkle.verify_consistency(cp.tree_size, latest.tree_size, bytes.fromhex(cp.root), new_root, path)
            verified = True
        except (merkle.ProofError, ValueError):
            verified = False
        proofs.append(
            {
                "tree_size": cp.tree_size,
                "root": cp.root,
                "checkpoint_canonical": cp.body,
                "checkpoint_signature": cp.signature,
                "consistency_path": [h.hex() for h in path],
                "verified": verified,
            }
        )
    return {
        "format": CONSISTENCY_FORMAT,
        "checkpoint": json.loads(latest.body),
        "checkpoint_canonical": latest.body,
        "checkpoint_signature": latest.signature,
        "proofs": proofs,
        "ok": all(p["verified"] for p in proofs),
    }
