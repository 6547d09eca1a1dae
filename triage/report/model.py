"""What a report states about a case, read from the ledger and the triage tables.

The report's **case state** is the ledger up to its last entry that is not a ``report.write``
entry (``size``): writing a report appends such an entry, and the same case state and options
must give the same bytes again. Every date a report prints comes from that ledger (the report's
own date is the ``recorded`` time of entry ``size``), never from the clock.

Kept small: the item.derive entries (thousands on a phone) are counted here and streamed page by
page by the appendix (:func:`derived_pages`), never held.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, inspect, select

from custody import merkle
from custody.case import Case
from custody.keys import verify_signature
from custody.ledger import StoredCheckpoint, StoredEntry, checkpoint_message
from custody.timefmt import parse_offset, parse_utc
from custody.verify import Report, verify_case
from triage.engine import integrity
from triage.errors import TriageError
from triage.store.models import File, RunWarning

REPORT_KIND = "report.write"
DERIVE_KIND = "item.derive"
ACQUIRE_KIND = "item.acquire"
#: Warnings of a run shown in the methodology (all are counted; ``exhibit runs --json`` lists all).
WARNINGS_SHOWN = 50

#: What each problem code of ``custody verify`` means, in plain words (docs/custody.md).
PLAIN_WORDS = {
    "ENTRY_HASH_MISMATCH": "this entry's stored content no longer matches its recorded hash: the database was edited outside Exhibit",
    "SEQ_GAP": "an entry is missing or out of place before this one: the ledger's numbering has a gap",
    "PREV_HASH_MISMATCH": "this entry does not chain to the one before it: entries were removed, inserted or changed",
    "UNKNOWN_SIGNER": "this entry or checkpoint is signed by someone who was not registered at the time",
    "SIGNATURE_INVALID": "a required signature is missing or does not verify with the signer's registered key",
    "ROOT_MISMATCH": "a checkpoint does not match the entries it covers",
    "TRUNCATED": "entries a checkpoint vouched for are missing: the ledger was cut short",
    "INCONSISTENT_WITH_CHECKPOINT": "the ledger does not extend a checkpoint kept outside the lab",
    "CUSTODY_GAP": "custody cannot be followed here: a hand-over without a receiver, an event for an item not (or no longer) held, or a check-out/check-in out of order",
    "SEAL_MISMATCH": "the seal broken is not the seal recorded",
    "CLOCK_ANOMALY": "the recorded time is out of order with the other entries, or in the future: the recording computer's clock was wrong",
    "DUPLICATE_KEY": "two actors registered the same key: one person could sign as both",
    "DERIVED_PARENT_MISSING": "a derived item names an exhibit that was never acquired",
    "DERIVED_PARENT_MISMATCH": "a derived item was read from a copy whose hash differs from the acquired exhibit's",
    "ITEM_HASH_MISMATCH": "the evidence read again no longer has the hashes recorded at acquisition",
    "E01_STORED_HASH_MISMATCH": "the hash stored inside the E01 image does not match its media data",
    "TRIAGE_DATA_MISMATCH": "the stored triage results are not what the triage run signed",
    "E01_HEADER_MISMATCH": "a value in the E01 header differs from the one recorded at acquisition",
}


class ReportError(TriageError):
    """A report cannot be made from this case (the message names what and why)."""


class TriageDataChanged(ReportError):
    """Stored triage rows differ from the digest their run signed: the report is refused."""


@dataclass(frozen=True)
class When:
    """A ledger time: UTC instant and the recorder's offset, shown both ways."""

    utc: str
    offset: str

    @property
    def text(self) -> str:
        try:
            instant = parse_utc(self.utc)
            local = instant.astimezone(parse_offset(self.offset))
        except Exception:
            return f"{self.utc} (offset {self.offset})"
        base = instant.strftime("%Y-%m-%d %H:%M:%S UTC")
        if self.offset in ("+00:00", "-00:00"):
            return base
        return f"{base} ({local.strftime('%Y-%m-%d %H:%M:%S')} {self.offset})"

    @classmethod
    def of(cls, stamp: Any) -> When | None:
        if isinstance(stamp, dict) and isinstance(stamp.get("utc"), str):
            return cls(stamp["utc"], str(stamp.get("offset") or "+00:00"))
        return None


@dataclass
class CustodyRow:
    """One row of the chain-of-custody table (a derive batch of one run is one row)."""

    seq: str
    when: When | None
    occurred: When | None
    who: str
    what: str
    where: str | None
    why: str | None
    authority: str | None
    seals: str | None
    signers: str
    details: str
    flags: list[str] = field(default_factory=list)


