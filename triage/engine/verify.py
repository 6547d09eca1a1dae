"""``exhibit custody verify`` for triage: the stored rows against what the runs signed.

Registered in the ``exhibit.verify`` entry-point group (custody/verify.py runs it; custody never
imports triage). Every problem has the code TRIAGE_DATA_MISMATCH, the ``seq`` of the
``triage.run`` entry it contradicts, and names the run and the row (table, key, column when the
signed entry holds the value itself).

* Each ``triage.run`` entry against its ``triage_runs`` row: status, actor, arguments, versions,
  counts, start time and resumed run must be what was signed.
* The latest ``triage.run`` entry with a digest of each exhibit against every stored files,
  findings and warnings row of that exhibit (triage/engine/integrity.py). Older entries without a digest
  are not checked (nothing to check them against; docs/custody.md, "Triage digest").
* With ``--rehash``, every file the anchored rows say was hashed is read again from the evidence
  and each stored hash compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from custody.case import Case
from custody.errors import CustodyError, EvidenceError
from custody.items import get_item
from custody.verify import Report
from triage.engine import integrity
from triage.engine.carving import rehash_carved
from triage.engine.options import evidence_options
from triage.engine.rowkeys import keyed_entries
from triage.engine.writes import HASHES
from triage.errors import PasswordRequired, TriageError, WrongPassword
from triage.plugin.scratch import Scratch
from triage.sources.carve import CARVED_FS
from triage.sources.nested import NestedSource, NestLimits
from triage.sources.open import open_source
from triage.store.models import File, Run

CODE = integrity.CODE


def check(
    case: Case,
    report: Report,
    exhibit: str | None,
    rehash: bool,
    *,
    options: Sequence[str] = (),
    options_files: Sequence[Path] = (),
) -> None:
    """The ``exhibit.verify`` entry point. ``options``: the evidence's (``backup.password=...``),
    checked before anything is read (OptionError)."""
    opening = evidence_options(options, options_files)
    if not inspect(case.engine).has_table("triage_runs"):
        return  # never triaged
    # Verification never writes: no migration here (a case triaged before the digest existed has
    # no triage_anchors table, and no digest in its ledger either; integrity._locate copes).
    _check_runs(case, report, exhibit)
    anchors = integrity.latest_anchors(case.ledger, exhibit)
    with case.engine.connect() as conn:
        for anchor in anchors.values():
            diffs = integrity.compare(conn, anchor.exhibit, anchor)
            for line in integrity.summarise(diffs):
                report.add(CODE, anchor.seq, anchor.exhibit, f"run {anchor.run}: {line}")
    _check_unsigned(case, report, exhibit, anchors)
    if rehash:
        for anchor in anchors.values():
            _rehash_files(case, report, anchor, opening)


#: A run that stored rows and has not signed them (yet): resumed, and signed, by the next run.
_UNFINISHED = frozenset({"running", "interrupted", "failed"})


def _check_unsigned(
    case: Case, report: Report, exhibit: str | None, anchors: dict[str, integrity.AnchorEntry]
) -> None:
    """Stored triage rows of an exhibit that no signed run covers: an exhibit with no ``triage.run``
    entry at all (never triaged to the end, or never even acquired) whose files, findings or
    warnings rows are there anyway. Rows of a run recorded as not finished (killed, interrupted,
    failed) are a note: the docs say they are not protected until the run that completes them
    signs them. Rows of no recorded run, or of one recorded as complete without its signed entry,
    are a problem (found in review: a finding inserted for an exhibit that had not been triaged
    passed, while ``exhibit report`` refused it). Exhibits whose runs were signed before the
    digest existed are left out, as their rows are (nothing to check them against)."""
    signed = {
        e.exhibit for e in case.ledger.entries(exhibit=exhibit, kinds=[integrity.RUN_KIND]) if e.exhibit
    }
    rows: dict[tuple[str, str], int] = {}  # (exhibit, run id) -> rows
    with case.engine.connect() as conn:
        for spec in integrity.TABLES:
            table = spec.table
            query = select(table.c.exhibit, table.c.run_id, func.count()).group_by(
                table.c.exhibit, table.c.run_id
            )
            if exhibit is not None:
                query = query.where(table.c.exhibit == exhibit)
            for ex, run_id, n in conn.execute(query):
                if ex not in anchors and ex not in signed:
                    rows[(ex, str(run_id))] = rows.get((ex, str(run_id)), 0) + int(n)
        recorded = conn.execute(select(Run.c.id, Run.c.status, Run.c.exhibit)).all() if rows else []
    status = {str(r.id): str(r.status) for r in recorded}
    owner = {str(r.id): str(r.exhibit) for r in recorded}
    unsigned: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for (ex, run_id), n in sorted(rows.items()):
        state = status.get(run_id)
        if state in _UNFINISHED and owner.get(run_id) == ex:
            report.notes.append(
                f"{ex}: {n} stored triage rows of run {run_id} ({state}) are not signed yet: they are "
                f"evidence only once 'exhibit triage {ex}' completes the run and signs them"
            )
            continue
        unsigned.setdefault(ex, []).append(f"{run_id} ({state or 'no such run'})")
        counts[ex] = counts.get(ex, 0) + n
    for ex, runs in unsigned.items():
        report.add(
            CODE,
            None,
            ex,
            f"{counts[ex]} stored triage rows are covered by no signed triage run (rows of run(s) "
            f"{', '.join(runs)}): added outside Exhibit; 'exhibit triage {ex}' reads the evidence "
            "again and signs what it finds",
        )


def _check_runs(case: Case, report: Report, exhibit: str | None) -> None:
    # A list, not the generator: on SQLite each connection holds the write lock (BEGIN IMMEDIATE).
    for entry in list(case.ledger.entries(exhibit=exhibit, kinds=[integrity.RUN_KIND])):
        try:
            data = entry.data
        except ValueError:  # not JSON: the ledger checks report ENTRY_HASH_MISMATCH
            continue
        if not isinstance(data, dict):  # likewise reported by the ledger checks
            continue
        run_id = data.get("run")
        with case.engine.connect() as conn:
            row = conn.execute(select(Run).where(Run.c.id == run_id)).first()
        if row is None:
            report.add(CODE, entry.seq, entry.exhibit, f"run {run_id}: its triage_runs row was deleted")
            continue
        signed: dict[str, Any] = {
            "exhibit": entry.exhibit,
            "actor": entry.actor,
            "status": "complete",
            "arguments": data.get("arguments"),
            "versions": data.get("versions"),
            "counts": {**(data.get("counts") or {}), "derived": data.get("derived")},
        }
        if isinstance(data.get("started"), dict):
            signed["started_utc"] = data["started"].get("utc")
            signed["started_offset"] = data["started"].get("offset")
        if "resumed_from" in data:
            signed["resumed_from"] = data["resumed_from"]
        differing = [col for col, value in signed.items() if _stored(row, col) != value]
        if differing:
            report.add(
                CODE,
                entry.seq,
                entry.exhibit,
                f"run {run_id}: triage_runs row id={run_id} column(s) {', '.join(differing)} "
                "differ from the signed run entry",
            )


def _stored(row: Any, column: str) -> Any:
    value = getattr(row, column)
    if column in ("arguments", "versions", "counts"):
        try:
            return json.loads(value)
        except (TypeError, ValueError):  # not JSON: compared as stored, so it differs (reported)
            return value
    return value


def _scratch_parent(case: Case) -> Path:
    """Where re-hashing spools big archives found in the evidence: the case's scratch folder."""
    parent = case.scratch_dir
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _archive_limits(case: Case, run_id: str) -> NestLimits | None:
    """The limits the run followed archives in the evidence with, when not the defaults (its
    recorded arguments), so the re-hash walks the same members; None: the defaults."""
    with case.engine.connect() as conn:
        text = conn.execute(select(Run.c.arguments).where(Run.c.id == run_id)).scalar()
    try:
        given = json.loads(text or "{}").get("archives")
        return NestLimits(**given) if isinstance(given, dict) else None
    except (TypeError, ValueError):  # altered arguments: the run-row checks report them
        return None


