"""Verification of a case ledger: cryptography, chain, checkpoints, custody logic, evidence.

Every problem names the entry (sequence number), the exhibit and a stable code a report can
cite. Codes (docs/custody.md gives the precise rule behind each):

ENTRY_HASH_MISMATCH, PREV_HASH_MISMATCH, SIGNATURE_INVALID, UNKNOWN_SIGNER, SEQ_GAP,
ROOT_MISMATCH, TRUNCATED, INCONSISTENT_WITH_CHECKPOINT, ITEM_HASH_MISMATCH,
E01_STORED_HASH_MISMATCH, E01_HEADER_MISMATCH, CUSTODY_GAP, SEAL_MISMATCH, CLOCK_ANOMALY,
DERIVED_PARENT_MISSING, DERIVED_PARENT_MISMATCH, DUPLICATE_KEY, KEY_REVOKED, TIMESTAMP_INVALID; and, from the ``exhibit.verify``
extensions, TRIAGE_DATA_MISMATCH.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import re
import stat
import threading
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from custody import keys as keymod
from custody import merkle
from custody.case import Case
from custody.errors import CheckpointError, EvidenceError, LedgerError
from custody.ledger import (
    CHECKPOINT_FORMAT,
    GENESIS,
    Frontier,
    StoredCheckpoint,
    StoredEntry,
    canonical,
    checkpoint_message,
    entry_message,
    json_loads,
)
from custody.timefmt import parse_offset, parse_utc

CLOCK_TOLERANCE = timedelta(minutes=5)
CHECKPOINT_FILE_FORMAT = "exhibit-checkpoint-file/1"


@dataclass(frozen=True)
class Problem:
    code: str
    seq: int | None
    exhibit: str | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    ok: bool = True
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoints: int = 0
    rehashed: list[str] = field(default_factory=list)
    open_checkouts: list[dict[str, Any]] = field(default_factory=list)
    #: facts worth knowing that are not problems (rows of a triage run that has not completed yet)
    notes: list[str] = field(default_factory=list)
    #: each actor's keys in ledger order: (the seq after which the key signs entries, key hex)
    key_history: dict[str, list[tuple[int, str]]] = field(default_factory=dict, repr=False)
    #: revoked keys: key hex -> (seq of the actor.revoke entry, effective UTC, actor ID, revoked by)
    revocations: dict[str, tuple[int, str, str, str]] = field(default_factory=dict, repr=False)

    def key_at(self, actor: str, seq: int) -> str | None:
        """The key ``actor`` signed entry ``seq`` with (checkpoint of size n: ``key_at(a, n + 1)``)."""
        found = None
        for after, key in self.key_history.get(actor, ()):
            if after < seq:
                found = key
        return found

    def insert_problem(self, problem: Problem) -> None:
        """Add a problem found after the main pass, in seq order among the entry problems."""
        at = next(
            (
                i
                for i, q in enumerate(self.problems)
                if q.seq is not None and problem.seq is not None and q.seq > problem.seq
            ),
            len(self.problems),
        )
        self.problems.insert(at, problem)
        self.ok = False

    def add(self, code: str, seq: int | None, exhibit: str | None, detail: str) -> None:
        self.problems.append(Problem(code, seq, exhibit, detail))
        self.ok = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "problems": [p.as_dict() for p in self.problems],
            "checkpoints": self.checkpoints,
            "rehashed": self.rehashed,
            "open_checkouts": self.open_checkouts,
            "notes": self.notes,
        }


@dataclass
class _Custody:
    """What the ledger says about one exhibit so far, for the custody-logic checks."""

    holder: str
    out_seq: int | None = None
    out_by: str | None = None
    seal: str | None = None
    seal_seq: int | None = None
    closed_seq: int | None = None  # returned or disposed at this entry
    sha256: str | None = None


# ------------------------------------------------------------------------------------------------


def verify_case(
    case: Case,
    exhibit: str | None = None,
    *,
    rehash: bool = False,
    against: Path | None = None,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    options: Sequence[str] = (),
    options_files: Sequence[Path] = (),
    extensions: bool = True,
) -> Report:
    """Check everything the ledger claims; with ``rehash`` re-read the evidence too.

    ``extensions=False`` leaves out the checks of other packages (:func:`run_extensions`): what
    a custody event checks of the entry it has just recorded (their problems are never about
    such an entry).

    ``now`` is the time of the verification (default: this computer's clock); entries recorded
    after it are clock anomalies. ``options`` (``NAME=VALUE``) and ``options_files`` are handed,
    unread, to the checks of other packages (:func:`run_extensions`): what opening an exhibit's
    evidence needs to re-read the files triage hashed (an encrypted backup's password).
    """
    with case.database.snapshot():  # one view of the ledger, whatever is appended meanwhile
        checkpoints = case.ledger.checkpoints()
        report = _verify_rows(
            case.ledger.entry_rows(),
            checkpoints,
            ledger_id=case.ledger.ledger_id,
            case_number=case.ledger.case_number,
            progress=progress,
            raw_signatures=True,
            now=now,
        )
        check_revocations(case, report)
        check_timestamps(case, checkpoints, report)
        if against is not None:
            check_against(case, against, report)
        if rehash:
            rehash_items(case, report, exhibit)
        if extensions:
            run_extensions(case, report, exhibit, rehash, options=options, options_files=options_files)
    if exhibit is not None:
        report.problems = [p for p in report.problems if p.exhibit in (None, exhibit)]
        report.open_checkouts = [o for o in report.open_checkouts if o["exhibit"] == exhibit]
        report.ok = not report.problems
    return report


def verify_entries(
    entries: Iterable[StoredEntry],
    checkpoints: list[StoredCheckpoint],
    *,
    ledger_id: str,
    case_number: str,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> Report:
    rows = (
        (e.seq, e.entry_hash, e.prev_hash, e.kind, e.exhibit, e.actor, e.body, e.signatures) for e in entries
    )
    return _verify_rows(
        rows, checkpoints, ledger_id=ledger_id, case_number=case_number, progress=progress, now=now
    )


EXPORT_FORMAT = "exhibit-ledger-export/1"


def verify_export(document: Any, *, now: datetime | None = None) -> Report:
    """Check a JSON export (docs/custody.md, "JSON export") without any database.

    The same checks as ``exhibit custody verify`` makes of the stored ledger: every entry hash
    (recomputed from the RFC 8785 form of the exported body), the chain, every required
    signature, the custody logic, and every checkpoint's signature and root. The ``ledger_id``
    and ``case_number`` of the export's (unsigned) ``case`` block must be those of every signed
    body. Raises :class:`LedgerError` when ``document`` is not an export at all.
    """

    def refuse(why: str) -> LedgerError:
        return LedgerError(
            f"not an Exhibit ledger export: {why}",
            hint="use a file written by 'exhibit custody export --format json', unchanged",
        )

    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise refuse(f"its format is not {EXPORT_FORMAT!r}")
    block, entries, checkpoints = (document.get(k) for k in ("case", "entries", "checkpoints"))
    if not isinstance(block, dict) or not isinstance(entries, list) or not isinstance(checkpoints, list):
        raise refuse("it lacks the case block, the entries or the checkpoints")
    ledger_id, case_number = block.get("ledger_id"), block.get("case_number")
    if not isinstance(ledger_id, str) or not isinstance(case_number, str):
        raise refuse("the case block lacks ledger_id or case_number")
    stored = [_exported_checkpoint(i, c) for i, c in enumerate(checkpoints, 1)]
    report = verify_entries(
        (_exported_entry(i, e) for i, e in enumerate(entries, 1)),
        stored,
        ledger_id=ledger_id,
        case_number=case_number,
        now=now,
    )

    def rows() -> Iterator[_Row]:
        for i, e in enumerate(entries, 1):
            x = _exported_entry(i, e)
            yield (x.seq, x.entry_hash, x.prev_hash, x.kind, x.exhibit, x.actor, x.body, x.signatures)

    revocation_problems(rows(), report)
    tokens = document.get("timestamps")
    if tokens is not None:
        from custody import timestamps

        if not isinstance(tokens, list):
            raise refuse("its timestamps member is not a list")
        timestamp_problems(
            [timestamps.from_export(i, t) for i, t in enumerate(tokens, 1)], stored, rows, report
        )
    return report


def _exported_entry(position: int, exported: Any) -> StoredEntry:
    """An exported entry as the stored one it was made from (its text re-canonicalised)."""
    item = exported if isinstance(exported, dict) else {}
    body = item.get("body")
    if isinstance(body, dict):
        # For the bodies Exhibit writes json.dumps gives the RFC 8785 bytes (see _is_canonical), and
        # a text hashing to the exported entry hash is the signed text itself; only otherwise is
        # the slower reference serialiser asked.
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        try:
            signed = hashlib.sha256(text.encode("utf-8")).hexdigest() == item.get("entry_hash")
        except UnicodeEncodeError:  # a lone surrogate: not Unicode, so never canonical
            signed, text = False, json.dumps(body, sort_keys=True)
        if not signed:
            # not representable: the text above is hashed and reported as not canonical
            with contextlib.suppress(LedgerError):
                text = canonical(body).decode("utf-8")
    else:
        body, text = {}, json.dumps(body)
    seq = item.get("seq")
    signatures = item.get("signatures")
    return StoredEntry(
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else position,
        entry_hash=str(item.get("entry_hash")),
        prev_hash=str(body.get("prev")),
        kind=str(body.get("kind")),
        exhibit=body.get("exhibit") if isinstance(body.get("exhibit"), str) else None,
        actor=str(body.get("actor")),
        recorded_utc=str(
            (body.get("recorded") or {}).get("utc") if isinstance(body.get("recorded"), dict) else ""
        ),
        body=text,
        signatures=[s for s in signatures if isinstance(s, dict)] if isinstance(signatures, list) else [],
    )


def _exported_checkpoint(position: int, exported: Any) -> StoredCheckpoint:
    item = exported if isinstance(exported, dict) else {}
    text = item.get("canonical")
    text = text if isinstance(text, str) else ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    size = body.get("tree_size")
    return StoredCheckpoint(
        id=position,
        tree_size=size if isinstance(size, int) and not isinstance(size, bool) else 0,
        root=str(body.get("root")),
        signer=str(body.get("signer")),
        body=text,
        signature=str(item.get("signature")),
    )


# (seq, entry_hash, prev_hash, kind, exhibit, actor, body, signatures): the columns of an entry;
# signatures is the stored JSON text (raw_signatures=True) or the parsed list of a StoredEntry.
_Row = Sequence[Any]

PROGRESS_EVERY = 1000  # entries per progress() call: a callback per entry costs more than the entry
VERIFY_CHUNK = 2000  # entry signatures handed out at a time
POOL_AFTER = 20_000  # signatures checked in this process before worker processes pay for themselves
WORKERS_ENV = "EXHIBIT_VERIFY_WORKERS"  # worker processes beside this one (0: none); default CPUs - 1


class _SignatureChecker:
    """``keys.verify_signature`` with each actor's public-key object built once, not per entry."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PublicKey | None] = {}

    def _key(self, public_key_hex: str) -> Ed25519PublicKey | None:
        try:
            return self._keys[public_key_hex]
        except KeyError:
            pass
        try:
            key: Ed25519PublicKey | None = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        except ValueError:
            key = None  # not a key: every signature "by" it fails, as keys.verify_signature says
        self._keys[public_key_hex] = key
        return key

    def verify(self, public_key_hex: str, signature_hex: str, message: bytes) -> bool:
        key = self._key(public_key_hex)
        if key is None:
            return False
        try:
            key.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def failures(self, jobs: list[tuple[str, str, bytes]]) -> list[int]:
        """Indexes of the (public key, signature, message) jobs that do not verify."""
        verify = self.verify
        return [i for i, (key, sig, message) in enumerate(jobs) if not verify(key, sig, message)]


_worker_checker = _SignatureChecker()  # one per worker process: keys are built once per process


def _failures_in_worker(jobs: list[tuple[str, str, bytes]]) -> list[int]:
    return _worker_checker.failures(jobs)


def _worker_count() -> int:
    try:
        return max(0, int(os.environ[WORKERS_ENV]))
    except (KeyError, ValueError):
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return cpus - 1


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")  # instant, and safe without other threads
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


_Pending = tuple[int, int, int, "str | None", str]  # (problem position, job number, seq, exhibit, who)


class _Signatures:
    """The entry-signature checks of one verification, in chunks.

    Ed25519 verification is nearly all the cost of verifying a ledger, so on a large ledger the
    chunks go to worker processes (``EXHIBIT_VERIFY_WORKERS``, default one per CPU beyond this
    one) while this process parses and checks the entries, and takes a chunk itself whenever
    the workers are behind. A failure is reported exactly as an immediate check would have:
    same code, detail, and place in the problem list (the position is kept with each check).
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.checker = _SignatureChecker()
        self.jobs: list[tuple[str, str, bytes]] = []
        self.pending: list[_Pending] = []
        self.failed: list[tuple[int, int, Problem]] = []
        self.checked = 0
        self.workers = _worker_count()
        self.pool: ProcessPoolExecutor | None = None
        self.in_flight: deque[tuple[Future[list[int]], list[tuple[str, str, bytes]], list[_Pending]]] = (
            deque()
        )

    def check(self, seq: int, exhibit: str | None, who: str, key: str, sig: str, message: bytes) -> None:
        self.pending.append((len(self.report.problems), self.checked + len(self.jobs), seq, exhibit, who))
        self.jobs.append((key, sig, message))
        if len(self.jobs) >= VERIFY_CHUNK:
            self._flush()

    def _flush(self) -> None:
        jobs, pending = self.jobs, self.pending
        self.jobs, self.pending = [], []
        self.checked += len(jobs)
        while self.in_flight and self.in_flight[0][0].done():
            self._collect(*self.in_flight.popleft())
        pool = self._pool()
        if pool is not None and len(self.in_flight) < 2 * self.workers:
            try:
                self.in_flight.append((pool.submit(_failures_in_worker, jobs), jobs, pending))
                return
            except (BrokenProcessPool, RuntimeError, OSError):
                self.workers = 0  # no more workers: carry on here
        self._record(self.checker.failures(jobs), pending)

    def _pool(self) -> ProcessPoolExecutor | None:
        if self.pool is None and self.workers > 0 and self.checked >= POOL_AFTER:
            try:
                self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_mp_context())
            except (OSError, ValueError, NotImplementedError):
                self.workers = 0
        return self.pool

    def _collect(
        self, future: Future[list[int]], jobs: list[tuple[str, str, bytes]], pending: list[_Pending]
    ) -> None:
        try:
            failures = future.result()
        except (BrokenProcessPool, OSError):
            failures = self.checker.failures(jobs)  # a worker died: check the chunk here
        self._record(failures, pending)

    def _record(self, failures: list[int], pending: list[_Pending]) -> None:
        for i in failures:
            position, number, seq, exhibit, who = pending[i]
            detail = f"the signature of {who!r} does not verify"
            self.failed.append((position, number, Problem("SIGNATURE_INVALID", seq, exhibit, detail)))

    def finish(self) -> None:
        """Wait for every check and put each failure where it belongs in the report."""
        try:
            if self.jobs:
                self._flush()
            while self.in_flight:
                self._collect(*self.in_flight.popleft())
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None
        if not self.failed:
            return
        self.failed.sort(key=lambda f: (f[0], f[1]))
        merged: list[Problem] = []
        done = 0
        problems = self.report.problems
        for position, _, problem in self.failed:
            merged.extend(problems[done:position])
            done = position
            merged.append(problem)
        merged.extend(problems[done:])
        self.report.problems = merged
        self.report.ok = False


def _verify_rows(
    rows: Iterable[_Row],
    checkpoints: list[StoredCheckpoint],
    *,
    ledger_id: str,
    case_number: str,
    progress: Callable[[int], None] | None = None,
    raw_signatures: bool = False,
    now: datetime | None = None,
) -> Report:
    # One pass over the entries; this loop is the whole cost of verifying beside the unavoidable
    # SHA-256 and Ed25519 work (bench/verify_ledger.py), so per-entry work is kept to the checks.
    report = Report()
    add = report.add
    wanted_sizes = {cp.tree_size for cp in checkpoints}
    roots: dict[int, bytes] = {}
    frontier = Frontier()
    append_leaf = frontier.append
    actor_keys: dict[str, str] = {}
    key_owners: dict[str, str] = {}  # public key -> the first actor ID it was registered for
    signatures_to_check = _Signatures(report)
    custody: dict[str, _Custody] = {}
    prev_hash = GENESIS
    expected_seq = 1
    clock = _Clock(now or datetime.now(UTC))
    count = 0
    unreported = 0
    sha256 = hashlib.sha256
    for seq, entry_hash, entry_prev, entry_kind, entry_exhibit, entry_actor, text, signatures in rows:
        count += 1
        raw = text.encode("utf-8")
        computed = sha256(raw).hexdigest()
        try:
            body = json_loads(text)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            add("ENTRY_HASH_MISMATCH", seq, entry_exhibit, "the entry body is not a JSON object")
            body = {}
        if body and (malformed := _shape_problem(body)):
            # members of the wrong JSON type: every check below would read them as if they were
            # right; report the body and check the entry like one that is not JSON at all
            add("ENTRY_HASH_MISMATCH", seq, entry_exhibit, f"the entry body is malformed: {malformed}")
            body = {}
        if raw_signatures:  # as Ledger.entries() reads them: unreadable means none
            try:
                signatures = json_loads(signatures)
            except ValueError:
                signatures = []
            if not isinstance(signatures, list):
                signatures = []
        exhibit = body.get("exhibit", entry_exhibit)
        if body and not _is_canonical(body, text):
            add("ENTRY_HASH_MISMATCH", seq, exhibit, "the stored body is not in RFC 8785 canonical form")
        if computed != entry_hash:
            add(
                "ENTRY_HASH_MISMATCH",
                seq,
                exhibit,
                f"stored entry hash {entry_hash} but the body hashes to {computed}",
            )
        if body:
            if (
                seq != body.get("seq")
                or entry_kind != body.get("kind")
                or entry_exhibit != body.get("exhibit")
                or entry_actor != body.get("actor")
            ):
                for column, value in (
                    ("seq", seq),
                    ("kind", entry_kind),
                    ("exhibit", entry_exhibit),
                    ("actor", entry_actor),
                ):
                    if value != body.get(column):
                        add(
                            "ENTRY_HASH_MISMATCH",
                            seq,
                            exhibit,
                            f"column {column}={value!r} differs from the signed body ({body.get(column)!r})",
                        )
            if body.get("ledger") != ledger_id or body.get("case") != case_number:
                add("ENTRY_HASH_MISMATCH", seq, exhibit, "the entry belongs to another ledger or case")
        body_seq = body.get("seq", seq)
        if seq != expected_seq or body_seq != expected_seq:
            add(
                "SEQ_GAP",
                seq,
                exhibit,
                f"expected entry {expected_seq} here, found {seq} (signed as {body_seq})",
            )
        expected_seq = (body_seq if isinstance(body_seq, int) else seq) + 1
        if body.get("prev", entry_prev) != prev_hash or entry_prev != prev_hash:
            add(
                "PREV_HASH_MISMATCH",
                seq,
                exhibit,
                f"links to {body.get('prev')} but the previous entry hashes to {prev_hash}",
            )
        prev_hash = computed
        _check_signatures(
            seq, entry_actor, signatures, body, computed, actor_keys, signatures_to_check, report
        )
        clock.check(seq, body, report)
        if body.get("kind") == "actor.add":
            data = body.get("data", {})
            if data.get("id") != body.get("actor"):
                add(
                    "UNKNOWN_SIGNER",
                    seq,
                    exhibit,
                    "an actor registration must be signed by the actor it registers",
                )
            else:
                _register_key(seq, data, actor_keys, key_owners, report)
        elif body.get("kind") == "actor.rotate":
            _rotate_key(seq, body, ledger_id, actor_keys, key_owners, report)
        elif body.get("kind") == "actor.revoke":
            _revoke_key(seq, body, actor_keys, report)
        _check_custody(seq, body, custody, report)
        append_leaf(merkle.leaf_hash(raw))
        if count in wanted_sizes:
            roots[count] = frontier.root()
        if progress is not None:
            unreported += 1
            if unreported >= PROGRESS_EVERY:
                progress(unreported)
                unreported = 0
    signatures_to_check.finish()  # before the checkpoint checks, as if each had been checked in place
    clock.finish(report)
    if progress is not None and unreported:
        progress(unreported)
    report.entries = count
    _check_checkpoints(checkpoints, roots, count, ledger_id, report)
    for exhibit_id, state in custody.items():
        if state.out_seq is not None:
            report.open_checkouts.append({"exhibit": exhibit_id, "seq": state.out_seq})
    return report


_BODY_TYPES: dict[str, tuple[type, ...]] = {
    "v": (int,),
    "ledger": (str,),
    "case": (str,),
    "seq": (int,),
    "prev": (str,),
    "recorded": (dict,),
    "actor": (str,),
    "kind": (str,),
    "exhibit": (str, type(None)),
    "data": (dict,),
}


def _shape_problem(body: dict[str, Any]) -> str | None:
    """What makes ``body`` other than the ten members of docs/custody.md ("Entry body") with
    their JSON types, or ``None``. Checked before anything reads a member as a string or object."""
    extra = sorted(set(body) - set(_BODY_TYPES))
    if extra:
        return f"unexpected members {extra}"
    for name, types in _BODY_TYPES.items():
        value = body.get(name)
        if name not in body or not isinstance(value, types) or isinstance(value, bool):
            return f"member {name!r} is missing or not a {' or '.join(t.__name__ for t in types)}"
    recorded = body["recorded"]
    if set(recorded) != {"utc", "offset"} or not all(isinstance(v, str) for v in recorded.values()):
        return "member 'recorded' is not {utc, offset} strings"
    return None


def _is_canonical(body: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is exactly the RFC 8785 form of ``body``.

    Independent verifiers re-canonicalise the exported body, so a signed but non-canonical text
    would pass here and fail there. ``json.dumps`` with sorted keys gives the same bytes for the
    bodies Exhibit writes (no floats; keys sort alike); only when it differs is the slower
    reference serialiser asked.
    """
    if json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == text:
        return True
    try:
        return canonical(body).decode("utf-8") == text
    except Exception:
        return False


def _check_signatures(
    seq: int,
    entry_actor: str,
    signatures: Iterable[Any],
    body: dict[str, Any],
    entry_hash: str,
    actor_keys: dict[str, str],
    checker: _Signatures,
    report: Report,
) -> None:
    exhibit = body.get("exhibit")
    kind = body.get("kind")
    actor = str(body.get("actor", entry_actor))
    data = body.get("data") or {}
    own_key = None  # a self-signed registration: the entry's own key signs it
    if kind == "actor.add" and data.get("id") == actor and actor not in actor_keys:
        own_key = str(data.get("public_key"))
    sigs = {str(s.get("actor")): str(s.get("sig")) for s in signatures if isinstance(s, dict)}
    required = [actor]
    if kind == "custody.transfer":
        receiver = data.get("received_by")
        if not receiver:
            report.add("CUSTODY_GAP", seq, exhibit, "transfer without a receiver")
        else:
            required.append(str(receiver))
    message = entry_message(entry_hash)
    for who in required:
        key = own_key if who == actor and own_key is not None else actor_keys.get(who)
        if key is None:
            report.add("UNKNOWN_SIGNER", seq, exhibit, f"{who!r} is not a registered actor at this point")
        elif who not in sigs:
            report.add("SIGNATURE_INVALID", seq, exhibit, f"no signature by {who!r}")
        else:
            checker.check(seq, exhibit, who, key, sigs[who], message)  # SIGNATURE_INVALID if it fails


def _register_key(
    seq: int, data: dict[str, Any], actor_keys: dict[str, str], key_owners: dict[str, str], report: Report
) -> None:
    """Record an actor's key (the first registration of an ID wins); one key for two IDs is
    DUPLICATE_KEY, since its holder could then sign as both sides of a transfer."""
    actor_id, public_key = str(data.get("id")), str(data.get("public_key"))
    if actor_id in actor_keys:
        return
    actor_keys[actor_id] = public_key
    report.key_history[actor_id] = [(seq - 1, public_key)]  # signs its own registration
    owner = key_owners.setdefault(public_key.lower(), actor_id)
    if owner != actor_id:
        report.add(
            "DUPLICATE_KEY",
            seq,
            None,
            f"actor {actor_id!r} is registered with the public key of {owner!r}: one person can sign as both",
        )


def _rotate_key(
    seq: int,
    body: dict[str, Any],
    ledger_id: str,
    actor_keys: dict[str, str],
    key_owners: dict[str, str],
    report: Report,
) -> None:
    """An ``actor.rotate``: signed (checked as every entry) by the actor's key so far; its
    ``proof`` must verify under the new key; from the next entry on the new key is the actor's."""
    data = body.get("data") or {}
    actor_id, exhibit = str(body.get("actor")), body.get("exhibit")
    previous, new = str(data.get("previous_key")), str(data.get("public_key"))
    if data.get("id") != actor_id:
        report.add(
            "UNKNOWN_SIGNER", seq, exhibit, "a key rotation must be signed by the actor whose key it replaces"
        )
        return
    if actor_keys.get(actor_id) != previous:
        report.add(
            "UNKNOWN_SIGNER",
            seq,
            exhibit,
            f"the rotation replaces a key that is not {actor_id!r}'s key at this point",
        )
        return
    if previous in report.revocations:
        report.add("KEY_REVOKED", seq, exhibit, f"a rotation signed with the revoked key of {actor_id!r}")
        return
    message = keymod.rotation_message(ledger_id, actor_id, previous, new)
    if not keymod.verify_signature(new, str(data.get("proof")), message):
        report.add("SIGNATURE_INVALID", seq, exhibit, "the new key's proof of a key rotation does not verify")
        return
    owner = key_owners.setdefault(new.lower(), actor_id)
    if owner != actor_id:
        report.add("DUPLICATE_KEY", seq, None, f"{actor_id!r} rotated to the public key of {owner!r}")
        return
    actor_keys[actor_id] = new
    report.key_history.setdefault(actor_id, []).append((seq, new))


def _revoke_key(seq: int, body: dict[str, Any], actor_keys: dict[str, str], report: Report) -> None:
    """An ``actor.revoke``: the named key, if it is the actor's at this point, is revoked from
    ``effective`` (entries signed with it and recorded since are KEY_REVOKED, see check_revocations)."""
    data = body.get("data") or {}
    actor_id, key = str(data.get("id")), str(data.get("public_key"))
    if actor_keys.get(actor_id) != key:
        report.add(
            "UNKNOWN_SIGNER",
            seq,
            body.get("exhibit"),
            f"the revocation names a key that is not {actor_id!r}'s key",
        )
        return
    effective = data.get("effective")
    utc = effective.get("utc") if isinstance(effective, dict) else None
    recorded = (body.get("recorded") or {}).get("utc")
    report.revocations.setdefault(key, (seq, str(utc or recorded), actor_id, str(body.get("actor"))))


def check_revocations(case: Case, report: Report) -> None:
    """KEY_REVOKED for every entry (other than the revocation itself) signed with a revoked key and
    recorded at or after the revocation's ``effective`` time, or recorded after the revocation."""
    if report.revocations:
        revocation_problems(case.ledger.entry_rows(), report)


def revocation_problems(rows: Iterable[_Row], report: Report) -> None:
    """:func:`check_revocations` over entry rows (``Ledger.entry_rows`` or exported entries)."""
    if not report.revocations:
        return
    for seq, _h, _p, kind, exhibit, actor, text, signatures in rows:
        if kind == "actor.revoke":
            continue
        try:
            body = json_loads(text)
            sigs = json_loads(signatures) if isinstance(signatures, str) else signatures
            recorded = parse_utc(body["recorded"]["utc"])
        except (ValueError, KeyError, TypeError):
            continue  # the main pass reports what cannot be read
        signers = {str(s.get("actor")) for s in sigs if isinstance(s, dict)} | {actor}
        for who in sorted(signers):
            key = report.key_at(who, int(seq))
            revoked = report.revocations.get(key or "")
            if revoked is None:
                continue
            revoke_seq, effective, owner, revoker = revoked
            try:
                since = parse_utc(effective)
            except ValueError:
                since = None
            if int(seq) > revoke_seq or (since is not None and recorded >= since):
                report.insert_problem(
                    Problem(
                        "KEY_REVOKED",
                        int(seq),
                        exhibit,
                        f"signed by {who!r} with the key of {owner!r} revoked at entry {revoke_seq} "
                        f"by {revoker!r}, effective {effective}",
                    )
                )
                break


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class _Clock:
    """The recording times of the whole ledger, to name the entries whose clock was wrong.

    A time dated after the verification (plus :data:`CLOCK_TOLERANCE`) is wrong on its own. The
    rest should never go backwards; when they do, the entries to blame are those left out of a
    longest run of entries (in ``seq`` order) whose times never decrease: the fewest entries
    whose removal leaves a consistent history. One entry recorded with the clock set forward is
    then the one flagged, not every honest entry after it. When two such runs are equally long
    (e.g. ``1, 5, 2``: 5 or 2 is wrong, nothing says which), every entry left out of one of them
    is flagged. Only the times are kept per entry (three integers), and the search runs only if
    some time went backwards: O(n log n).
    """

    def __init__(self, now: datetime) -> None:
        self.limit = now + CLOCK_TOLERANCE
        self.times = array("q")  # microseconds since 1970 (negative before)
        self.seqs = array("q")
        self.exhibits = array("l")  # index into self.names
        self.names: dict[str | None, int] = {}
        self.high: int | None = None
        self.backwards = False

    def check(self, seq: int, body: dict[str, Any], report: Report) -> None:
        exhibit = body.get("exhibit")
        try:
            recorded = parse_utc(str((body.get("recorded") or {}).get("utc")))
        except (ValueError, TypeError, OverflowError):
            report.add("CLOCK_ANOMALY", seq, exhibit, "the recording time is missing or malformed")
            return
        if recorded > self.limit:
            report.add(
                "CLOCK_ANOMALY",
                seq,
                exhibit,
                f"recorded at {recorded.isoformat()}, after the time of this verification "
                f"({(self.limit - CLOCK_TOLERANCE).isoformat()}): the clock was set forward",
            )
        else:
            micro = (recorded - _EPOCH) // _MICROSECOND
            if self.high is not None and micro < self.high:
                self.backwards = True
            else:
                self.high = micro
            self.times.append(micro)
            self.seqs.append(seq)
            self.exhibits.append(
                self.names.setdefault(exhibit if isinstance(exhibit, str) else None, len(self.names))
            )
        occurred = (body.get("data") or {}).get("occurred")
        if isinstance(occurred, dict):
            try:
                when = parse_utc(str(occurred.get("utc")))
            except (ValueError, TypeError, OverflowError):
                report.add("CLOCK_ANOMALY", seq, exhibit, "the event time is malformed")
            else:
                if when > recorded + CLOCK_TOLERANCE:
                    report.add("CLOCK_ANOMALY", seq, exhibit, "the event is dated after it was recorded")

    def finish(self, report: Report) -> None:
        """Report the entries out of order with the rest, each in its place among the problems."""
        if not self.backwards:
            return
        times = self.times
        ending = _runs(times)  # longest non-decreasing run ending at each entry
        starting = _runs(array("q", (-t for t in reversed(times))))[::-1]  # ... starting there
        longest = max(ending)
        in_some = [e + s - 1 == longest for e, s in zip(ending, starting, strict=True)]
        per_length: dict[int, int] = {}
        for i, ok in enumerate(in_some):
            if ok:
                per_length[ending[i]] = per_length.get(ending[i], 0) + 1
        flagged = [not ok or per_length[ending[i]] > 1 for i, ok in enumerate(in_some)]
        names = {code: name for name, code in self.names.items()}
        found: list[Problem] = []
        for i, bad in enumerate(flagged):
            if bad:
                found.append(
                    Problem("CLOCK_ANOMALY", self.seqs[i], names[self.exhibits[i]], self._detail(i, flagged))
                )
        _merge_by_seq(report, found)

    def _detail(self, i: int, flagged: list[bool]) -> str:
        def when(j: int) -> str:
            return (_EPOCH + self.times[j] * _MICROSECOND).isoformat()

        around = []
        before = next((j for j in range(i - 1, -1, -1) if not flagged[j]), None)
        after = next((j for j in range(i + 1, len(flagged)) if not flagged[j]), None)
        if before is not None:
            around.append(f"entry {self.seqs[before]} before it was recorded at {when(before)}")
        if after is not None:
            around.append(f"entry {self.seqs[after]} after it at {when(after)}")
        context = "; ".join(around) if around else "no entry agrees with it"
        return f"recorded at {when(i)}, out of order with the rest of the ledger ({context})"


def _runs(values: array[int]) -> list[int]:
    """For each position, the length of the longest non-decreasing subsequence ending there."""
    tails: list[int] = []  # tails[k]: the smallest last value of such a subsequence of length k+1
    lengths = []
    for value in values:
        k = bisect_right(tails, value)
        if k == len(tails):
            tails.append(value)
        else:
            tails[k] = value
        lengths.append(k + 1)
    return lengths


def _merge_by_seq(report: Report, found: list[Problem]) -> None:
    """Put problems found at the end (sorted by seq) where checking in seq order would have."""
    if not found:
        return
    merged: list[Problem] = []
    pending = iter(found)
    nxt = next(pending, None)
    for problem in report.problems:
        while (
            nxt is not None and isinstance(problem.seq, int) and nxt.seq is not None and problem.seq > nxt.seq
        ):
            merged.append(nxt)
            nxt = next(pending, None)
        merged.append(problem)
    while nxt is not None:
        merged.append(nxt)
        nxt = next(pending, None)
    report.problems = merged
    report.ok = False


def _check_custody(seq: int, body: dict[str, Any], custody: dict[str, _Custody], report: Report) -> None:
    kind = str(body.get("kind"))
    exhibit = body.get("exhibit")
    data = body.get("data") or {}
    if exhibit is None:
        return
    if kind == "item.acquire":
        custody[exhibit] = _Custody(
            holder=str(body.get("actor")),
            sha256=((data.get("acquisition") or {}).get("hashes") or {}).get("sha256"),
        )
        match = (data.get("acquisition") or {}).get("e01_hash_match") or {}
        for algorithm, ok in match.items():
            if ok is False:
                report.add(
                    "E01_STORED_HASH_MISMATCH",
                    seq,
                    exhibit,
                    f"at acquisition the media {algorithm} differed from the {algorithm} stored in the E01",
                )
        return
    state = custody.get(exhibit)
    if state is None:
        code = "DERIVED_PARENT_MISSING" if kind == "item.derive" else "CUSTODY_GAP"
        report.add(code, seq, exhibit, f"{kind} about exhibit {exhibit}, which was never acquired before it")
        return
    if kind == "item.derive":
        parent_sha = data.get("parent_sha256")
        if parent_sha is not None and state.sha256 is not None and parent_sha != state.sha256:
            report.add("DERIVED_PARENT_MISMATCH", seq, exhibit, "derived from a parent whose SHA-256 differs")
        return
    if not kind.startswith("custody."):
        return
    event = kind.removeprefix("custody.")
    if state.closed_seq is not None and event not in ("correct", "verify", "examine"):
        report.add(
            "CUSTODY_GAP",
            seq,
            exhibit,
            f"{event} after the item was returned/disposed (entry {state.closed_seq})",
        )
    if event == "check-out":
        if state.out_seq is not None:
            report.add(
                "CUSTODY_GAP",
                seq,
                exhibit,
                f"checked out again without a check-in since entry {state.out_seq}",
            )
        state.out_seq = seq
        state.out_by = str(body.get("actor"))
    elif event == "check-in":
        if state.out_seq is None:
            report.add("CUSTODY_GAP", seq, exhibit, "check-in without a check-out")
        elif state.out_by is not None and body.get("actor") != state.out_by:
            report.add(
                "CUSTODY_GAP",
                seq,
                exhibit,
                f"checked in by {body.get('actor')!r} but checked out by {state.out_by!r} (entry {state.out_seq})",
            )
        state.out_seq = None
        state.out_by = None
    elif event == "transfer":
        if body.get("actor") != state.holder:
            report.add(
                "CUSTODY_GAP",
                seq,
                exhibit,
                f"{body.get('actor')!r} released the item while {state.holder!r} held it",
            )
        if data.get("received_by"):
            state.holder = str(data["received_by"])
    elif event == "seal":
        state.seal, state.seal_seq = str(data.get("seal")), seq
    elif event == "unseal":
        if state.seal is None:
            report.add(
                "SEAL_MISMATCH", seq, exhibit, f"unsealed seal {data.get('seal')!r} but no seal was recorded"
            )
        elif str(data.get("seal")) != state.seal:
            report.add(
                "SEAL_MISMATCH",
                seq,
                exhibit,
                f"unsealed seal {data.get('seal')!r}, but entry {state.seal_seq} recorded seal {state.seal!r}",
            )
        state.seal = None
    elif event in ("return", "dispose"):
        if state.out_seq is not None:
            report.add("CUSTODY_GAP", seq, exhibit, f"{event} while checked out since entry {state.out_seq}")
            state.out_seq = None
        state.closed_seq = seq


def _check_checkpoints(
    checkpoints: list[StoredCheckpoint],
    roots: dict[int, bytes],
    count: int,
    ledger_id: str,
    report: Report,
) -> None:
    report.checkpoints = len(checkpoints)
    covered = 0
    for cp in checkpoints:
        where = count if cp.tree_size > count else cp.tree_size
        try:
            body = json.loads(cp.body)
        except ValueError:
            report.add("ROOT_MISMATCH", where, None, f"checkpoint {cp.id} is not JSON")
            continue
        size = body.get("tree_size", cp.tree_size)
        key = report.key_at(str(body.get("signer")), (size if isinstance(size, int) else cp.tree_size) + 1)
        if key is None:
            report.add(
                "UNKNOWN_SIGNER",
                where,
                None,
                f"checkpoint {cp.id} is signed by unknown {body.get('signer')!r}",
            )
        elif not keymod.verify_signature(key, cp.signature, checkpoint_message(cp.body.encode("utf-8"))):
            report.add(
                "SIGNATURE_INVALID", where, None, f"the signature of checkpoint {cp.id} does not verify"
            )
        if (
            body.get("tree_size") != cp.tree_size
            or body.get("format") != CHECKPOINT_FORMAT
            or body.get("root") != cp.root
            or body.get("ledger") != ledger_id
        ):
            report.add(
                "ROOT_MISMATCH", where, None, f"checkpoint {cp.id}: columns differ from its signed body"
            )
        size = int(body.get("tree_size", cp.tree_size))
        if size > count:
            report.add(
                "TRUNCATED",
                count,
                None,
                f"checkpoint {cp.id} vouches for {size} entries; the ledger has {count}",
            )
            continue
        computed = roots.get(size)
        if computed is None or computed.hex() != body.get("root"):
            report.add(
                "ROOT_MISMATCH",
                size,
                None,
                f"checkpoint {cp.id} (size {size}) root {body.get('root')} differs from the entries' root",
            )
        covered = max(covered, size)
    if count > covered:
        report.add(
            "ROOT_MISMATCH",
            covered + 1,
            None,
            f"entries {covered + 1}..{count} are covered by no checkpoint (appended outside Exhibit?)",
        )


# -- external checkpoints -------------------------------------------------------------------------


def export_checkpoint(case: Case) -> dict[str, Any]:
    """The latest checkpoint as a self-contained file anyone can keep outside the database."""
    cp = case.ledger.latest_checkpoint()
    if cp is None:
        raise CheckpointError("the ledger has no checkpoint yet", hint="record something first")
    body = json.loads(cp.body)
    from custody.actors import get_actor

    signer = get_actor(case, str(body["signer"]))
    return {
        "format": CHECKPOINT_FILE_FORMAT,
        "checkpoint": body,
        "checkpoint_canonical": cp.body,
        "signature": cp.signature,
        "signer_public_key": signer.public_key,
    }


MAX_CHECKPOINT_FILE = 64 * 1024  # a checkpoint file is about 1 KiB; anything far larger is not one
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")
_FILE_MEMBERS = {"format", "checkpoint", "checkpoint_canonical", "signature", "signer_public_key"}
_BODY_MEMBERS = {"format", "ledger", "case", "tree_size", "root", "time", "signer"}
MAX_TREE_SIZE = 2**53 - 1  # the largest integer RFC 8785 represents exactly


def read_small_file(path: Path, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of a regular file the user named, or :class:`CheckpointError`.

    Opened without blocking and checked before reading: a FIFO or a device (``/dev/zero``) would
    otherwise hang or fill the memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise CheckpointError(
            f"cannot open {what} {path}: {exc.strerror}", hint=f"check the path: it should name {what}"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(f"{path} is not a regular file, so not {what}")
        data = os.read(fd, limit + 1)
        while data and len(data) <= limit:
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as exc:
        raise CheckpointError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise CheckpointError(f"{path} is larger than {limit} bytes, so not {what}")
    return data


def _strict_json(text: str) -> Any:
    """JSON as RFC 8259 has it: no NaN/Infinity, no duplicate member names, no float overflow."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("a member name appears twice in one object")
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def number(text: str) -> Any:
        raise ValueError(f"the number {text[:20]} is not an integer")

    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=number)


def load_checkpoint_file(path: Path, ledger_id: str, case_number: str | None = None) -> dict[str, Any]:
    """Read a checkpoint file strictly: exactly what 'exhibit custody checkpoint --out' writes.

    Every member present with its type, nothing else; ``checkpoint_canonical`` in RFC 8785 form
    and equal to ``checkpoint``; this ledger and case. Anything else is :class:`CheckpointError`
    (the command exits with status 2), never a guess about what the file meant.
    """
    raw = read_small_file(Path(path), MAX_CHECKPOINT_FILE, "a checkpoint file")
    return parse_checkpoint_file(raw, str(path), ledger_id, case_number)


def parse_checkpoint_file(
    raw: bytes, where: str, ledger_id: str, case_number: str | None = None
) -> dict[str, Any]:
    """The checks of :func:`load_checkpoint_file` on a checkpoint file's bytes already read
    (``where`` names it in messages: a path, or a member of a bundle)."""
    path = where
    hint = "use a file written by 'exhibit custody checkpoint --out FILE' for this case, unchanged"

    def refuse(why: str) -> CheckpointError:
        return CheckpointError(f"{path}: not a valid Exhibit checkpoint file: {why}", hint=hint)

    if len(raw) > MAX_CHECKPOINT_FILE:
        raise refuse(f"it is larger than {MAX_CHECKPOINT_FILE} bytes")
    try:
        data = _strict_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise refuse("it is not UTF-8 text") from None
    except RecursionError:
        raise refuse("its JSON is nested too deeply") from None
    except ValueError as exc:
        raise refuse(f"it is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise refuse("it is not a JSON object")
    if set(data) != _FILE_MEMBERS:
        raise refuse(f"its members must be exactly {', '.join(sorted(_FILE_MEMBERS))}")
    if data["format"] != CHECKPOINT_FILE_FORMAT:
        raise refuse(f"unknown format {data['format']!r} (expected {CHECKPOINT_FILE_FORMAT!r})")
    canonical_text = data["checkpoint_canonical"]
    if not isinstance(canonical_text, str):
        raise refuse("checkpoint_canonical is not a string")
    try:
        body = _strict_json(canonical_text)
    except RecursionError:
        raise refuse("checkpoint_canonical is nested too deeply") from None
    except ValueError as exc:
        raise refuse(f"checkpoint_canonical is not JSON ({exc})") from None
    if not isinstance(body, dict) or set(body) != _BODY_MEMBERS:
        raise refuse(f"checkpoint_canonical must be an object of exactly {', '.join(sorted(_BODY_MEMBERS))}")
    if not _is_canonical(body, canonical_text):
        raise refuse("checkpoint_canonical is not in RFC 8785 canonical form")
    if data["checkpoint"] != body:
        raise refuse("checkpoint differs from checkpoint_canonical")
    size = body["tree_size"]
    if type(size) is not int or not 1 <= size <= MAX_TREE_SIZE:
        raise refuse(f"tree_size must be an integer from 1 to {MAX_TREE_SIZE}")
    for name, value, pattern, what in (
        ("root", body["root"], _HEX64, "64 lower-case hex digits"),
        ("signature", data["signature"], _HEX128, "128 lower-case hex digits"),
        ("signer_public_key", data["signer_public_key"], _HEX64, "64 lower-case hex digits"),
    ):
        if not isinstance(value, str) or not pattern.match(value):
            raise refuse(f"{name} must be {what}")
    if not isinstance(body["signer"], str) or not keymod.ACTOR_ID.match(body["signer"]):
        raise refuse("signer is not an actor ID")
    time = body["time"]
    if not isinstance(time, dict) or set(time) != {"utc", "offset"}:
        raise refuse("time must be an object of utc and offset")
    try:
        parse_utc(str(time["utc"]))
        parse_offset(str(time["offset"]))
    except (ValueError, OverflowError):
        raise refuse("time is not a valid stamp") from None
    if body["format"] != CHECKPOINT_FORMAT:
        raise refuse(f"the checkpoint inside has unknown format {body['format']!r}")
    if body["ledger"] != ledger_id:
        raise CheckpointError(
            f"{path} is a checkpoint of another ledger ({body['ledger']!r}), not of this one ({ledger_id})",
            hint="check you opened the right case",
        )
    if case_number is not None and body["case"] != case_number:
        raise CheckpointError(
            f"{path} is a checkpoint of case {body['case']!r}, not of case {case_number!r}",
            hint="check you opened the right case",
        )
    return data


def check_timestamps(case: Case, checkpoints: Sequence[StoredCheckpoint], report: Report) -> None:
    """Every RFC 3161 token of the case: TIMESTAMP_INVALID when one does not verify against the
    checkpoint it claims and the CA kept with it; CLOCK_ANOMALY for entries whose recorded time
    contradicts a verified token's time (docs/custody.md, "Time-stamps")."""
    if not case.timestamped():
        return
    # only a case with tokens pays for the RFC 3161 client (about 0.1 s of imports)
    from custody import timestamps

    timestamp_problems(timestamps.stored(case.database), checkpoints, case.ledger.entry_rows, report)


def timestamp_problems(
    tokens: Sequence[Any],
    checkpoints: Sequence[StoredCheckpoint],
    rows: Callable[[], Iterable[_Row]],
    report: Report,
) -> None:
    """:func:`check_timestamps` for ``tokens`` (``timestamps.StoredTimestamp``) over entry rows."""
    from custody import timestamps

    verified, problems = timestamps.check_tokens(tokens, checkpoints)
    for p in problems:
        report.add(p.code, p.seq, None, p.detail)
    exhibits: dict[int, str | None] = {}

    def times() -> Iterator[tuple[int, str | None]]:
        for row in rows():
            exhibits[int(row[0])] = row[4]
            yield from timestamps.recorded_times([row])

    flagged = {(p.code, p.seq) for p in report.problems}
    for p in timestamps.clock_problems(verified, times()):
        if (p.code, p.seq) in flagged or p.seq is None:
            continue
        report.insert_problem(Problem(p.code, p.seq, exhibits.get(p.seq), p.detail))


def check_against(case: Case, path: Path, report: Report) -> None:
    data = load_checkpoint_file(path, case.ledger.ledger_id, case.ledger.case_number)
    body = json.loads(data["checkpoint_canonical"])
    size, root = int(body["tree_size"]), str(body["root"])
    if not keymod.verify_signature(
        data["signer_public_key"],
        data["signature"],
        checkpoint_message(data["checkpoint_canonical"].encode()),
    ):
        report.add("SIGNATURE_INVALID", None, None, f"{path}: the checkpoint's signature does not verify")
    # the signer's key when the checkpoint was made (a later key rotation does not void it)
    if report.key_at(str(body.get("signer")), size + 1) != data["signer_public_key"]:
        report.add(
            "UNKNOWN_SIGNER",
            None,
            None,
            f"{path}: signer {body.get('signer')!r} is not registered with that key",
        )
    leaves = case.ledger.leaf_hashes()
    n = len(leaves)
    if size > n:
        report.add("TRUNCATED", n, None, f"{path} vouches for {size} entries; the ledger now has {n}")
        return
    try:
        current = merkle.root_from_leaf_hashes(leaves)
        proof = merkle.consistency_proof(leaves, size)
        merkle.verify_consistency(size, n, bytes.fromhex(root), current, proof)
    except (merkle.ProofError, ValueError) as exc:
        report.add(
            "INCONSISTENT_WITH_CHECKPOINT",
            size,
            None,
            f"the ledger does not extend the checkpoint in {path} (size {size}): {exc}",
        )


# -- checks other packages add ---------------------------------------------------------------------

VERIFY_EXTENSIONS = "exhibit.verify"


def run_extensions(
    case: Case,
    report: Report,
    exhibit: str | None,
    rehash: bool,
    *,
    options: Sequence[str] = (),
    options_files: Sequence[Path] = (),
) -> None:
    """Run every check registered in the ``exhibit.verify`` entry-point group.

    Each is a callable ``check(case, report, exhibit, rehash, *, options, options_files)`` adding
    problems to ``report`` (the options are the command's ``--option``/``--options-file``):
    the way a package custody must not import (triage: its signed digest of the stored rows,
    code TRIAGE_DATA_MISMATCH) gets verified by ``exhibit custody verify``.
    """
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=VERIFY_EXTENSIONS), key=lambda ep: ep.name):
        ep.load()(case, report, exhibit, rehash, options=options, options_files=options_files)


# -- re-reading evidence --------------------------------------------------------------------------


def rehash_items(case: Case, report: Report, exhibit: str | None = None) -> None:
    from custody.acquisition import acquire_source
    from custody.items import list_items

    for item in list_items(case):
        if exhibit is not None and item.exhibit != exhibit:
            continue
        acq = item.data.get("acquisition", {})
        try:
            now = acquire_source(Path(item.source_path), kind=item.kind).as_dict()
        except (EvidenceError, OSError) as exc:
            report.add(
                "ITEM_HASH_MISMATCH", item.seq, item.exhibit, f"cannot re-read {item.source_path}: {exc}"
            )
            continue
        report.rehashed.append(item.exhibit)
        compare_acquisitions(acq, now, item.seq, item.exhibit, report)


def compare_acquisitions(
    recorded: dict[str, Any], now: dict[str, Any], seq: int, exhibit: str, report: Report
) -> None:
    """Every recorded hash must match: one matching algorithm proves nothing about the others."""
    old_h, new_h = recorded.get("hashes") or {}, now.get("hashes") or {}
    wrong = [a for a in sorted(old_h) if old_h[a] != new_h.get(a)]
    if wrong:
        report.add(
            "ITEM_HASH_MISMATCH",
            seq,
            exhibit,
            "; ".join(f"{a}: recorded {old_h[a]}, now {new_h.get(a)}" for a in wrong),
        )
    old_m = {m["path"]: m for m in recorded.get("members") or []}
    new_m = {m["path"]: m for m in now.get("members") or []}
    if recorded.get("manifest_sha256") != now.get("manifest_sha256"):
        changed = sorted(
            p
            for p in old_m.keys() | new_m.keys()
            if old_m.get(p, {}).get("sha256") != new_m.get(p, {}).get("sha256")
        )
        report.add(
            "ITEM_HASH_MISMATCH",
            seq,
            exhibit,
            f"manifest changed; files differing: {', '.join(changed[:20]) or '(order/metadata)'}",
        )
    if recorded.get("e01") or now.get("e01"):
        old_e, new_e = recorded.get("e01") or {}, now.get("e01") or {}
        if (old_e.get("stored_hashes") or {}) != (new_e.get("stored_hashes") or {}):
            report.add("E01_STORED_HASH_MISMATCH", seq, exhibit, "the hashes stored inside the E01 changed")
        for algorithm, ok in (now.get("e01_hash_match") or {}).items():
            if ok is False:
                report.add(
                    "E01_STORED_HASH_MISMATCH",
                    seq,
                    exhibit,
                    f"the media {algorithm} now differs from the {algorithm} stored in the E01",
                )
        old_hd, new_hd = old_e.get("headers") or {}, new_e.get("headers") or {}
        for name in sorted(old_hd.keys() | new_hd.keys()):
            if old_hd.get(name) != new_hd.get(name):
                report.add(
                    "E01_HEADER_MISMATCH",
                    seq,
                    exhibit,
                    f"E01 header {name}: recorded {old_hd.get(name)!r}, now {new_hd.get(name)!r}",
                )