@dataclass
class RunInfo:
    """A completed triage run (its signed ``triage.run`` entry) or a hash-set match."""

    seq: int
    exhibit: str
    run: str
    kind: str
    actor: str
    started: When | None
    recorded: When | None
    tool: str | None
    plugins: list[tuple[str, str]]
    arguments: dict[str, Any]
    counts: dict[str, Any]
    digest: dict[str, Any] | None
    derived: int = 0
    anchors_rows: bool = False
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0


@dataclass
class ExhibitInfo:
    exhibit: str
    entry: StoredEntry
    data: dict[str, Any]
    partitions: list[dict[str, Any]] = field(default_factory=list)
    runs: list[RunInfo] = field(default_factory=list)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acquisition(self) -> dict[str, Any]:
        acq = self.data.get("acquisition")
        return acq if isinstance(acq, dict) else {}


@dataclass
class Proof:
    seq: int
    kind: str
    exhibit: str | None
    leaf_index: int
    leaf_hash: str
    audit_path: list[str]
    verified: bool


@dataclass
class CaseModel:
    """Everything the report's own sections show (findings are read by their sections)."""

    case_number: str
    title: str
    agency: str | None
    ledger_id: str
    created: When
    size: int
    date: When
    exhibits: list[ExhibitInfo]
    actors: dict[str, dict[str, Any]]
    custody: list[CustodyRow]
    runs: list[RunInfo]
    checkpoint: dict[str, Any]
    checkpoint_canonical: str
    checkpoint_signature: str
    checkpoint_signer_key: str
    checkpoint_signature_valid: bool
    proofs: list[Proof]
    problems: list[dict[str, Any]]
    open_checkouts: list[dict[str, Any]]
    derived_total: int
    tool: str


def state_size(case: Case) -> int:
    """The seq of the last entry that is not a ``report.write`` entry (0: an empty ledger)."""
    from custody.store.models import Entry

    with case.engine.connect() as conn:
        value = conn.execute(select(func.max(Entry.c.seq)).where(Entry.c.kind != REPORT_KIND)).scalar()
    return int(value or 0)


def choose_exhibits(case: Case, size: int, asked: Sequence[str]) -> list[str]:
    """The exhibits of the report in acquisition order: ``asked``, or every acquired one."""
    acquired = [e.exhibit for e in case.ledger.entries(kinds=[ACQUIRE_KIND]) if e.seq <= size and e.exhibit]
    if not acquired:
        raise ReportError(
            f"case {case.identity.case_number} has no acquired exhibit",
            hint="acquire one with 'exhibit acquire'",
        )
    unknown = [x for x in asked if x not in acquired]
    if unknown:
        raise ReportError(
            f"no exhibit {unknown[0]!r} in case {case.identity.case_number}",
            hint=f"the exhibits are: {', '.join(acquired)}",
        )
    wanted = set(asked)
    return [x for x in acquired if not asked or x in wanted]


def check_triage_data(case: Case, exhibits: Sequence[str]) -> tuple[dict[str, integrity.AnchorEntry], Report]:
    """Issue 10, section 1: verify the case once (the ledger, and through the triage extension the
    stored rows of every exhibit against their latest anchor) and refuse on a triage difference
    about one of ``exhibits``.

    Raises :class:`TriageDataChanged` naming the exhibit, the run, its ledger entry and the first
    differing row of each table; rows stored without any anchor (a run that never completed)
    count as changed. Returns the anchors and the verification, which the custody section shows.
    """
    verification = verify_case(case)
    if not inspect(case.engine).has_table("triage_files"):
        return {}, verification
    wanted = set(exhibits)
    changed = [p for p in verification.problems if p.code == integrity.CODE and p.exhibit in wanted]
    if changed:
        first = changed[0]
        lines = "; ".join(p.detail for p in changed if p.exhibit == first.exhibit)
        raise TriageDataChanged(
            f"exhibit {first.exhibit}: the triage data differs from what its run signed "
            f"(ledger entry {first.seq}): {lines}. Nothing was written",
            hint=f"'exhibit custody verify {first.exhibit}' shows every difference; 'exhibit triage "
            f"{first.exhibit}' reads the evidence again",
        )
    anchors = integrity.latest_anchors(case.ledger)
    with case.engine.connect() as conn:
        for exhibit in exhibits:
            if exhibit in anchors:
                continue
            stored = sum(
                int(conn.execute(select(func.count()).where(spec.table.c.exhibit == exhibit)).scalar_one())
                for spec in integrity.TABLES
            )
            if stored:
                raise TriageDataChanged(
                    f"exhibit {exhibit}: {stored} stored triage rows are not covered by any signed "
                    "triage run (no triage.run entry with a digest): the report is not written",
                    hint=f"run 'exhibit triage {exhibit}' to read the evidence again and sign its results",
                )
    return anchors, verification


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _signers(entry: StoredEntry) -> str:
    return ", ".join(str(s.get("actor")) for s in entry.signatures if isinstance(s, dict)) or "(none)"


