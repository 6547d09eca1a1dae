"""The append-only, signed, hash-chained ledger (the format is specified in docs/custody.md).

Each entry body is canonical JSON (RFC 8785). Its SHA-256 is the entry hash; the next entry
carries it as ``prev``; each entry is signed (Ed25519) by its actor and, for a transfer, by the
receiver too. Entry bodies are also the leaves of an RFC 9162 Merkle tree, and every append
ends with a signed checkpoint (tree size + root) so later ledgers can be proven to extend it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import rfc8785

from custody import merkle, timefmt
from custody.errors import ActorError, LedgerError
from custody.store import sql
from custody.store.sql import Database, Session

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

GENESIS = "0" * 64
ENTRY_VERSION = 1
ENTRY_DOMAIN = b"EXHIBIT-ENTRY-V1\x00"
CHECKPOINT_DOMAIN = b"EXHIBIT-CHECKPOINT-V1\x00"
CHECKPOINT_FORMAT = "exhibit-checkpoint/1"


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes.

    Raises :class:`LedgerError` for values JCS cannot represent (integers beyond 2**53, text
    that is not valid Unicode), so the user gets a message instead of a crash.

    Values made only of what the ledger's entries hold (ASCII keys; text, integers in JCS's
    range, true/false/null, lists) are written by the json module's C encoder with sorted keys,
    which gives exactly JCS's bytes for them (same escapes, and ASCII keys sort alike in UTF-16
    and in code points); anything else (floats, other keys, text that is not valid Unicode,
    subclasses) goes to the reference serialiser. A triage run appends one entry per file a plugin
    read: on a phone with 3,000 pictures the reference took about 0.5 s of the run's end.
    tests/custody/test_canonical.py compares the two on generated values.
    """
    if _plain(value):
        return _sorted_json(value).encode("utf-8")
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise LedgerError(
            f"cannot record this entry: {exc}",
            hint="a value cannot be represented in canonical JSON; report this with the evidence's description",
        ) from None


_JCS_INT = 2**53 - 1  # JCS integers: exactly representable as IEEE 754 doubles
_sorted_json = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
).encode


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only what :func:`canonical` may write with the C encoder."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _utf8(value)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(map(_plain, value))
    if kind is int:
        return -_JCS_INT <= value <= _JCS_INT
    return value is None or kind is bool


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the reference serialiser reports it
        return False
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_message(entry_hash: str) -> bytes:
    """What an actor signs for an entry: a domain tag and the raw 32-byte entry hash."""
    return ENTRY_DOMAIN + bytes.fromhex(entry_hash)


def checkpoint_message(body: bytes) -> bytes:
    return CHECKPOINT_DOMAIN + hashlib.sha256(body).digest()


class Frontier:
    """The compact range of an RFC 9162 tree: the roots of its perfect subtrees, largest first.

    Appending is O(log n) and the root of the whole tree is a right fold of the range, which
    lets both appends and verification compute roots of every prefix in one pass.
    """

    def __init__(self, nodes: Sequence[tuple[int, bytes]] = ()) -> None:
        self.nodes: list[tuple[int, bytes]] = list(nodes)

    @property
    def size(self) -> int:
        return sum(n for n, _ in self.nodes)

    def append(self, leaf: bytes) -> None:
        # Merge with equal-sized subtrees before pushing (same result as push-then-merge, fewer
        # list operations: this runs once per entry on every append and every verify).
        nodes = self.nodes
        size, node = 1, leaf
        while nodes and nodes[-1][0] == size:
            node = merkle.node_hash(nodes.pop()[1], node)
            size *= 2
        nodes.append((size, node))

    def root(self) -> bytes:
        if not self.nodes:
            return merkle.EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, node in reversed(self.nodes[:-1]):
            acc = merkle.node_hash(node, acc)
        return acc

    def dumps(self) -> str:
        return json.dumps([[n, h.hex()] for n, h in self.nodes])

    @classmethod
    def loads(cls, text: str) -> Frontier:
        return cls([(int(n), bytes.fromhex(h)) for n, h in json.loads(text or "[]")])


