"""Carving: Exhibit's carver against PhotoRec on the same images, same file types (JPEG, PNG, GIF, PDF).

PhotoRec (Debian ``testdisk``, GPL-2.0+) runs as a separate program only (``photorec /cmd``), never
linked. Both read only the free space of each file system (PhotoRec's ``freespace`` mode, Exhibit's
block walk). For each image the script prints both tools' wall time (start-up included: Exhibit as
``python -m triage.sources.carve IMAGE``, PhotoRec as ``photorec /d DIR /cmd IMAGE ...``), their
ratio, and their recall: how many of the oracle's deleted files each gives back byte-exact
(SHA-256).

Images and oracles:

* Debian's forensics-samples disks (``/usr/share/forensics-samples/fs.{ext2,ext4,ntfs,vfat,exfat}.xz``):
  the oracle is the published SHA-256 of the deleted pictures and PDF
  (``../shared/corpus/groundtruth/forensics-samples/original-files.sha256``, ``pic2/`` and ``text2/``);
* DFTT #8 (``../shared/corpus/disk/dftt/8-jpeg-search.zip``): the two deleted JPEGs' published MD5s;
* ``--big-mib N`` (default 1024): an ext4 image built here with ``mke2fs -d`` from JPEGs made with
  Pillow (camera-sized noise pictures, 0.5-4 MB) and PNGs, two thirds of which are then deleted
  with ``debugfs rm``; the oracle is the SHA-256 of the deleted files. This is the speed figure.

    .venv/bin/python bench/carve_vs_photorec.py [--big-mib 1024] [--rounds 3] [--workdir bench/work]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import random
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = Path("/usr/share/forensics-samples")
TYPES = ("jpg", "png", "gif", "pdf")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def forensics_samples(workdir: Path) -> list[tuple[str, Path, set[str], str]]:
    """(name, image, oracle hashes, hash name) of the forensics-samples disks installed."""
    published = CORPUS / "groundtruth" / "forensics-samples" / "original-files.sha256"
    if not published.exists():
        print(f"skipped forensics-samples: {published} absent")
        return []
    wanted = set()
    for line in published.read_text().splitlines():
        h, p = line.split(None, 1)
        if p.startswith(("./pic2/", "./text2/")) and p.lower().endswith((".jpg", ".png", ".gif", ".pdf")):
            wanted.add(h)
    out = []
    for name in ("ext2", "ext4", "ntfs", "vfat", "exfat"):
        src = SAMPLES / f"fs.{name}.xz"
        if not src.exists():
            print(f"skipped {src}: absent (apt-get install forensics-samples-{name})")
            continue
        image = workdir / f"fs.{name}"
        if not image.exists():
            with lzma.open(src) as fin, open(image, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
        out.append((f"forensics-samples {name}", image, wanted, "sha256"))
    return out


def dftt8(workdir: Path) -> list[tuple[str, Path, set[str], str]]:
    archive = CORPUS / "disk" / "dftt" / "8-jpeg-search.zip"
    if not archive.exists():
        print(f"skipped DFTT #8: {archive} absent")
        return []
    image = workdir / "8-jpeg-search.dd"
    if not image.exists():
        with (
            zipfile.ZipFile(archive) as zf,
            zf.open("8-jpeg-search/8-jpeg-search.dd") as fin,
            open(image, "wb") as fout,
        ):
            shutil.copyfileobj(fin, fout)
    published = {"afd55222024a4e22f7f5a3a665320763", "0c452c5800fcfa7c66027ae89c4f068a"}
    return [("DFTT #8 (NTFS)", image, published, "md5")]


def big_image(workdir: Path, mib: int) -> list[tuple[str, Path, set[str], str]]:
    """An ext4 image of ``mib`` MiB, about 60 % full of pictures, two thirds of them deleted."""
    from PIL import Image

    image = workdir / f"carve-ext4-{mib}.raw"
    oracle = workdir / f"carve-ext4-{mib}.deleted.json"
    if image.exists() and oracle.exists():
        return [(f"generated ext4 {mib} MiB", image, set(json.loads(oracle.read_text())), "sha256")]
    tree = workdir / f"carve-tree-{mib}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    rng = random.Random(9)
    budget = int(mib * 1024 * 1024 * 0.6)
    made: list[tuple[str, str]] = []
    total = 0
    i = 0
    while total < budget:
        w, h = rng.choice([(1600, 1200), (2000, 1500), (1024, 768), (640, 480)])
        noise = Image.effect_noise((w // 4, h // 4), rng.uniform(20, 80)).resize((w, h)).convert("RGB")
        buf = io.BytesIO()
        if i % 10 == 9:
            noise.resize((w // 4, h // 4)).save(buf, "PNG")
            name = f"p{i:05d}.png"
        else:
            noise.save(buf, "JPEG", quality=rng.choice([85, 92, 97]))
            name = f"p{i:05d}.jpg"
        data = buf.getvalue()
        (tree / name).write_bytes(data)
        made.append((name, hashlib.sha256(data).hexdigest()))
        total += len(data)
        i += 1
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(tree), str(image), f"{mib}M"], check=True)
    deleted = [(n, h) for k, (n, h) in enumerate(made) if k % 3]
    script = "".join(f"rm /{n}\n" for n, _ in deleted)
    subprocess.run(
        ["debugfs", "-w", "-f", "-", str(image)], input=script.encode(), check=True, capture_output=True
    )
    oracle.write_text(json.dumps([h for _, h in deleted]))
    shutil.rmtree(tree, ignore_errors=True)
    print(f"built {image}: {len(made)} pictures, {len(deleted)} deleted")
    return [(f"generated ext4 {mib} MiB", image, {h for _, h in deleted}, "sha256")]


def run_exhibit(image: Path) -> tuple[float, list[dict[str, object]]]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "triage.sources.carve", str(image)], capture_output=True, text=True, cwd=REPO
    )
    took = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"exhibit's carver failed on {image}: {done.stderr}")
    return took, [json.loads(line) for line in done.stdout.splitlines()]


def run_photorec(photorec: str, image: Path, workdir: Path) -> tuple[float, list[Path]]:
    out = workdir / "photorec-out"
    for old in workdir.glob("photorec-out.*"):  # PhotoRec writes 500 files per folder: .1, .2, ...
        shutil.rmtree(old, ignore_errors=True)
    partition = "1" if _has_partition_table(image) else "0"
    opts = (
        f"{partition},fileopt,everything,disable,"
        + ",".join(f"{t},enable" for t in TYPES)
        + ",freespace,search"
    )
    t0 = time.perf_counter()
    subprocess.run(
        [photorec, "/d", str(out), "/cmd", str(image), opts],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    took = time.perf_counter() - t0
    found = sorted(workdir.glob("photorec-out.*/f*"))
    return took, found


def _has_partition_table(image: Path) -> bool:
    with open(image, "rb") as f:
        sector = f.read(512)
    return sector[510:512] == b"\x55\xaa" and sector[3:11] not in (
        b"NTFS    ",
        b"EXFAT   ",
        b"MSDOS5.0",
        b"mkfs.fat",
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--big-mib", type=int, default=1024, help="size of the generated ext4 image (0: none)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per image (best and median)")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    args = parser.parse_args()
    photorec = shutil.which("photorec") or sys.exit("photorec not found (apt-get install testdisk)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    images = forensics_samples(args.workdir) + dftt8(args.workdir)
    if args.big_mib:
        images += big_image(args.workdir, args.big_mib)
    print(
        f"{'image':28} {'oracle':>6} {'exhibit found':>13} {'photorec found':>14} {'exhibit s':>9} {'photorec s':>10} {'ratio':>6}"
    )
    for name, image, wanted, algo in images:
        ours_t, theirs_t = [], []
        ours_found = theirs_found = 0
        for _ in range(args.rounds):
            t, carved = run_exhibit(image)
            ours_t.append(t)
            ours_found = len({c[algo] for c in carved} & wanted)
            t, files = run_photorec(photorec, image, args.workdir)
            theirs_t.append(t)
            digest = md5 if algo == "md5" else sha256
            theirs_found = len({digest(f) for f in files} & wanted)
        ratio = min(ours_t) / min(theirs_t)
        print(
            f"{name:28} {len(wanted):>6} {ours_found:>13} {theirs_found:>14} "
            f"{min(ours_t):>9.2f} {min(theirs_t):>10.2f} {ratio:>6.2f}"
            f"   (median {statistics.median(ours_t):.2f} / {statistics.median(theirs_t):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
