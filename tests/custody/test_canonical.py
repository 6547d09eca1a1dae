"""The ledger's canonical JSON (custody.ledger.canonical) is RFC 8785's, byte for byte.

``canonical`` writes values of the kinds ledger entries hold with the json module's C encoder and
everything else with the reference serialiser (the ``rfc8785`` package); the oracle here is the
reference on every generated value: text with escapes, non-ASCII, astral characters and lone
surrogates, integers at and beyond JCS's bounds, floats, tuples, keys that sort differently in
UTF-16 and in code points (U+E000 and above against astral ones).
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from custody import ledger
from custody.errors import LedgerError

BOUND = 2**53 - 1
texts = st.text(st.characters(codec=None, blacklist_categories=()), max_size=12) | st.sampled_from(
    ["", 'a"b\\c', "\x00\x1f\x7f\n\t\b\f\r", "Straße 東京", "😀", "\ud800 lone", "\ue000", "\U0001f600x"]
)
numbers = st.integers(min_value=-BOUND - 2, max_value=BOUND + 2) | st.sampled_from([BOUND, -BOUND, 0])
keys = st.text(st.characters(codec=None), max_size=6) | st.sampled_from(["run", "Run", "\ue000", "😀", "a"])
scalars = (
    st.none() | st.booleans() | numbers | texts | st.floats(allow_nan=True) | st.sampled_from([1.0, 0.5])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
        | st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


def _reference(value: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        return None


def _ours(value: Any) -> bytes | None:
    try:
        return ledger.canonical(value)
    except LedgerError:
        return None


@settings(max_examples=600, deadline=None)
@given(values)
@example({"b": 1, "a": [True, None, "x\n"], "c": {"z": BOUND, "y": -BOUND}})
@example({"\ue000": 1, "😀": 2})  # UTF-16 puts the astral key first, code points the other
@example({"k": BOUND + 1})
@example({"k": "\udc00"})
@example({"k": 1.5})
def test_canonical_is_rfc8785(value: Any) -> None:
    assert _ours(value) == _reference(value)


def test_a_ledger_entry_takes_the_fast_path_and_odd_values_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry of the kind a triage run appends is written by the C encoder (the reference is not
    called); a float, an astral key or a lone surrogate goes to the reference."""
    calls: list[Any] = []
    real = rfc8785.dumps
    monkeypatch.setattr(rfc8785, "dumps", lambda v: calls.append(v) or real(v))
    entry = {
        "kind": "item.derive",
        "data": {
            "path": "/DCIM/Camera/IMG_0001.jpg",
            "partition": 1048576,
            "inode": 12,
            "stream": None,
            "size": 160301,
            "deleted": False,
            "hashes": {"sha256": "ab" * 32},
            "plugins": [{"plugin": "pdq", "version": "1.0.0", "outcome": "parsed", "records": 1}],
            "within": [],
            "note": "Zürich, 東京",
        },
    }
    assert ledger.canonical(entry) == real(entry)
    assert calls == []
    for odd in ({"x": 0.5}, {"😀": 1}, {"x": "\ud800"}, {"x": 2**60}):
        _ours(odd)
    assert len(calls) == 4