def _who(actors: dict[str, dict[str, Any]], actor_id: str) -> str:
    a = actors.get(actor_id)
    if not a:
        return actor_id
    role = f", {a['role']}" if a.get("role") else ""
    org = f", {a['org']}" if a.get("org") else ""
    return f"{a.get('name') or actor_id} ({actor_id}{role}{org})"


def _describe(entry: StoredEntry, data: dict[str, Any], actors: dict[str, dict[str, Any]]) -> str:
    kind = entry.kind
    if kind == "actor.add":
        return f"registered {data.get('name')} as {data.get('role')}, Ed25519 public key {data.get('public_key')}"
    if kind == "actor.rotate":
        return f"{data.get('id')} replaced their key {data.get('previous_key')} by {data.get('public_key')}"
    if kind == "actor.revoke":
        return f"key {data.get('public_key')} of {data.get('id')} revoked: {data.get('reason') or ''}".rstrip(
            ": "
        )
    if kind == ACQUIRE_KIND:
        acq = data.get("acquisition") or {}
        return f"acquired ({acq.get('kind')}, {acq.get('size')} bytes): {data.get('description')}"
    if kind == "custody.transfer":
        return f"handed over from {_who(actors, str(data.get('released_by')))} to {_who(actors, str(data.get('received_by')))}"
    if kind == "custody.correct":
        return f"correction of entry {data.get('corrects')}"
    if kind == "custody.verify":
        result = data.get("result") or {}
        codes = ", ".join(result.get("codes") or []) or "no problem"
        return f"verified ({data.get('method')}): {'ok' if result.get('ok') else 'problems'} ({codes})"
    if kind.startswith("custody."):
        return kind.removeprefix("custody.").replace("-", " ")
    if kind == "triage.run":
        counts = data.get("counts") or {}
        return (
            f"triage run {data.get('run')}: {counts.get('files', 0)} files hashed, {counts.get('findings', 0)} "
            f"findings, {counts.get('warnings', 0)} warnings, {data.get('derived', 0)} derived items"
        )
    if kind == "hashset.match":
        return f"hash-set match {data.get('match')}"
    if kind == "item.export":
        files = data.get("files") or []
        return f"{len(files)} file(s) exported to {data.get('to')}"
    if kind == REPORT_KIND:
        return f"report written ({data.get('format')}, {data.get('file')}, SHA-256 {data.get('sha256')})"
    return kind


def _custody_rows(
    entries: list[StoredEntry],
    actors: dict[str, dict[str, Any]],
    derived: dict[tuple[str, str], tuple[int, int, int]],
    problems: dict[int, list[dict[str, Any]]],
) -> list[CustodyRow]:
    rows: list[CustodyRow] = []
    corrected: dict[int, list[str]] = {}
    for e in entries:
        if e.kind == "custody.correct":
            d = e.data
            corrected.setdefault(int(d.get("corrects") or 0), []).append(
                f"corrected by entry {e.seq} ({_who(actors, e.actor)}): {d.get('reason')}"
            )
    for e in entries:
        d = e.data
        body = e.parsed
        flags = [
            f"{p['code']}: {PLAIN_WORDS.get(p['code'], p['code'])} ({p['detail']})"
            for p in problems.get(e.seq, [])
        ]
        flags += corrected.get(e.seq, [])
        if e.kind == "custody.correct":
            flags.append(f"this entry corrects entry {d.get('corrects')}: read the two together")
        if e.kind == "triage.run":
            first, last, count = derived.get((str(e.exhibit), str(d.get("run"))), (0, 0, 0))
            if count:
                rows.append(
                    CustodyRow(
                        f"{first}-{last}" if first != last else str(first),
                        When.of(body.get("recorded")),
                        None,
                        _who(actors, e.actor),
                        f"{count} derived item(s) recorded by triage run {d.get('run')} (listed in the appendix)",
                        None,
                        None,
                        None,
                        None,
                        e.actor,
                        f"exhibit {e.exhibit}",
                    )
                )
        rows.append(
            CustodyRow(
                str(e.seq),
                When.of(body.get("recorded")),
                When.of(d.get("occurred")),
                _who(actors, e.actor),
                _describe(e, d, actors),
                _text(d.get("location")),
                _text(d.get("reason")),
                _text(d.get("authority")),
                _text(d.get("seal")),
                _signers(e),
                f"exhibit {e.exhibit}" if e.exhibit else "",
                flags,
            )
        )
    return rows


