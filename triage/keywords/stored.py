"""Keyword search of what is not a file: stored records, and the whole disk image.

* :func:`record_hits`: the text fields of findings already stored (message bodies, titles, URLs,
  names, document properties): every top-level text field of each record, except those of
  keyword hits and of identifiers (which are themselves read from such text). Character offsets.
* :func:`range_hits`: a range of a disk image's bytes (allocated files, slack, unallocated space,
  file system metadata, the gaps between partitions: every byte, in ranges searched in parallel
  by triage/engine/keywords.py), read in :data:`IMAGE_CHUNK` reads and searched like a file's
  bytes; :func:`image_records` makes the records. Byte offsets from the start of the image.
* :func:`finding_row`: the ``triage_findings`` row of a hit (triage/engine/keywords.py stores
  them as findings of the run, so the run's digest covers them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from triage.keywords.match import MAX_HITS, ContentScanner, Hit, KeywordSet
from triage.keywords.records import ENGINE_NAME, VERSION, KeywordHit, hit_record
from triage.plugin.records import SourceRef, record_json
from triage.store.models import Finding

__all__ = [
    "IMAGE_CHUNK",
    "SKIPPED_TYPES",
    "finding_row",
    "image_records",
    "open_image_reader",
    "range_hits",
    "record_hits",
]

IMAGE_CHUNK = 4 << 20
SKIPPED_TYPES = ("keyword/", "indicator/")  # records not searched: hits, and identifiers read from text
PAGE = 1000
Warn = Callable[[str], None]


def record_hits(
    engine: Engine, exhibit: str, keywords: KeywordSet, warn: Warn, run_id: str | None = None
) -> Iterator[KeywordHit]:
    """Hits in the text fields of the exhibit's stored findings (only ``run_id``'s when given)."""
    last = 0
    while True:
        query = select(
            Finding.c.id, Finding.c.record_type, Finding.c.data, Finding.c.locator, Finding.c.plugin
        ).where(Finding.c.exhibit == exhibit, Finding.c.id > last)
        if run_id is not None:
            query = query.where(Finding.c.run_id == run_id)
        with engine.connect() as conn:  # one short read per page
            page = conn.execute(query.order_by(Finding.c.id).limit(PAGE)).all()
        if not page:
            return
        for row in page:
            if row.record_type.startswith(SKIPPED_TYPES):
                continue
            data = json.loads(row.data)
            source = SourceRef.from_dict(data["source"])
            kept = 0
            for name in sorted(data):
                value = data[name]
                if name in ("record_type", "locator") or not isinstance(value, str) or not value:
                    continue
                for hit in keywords.text_hits(value):
                    kept += 1
                    if kept > MAX_HITS:
                        break
                    yield hit_record(
                        keywords,
                        hit,
                        source,
                        "record",
                        field=name,
                        record=(row.record_type, row.locator, row.plugin),
                    )
            if kept > MAX_HITS:
                warn(f"{source.path}: record {row.locator}: hits past {MAX_HITS} not stored")
        last = page[-1].id


def range_hits(
    reader: Any, start: int, stop: int, keywords: KeywordSet, warn: Warn
) -> tuple[list[Hit], dict[int, int]]:
    """Hits that start in bytes ``[start, stop)`` of the image ``reader`` (custody.media.ImageReader:
    ``size``, ``read_at``), searched up to ``stop`` + the overlap so a hit across ``stop`` is
    whole; and the hits over the cap, counted by term."""
    scanner = ContentScanner(keywords, base=start)
    end = min(int(reader.size), stop + keywords.overlap)
    offset = start
    while offset < end:
        want = min(IMAGE_CHUNK, end - offset)
        try:
            chunk = reader.read_at(offset, want)
        except Exception as exc:  # the image's reader (libewf, a vanished segment): named, and we stop
            warn(
                f"image: read of {want} bytes at offset {offset} failed ({type(exc).__name__}: {exc}): "
                f"bytes {offset}-{stop} were not searched"
            )
            break
        if not chunk:
            break
        scanner.feed(chunk)
        offset += len(chunk)
    return [h for h in scanner.finish() if h.start < stop], dict(scanner.dropped)


def image_records(
    hits: list[Hit],
    dropped: dict[int, int],
    exhibit: str,
    image_sha256: str | None,
    keywords: KeywordSet,
    warn: Warn,
) -> list[KeywordHit]:
    """The records of an image's hits (at most MAX_HITS, by offset); the rest counted in a warning."""
    hits = sorted(hits, key=lambda h: (h.start, h.term, h.encoding or ""))
    dropped = dict(dropped)
    for h in hits[MAX_HITS:]:
        dropped[h.term] = dropped.get(h.term, 0) + 1
    source = SourceRef(item=exhibit, path="", sha256=image_sha256 or "")
    for term, n in sorted(dropped.items()):
        warn(
            f"image: about {n} more hits of {keywords.terms[term].text!r} not stored (at most {MAX_HITS} kept)"
        )
    return [hit_record(keywords, h, source, "image") for h in hits[:MAX_HITS]]


def finding_row(exhibit: str, run_id: str, record: KeywordHit) -> dict[str, Any]:
    """The ``triage_findings`` row of a hit (fingerprint as for an analyzer's record)."""
    data = record_json(record)
    source = record.source
    fingerprint = hashlib.sha256(
        "\x00".join(
            [exhibit, ENGINE_NAME, VERSION, KeywordHit.record_type, "keywords", str(record.locator), data]
        ).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return {
        "fingerprint": fingerprint,
        "exhibit": exhibit,
        "record_type": KeywordHit.record_type,
        "plugin": ENGINE_NAME,
        "plugin_version": VERSION,
        "partition": source.partition,
        "inode": source.inode,
        "path": source.path,
        "stream": source.stream,
        "file_sha256": source.sha256,
        "locator": record.locator,
        "data": data,
        "run_id": run_id,
    }


def open_image_reader(source_path: str) -> Any:
    """The exhibit's image as custody reads it (raw, split raw, E01)."""
    from custody.media import open_image

    return open_image(Path(source_path))
