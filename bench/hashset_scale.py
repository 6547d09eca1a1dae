"""Hash sets at NSRL scale: import throughput and lookups per second, against sort/join.

    .venv/bin/python bench/hashset_scale.py [--count 50000000] [--queries 1000000] [--workdir bench/work]

1. Writes ``set-<count>.txt``: ``count`` random SHA-256 values (seeded), one per line, and
   ``queries-<n>.txt``: ``n`` values, half taken from the set and half not in it.
2. Imports the set into a new case with the real command (``exhibit hashset import``) under GNU
   ``/usr/bin/time -v``: wall time, hashes per second, peak resident memory.
3. Looks every query up through ``triage.hashsets.store.lookup`` (the call matching uses, 500
   digests a query) and, for latency, 20,000 of them one at a time.
4. The same job the Unix way, in the same run: ``LC_ALL=C sort`` both lists, then ``join`` them.
   The number of queries found must be the same both ways (it is checked: the oracle).

Prints one JSON object with every figure. The machine's load is printed too (a shared machine
slows one run, not the method).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"


def write_lists(workdir: Path, count: int, queries: int, seed: int) -> tuple[Path, Path, int]:
    """The set and the queries (kept when present); returns (set, queries, queries in the set)."""
    set_path = workdir / f"set-{count}.txt"
    query_path = workdir / f"queries-{count}-{queries}.txt"
    present = queries // 2
    if set_path.exists() and query_path.exists():
        return set_path, query_path, present
    rng = random.Random(seed)
    sample_every = max(count // present, 1)
    picked: list[str] = []
    block = 1_000_000
    with open(set_path, "w") as out:
        for start in range(0, count, block):
            n = min(block, count - start)
            raw = rng.randbytes(32 * n).hex()
            lines = [raw[i * 64 : i * 64 + 64] for i in range(n)]
            picked.extend(lines[i] for i in range(0, n, sample_every) if len(picked) < present)
            out.write("\n".join(lines) + "\n")
    absent_rng = random.Random(seed + 1)
    with open(query_path, "w") as out:
        for value in picked:
            out.write(value + "\n")
        for _ in range(queries - len(picked)):
            out.write(absent_rng.randbytes(32).hex() + "\n")
    return set_path, query_path, len(picked)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of a command run under GNU time."""
    start = time.perf_counter()
    proc = subprocess.run([TIME, "-v", *cmd], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[:3]} failed: {proc.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return wall, int(rss.group(1)) * 1024 if rss else 0, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=50_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default=None, help="A PostgreSQL URL for the case (default: SQLite).")
    args = parser.parse_args()
    work = args.workdir / "hashset"
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"count": args.count, "queries": args.queries, "cpus": os.cpu_count()}
    result["load_before"] = os.getloadavg()

    start = time.perf_counter()
    set_path, query_path, present = write_lists(work, args.count, args.queries, args.seed)
    result["generate_s"] = round(time.perf_counter() - start, 1)
    result["set_bytes"] = set_path.stat().st_size

    # -- Exhibit: import with the real command --------------------------------------------------
    sys.path.insert(0, str(ROOT))
    from custody.actors import add_actor
    from custody.case import init_case, open_case

    case_dir = work / f"case-{args.count}"
    shutil.rmtree(case_dir, ignore_errors=True)
    env = {
        **os.environ,
        "EXHIBIT_CASE": str(case_dir),
        "EXHIBIT_ACTOR": "bench",
        "EXHIBIT_KEY_PASSPHRASE": "bench",
    }
    os.environ["EXHIBIT_KEY_PASSPHRASE"] = "bench"
    case = init_case(case_dir, case_number="bench", title="hash sets at scale", db_url=args.database)
    try:
        add_actor(case, "bench", name="Bench", role="examiner", passphrase="bench")
    finally:
        case.close()
    exhibit = [sys.executable, "-m", "triage.launch"]
    wall, rss, out = timed(
        [*exhibit, "hashset", "import", str(set_path), "--name", "scale", "--kind", "known-good", "--json"],
        env,
    )
    imported = json.loads(out)
    result["import"] = {
        "wall_s": round(wall, 1),
        "hashes_per_s": round(args.count / wall),
        "peak_rss_mb": round(rss / 2**20),
        "imported": imported["counts"]["imported"],
        "garbage": imported["counts"]["garbage"],
    }
    db = case_dir / "case.sqlite"
    if db.exists():
        result["database_bytes"] = db.stat().st_size

    # -- Exhibit: lookups -------------------------------------------------------------------------
    from triage.hashsets import store

    with open(query_path) as fh:
        digests = [bytes.fromhex(line.strip()) for line in fh]
    case = open_case(case_dir)
    try:
        with case.engine.connect() as conn:
            start = time.perf_counter()
            found = sum(1 for _ in store.lookup(conn, "sha256", digests))
            batch_s = time.perf_counter() - start
            one = digests[:: max(len(digests) // 20_000, 1)][:20_000]
            start = time.perf_counter()
            single = 0
            for d in one:
                single += sum(1 for _ in store.lookup(conn, "sha256", [d]))
            single_s = time.perf_counter() - start
    finally:
        case.close()
    result["lookup"] = {
        "batched_per_s": round(len(digests) / batch_s),
        "batched_s": round(batch_s, 2),
        "found": found,
        "one_at_a_time_per_s": round(len(one) / single_s),
    }

    # -- sort / join ------------------------------------------------------------------------------
    cenv = {**os.environ, "LC_ALL": "C", "TMPDIR": str(work)}
    sorted_set, sorted_q = work / "set.sorted", work / "queries.sorted"
    wall_sort, rss_sort, _ = timed(["sort", "-S", "25%", "-o", str(sorted_set), str(set_path)], cenv)
    wall_sortq, _, _ = timed(["sort", "-o", str(sorted_q), str(query_path)], cenv)
    start = time.perf_counter()
    joined = subprocess.run(
        ["join", str(sorted_set), str(sorted_q)], capture_output=True, env=cenv, check=True
    )
    wall_join = time.perf_counter() - start
    join_found = joined.stdout.count(b"\n")
    result["sort_join"] = {
        "sort_set_s": round(wall_sort, 1),
        "sort_set_peak_rss_mb": round(rss_sort / 2**20),
        "sort_queries_s": round(wall_sortq, 1),
        "join_s": round(wall_join, 1),
        "found": join_found,
    }
    result["agree"] = found == join_found == present
    result["load_after"] = os.getloadavg()
    for p in (sorted_set, sorted_q):
        p.unlink(missing_ok=True)
    print(json.dumps(result, indent=2))
    if not result["agree"]:
        sys.exit(f"lookups found {found}, join {join_found}, expected {present}")


if __name__ == "__main__":
    main()
