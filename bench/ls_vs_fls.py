"""Recursive listing: ``exhibit ls -r --json`` against TSK's ``fls -r -p`` on a 50,000-file ext4.

Builds ``bench/work/ls-ext4-<n>.raw`` with ``mke2fs -t ext4 -d <generated tree>`` (reused when
present), then alternates, for ``--rounds`` rounds, four subprocesses (start-up included):

* ``fls -r -p IMAGE``
* ``exhibit ls EX-001 -r --json``    — the command the target is about, the installed script, on a
  case made once: start-up fast path (triage.launch) and the C walk (triage.sources._fastwalk)
* ``python -m triage.sources.open IMAGE``  — ``list_entries`` + ``entry_to_json_line``: a FileEntry per
  entry and JSON formatted in Python (the walk is the C one when it is built)
* ``python -c <walk only>``         — the same without importing the ``custody`` package

and prints each time, the best and median ratio against fls. Output lines are counted and must
agree (fls prints one line per entry, as the walk does). Target: ratio <= 3.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The walk without custody's package import: a raw reader handed to ImageSource directly.
WALK_ONLY = """
import sys, os
sys.modules.setdefault("custody", type(sys)("custody"))  # skip custody/__init__ (ledger imports)
sys.modules["custody"].__path__ = [os.path.join(sys.argv[2], "custody")]
from triage.sources.image_source import ImageSource
from triage.sources.entry import entry_to_json_line
from custody.media import RawReader
from pathlib import Path
out = sys.stdout
with ImageSource(RawReader(Path(sys.argv[1]))) as src:
    buf = []
    for e in src.entries(recursive=True):
        buf.append(entry_to_json_line(e))
        if len(buf) >= 4096:
            out.write("\\n".join(buf) + "\\n"); buf.clear()
    if buf:
        out.write("\\n".join(buf) + "\\n")
"""


def build_image(workdir: Path, files: int) -> Path:
    image = workdir / f"ls-ext4-{files}.raw"
    if image.exists():
        return image
    mke2fs = shutil.which("mke2fs") or sys.exit("mke2fs not found (apt-get install e2fsprogs)")
    tree = workdir / f"ls-tree-{files}"
    shutil.rmtree(tree, ignore_errors=True)
    per_dir = 200
    for i in range(files):
        d = tree / f"d{i // per_dir:04d}" / f"sub{(i // per_dir) % 7}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"file_{i % per_dir:04d}.txt").write_text(f"{i}\n")
    size_mb = max(64, files * 6 // 1000)
    subprocess.run(
        [
            mke2fs,
            "-q",
            "-F",
            "-t",
            "ext4",
            "-N",
            str(files + 10_000),
            "-d",
            str(tree),
            str(image),
            f"{size_mb}M",
        ],
        check=True,
    )
    shutil.rmtree(tree)
    return image


def make_case(workdir: Path, image: Path) -> Path:
    """A case (keys kept in the work folder) with the image acquired as EX-001; reused when present."""
    case = workdir / f"ls-case-{image.stem}"
    os.environ["EXHIBIT_CONFIG_DIR"] = str(workdir / "ls-config")
    if not (case / "exhibit-case.json").exists():
        shutil.rmtree(case, ignore_errors=True)
        cli = [sys.executable, "-m", "custody.cli"]
        subprocess.run([*cli, "init", str(case), "--case-number", "BENCH", "--title", "ls bench"], check=True)
        subprocess.run(
            [
                *cli,
                "actor",
                "add",
                "bench",
                "--name",
                "Bench Mark",
                "--role",
                "examiner",
                "--case",
                str(case),
            ],
            check=True,
        )
        subprocess.run(
            [
                *cli,
                "acquire",
                str(image),
                "--exhibit",
                "EX-001",
                "--description",
                "ls bench",
                "--actor",
                "bench",
                "--case",
                str(case),
            ],
            check=True,
        )
    return case


def timed(cmd: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=True, cwd=REPO)
    return time.perf_counter() - start, proc.stdout.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    args = parser.parse_args()
    fls = shutil.which("fls") or sys.exit("fls not found (apt-get install sleuthkit)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    image = build_image(args.workdir, args.files)
    py = sys.executable
    case = make_case(args.workdir, image)
    variants = {
        "fls -r -p": [fls, "-r", "-p", str(image)],
        "exhibit ls EX-001 -r --json": [
            str(Path(py).with_name("exhibit")),
            "ls",
            "EX-001",
            "-r",
            "--json",
            "--case",
            str(case),
        ],
        "python -m triage.sources.open": [py, "-m", "triage.sources.open", str(image)],
        "walk only (no custody pkg)": [py, "-c", WALK_ONLY, str(image), str(REPO)],
    }
    for cmd in variants.values():  # warm the page cache and .pyc files
        timed(cmd)
    times: dict[str, list[float]] = {k: [] for k in variants}
    lines: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, cmd in variants.items():
            t, n = timed(cmd)
            times[name].append(t)
            lines[name] = n
    print(
        f"image: {image} ({image.stat().st_size >> 20} MiB), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    assert len(set(lines.values())) == 1, f"line counts differ: {lines}"
    print(f"entries listed: {lines['fls -r -p']}")
    base_best, base_med = min(times["fls -r -p"]), statistics.median(times["fls -r -p"])
    print(f"{'command':30} {'best s':>8} {'median s':>9} {'ratio best':>11} {'ratio median':>13}")
    for name, ts in times.items():
        best, med = min(ts), statistics.median(ts)
        print(f"{name:30} {best:8.3f} {med:9.3f} {best / base_best:11.2f} {med / base_med:13.2f}")


if __name__ == "__main__":
    main()
