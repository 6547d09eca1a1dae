"""``exhibit verify-bundle``: re-check every part of a bundle from the zip alone, offline.

Each member is a part with its own verdict:

* its bytes against two witnesses, the MANIFEST line and the SHA-256 in ``bundle.json``. A part
  that differs from both (which agree) was changed; when only one witness disagrees, that witness
  was. So a changed byte anywhere is caught and blamed on the member it is in, including text no
  signature covers (README.txt, the export's case title);
* its own checks: the JSON layout the bundle writes, signatures, proofs, canonical rows;
* cross-checks with the parts it depends on, made only when those verified: the ledger export is
  the root (custody.verify.verify_export: entry hashes, chain, signatures, custody, checkpoints),
  then the checkpoint file, then everything compared with them (proofs against the checkpoint,
  hash lists regenerated from the signed acquisition and export entries, digest roots recomputed
  from the rows and compared with the digest the ledger signed, reports' SHA-256 against the
  entries that record them).

A part that depends on a part that failed says so in a note instead of failing too, so the part
named FAILED is the one that changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from custody import keys as keymod
from custody import merkle
from custody.errors import CustodyError
from custody.ledger import checkpoint_message
from custody.proofs import CONSISTENCY_FORMAT
from custody.verify import MAX_CHECKPOINT_FILE, parse_checkpoint_file, read_small_file, verify_export
from triage.bundle import layout
from triage.bundle.zipio import Members, read_members
from triage.engine import integrity

MAX_NAMED = 10  # problems named one by one per part before a count
_MANIFEST_LINE = re.compile(rb"^([0-9a-f]{64})  ([A-Za-z0-9%._/-]+)$")
_CHECKSUM_LINE = re.compile(rb"^\\?[0-9a-f]{32,64}  .+$")
_INDEX_MEMBERS = {"format", "ledger", "case", "tree_size", "root", "time", "exhibits", "reports", "parts"}
_TOP = (layout.README, layout.MANIFEST, layout.INDEX, layout.LEDGER, layout.CHECKPOINT, layout.CONSISTENCY)


@dataclass
class PartResult:
    """The verdict on one member: what was verified, or every reason it failed."""

    part: str
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    witnessed: bool = False  # its SHA-256 equals both MANIFEST's and bundle.json's
    alone: bool = False  # a report no signed entry records: only the bundle vouches for it

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, why: str) -> None:
        if why not in self.problems:
            self.problems.append(why)

    @property
    def detail(self) -> str:
        shown = self.problems[:MAX_NAMED]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown + ([f"{more} more problems"] if more else [])) if self.problems else ""
        witnessed = "its SHA-256 is the one MANIFEST and bundle.json list" if self.witnessed else "verified"
        text = text or "; ".join(self.checked) or witnessed
        return text + "".join(f" (note: {n})" for n in self.notes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "ok": self.ok,
            "detail": self.detail,
            "problems": self.problems,
            "notes": self.notes,
        }


@dataclass
class BundleReport:
    bundle: str
    parts: list[PartResult]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parts)

    @property
    def failed(self) -> list[str]:
        return [p.part for p in self.parts if not p.ok]

    @property
    def alone(self) -> list[str]:
        """Parts verified, but vouched for by this bundle alone (no signed entry records them)."""
        return [p.part for p in self.parts if p.ok and p.alone]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bundle": self.bundle,
            "failed": self.failed,
            "alone": self.alone,
            "parts": [p.as_dict() for p in self.parts],
        }


def verify_bundle(path: Path, *, now: datetime | None = None, against: Path | None = None) -> BundleReport:
    """Check the bundle at ``path``. :class:`triage.bundle.errors.BundleError` when the file is
    refused (not a zip, hostile); otherwise a report with one verdict per part. ``against``: a
    checkpoint file kept outside the lab since (``exhibit custody checkpoint --out``): the
    bundle's ledger must hold it, or it was cut short or rewritten after it (its own checks
    cannot tell: a rewrite by the holder of the keys is consistent with itself)."""
    members = read_members(path)
    kept = (
        None
        if against is None
        else (against, read_small_file(against, MAX_CHECKPOINT_FILE, "a checkpoint file"))
    )
    return BundleReport(str(path), _Verifier(members, now or datetime.now(UTC), kept).run())


# -- parsing helpers ------------------------------------------------------------------------------


def _strict_json(raw: bytes) -> Any:
    """JSON without duplicate member names, NaN or Infinity; ValueError otherwise."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("a member name appears twice in one object")
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _row_key(table: str, row: dict[str, Any]) -> Any:
    spec = integrity.BY_NAME[table]
    key = row.get(spec.key)
    if spec.numeric_key:
        return key if isinstance(key, int) and not isinstance(key, bool) else None
    return str(key).encode("utf-8", "surrogatepass") if isinstance(key, str) else None


