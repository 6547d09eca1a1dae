"""Tests for custody.merkle: published RFC 6962/9162 known answers, corruption probes, properties.

Known answers come from transparency-dev/merkle and google/certificate-transparency; see
``tests/custody/merkle_vectors.py`` for the exact source files.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence

import pytest

from custody.errors import CustodyError
from custody.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from tests.custody import merkle_vectors as v

LEAVES = [bytes.fromhex(x) for x in v.LEAF_INPUTS_HEX]
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = [bytes.fromhex(x) for x in v.ROOTS_HEX]
SOME_HASH = bytes.fromhex(v.SOME_HASH_HEX)


def hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in values]


# --- Independent naive reference: the RFC 9162 section 2.1 definitions, literally ----------------


def _k(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes by the recursive definition (slices and all)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return hashlib.sha256(b"\x01" + ref_mth(hashes[:k]) + ref_mth(hashes[k:])).digest()


def ref_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the recursive definition."""
    if len(hashes) <= 1:
        return []
    k = _k(len(hashes))
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) by the recursive definition."""
    n = len(hashes)
    if m == n:
        return [] if b else [ref_mth(hashes)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, hashes[:k], b), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


def synthetic_leaf_hashes(n: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(seed.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(n)]


# --- Corruption probes: the transparency-dev/merkle proof/verify_test.go probe sets --------------


def flip(value: bytes, mask: int) -> bytes:
    return bytes([value[0] ^ mask]) + value[1:]


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """Wrong variants of a good inclusion proof: (description, index, size, proof, root, leaf)."""
    probes = [
        ("index - 1", index - 1, size, proof, root, leaf),
        ("index + 1", index + 1, size, proof, root, leaf),
        ("index ^ 2", index ^ 2, size, proof, root, leaf),
        ("size * 2", index, size * 2, proof, root, leaf),
        ("size // 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("wrong leaf (hash of data)", index, size, proof, root, leaf_hash(b"WrongLeaf")),
        ("empty root", index, size, proof, EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("trailing empty root", index, size, [*proof, EMPTY_ROOT], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
        ("preceding empty root", index, size, [EMPTY_ROOT, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = flip(bad[i], 8)
        probes.append((f"proof[{i}] bit 3 flipped", index, size, bad, root, leaf))
        bad = list(proof)
        bad[i] = EMPTY_ROOT
        probes.append((f"proof[{i}] replaced", index, size, bad, root, leaf))
    if proof:
        probes.append(("removed last element", index, size, proof[:-1], root, leaf))
        probes.append(("removed first element", index, size, proof[1:], root, leaf))
    if len(proof) > 1:
        probes.append(("inserted element", index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf))
    return probes


def consistency_probes(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Wrong variants of a good, non-empty consistency proof: (desc, old, new, roots, proof)."""
    probes = [
        ("old - 1", old - 1, new, old_root, new_root, proof),
        ("old + 1", old + 1, new, old_root, new_root, proof),
        ("old ^ 2", old ^ 2, new, old_root, new_root, proof),
        ("new * 2", old, new * 2, old_root, new_root, proof),
        ("new // 2", old, new // 2, old_root, new_root, proof),
        ("wrong old root", old, new, b"WrongRoot", new_root, proof),
        ("wrong new root", old, new, old_root, b"WrongRoot", proof),
        ("random old root", old, new, SOME_HASH, new_root, proof),
        ("random new root", old, new, old_root, SOME_HASH, proof),
        ("swapped roots", old, new, new_root, old_root, proof),
        ("empty proof", old, new, old_root, new_root, []),
        ("trailing garbage", old, new, old_root, new_root, [*proof, b""]),
        ("trailing old root", old, new, old_root, new_root, [*proof, old_root]),
        ("trailing new root", old, new, old_root, new_root, [*proof, new_root]),
        ("trailing last element", old, new, old_root, new_root, [*proof, proof[-1]]),
        ("preceding garbage", old, new, old_root, new_root, [b"", *proof]),
        ("preceding old root", old, new, old_root, new_root, [old_root, *proof]),
        ("preceding new root", old, new, old_root, new_root, [new_root, *proof]),
        ("preceding proof[0]", old, new, old_root, new_root, [proof[0], *proof]),
        ("truncated proof", old, new, old_root, new_root, proof[:-1]),
        ("removed first element", old, new, old_root, new_root, proof[1:]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = flip(bad[i], 16)
        probes.append((f"proof[{i}] bit 4 flipped", old, new, old_root, new_root, bad))
        bad = list(proof)
        bad[i] = EMPTY_ROOT
        probes.append((f"proof[{i}] replaced", old, new, old_root, new_root, bad))
    return probes


def assert_inclusion_strict(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes) -> None:
    """The good proof verifies and every probe of it is rejected with ProofError."""
    verify_inclusion(leaf, index, size, proof, root)
    accepted = []
    for desc, i, s, p, r, lf in inclusion_probes(index, size, proof, root, leaf):
        try:
            verify_inclusion(lf, i, s, p, r)
        except ProofError:
            continue
        accepted.append(desc)
    assert not accepted, f"leaf {index} of {size}: wrongly accepted {accepted}"


def assert_consistency_strict(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    verify_consistency(old, new, old_root, new_root, proof)
    if not proof:
        return
    accepted = []
    for desc, o, n, r1, r2, p in consistency_probes(old, new, old_root, new_root, proof):
        try:
            verify_consistency(o, n, r1, r2, p)
        except ProofError:
            continue
        accepted.append(desc)
    assert not accepted, f"{old} -> {new}: wrongly accepted {accepted}"


# --- Primitives and roots -----------------------------------------------------------------------


def test_hash_primitives_use_rfc_domain_separation() -> None:
    assert EMPTY_ROOT.hex() == v.EMPTY_ROOT_HEX
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)
    # A leaf whose data looks like two children must not collide with the interior node.
    assert leaf_hash(a + b) != node_hash(a, b)


def test_proof_error_is_a_custody_error() -> None:
    assert issubclass(ProofError, CustodyError)
    with pytest.raises(ProofError) as info:
        verify_inclusion(LEAF_HASHES[0], 1, 1, [], ROOTS[1])
    assert info.value.hint


def test_two_sources_publish_the_same_roots() -> None:
    """transparency-dev/merkle and google/certificate-transparency agree (cross-check of the data)."""
    assert v.ROOTS_HEX[1:] == v.CT_CPP_ROOTS_HEX


@pytest.mark.parametrize("size", range(9))
def test_roots_known_answers(size: int) -> None:
    hashes = LEAF_HASHES[:size]
    assert root_from_leaf_hashes(hashes) == ROOTS[size]
    assert MerkleTree(hashes).root() == ROOTS[size]
    assert MerkleTree(LEAF_HASHES).root(size) == ROOTS[size]
    assert ref_mth(hashes) == ROOTS[size]


def test_complete_subtree_known_answers() -> None:
    """Every complete subtree of the 8-leaf tree (testonly/constants.go NodeHashes)."""
    for level, row in enumerate(v.NODE_HASHES_HEX):
        width = 1 << level
        for index, expected in enumerate(row):
            got = root_from_leaf_hashes(LEAF_HASHES[index * width : (index + 1) * width])
            assert got.hex() == expected, (level, index)


def test_root_rejects_malformed_leaf_hashes() -> None:
    with pytest.raises(ProofError):
        root_from_leaf_hashes([LEAF_HASHES[0], b"short"])
    with pytest.raises(ProofError):
        MerkleTree().append(LEAF_HASHES[0].hex().encode())


def test_root_of_many_leaves_is_fast_and_iterative() -> None:
    hashes = synthetic_leaf_hashes(100_003)
    started = time.perf_counter()
    root = root_from_leaf_hashes(hashes)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"root of 100k leaves took {elapsed:.2f}s"
    # Cross-check against the stored-levels tree (different algorithm) and the RFC split by hand.
    tree = MerkleTree(hashes)
    assert tree.root() == root
    k = 65_536
    assert root == node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))
    # Proofs in a big tree still verify.
    for index in (0, 1, 65_535, 65_536, 100_002):
        verify_inclusion(hashes[index], index, len(hashes), tree.inclusion_proof(index), root)
    verify_consistency(65_537, len(hashes), tree.root(65_537), root, tree.consistency_proof(65_537))


# --- Inclusion known answers ---------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "proof_hex"), v.INCLUSION_PROOFS)
def test_inclusion_proof_known_answers(index: int, size: int, proof_hex: tuple[str, ...]) -> None:
    expected = hexes(proof_hex)
    assert inclusion_proof(LEAF_HASHES[:size], index) == expected
    assert MerkleTree(LEAF_HASHES).inclusion_proof(index, size) == expected
    assert ref_path(index, LEAF_HASHES[:size]) == expected
    assert_inclusion_strict(index, size, expected, ROOTS[size], LEAF_HASHES[index])


def _node(hashes: Sequence[bytes], level: int, index: int) -> bytes:
    return ref_mth(hashes[index << level : (index + 1) << level])


def _shape_to_hashes(hashes: Sequence[bytes], shape: v.Shape) -> list[bytes]:
    """Turn proof_test.go node coordinates into hashes (a span folds right to left into one)."""
    out = []
    for element in shape:
        span = element if isinstance(element[0], tuple) else (element,)
        nodes = [_node(hashes, level, index) for level, index in span]
        acc = nodes[0]
        for node in nodes[1:]:
            acc = node_hash(node, acc)
        out.append(acc)
    return out


def _shape_leaves(n: int) -> list[bytes]:
    """The 8 reference leaves where they suffice (so node hashes are published ones), else synthetic."""
    return LEAF_HASHES[:n] if n <= 8 else synthetic_leaf_hashes(n, seed=7)


def test_shape_nodes_match_published_node_hashes() -> None:
    """Where a shape node lies in the 8-leaf tree, _node() gives the published NodeHashes value."""
    for level, row in enumerate(v.NODE_HASHES_HEX):
        for index, expected in enumerate(row):
            assert _node(LEAF_HASHES, level, index).hex() == expected


@pytest.mark.parametrize(("size", "index", "shape"), v.INCLUSION_SHAPES)
def test_inclusion_proof_shapes(size: int, index: int, shape: v.Shape) -> None:
    hashes = _shape_leaves(size)
    expected = _shape_to_hashes(hashes, shape)
    assert inclusion_proof(hashes, index) == expected
    verify_inclusion(hashes[index], index, size, expected, root_from_leaf_hashes(hashes))


# --- Consistency known answers -------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "proof_hex"), v.CONSISTENCY_PROOFS)
def test_consistency_proof_known_answers(old: int, new: int, proof_hex: tuple[str, ...]) -> None:
    expected = hexes(proof_hex)
    assert consistency_proof(LEAF_HASHES[:new], old) == expected
    assert MerkleTree(LEAF_HASHES).consistency_proof(old, new) == expected
    assert ref_subproof(old, LEAF_HASHES[:new], True) == expected
    assert_consistency_strict(old, new, ROOTS[old], ROOTS[new], expected)


@pytest.mark.parametrize(("old", "new", "shape"), v.CONSISTENCY_SHAPES)
def test_consistency_proof_shapes(old: int, new: int, shape: v.Shape) -> None:
    hashes = _shape_leaves(new)
    expected = _shape_to_hashes(hashes, shape)
    assert consistency_proof(hashes, old) == expected
    verify_consistency(old, new, ref_mth(hashes[:old]), ref_mth(hashes), expected)


# --- Edge cases of the verifiers (proof/verify_test.go TestVerifyInclusion*/TestVerifyConsistency) -


def test_inclusion_single_entry() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)  # a one-leaf tree's root is its leaf hash; path is empty
    for leaf, root in ((h, b""), (b"", h), (b"", b"")):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, 0, 1, [], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1), (-1, 1), (0, -1)])
