"""Matching an exhibit's files and records against the hash sets: ``hash/hit`` findings.

What is matched, all from what triage stored (the evidence is not read again):

* every file row of the exhibit: its SHA-256 (always computed), and its MD5/SHA-1 when the run
  computed them (a run computes the algorithms the ready sets hold: triage/engine/run.py);
* hashes recorded *inside* app databases, matched even when the file is gone: WhatsApp Android's
  ``message_media.file_hash`` (``media_hash`` of ``chat/android/whatsapp/message`` records, the
  base64 of the media's SHA-256);
* perceptual hashes: every ``media/image/pdq`` record's ``pdq`` (64 hex digits) against the PDQ
  hashes of the known-bad sets, a hit when the Hamming distance is at most ``distance``
  (default 31, the PDQ authors' suggested threshold).

Each hit is a :class:`HashHit` finding stored under the plugin name ``hashsets``, with the file
(or the record's file and locator) as provenance. Its fingerprint depends only on what matched,
so matching again stores nothing twice. During a run the hits are findings of that run, covered
by its digest; ``exhibit hashset match`` stores them under its own id and signs a
``hashset.match`` ledger entry carrying the new digest (triage/engine/rematch.py).

Memory: files and records are read a page at a time by id; the PDQ hashes of the sets are held
whole up to :data:`PDQ_BLOCK` (32 bytes each), in blocks of that many above it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, or_, select

from triage.hashsets import store
from triage.plugin.records import Record, SourceRef, record_json
from triage.store.inserts import insert_new
from triage.store.models import File, Finding

NAME = "hashsets"
VERSION = "1.0"
HIT_TYPE = "hash/hit"
PDQ_TYPE = "media/image/pdq"
DEFAULT_DISTANCE = 31
PAGE = 1000
PDQ_BLOCK = 1_000_000  # set PDQ hashes held at once (32 MB)

#: Hashes recorded inside app databases: (record type, field, algorithm, encoding).
RECORDED_HASHES: tuple[tuple[str, str, str, str], ...] = (
    ("chat/android/whatsapp/message", "media_hash", "sha256", "base64"),
)


@dataclass(frozen=True, kw_only=True)
class HashHit(Record):
    """A file or a record whose hash is in a hash set.

    ``target`` is ``file`` (the file's own hash: ``source`` is the file) or ``record`` (a hash an
    app recorded, ``record_type``/``record_field``; ``source`` and ``locator`` are the record's).
    A perceptual hit has ``algorithm`` ``pdq``, ``perceptual`` true and the Hamming ``distance``.
    ``set_sha256`` is the SHA-256 of the file the set was imported from (its ledger identity).
    """

    record_type: ClassVar[str] = HIT_TYPE
    set_name: str
    set_sha256: str
    kind: str
    category: str | None = None
    algorithm: str
    hash: str
    target: str
    record_field: str | None = None
    matched_record_type: str | None = None
    perceptual: bool = False
    distance: int | None = None
    quality: int | None = None


@dataclass
class MatchSummary:
    files: int = 0
    records: int = 0
    pdq_records: int = 0
    hits: int = 0
    new: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records": self.records,
            "pdq_records": self.pdq_records,
            "hits": self.hits,
            "new": self.new,
            "by_kind": dict(sorted(self.by_kind.items())),
            "notes": self.notes,
        }


def _row(exhibit: str, run_id: str, hit: HashHit) -> dict[str, Any]:
    data = record_json(hit)
    src = hit.source
    fingerprint = hashlib.sha256(
        "\x00".join([exhibit, NAME, HIT_TYPE, str(hit.locator), data]).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return {
        "fingerprint": fingerprint,
        "exhibit": exhibit,
        "record_type": HIT_TYPE,
        "plugin": NAME,
        "plugin_version": VERSION,
        "partition": src.partition,
        "inode": src.inode,
        "path": src.path,
        "stream": src.stream,
        "file_sha256": src.sha256,
        "locator": hit.locator,
        "data": data,
        "run_id": run_id,
    }


def _hit(
    info: store.SetInfo,
    category: str | None,
    algorithm: str,
    value: str,
    source: SourceRef,
    locator: str | None,
    target: str,
    **extra: Any,
) -> HashHit:
    return HashHit(
        source=source,
        locator=locator,
        set_name=info.name,
        set_sha256=info.source_sha256,
        kind=info.kind,
        category=category if category is not None else info.category,
        algorithm=algorithm,
        hash=value,
        target=target,
        **extra,
    )


def match_exhibit(
    engine: Engine, exhibit: str, run_id: str, *, distance: int = DEFAULT_DISTANCE
) -> MatchSummary:
    """Match every stored file and record of ``exhibit``; store the hits as findings of ``run_id``."""
    summary = MatchSummary()
    if not store.has_tables(engine):
        return summary
    with engine.connect() as conn:
        sets = store.ready_sets(conn)
    if not sets:
        return summary
    with engine.connect() as conn:
        with conn.begin():
            _match_files(conn, exhibit, run_id, sets, summary)
        with conn.begin():
            _match_records(conn, exhibit, run_id, sets, summary)
        with conn.begin():
            _match_pdq(conn, exhibit, run_id, sets, distance, summary)
    return summary


def _store(conn: Connection, exhibit: str, run_id: str, hits: list[HashHit], summary: MatchSummary) -> None:
    if not hits:
        return
    rows = list({r["fingerprint"]: r for r in (_row(exhibit, run_id, h) for h in hits)}.values())
    summary.hits += len(rows)
    for h in hits:
        summary.by_kind[h.kind] = summary.by_kind.get(h.kind, 0) + 1
    # the unique index is on the locator and the fingerprint, which a fingerprint determines
    summary.new += insert_new(conn, Finding, rows, "fingerprint", any_unique=True)


def _file_pages(conn: Connection, exhibit: str) -> Iterator[Sequence[Any]]:
    last = 0
    while True:
        page = conn.execute(
            select(
                File.c.id,
                File.c.path,
                File.c.partition,
                File.c.inode,
                File.c.stream,
                File.c.md5,
                File.c.sha1,
                File.c.sha256,
            )
            .where(File.c.exhibit == exhibit, File.c.id > last, File.c.sha256.is_not(None))
            .order_by(File.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return
        yield page
        last = page[-1].id


def _match_files(
    conn: Connection, exhibit: str, run_id: str, sets: dict[int, store.SetInfo], summary: MatchSummary
) -> None:
    wanted = {a for s in sets.values() for a, n in (s.counts.get("by_algorithm") or {}).items() if n}
    algos = [a for a in ("sha256", "sha1", "md5") if a in wanted]
    missing: set[str] = set()
    for page in _file_pages(conn, exhibit):
        summary.files += len(page)
        hits: list[HashHit] = []
        for algo in algos:
            by_digest: dict[bytes, list[Any]] = {}
            for f in page:
                value = getattr(f, algo)
                if value is None:
                    missing.add(algo)
                    continue
                try:
                    by_digest.setdefault(bytes.fromhex(value), []).append(f)
                except ValueError:
                    continue
            for digest, set_id, category in store.lookup(conn, algo, list(by_digest)):
                info = sets.get(set_id)
                if info is None:
                    continue
                for f in by_digest[digest]:
                    src = SourceRef(
                        item=exhibit,
                        path=f.path,
                        sha256=f.sha256,
                        partition=f.partition,
                        inode=f.inode,
                        stream=f.stream,
                    )
                    hits.append(_hit(info, category, algo, digest.hex(), src, None, "file"))
        _store(conn, exhibit, run_id, hits, summary)
    for algo in sorted(missing):
        summary.notes.append(
            f"some files have no {algo} stored (hashed by a run without --hash {algo}): "
            f"the {algo} values of the sets could not be matched against them; "
            f"'exhibit triage EX --fresh --hash {algo},sha256' hashes them again"
        )


def _finding_pages(conn: Connection, exhibit: str, types: Sequence[str]) -> Iterator[Sequence[Any]]:
    last = 0
    cond = or_(*(Finding.c.record_type == t for t in types))
    while True:
        page = conn.execute(
            select(
                Finding.c.id,
                Finding.c.record_type,
                Finding.c.path,
                Finding.c.partition,
                Finding.c.inode,
                Finding.c.stream,
                Finding.c.file_sha256,
                Finding.c.locator,
                Finding.c.data,
            )
            .where(Finding.c.exhibit == exhibit, Finding.c.id > last, cond)
            .order_by(Finding.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return
        yield page
        last = page[-1].id


def _source_of(exhibit: str, r: Any, data: dict[str, Any]) -> SourceRef:
    src = data.get("source")
    if isinstance(src, dict):
        try:
            return SourceRef.from_dict(src)
        except (KeyError, TypeError):
            pass
    return SourceRef(
        item=exhibit,
        path=r.path,
        sha256=r.file_sha256 or "",
        partition=r.partition,
        inode=r.inode,
        stream=r.stream,
    )


def decode_recorded(value: Any, encoding: str, algorithm: str) -> bytes | None:
    """The digest bytes of a hash an app recorded (None when it is not one of ``algorithm``)."""
    if not isinstance(value, str) or not value:
        return None
    size = {"md5": 16, "sha1": 20, "sha256": 32}[algorithm]
    try:
        raw = base64.b64decode(value, validate=True) if encoding == "base64" else bytes.fromhex(value)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def _match_records(
    conn: Connection, exhibit: str, run_id: str, sets: dict[int, store.SetInfo], summary: MatchSummary
) -> None:
    specs = {t: (f, a, e) for t, f, a, e in RECORDED_HASHES}
    for page in _finding_pages(conn, exhibit, list(specs)):
        by_algo: dict[str, dict[bytes, list[tuple[Any, dict[str, Any], str]]]] = {}
        for r in page:
            field_name, algo, encoding = specs[r.record_type]
            data = json.loads(r.data)
            digest = decode_recorded(data.get(field_name), encoding, algo)
            if digest is None:
                continue
            summary.records += 1
            by_algo.setdefault(algo, {}).setdefault(digest, []).append((r, data, field_name))
        hits: list[HashHit] = []
        for algo, by_digest in by_algo.items():
            for digest, set_id, category in store.lookup(conn, algo, list(by_digest)):
                info = sets.get(set_id)
                if info is None:
                    continue
                for r, data, field_name in by_digest[digest]:
                    hits.append(
                        _hit(
                            info,
                            category,
                            algo,
                            digest.hex(),
                            _source_of(exhibit, r, data),
                            r.locator,
                            "record",
                            record_field=field_name,
                            matched_record_type=r.record_type,
                        )
                    )
        _store(conn, exhibit, run_id, hits, summary)


def _match_pdq(
    conn: Connection,
    exhibit: str,
    run_id: str,
    sets: dict[int, store.SetInfo],
    distance: int,
    summary: MatchSummary,
) -> None:
    from triage.hashsets.pdq import PdqIndex, parse_pdq

    bad = [
        i
        for i, s in sets.items()
        if s.kind == "known-bad" and (s.counts.get("by_algorithm") or {}).get("pdq")
    ]
    if not bad:
        return
    index = PdqIndex(conn, bad, block=PDQ_BLOCK)
    for page in _finding_pages(conn, exhibit, [PDQ_TYPE]):
        queries: list[tuple[bytes, Any, dict[str, Any]]] = []
        for r in page:
            data = json.loads(r.data)
            digest = parse_pdq(data.get("pdq"))
            if digest is None:
                continue
            queries.append((digest, r, data))
        summary.pdq_records += len(queries)
        hits: list[HashHit] = []
        for qi, set_digest, set_id, category, dist in index.search([q[0] for q in queries], distance):
            info = sets[set_id]
            _digest, r, data = queries[qi]
            quality = data.get("quality")
            hits.append(
                _hit(
                    info,
                    category,
                    "pdq",
                    set_digest.hex(),
                    _source_of(exhibit, r, data),
                    r.locator,
                    "record",
                    record_field="pdq",
                    matched_record_type=r.record_type,
                    perceptual=True,
                    distance=dist,
                    quality=quality if isinstance(quality, int) else None,
                )
            )
        _store(conn, exhibit, run_id, hits, summary)
