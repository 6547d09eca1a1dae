#!/usr/bin/env python3
"""Signed ledger appends per second, on SQLite and on PostgreSQL, singly and batched.

Why: every CLI command that records something is one ``Ledger.append`` of one entry (one
transaction, one signed entry, one signed checkpoint); a triage run records thousands of
derived items in one append. Both rates bound what a lab can record.

    .venv/bin/python bench/ledger_appends.py [--single 300] [--batch 10000] [--batches 2]
                                             [--backend sqlite --backend postgresql]
                                             [--pg postgresql://postgres@127.0.0.1:5432/postgres]

For each backend: a fresh case (SQLite in a temporary folder; PostgreSQL in a fresh database
``exhibit_bench_<random>`` created through ``--pg`` and dropped at the end, even on failure)
with one registered actor, then

* single  -- ``--single`` appends of one ``item.derive`` entry each (a CLI command, minus
  process start-up and key loading);
* batched -- ``--batches`` appends of ``--batch`` entries each (a triage run).

Signing keys are loaded once; what is timed is ``Ledger.append`` itself: canonical JSON,
SHA-256, Ed25519 signing, the Merkle frontier, the transaction and the signed checkpoint.
SQLite runs with ``synchronous=FULL`` (WAL), so each single append waits for an fsync.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from custody.ledger import Draft

PG_ADMIN = os.environ.get("EXHIBIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def derived(n: int, actor: str = "bench") -> Draft:
    """An ``item.derive`` entry like the ones a triage run records (about 500 bytes of JSON).

    Shared with bench/verify_ledger.py, so both benchmarks sign the same kind of entry.
    """
    return Draft(
        kind="item.derive",
        actor=actor,
        exhibit="EX-001",
        data={
            "path": f"/Users/someone/Documents/folder-{n // 100}/file-{n:07d}.docx",
            "partition": 2,
            "inode": 100000 + n,
            "stream": None,
            "size": 4096 + n,
            "hashes": {
                "md5": hashlib.md5(n.to_bytes(8, "big")).hexdigest(),
                "sha256": hashlib.sha256(n.to_bytes(8, "big")).hexdigest(),
            },
            "parent_sha256": "2" * 64,
            "run": "bench-run-1",
        },
    )


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"exhibit_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_backend(root: Path, db_url: str | None, singles: int, batch: int, batches: int) -> dict[str, Any]:
    from custody.actors import add_actor, signing_keys
    from custody.case import init_case

    case = init_case(root / "case", case_number="BENCH/1", title="append benchmark", db_url=db_url)
    try:
        add_actor(case, "bench", name="Bench Mark", role="examiner")
        keys = signing_keys(case, ["bench"])
        n = 0
        start = time.perf_counter()
        for _ in range(singles):
            case.ledger.append([derived(n)], keys, checkpoint_signer="bench")
            n += 1
        t_single = time.perf_counter() - start
        t_batches: list[float] = []
        for _ in range(batches):
            drafts = [derived(n + i) for i in range(batch)]
            start = time.perf_counter()
            case.ledger.append(drafts, keys, checkpoint_signer="bench")
            t_batches.append(time.perf_counter() - start)
            n += batch
        if case.ledger.count() != n + 1:
            raise SystemExit(f"expected {n + 1} entries, found {case.ledger.count()}")
    finally:
        case.close()
    return {"single": (singles, t_single), "batched": (batch * batches, sum(t_batches)), "each": t_batches}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--single", type=int, default=300, help="one-entry appends (default 300)")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per batched append")
    parser.add_argument("--batches", type=int, default=2, help="batched appends (default 2)")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL allowed to CREATE/DROP DATABASE")
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgresql"]

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="exhibit-bench-") as tmp:
        os.environ["EXHIBIT_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ.pop("EXHIBIT_KEY_PASSPHRASE", None)
        for backend in backends:
            root = Path(tmp) / backend
            if backend == "sqlite":
                results[backend] = run_backend(root, None, args.single, args.batch, args.batches)
            else:
                try:
                    with pg_database(args.pg) as url:
                        results[backend] = run_backend(root, url, args.single, args.batch, args.batches)
                except Exception as exc:  # report and carry on with the other backend
                    if "psycopg" in type(exc).__module__:
                        print(f"PostgreSQL at {args.pg} unusable: {exc}", file=sys.stderr)
                        continue
                    raise

    print(f"CPUs: {len(os.sched_getaffinity(0))}")
    print(f"{'backend':<11} {'mode':<8} {'appends':>7} {'entries':>8} {'seconds':>8} {'entries/s':>10}")
    for backend, r in results.items():
        for mode in ("single", "batched"):
            entries, seconds = r[mode]
            appends = entries if mode == "single" else args.batches
            print(
                f"{backend:<11} {mode:<8} {appends:>7} {entries:>8} {seconds:>8.2f} {entries / seconds:>10,.0f}"
            )
        print(f"{'':<11} batched appends: {', '.join(f'{t:.2f} s' for t in r['each'])}")
    rate = {(b, m): r[m][0] / r[m][1] for b, r in results.items() for m in ("single", "batched")}
    for backend in results:
        print(
            f"{backend}: batched/single = {rate[backend, 'batched'] / rate[backend, 'single']:.1f}x entries/s"
        )
    if len(results) == 2:
        for mode in ("single", "batched"):
            print(
                f"{mode}: postgresql/sqlite = {rate['postgresql', mode] / rate['sqlite', mode]:.2f}x entries/s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