def test_inclusion_impossible_positions(index: int, size: int) -> None:
    for leaf, root in ((SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, [], root)


def test_inclusion_index_out_of_range_cannot_be_proven() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(LEAF_HASHES, 8)
    with pytest.raises(ProofError):
        inclusion_proof([], 0)
    with pytest.raises(ProofError):
        inclusion_proof(LEAF_HASHES, -1)
    with pytest.raises(ProofError):
        MerkleTree(LEAF_HASHES).inclusion_proof(0, 9)


def test_consistency_trivial_and_invalid_cases() -> None:
    r1, r2 = ROOTS[1], ROOTS[2]
    # Always consistent (with the right, empty, proof).
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 1, EMPTY_ROOT, r1, [])
    verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    verify_consistency(1, 1, r1, r1, [])
    verify_consistency(2, 2, r2, r2, [])
    bad: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("equal sizes, different roots", 1, 1, r1, r2, []),
        ("empty trees, different roots", 0, 0, EMPTY_ROOT, r2, []),
        ("empty tree with a non-empty root", 0, 0, r1, r1, []),
        ("old empty tree with a wrong root", 0, 1, r1, r1, []),
        ("time travel 1 -> 0", 1, 0, r1, EMPTY_ROOT, []),
        ("time travel 2 -> 1", 2, 1, r2, r1, []),
        ("empty proof where one is needed", 1, 2, r1, r2, []),
        ("roots match but proof not empty 0/0", 0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        ("old size 0 with a proof", 0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        ("roots match but proof not empty 1/1", 1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        ("equal sizes with a proof", 2, 2, r2, r2, [r1]),
        ("negative old size", -1, 1, EMPTY_ROOT, r1, []),
        ("malformed root", 1, 1, b"x" * 31, b"x" * 31, []),
    ]
    for desc, old, new, root1, root2, proof in bad:
        with pytest.raises(ProofError):
            verify_consistency(old, new, root1, root2, proof)
            pytest.fail(f"accepted: {desc}")


def test_consistency_proof_refuses_impossible_sizes() -> None:
    with pytest.raises(ProofError):
        consistency_proof(LEAF_HASHES, 0)
    with pytest.raises(ProofError):
        consistency_proof(LEAF_HASHES, 9)
    with pytest.raises(ProofError):
        consistency_proof(LEAF_HASHES[:5], 9)  # proof_test.go: {size1: 9, size2: 8} is an error
    with pytest.raises(ProofError):
        MerkleTree(LEAF_HASHES[:5]).consistency_proof(5, 0)  # {size1: 5, size2: 0}
    assert consistency_proof(LEAF_HASHES, 8) == []


# --- Properties ------------------------------------------------------------------------------------


def _all_proofs_verify(n: int, hashes: list[bytes], tree: MerkleTree) -> None:
    root = root_from_leaf_hashes(hashes[:n])
    assert root == ref_mth(hashes[:n]) == tree.root(n)
    for index in range(n):
        proof = tree.inclusion_proof(index, n)
        verify_inclusion(hashes[index], index, n, proof, root)
    for old in range(1, n + 1):
        proof = tree.consistency_proof(old, n)
        verify_consistency(old, n, tree.root(old), root, proof)


def test_every_proof_verifies_for_random_sizes() -> None:
    """Random sizes up to 300: roots match the naive MTH; every generated proof verifies."""
    rng = random.Random(9162)
    hashes = synthetic_leaf_hashes(300, seed=1)
    tree = MerkleTree(hashes)
    sizes = sorted({1, 2, 3, 255, 256, 257, 299, 300, *rng.sample(range(4, 300), 25)})
    for n in sizes:
        _all_proofs_verify(n, hashes, tree)
    # The stand-alone functions (which build their own tree) agree with the incremental one.
    for n in rng.sample(sizes, 6):
        index = rng.randrange(n)
        old = rng.randrange(1, n + 1)
        assert inclusion_proof(hashes[:n], index) == tree.inclusion_proof(index, n)
        assert consistency_proof(hashes[:n], old) == tree.consistency_proof(old, n)


def test_proof_generation_matches_rfc_recursion_exhaustively() -> None:
    """Every tree up to 48 leaves: proofs equal the RFC's recursive PATH/SUBPROOF definitions."""
    hashes = synthetic_leaf_hashes(48, seed=2)
    tree = MerkleTree(hashes)
    for n in range(1, 49):
        prefix = hashes[:n]
        assert tree.root(n) == ref_mth(prefix)
        for index in range(n):
            assert tree.inclusion_proof(index, n) == ref_path(index, prefix)
        for old in range(1, n + 1):
            assert tree.consistency_proof(old, n) == ref_subproof(old, prefix, True)


def test_corrupted_generated_proofs_are_rejected_exhaustively() -> None:
    """The probe sets, applied to every proof in every tree up to 33 leaves (as CT's C++ tests do)."""
    hashes = synthetic_leaf_hashes(33, seed=3)
    tree = MerkleTree(hashes)
    for n in range(1, 34):
        root = tree.root(n)
        for index in range(n):
            assert_inclusion_strict(index, n, tree.inclusion_proof(index, n), root, hashes[index])
        for old in range(1, n + 1):
            assert_consistency_strict(old, n, tree.root(old), root, tree.consistency_proof(old, n))


def test_tree_appends_incrementally_and_remembers_past_heads() -> None:
    tree = MerkleTree()
    assert len(tree) == 0
    assert tree.root() == EMPTY_ROOT
    for i, h in enumerate(LEAF_HASHES):
        assert tree.append(h) == i
        assert tree.root() == ROOTS[i + 1]
        assert tree.leaf(i) == h
    assert [tree.root(n) for n in range(9)] == ROOTS
    with pytest.raises(ProofError):
        tree.root(9)
    with pytest.raises(ProofError):
        tree.leaf(8)
