#!/usr/bin/env python3
"""Triage throughput with 1 and 2 Celery workers against the local engine, on the same image.

    .venv/bin/python bench/distributed.py [--files 10000] [--content-mb 600] [--rounds 2]
        [--broker redis://127.0.0.1:6379/12] [--workdir bench/work]

What it does:

1. Builds (or reuses) the generated ext4 image of ``bench/triage_vs_sha256sum.py`` (same tree
   generator: seeded sizes and contents plus the corpus databases and JPEGs) and makes a case
   template with it acquired (not timed).
2. For ``--rounds`` rounds, on a fresh copy of the case each time, times ``exhibit triage EX-001
   --no-carve --json`` (a subprocess, start-up included) as:
   ``local-1`` (``--workers 1``), ``local-2`` (``--workers 2``), ``celery-1`` (one
   ``exhibit worker --concurrency 1``) and ``celery-2`` (two such workers), the workers started
   before the round and stopped after it (their start-up is not timed; it happens once per
   machine, not per run).
3. Prints, per mode, the median wall time, files/s and MB/s, the coordinator's CPU seconds (the
   ``exhibit triage`` process and its children) and the workers' CPU seconds (read from
   ``/proc`` for the worker process trees), and checks every mode stored the same counts.

Carving is off (carved files are read by the coordinator's own processes in every mode). Not part
of the test suite: it needs a broker (Redis at the default URL), ~2 GB in the work folder, minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_vs_sha256sum import build_image, make_case, timed  # noqa: E402

EXHIBIT = str(Path(sys.executable).with_name("exhibit"))
TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds of process ``root`` and its live descendants, and of the children they reaped."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        cpu = sum(int(v) for v in fields[11:15]) / TICKS  # utime stime cutime cstime
        stats[int(entry)] = (ppid, cpu)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo.extend(p for p, (ppid, _) in stats.items() if ppid == pid)
    return total


class Workers:
    def __init__(self, broker: str, count: int, logs: Path) -> None:
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.procs = []
        for n in range(count):
            log = open(logs / f"{self.queue}-{n}.log", "wb")  # noqa: SIM115 - the worker's output
            args = ["--broker", broker, "--queue", self.queue, "--concurrency", "1"]
            args += ["--name", f"bench{n}-{self.queue}@%h", "--scratch", str(logs / "scratch")]
            self.procs.append(
                subprocess.Popen(
                    [EXHIBIT, "worker", *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        from triage.distributed.app import listening, make_app, release

        app = make_app(broker)
        deadline = time.monotonic() + 60
        while len(listening(app, self.queue, timeout=0.5)) < count:
            if time.monotonic() > deadline:
                sys.exit(f"workers did not start (logs in {logs})")
        release(app)

    def cpu(self) -> float:
        return sum(tree_cpu(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            p.wait(60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--content-mb", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--job-files", type=int, default=1024)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    args = parser.parse_args(argv)

    image = build_image(args.workdir, args.files, args.content_mb, 0.0, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="exhibit-bench-distributed-"))
    env = {**os.environ, "EXHIBIT_CONFIG_DIR": str(tmp / "config"), "EXHIBIT_KEY_PASSPHRASE": ""}
    os.environ.update({"EXHIBIT_CONFIG_DIR": env["EXHIBIT_CONFIG_DIR"]})
    logs = tmp / "logs"
    logs.mkdir()
    template = make_case(tmp, image, env)
    subprocess.run(["cat", str(image)], stdout=subprocess.DEVNULL, check=True)  # page cache
    modes = ["local-1", "local-2", "celery-1", "celery-2"]
    walls: dict[str, list[float]] = {m: [] for m in modes}
    coord_cpu: dict[str, list[float]] = {m: [] for m in modes}
    worker_cpu: dict[str, list[float]] = {m: [] for m in modes}
    counts: dict[str, dict[str, int]] = {}
    try:
        for r in range(args.rounds):
            for mode in modes:
                case = tmp / f"case-{mode}-{r}"
                shutil.copytree(template, case)
                cmd = [EXHIBIT, "triage", "EX-001", "--actor", "bench", "--case", str(case), "--no-carve"]
                workers = None
                if mode.startswith("local"):
                    cmd += ["--workers", mode[-1]]
                else:
                    workers = Workers(args.broker, int(mode[-1]), logs)
                    cmd += [
                        "--broker",
                        args.broker,
                        "--queue",
                        workers.queue,
                        "--job-files",
                        str(args.job_files),
                    ]
                before = workers.cpu() if workers else 0.0
                wall, cpu, out = timed([*cmd, "--json"], env)
                if workers is not None:
                    worker_cpu[mode].append(workers.cpu() - before)
                    workers.stop()
                summary = json.loads(out)
                counts.setdefault(mode, summary["counts"])
                if summary["counts"]["files"] != counts["local-1"]["files"]:
                    sys.exit(f"{mode}: {summary['counts']} differs from local-1's {counts['local-1']}")
                walls[mode].append(wall)
                coord_cpu[mode].append(cpu)
                print(f"round {r + 1} {mode}: {wall:.2f} s wall, coordinator CPU {cpu:.2f} s", flush=True)
                shutil.rmtree(case)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = counts["local-1"]
    print(
        f"\nimage {image.name}: {n['files']} files, {n['bytes'] / 1e6:.0f} MB read, {n['findings']} findings"
    )
    print("mode      wall s (median)  files/s   MB/s   coordinator CPU s  workers CPU s")
    for mode in modes:
        wall = statistics.median(walls[mode])
        wcpu = f"{statistics.median(worker_cpu[mode]):.1f}" if worker_cpu[mode] else "-"
        print(
            f"{mode:9} {wall:15.2f} {n['files'] / wall:8.0f} {n['bytes'] / 1e6 / wall:6.1f}"
            f" {statistics.median(coord_cpu[mode]):18.1f}  {wcpu:>13}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