def _hex(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise ValueError(f"{str(value)[:80]!r} is not 64 hex digits")
    return bytes.fromhex(value)


@dataclass
class _Ledger:
    """What the other parts are compared with, read from ledger/ledger.json."""

    doc: dict[str, Any]
    bodies: list[dict[str, Any]]
    keys: dict[str, str]
    acquired: dict[str, int]

    @property
    def ledger_id(self) -> str:
        return str(self.doc["case"]["ledger_id"])

    @property
    def case_number(self) -> str:
        return str(self.doc["case"]["case_number"])

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        return list(self.doc["checkpoints"])


@dataclass
class _Checkpoint:
    data: dict[str, Any]
    body: dict[str, Any]


class _Verifier:
    def __init__(self, members: Members, now: datetime, kept: tuple[Path, bytes] | None = None) -> None:
        self.kept = kept
        self.raw = members.data
        self.damaged = members.damaged
        self.now = now
        self.results: dict[str, PartResult] = {name: PartResult(name) for name in self.raw}
        self.sha = {n: hashlib.sha256(d).hexdigest() for n, d in self.raw.items() if d is not None}

    def result(self, name: str) -> PartResult:
        return self.results.setdefault(name, PartResult(name))

    def failed(self, name: str) -> bool:
        return name not in self.raw or self.raw[name] is None or not self.result(name).ok

    def data(self, name: str) -> bytes | None:
        return self.raw.get(name)

    def _json(self, name: str, *, ascii_only: bool = False) -> Any:
        """A JSON part parsed, or None (the part fails); its layout must be the bundle's."""
        raw = self.data(name)
        if raw is None:
            return None
        try:
            value = _strict_json(raw)
        except ValueError as exc:
            self.result(name).fail(f"not valid JSON ({exc})")
            return None
        if layout.dumps(value, ascii_only=ascii_only) != raw:
            self.result(name).fail("its layout is not the one Exhibit writes (bytes were changed)")
        return value

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> list[PartResult]:
        for name, why in self.damaged.items():
            self.result(name).fail(why)
        for name in _TOP:
            if name not in self.raw:
                self.result(name).fail("missing from the bundle")
        manifest = self._manifest()
        index = self._index_own()
        self._witnesses(manifest, index)
        ledger = self._ledger()
        trusted = ledger if ledger is not None and not self.failed(layout.LEDGER) else None
        checkpoint = self._checkpoint(trusted)
        good_checkpoint = (
            checkpoint if checkpoint is not None and not self.failed(layout.CHECKPOINT) else None
        )
        self._consistency(trusted, good_checkpoint)
        if self.kept is not None:
            self._against(trusted)
        for exhibit, folder in self._exhibits(ledger, index):
            self._proofs(exhibit, folder, trusted, good_checkpoint)
            self._digest(exhibit, folder, trusted)
            for table in layout.TABLES:
                self._rows(exhibit, folder, table, trusted)
            for part in (layout.EVIDENCE_SHA256, layout.EVIDENCE_MD5, layout.EXPORTS_SHA256):
                self._checksums(exhibit, folder, part, trusted)
        self._reports(trusted)
        self._index_cross(index, trusted, good_checkpoint)
        self._expected(index, trusted)
        self._index_line(manifest)
        return [self.results[name] for name in sorted(self.results)]

    # -- the two witnesses ------------------------------------------------------------------------

    def _manifest(self) -> dict[str, str] | None:
        raw = self.data(layout.MANIFEST)
        if raw is None:
            return None
        result = self.result(layout.MANIFEST)
        listed: dict[str, str] = {}
        if not raw.endswith(b"\n"):
            result.fail("it does not end with a line feed")
        names = []
        for number, line in enumerate(raw.split(b"\n")[:-1] if raw.endswith(b"\n") else raw.split(b"\n"), 1):
            match = _MANIFEST_LINE.match(line)
            if not match:
                result.fail(f"line {number} is not '<sha256>  <member>'")
                continue
            name = match.group(2).decode("ascii")
            if name in listed:
                result.fail(f"{name} is listed twice")
            listed[name] = match.group(1).decode("ascii")
            names.append(name)
        if names != sorted(names):
            result.fail("its lines are not in name order")
        if layout.MANIFEST in listed:
            result.fail("it lists itself")
        result.checked.append(f"{_n(len(listed), 'file')} listed")
        return listed

    def _index_own(self) -> dict[str, Any] | None:
        index = self._json(layout.INDEX)
        if index is None:
            return None
        result = self.result(layout.INDEX)
        if not isinstance(index, dict) or set(index) != _INDEX_MEMBERS:
            result.fail(f"it is not an object of exactly {', '.join(sorted(_INDEX_MEMBERS))}")
            return None
        if index["format"] != layout.FORMAT:
            result.fail(f"unknown format {index['format']!r}")
        parts = index["parts"]
        if not isinstance(parts, dict) or not all(isinstance(v, str) for v in parts.values()):
            result.fail("parts is not an object of SHA-256 values")
            index["parts"] = {}
        if not isinstance(index["exhibits"], list) or not all(isinstance(e, dict) for e in index["exhibits"]):
            result.fail("exhibits is not a list of objects")
            index["exhibits"] = []
        if not isinstance(index["reports"], list) or not all(isinstance(r, dict) for r in index["reports"]):
            result.fail("reports is not a list of objects")
            index["reports"] = []
        return index

    def _witnesses(self, manifest: dict[str, str] | None, index: dict[str, Any] | None) -> None:
        listed = index["parts"] if index is not None else None
        names = set(self.raw) | set(manifest or {}) | set(listed or {})
        for name in sorted(names - {layout.MANIFEST, layout.INDEX}):
            m = manifest.get(name) if manifest is not None else None
            b = listed.get(name) if listed is not None else None
            h = self.sha.get(name)
            if name not in self.raw:
                if (manifest is None or m is not None) and (listed is None or b is not None):
                    self.result(name).fail("missing from the bundle (MANIFEST and bundle.json list it)")
                elif m is not None:
                    self.result(layout.MANIFEST).fail(f"it lists {name}, which is not in the bundle")
                else:
                    self.result(layout.INDEX).fail(f"its parts list {name}, which is not in the bundle")
                continue
            if h is None:
                continue  # damaged in the zip: already failed
            if m is None and b is None:
                if manifest is not None or listed is not None:
                    self.result(name).fail(
                        "listed in neither MANIFEST nor bundle.json: not a part of this bundle"
                    )
                continue
            if h == m and h == b:
                self.result(name).witnessed = True
                continue
            if m is not None and b is not None and h != m and h != b:
                both = "which agree" if m == b else "which disagree too"
                self.result(name).fail(
                    f"its SHA-256 {h} differs from MANIFEST's and bundle.json's ({both}): changed"
                )
            elif m is None or b is None:
                witness, value = ("MANIFEST", m) if m is not None else ("bundle.json", b)
                if manifest is not None and m is None:
                    self.result(layout.MANIFEST).fail(f"it does not list {name}")
                if listed is not None and b is None:
                    self.result(layout.INDEX).fail(f"its parts do not list {name}")
                if h != value:
                    self.result(name).fail(f"its SHA-256 {h} differs from {witness}'s {value}: changed")
            elif h == b:
                self.result(layout.MANIFEST).fail(
                    f"its SHA-256 for {name} ({m}) is not the file's ({h}, which bundle.json confirms)"
                )
            else:
                self.result(layout.INDEX).fail(
                    f"its SHA-256 for {name} ({b}) is not the file's ({h}, which MANIFEST confirms)"
                )

    def _index_line(self, manifest: dict[str, str] | None) -> None:
        """bundle.json has one witness only: if MANIFEST disagrees, the one that fails its own
        checks is blamed (every value of bundle.json is checked, so an edit there fails them)."""
        h = self.sha.get(layout.INDEX)
        if manifest is None or h is None:
            return
        m = manifest.get(layout.INDEX)
        if m is None:
            self.result(layout.MANIFEST).fail("it does not list bundle.json")
        elif m != h:
            if self.failed(layout.INDEX):
                self.result(layout.INDEX).fail(f"its SHA-256 {h} differs from MANIFEST's {m}: changed")
            else:
                self.result(layout.MANIFEST).fail(
                    f"its SHA-256 for bundle.json ({m}) is not the file's ({h}, whose every value verified)"
                )

    # -- the ledger and the checkpoints -----------------------------------------------------------

    def _ledger(self) -> _Ledger | None:
        doc = self._json(layout.LEDGER)
        if doc is None:
            return None
        result = self.result(layout.LEDGER)
        try:
            report = verify_export(doc, now=self.now)
        except CustodyError as exc:
            result.fail(str(exc))
            return None
        for p in report.problems:
            where = f"entry {p.seq}" if p.seq is not None else "ledger"
            result.fail(f"{p.code} at {where}: {p.detail}")
        bodies: list[dict[str, Any]] = [
            e["body"] if isinstance(e, dict) and isinstance(e.get("body"), dict) else {}
            for e in doc["entries"]
        ]
        # each actor's key at the end of the ledger (after any valid key rotation), as verified
        keys: dict[str, str] = {who: history[-1][1] for who, history in report.key_history.items() if history}
        acquired: dict[str, int] = {}
        for body in bodies:
            if body.get("kind") == layout.ACQUIRE_KIND and isinstance(body.get("exhibit"), str):
                acquired.setdefault(body["exhibit"], int(body.get("seq") or 0))
        self._items(doc, bodies, result)
        if not doc["checkpoints"]:
            result.fail("it has no checkpoint")
            return None
        result.checked.append(
            f"{report.entries} entries, {report.checkpoints} checkpoints: entry hashes, chain, signatures, "
            "custody and checkpoint roots verified"
        )
        return _Ledger(doc, bodies, keys, acquired)

    def _items(self, doc: dict[str, Any], bodies: list[dict[str, Any]], result: PartResult) -> None:
        """The unsigned ``items`` summary must say what the signed acquisition entries say."""
        by_seq = {b.get("seq"): b for b in bodies}
        items = doc.get("items")
        if not isinstance(items, list):
            result.fail("its items summary is not a list")
            return
        expected = [b for b in bodies if b.get("kind") == layout.ACQUIRE_KIND]
        if len(items) != len(expected):
            result.fail(f"its items summary lists {len(items)} exhibits, the entries acquire {len(expected)}")
        for item in items:
            body = by_seq.get(item.get("seq")) if isinstance(item, dict) else None
            if body is None or body.get("kind") != layout.ACQUIRE_KIND:
                result.fail(f"its items summary names no acquisition entry: {str(item)[:120]}")
                continue
            acq = (body.get("data") or {}).get("acquisition") or {}
            want = {
                "exhibit": body.get("exhibit"),
                "kind": acq.get("kind"),
                "description": (body.get("data") or {}).get("description"),
                "source_path": acq.get("source_path"),
                "size": acq.get("size"),
                "hashes": acq.get("hashes"),
                "actor": body.get("actor"),
                "recorded_utc": (body.get("recorded") or {}).get("utc"),
            }
            wrong = [k for k, v in want.items() if item.get(k) != v]
            if wrong:
                result.fail(
                    f"its items summary of entry {item.get('seq')} differs from the entry: {', '.join(wrong)}"
                )

    def _checkpoint(self, trusted: _Ledger | None) -> _Checkpoint | None:
        raw = self.data(layout.CHECKPOINT)
        if raw is None:
            return None
        result = self.result(layout.CHECKPOINT)
        try:
            loose = json.loads(raw)
            ledger_id = trusted.ledger_id if trusted is not None else str(loose["checkpoint"]["ledger"])
            data = parse_checkpoint_file(
                raw, layout.CHECKPOINT, ledger_id, trusted.case_number if trusted else None
            )
        except (CustodyError, ValueError, KeyError, TypeError) as exc:
            result.fail(str(exc) if isinstance(exc, CustodyError) else f"not a checkpoint file ({exc})")
            return None
        if layout.dumps(data, ascii_only=True) != raw:
            result.fail("its layout is not the one Exhibit writes (bytes were changed)")
        body = json.loads(data["checkpoint_canonical"])
        message = checkpoint_message(data["checkpoint_canonical"].encode("utf-8"))
        if not keymod.verify_signature(data["signer_public_key"], data["signature"], message):
            result.fail("its signature does not verify with the key it names")
        if trusted is None:
            result.notes.append("not compared with ledger/ledger.json, which failed")
        else:
            last = trusted.checkpoints[-1]
            if trusted.keys.get(body["signer"]) != data["signer_public_key"]:
                result.fail(f"its signer_public_key is not the key the ledger registers for {body['signer']}")
            if body["tree_size"] != len(trusted.bodies):
                result.fail(
                    f"it covers {body['tree_size']} entries, the ledger export has {len(trusted.bodies)}"
                )
            if (last.get("canonical"), last.get("signature")) != (
                data["checkpoint_canonical"],
                data["signature"],
            ):
                result.fail("it is not the ledger export's latest checkpoint")
        result.checked.append(
            f"tree size {body['tree_size']}, root {body['root']}, signed by {body['signer']} "
            "with the key the ledger registers"
        )
        return _Checkpoint(data, body)

    def _against(self, trusted: _Ledger | None) -> None:
        """The checkpoint kept outside the lab must be one the bundle's ledger holds (every one of
        its checkpoints' roots was recomputed from the entries when the ledger was verified)."""
        assert self.kept is not None
        path, raw = self.kept
        result = self.result(f"--against {path.name}")
        if trusted is None:
            result.fail("not compared: ledger/ledger.json failed")
            return
        try:
            data = parse_checkpoint_file(raw, str(path), trusted.ledger_id, trusted.case_number)
        except CustodyError as exc:
            result.fail(str(exc))
            return
        body = json.loads(data["checkpoint_canonical"])
        size, root = body["tree_size"], body["root"]
        held = [c for c in trusted.checkpoints if c.get("canonical") == data["checkpoint_canonical"]]
        if not held:
            result.fail(
                f"the bundle's ledger does not hold your checkpoint of {size} entries (root {root}): "
                + (
                    f"it has only {len(trusted.bodies)} entries, it was cut short"
                    if len(trusted.bodies) < size
                    else "its entries were changed or replaced after your checkpoint was made"
                )
            )
            return
        result.checked.append(
            f"your checkpoint of {size} entries (root {root}, signed by {body['signer']}) is one the "
            f"bundle's ledger holds: its {len(trusted.bodies)} entries extend it"
        )

    def _consistency(self, ledger: _Ledger | None, checkpoint: _Checkpoint | None) -> None:
        doc = self._json(layout.CONSISTENCY)
        if doc is None:
            return
        result = self.result(layout.CONSISTENCY)
        try:
            if doc.get("format") != CONSISTENCY_FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            head = json.loads(doc["checkpoint_canonical"])
            if doc["checkpoint"] != head:
                raise ValueError("checkpoint differs from checkpoint_canonical")
            new_size, new_root = int(head["tree_size"]), _hex(head["root"])
            proofs = doc["proofs"]
            for p in proofs:
                old = json.loads(p["checkpoint_canonical"])
                size = p["tree_size"]
                if (old.get("tree_size"), old.get("root")) != (size, p["root"]):
                    result.fail(f"the proof from size {size} names another checkpoint than it carries")
                    continue
                try:
                    path = [_hex(x) for x in p["consistency_path"]]
                    merkle.verify_consistency(int(size), new_size, _hex(p["root"]), new_root, path)
                except (merkle.ProofError, ValueError) as exc:
                    result.fail(f"the proof from size {size} does not verify: {exc}")
                    continue
                if p.get("verified") is not True:
                    result.fail(
                        f"the proof from size {size} verifies, but says verified={p.get('verified')!r}"
                    )
            if doc.get("ok") is not True:
                result.fail(f"it says ok={doc.get('ok')!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.fail(f"not a consistency proofs file ({type(exc).__name__}: {exc})")
            return
        if checkpoint is None:
            result.notes.append("not compared with ledger/checkpoint.json, which failed")
        elif (doc["checkpoint_canonical"], doc.get("checkpoint_signature")) != (
            checkpoint.data["checkpoint_canonical"],
            checkpoint.data["signature"],
        ):
            result.fail("its latest checkpoint is not ledger/checkpoint.json's")
        if ledger is None:
            result.notes.append("earlier checkpoints not compared with ledger/ledger.json, which failed")
        else:
            earlier = []
            for cp in ledger.checkpoints[:-1]:
                size = json.loads(cp["canonical"]).get("tree_size")
                if isinstance(size, int) and 0 < size < new_size:
                    earlier.append((cp["canonical"], cp["signature"]))
            carried = [(p["checkpoint_canonical"], p.get("checkpoint_signature")) for p in proofs]
            if carried != earlier:
                result.fail(
                    f"it carries {len(carried)} earlier checkpoints; the ledger export signed {len(earlier)} "
                    "others or other ones"
                )
        result.checked.append(
            f"{_n(len(proofs), 'earlier checkpoint')} proven extended by the one of size {new_size}"
        )

    # -- per exhibit ------------------------------------------------------------------------------

    def _exhibits(self, ledger: _Ledger | None, index: dict[str, Any] | None) -> Iterator[tuple[str, str]]:
        """(exhibit, folder) of every exhibit folder in the zip or in the index."""
        folders = {
            n.split("/")[1] for n in self.raw if n.startswith(layout.EXHIBITS + "/") and n.count("/") == 2
        }
        names: dict[str, str] = {}
        if ledger is not None:
            names.update({layout.safe_name(e): e for e in ledger.acquired})
        if index is not None:
            for ex in index["exhibits"]:
                if isinstance(ex.get("exhibit"), str):
                    names.setdefault(layout.safe_name(ex["exhibit"]), ex["exhibit"])
                    folders.add(layout.safe_name(ex["exhibit"]))
        for folder in sorted(folders):
            exhibit = names.get(folder)
            if exhibit is None:
                proofs = self.data(f"{layout.EXHIBITS}/{folder}/{layout.PROOFS}")
                try:
                    exhibit = str(json.loads(proofs or b"{}")["exhibit"])
                except (ValueError, KeyError, TypeError):
                    exhibit = folder
            yield exhibit, f"{layout.EXHIBITS}/{folder}"

    def _proofs(
        self, exhibit: str, folder: str, ledger: _Ledger | None, checkpoint: _Checkpoint | None
    ) -> None:
        name = f"{folder}/{layout.PROOFS}"
        doc = self._json(name)
        if doc is None:
            return
        result = self.result(name)
        try:
            if doc["exhibit"] != exhibit:
                raise ValueError(f"it is about {doc['exhibit']!r}, not {exhibit!r}")
            head = json.loads(doc["checkpoint_canonical"])
            if doc["checkpoint"] != head:
                raise ValueError("checkpoint differs from checkpoint_canonical")
            size, root = int(head["tree_size"]), _hex(head["root"])
            message = checkpoint_message(doc["checkpoint_canonical"].encode("utf-8"))
            if not keymod.verify_signature(doc["signer_public_key"], doc["checkpoint_signature"], message):
                result.fail("the checkpoint's signature does not verify with the key it names")
            elif doc.get("checkpoint_signature_valid") is not True:
                result.fail("the signature verifies, but it says checkpoint_signature_valid=false")
            carried = []
            for p in doc["proofs"]:
                text = p["entry_canonical"]
                entry = json.loads(text)
                leaf = merkle.leaf_hash(text.encode("utf-8"))
                seq = p["seq"]
                carried.append((seq, text))
                if not (entry.get("seq") == seq == p["leaf_index"] + 1 and entry.get("exhibit") == exhibit):
                    result.fail(f"the proof of entry {seq} names another entry or exhibit than it carries")
                    continue
                if leaf.hex() != p["leaf_hash"] or entry.get("kind") != p.get("kind"):
                    result.fail(f"the proof of entry {seq}: leaf hash or kind is not the entry's")
                    continue
                try:
                    merkle.verify_inclusion(
                        leaf, p["leaf_index"], size, [_hex(x) for x in p["audit_path"]], root
                    )
                except (merkle.ProofError, ValueError) as exc:
                    result.fail(f"the proof of entry {seq} does not verify: {exc}")
                    continue
                if p.get("verified") is not True:
                    result.fail(f"the proof of entry {seq} verifies, but says verified={p.get('verified')!r}")
            if doc.get("ok") is not True:
                result.fail(f"it says ok={doc.get('ok')!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.fail(f"not an inclusion proofs file ({type(exc).__name__}: {exc})")
            return
        if checkpoint is None:
            result.notes.append("not compared with ledger/checkpoint.json, which failed")
        elif (doc["checkpoint_canonical"], doc["checkpoint_signature"], doc["signer_public_key"]) != (
            checkpoint.data["checkpoint_canonical"],
            checkpoint.data["signature"],
            checkpoint.data["signer_public_key"],
        ):
            result.fail("its checkpoint is not ledger/checkpoint.json's")
        if ledger is None:
            result.notes.append("entries not compared with ledger/ledger.json, which failed")
        else:
            want = [
                (int(b["seq"]), b)
                for b in ledger.bodies
                if b.get("exhibit") == exhibit and int(b.get("seq") or 0) <= size
            ]
            if [(seq, json.loads(text)) for seq, text in carried] != want:
                result.fail(
                    f"it proves {len(carried)} entries; the ledger export has {len(want)} about {exhibit} (or other ones)"
                )
        result.checked.append(
            f"{_n(len(carried), 'entry', 'entries')} about {exhibit} proven in the checkpoint's tree"
        )

    def _digest(self, exhibit: str, folder: str, ledger: _Ledger | None) -> None:
        name = f"{folder}/{layout.DIGEST}"
        if name not in self.raw:
            return
        doc = self._json(name)
        if doc is None:
            return
        result = self.result(name)
        if not isinstance(doc, dict) or doc.get("exhibit") != exhibit:
            result.fail(f"it is not the digest of {exhibit}")
            return
        if ledger is None:
            result.notes.append("not compared with ledger/ledger.json, which failed")
            return
        anchor = layout.anchor_of(ledger.bodies, exhibit)
        if anchor is None:
            result.fail(f"the ledger signs no triage digest of {exhibit}")
        elif anchor.as_dict(exhibit) != doc:
            result.fail(
                f"it is not the digest the ledger signs for {exhibit}: that is entry {anchor.seq} ({anchor.kind}, "
                f"run {anchor.run}), the latest with a digest"
            )
        else:
            result.checked.append(
                f"the digest of entry {anchor.seq} ({anchor.kind}), the latest signed for {exhibit}"
            )

    def _rows(self, exhibit: str, folder: str, table: str, ledger: _Ledger | None) -> None:
        name = f"{folder}/{table}.jsonl"
        raw = self.data(name)
        if raw is None:
            return
        result = self.result(name)
        if raw and not raw.endswith(b"\n"):
            result.fail("its last row does not end with a line feed")
        lines = raw.split(b"\n")[:-1] if raw.endswith(b"\n") else raw.split(b"\n") if raw else []
        previous: Any = None
        for number, line in enumerate(lines, 1):
            try:
                row = _strict_json(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            except ValueError as exc:
                result.fail(f"line {number} is not a JSON object ({exc})")
                continue
            if text.encode("utf-8", "surrogatepass") != line:
                result.fail(f"line {number} is not in canonical form")
            if row.get("exhibit") != exhibit:
                result.fail(f"line {number} is a row of exhibit {row.get('exhibit')!r}")
            key = _row_key(table, row)
            if key is None or (previous is not None and key <= previous):
                result.fail(f"line {number} is out of digest order (by {integrity.BY_NAME[table].key})")
            previous = key if key is not None else previous
        if ledger is None:
            result.notes.append("root not compared with ledger/ledger.json, which failed")
            return
        anchor = layout.anchor_of(ledger.bodies, exhibit)
        signed = ((anchor.digest.get("tables") or {}).get(table) or {}) if anchor is not None else {}
        root = merkle.root_from_leaf_hashes([merkle.leaf_hash(line) for line in lines]).hex()
        if anchor is None:
            result.fail(f"the ledger signs no triage digest of {exhibit}")
        elif root != signed.get("root") or len(lines) != signed.get("rows"):
            result.fail(
                f"{_n(len(lines), 'row')} with Merkle root {root}, but entry {anchor.seq} signed "
                f"{signed.get('rows')} rows with root {signed.get('root')}"
            )
        else:
            result.checked.append(
                f"{_n(len(lines), 'row')}, Merkle root {root} = signed in entry {anchor.seq}"
            )

    def _checksums(self, exhibit: str, folder: str, part: str, ledger: _Ledger | None) -> None:
        name = f"{folder}/{part}"
        raw = self.data(name)
        if raw is None:
            return
        result = self.result(name)
        lines = raw.split(b"\n")
        if raw and (lines[-1] != b"" or not all(_CHECKSUM_LINE.match(line) for line in lines[:-1])):
            result.fail("it is not in sha256sum/md5sum format")
        if ledger is None:
            result.notes.append("not compared with ledger/ledger.json, which failed")
            return
        if part == layout.EXPORTS_SHA256:
            exports = list(layout.about(ledger.bodies, exhibit, layout.EXPORT_KIND))
            expected: bytes | None = layout.exports_list(exports)
            seqs = ", ".join(str(b["seq"]) for b in exports)
            source = f"the item.export entr{'ies' if len(exports) > 1 else 'y'} {seqs}"
        else:
            acquire = next(layout.about(ledger.bodies, exhibit, layout.ACQUIRE_KIND), None)
            expected = layout.evidence_lists(acquire).get(part) if acquire is not None else None
            source = f"the acquisition entry {acquire['seq']}" if acquire is not None else "no acquisition"
        if expected is None:
            result.fail(f"the ledger records no such list for {exhibit}")
            return
        if raw != expected:
            want, got = expected.split(b"\n"), raw.split(b"\n")
            line = next(
                (i for i, (a, b) in enumerate(zip(want, got, strict=False), 1) if a != b),
                min(len(want), len(got)),
            )
            result.fail(f"line {line} differs from what {source} records")
            return
        count = raw.count(b"\n")
        result.checked.append(f"{_n(count, 'hash', 'hashes')}, as {source} records")

    # -- reports and the index --------------------------------------------------------------------

    def _reports(self, ledger: _Ledger | None) -> None:
        """What the ledger says of each report (bundle.json's list of them is checked with it)."""
        for name in sorted(n for n in self.raw if n.startswith(layout.REPORTS + "/")):
            result = self.result(name)
            h = self.sha.get(name)
            if h is None:
                continue
            if ledger is None:
                result.notes.append("not looked up in ledger/ledger.json, which failed")
                continue
            recorded = layout.entries_recording(ledger.bodies, h)
            if recorded:
                result.checked.append(
                    f"SHA-256 {h}, recorded in ledger entries {', '.join(map(str, recorded))}"
                )
                continue
            # found in review: a report replaced (MANIFEST and bundle.json made to match) passed
            base = name.rsplit("/", 1)[-1]
            clash = [
                b
                for b in ledger.bodies
                if b.get("kind") == layout.REPORT_KIND and (b.get("data") or {}).get("file") == base
            ]
            for b in clash:
                result.fail(
                    f"ledger entry {b.get('seq')} records a report named {base} with SHA-256 "
                    f"{(b.get('data') or {}).get('sha256')}; this file's is {h}"
                )
            if not clash:
                result.alone = True
                result.checked.append(
                    f"SHA-256 {h}; not recorded in the ledger: only this bundle vouches for it"
                )

    def _index_cross(
        self, index: dict[str, Any] | None, ledger: _Ledger | None, checkpoint: _Checkpoint | None
    ) -> None:
        if index is None:
            return
        result = self.result(layout.INDEX)
        if checkpoint is not None:
            head = checkpoint.body
            for member in ("ledger", "case", "tree_size", "root", "time"):
                if index[member] != head.get(member):
                    result.fail(f"its {member} is not the checkpoint's")
        else:
            result.notes.append("not compared with ledger/checkpoint.json, which failed")
        if ledger is None:
            result.notes.append("exhibits and reports not compared with ledger/ledger.json, which failed")
        else:
            if (index["ledger"], index["case"]) != (ledger.ledger_id, ledger.case_number):
                result.fail("its ledger or case is not the ledger export's")
            seen = []
            for ex in index["exhibits"]:
                exhibit = ex.get("exhibit")
                if not isinstance(exhibit, str) or exhibit not in ledger.acquired:
                    result.fail(f"it lists {str(exhibit)[:80]!r}, which the ledger never acquired")
                    continue
                seen.append(exhibit)
                anchor = layout.anchor_of(ledger.bodies, exhibit)
                want = {
                    "exhibit": exhibit,
                    "folder": layout.exhibit_folder(exhibit),
                    "acquired": ledger.acquired[exhibit],
                    "anchor": anchor.seq if anchor is not None else None,
                    "exports": [
                        int(b["seq"]) for b in layout.about(ledger.bodies, exhibit, layout.EXPORT_KIND)
                    ],
                }
                if ex != want:
                    result.fail(f"its entry for {exhibit} is not what the ledger says")
            if seen != sorted(set(seen)):
                result.fail("its exhibits are not sorted and unique")
            for r in index["reports"]:
                h = r.get("sha256")
                if isinstance(h, str) and r.get("ledger_entries") != layout.entries_recording(
                    ledger.bodies, h
                ):
                    result.fail(f"its ledger entries for {r.get('name')} are not those recording it")
        reports = [r.get("name") for r in index["reports"]]
        if reports != sorted(n for n in self.raw if n.startswith(layout.REPORTS + "/")):
            result.fail("its reports are not the reports in the bundle")
        for r in index["reports"]:
            name = str(r.get("name"))
            raw = self.raw.get(name)
            if raw is None or self.failed(name):
                continue
            if set(r) != {"name", "sha256", "size", "ledger_entries"}:
                result.fail(f"its entry for {name} is not name, sha256, size, ledger_entries")
            elif (r["sha256"], r["size"]) != (self.sha[name], len(raw)):
                result.fail(f"its SHA-256 or size of {name} is not the file's")
        parts = set(index["parts"])
        members = set(self.raw) - {layout.INDEX, layout.MANIFEST}
        if parts != members:
            result.fail("its parts are not the members of the bundle")
        result.checked.append(
            f"{_n(len(index['exhibits']), 'exhibit')}, {_n(len(index['reports']), 'report')}, "
            f"{_n(len(parts), 'part')} listed"
        )

    def _expected(self, index: dict[str, Any] | None, ledger: _Ledger | None) -> None:
        """Members the ledger says the bundle must hold for the exhibits it lists, and no others."""
        if index is None or ledger is None or self.failed(layout.INDEX):
            return
        expected = set(_TOP)
        for ex in index["exhibits"]:
            if isinstance(ex.get("exhibit"), str):
                expected.update(layout.expected_members(ex["exhibit"], ledger.bodies))
        expected.update(n for n in self.raw if n.startswith(layout.REPORTS + "/"))
        for name in sorted(expected - set(self.raw)):
            self.result(name).fail("missing: the ledger says a bundle of this exhibit holds it")
        for name in sorted(set(self.raw) - expected):
            self.result(name).fail("not a part a bundle of these exhibits holds")


def print_report(report: BundleReport, write: Callable[[str], None]) -> None:
    for part in report.parts:
        write(f"{'OK' if part.ok else 'FAILED':<7} {part.part}: {part.detail}")
    if report.ok:
        alone = report.alone
        write(
            f"bundle OK: {len(report.parts)} parts verified"
            + (
                f"; but {len(alone)} of them no signed ledger entry records, only this bundle vouches for: "
                + ", ".join(alone)
                if alone
                else ""
            )
        )
    else:
        write(f"bundle FAILED: {len(report.failed)} of {len(report.parts)} parts: {', '.join(report.failed)}")
