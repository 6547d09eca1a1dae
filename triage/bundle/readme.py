"""README.txt of a bundle: how to check each part by hand, with short Python scripts.

The scripts use only the Python standard library, plus the ``cryptography`` package for Ed25519
signatures (Debian: python3-cryptography). Each is printed between ``---- save as NAME ----`` and
``---- end of NAME ----`` lines, so it can be cut out as it is (tests/triage/test_bundle.py runs
them). The text depends only on the bundle's index and ledger export, so it is reproducible.
"""

from __future__ import annotations

import json
from typing import Any

from triage.bundle import layout

MERKLE = '''"""RFC 9162 Merkle tree over SHA-256 and Ed25519 signatures, as docs/custody.md specifies."""
import hashlib


def leaf(data):
    return hashlib.sha256(b"\\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\\x01" + left + right).digest()


def root(leaves):
    """MTH of a list of leaf hashes: split at the largest power of two below the count."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(root(leaves[:k]), root(leaves[k:]))


def signature_ok(public_key_hex, signature_hex, message):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
        return True
    except Exception:
        return False
'''

CHECK_LEDGER = '''"""Recompute every entry hash, the chain, every signature, the Merkle root and the checkpoint."""
import hashlib
import json
import sys

from merkle import leaf, root, signature_ok

export = json.load(open(sys.argv[1], encoding="utf-8"))
checkpoint = json.load(open(sys.argv[2], encoding="utf-8"))
keys, prev, leaves, bad = {}, "0" * 64, [], 0
for e in export["entries"]:
    body = e["body"]
    # RFC 8785 canonical form: for Exhibit's bodies (text, integers, true, false, null) it is this
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    entry_hash = hashlib.sha256(data).hexdigest()
    problems = []
    if entry_hash != e["entry_hash"]:
        problems.append("entry hash differs")
    if body["prev"] != prev or body["seq"] != len(leaves) + 1:
        problems.append("chain broken")
    if body["kind"] == "actor.add" and body["data"]["id"] == body["actor"]:
        keys.setdefault(body["actor"], body["data"]["public_key"])  # the first registration counts
    signers = [body["actor"]]
    if body["kind"] == "custody.transfer":
        signers.append(body["data"]["received_by"])
    signatures = {s["actor"]: s["sig"] for s in e["signatures"]}
    message = b"EXHIBIT-ENTRY-V1\\x00" + bytes.fromhex(entry_hash)
    for who in signers:
        if not signature_ok(keys.get(who, ""), signatures.get(who, ""), message):
            problems.append(f"signature of {who} does not verify")
    if body["kind"] == "actor.rotate" and keys.get(body["actor"]) == body["data"]["previous_key"]:
        # a new key for the actor from the next entry on, if the new key signed the rotation
        d = body["data"]
        claim = {"id": d["id"], "ledger": body["ledger"], "previous_key": d["previous_key"], "public_key": d["public_key"]}
        proof = b"EXHIBIT-KEY-ROTATE-V1\\x00" + json.dumps(claim, sort_keys=True, separators=(",", ":")).encode()
        if d["id"] == body["actor"] and signature_ok(d["public_key"], d["proof"], proof):
            keys[body["actor"]] = d["public_key"]
        else:
            problems.append("key rotation without a valid proof by the new key")
    print(f"entry {body['seq']:>5} {body['kind']:<17} {entry_hash} {'; '.join(problems) or 'OK'}")
    bad += len(problems)
    prev = entry_hash
    leaves.append(leaf(data))
head = json.loads(checkpoint["checkpoint_canonical"])
computed = root(leaves[: head["tree_size"]]).hex()
root_ok = computed == head["root"] and head["tree_size"] == len(leaves)
message = b"EXHIBIT-CHECKPOINT-V1\\x00" + hashlib.sha256(checkpoint["checkpoint_canonical"].encode()).digest()
signed = keys.get(head["signer"]) == checkpoint["signer_public_key"] and signature_ok(
    checkpoint["signer_public_key"], checkpoint["signature"], message
)
print(f"Merkle root of the {len(leaves)} entries: {computed}", "= checkpoint" if root_ok else "DIFFERS")
print(f"checkpoint signed by {head['signer']}:", "OK" if signed else "SIGNATURE INVALID or key not registered")
kept_ok = True
if len(sys.argv) > 3:  # a checkpoint file kept outside since: the ledger must extend it
    kept = json.loads(json.load(open(sys.argv[3], encoding="utf-8"))["checkpoint_canonical"])
    size = kept["tree_size"]
    kept_ok = size <= len(leaves) and root(leaves[:size]).hex() == kept["root"]
    print(
        f"Merkle root of the first {size} entries:",
        "= your kept checkpoint" if kept_ok else "DIFFERS from your kept checkpoint: cut short or rewritten",
    )
sys.exit(0 if bad == 0 and root_ok and signed and kept_ok else 1)
'''

