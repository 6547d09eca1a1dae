#!/usr/bin/env python3
"""Time ``verify_case`` on a large SQLite ledger against the bare cost of its cryptography.

Why: verifying a ledger must cost little more than the cryptography it cannot avoid -- one
SHA-256 of each entry body and one Ed25519 verification per signature. The target is a ratio
of at most 1.3 between ``verify_case`` and that bare loop, measured in the same run on the
same entries, so both see the same machine, the same load and the same cache.

    .venv/bin/python bench/verify_ledger.py [--entries 100000] [--batch 10000] [--rounds 3]
                                            [--workdir DIR]

Builds a fresh case (SQLite, in a temporary folder deleted afterwards; with ``--workdir DIR`` in
``DIR/verify-<entries>``, kept and reused by the next run with the same size) with two actors, one
acquired exhibit and ``--entries`` entries appended in batches of ``--batch``: mostly
``item.derive`` entries (what a triage run records), with a check-out/check-in pair and a
co-signed transfer every 1,000 entries so the custody checks and two-signature entries are
exercised. Then loads every body, signature and public key into memory (the *bare* loop works
on prepared ``Ed25519PublicKey`` objects and raw signature bytes: no parsing, no database) and
alternates, ``--rounds`` times:

* verify -- ``verify_case(open_case(...))``: reads the database and checks everything;
* bare   -- single-threaded ``sha256(body)`` + ``Ed25519PublicKey.verify(sig, message)`` for every
  signature of every entry.

Prints each round, the best and the median ratio. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ledger_appends import derived  # this folder is on sys.path when a bench script runs

from custody.ledger import ENTRY_DOMAIN, Draft
from custody.verify import WORKERS_ENV


def build(root: Path, entries: int, batch: int) -> tuple[Path, float]:
    """Create the case and append ``entries`` entries; return the case folder and seconds taken."""
    os.environ.pop("EXHIBIT_KEY_PASSPHRASE", None)
    from custody.actors import add_actor, signing_keys
    from custody.case import init_case

    start = time.perf_counter()
    case = init_case(root / "case", case_number="BENCH/1", title="verify benchmark", agency="bench")
    add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer", org="Bench")
    add_actor(case, "asmith", name="Alan Smith", role="examiner", org="Bench")
    keys = signing_keys(case, ["jdoe", "asmith"])
    acquisition = {
        "kind": "raw",
        "size": 64 * 2**30,
        "hashes": {"md5": "0" * 32, "sha1": "1" * 40, "sha256": "2" * 64},
        "source_path": "/evidence/disk.dd",
    }
    pending = [Draft(kind="item.acquire", actor="jdoe", exhibit="EX-001", data={"acquisition": acquisition})]
    made = 2  # the two actor.add entries
    holder, other = "jdoe", "asmith"
    n = 0
    while made + len(pending) < entries:
        n += 1
        if n % 1000 == 0:
            pending.append(
                Draft(kind="custody.check-out", actor=holder, exhibit="EX-001", data={"purpose": "imaging"})
            )
            pending.append(Draft(kind="custody.check-in", actor=holder, exhibit="EX-001", data={}))
            pending.append(
                Draft(
                    kind="custody.transfer",
                    actor=holder,
                    exhibit="EX-001",
                    data={"received_by": other, "reason": "examination"},
                    cosigners=(other,),
                )
            )
            holder, other = other, holder
        else:
            pending.append(derived(n, actor="asmith"))
        if len(pending) >= batch:
            case.ledger.append(pending, keys, checkpoint_signer="jdoe")
            made += len(pending)
            pending = []
    pending = pending[: entries - made]
    if pending:
        case.ledger.append(pending, keys, checkpoint_signer="jdoe")
    case.close()
    return root / "case", time.perf_counter() - start


def load_bare(db_path: Path) -> list[tuple[bytes, list[tuple[Ed25519PublicKey, bytes]]]]:
    """Every entry's body bytes with (public key object, signature bytes) per signature."""
    conn = sqlite3.connect(str(db_path))
    try:
        rows = conn.execute("SELECT kind, body, signatures FROM entries ORDER BY seq").fetchall()
    finally:
        conn.close()
    keys: dict[str, Ed25519PublicKey] = {}
    for kind, body, _ in rows:
        if kind == "actor.add":
            data = json.loads(body)["data"]
            keys.setdefault(data["id"], Ed25519PublicKey.from_public_bytes(bytes.fromhex(data["public_key"])))
    return [
        (body.encode("utf-8"), [(keys[s["actor"]], bytes.fromhex(s["sig"])) for s in json.loads(sigs)])
        for _, body, sigs in rows
    ]


