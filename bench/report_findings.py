#!/usr/bin/env python3
"""The findings sections of a court report over a large case: time and peak memory.

The target (issue 10, section 2): 100,000 messages and 5,000 photos render in bounded memory
(streamed from the database, threads paginated).

    .venv/bin/python bench/report_findings.py [--messages 100000] [--photos 5000] [--workdir bench/work]

What it does:

1. Builds ``<workdir>/report-<messages>-<photos>/`` (reused when present): a folder of
   ``--photos`` JPEG photos of 1024 x 768 pixels made with Pillow, each with EXIF make, model and
   a GPS position (scattered over about 20 km), acquired as EX-001 of a new case and triaged for
   real (``exhibit triage EX-001 --plugins photos_exif``); then ``--messages`` SMS findings of
   200 conversations are **inserted straight into** ``triage_findings`` (shaped as
   ``sms_android`` stores them, as tests/triage/test_views_scale.py does: triaging a database
   that large takes minutes and is measured in docs/performance.md already).
2. Renders every findings section (``triage.report.findings.finding_sections``) page by page
   with the report's Jinja2 environment and the skeleton's page frame into
   ``<workdir>/.../out/`` (one HTML file per page, thumbnails and maps in ``media/``), as a whole
   process under ``/usr/bin/time -v``, and prints its wall and CPU time, peak resident memory,
   and per section the pages and the seconds it took.

Not part of the test suite (minutes of work); the figures are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.triage.synthetic_findings import insert_findings, sms_row  # noqa: E402

EXHIBIT = str(Path(sys.executable).parent / "exhibit")
CONVERSATIONS = 200


def _photos(folder: Path, count: int) -> None:
    from PIL import ExifTags, Image

    rng = random.Random(10)
    folder.mkdir(parents=True)
    base = Image.effect_noise((1024, 768), 40).convert("RGB")
    for n in range(count):
        image = Image.merge(
            "RGB", [base.getchannel(i).point(lambda v, k=n + i: (v + 37 * k) % 256) for i in range(3)]
        )
        exif = Image.Exif()
        exif[0x010F] = "BenchCam"
        exif[0x0110] = f"Model {n % 7}"
        exif[0x0132] = f"2026:03:{1 + n % 28:02d} 12:{n % 60:02d}:00"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat, lon = 52.3 + rng.random() * 0.2, 4.8 + rng.random() * 0.3
        gps[1], gps[3] = "N", "E"
        gps[2] = (float(int(lat)), float(int(lat * 60) % 60), round((lat * 3600) % 60, 3))
        gps[4] = (float(int(lon)), float(int(lon * 60) % 60), round((lon * 3600) % 60, 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, exif=exif)
        (folder / f"IMG_{n:05d}.jpg").write_bytes(out.getvalue())


def _messages(case_folder: Path, count: int) -> None:
    """``count`` SMS findings in CONVERSATIONS conversations, inserted as sms_android stores them."""
    from custody.case import open_case

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(count):
            body = f"message {n + 1}: the container is at pier {n % 7}, bring the papers and the cash"
            conversation = n % CONVERSATIONS
            yield sms_row(
                n, f"+1555555{conversation:04d}", str(conversation), body, fingerprint=f"bench-sms-{n}"
            )

    with open_case(case_folder) as case, case.engine.begin() as conn:
        insert_findings(conn, rows())


def build(work: Path, messages: int, photos: int) -> Path:
    """The case folder (built once, reused)."""
    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire

    root = work / f"report-{messages}-{photos}"
    case_folder = root / "case"
    if (root / "built").exists():
        return case_folder
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    _photos(root / "evidence" / "DCIM", photos)
    print(f"{photos} photos made in {time.monotonic() - started:.1f} s", flush=True)
    os.environ["EXHIBIT_CONFIG_DIR"] = str(root / "config")
    case = init_case(case_folder, case_number="2026/77", title="report benchmark")
    try:
        add_actor(case, "bench", name="Bench Mark", role="examiner")
        acquire(case, root / "evidence", exhibit="EX-001", actor="bench", description="photos")
    finally:
        case.close()
    env = {**os.environ, "EXHIBIT_CASE": str(case_folder), "EXHIBIT_ACTOR": "bench"}
    started = time.monotonic()
    subprocess.run([EXHIBIT, "triage", "EX-001", "--plugins", "photos_exif"], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"triage of the photos: {time.monotonic() - started:.1f} s", flush=True)
    _messages(case_folder, messages)
    (root / "built").touch()
    return case_folder


class FolderMedia:
    """Pictures in ``out/media``, named by their SHA-256."""

    def __init__(self, out: Path) -> None:
        self.folder = out / "media"
        self.folder.mkdir(parents=True, exist_ok=True)

    def add(self, data: bytes, suffix: str) -> str:
        name = hashlib.sha256(data).hexdigest() + suffix
        target = self.folder / name
        if not target.exists():
            target.write_bytes(data)
        return f"media/{name}"


def render(case_folder: Path, out: Path) -> None:
    """Every findings section into ``out`` (run in its own process, under ``time -v``)."""
    from custody.case import open_case
    from triage.report.context import ReportContext
    from triage.report.env import environment
    from triage.report.findings import finding_sections
    from triage.report.redact import Redactor

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with open_case(case_folder) as case:
        ctx = ReportContext(case, (), None, FolderMedia(out), Redactor.none())
        frame = environment().get_template("page.html.j2")
        for section in finding_sections(ctx):
            started, pages, size = time.monotonic(), 0, 0
            for pages, page in enumerate(section.pages(), 1):
                html = frame.render(**page, section=section, page_number=pages, page_count=None)
                name = f"{section.id}.html" if pages == 1 else f"{section.id}-{pages}.html"
                (out / name).write_text(html, encoding="utf-8")
                size += len(html)
            print(
                f"  {section.id:<15} {pages:>4} pages {size / 1e6:8.1f} MB  {time.monotonic() - started:7.1f} s",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--render", nargs=2, type=Path, metavar=("CASE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        render(*args.render)
        return
    case_folder = build(args.workdir, args.messages, args.photos)
    out = case_folder.parent / "out"
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, __file__, "--render", str(case_folder), str(out)],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr)
    user = re.search(r"User time \(seconds\): (\S+)", proc.stderr)
    system = re.search(r"System time \(seconds\): (\S+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and user and system and rss
    media = list((out / "media").iterdir())
    print(
        f"{args.messages} messages, {args.photos} photos: wall {wall.group(1)}, "
        f"CPU {float(user.group(1)) + float(system.group(1)):.1f} s, peak RSS {int(rss.group(1)) / 1024:.0f} MB, "
        f"{len(list(out.glob('*.html')))} pages, {len(media)} media files "
        f"({sum(p.stat().st_size for p in media) / 1e6:.1f} MB); load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