def _partitions(case: Case, exhibit: str) -> list[dict[str, Any]]:
    if not inspect(case.engine).has_table("triage_files"):
        return []
    t = File
    query = (
        select(t.c.partition, t.c.fs_type, func.count(), func.count(t.c.sha256), func.sum(t.c.size))
        .where(t.c.exhibit == exhibit)
        .group_by(t.c.partition, t.c.fs_type)
        .order_by(t.c.partition, t.c.fs_type)
    )
    with case.engine.connect() as conn:
        return [
            {"offset": p, "fs_type": fs, "entries": int(n), "hashed": int(h), "bytes": int(b or 0)}
            for p, fs, n, h, b in conn.execute(query)
        ]


def _warnings(case: Case, run: str) -> tuple[list[dict[str, Any]], int]:
    if not inspect(case.engine).has_table("triage_warnings"):
        return [], 0
    t = RunWarning
    with case.engine.connect() as conn:
        count = int(conn.execute(select(func.count()).where(t.c.run_id == run)).scalar_one())
        rows = conn.execute(
            select(t.c.plugin, t.c.path, t.c.message)
            .where(t.c.run_id == run)
            .order_by(t.c.id)
            .limit(WARNINGS_SHOWN)
        ).all()
    return [{"plugin": r.plugin, "path": r.path, "message": r.message} for r in rows], count


def _checkpoint_at(checkpoints: list[StoredCheckpoint], size: int) -> StoredCheckpoint:
    """The checkpoint of the case state: the first one of exactly ``size`` entries (every append
    ends with one; a later checkpoint of the same size, e.g. after a key rotation or a time-stamp,
    must not change the report), else the largest one below it."""
    exact = [c for c in checkpoints if c.tree_size == size]
    if exact:
        return exact[0]
    below = [c for c in checkpoints if c.tree_size <= size]
    if not below:
        raise ReportError("the ledger has no checkpoint", hint="record something first")
    return max(below, key=lambda c: (c.tree_size, c.id))


