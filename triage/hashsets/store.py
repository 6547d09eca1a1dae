"""Hash sets in the case database: import (streamed), list, remove, look up.

An import reads the file once to hash it (its SHA-256 is the set's identity in the ledger) and
once to parse it. Parsed hashes go, 50,000 at a time, into a temporary staging table; one
``INSERT ... SELECT ... ORDER BY algo, digest`` then moves them into ``hashset_hashes`` in index
order (the database sorts on disk, so memory stays bounded and the index is built by appends
rather than by random inserts, which is what makes tens of millions of rows practical), skipping
a hash the set already holds. The set's row says ``importing`` until the ``hashset.import``
ledger entry is signed, then ``ready``; only ready sets are matched.

``hashset.import`` and ``hashset.remove`` ledger entries are case-level (no exhibit): name, kind,
category, format, the file's name, size and SHA-256, and the counts (imported, duplicates,
garbage with the first garbage lines).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, inspect, select, text, update

from custody import timefmt
from custody.case import Case
from custody.ledger import Draft
from triage.hashsets.errors import HashSetError
from triage.hashsets.formats import ALGO_NAMES, ALGOS, FORMATS, ParseReport, detect_format, read_hashes
from triage.store import ensure_schema
from triage.store.models import HashSet, HashSetEntry

KINDS = ("known-bad", "known-good")
IMPORT_KIND = "hashset.import"
REMOVE_KIND = "hashset.remove"
STAGE_BATCH = 50_000
LOOKUP_BATCH = 500  # digests per IN (...) query
STAGE = "hashset_stage"

Progress = Callable[[ParseReport], None]


@dataclass(frozen=True)
class SetInfo:
    id: int
    name: str
    kind: str
    category: str | None
    format: str
    source_name: str
    source_sha256: str
    source_size: int
    counts: dict[str, Any]
    imported_utc: str
    actor: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "category": self.category,
            "format": self.format,
            "source": {"name": self.source_name, "sha256": self.source_sha256, "size": self.source_size},
            "counts": self.counts,
            "imported_utc": self.imported_utc,
            "actor": self.actor,
            "status": self.status,
        }


def _info(r: Any) -> SetInfo:
    try:
        counts = json.loads(r.counts or "{}")
    except ValueError:
        counts = {}
    return SetInfo(
        r.id,
        r.name,
        r.kind,
        r.category,
        r.format,
        r.source_name,
        r.source_sha256,
        int(r.source_size),
        counts,
        r.imported_utc,
        r.actor,
        r.status,
    )


def has_tables(engine_or_conn: Engine | Connection) -> bool:
    return inspect(engine_or_conn).has_table(HashSet.name)


def list_sets(engine: Engine) -> list[SetInfo]:
    if not has_tables(engine):
        return []
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(select(HashSet).order_by(HashSet.c.name))]


def ready_sets(conn: Connection) -> dict[int, SetInfo]:
    if not has_tables(conn):
        return {}
    return {r.id: _info(r) for r in conn.execute(select(HashSet).where(HashSet.c.status == "ready"))}


def algorithms_in_sets(engine: Engine) -> set[str]:
    """The file-hash algorithms (md5, sha1, sha256) some ready set holds: what a run must compute."""
    if not has_tables(engine):
        return set()
    found: set[str] = set()
    with engine.connect() as conn:
        for s in ready_sets(conn).values():
            found.update(a for a, n in (s.counts.get("by_algorithm") or {}).items() if n and a != "pdq")
    return found


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class ImportSummary:
    set: SetInfo
    seq: int  # the ledger entry's sequence number
    garbage: list[dict[str, Any]]  # the first garbage lines: line, text, problem

    def as_dict(self) -> dict[str, Any]:
        return {**self.set.as_dict(), "ledger_seq": self.seq, "garbage_samples": self.garbage}


def import_set(
    case: Case,
    path: Path,
    *,
    name: str,
    kind: str,
    actor: str,
    category: str | None = None,
    fmt: str | None = None,
    keys: dict[str, Any] | None = None,
    progress: Progress | None = None,
    max_garbage: int | None = None,
) -> ImportSummary:
    """Import ``path`` as the set ``name``; record it in the ledger. ``max_garbage``: refuse the
    set (nothing kept) when more lines than that are garbage (None: keep it, report them)."""
    from custody.actors import signing_keys

    if kind not in KINDS:
        raise HashSetError(f"unknown kind {kind!r}", hint="use --kind known-bad or --kind known-good")
    if not name.strip():
        raise HashSetError("the set's name is empty", hint="give one with --name, e.g. --name nsrl-2026.03")
    if fmt is not None and fmt not in FORMATS:
        raise HashSetError(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    if not path.is_file():
        raise HashSetError(f"{path} is not a file", hint="give the path of the hash-set file to import")
    keys = keys if keys is not None else signing_keys(case, [actor])
    engine = case.engine
    ensure_schema(engine)
    with engine.connect() as conn:
        taken = conn.execute(select(HashSet.c.id).where(HashSet.c.name == name)).first()
    if taken is not None:
        raise HashSetError(
            f"a hash set named {name!r} exists already",
            hint=f"choose another --name, or 'exhibit hashset remove {name}' first",
        )
    fmt = fmt or detect_format(path)
    sha256, size = file_sha256(path)
    report = ParseReport()
    stamp = timefmt.stamp()
    with engine.connect() as conn:
        with conn.begin():
            inserted = conn.execute(
                HashSet.insert().values(
                    name=name,
                    kind=kind,
                    category=category,
                    format=fmt,
                    source_name=path.name,
                    source_sha256=sha256,
                    source_size=size,
                    counts="{}",
                    imported_utc=stamp.utc,
                    actor=actor,
                    status="importing",
                )
            ).inserted_primary_key
        assert inserted is not None
        set_id = int(inserted[0])
        try:
            with conn.begin():
                imported, overlap = _load(
                    conn, int(set_id), read_hashes(path, fmt, report), category, progress, report, kind
                )
                if report.hashes == 0:  # a file of another kind, or the wrong --format: not an empty set
                    raise HashSetError(
                        f"{path}: no hash found in it as {fmt} ({report.garbage} lines that are not one); "
                        "nothing imported",
                        hint=_samples_hint(report) if report.garbage else "check the file and its --format",
                    )
                if max_garbage is not None and report.garbage > max_garbage:
                    raise HashSetError(
                        f"{path}: {report.garbage} garbage lines (more than --max-garbage {max_garbage}); "
                        "nothing imported",
                        hint=_samples_hint(report),
                    )
                counts = {**report.counts(), "imported": imported, "duplicates": report.hashes - imported}
                if overlap:  # the same hash in a known-bad and a known-good set: known-bad wins, said
                    counts["in_sets_of_the_other_kind"] = overlap
                conn.execute(update(HashSet).where(HashSet.c.id == set_id).values(counts=json.dumps(counts)))
        except BaseException:
            with conn.begin():
                conn.execute(delete(HashSet).where(HashSet.c.id == set_id))
            raise
    samples: list[dict[str, Any]] = [{"line": n, "text": t, "problem": p} for n, t, p in report.samples]
    data = {
        "name": name,
        "kind": kind,
        "category": category,
        "format": fmt,
        "source": {"name": path.name, "sha256": sha256, "size": size},
        "counts": counts,
        "garbage_samples": samples,
    }
    try:
        [entry] = case.ledger.append(
            [Draft(kind=IMPORT_KIND, actor=actor, data=data)], keys, checkpoint_signer=actor
        )
    except BaseException:
        _delete_set(engine, int(set_id))
        raise
    with engine.begin() as conn:
        conn.execute(update(HashSet).where(HashSet.c.id == set_id).values(status="ready"))
        row = conn.execute(select(HashSet).where(HashSet.c.id == set_id)).one()
    return ImportSummary(_info(row), entry.seq, samples)


def _samples_hint(report: ParseReport) -> str:
    shown = "; ".join(f"line {n}: {p}" for n, _t, p in report.samples[:3])
    return f"first garbage: {shown}" if shown else "check the file's format (--format)"


def _load(
    conn: Connection,
    set_id: int,
    hashes: Iterable[Any],
    default_category: str | None,
    progress: Progress | None,
    report: ParseReport,
    kind: str = "known-bad",
) -> tuple[int, int]:
    """Stage ``hashes`` and move them into ``hashset_hashes`` in index order; returns how many were
    new, and how many of the staged hashes sets of the other kind hold (a known-good set's hash
    also known-bad: the file is flagged known-bad, and the import says so)."""
    pg = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
    blob = "BYTEA" if pg else "BLOB"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGE} (algo SMALLINT NOT NULL, digest {blob} NOT NULL, category TEXT)"
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    mark = "%s" if pg else "?"
    sql = f"INSERT INTO {STAGE} (algo, digest, category) VALUES ({mark}, {mark}, {mark})"
    batch: list[tuple[int, bytes, str | None]] = []
    try:
        for h in hashes:
            batch.append((h.algo, h.digest, h.category if h.category is not None else default_category))
            if len(batch) >= STAGE_BATCH:
                cursor.executemany(sql, batch)
                batch = []
                if progress is not None:
                    progress(report)
        if batch:
            cursor.executemany(sql, batch)
    finally:
        cursor.close()
    conflict = "ON CONFLICT DO NOTHING"
    result = conn.exec_driver_sql(
        f"INSERT INTO hashset_hashes (algo, digest, set_id, category) "
        f"SELECT algo, digest, {int(set_id)}, MIN(category) FROM {STAGE} "
        f"GROUP BY algo, digest ORDER BY algo, digest {conflict}"
        if pg
        else f"INSERT OR IGNORE INTO hashset_hashes (algo, digest, set_id, category) "
        f"SELECT algo, digest, {int(set_id)}, category FROM {STAGE} ORDER BY algo, digest"
    )
    inserted = max(int(result.rowcount or 0), 0)
    other = "known-good" if kind == "known-bad" else "known-bad"
    overlap = 0
    if conn.execute(select(HashSet.c.id).where(HashSet.c.kind == other).limit(1)).first() is not None:
        param = "%s" if pg else "?"
        overlap = int(
            conn.exec_driver_sql(
                f"SELECT count(*) FROM (SELECT DISTINCT algo, digest FROM {STAGE}) st WHERE EXISTS ("
                "SELECT 1 FROM hashset_hashes h JOIN hashsets k ON k.id = h.set_id "
                f"WHERE h.algo = st.algo AND h.digest = st.digest AND k.kind = {param})",
                (other,),
            ).scalar_one()
        )
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")
    if progress is not None:
        progress(report)
    return inserted, overlap


def _delete_set(engine: Engine, set_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(HashSetEntry).where(HashSetEntry.c.set_id == set_id))
        conn.execute(delete(HashSet).where(HashSet.c.id == set_id))


def remove_set(
    case: Case, name: str, *, actor: str, reason: str | None = None, keys: dict[str, Any] | None = None
) -> int:
    """Remove the set ``name`` and its hashes; record it in the ledger. Returns the entry's seq.

    The ``hash/hit`` findings earlier matches stored stay (they are signed in their runs'
    digests); listings stop hiding or flagging by a removed set (triage/hashsets/known.py)."""
    from custody.actors import signing_keys

    engine = case.engine
    found = [s for s in list_sets(engine) if s.name == name]
    if not found:
        raise HashSetError(f"no hash set named {name!r}", hint="'exhibit hashset list' shows the sets")
    info = found[0]
    keys = keys if keys is not None else signing_keys(case, [actor])
    _delete_set(engine, info.id)
    data = {
        "name": info.name,
        "kind": info.kind,
        "category": info.category,
        "source": {"name": info.source_name, "sha256": info.source_sha256, "size": info.source_size},
        "counts": info.counts,
        "reason": reason,
    }
    [entry] = case.ledger.append(
        [Draft(kind=REMOVE_KIND, actor=actor, data=data)], keys, checkpoint_signer=actor
    )
    return entry.seq


def lookup(conn: Connection, algo: str, digests: Sequence[bytes]) -> Iterator[tuple[bytes, int, str | None]]:
    """``(digest, set_id, category)`` of every entry among ``digests`` (any set; callers keep the ready ones)."""
    code = ALGOS[algo]
    t = HashSetEntry
    for start in range(0, len(digests), LOOKUP_BATCH):
        chunk = list(dict.fromkeys(digests[start : start + LOOKUP_BATCH]))
        rows = conn.execute(
            select(t.c.digest, t.c.set_id, t.c.category).where(t.c.algo == code, t.c.digest.in_(chunk))
        )
        for digest, set_id, category in rows:
            yield bytes(digest), int(set_id), category


def pdq_blocks(
    conn: Connection, set_ids: Sequence[int], block: int
) -> Iterator[list[tuple[bytes, int, str | None]]]:
    """The PDQ hashes of ``set_ids``, ``block`` at a time (keyset pagination on the primary key)."""
    if not set_ids:
        return
    t = HashSetEntry
    last: tuple[bytes, int] | None = None
    while True:
        q = select(t.c.digest, t.c.set_id, t.c.category).where(
            t.c.algo == ALGOS["pdq"], t.c.set_id.in_(list(set_ids))
        )
        if last is not None:
            q = q.where(text("(digest, set_id) > (:d, :s)").bindparams(d=last[0], s=last[1]))
        rows = [
            (bytes(d), int(s), c) for d, s, c in conn.execute(q.order_by(t.c.digest, t.c.set_id).limit(block))
        ]
        if not rows:
            return
        yield rows
        if len(rows) < block:
            return
        last = (rows[-1][0], rows[-1][1])


__all__ = [
    "ALGO_NAMES",
    "IMPORT_KIND",
    "KINDS",
    "REMOVE_KIND",
    "ImportSummary",
    "SetInfo",
    "algorithms_in_sets",
    "import_set",
    "list_sets",
    "lookup",
    "pdq_blocks",
    "ready_sets",
    "remove_set",
]