@dataclass(frozen=True)
class Draft:
    """An entry to be appended: who records what about which exhibit."""

    kind: str
    actor: str
    data: Mapping[str, Any]
    exhibit: str | None = None
    cosigners: tuple[str, ...] = ()  # actors who must sign too (the receiver of a transfer)


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    entry_hash: str
    prev_hash: str
    kind: str
    exhibit: str | None
    actor: str
    recorded_utc: str
    body: str
    signatures: list[dict[str, str]] = field(default_factory=list)

    @property
    def parsed(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result

    @property
    def data(self) -> dict[str, Any]:
        result: dict[str, Any] = self.parsed.get("data", {})
        return result

    def as_dict(self) -> dict[str, Any]:
        """The entry as exported: the signed body plus its hash and signatures."""
        return {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "body": self.parsed,
            "signatures": self.signatures,
        }


@dataclass(frozen=True)
class StoredCheckpoint:
    id: int
    tree_size: int
    root: str
    signer: str
    body: str
    signature: str

    @property
    def parsed(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


# The scanner json.loads ends up in (C-accelerated), set up once.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def json_loads(text: str) -> Any:
    """``json.loads(text)`` for a str, minus the pure-Python wrapper layers (a third of the cost of
    parsing a ledger entry). Anything the C scanner does not consume exactly -- surrounding
    whitespace, trailing data, invalid JSON -- goes to ``json.loads`` itself, so the result and the
    errors are the same."""
    if type(text) is not str:
        return json.loads(text)
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


#: the columns of an entry, in the order :func:`_entry_from_row` takes them
ENTRY_COLUMNS = "seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, signatures"
CHECKPOINT_COLUMNS = "id, tree_size, root, signer, body, signature"
_INSERT_ENTRY = "INSERT INTO entries ({}) VALUES ({})".format(
    ENTRY_COLUMNS, ", ".join(":" + column for column in ENTRY_COLUMNS.split(", "))
)


def _entry_from_row(row: Sequence[Any]) -> StoredEntry:
    seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, signatures = row
    try:
        sigs = json_loads(signatures)
    except ValueError:
        sigs = []
    return StoredEntry(
        seq=seq,
        entry_hash=entry_hash,
        prev_hash=prev_hash,
        kind=kind,
        exhibit=exhibit,
        actor=actor,
        recorded_utc=recorded_utc,
        body=body,
        signatures=sigs if isinstance(sigs, list) else [],
    )


def _checkpoint_from_row(row: Sequence[Any]) -> StoredCheckpoint:
    id_, tree_size, root, signer, body, signature = row
    return StoredCheckpoint(id_, int(tree_size), root, signer, body, signature)


def _entries_query(kinds: Sequence[str] | None, exhibit: str | None) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if exhibit is not None:
        where.append("exhibit = :exhibit")
        params["exhibit"] = exhibit
    if kinds:
        listed, named = sql.in_list("kind", kinds)
        where.append(f"kind IN {listed}")
        params.update(named)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {ENTRY_COLUMNS} FROM entries{condition} ORDER BY seq", params


Precheck = Callable[[Session], None]


class Ledger:
    """Appends to and reads one case's ledger."""

    def __init__(self, database: Database, ledger_id: str, case_number: str) -> None:
        self.database = database
        self.ledger_id = ledger_id
        self.case_number = case_number
        #: called after every committed append (the case's automatic RFC 3161 time-stamping)
        self.after_append: Callable[[], None] | None = None

    # -- writing -------------------------------------------------------------------------------
    def append(
        self,
        drafts: Sequence[Draft],
        signing_keys: Mapping[str, Ed25519PrivateKey],
        *,
        checkpoint_signer: str,
        precheck: Precheck | None = None,
        checkpoint_key: Ed25519PrivateKey | None = None,
    ) -> list[StoredEntry]:
        """Append ``drafts`` as one transaction and close it with a signed checkpoint.

        The checkpoint is signed by ``checkpoint_signer``'s key in ``signing_keys``, or by
        ``checkpoint_key`` when given (an ``actor.rotate``: the signer's new key, in force once the
        entry is recorded).

        Either every entry and the checkpoint are stored, or nothing is: a crash or Ctrl-C in
        the middle leaves the ledger as it was.
        """
        for signer in (
            {d.actor for d in drafts} | {c for d in drafts for c in d.cosigners} | {checkpoint_signer}
        ):
            if signer not in signing_keys:
                raise ActorError(f"no signing key loaded for actor {signer!r}")
        try:
            with self.database.write() as session:
                sql.ledger_lock(session)
                if precheck is not None:
                    precheck(session)
                sql.drop_to_writer_role(session)
                stored = self._append_locked(
                    session,
                    drafts,
                    signing_keys,
                    checkpoint_signer,
                    checkpoint_key or signing_keys[checkpoint_signer],
                )
        except Exception as exc:
            if not sql.integrity_error(exc):
                raise
            raise LedgerError(
                f"the ledger refused the append: {getattr(exc, 'orig', None) or exc}",
                hint="another writer may have appended at the same time; run the command again",
            ) from None
        if self.after_append is not None:
            self.after_append()
        return stored

    def _append_locked(
        self,
        session: Session,
        drafts: Sequence[Draft],
        signing_keys: Mapping[str, Ed25519PrivateKey],
        checkpoint_signer: str,
        checkpoint_key: Ed25519PrivateKey,
    ) -> list[StoredEntry]:
        last = session.first("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0]), last[1]) if last else (0, GENESIS)
        frontier = self._frontier(session, seq)
        rows: list[dict[str, Any]] = []
        stored: list[StoredEntry] = []
        for draft in drafts:
            seq += 1
            now = timefmt.stamp()
            body = {
                "v": ENTRY_VERSION,
                "ledger": self.ledger_id,
                "case": self.case_number,
                "seq": seq,
                "prev": prev,
                "recorded": now.as_dict(),
                "actor": draft.actor,
                "kind": draft.kind,
                "exhibit": draft.exhibit,
                "data": dict(draft.data),
            }
            raw = canonical(body)
            digest = sha256_hex(raw)
            message = entry_message(digest)
            sigs = [
                {"actor": who, "sig": signing_keys[who].sign(message).hex()}
                for who in (draft.actor, *draft.cosigners)
            ]
            text_body = raw.decode("utf-8")
            row = {
                "seq": seq,
                "entry_hash": digest,
                "prev_hash": prev,
                "kind": draft.kind,
                "exhibit": draft.exhibit,
                "actor": draft.actor,
                "recorded_utc": now.utc,
                "body": text_body,
                "signatures": json.dumps(sigs, separators=(",", ":")),
            }
            rows.append(row)
            stored.append(
                StoredEntry(
                    seq, digest, prev, draft.kind, draft.exhibit, draft.actor, now.utc, text_body, sigs
                )
            )
            frontier.append(merkle.leaf_hash(raw))
            prev = digest
        if rows:
            session.run_many(_INSERT_ENTRY, rows)
        self._checkpoint(session, frontier, seq, checkpoint_key, checkpoint_signer)
        return stored

    def _frontier(self, session: Session, size: int) -> Frontier:
        cached = session.first("SELECT frontier, tree_size FROM checkpoints ORDER BY id DESC LIMIT 1")
        if cached is not None and int(cached[1]) == size:
            frontier = Frontier.loads(cached[0])
            if frontier.size == size:
                return frontier
        frontier = Frontier()
        for (body,) in session.rows("SELECT body FROM entries ORDER BY seq"):
            frontier.append(merkle.leaf_hash(body.encode("utf-8")))
        return frontier

    def _checkpoint(
        self, session: Session, frontier: Frontier, size: int, key: Ed25519PrivateKey, signer: str
    ) -> None:
        body = canonical(
            {
                "format": CHECKPOINT_FORMAT,
                "ledger": self.ledger_id,
                "case": self.case_number,
                "tree_size": size,
                "root": frontier.root().hex(),
                "time": timefmt.stamp().as_dict(),
                "signer": signer,
            }
        )
        session.run(
            "INSERT INTO checkpoints (tree_size, root, signer, body, signature, frontier) "
            "VALUES (:tree_size, :root, :signer, :body, :signature, :frontier)",
            {
                "tree_size": size,
                "root": frontier.root().hex(),
                "signer": signer,
                "body": body.decode("utf-8"),
                "signature": key.sign(checkpoint_message(body)).hex(),
                "frontier": frontier.dumps(),
            },
        )

    # -- reading -------------------------------------------------------------------------------
    def entries(
        self, exhibit: str | None = None, kinds: Sequence[str] | None = None
    ) -> Iterator[StoredEntry]:
        query, params = _entries_query(kinds, exhibit)
        with self.database.read() as session:
            for row in session.rows(query, params):
                yield _entry_from_row(row)

    def entry_rows(self) -> Iterator[Sequence[Any]]:
        """Every entry as a plain row (unpacks like a tuple), in order, for bulk readers (verification):
        ``(seq, entry_hash, prev_hash, kind, exhibit, actor, body, signatures_json)``.

        The same rows as :meth:`entries` without building a :class:`StoredEntry` per row; streamed
        (server-side cursor on PostgreSQL), so a large ledger is never held in memory at once.
        """
        with self.database.read() as session:
            yield from session.rows(
                "SELECT seq, entry_hash, prev_hash, kind, exhibit, actor, body, signatures FROM entries ORDER BY seq"
            )

    def count(self) -> int:
        with self.database.read() as session:
            found = session.first("SELECT count(*) FROM entries")
        return int(found[0]) if found else 0

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self.database.read() as session:
            return [
                _checkpoint_from_row(r)
                for r in session.rows(f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id")
            ]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self.database.read() as session:
            r = session.first(f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id DESC LIMIT 1")
        return None if r is None else _checkpoint_from_row(r)

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        limit = "" if size is None else " LIMIT :size"
        with self.database.read() as session:
            return [
                merkle.leaf_hash(b.encode("utf-8"))
                for (b,) in session.rows(f"SELECT body FROM entries ORDER BY seq{limit}", {"size": size})
            ]


def entries_in(
    session: Session, *, kinds: Sequence[str] = (), exhibit: str | None = None
) -> list[StoredEntry]:
    """Entries read inside an open transaction (used by prechecks that run under the lock)."""
    query, params = _entries_query(kinds, exhibit)
    return [_entry_from_row(row) for row in session.rows(query, params)]
