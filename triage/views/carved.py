"""``exhibit carved EX``: the files carved from an exhibit's free space, with their provenance.

Read-only over what triage stored (triage/engine/carving.py): each carved file's ``triage_files``
row (hashes, MIME type), its carve finding (image extents, type, validity and why) and, when a
plugin read it, a summary of its photo metadata (``media/photo/exif``: camera, capture time, GPS).
``same_as`` lists the files of the exhibit with the same SHA-256 that were found by name (on
NTFS, FAT and exFAT a deleted file's name often survives: carving then finds the same bytes again).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, inspect, select

from triage.errors import EntryNotFound
from triage.sources.carve import CARVE_RECORD, CARVED_FS, CarvedSource, carved_entry
from triage.sources.entry import FileEntry, Source
from triage.store.models import File, Finding

_EXIF_KEYS = ("make", "model", "taken", "latitude", "longitude")


def _carves(conn: Connection, exhibit: str) -> dict[tuple[int | None, str], dict[str, Any]]:
    """The latest carve finding of each carved file of ``exhibit``, by (partition, path)."""
    carves: dict[tuple[int | None, str], dict[str, Any]] = {}
    for r in conn.execute(
        select(Finding.c.partition, Finding.c.path, Finding.c.data)
        .where(Finding.c.exhibit == exhibit, Finding.c.record_type == CARVE_RECORD)
        .order_by(Finding.c.id)
    ):
        try:
            carves[(r.partition, r.path)] = json.loads(r.data)
        except ValueError:
            continue
    return carves


def carved_file(
    conn: Connection, exhibit: str, top: Source, path: str, partition: int | None = None
) -> tuple[CarvedSource, FileEntry]:
    """The carved file of ``exhibit`` at ``path`` (``/$Carved/<offset>.<type>``, as ``exhibit
    carved`` lists it) and a source reading it from the image ``top`` by its stored extents: what
    ``exhibit cat`` and ``exhibit export`` take (found in review: they could not read the files
    ``exhibit carved`` names). EntryNotFound when no run carved such a file."""
    clean = "/" + path.strip("/")
    found = [
        (where, data)
        for where, data in _carves(conn, exhibit).items()
        if where[1] == clean and (partition is None or where[0] == partition)
    ]
    if not found:
        raise EntryNotFound(
            f"no carved file {clean} of {exhibit}",
            hint=f"'exhibit carved {exhibit}' lists the files carved by its triage runs",
        )
    if len(found) > 1:
        raise EntryNotFound(
            f"{clean} was carved in {len(found)} file systems of {exhibit}",
            hint="give --partition (the byte offset 'exhibit carved' shows)",
        )
    (part, _), data = found[0]
    extents = tuple((int(a), int(n)) for a, n in data.get("extents") or [])
    if part is None or not extents:
        raise EntryNotFound(f"{clean} of {exhibit}: its carve record holds no extents")
    entry = carved_entry(part, int(data["offset"]), sum(n for _, n in extents), str(data["type"]))
    return CarvedSource(top, {(part, entry.path): extents}), entry


def list_carved(engine: Engine, exhibit: str) -> list[dict[str, Any]]:
    """The exhibit's carved files in image order, as JSON-ready dicts."""
    if not inspect(engine).has_table("triage_files"):
        return []
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        carves = _carves(conn, exhibit)
        files = conn.execute(
            select(File)
            .where(File.c.exhibit == exhibit, File.c.fs_type == CARVED_FS)
            .order_by(File.c.partition, File.c.inode)
        ).all()
        if not files:
            return []
        exif: dict[tuple[int | None, str], dict[str, Any]] = {}
        for r in conn.execute(
            select(Finding.c.partition, Finding.c.path, Finding.c.data).where(
                Finding.c.exhibit == exhibit,
                Finding.c.record_type == "media/photo/exif",
                Finding.c.path.like("/$Carved/%"),
            )
        ):
            try:
                data = json.loads(r.data)
            except ValueError:
                continue
            exif[(r.partition, r.path)] = {k: data.get(k) for k in _EXIF_KEYS if data.get(k) is not None}
        hashes = {f.sha256 for f in files if f.sha256}
        named: dict[str, list[str]] = {}
        if hashes:
            for n in conn.execute(
                select(File.c.sha256, File.c.path, File.c.deleted).where(
                    File.c.exhibit == exhibit, File.c.fs_type != CARVED_FS, File.c.sha256.in_(hashes)
                )
            ):
                named.setdefault(str(n.sha256), []).append(n.path + (" (deleted)" if n.deleted else ""))
    for f in files:
        c = carves.get((f.partition, f.path), {})
        out.append(
            {
                "partition": f.partition,
                "offset": f.inode,
                "length": f.size,
                "type": c.get("type"),
                "status": c.get("status"),
                "detail": c.get("detail"),
                "extents": c.get("extents"),
                "width": c.get("width"),
                "height": c.get("height"),
                "path": f.path,
                "md5": f.md5 or c.get("md5"),  # carving computes it even without --hash md5
                "sha1": f.sha1,
                "sha256": f.sha256,
                "mime": f.mime,
                "error": f.error,
                "exif": exif.get((f.partition, f.path)),
                "same_as": sorted(named.get(f.sha256 or "", [])),
            }
        )
    return out