def build_model(
    case: Case,
    exhibits: Sequence[str],
    anchors: dict[str, integrity.AnchorEntry],
    verification: Report,
) -> CaseModel:
    """Read what the report's sections show about ``exhibits`` (already chosen and checked)."""
    from custody.items import tool_version

    size = state_size(case)
    wanted = set(exhibits)
    actors: dict[str, dict[str, Any]] = {}
    entries: list[StoredEntry] = []
    derived: dict[tuple[str, str], tuple[int, int, int]] = {}
    last: StoredEntry | None = None
    for e in case.ledger.entries():
        if e.seq > size:
            break
        last = e
        if e.kind in ("actor.add", "actor.rotate", "actor.revoke"):
            d = e.data
            if e.kind == "actor.add":
                actors.setdefault(str(d.get("id")), {**d, "seq": e.seq})
            entries.append(e)
            continue
        if e.exhibit not in wanted:
            continue
        if e.kind == DERIVE_KIND:
            key = (str(e.exhibit), str(e.data.get("run")))
            first, _, count = derived.get(key, (e.seq, e.seq, 0))
            derived[key] = (first, e.seq, count + 1)
            continue
        entries.append(e)
    if last is None:
        raise ReportError("the ledger is empty", hint="acquire an exhibit first")

    problems = [
        p.as_dict()
        for p in verification.problems
        if (p.seq is None or p.seq <= size) and (p.exhibit is None or p.exhibit in wanted)
    ]
    by_seq: dict[int, list[dict[str, Any]]] = {}
    for p in problems:
        if p["seq"] is not None:
            by_seq.setdefault(int(p["seq"]), []).append(p)

    runs: list[RunInfo] = []
    for e in entries:
        if e.kind not in (integrity.RUN_KIND, integrity.MATCH_KIND):
            continue
        d = e.data
        run = str(d.get("run") if e.kind == integrity.RUN_KIND else d.get("match"))
        versions = d.get("versions") or {}
        warnings, warning_count = _warnings(case, run)
        anchor = anchors.get(str(e.exhibit))
        runs.append(
            RunInfo(
                seq=e.seq,
                exhibit=str(e.exhibit),
                run=run,
                kind=e.kind,
                actor=e.actor,
                started=When.of(d.get("started")),
                recorded=When.of(e.parsed.get("recorded")),
                tool=versions.get("tool") if isinstance(versions, dict) else None,
                plugins=sorted((versions.get("plugins") or {}).items()) if isinstance(versions, dict) else [],
                arguments=d.get("arguments") or {},
                counts=d.get("counts") or {},
                digest=d.get("digest") if isinstance(d.get("digest"), dict) else None,
                derived=derived.get((str(e.exhibit), run), (0, 0, 0))[2],
                anchors_rows=anchor is not None and anchor.seq == e.seq,
                warnings=warnings,
                warning_count=warning_count,
            )
        )

    infos: list[ExhibitInfo] = []
    for e in entries:
        if e.kind != ACQUIRE_KIND:
            continue
        ex = str(e.exhibit)
        infos.append(
            ExhibitInfo(
                exhibit=ex,
                entry=e,
                data=e.data,
                partitions=_partitions(case, ex),
                runs=[r for r in runs if r.exhibit == ex],
                verifications=[
                    {
                        "seq": v.seq,
                        "when": When.of(v.parsed.get("recorded")),
                        "who": _who(actors, v.actor),
                        **v.data,
                    }
                    for v in entries
                    if v.kind == "custody.verify" and v.exhibit == ex
                ],
                problems=[p for p in problems if p["exhibit"] == ex],
            )
        )

    cp = _checkpoint_at(case.ledger.checkpoints(), size)
    leaves = case.ledger.leaf_hashes(cp.tree_size)
    root = bytes.fromhex(cp.root)
    proofs: list[Proof] = []
    for e in entries:
        if e.seq > cp.tree_size:
            continue
        index = e.seq - 1
        path = merkle.inclusion_proof(leaves, index)
        try:
            merkle.verify_inclusion(leaves[index], index, cp.tree_size, path, root)
            ok = True
        except merkle.ProofError:
            ok = False
        proofs.append(
            Proof(e.seq, e.kind, e.exhibit, index, leaves[index].hex(), [h.hex() for h in path], ok)
        )
    # the key in force when the checkpoint was signed (keys may have been rotated since)
    signer_key = verification.key_at(cp.signer, cp.tree_size + 1) or str(
        actors.get(cp.signer, {}).get("public_key") or ""
    )
    signed = bool(signer_key) and verify_signature(
        signer_key, cp.signature, checkpoint_message(cp.body.encode("utf-8"))
    )

    ident = case.identity
    return CaseModel(
        case_number=ident.case_number,
        title=ident.title,
        agency=ident.agency,
        ledger_id=ident.ledger_id,
        created=When(ident.created_utc, ident.created_offset),
        size=size,
        date=When.of(last.parsed.get("recorded")) or When(last.recorded_utc, "+00:00"),
        exhibits=infos,
        actors=actors,
        custody=_custody_rows(entries, actors, derived, by_seq),
        runs=runs,
        checkpoint=json.loads(cp.body),
        checkpoint_canonical=cp.body,
        checkpoint_signature=cp.signature,
        checkpoint_signer_key=signer_key,
        checkpoint_signature_valid=signed,
        proofs=proofs,
        problems=problems,
        open_checkouts=[o for o in verification.open_checkouts if o.get("exhibit") in wanted],
        derived_total=sum(c for _, _, c in derived.values()),
        tool=tool_version(),
    )


def derived_pages(
    case: Case, exhibits: Sequence[str], size: int, rows: int
) -> Iterator[list[dict[str, Any]]]:
    """The ``item.derive`` entries of ``exhibits`` (seq <= ``size``), ``rows`` at a time."""
    wanted = set(exhibits)
    page: list[dict[str, Any]] = []
    for e in case.ledger.entries(kinds=[DERIVE_KIND]):
        if e.seq > size:
            break
        if e.exhibit not in wanted:
            continue
        d = e.data
        hashes = d.get("hashes") or {}
        plugins = d.get("plugins") or []
        page.append(
            {
                "seq": e.seq,
                "exhibit": e.exhibit,
                "run": d.get("run"),
                "path": d.get("path"),
                "partition": d.get("partition"),
                "inode": d.get("inode"),
                "stream": d.get("stream"),
                "size": d.get("size"),
                "deleted": d.get("deleted"),
                "sha256": hashes.get("sha256") if isinstance(hashes, dict) else None,
                "plugins": ", ".join(
                    f"{p.get('plugin')} {p.get('version')}"
                    + ("" if p.get("outcome") == "ok" else f" ({p.get('outcome')})")
                    for p in plugins
                    if isinstance(p, dict)
                ),
            }
        )
        if len(page) >= rows:
            yield page
            page = []
    if page:
        yield page
