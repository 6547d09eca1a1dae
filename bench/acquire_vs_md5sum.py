#!/usr/bin/env python3
"""Time ``acquire_source`` (MD5+SHA-1+SHA-256, one pass) against ``md5sum`` on the same file.

Why: acquisition computes three digests; the target is that it costs no more than 1.15x a plain
``md5sum`` of the same data, measured in the same run so both see the same machine and cache.
This times the function alone; ``bench/commands.py`` times the ``exhibit acquire`` command as a
whole process (its start-up overlapping this read, custody.early_read), which is the target.

    .venv/bin/python bench/acquire_vs_md5sum.py [--size-mib 1024] [--workdir bench/work] [--rounds 5]

Creates ``<workdir>/random-<size>MiB.bin`` (random bytes; reused if present with the right size),
warms the page cache with one ``md5sum``, then alternates ``md5sum`` and ``acquire_source`` for
``--rounds`` rounds and prints each pair, the best and the median ratio. Alternating, and taking
the best and median, matters on a shared machine: a neighbour's burst hits one run, not the result.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from custody.acquisition import acquire_source


def make_file(path: Path, size: int) -> None:
    """Write ``size`` random bytes to ``path`` (via a temporary name, so a crash leaves no stub)."""
    if path.exists() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    block = 16 * 1024 * 1024
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(block, left)
            f.write(os.urandom(n))
            left -= n
    tmp.replace(path)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def time_md5sum(path: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and the MD5 of one ``md5sum`` run."""
    cpu, start = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = subprocess.run(["md5sum", str(path)], check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu, out.split()[0]


def time_acquire(path: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (all threads) and the MD5 of one acquisition."""
    cpu, start = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    acq = acquire_source(path, kind="raw")
    return time.perf_counter() - start, _cpu(resource.RUSAGE_SELF) - cpu, acq.hashes["md5"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "work")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not shutil.which("md5sum"):
        print("md5sum (coreutils) is not installed", file=sys.stderr)
        return 2
    path = args.workdir / f"random-{args.size_mib}MiB.bin"
    make_file(path, args.size_mib * 1024 * 1024)
    print(f"file: {path} ({args.size_mib} MiB), CPUs: {len(os.sched_getaffinity(0))}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other busy processes skew both timings)")
    time_md5sum(path)  # warm the page cache: both contenders then read from memory
    ratios: list[float] = []
    sums: list[float] = []
    acqs: list[float] = []
    for round_no in range(1, args.rounds + 1):
        t_md5sum, c_md5sum, md5_a = time_md5sum(path)
        t_acq, c_acq, md5_b = time_acquire(path)
        if md5_a != md5_b:
            print(f"MD5 MISMATCH: md5sum {md5_a}, acquire {md5_b}", file=sys.stderr)
            return 1
        ratios.append(t_acq / t_md5sum)
        sums.append(t_md5sum)
        acqs.append(t_acq)
        print(
            f"round {round_no}: md5sum {t_md5sum:.3f} s (cpu {c_md5sum:.2f})  "
            f"acquire {t_acq:.3f} s (cpu {c_acq:.2f})  ratio {ratios[-1]:.3f}"
        )
    print(
        f"md5sum median {statistics.median(sums):.3f} s, acquire median {statistics.median(acqs):.3f} s; "
        f"ratio best {min(ratios):.3f}, median {statistics.median(ratios):.3f} (target <= 1.15)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