CHECK_INCLUSION = '''"""Check one exhibit's inclusion proofs against the bundle's checkpoint (RFC 9162, 2.1.3.2)."""
import json
import sys

from merkle import leaf, node


def root_from_path(leaf_hash, index, size, path):
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


proofs = json.load(open(sys.argv[1], encoding="utf-8"))
kept = json.load(open(sys.argv[2], encoding="utf-8"))
head = json.loads(kept["checkpoint_canonical"])
good = proofs["checkpoint_canonical"] == kept["checkpoint_canonical"]
print("proofs against ledger/checkpoint.json" if good else "proofs against ANOTHER checkpoint")
for p in proofs["proofs"]:
    entry = json.loads(p["entry_canonical"])
    h = leaf(p["entry_canonical"].encode())
    path = [bytes.fromhex(x) for x in p["audit_path"]]
    ok = (
        entry["seq"] == p["seq"] == p["leaf_index"] + 1
        and entry["exhibit"] == proofs["exhibit"]
        and h.hex() == p["leaf_hash"]
        and root_from_path(h, p["leaf_index"], head["tree_size"], path) == bytes.fromhex(head["root"])
    )
    good = good and ok
    print(f"entry {p['seq']:>5} {entry['kind']:<17}", "included" if ok else "NOT PROVEN")
sys.exit(0 if good else 1)
'''

CHECK_CONSISTENCY = '''"""Check that the latest checkpoint's tree extends each earlier one (RFC 9162, 2.1.4.2)."""
import json
import sys

from merkle import node


def consistent(m, n, old_root, new_root, proof):
    if m == n:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m is a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


doc = json.load(open(sys.argv[1], encoding="utf-8"))
bundled = json.load(open(sys.argv[2], encoding="utf-8"))  # ledger/checkpoint.json, which check_ledger.py checked
latest = json.loads(doc["checkpoint_canonical"])
good = doc["checkpoint_canonical"] == bundled["checkpoint_canonical"]
print("proofs to ledger/checkpoint.json" if good else "proofs to ANOTHER checkpoint than ledger/checkpoint.json")
for p in doc["proofs"]:
    old = json.loads(p["checkpoint_canonical"])
    path = [bytes.fromhex(x) for x in p["consistency_path"]]
    ok = (old["tree_size"], old["root"]) == (p["tree_size"], p["root"]) and consistent(
        old["tree_size"], latest["tree_size"], bytes.fromhex(old["root"]), bytes.fromhex(latest["root"]), path
    )
    good = good and ok
    print(f"checkpoint of {old['tree_size']:>5} entries", "extended" if ok else "NOT EXTENDED", "by the latest")
sys.exit(0 if good else 1)
'''

DIGEST_ROOT = '''"""Recompute an exhibit's triage digest from its rows; compare it with the signed ledger entry."""
import json
import sys

from merkle import leaf, root

folder = sys.argv[1]
export = json.load(open(sys.argv[2], encoding="utf-8"))
anchor = json.load(open(f"{folder}/digest.json", encoding="utf-8"))
entry = next(e["body"] for e in export["entries"] if e["body"]["seq"] == anchor["seq"])
good = entry["exhibit"] == anchor["exhibit"]
for table, signed in sorted(entry["data"]["digest"]["tables"].items()):
    lines = open(f"{folder}/{table}.jsonl", "rb").read().split(b"\\n")[:-1]  # one row per line
    computed = root([leaf(line) for line in lines]).hex()
    ok = computed == signed["root"] and len(lines) == signed["rows"]
    good = good and ok
    print(f"{table:<16} {len(lines):>7} rows  root {computed}", "= signed" if ok else "DIFFERS")
sys.exit(0 if good else 1)
'''

