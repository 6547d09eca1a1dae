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
