#!/usr/bin/env python3
"""``exhibit report`` of a large case: time and peak memory of the HTML folder and of the PDF.

    .venv/bin/python bench/report_large.py [--messages 100000] [--photos 5000] [--workdir bench/work]

What it does:

1. Builds (or reuses) ``<workdir>/report-<messages>-<photos>/extraction``: the WhatsApp
   ``msgstore.db`` + ``wa.db`` of bench/whatsapp_million.py (the app's schema as the WhatsApp
   tests declare it; 300 chats, ``--messages`` messages of 4 to 40 made-up words) and ``--photos``
   JPEGs of 160 x 120 pixels written by Pillow in ``DCIM/Camera``, each with EXIF (make, model,
   date; one in four with a GPS position).
2. Makes the case (``exhibit init``, ``actor add``, ``acquire``, ``triage`` with whatsapp_android
   and photos_exif; reused when present; not timed) and checks the findings are all there.
3. Runs ``exhibit report --format html`` and ``--format pdf`` as whole processes under
   ``/usr/bin/time -v``: wall and CPU seconds, peak resident set size, and the size of what was
   written (files, pages). ``time -v`` gives the largest single process; the PDF's layout runs in
   child processes side by side, so the memory of the whole process tree (the report and every
   layout process) is also summed from ``/proc`` every second and its peak printed: resident set
   sizes (which count pages the processes share once per process, an overestimate) and
   proportional set sizes (``smaps_rollup``: shared pages divided among their processes).

The report renders the findings sections of ``triage.report.findings`` when that package is
installed (every message as a thread page, the gallery); without it, the report's own sections
(exhibits, custody, methodology, the 5,000+ derived files, verification) and a placeholder.

Not part of the test suite: building the case takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from whatsapp_million import build, timed  # noqa: E402

EXHIBIT = str(Path(sys.executable).parent / "exhibit")


def photos(folder: Path, count: int, seed: int = 10) -> None:
    """``count`` small JPEGs with EXIF in ``folder`` (written once)."""
    from PIL import Image

    done = folder / ".complete"
    if done.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for n in range(count):
        image = Image.new("RGB", (160, 120), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        exif = Image.Exif()
        exif[0x010F] = "Bench"  # Make
        exif[0x0110] = f"Camera {n % 7}"  # Model
        exif[0x0132] = f"2025:{1 + n % 12:02d}:{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00"
        if n % 4 == 0:
            gps = exif.get_ifd(0x8825)
            gps[1] = "N"
            gps[2] = (51.0, float(n % 60), 0.0)
            gps[3] = "W"
            gps[4] = (0.0, float(n % 50), 0.0)
        image.save(folder / f"IMG_{n:05d}.jpg", "JPEG", exif=exif, quality=80)
    done.write_text("")


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a command's process tree every ``every`` seconds.

    The command is found by a string its command line holds (the report's output path); the tree
    is every process whose parent chain leads to it. Linux ``/proc`` only.
    """

    def __init__(self, mark: str, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.mark, self.every = mark.encode(), every
        self.peak_kib = 0
        self.peak_pss_kib = 0
        self.most_processes = 0
        self.done = threading.Event()

    @staticmethod
    def _processes() -> dict[int, tuple[int, bytes, int]]:
        """pid -> (parent pid, command line, resident KiB)."""
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            found[int(entry.name)] = (
                int(fields[1]),
                cmdline,
                int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024,
            )
        return found

    def sample(self) -> None:
        procs = self._processes()
        roots = {
            pid
            for pid, (_, cmdline, _) in procs.items()
            if self.mark in cmdline and b"/usr/bin/time" not in cmdline
        }
        tree = set(roots)
        grew = True
        while grew:
            more = {pid for pid, (parent, _, _) in procs.items() if parent in tree} - tree
            tree |= more
            grew = bool(more)
        self.peak_kib = max(self.peak_kib, sum(procs[pid][2] for pid in tree))
        self.peak_pss_kib = max(self.peak_pss_kib, sum(self._pss(pid) for pid in tree))
        self.most_processes = max(self.most_processes, len(tree))

    @staticmethod
    def _pss(pid: int) -> int:
        """Proportional set size of ``pid`` in KiB (0 when it has ended)."""
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.sample()


def exhibit(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([EXHIBIT, *args], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(
            f"exhibit {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr[-3000:]}"
        )
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--photos", type=int, default=5_000)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    ap.add_argument(
        "--formats", default="html,pdf", help="comma-separated: html, pdf; empty: build the case only"
    )
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    folder = (args.workdir / f"report-{args.messages}-{args.photos}").resolve()
    started = time.perf_counter()
    extraction = build(folder, args.messages)
    photos(extraction / "DCIM" / "Camera", args.photos)
    print(f"extraction: {extraction} (built/reused in {time.perf_counter() - started:.1f} s)")
    case = folder / "case"
    env = {**os.environ, "EXHIBIT_CONFIG_DIR": str(folder / "config"), "EXHIBIT_CASE": str(case)}
    env.pop("EXHIBIT_KEY_PASSPHRASE", None)
    if not (case / "ready").exists():
        shutil.rmtree(case, ignore_errors=True)
        shutil.rmtree(folder / "config", ignore_errors=True)
        started = time.perf_counter()
        exhibit(["init", str(case), "--case-number", "BENCH/10", "--title", "large report"], env)
        exhibit(["actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner"], env)
        exhibit(
            ["acquire", str(extraction), "--exhibit", "EX-001", "--description", "phone", "--actor", "ex"],
            env,
        )
        exhibit(["triage", "EX-001", "--actor", "ex", "--plugins", "whatsapp_android,photos_exif"], env)
        (case / "ready").write_text("")
        print(f"case triaged in {time.perf_counter() - started:.1f} s")
    con = sqlite3.connect(f"file:{case / 'case.sqlite'}?mode=ro", uri=True)
    counts = dict(
        con.execute("SELECT record_type, count(*) FROM triage_findings GROUP BY record_type").fetchall()
    )
    derived = con.execute("SELECT count(*) FROM entries WHERE kind = 'item.derive'").fetchone()[0]
    con.close()
    messages = counts.get("chat/android/whatsapp/message", 0)
    pictures = sum(v for k, v in counts.items() if k.startswith("media/photo"))
    if messages != args.messages or pictures < args.photos:
        raise SystemExit(f"expected {args.messages} messages and {args.photos} photos, found {counts}")
    print(f"case: {messages} messages, {pictures} photo findings, {derived} derived items")
    try:
        import triage.report.findings  # noqa: F401

        print("findings sections: triage.report.findings (rendered)")
    except ModuleNotFoundError:
        print("findings sections: not installed (placeholder); the report's own sections only")
    out = folder / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for fmt, name in (("html", "report"), ("pdf", "report.pdf")):
        if fmt not in formats:
            continue
        tree = TreeMemory(str(out / name))
        tree.start()
        try:
            wall, cpu, peak, res = timed(
                [EXHIBIT, "report", "--format", fmt, "--out", str(out / name), "--actor", "ex", "--json"],
                env=env,
            )
        finally:
            tree.done.set()
            tree.join()
        result = json.loads(res.stdout)
        target = out / name
        size = (
            sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
            if target.is_dir()
            else target.stat().st_size
        )
        what = f"{result['files']} files" if fmt == "html" else f"{result['pages']} pages"
        print(
            f"report --format {fmt}: {wall:.1f} s (cpu {cpu:.1f} s), peak RSS {peak / 1024:.0f} MB "
            f"(one process); process tree (up to {tree.most_processes} processes): peak RSS sum "
            f"{tree.peak_kib / 1024:.0f} MB, peak PSS sum {tree.peak_pss_kib / 1024:.0f} MB; {what}, "
            f"{size / 1e6:.1f} MB written"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