SHOW_RECORDED = '''"""Print the hashes the signed entries record for one exhibit, to compare with the lists."""
import json
import sys

export = json.load(open(sys.argv[1], encoding="utf-8"))
for e in export["entries"]:
    body = e["body"]
    if body["exhibit"] != sys.argv[2]:
        continue
    if body["kind"] == "item.acquire":
        acq = body["data"]["acquisition"]
        print(f"entry {body['seq']}: {acq['kind']} {acq['source_path']}: {acq['hashes']}")
        for m in acq.get("members") or []:
            print(f"  sha256 {m['sha256']} md5 {m['md5']}  {m['path']}")
    elif body["kind"] == "item.export":
        for f in body["data"]["files"]:
            print(f"entry {body['seq']}: exported {f['sha256']}  {body['data']['to']}/{f['exported_as']}")
'''

SCRIPTS = {
    "merkle.py": MERKLE,
    "check_ledger.py": CHECK_LEDGER,
    "check_inclusion.py": CHECK_INCLUSION,
    "check_consistency.py": CHECK_CONSISTENCY,
    "digest_root.py": DIGEST_ROOT,
    "show_recorded.py": SHOW_RECORDED,
}


def _script(name: str) -> str:
    return f"---- save as {name} ----\n{SCRIPTS[name]}---- end of {name} ----\n"


