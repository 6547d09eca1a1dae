#!/usr/bin/env python3
"""Full triage of several ext4 images, one per mix of files, each against ``sha256sum`` of its image.

Issue 12, section 2: the triage target (``exhibit triage`` as a whole command, start-up included,
first run on a fresh case, at most **1.0x** ``sha256sum IMAGE`` measured in the same run) must hold
on every realistic mix of files, not only on the benchmark's own. The mixes:

``current``
    the image of ``bench/triage_vs_sha256sum.py`` (50,000 files, 1.4 GB, random and repetitive
    binary, the corpus databases and JPEGs).
``small``
    many small files, as system volumes have: 60,000 files of median about 2 KB (log-normal),
    a fifth of them text (configuration, scripts, logs) and the rest binary, under a
    ``usr/``-like tree, plus a few large files (libraries, packs) for the bulk of the bytes.
``misnamed``
    names that invite plugins over content that is not theirs: 50,000 files named ``.jpg``,
    ``.db``, ``.sqlite``, ``.pdf``, ``.docx``, ``.plist`` (and ``History``, ``sms.db``,
    ``msgstore.db``, ``places.sqlite``: plugins' own file names) holding random bytes, 300 B to
    60 KB, plus a few large files.
``phone``
    a phone extraction laid out as a full file-system extraction: the app databases of
    ``scripts/make_phone_extraction.py`` (real schemas, a made-up story) and the corpus databases
    at their app paths, 600 more SQLite databases of other apps (their own small schemas, WAL
    and journal files beside some), 3,000 JPEGs in ``DCIM`` and app media folders (the corpus
    pictures), and app caches, preferences and thumbnails (small binary and XML files).
``system``
    a system volume's real files: copies of this machine's own ``/etc``, ``/usr/share`` (doc,
    man, i18n, perl5, vim, locale), ``/usr/include``, ``/usr/lib/python3``, ``/usr/bin`` and
    ``/usr/lib/x86_64-linux-gnu``, in that order, up to 1.6 GB (regular files only; symbolic
    links and unreadable files left out). The other mixes' text is made up; this one's is the
    real documentation, configuration, headers and scripts a seized computer holds, which cost
    the text-reading stages (the MIME type of text, the identifier search) several times more
    a byte. It depends on what the machine has installed: the script prints the tree's file
    count and bytes, and its text share, so runs on different machines can be compared.

The corpus is ``../shared/corpus`` relative to the project root, as the tests use it; without it
the mixes have no corpus files (the script says so).

    .venv/bin/python bench/triage_mixes.py [--mix current --mix small ...] [--rounds 5]
        [--workdir bench/work] [--workers N]
    .venv/bin/python bench/triage_mixes.py --profile MIX [--workdir bench/work]
    .venv/bin/python bench/triage_mixes.py --per-file 600

Each image is built once (``mke2fs -t ext4 -d TREE``, no root needed) and reused from the work
folder; images are at least 1.5 GiB, as the original benchmark's. For each mix: a case is made
(``init``, ``actor add``, ``acquire``; not timed), the image is read once to warm the page cache,
then ``sha256sum IMAGE`` and ``exhibit triage EX-001 --json`` (on a fresh copy of the case) are
alternated for ``--rounds`` rounds, both whole processes. It prints wall and CPU seconds (user +
system, children included) of each, the best and median ratio per mix, and a summary table.

``--profile MIX`` runs one triage of the mix in this process under cProfile, with the pool
workers profiled too (each worker writes its own profile), and prints the microseconds per file
spent in each stage of the per-file path and of the run. ``--per-file N`` times, in process and
without images, two per-file stages on content like the mixes': the SQLite plugin choice on N app
databases of the ``phone`` mix's kind and the MIME type of N text heads of the ``small`` mix's.

Not part of the test suite: it needs about 8 GB in the work folder and tens of minutes.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from triage_vs_sha256sum import CORPUS, build_image, ext4_image, make_case, timed  # noqa: E402

MIXES = ("current", "small", "misnamed", "phone", "system")


# -- trees ----------------------------------------------------------------------------------------


def _pool(rng: random.Random) -> bytes:
    return rng.randbytes(32 * 1024 * 1024)


def _slice(rng: random.Random, pool: bytes, size: int) -> bytes:
    if size <= len(pool):
        off = rng.randrange(len(pool) - size + 1)
        return pool[off : off + size]
    return (pool * (size // len(pool) + 1))[:size]


def _big_files(rng: random.Random, pool: bytes, tree: Path, folder: str, total: int, each: int) -> int:
    """Files of about ``each`` bytes totalling ``total`` (the bulk of a volume's bytes)."""
    written = 0
    n = 0
    while written < total:
        size = min(each + rng.randrange(each // 2), total - written)
        dest = tree / folder / f"pack{n:03d}.bin"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(_slice(rng, pool, size))
        written += size
        n += 1
    return written


_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "net",
    "host",
    "user",
    "config",
    "value",
    "true",
    "false",
    "path",
]


def _text(rng: random.Random, size: int) -> bytes:
    out = []
    total = 0
    while total < size:
        line = f"{rng.choice(_WORDS)}_{rng.randint(0, 999)} = " + " ".join(
            rng.choice(_WORDS) for _ in range(rng.randint(2, 10))
        )
        out.append(line)
        total += len(line) + 1
    return ("\n".join(out) + "\n").encode()[:size]


def tree_small(tree: Path, seed: int) -> int:
    """60,000 files of median ~2 KB (log-normal), 20% text, plus ~900 MB of large files."""
    rng = random.Random(seed)
    pool = _pool(rng)
    written = 0
    exts = [".so", ".pyc", ".mo", ".gz", ".bin", "", ".dat", ".idx"]
    text_exts = [".conf", ".py", ".sh", ".txt", ".xml", ".json", ".h", ""]
    for i in range(60_000):
        size = min(int(math.exp(rng.gauss(math.log(2000), 1.3))), 512 * 1024)
        d = tree / "usr" / f"lib{i // 5000}" / f"pkg{(i // 100) % 50:02d}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.2:
            data, name = _text(rng, size), f"f{i:05d}{rng.choice(text_exts)}"
        elif rng.random() < 0.5:
            pat = _slice(rng, pool, rng.randint(16, 512))
            data, name = (pat * (size // len(pat) + 1))[:size], f"f{i:05d}{rng.choice(exts)}"
        else:
            data, name = _slice(rng, pool, size), f"f{i:05d}{rng.choice(exts)}"
        (d / name).write_bytes(data)
        written += size
    return written + _big_files(rng, pool, tree, "opt/big", 900 * 1000 * 1000, 40 * 1024 * 1024)


#: names a plugin (or libmagic's rules for the extension) would be offered; content random
MISNAMED = [".jpg", ".jpeg", ".db", ".sqlite", ".pdf", ".docx", ".plist", ".png", ".xlsx", ".heic"]
PLUGIN_NAMES = ["History", "sms.db", "msgstore.db", "places.sqlite", "contacts2.db", "mmssms.db", "wa.db"]


def tree_misnamed(tree: Path, seed: int) -> int:
    """50,000 files with plugin-inviting names over random bytes (300 B-60 KB), plus big files."""
    rng = random.Random(seed)
    pool = _pool(rng)
    written = 0
    made: set[Path] = set()
    for i in range(50_000):
        size = int(math.exp(rng.uniform(math.log(300), math.log(60 * 1024))))
        d = tree / "data" / f"app{i // 500:03d}" / ("files" if i % 2 else "databases")
        if i % 50 == 0:  # a plugin's own file name, alone in its folder
            name = rng.choice(PLUGIN_NAMES) if i % 100 == 0 else f"{i:05d}_{rng.choice(PLUGIN_NAMES)}"
            d = d / f"p{i:05d}"
        else:
            name = f"f{i:05d}{rng.choice(MISNAMED)}"
        if d not in made:
            d.mkdir(parents=True, exist_ok=True)
            made.add(d)
        (d / name).write_bytes(_slice(rng, pool, size))
        written += size
    return written + _big_files(rng, pool, tree, "data/media/big", 600 * 1000 * 1000, 40 * 1024 * 1024)


def _app_database(path: Path, rng: random.Random, wal: bool) -> None:
    """A small SQLite database of an app no plugin reads: its own tables, some rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
    for t in range(rng.randint(2, 8)):
        cols = [f"c{c} {rng.choice(['TEXT', 'INTEGER', 'BLOB', 'REAL'])}" for c in range(rng.randint(2, 9))]
        con.execute(f"CREATE TABLE t{t} (_id INTEGER PRIMARY KEY, {', '.join(cols)})")
        rows = [
            tuple(
                rng.choice([rng.randint(0, 1 << 40), _text(rng, rng.randint(5, 80)).decode(), None])
                for _ in cols
            )
            for _ in range(rng.randint(0, 200))
        ]
        if rows:
            con.executemany(f"INSERT INTO t{t} VALUES (NULL, {', '.join('?' * len(cols))})", rows)
    con.commit()
    if not wal:
        con.close()
        return
    # leave the WAL beside the database, as an extraction of a running phone does
    con.execute("INSERT INTO t0 (_id) VALUES (NULL)")
    con.commit()
    shutil.copyfile(path.with_name(path.name + "-wal"), path.with_name(path.name + "-wal.keep"))
    con.close()
    os.replace(path.with_name(path.name + "-wal.keep"), path.with_name(path.name + "-wal"))


def tree_phone(tree: Path, seed: int) -> int:
    """An Android-style extraction: app databases, photos, caches (see the module's docstring)."""
    rng = random.Random(seed)
    pool = _pool(rng)
    sys.path.insert(0, str(REPO / "scripts"))
    import make_phone_extraction

    made = tree / "made"
    make_phone_extraction.build(made)  # data/... (android) and private/... (iphone)
    for phone in ("android", "iphone"):
        for src in sorted((made / phone).rglob("*")):
            if src.is_file():
                dest = tree / src.relative_to(made / phone)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
    shutil.rmtree(made)
    corpus_dbs = {
        "chats/mmssms.db": "data/data/com.android.providers.telephony/databases/mmssms.db.old",
        "chats/contacts2.db": "data/data/com.android.providers.contacts/databases/profile.db",
        "browsers/chrome_History": "data/data/com.android.chrome/app_chrome/Default/History",
        "browsers/firefox_places.sqlite": "data/data/org.mozilla.firefox/files/mozilla/x.default/places.sqlite",
    }
    for rel, dest in corpus_dbs.items():
        if (CORPUS / rel).is_file():
            (tree / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(CORPUS / rel, tree / dest)
    for n in range(600):
        app = f"data/data/com.example.app{n // 3:03d}/databases/store{n % 3}.db"
        _app_database(tree / app, rng, wal=n % 4 == 0)
    jpegs = sorted(p for p in (CORPUS / "images").rglob("*.jpg") if p.is_file()) if CORPUS.is_dir() else []
    folders = [
        "data/media/0/DCIM/Camera",
        "data/media/0/WhatsApp/Media/WhatsApp Images",
        "data/media/0/Pictures/Screenshots",
    ]
    for n in range(3000 if jpegs else 0):
        dest = tree / folders[n % 3] / f"IMG_2026{n:05d}.jpg"
        if n < 3:
            dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(jpegs[n % len(jpegs)], dest)
    for n in range(30_000):  # caches, thumbnails, preferences
        app = f"data/data/com.example.app{n % 200:03d}"
        kind = n % 3
        if kind == 0:
            dest = tree / app / "cache" / f"{n:05d}.0"
            data = _slice(rng, pool, int(math.exp(rng.uniform(math.log(200), math.log(200 * 1024)))))
        elif kind == 1:
            dest = tree / app / "shared_prefs" / f"prefs{n:05d}.xml"
            data = (
                b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
                + _text(rng, rng.randint(100, 3000))
                + b"</map>\n"
            )
        else:
            dest = tree / "data/media/0/Android/data" / app[10:] / "thumbs" / f"t{n:05d}"
            data = _slice(rng, pool, rng.randint(2000, 30000))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    written = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)
    return written + _big_files(rng, pool, tree, "data/media/0/Movies", 500 * 1000 * 1000, 60 * 1024 * 1024)


#: the system folders the ``system`` mix copies, in this order
SYSTEM_ROOTS = (
    "/etc",
    "/usr/share/doc",
    "/usr/share/man",
    "/usr/share/i18n",
    "/usr/share/perl5",
    "/usr/share/vim",
    "/usr/share/locale",
    "/usr/include",
    "/usr/lib/python3",
    "/usr/bin",
    "/usr/lib/x86_64-linux-gnu",
)
SYSTEM_BYTES = 1600 * 1000 * 1000


def tree_system(tree: Path, seed: int) -> int:
    """This machine's own system files (see the module's docstring), up to SYSTEM_BYTES."""
    del seed  # the files are the machine's
    written = files = text = 0
    for root in SYSTEM_ROOTS:
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                src = Path(folder, name)
                try:
                    if src.is_symlink() or not src.is_file():
                        continue
                    size = src.stat().st_size
                    if written + size > SYSTEM_BYTES:
                        continue
                    dest = tree / src.relative_to("/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest)
                    with open(src, "rb") as fh:
                        head = fh.read(4096)
                except OSError:
                    continue
                written += size
                files += 1
                text += size if head and b"\x00" not in head else 0
    print(
        f"system: {files} files copied, {written / 1e9:.2f} GB, {100 * text / max(written, 1):.0f} % of the bytes in files without a zero byte in their first 4 KiB"
    )
    return written


TREES = {"small": tree_small, "misnamed": tree_misnamed, "phone": tree_phone, "system": tree_system}


def build_mix(mix: str, workdir: Path, seed: int) -> Path:
    """The mix's image in ``workdir`` (built once, then reused)."""
    if mix == "current":
        return build_image(workdir, 50_000, 1400, 0.0, seed)
    image = workdir / f"triage-mix-{mix}-s{seed}.raw"
    if image.exists():
        return image
    mke2fs = shutil.which("mke2fs") or sys.exit("mke2fs not found (apt-get install e2fsprogs)")
    workdir.mkdir(parents=True, exist_ok=True)
    tree = workdir / f"triage-mix-{mix}-s{seed}.tree"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    t0 = time.perf_counter()
    written = TREES[mix](tree, seed)
    files = sum(len(fs) for _, _, fs in os.walk(tree))
    print(f"{mix}: tree of {files} files, {written / 1e9:.2f} GB, in {time.perf_counter() - t0:.1f} s")
    size_mb = ext4_image(mke2fs, tree, files, image)
    print(f"{mix}: image {image.name} ({size_mb} MiB) built in {time.perf_counter() - t0:.1f} s")
    return image


# -- timing ---------------------------------------------------------------------------------------


def _env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "EXHIBIT_CONFIG_DIR": str(tmp / "config"), "EXHIBIT_ACTOR": "bench"}
    env.pop("EXHIBIT_CASE", None)
    return env


def _warm(image: Path) -> None:
    with open(image, "rb") as fh:
        while fh.read(16 << 20):
            pass


def bench_mix(mix: str, image: Path, rounds: int, workers: int | None) -> dict[str, object]:
    exhibit = str(Path(sys.executable).with_name("exhibit"))
    tmp = Path(tempfile.mkdtemp(prefix=f"triage-mix-{mix}-"))
    env = _env(tmp)
    try:
        template = make_case(tmp, image, env)
        _warm(image)
        load = os.getloadavg()[0]
        print(f"\n{mix}: {image.name} ({image.stat().st_size / 2**30:.2f} GiB), load average {load:.2f}")
        rows = []
        counts: dict[str, int] = {}
        for round_no in range(1, rounds + 1):
            t_sum, c_sum, _ = timed(["sha256sum", str(image)])
            case = tmp / f"case-{round_no}"
            shutil.copytree(template, case)
            cmd = [exhibit, "triage", "EX-001", "--actor", "bench", "--case", str(case), "--json"]
            if workers:
                cmd += ["--workers", str(workers)]
            t_tri, c_tri, out = timed(cmd, env)
            counts = json.loads(out)["counts"]
            if counts.get("errors") or not counts.get("files"):
                sys.exit(f"{mix}: unexpected triage counts: {counts}")
            rows.append((t_sum, c_sum, t_tri, c_tri))
            print(
                f"  round {round_no}: sha256sum {t_sum:.2f} s (cpu {c_sum:.2f})  triage {t_tri:.2f} s "
                f"(cpu {c_tri:.2f})  ratio {t_tri / t_sum:.3f}"
            )
            shutil.rmtree(case)
        ratios = [t / s for s, _, t, _ in rows]
        result = {
            "mix": mix,
            "files": counts.get("files"),
            "gb": counts.get("bytes", 0) / 1e9,
            "findings": counts.get("findings"),
            "warnings": counts.get("warnings"),
            "load": load,
            "sha_median": statistics.median(r[0] for r in rows),
            "sha_cpu": statistics.median(r[1] for r in rows),
            "tri_median": statistics.median(r[2] for r in rows),
            "tri_cpu": statistics.median(r[3] for r in rows),
            "best": min(ratios),
            "median": statistics.median(ratios),
        }
        print(
            f"  {mix}: {counts.get('files')} files, {result['gb']:.2f} GB read, {counts.get('findings')} "
            f"findings, {counts.get('warnings')} warnings; ratio best {result['best']:.3f}, "
            f"median {result['median']:.3f} (target <= 1.0)"
        )
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- profile --------------------------------------------------------------------------------------

#: (stage, functions whose cumulative time is the stage's), per-file path first
STAGES = [
    ("read (TSK) + hash", [("per_file", "process")]),  # total; the others are parts of it
    ("  sniff (libmagic)", [("filetype", "sniff_mime")]),
    ("  plugin offers (targets)", [("dispatch", "accepting")]),
    ("  plugin choice (SQLite signatures)", [("dispatch", "match_plugins")]),
    ("  plugins run", [("dispatch", "run_plugins")]),
    ("  result", [("per_file", "_result")]),
]


def profile_mix(mix: str, image: Path) -> None:
    import cProfile
    import pstats

    from triage.engine import workers

    tmp = Path(tempfile.mkdtemp(prefix=f"triage-prof-{mix}-"))
    env = _env(tmp)
    os.environ.update(env)
    template = make_case(tmp, image, env)
    _warm(image)
    prof_dir = tmp / "prof"
    prof_dir.mkdir()
    original = workers._process_span

    def profiled_span(start: int, stop: int) -> list:  # type: ignore[type-arg]
        prof = cProfile.Profile()
        try:
            return prof.runcall(original, start, stop)
        finally:
            prof.dump_stats(prof_dir / f"w{os.getpid()}-{start}.prof")

    profiled_span.__qualname__ = original.__qualname__
    profiled_span.__module__ = original.__module__
    workers._process_span = profiled_span  # type: ignore[assignment]

    from custody.case import open_case
    from triage.engine.run import run_triage

    case = open_case(template)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    summary = prof.runcall(run_triage, case, "EX-001", actor="bench")
    wall = time.perf_counter() - t0
    prof.dump_stats(prof_dir / "run.prof")
    files = summary.counts["files"]
    print(f"{mix}: {files} files in {wall:.2f} s in process (profiled), counts {summary.counts}")
    worker_files = sorted(prof_dir.glob("w*.prof"))
    wstats = pstats.Stats(*map(str, worker_files))
    rstats = pstats.Stats(str(prof_dir / "run.prof"))

    def cum(stats: pstats.Stats, module: str, func: str) -> float:
        total = 0.0
        for (fname, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
            if name == func and Path(fname).stem == module:
                total += ct
        return total

    print(f"\nper file, workers (µs per file, cumulative CPU under cProfile, {files} files):")
    for stage, funcs in STAGES:
        print(f"  {stage:40s} {sum(cum(wstats, m, f) for m, f in funcs) / files * 1e6:8.1f}")
    print("\nthe run's process (µs per file):")
    for stage, (m, f) in [
        ("walk", ("run", "_walk_entries")),
        ("store rows (chunks)", ("run", "_store_chunk")),
        ("store listed entries", ("run", "_store_entries")),
        ("archives / carving", ("run", "_walk_carved")),
        ("analyzers", ("run", "_analyze")),
        ("hash sets", ("run", "_match_hashsets")),
        ("ledger + digest", ("run", "_record_in_ledger")),
        ("stored rows check", ("run", "_check_stored")),
    ]:
        print(f"  {stage:40s} {cum(rstats, m, f) / files * 1e6:8.1f}")
    print("\nworkers, top 30 by own time:")
    wstats.sort_stats("tottime").print_stats(30)
    print("\nthe run's process, top 25 by own time:")
    rstats.sort_stats("tottime").print_stats(25)
    shutil.rmtree(tmp, ignore_errors=True)


def _unnamed(count: int) -> list[bool]:
    return [False] * count


def per_file_choices(count: int, seed: int) -> None:
    """CPU µs per file of two per-file stages, in this process, on content like the mixes':
    the SQLite plugin choice (``confirm_candidates`` with the built-in candidates) on ``count``
    app databases of the ``phone`` mix's kind (a quarter with a ``-wal``), and MIME sniffing of
    ``count`` text heads of the ``small`` mix's kind against the full libmagic. Best of 3."""
    from triage.engine.dispatch import TargetMatcher, confirm_candidates
    from triage.plugin import FileItem, ParseContext
    from triage.plugin.registry import load_plugins
    from triage.plugin.scratch import Scratch
    from triage.sources import magicdb

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="triage-per-file-"))
    try:
        plugins = [cls() for cls in load_plugins(third_party=False).plugins]
        matcher = TargetMatcher(p.targets for p in plugins)
        rows = []
        for n in range(count):
            path = tmp / f"app{n:04d}" / "store.db"
            _app_database(path, rng, wal=n % 4 == 0)
            item = FileItem.from_path(path, fs_path=f"/data/data/com.example.app{n:04d}/databases/store.db")
            rows.append((item, TargetMatcher.pick(plugins, matcher.accepting_item(item)), n % 4 == 0))
        for label, wal in (("without -wal", False), ("with a -wal", True)):
            chosen = [(item, cands) for item, cands, has_wal in rows if has_wal == wal]
            best = math.inf
            for _ in range(3):
                with Scratch(tmp) as scratch:
                    ctx = ParseContext(scratch=scratch)
                    t0 = time.process_time()
                    for item, cands in chosen:
                        confirm_candidates(item, cands, ctx, functools.partial(_unnamed, len(cands)))
                        scratch.release(item)
                    best = min(best, time.process_time() - t0)
            print(
                f"SQLite plugin choice, {len(chosen)} databases {label}: {best / len(chosen) * 1e6:.0f} µs each"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    heads = [
        _text(rng, min(int(math.exp(rng.gauss(math.log(2000), 1.3))), 8192)) or b"x" for _ in range(count)
    ]
    for h in heads:  # the text tier of this process learns first, as a worker's does
        magicdb.sniff(h)
    for label, sniff in (
        ("reduced (magicdb.sniff)", magicdb.sniff),
        ("full libmagic", magicdb.plain_libmagic),
    ):
        best = math.inf
        for _ in range(3):
            t0 = time.process_time()
            for h in heads:
                sniff(h)
            best = min(best, time.process_time() - t0)
        print(f"MIME of {len(heads)} text heads, {label}: {best / len(heads) * 1e6:.0f} µs each")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mix", action="append", choices=MIXES, help="repeatable; default: every mix")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=None, help="exhibit triage --workers")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--build-only", action="store_true", help="build the images and stop")
    parser.add_argument("--profile", choices=MIXES, help="profile one in-process triage of this mix")
    parser.add_argument(
        "--per-file", type=int, metavar="N", help="time the SQLite plugin choice and text sniffing on N files"
    )
    args = parser.parse_args(argv)
    if args.per_file:
        per_file_choices(args.per_file, args.seed)
        return 0
    if not CORPUS.is_dir():
        print(f"note: no corpus at {os.path.relpath(CORPUS, REPO)}: the mixes have no corpus files")
    if args.profile:
        profile_mix(args.profile, build_mix(args.profile, args.workdir, args.seed))
        return 0
    if not shutil.which("sha256sum"):
        print("sha256sum (coreutils) is not installed", file=sys.stderr)
        return 2
    mixes = args.mix or list(MIXES)
    images = {mix: build_mix(mix, args.workdir, args.seed) for mix in mixes}
    if args.build_only:
        return 0
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    print(
        f"commit {commit.stdout.strip()}, CPUs {len(os.sched_getaffinity(0))}, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    results = [bench_mix(mix, images[mix], args.rounds, args.workers) for mix in mixes]
    print(
        "\n| mix | files | GB read | load | sha256sum s (CPU) | triage s (CPU) | ratio best | ratio median |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['mix']} | {r['files']} | {r['gb']:.2f} | {r['load']:.1f} | {r['sha_median']:.2f} "
            f"({r['sha_cpu']:.2f}) | {r['tri_median']:.2f} ({r['tri_cpu']:.2f}) | {r['best']:.2f} | "
            f"**{r['median']:.2f}** |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
