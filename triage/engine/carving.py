"""Carving during a triage run: what the run carves, and how a carved file's provenance is kept.

A run of a disk image (``exhibit triage``; on by default, ``--no-carve`` turns it off) carves
the unallocated space of every file system after the files and the archives' members are read
(triage/sources/carve.py). Each carved file becomes:

* a ``triage_files`` row like any file's (``fs_type`` ``carved``, ``path``
  ``/$Carved/<image offset>.<type>``, ``inode`` the image byte offset, ``partition`` the file
  system's), read by the workers (hashed with the run's hashes, sniffed, handed to the plugins:
  ``photos_exif`` reads a carved JPEG's EXIF, hash sets see its hashes);
* a finding of type :data:`RECORD_TYPE` from :data:`CARVER` holding what carving knows: type,
  image extents, length, validity and why, picture size. Findings are digested and signed with the
  run (triage/engine/integrity.py), so a carved file's provenance is as tamper-evident as the rest;
* a derived item in the custody ledger (every carved file, whether a plugin took it or not), whose
  ``carved`` member names the image extents it was read from.

``exhibit custody verify --rehash`` reads carved files again from their extents
(:func:`rehash_carved`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from triage.plugin.records import SourceRef
from triage.sources.carve import CARVE_RECORD, CARVED_FS, CARVER, Carved, CarveLimits, carve_image
from triage.sources.entry import FileEntry
from triage.store.models import Finding

CARVER_VERSION = "1.0"
RECORD_TYPE = CARVE_RECORD
__all__ = [
    "CARVER",
    "CARVER_VERSION",
    "RECORD_TYPE",
    "carve_source",
    "finding_rows",
    "rehash_carved",
    "stored_carves",
]

CarveProgress = Callable[[int, int, int], None]  # (partition, bytes done, bytes of free space)


def carve_source(
    source_path: str | Path,
    kind: str,
    limits: CarveLimits | None = None,
    progress: CarveProgress | None = None,
) -> tuple[list[Carved], list[str]]:
    """The files carved from every file system of the image at ``source_path``, and warnings."""
    from triage.sources.image_source import ImageSource

    carved: list[Carved] = []
    warnings: list[str] = []
    with ImageSource(Path(source_path), kind=kind) as source:
        for report in carve_image(source, limits, progress):
            carved.extend(report.carved)
            where = f"partition@{report.partition}"
            warnings.extend(f"carving {where}: {w}" for w in report.warnings)
            if report.rejected:
                warnings.append(
                    f"carving {where}: {report.rejected} header(s) in free space not followed by a "
                    "well-formed file (not kept)"
                )
    return carved, warnings


def locator(c: Carved) -> str:
    """``image bytes A+N[, B+M...]``: where the carved bytes are in the image."""
    return "image bytes " + ", ".join(f"{a}+{n}" for a, n in c.extents)


def finding_rows(exhibit: str, run_id: str, keyed: Iterable[tuple[str, Carved]]) -> Iterator[dict[str, Any]]:
    """The ``triage_findings`` rows of carved files (``keyed``: each with its files row's key),
    fingerprinted as the plugins' findings are (triage/engine/writes.py)."""
    for key, c in keyed:
        loc = locator(c)
        # the shape every finding's data has (triage.plugin.records.record_to_dict): record_type,
        # source, locator, then the record's own fields
        source = SourceRef(item=exhibit, path=c.path, sha256=c.sha256, partition=c.partition, inode=c.offset)
        data = json.dumps(
            {
                "record_type": RECORD_TYPE,
                "source": source.as_dict(),
                "locator": loc,
                **c.as_dict(),
                "md5": c.md5,
                "sha256": c.sha256,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        fingerprint = hashlib.sha256(
            "\x00".join([exhibit, CARVER, CARVER_VERSION, RECORD_TYPE, key, loc, data]).encode()
        ).hexdigest()
        yield {
            "fingerprint": fingerprint,
            "exhibit": exhibit,
            "record_type": RECORD_TYPE,
            "plugin": CARVER,
            "plugin_version": CARVER_VERSION,
            "partition": c.partition,
            "inode": c.offset,
            "path": c.path,
            "stream": None,
            "file_sha256": c.sha256,
            "locator": loc,
            "data": data,
            "run_id": run_id,
        }


def stored_carves(conn: Connection, exhibit: str) -> dict[tuple[int | None, str], dict[str, Any]]:
    """What the runs stored about the exhibit's carved files, by (partition, path): the data of
    each one's latest carve finding."""
    out: dict[tuple[int | None, str], dict[str, Any]] = {}
    rows = conn.execute(
        select(Finding.c.partition, Finding.c.path, Finding.c.data)
        .where(Finding.c.exhibit == exhibit, Finding.c.record_type == RECORD_TYPE)
        .order_by(Finding.c.id)
    )
    for r in rows:
        try:
            out[(r.partition, r.path)] = json.loads(r.data)
        except ValueError:
            continue
    return out


def ledger_provenance(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``carved`` member of a carved file's derived item (from :func:`stored_carves`): image
    extents, type, validity."""
    if found is None:
        return None
    keep = ("offset", "length", "extents", "type", "status", "detail")
    return {k: found.get(k) for k in keep}


def rehash_carved(
    conn: Connection,
    exhibit: str,
    top: Any,
    wanted: dict[str, tuple[str, dict[str, str]]],
    keys: dict[str, tuple[int | None, str]],
) -> Iterator[tuple[str, str, dict[str, str], dict[str, str]]]:
    """For ``exhibit custody verify --rehash``: each carved file of ``wanted`` (key -> (path, stored
    hashes); ``keys``: key -> (partition, path)) read again from its stored extents through the
    image ``top``. Yields (key, path, stored, now) and removes the key from ``wanted``."""
    from triage.sources.carve import CarvedSource

    stored = stored_carves(conn, exhibit)
    extents = {
        where: tuple((int(a), int(n)) for a, n in data.get("extents") or []) for where, data in stored.items()
    }
    source = CarvedSource(top, extents)
    for key, where in keys.items():
        if key not in wanted or where not in extents:
            continue
        path, hashes = wanted.pop(key)
        digests = {name: hashlib.new(name) for name in hashes}
        size = sum(n for _, n in extents[where])
        entry = FileEntry(where[0], CARVED_FS, path, path.rsplit("/", 1)[-1], b"", None, "file", size, True)
        try:
            for chunk in source.read(entry):
                for d in digests.values():
                    d.update(chunk)
        except Exception as exc:  # the image cannot be read there any more: a mismatch to report
            yield key, path, hashes, {n: f"unreadable ({type(exc).__name__}: {exc})" for n in hashes}
            continue
        yield key, path, hashes, {n: d.hexdigest() for n, d in digests.items()}