def readme(index: dict[str, Any], ledger: dict[str, Any]) -> bytes:
    """The README of a bundle with this index (without its ``parts``) and ledger export."""
    bodies = [e["body"] for e in ledger["entries"]]
    case = ledger["case"]
    signer = json.loads(ledger["checkpoints"][-1]["canonical"])["signer"] if ledger["checkpoints"] else "?"
    lines = [
        f"Verification bundle of case {index['case']} ({case.get('title')})",
        "",
        f"Ledger {index['ledger']} as it stood at its checkpoint of {index['tree_size']} entries,",
        f"Merkle root {index['root']},",
        f"signed by {signer} at {index['time']['utc']} (UTC offset {index['time']['offset']}).",
        "The evidence itself is not in this bundle; its hashes are.",
        "",
        "'exhibit verify-bundle BUNDLE.zip' checks every part below and names any that fails. This",
        "file says how to check each part without Exhibit. You need unzip, GNU sha256sum and md5sum,",
        "and python3 with the 'cryptography' package for the Ed25519 signatures (Debian:",
        "python3-cryptography). Unzip the bundle into an empty folder and run every command below",
        "from that folder. The byte-level rules are in Exhibit's docs/custody.md.",
        "",
        "",
        "WHAT IS IN IT",
        "",
        f"  {layout.MANIFEST:<34} SHA-256 of every other file, for sha256sum -c",
        f"  {layout.INDEX:<34} the index: case, checkpoint, exhibits, reports, SHA-256 of the parts",
        f"  {layout.LEDGER:<34} the whole ledger: every signed entry and checkpoint",
        f"  {layout.CHECKPOINT:<34} the latest signed checkpoint (size and Merkle root)",
        f"  {layout.CONSISTENCY:<34} proofs that it extends every earlier checkpoint",
        "  exhibits/EX/proofs.json            inclusion proofs of every entry about the exhibit",
        "  exhibits/EX/evidence.sha256, .md5  the evidence's hashes as acquired",
        "  exhibits/EX/exports.sha256         the files exported from it, as written",
        "  exhibits/EX/digest.json            the ledger entry whose digest covers the rows below",
        "  exhibits/EX/triage_*.jsonl         triage's stored files, findings and warnings",
        "  reports/                           the reports given",
        "",
        "Exhibits (EX is the exhibit number, with characters other than letters, digits, '.', '_'",
        "and '-' written %XX):",
        "",
    ]
    for ex in index["exhibits"]:
        acquire = next(layout.about(bodies, ex["exhibit"], layout.ACQUIRE_KIND))
        acq = acquire["data"]["acquisition"]
        anchor = f"triage digest in entry {ex['anchor']}" if ex["anchor"] is not None else "not triaged"
        exports = (
            f"exported in entries {', '.join(map(str, ex['exports']))}" if ex["exports"] else "no export"
        )
        lines += [
            f"  {ex['folder']}: exhibit {ex['exhibit']}, {acq.get('kind')}, acquired in entry {ex['acquired']}",
            f"      from {acq.get('source_path')}; {anchor}; {exports}",
        ]
    lines += [
        "",
        "",
        "1. NOTHING DAMAGED IN TRANSIT: MANIFEST",
        "",
        "    $ sha256sum -c MANIFEST",
        "",
        "Every line must end in OK. MANIFEST (and the same list in bundle.json) only shows that the",
        "files are those written into the bundle: whoever changes a part can change both lists. What",
        "shows that the parts are true are the signatures and hashes checked in steps 3 to 6.",
        "",
        "",
        "2. THE EVIDENCE AND THE EXPORTED FILES",
        "",
        "Each exhibit's evidence.sha256 (and evidence.md5) lists the evidence as it was acquired: the",
        "file or image at the path it was acquired from, or, for a folder, every file in it. On a",
        "computer where the evidence is at that path:",
        "",
        "    $ sha256sum -c exhibits/EX/evidence.sha256",
        "    $ md5sum -c exhibits/EX/evidence.md5",
        "    $ sha256sum -c exhibits/EX/exports.sha256     (the exported copies, where they were written)",
        "",
        "If the evidence is elsewhere now, change the path at the start of each line (sed) or cd to",
        "the new place and remove the old prefix. A line ending in '  -' is the hash of a stream",
        "that no single file holds: a split raw image (hash its segments in order,",
        "'cat IMAGE.001 IMAGE.002 ... | sha256sum -c exhibits/EX/evidence.sha256') or an E01 (the",
        "media data, 'ewfexport -u -t - IMAGE.E01 | sha256sum -c exhibits/EX/evidence.sha256').",
        "A file of a folder that could not be read at acquisition has no line.",
        "",
        "These values must be those of the signed entries (step 3 checks the signatures). To see",
        "what the ledger records for an exhibit (its item.acquire and item.export entries):",
        "",
        _script("show_recorded.py"),
        "    $ python3 show_recorded.py ledger/ledger.json EX-NUMBER",
        "",
        "",
        "3. THE LEDGER: ENTRY HASHES, CHAIN, SIGNATURES, MERKLE ROOT, CHECKPOINT",
        "",
        "Every entry's hash is SHA-256 of its body in canonical JSON (RFC 8785); each entry names",
        "the hash of the one before ('prev'); each is signed (Ed25519) over",
        "b'EXHIBIT-ENTRY-V1' + a zero byte + the 32 raw bytes of its hash, by its actor (and, for a",
        "transfer, the receiver too), with the key that actor registered in their 'actor.add' entry.",
        "The entries are the leaves of an RFC 9162 Merkle tree whose root the checkpoint signs over",
        "b'EXHIBIT-CHECKPOINT-V1' + a zero byte + SHA-256 of its canonical text. Save these two",
        "scripts, then run the second:",
        "",
        _script("merkle.py"),
        "",
        _script("check_ledger.py"),
        "    $ python3 check_ledger.py ledger/ledger.json ledger/checkpoint.json",
        "",
        "Every entry must say OK, the root must equal the checkpoint's and its signature must",
        "verify. The actors register their own keys: compare the public keys in the 'actor.add'",
        "entries (and the checkpoint's signer_public_key) with the people, or with a checkpoint you",
        "were given earlier, when it matters.",
        "",
        "An 'actor.rotate' entry gives its actor a new key from the next entry on (the script",
        "follows it when the new key signed the rotation). An 'actor.revoke' entry says a key must",
        "not be trusted from a time on: 'exhibit verify-bundle' flags entries signed with it since",
        "then (KEY_REVOKED); by hand, list them from the entries' 'recorded' times.",
        "If the ledger export has a 'timestamps' member, each is an RFC 3161 time-stamp of a",
        "checkpoint by a Time-Stamp Authority: save the checkpoint's 'canonical' text (exactly,",
        "no newline added) as cp.txt, the base64-decoded 'token_der_base64' as t.tsr and 'ca_pem'",
        "as ca.pem (compare its SHA-256 with the one the TSA publishes), then",
        "    $ openssl ts -verify -data cp.txt -in t.tsr -CAfile ca.pem",
        "must print 'Verification: OK'.",
        "",
        "",
        "4. INCLUSION PROOFS: ONE EXHIBIT WITHOUT THE WHOLE LEDGER",
        "",
        "exhibits/EX/proofs.json proves each entry about the exhibit is in the tree the checkpoint",
        "signed, with a few hashes per entry (useful when you are given only that file and a",
        "checkpoint):",
        "",
        _script("check_inclusion.py"),
        "    $ python3 check_inclusion.py exhibits/EX/proofs.json ledger/checkpoint.json",
        "",
        "",
        "5. CONSISTENCY PROOFS: THE LEDGER ONLY GREW",
        "",
        "ledger/consistency.json holds, for every earlier checkpoint of the case, a proof that the",
        "latest tree (ledger/checkpoint.json's, which step 3 checked) extends it: nothing it vouched",
        "for was changed or removed later. The proofs must lead to ledger/checkpoint.json:",
        "",
        _script("check_consistency.py"),
        "    $ python3 check_consistency.py ledger/consistency.json ledger/checkpoint.json",
        "",
        "If you kept a checkpoint file from earlier (it is the one thing these files cannot vouch",
        "for themselves: whoever holds every key can rewrite a ledger that agrees with itself),",
        "give it to check_ledger.py as a third file: the Merkle root of as many of the ledger's first",
        "entries as it covers must be its root.",
        "",
        "    $ python3 check_ledger.py ledger/ledger.json ledger/checkpoint.json my-checkpoint.json",
        "",
        "('exhibit verify-bundle BUNDLE --against my-checkpoint.json' checks the same.)",
        "",
        "",
        "6. FINDINGS DIGESTS",
        "",
        "Triage stores what it found in database tables, which are not signed themselves. When a",
        "run ends, the Merkle root of every stored row of the exhibit (one tree per table, rows in",
        "key order, each row as canonical JSON) is signed in its 'triage.run' entry (or the",
        "'hashset.match' entry of a later hash-set match): the digest. exhibits/EX/digest.json names",
        "the latest such entry; the .jsonl files hold those rows, one per line, exactly as hashed.",
        "",
        _script("digest_root.py"),
        "    $ python3 digest_root.py exhibits/EX ledger/ledger.json",
        "",
        "Every table must say '= signed'. (That entry must be the latest triage.run or hashset.match",
        "entry with a digest about the exhibit; verify-bundle checks that too.)",
        "",
        "",
        "7. REPORTS",
        "",
    ]
    if not index["reports"]:
        lines.append("No report was given when this bundle was made.")
    for report in index["reports"]:
        recorded = (
            "recorded in ledger entries " + ", ".join(map(str, report["ledger_entries"]))
            if report["ledger_entries"]
            else "not recorded in the ledger: only this bundle vouches for it"
        )
        lines += [
            f"  {report['name']}: {report['size']} bytes, SHA-256 {report['sha256']}",
            f"      {recorded}",
        ]
    lines += [
        "",
        "    $ sha256sum reports/*",
        "",
        "A report's SHA-256 recorded in a signed entry (run show_recorded.py, or search",
        "ledger/ledger.json for it) shows the report is the one that entry describes.",
        "",
        "",
        "WHAT THIS DOES NOT SHOW",
        "",
        "That an actor is the person named (keys are self-registered), that the recorded times are",
        "true (they come from the recording computer's clock), anything before acquisition, that",
        "the findings are right (re-read the files they came from), or that the ledger was not cut",
        "short before this bundle was made (only a checkpoint kept outside the lab shows that).",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
