"""The RFC 9162 Merkle tree over SHA-256: tree heads, audit paths and consistency proofs.

Why this tree and not a home-grown one: RFC 9162 (Certificate Transparency 2.0, same hashing as
RFC 6962) is a published, widely implemented structure. A third party who doubts the ledger can
recompute a tree head or check a proof with any CT library, without trusting Exhibit's code. The
domain-separation prefixes (``0x00`` for leaves, ``0x01`` for interior nodes) make it impossible to
pass off an interior node as a leaf (second-preimage attack on plain Merkle trees).

Vocabulary, as in RFC 9162 section 2.1:

* *leaf hash* -- ``SHA-256(0x00 || entry)``; every function here that takes "hashes" takes leaf
  hashes, so callers can keep only 32 bytes per ledger entry;
* *tree head* / *root* -- ``MTH(D[n])``, the hash of a tree of ``n`` leaves (the empty tree's root
  is ``SHA-256("")``);
* *inclusion proof* (audit path) -- shows a leaf is at a given index of a tree of a given size;
* *consistency proof* -- shows a tree of ``old_size`` leaves is a prefix of a tree of
  ``new_size`` leaves, i.e. nothing already logged was altered or removed.

Verification follows the RFC 9162 algorithms (sections 2.1.3.2 and 2.1.4.2) step by step and
raises :class:`ProofError` on any failure, so a caller cannot mistake a falsy return for success.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from custody.errors import CustodyError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest; every leaf hash, node hash, root and proof element has this size."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""``MTH({})``: the root of a tree with no leaves, defined by RFC 9162 as the hash of nothing."""

_PROOF_HINT = "the proof, the tree size or the tree head does not belong to this ledger; fetch them again"


class ProofError(CustodyError):
    """A Merkle proof or tree head did not verify, or a proof was asked for that cannot exist.

    One error class for both sides on purpose: to a user, "index 9 of an 8-entry ledger" and "this
    proof does not check out" are the same kind of problem -- the claim and the ledger disagree.
    """


def leaf_hash(data: bytes) -> bytes:
    """Hash one ledger entry as a leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child nodes into their parent: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The ``k`` of RFC 9162: the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _require_hash(value: bytes, what: str) -> None:
    """Reject anything that is not a 32-byte digest before it reaches a comparison.

    Without this, a truncated or empty "hash" could still compare equal to another truncated
    value (e.g. an empty leaf against an empty root in a one-leaf tree).
    """
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(
            f"{what} is not a {HASH_SIZE}-byte SHA-256 digest",
            hint="pass raw digests (bytes), not hex text; leaf data must be hashed with leaf_hash()",
        )


def _require_size(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}", hint=_PROOF_HINT)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return ``MTH(D[n])`` for the given leaf hashes, in O(n) time and O(log n) memory.

    Instead of the RFC's recursive split (which copies slices), keep a stack of the roots of the
    complete subtrees seen so far -- one per set bit of the leaf count. Appending leaf ``i`` merges
    as many stack entries as ``i + 1`` has trailing zero bits. At the end, folding the stack from
    the right yields exactly the RFC's left-heavy tree, because the RFC tree of ``n`` leaves is the
    perfect subtrees of ``n``'s binary decomposition joined right to left.
    """
    stack: list[bytes] = []
    sha256 = hashlib.sha256
    for count, h in enumerate(hashes, 1):
        if len(h) != HASH_SIZE:
            _require_hash(h, f"leaf hash #{count - 1}")
        stack.append(h)
        merges = count
        while not merges & 1:
            right = stack.pop()
            stack[-1] = sha256(_NODE_PREFIX + stack[-1] + right).digest()
            merges >>= 1
    if not stack:
        return EMPTY_ROOT
    root = stack.pop()
    while stack:
        root = sha256(_NODE_PREFIX + stack.pop() + root).digest()
    return root


