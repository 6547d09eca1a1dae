#!/usr/bin/env python3
"""Full triage of a 50,000-file ext4 image against coreutils ``sha256sum`` of the whole image.

The target (issue text): a full triage (walk + SHA-256 of every file + MIME + plugins + storing
everything, ledger included) takes at most **1.0x** the time of ``sha256sum IMAGE``, measured in
the same run. The triage reads only the allocated files, less than the whole image.

    .venv/bin/python bench/triage_vs_sha256sum.py [--files 50000] [--content-mb 1400] [--rounds 3]
        [--text-percent 0] [--workers N] [--workdir bench/work] [--keep] [--without-libmagic]

What it does:

1. Builds ``<workdir>/triage-ext4-<files>-<content>MB-t<text>-s<seed>.raw`` (reused when present):
   a tree of ``--files`` files generated from a seeded RNG (sizes log-uniform in three bands, plus
   a few large files to reach ``--content-mb``; content is random bytes or compressible binary,
   ``--text-percent`` of the files are log-like text), plus real SQLite databases and JPEGs copied
   from ``../shared/corpus`` (relative to the project root) when present (so the plugins have work: EXIF, SMS, WhatsApp,
   browser history), then ``mke2fs -t ext4 -d TREE -F IMAGE SIZE``. The image is at least
   1.5 GiB. The tree is deleted afterwards.
2. Makes a case template in a temporary folder: ``exhibit init``, ``exhibit actor add``,
   ``exhibit acquire IMAGE --exhibit EX-001`` (not timed).
3. Warms the page cache (reads the image once), then for ``--rounds`` rounds alternates
   ``sha256sum IMAGE`` and ``exhibit triage EX-001 --json`` (both subprocesses, start-up
   included; triage runs on a fresh copy of the case template each round) and prints each pair,
   the CPU seconds of each, best and median ratio. The triage counts are checked (every file
   hashed, no read errors).

Not part of the test suite: it needs ~2 GB in the work folder and minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"  # ../shared/corpus from the project root, as the tests use it
MIN_IMAGE = 1536 * 1024 * 1024  # the issue asks for a >= 1.5 GB image
BLOCK = 4096

#: Corpus files copied into the tree, at the paths a plugin (or an examiner) expects them.
DATABASES = {
    "chats/mmssms.db": ["data/data/com.android.providers.telephony/databases/mmssms.db"],
    "chats/contacts2.db": ["data/data/com.android.providers.contacts/databases/contacts2.db"],
    "chats/whatsapp_ios_ChatStorage.sqlite": [
        "private/var/mobile/Containers/Shared/AppGroup/WA/ChatStorage.sqlite"
    ],
    "chats/imessage_chat.db": ["private/var/mobile/Library/SMS/sms.db"],
    "chats/skype_main.db": ["home/alice/.Skype/alice/main.db"],
    "browsers/chrome_History": [
        "home/alice/.config/google-chrome/Default/History",
        "home/bob/.config/google-chrome/Profile 1/History",
    ],
    "browsers/firefox_places.sqlite": ["home/alice/.mozilla/firefox/x1.default/places.sqlite"],
    "browsers/safari_History.db": ["Users/carol/Library/Safari/History.db"],
}
JPEG_COPIES = 12  # each corpus JPEG appears this many times (DCIM folders, renamed copies)


# -- the image ------------------------------------------------------------------------------------


def _sizes(rng: random.Random, count: int, content: int) -> list[int]:
    """``count`` file sizes totalling about ``content`` bytes: mostly small, some large."""
    sizes = []
    for _ in range(count):
        r = rng.random()
        if r < 0.02:
            sizes.append(0)
        elif r < 0.80:
            sizes.append(int(math.exp(rng.uniform(math.log(64), math.log(16 * 1024)))))
        elif r < 0.985:
            sizes.append(int(math.exp(rng.uniform(math.log(16 * 1024), math.log(128 * 1024)))))
        else:
            sizes.append(int(math.exp(rng.uniform(math.log(128 * 1024), math.log(2 * 1024 * 1024)))))
    have = sum(sizes)
    if have > content:
        sizes = [int(s * content / have) for s in sizes]
    elif have < content:  # a few big files (videos, archives) make up the rest
        rest = content - have
        big = max(1, rest // (48 * 1024 * 1024))
        for i, at in enumerate(rng.sample(range(count), big)):
            sizes[at] += rest // big + (rest % big if i == 0 else 0)
    return sizes


def _text(rng: random.Random, size: int) -> bytes:
    words = ["GET", "POST", "/index.html", "200", "404", "user", "login", "session", "ok", "error"]
    lines = []
    total = 0
    n = 0
    while total < size:
        line = (
            f"2026-11-{rng.randint(1, 28):02d} 12:{n % 60:02d}:{rng.randint(0, 59):02d} host{rng.randint(1, 9)} "
            + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        )
        lines.append(line)
        total += len(line) + 1
        n += 1
    return ("\n".join(lines) + "\n").encode()[:size]


def build_tree(tree: Path, files: int, content: int, text_percent: float, seed: int) -> int:
    """Write the tree; return the number of bytes written."""
    rng = random.Random(seed)
    pool = rng.randbytes(64 * 1024 * 1024)  # random content: slices of one seeded pool
    extra: list[tuple[Path, str]] = []
    if CORPUS.is_dir():
        for rel, dests in DATABASES.items():
            src = CORPUS / rel
            if src.is_file():
                extra += [(src, d) for d in dests]
        jpegs = sorted(p for p in (CORPUS / "images").rglob("*.jpg") if p.is_file())
        for copy in range(JPEG_COPIES):
            for j, src in enumerate(jpegs):
                extra.append((src, f"DCIM/{100 + copy}CANON/IMG_{j:04d}.jpg"))
    generated = files - len(extra)
    sizes = _sizes(rng, generated, content - sum(s.stat().st_size for s, _ in extra))
    written = 0
    per_dir = 200
    exts = [".bin", ".dat", ".log", ".cache", ".tmp", "", ".idx", ".pak"]
    for i, size in enumerate(sizes):
        d = tree / f"vol{i // 10000}" / f"dir{(i // per_dir) % 50:03d}"
        if i % per_dir == 0 or i % 10000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        r = rng.random() * 100
        if r < text_percent:
            data = _text(rng, size)
            name = f"f{i:06d}.txt"
        elif r < text_percent + (100 - text_percent) * 0.4:
            # compressible binary: a short random pattern, repeated
            pat = pool[(p := rng.randrange(len(pool) - 4096)) : p + rng.randint(16, 4096)]
            data = (pat * (size // max(1, len(pat)) + 1))[:size]
            name = f"f{i:06d}{rng.choice(exts)}"
        else:
            if size <= len(pool):
                off = rng.randrange(len(pool) - size + 1)
                data = pool[off : off + size]
            else:
                off = rng.randrange(len(pool))
                rot = pool[off:] + pool[:off]
                data = (rot * (size // len(pool) + 1))[:size]
            name = f"f{i:06d}{rng.choice(exts)}"
        (d / name).write_bytes(data)
        written += len(data)
    for src, rel in extra:
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written += dest.stat().st_size
    return written


def build_image(workdir: Path, files: int, content_mb: int, text_percent: float, seed: int) -> Path:
    tag = f"triage-ext4-{files}-{content_mb}MB-t{text_percent:g}-s{seed}"
    image = workdir / f"{tag}.raw"
    if image.exists():
        return image
    mke2fs = shutil.which("mke2fs") or sys.exit("mke2fs not found (apt-get install e2fsprogs)")
    workdir.mkdir(parents=True, exist_ok=True)
    tree = workdir / f"{tag}.tree"
    shutil.rmtree(tree, ignore_errors=True)
    t0 = time.perf_counter()
    written = build_tree(tree, files, content_mb * 1000 * 1000, text_percent, seed)
    print(f"tree: {files} files, {written / 1e9:.2f} GB written in {time.perf_counter() - t0:.1f} s")
    size_mb = ext4_image(mke2fs, tree, files, image)
    print(f"image: {image} ({size_mb} MiB) built in {time.perf_counter() - t0:.1f} s")
    return image


def ext4_image(mke2fs: str, tree: Path, files: int, image: Path) -> int:
    """``image``: an ext4 file system of ``tree`` (``mke2fs -d``, no root needed), at least
    MIN_IMAGE bytes; the tree is removed. Returns the image's size in MiB."""
    blocks = sum(-(-os.path.getsize(os.path.join(d, f)) // BLOCK) for d, _, fs in os.walk(tree) for f in fs)
    need = blocks * BLOCK + (files + 10_000) * 256 + 160 * 1024 * 1024  # + inode tables, journal
    size_mb = -(-max(MIN_IMAGE, int(need * 1.05)) // (1024 * 1024))
    part = image.with_suffix(".part")
    cmd = [
        mke2fs,
        "-q",
        "-F",
        "-t",
        "ext4",
        "-N",
        str(files + 10_000),
        "-d",
        str(tree),
        str(part),
        f"{size_mb}M",
    ]
    subprocess.run(cmd, check=True)
    part.replace(image)
    shutil.rmtree(tree)
    return size_mb


#: ``exhibit`` with libmagic replaced by a constant, for ``--without-libmagic``. The engine's workers
#: are forked, so they inherit the replacement. Diagnostic only: the stored MIME types are wrong.
NO_LIBMAGIC = (
    "import sys, triage.engine.per_file as e; "
    "e.sniff_mime = lambda head: 'application/octet-stream' if head else 'inode/x-empty'; "
    "from triage.launch import main; sys.argv[0] = 'exhibit'; main()"
)


# -- timing ---------------------------------------------------------------------------------------


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the process and its children) and stdout of ``cmd``."""
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall, _children_cpu() - cpu, proc.stdout


def make_case(tmp: Path, image: Path, env: dict[str, str]) -> Path:
    exhibit = str(Path(sys.executable).with_name("exhibit"))
    case = tmp / "template"
    for cmd in (
        [exhibit, "init", str(case), "--case-number", "BENCH/1", "--title", "triage benchmark"],
        [exhibit, "actor", "add", "bench", "--name", "Bench Mark", "--role", "examiner", "--case", str(case)],
        [
            exhibit, "acquire", str(image), "--exhibit", "EX-001", "--description", "bench ext4 image",
            "--actor", "bench", "--case", str(case),
        ],
    ):  # fmt: skip
        timed(cmd, env)
    return case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--content-mb", type=int, default=1400, help="bytes of file content, in MB")
    parser.add_argument("--text-percent", type=float, default=0.0, help="share of log-like text files")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="exhibit triage --workers")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--keep", action="store_true", help="keep the last round's case folder")
    parser.add_argument(
        "--without-libmagic",
        action="store_true",
        help="diagnostic: also time a triage whose MIME sniffing is replaced by a constant (not a valid triage)",
    )
    args = parser.parse_args(argv)
    if not shutil.which("sha256sum"):
        print("sha256sum (coreutils) is not installed", file=sys.stderr)
        return 2
    image = build_image(args.workdir, args.files, args.content_mb, args.text_percent, args.seed)
    exhibit = str(Path(sys.executable).with_name("exhibit"))
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    env = {**os.environ, "EXHIBIT_CONFIG_DIR": str(tmp / "config"), "EXHIBIT_ACTOR": "bench"}
    env.pop("EXHIBIT_CASE", None)
    try:
        template = make_case(tmp, image, env)
        with open(image, "rb") as fh:  # warm the page cache: both contenders read from memory
            while fh.read(16 << 20):
                pass
        print(
            f"image: {image.name} ({image.stat().st_size / 2**30:.2f} GiB), CPUs: {len(os.sched_getaffinity(0))}, "
            f"Python {sys.version.split()[0]}, load average before: {os.getloadavg()[0]:.2f}"
        )
        rows = []
        bare_rows: list[float] = []
        for round_no in range(1, args.rounds + 1):
            t_sum, c_sum, _ = timed(["sha256sum", str(image)])
            case = tmp / f"case-{round_no}"
            shutil.copytree(template, case)
            cmd = [exhibit, "triage", "EX-001", "--actor", "bench", "--case", str(case), "--json"]
            if args.workers:
                cmd += ["--workers", str(args.workers)]
            t_tri, c_tri, out = timed(cmd, env)
            counts = json.loads(out)["counts"]
            if counts.get("errors") or not counts.get("files"):
                print(f"unexpected triage counts: {counts}", file=sys.stderr)
                return 1
            rows.append((t_sum, t_tri))
            if args.without_libmagic:
                bare = tmp / f"case-{round_no}-bare"
                shutil.copytree(template, bare)
                cmd_bare = [sys.executable, "-c", NO_LIBMAGIC, *cmd[1:]]
                cmd_bare[cmd_bare.index(str(case))] = str(bare)
                t_bare, c_bare, _ = timed(cmd_bare, env)
                bare_rows.append(t_bare / t_sum)
                print(
                    f"         diagnostic, MIME replaced by a constant: triage {t_bare:.2f} s (cpu {c_bare:.2f})  "
                    f"ratio {t_bare / t_sum:.3f}"
                )
                shutil.rmtree(bare)
            print(
                f"round {round_no}: sha256sum {t_sum:.2f} s (cpu {c_sum:.2f})  triage {t_tri:.2f} s "
                f"(cpu {c_tri:.2f})  ratio {t_tri / t_sum:.3f}   [{counts['entries']} entries, "
                f"{counts['files']} files, {counts['bytes'] / 1e9:.2f} GB, {counts['findings']} findings, "
                f"{counts.get('derived', 0)} derived, {counts['warnings']} warnings]"
            )
            if not (args.keep and round_no == args.rounds):
                shutil.rmtree(case)
            else:
                print(f"kept: {case}")
        ratios = [t / s for s, t in rows]
        print(
            f"sha256sum median {statistics.median(s for s, _ in rows):.2f} s, triage median "
            f"{statistics.median(t for _, t in rows):.2f} s; ratio best {min(ratios):.3f}, "
            f"median {statistics.median(ratios):.3f} (target <= 1.0)"
        )
        if bare_rows:
            print(
                f"diagnostic without libmagic: ratio best {min(bare_rows):.3f}, median "
                f"{statistics.median(bare_rows):.3f} (shows what libmagic's own CPU time costs)"
            )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