def _rehash_files(
    case: Case, report: Report, anchor: integrity.AnchorEntry, opening: dict[str, object]
) -> None:
    """Read every hashed file of the exhibit again and compare each stored hash.

    An encrypted backup without its password (or with a wrong one) is the user's error to fix
    (``--option backup.password=...``), raised, not a mismatch of the stored rows."""
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    carved: dict[str, tuple[int | None, str]] = {}  # carved files: read from their stored extents
    with case.engine.connect() as conn:
        for f in conn.execute(
            select(File).where(
                File.c.exhibit == anchor.exhibit, File.c.type == "file", File.c.sha256.is_not(None)
            )
        ):
            hashes = {name: value for name in HASHES if (value := getattr(f, name)) is not None}
            wanted[f.key] = (f.path, hashes)
            if f.fs_type == CARVED_FS:
                carved[f.key] = (f.partition, f.path)
    if not wanted:
        return
    where = f"run {anchor.run}"
    problems = 0

    def compare(key: str, path: str, stored: dict[str, str], now: dict[str, str]) -> None:
        """Report the stored hashes of one file that the evidence no longer gives."""
        nonlocal problems
        wrong = [n for n in sorted(stored) if now.get(n) != stored[n]]
        if not wrong:
            return
        problems += 1
        if problems <= integrity.MAX_NAMED:
            report.add(
                CODE,
                anchor.seq,
                anchor.exhibit,
                f"{where}: triage_files row key={key} ({path!r}) column(s) {', '.join(wrong)}: "
                + "; ".join(f"{n} stored {stored[n]}, evidence now {now.get(n)}" for n in wrong),
            )

    try:
        item = get_item(case, anchor.exhibit)
        limits = _archive_limits(case, anchor.run)
        with (
            open_source(Path(item.source_path), item.kind, options=opening) as top,
            Scratch(_scratch_parent(case)) as scratch,
        ):
            source = NestedSource(top, limits=limits, scratch=scratch)  # members of archives too
            try:
                for key, e in keyed_entries(anchor.exhibit, source.entries(None, recursive=True)):
                    if key not in wanted:
                        continue
                    path, stored = wanted.pop(key)
                    digests = {name: hashlib.new(name) for name in stored}
                    for chunk in source.read(e):
                        for d in digests.values():
                            d.update(chunk)
                    compare(key, path, stored, {n: d.hexdigest() for n, d in digests.items()})
                if carved:
                    with case.engine.connect() as conn:
                        again = list(rehash_carved(conn, anchor.exhibit, top, wanted, carved))
                    for key, path, stored, now in again:
                        compare(key, path, stored, now)
            finally:
                source.close_archives()
    except (PasswordRequired, WrongPassword) as exc:
        exc.hint = f"{exc.hint}; exhibit custody verify takes it as --option or --options-file too"
        raise
    except (TriageError, CustodyError, EvidenceError, OSError) as exc:
        report.add(CODE, anchor.seq, anchor.exhibit, f"{where}: cannot re-read the files it hashed: {exc}")
        return
    if problems > integrity.MAX_NAMED:
        report.add(
            CODE, anchor.seq, anchor.exhibit, f"{where}: {problems - integrity.MAX_NAMED} more files differ"
        )
    for key, (path, _) in list(wanted.items())[: integrity.MAX_NAMED]:
        report.add(
            CODE,
            anchor.seq,
            anchor.exhibit,
            f"{where}: triage_files row key={key} ({path!r}) is not an entry of the evidence",
        )