def time_bare(prepared: list[tuple[bytes, list[tuple[Ed25519PublicKey, bytes]]]]) -> tuple[float, float]:
    sha256 = hashlib.sha256
    start, cpu = time.perf_counter(), time.process_time()
    for body, sigs in prepared:
        message = ENTRY_DOMAIN + sha256(body).digest()
        for key, sig in sigs:
            key.verify(sig, message)  # raises InvalidSignature: the bench would stop, loudly
    return time.perf_counter() - start, time.process_time() - cpu


def time_verify(case_dir: Path) -> tuple[float, float, int]:
    from custody.case import open_case
    from custody.verify import verify_case

    start, cpu = time.perf_counter(), time.process_time()
    with open_case(case_dir) as case:
        report = verify_case(case)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not report.ok:
        print("VERIFY FAILED:", [p.as_dict() for p in report.problems[:5]], file=sys.stderr)
        raise SystemExit(1)
    return elapsed, cpu, report.entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="keep and reuse the case here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="exhibit-bench-") as tmp:
        root = Path(tmp) if args.workdir is None else args.workdir.resolve() / f"verify-{args.entries}"
        os.environ["EXHIBIT_CONFIG_DIR"] = str(root / "config")
        case_dir, built = root / "case", None
        if not (root / "complete").exists():
            if root.exists() and args.workdir is not None:
                shutil.rmtree(root)  # an interrupted build of ours
            case_dir, built = build(root, args.entries, args.batch)
            (root / "complete").touch()
        prepared = load_bare(case_dir / "case.sqlite")
        sigs = sum(len(s) for _, s in prepared)
        how = (
            "reused" if built is None else f"built in {built:.1f} s ({len(prepared) / built:,.0f} entries/s)"
        )
        print(f"ledger: {len(prepared)} entries, {sigs} entry signatures, SQLite, {how}")
        auto = os.environ.get(WORKERS_ENV)
        print(f"CPUs: {len(os.sched_getaffinity(0))}; {WORKERS_ENV}: {auto or 'unset (CPUs - 1)'}")
        print(
            "verify = verify_case() as shipped (worker processes for large ledgers); "
            "1-proc = the same with EXHIBIT_VERIFY_WORKERS=0; wall-clock seconds, CPU seconds of this process"
        )
        header = (
            f"{'round':>5}  {'verify':>7}  {'1-proc':>7}  {'1-proc CPU':>10}  {'bare':>7}  {'bare CPU':>8}  "
            f"{'verify/bare':>11}  {'1-proc/bare':>11}  {'CPU ratio':>9}"
        )
        print(header)
        results: dict[str, list[float]] = {
            k: [] for k in ("verify", "single", "single_cpu", "bare", "bare_cpu")
        }
        for round_no in range(1, args.rounds + 1):
            t_verify, _, n = time_verify(case_dir)
            os.environ[WORKERS_ENV] = "0"
            try:
                t_single, c_single, n_single = time_verify(case_dir)
            finally:
                os.environ.pop(WORKERS_ENV) if auto is None else os.environ.update({WORKERS_ENV: auto})
            t_bare, c_bare = time_bare(prepared)
            if n != len(prepared) or n_single != n:
                print(f"verify saw {n}/{n_single} entries, expected {len(prepared)}", file=sys.stderr)
                return 1
            for key, value in zip(results, (t_verify, t_single, c_single, t_bare, c_bare), strict=True):
                results[key].append(value)
            print(
                f"{round_no:>5}  {t_verify:>7.2f}  {t_single:>7.2f}  {c_single:>10.2f}  {t_bare:>7.2f}  "
                f"{c_bare:>8.2f}  {t_verify / t_bare:>11.3f}  {t_single / t_bare:>11.3f}  {c_single / c_bare:>9.3f}"
            )
        med = {k: statistics.median(v) for k, v in results.items()}
        ratios = [v / b for v, b in zip(results["verify"], results["bare"], strict=True)]
        print(
            f"median {'':>1} {med['verify']:>7.2f}  {med['single']:>7.2f}  {med['single_cpu']:>10.2f}  "
            f"{med['bare']:>7.2f}  {med['bare_cpu']:>8.2f}  {statistics.median(ratios):>11.3f}  "
            f"{statistics.median(s / b for s, b in zip(results['single'], results['bare'], strict=True)):>11.3f}  "
            f"{statistics.median(s / b for s, b in zip(results['single_cpu'], results['bare_cpu'], strict=True)):>9.3f}"
        )
        print(
            f"verify: {len(prepared) / med['verify']:,.0f} entries/s; bare: {len(prepared) / med['bare']:,.0f} "
            f"entries/s; verify/bare best {min(ratios):.3f}, median {statistics.median(ratios):.3f} "
            f"(target <= 1.3)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
