"""Published RFC 6962 / RFC 9162 known answers for the Merkle tree tests (facts only, as hex).

Sources (all Apache-2.0; only the test *values* are reproduced here, re-typed as Python data):

* transparency-dev/merkle ``testonly/constants.go`` -- the 8 reference leaf inputs, the roots of
  the trees of 0..8 of them, and the hash of every complete subtree of the 8-leaf tree;
* transparency-dev/merkle ``proof/verify_test.go`` -- known-good inclusion and consistency proofs
  (its leaf numbers are 1-based; converted to 0-based indices below);
* transparency-dev/merkle ``testonly/reference_test.go`` -- more inclusion / consistency proofs;
* transparency-dev/merkle ``proof/proof_test.go`` -- which tree nodes make up a proof, as
  (level, index) coordinates, for trees up to 95 leaves;
* google/certificate-transparency ``cpp/merkletree/merkle_tree_test.cc`` -- the original RFC 6962
  known-answer tests (``kSHA256Roots``, ``kSHA256Paths``, ``kSHA256Proofs``); identical values,
  used as a cross-check that the two sources agree.
"""

from __future__ import annotations

# --- transparency-dev/merkle testonly/constants.go: LeafInputs() -----------------------------------
LEAF_INPUTS_HEX: tuple[str, ...] = (
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)

EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# --- transparency-dev/merkle testonly/constants.go: RootHashes() (index = tree size) ---------------
ROOTS_HEX: tuple[str, ...] = (
    EMPTY_ROOT_HEX,
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)

# --- google/certificate-transparency cpp/merkletree/merkle_tree_test.cc: kSHA256Roots (sizes 1..8) -
CT_CPP_ROOTS_HEX: tuple[str, ...] = (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)

# --- transparency-dev/merkle testonly/constants.go: NodeHashes() -----------------------------------
# NODE_HASHES_HEX[level][index]: hash of the complete subtree over leaves
# [index * 2**level, (index + 1) * 2**level) of the 8-leaf reference tree.
NODE_HASHES_HEX: tuple[tuple[str, ...], ...] = (
    (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ),
    (
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ),
    (
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ),
    ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
)

# --- Inclusion proofs: (0-based leaf index, tree size, audit path) ---------------------------------
# transparency-dev/merkle proof/verify_test.go `inclusionProofs` (1-based there; shifted here),
# identical to google/certificate-transparency merkle_tree_test.cc `kSHA256Paths`.
INCLUSION_PROOFS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 1, ()),
    (
        0,
        8,
        (
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        (
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",)),
    (
        1,
        5,
        (
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    # transparency-dev/merkle testonly/reference_test.go `TestRefInclusionProof` (0-based there)
    (0, 2, ("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",)),
    (1, 2, ("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",)),
)

# --- Consistency proofs: (old size, new size, proof) -----------------------------------------------
# transparency-dev/merkle proof/verify_test.go `consistencyProofs`; the first four are also
# google/certificate-transparency merkle_tree_test.cc `kSHA256Proofs` and reference_test.go.
CONSISTENCY_PROOFS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (1, 1, ()),
    (
        1,
        8,
        (
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        (
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        (
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        (
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
)

# The fixed "some hash" value used by the transparency-dev probes as a random wrong root / inserted
# proof element (proof/verify_test.go `sha256SomeHash`).
SOME_HASH_HEX = "abacaba000000000000000000000000000000000000000000060061e00123456"

# --- transparency-dev/merkle proof/proof_test.go: proof shapes as node coordinates ------------------
# Each proof element is either a complete subtree (level, index) -- leaves
# [index * 2**level, (index + 1) * 2**level) -- or a list of such nodes that the verifier sees as
# ONE element: the right-edge subtree made of them (in the Go file: a "rehash" span; its nodes are
# listed lowest first and join right to left into one hash).
Node = tuple[int, int]
Shape = tuple[Node | tuple[Node, ...], ...]

INCLUSION_SHAPES: tuple[tuple[int, int, Shape], ...] = (
    # (tree size, leaf index, proof shape)
    (1, 0, ()),
    (2, 0, ((0, 1),)),
    (2, 1, ((0, 0),)),
    (3, 1, ((0, 0), (0, 2))),
    (7, 0, ((0, 1), (1, 1), ((0, 6), (1, 2)))),
    (7, 1, ((0, 0), (1, 1), ((0, 6), (1, 2)))),
    (7, 2, ((0, 3), (1, 0), ((0, 6), (1, 2)))),
    (7, 3, ((0, 2), (1, 0), ((0, 6), (1, 2)))),
    (7, 4, ((0, 5), (0, 6), (2, 0))),
    (7, 5, ((0, 4), (0, 6), (2, 0))),
    (7, 6, ((1, 2), (2, 0))),
    (4, 2, ((0, 3), (1, 0))),
    (5, 3, ((0, 2), (1, 0), (0, 4))),
    (6, 3, ((0, 2), (1, 0), (1, 2))),
    (6, 4, ((0, 5), (2, 0))),
    (15, 10, ((0, 11), (1, 4), ((0, 14), (1, 6)), (3, 0))),
    (31, 24, ((0, 25), (1, 13), ((0, 30), (1, 14)), (3, 2), (4, 0))),
    (95, 81, ((0, 80), (1, 41), (2, 21), ((0, 94), (1, 46), (2, 22)), (4, 4), (6, 0))),
)

CONSISTENCY_SHAPES: tuple[tuple[int, int, Shape], ...] = (
    # (old size, new size, proof shape)
    (1, 2, ((0, 1),)),
    (1, 4, ((0, 1), (1, 1))),
    (1, 6, ((0, 1), (1, 1), (1, 2))),
    (2, 3, ((0, 2),)),
    (2, 8, ((1, 1), (2, 1))),
    (3, 7, ((0, 2), (0, 3), (1, 0), ((0, 6), (1, 2)))),
    (4, 7, (((0, 6), (1, 2)),)),
    (5, 7, ((0, 4), (0, 5), (0, 6), (2, 0))),
    (6, 7, ((1, 2), (0, 6), (2, 0))),
    (7, 8, ((0, 6), (0, 7), (1, 2), (2, 0))),
    (1, 1, ()),
    (2, 2, ()),
    (3, 3, ()),
    (4, 4, ()),
    (5, 5, ()),
    (7, 7, ()),
    (8, 8, ()),
    (2, 4, ((1, 1),)),
    (3, 5, ((0, 2), (0, 3), (1, 0), (0, 4))),
    (3, 6, ((0, 2), (0, 3), (1, 0), (1, 2))),
    (4, 6, ((1, 2),)),
    (1, 7, ((0, 1), (1, 1), ((0, 6), (1, 2)))),
    (10, 15, ((1, 4), (1, 5), ((0, 14), (1, 6)), (3, 0))),
    (24, 31, ((3, 2), ((0, 30), (1, 14), (2, 6)), (4, 0))),
    (81, 95, ((0, 80), (0, 81), (1, 41), (2, 21), ((0, 94), (1, 46), (2, 22)), (4, 4), (6, 0))),
)