class MerkleTree:
    """An append-only tree of leaf hashes that can answer for any of its past sizes.

    It keeps the hash of every *complete* (perfect, power-of-two) subtree, level by level: level
    ``k`` holds ``size >> k`` hashes. Those never change as leaves are appended, which is what makes
    past tree heads and proofs for old sizes cheap: any subtree the RFC definitions ask for is either
    one stored node or a fold of O(log n) stored nodes along its right edge. Appending is amortised
    O(1); memory is about two hashes per leaf.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Add one leaf hash (not raw data: see :func:`leaf_hash`); return its index."""
        _require_hash(leaf, "leaf hash")
        levels = self._levels
        levels[0].append(bytes(leaf))
        level = 0
        while not len(levels[level]) & 1:
            row = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1
        return len(levels[0]) - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for leaf in leaf_hashes:
            self.append(leaf)

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        _require_size(index, "leaf index")
        if index >= self.size:
            raise ProofError(f"leaf index {index} is not in a tree of {self.size} leaves", hint=_PROOF_HINT)
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """The tree head ``MTH(D[size])`` for the first ``size`` leaves (default: all of them)."""
        n = self._resolve(size)
        return EMPTY_ROOT if n == 0 else self._range_hash(0, n)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path ``PATH(index, D[size])`` of RFC 9162 section 2.1.3.1, leaf side first.

        Walks the RFC recursion top-down without slicing (the sibling subtree at each split goes
        into the path), then reverses, because the RFC lists the deepest sibling first.
        """
        n = self._resolve(size)
        _require_size(index, "leaf index")
        if index >= n:
            raise ProofError(f"leaf index {index} is not in a tree of {n} leaves", hint=_PROOF_HINT)
        path: list[bytes] = []
        lo, hi = 0, n
        while hi - lo > 1:
            mid = lo + _largest_power_of_two_below(hi - lo)
            if index < mid:
                path.append(self._range_hash(mid, hi))
                hi = mid
            else:
                path.append(self._range_hash(lo, mid))
                lo = mid
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof ``PROOF(old_size, D[new_size])`` of RFC 9162 section 2.1.4.1.

        Same idea as :meth:`inclusion_proof`: iterate the RFC's ``SUBPROOF(m, D[n], b)`` recursion
        top-down, tracking the current subtree ``[lo, hi)``, the number ``m`` of old leaves in it,
        and ``b`` (whether the subtree's old root is the old tree head the verifier already has).
        ``old_size == new_size`` gives an empty proof; ``old_size == 0`` is refused because RFC
        9162 defines no proof for it (every tree trivially extends the empty tree).
        """
        n = self._resolve(new_size)
        _require_size(old_size, "old tree size")
        if old_size == 0:
            raise ProofError(
                "no consistency proof exists from an empty tree",
                hint="every tree extends the empty tree; check the new tree head alone",
            )
        if old_size > n:
            raise ProofError(f"old tree size {old_size} exceeds new tree size {n}", hint=_PROOF_HINT)
        proof: list[bytes] = []
        lo, hi, m, have_old_root = 0, n, old_size, True
        while m != hi - lo:
            k = _largest_power_of_two_below(hi - lo)
            if m <= k:
                proof.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range_hash(lo, lo + k))
                lo += k
                m -= k
                have_old_root = False
        if not have_old_root:
            proof.append(self._range_hash(lo, hi))
        proof.reverse()
        return proof

    def _resolve(self, size: int | None) -> int:
        if size is None:
            return self.size
        self._check_size(size, "tree size")
        return size

    def _check_size(self, size: int, what: str) -> None:
        _require_size(size, what)
        if size > self.size:
            raise ProofError(f"{what} {size} exceeds the {self.size} leaves in the tree", hint=_PROOF_HINT)

    def _range_hash(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for a range the RFC recursion can produce (``start < end``).

        Such ranges start at a multiple of the largest power of two not above their width, so they
        split into stored perfect subtrees following the binary digits of the width; the RFC tree
        over them is those subtrees joined right to left.
        """
        peaks: list[bytes] = []
        pos = start
        while pos < end:
            level = (end - pos).bit_length() - 1
            peaks.append(self._levels[level][pos >> level])
            pos += 1 << level
        acc = peaks.pop()
        while peaks:
            acc = node_hash(peaks.pop(), acc)
        return acc


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of all of ``hashes`` (leaf hashes); O(n)."""
    return MerkleTree(hashes).inclusion_proof(index)


def consistency_proof(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the first ``old_size`` of ``hashes`` form a prefix of the tree of all; O(n).

    Empty when ``old_size == len(hashes)``; :class:`ProofError` when ``old_size`` is 0 or too big.
    """
    return MerkleTree(hashes).consistency_proof(old_size)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash ``leaf`` sits at ``index`` in the tree of ``size`` leaves with head ``root``.

    This is RFC 9162 section 2.1.3.2 step for step. ``fn``/``sn`` walk the leaf's and the last
    leaf's positions up the tree; where the leaf is a right child (or on the right edge, where a
    node can lack a right sibling) the proof element goes on the left. The ``sn == 0`` checks are
    what reject a proof with elements missing or appended: the path must run out exactly when the
    walk reaches the root. Raises :class:`ProofError`; returns nothing on success.
    """
    _require_hash(leaf, "leaf hash")
    _require_hash(root, "tree head")
    for i, element in enumerate(proof):
        _require_hash(element, f"proof element {i}")
    _require_size(index, "leaf index")
    _require_size(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves", hint=_PROOF_HINT)

    fn, sn = index, size - 1
    r = bytes(leaf)
    for element in proof:
        if sn == 0:
            raise ProofError("inclusion proof has more elements than the tree has levels", hint=_PROOF_HINT)
        if fn & 1 or fn == sn:
            r = node_hash(element, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is missing elements", hint=_PROOF_HINT)
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} does not lead to the tree head of size {size}",
            hint=_PROOF_HINT,
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` leaves (head ``old_root``) is a prefix of the newer one.

    For ``0 < old_size < new_size`` this is RFC 9162 section 2.1.4.2 step for step: the proof is
    replayed twice at once, rebuilding the old head (``fr``) from the nodes left of the old edge and
    the new head (``sr``) from all of them, so one list of hashes commits to both trees.

    Edge cases the RFC leaves to the caller, decided here:

    * ``old_size == new_size``: the proof must be empty and the heads identical;
    * ``old_size == 0``: the proof must be empty and ``old_root`` must be :data:`EMPTY_ROOT`. (The Go
      reference treats the old head of an empty tree as "don't care"; a custody checkpoint of an
      empty ledger has a definite head, so a different value is a sign of a forged checkpoint.)

    Raises :class:`ProofError`; returns nothing on success.
    """
    _require_hash(old_root, "old tree head")
    _require_hash(new_root, "new tree head")
    for i, element in enumerate(proof):
        _require_hash(element, f"proof element {i}")
    _require_size(old_size, "old tree size")
    _require_size(new_size, "new tree size")
    if old_size > new_size:
        raise ProofError(
            f"old tree size {old_size} is larger than new tree size {new_size}",
            hint="a ledger never shrinks; the sizes may be swapped",
        )
    if old_size == new_size:
        if proof:
            raise ProofError("consistency proof between equal tree sizes must be empty", hint=_PROOF_HINT)
        if old_root != new_root:
            raise ProofError(f"two different tree heads for the same size {old_size}", hint=_PROOF_HINT)
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError("tree head of the empty tree is not SHA-256 of nothing", hint=_PROOF_HINT)
        return
    if old_size == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty", hint=_PROOF_HINT)
        if old_root != EMPTY_ROOT:
            raise ProofError("tree head of the empty tree is not SHA-256 of nothing", hint=_PROOF_HINT)
        return

    # RFC 9162 section 2.1.4.2, 0 < old_size < new_size.
    if not proof:  # step 1
        raise ProofError("consistency proof is empty", hint=_PROOF_HINT)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: old_size is a power of two
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofError("consistency proof has more elements than the tree has levels", hint=_PROOF_HINT)
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # step 7
    if sn != 0:
        raise ProofError("consistency proof is missing elements", hint=_PROOF_HINT)
    if fr != old_root:
        raise ProofError(
            f"consistency proof does not rebuild the tree head of size {old_size}", hint=_PROOF_HINT
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof does not rebuild the tree head of size {new_size}", hint=_PROOF_HINT
        )
