#!/usr/bin/env python3
"""Time ``exhibit`` commands as a user runs them: each a whole process, start-up included.

Why: a command's fixed cost (the interpreter, imports, opening the case) is what a user waits for
at every command, and a benchmark that times a library function misses it (issue 12). Targets:

* ``exhibit --version`` and ``exhibit --help``: <= 0.15 s;
* the fixed cost of a recording command: ``exhibit acquire`` of a 1-byte file, a custody event
  (``exhibit custody move``) and ``exhibit custody verify`` of a small ledger: <= 0.4 s;
* ``exhibit acquire`` of a 1 GiB file <= 1.15x ``md5sum`` of it, both as commands. Its read pass
  overlaps its start-up (:mod:`custody.early_read`); each round also times the command with
  ``EXHIBIT_NO_EARLY_READ=1`` (reading only after the checks, as before), so the gain is measured
  in the same run.

    .venv/bin/python bench/commands.py [--rounds 7] [--size-mib 1024] [--workdir bench/work] [--no-large]

Creates a case in ``<workdir>/commands-case`` (replaced each run) with one actor, then runs each
command ``--rounds`` times through the installed ``exhibit`` script next to this Python, each round
a fresh process, and prints wall seconds (best, median) and CPU seconds (user+sys of the child,
median) beside them. CPU seconds depend much less on the neighbours of a shared machine than wall
seconds; the load average is printed before and after. The 1 GiB file is
``<workdir>/random-<size>MiB.bin`` (random bytes, shared with acquire_vs_md5sum.py); ``md5sum``
and ``exhibit acquire`` alternate on it after one ``md5sum`` has warmed the page cache.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acquire_vs_md5sum import make_file

EXHIBIT = str(Path(sys.executable).with_name("exhibit"))
BASE_ENV = {**os.environ, "EXHIBIT_ACTOR": "bench", "COLUMNS": "100"}


@dataclass
class Timing:
    """Wall and CPU seconds of every round of one command."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def line(self, name: str, target: float | None) -> str:
        best, median = min(self.wall), statistics.median(self.wall)
        verdict = (
            ""
            if target is None
            else f"  target <= {target:.2f} s: {'met' if median <= target else 'NOT met'}"
        )
        return (
            f"{name:34} wall best {best:.3f} s, median {median:.3f} s; "
            f"cpu median {statistics.median(self.cpu):.3f} s{verdict}"
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str], timing: Timing | None = None) -> str:
    """Run one command to its end; add its wall and CPU seconds to ``timing``; its stdout."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall, used = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    if timing is not None:
        timing.wall.append(wall)
        timing.cpu.append(used)
    return done.stdout


def make_case(workdir: Path) -> dict[str, str]:
    """A new case with one actor (key without passphrase) and one 1-byte exhibit, EX-1."""
    case = workdir / "commands-case"
    if case.exists():
        shutil.rmtree(case)
    env = {**BASE_ENV, "EXHIBIT_CASE": str(case)}
    run([EXHIBIT, "init", str(case), "--case-number", "B-1", "--title", "start-up benchmark"], env)
    run([EXHIBIT, "actor", "add", "bench", "--name", "Bench Mark", "--role", "examiner"], env)
    one = workdir / "one-byte.bin"
    one.write_bytes(b"x")
    run([EXHIBIT, "acquire", str(one), "--exhibit", "EX-1", "--description", "one byte"], env)
    return env


def fixed_costs(env: dict[str, str], workdir: Path, rounds: int) -> list[tuple[str, Timing, float | None]]:
    one = str(workdir / "one-byte.bin")
    python = Timing()
    commands: list[tuple[str, Callable[[int], list[str]], float | None]] = [
        ("exhibit --version", lambda i: [EXHIBIT, "--version"], 0.15),
        ("exhibit --help", lambda i: [EXHIBIT, "--help"], 0.15),
        ("exhibit acquire (1 byte)", lambda i: [EXHIBIT, "acquire", one, "--exhibit", f"EX-S{i}", "--description", "b"], 0.4),
        ("exhibit custody move", lambda i: [EXHIBIT, "custody", "move", "EX-1", "--location", f"shelf {i}"], 0.4),
        ("exhibit custody verify", lambda i: [EXHIBIT, "custody", "verify"], 0.4),
        ("exhibit items", lambda i: [EXHIBIT, "items"], None),
        ("exhibit custody log", lambda i: [EXHIBIT, "custody", "log"], None),
        ("exhibit acquire --help", lambda i: [EXHIBIT, "acquire", "--help"], None),
    ]  # fmt: skip
    timings = {name: Timing() for name, _, _ in commands}
    for i in range(1, rounds + 1):  # rounds interleave the commands: a burst of load hits one round
        run([sys.executable, "-c", "pass"], env, python)
        for name, argv, _ in commands:
            run(argv(i), env, timings[name])
    rows: list[tuple[str, Timing, float | None]] = [("python -c pass (the interpreter)", python, None)]
    return rows + [(name, timings[name], target) for name, _, target in commands]


def large_acquire(env: dict[str, str], workdir: Path, size_mib: int, rounds: int) -> None:
    """md5sum, ``exhibit acquire`` and ``exhibit acquire`` reading only after its checks
    (``EXHIBIT_NO_EARLY_READ``, as before custody.early_read), alternated on one file."""
    path = workdir / f"random-{size_mib}MiB.bin"
    make_file(path, size_mib * 1024 * 1024)
    run(["md5sum", str(path)], env)  # page cache
    serial_env = {**env, "EXHIBIT_NO_EARLY_READ": "1"}
    md5sum, acquire, serial = Timing(), Timing(), Timing()
    ratios: list[float] = []
    serial_ratios: list[float] = []
    for i in range(1, rounds + 1):
        load = os.getloadavg()[0]
        expected = run(["md5sum", str(path)], env, md5sum).split()[0]
        for number, command_env, timing, into in (
            (f"EX-L{i}", env, acquire, ratios),
            (f"EX-N{i}", serial_env, serial, serial_ratios),
        ):
            out = run(
                [EXHIBIT, "acquire", str(path), "--exhibit", number, "--description", "1 GiB", "--json"],
                command_env,
                timing,
            )
            if f'"md5": "{expected}"' not in out:
                raise SystemExit(f"MD5 mismatch: md5sum {expected}, acquire said {out}")
            into.append(timing.wall[-1] / md5sum.wall[-1])
        print(f"  round {i} (load {load:.2f}): md5sum {md5sum.wall[-1]:.3f} s (cpu {md5sum.cpu[-1]:.2f}), "
              f"exhibit acquire {acquire.wall[-1]:.3f} s (cpu {acquire.cpu[-1]:.2f}), ratio {ratios[-1]:.3f}; "
              f"reading after the checks {serial.wall[-1]:.3f} s (cpu {serial.cpu[-1]:.2f}), "
              f"ratio {serial_ratios[-1]:.3f}")  # fmt: skip
    print(md5sum.line(f"md5sum ({size_mib} MiB)", None))
    print(acquire.line(f"exhibit acquire ({size_mib} MiB)", None))
    print(serial.line("  the same, reading after the checks", None))
    median = statistics.median(ratios)
    print(
        f"acquire / md5sum as commands: best {min(ratios):.3f}, median {median:.3f} "
        f"(target <= 1.15: {'met' if median <= 1.15 else 'NOT met'}); reading after the checks "
        f"(EXHIBIT_NO_EARLY_READ=1): best {min(serial_ratios):.3f}, median {statistics.median(serial_ratios):.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "work")
    parser.add_argument("--no-large", action="store_true", help="Skip the 1 GiB acquisition.")
    args = parser.parse_args(argv)
    if not Path(EXHIBIT).exists():
        print(f"no exhibit script at {EXHIBIT}: install the project in this Python's venv", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit or '?'}, CPUs {os.cpu_count()}, "
          f"{sys.version.split()[0]}")  # fmt: skip
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    env = make_case(args.workdir)
    for name, timing, target in fixed_costs(env, args.workdir, args.rounds):
        print(timing.line(name, target))
    if not args.no_large:
        if not shutil.which("md5sum"):
            print("md5sum (coreutils) is not installed", file=sys.stderr)
            return 2
        large_acquire(env, args.workdir, args.size_mib, args.rounds)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
