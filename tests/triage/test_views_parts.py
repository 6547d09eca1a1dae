"""The parts behind the views: phone numbers to E.164, identities, time sort keys, the on-disk sort.

The end-to-end tests (real triage, real commands) are in test_views.py; these pin down the rules
each part follows, including the edge cases the corpus does not have.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.errors import TriageError
from triage.views.identifiers import Identity, Normaliser, check_region, identity
from triage.views.links import xml_text
from triage.views.spool import Spool, encode_key, json_line, sort_key


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("1 555-521-5554", "US", "+15555215554"),  # the corpus SMS: fictional 555 numbers are possible
        ("15555215554", "US", "+15555215554"),
        ("15555215554", None, None),  # no country code and no region: not guessed
        ("+1 919-888-7386", None, "+19198887386"),
        ("(540) 456-1685", "US", "+15404561685"),
        ("0612345678", "NL", "+31612345678"),
        ("0031612345678", "GB", "+31612345678"),  # international prefix from the UK
        ("19198887386@s.whatsapp.net", None, "+19198887386"),  # a WhatsApp user JID is its phone
        ("19198887386:12@s.whatsapp.net", None, "+19198887386"),  # a companion device's JID
        ("120363023356659014@g.us", "US", None),  # a group
        ("205690463334636@lid", "US", None),  # a linked identity, no phone
        ("1-800-FLOWERS", "US", None),  # letters are never keypad digits
        ("VODAFONE", "GB", None),
        ("12", "US", None),  # too short to be possible
        ("", "US", None),
        ("+1555\u202e5215554", None, None),  # a bidi override is not phone punctuation
    ],
)
def test_e164(raw: str, region: str | None, expected: str | None) -> None:
    assert Normaliser(region).e164(raw) == expected


def test_identities() -> None:
    us = Normaliser("US")
    assert identity("1 555-521-5554", "sms", us) == Identity("phone", "+15555215554")
    assert identity("15555215554@s.whatsapp.net", "whatsapp", us) == Identity("phone", "+15555215554")
    assert identity("15555215554", "sms", Normaliser()) == Identity("number", "15555215554")
    assert identity("+1 (555) 12", "sms", us) == Identity("number", "+155512")
    assert identity("Ops.Desk@Example.COM", "sms", us) == Identity("email", "ops.desk@example.com")
    assert identity("120363023356659014@g.us", "whatsapp", us) == Identity(
        "account", "whatsapp:120363023356659014@g.us"
    )
    assert identity("VODAFONE", "sms", us) == Identity("account", "sms:VODAFONE")
    assert (
        identity("  ", "sms", us) is None
        and identity(None, "sms", us) is None
        and identity(5, "sms", us) is None
    )


def test_regions_are_checked() -> None:
    assert check_region("gb") == "GB" and check_region(None) is None
    with pytest.raises(TriageError, match="unknown region 'XX'"):
        check_region("XX")


def test_sort_keys_order_stored_times() -> None:
    stored = [
        "2020-01-01T00:00:00.5Z",
        "2020-01-01T00:00:00Z",  # as raw text this sorts after .5Z ('Z' > '.')
        "2020-01-01T00:00:00.1902856Z",  # NTFS: seven digits
        "999-01-01T00:00:00.000000Z",  # glibc's strftime drops a year's leading zeros
        "2020-10-27T05:35:17.37",  # FAT: local, no zone
    ]
    assert sorted(stored, key=sort_key) == [  # type: ignore[arg-type]
        "999-01-01T00:00:00.000000Z",
        "2020-01-01T00:00:00Z",
        "2020-01-01T00:00:00.1902856Z",
        "2020-01-01T00:00:00.5Z",
        "2020-10-27T05:35:17.37",
    ]
    assert sort_key("2020-01-01T00:00:00Z") == "2020-01-01T00:00:00.000000000"
    for bad in (None, "", "yesterday", "2020-01-01", 1700000000, "2020-01-01T00:00:00+02:00"):
        assert sort_key(bad) is None


parts = st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(codec=None))), min_size=3, max_size=3)


@settings(deadline=None)  # a loaded 2-core machine may stall one example past the default
@given(st.lists(parts, max_size=30))
def test_encoded_keys_sort_like_their_parts(rows: list[list[str | None]]) -> None:
    """Component by component, text in code point order, None after every text, a prefix first."""

    def natural(row: list[str | None]) -> list[tuple[int, list[int]]]:
        return [(1, []) if p is None else (0, [ord(c) for c in p]) for p in row]

    assert sorted(rows, key=lambda r: encode_key(*r)) == sorted(rows, key=natural)


def test_spool_sorts_on_disk_stably_and_cleans_up(tmp_path: Path) -> None:
    rows = [(encode_key(str(n % 7)), {"n": n, "text": "x" * (n % 50)}) for n in range(3000)]
    with Spool(tmp_path, run_bytes=4096) as spool:  # a run every few dozen rows: many runs
        spool.extend(rows)
        assert spool.path is not None and spool.path.parent == tmp_path
        got = list(spool.values())
    expected = [value for _key, value in sorted(rows, key=lambda r: (r[0], r[1]["n"]))]
    assert got == expected  # equal keys keep the order they were added in, across runs
    assert list(tmp_path.iterdir()) == []
    with Spool(tmp_path) as small:
        small.extend(rows[:10])
        assert [v["n"] for v in small.values()] == sorted(range(10), key=lambda n: (n % 7, n))
        assert small.path is None  # one run: never written
    with Spool(tmp_path) as empty:
        assert list(empty.values()) == []


def test_spool_is_removed_after_an_error(tmp_path: Path) -> None:
    def failing() -> list[tuple[bytes, object]]:
        raise RuntimeError("the case database went away")

    with pytest.raises(RuntimeError), Spool(tmp_path, run_bytes=1) as spool:
        spool.extend([(b"a", 1), (b"b", 2)])
        assert spool.path is not None and spool.path.exists()
        spool.extend(failing())
    assert list(tmp_path.iterdir()) == []


def test_json_lines_are_one_line_and_exact() -> None:
    value = {"body": "a\u2028b\u2029c\x85d\ne", "bad": "\udcff", "é": "中文"}
    line = json_line(value)
    assert line.splitlines() == [line] and json.loads(line) == value
    plain = json_line({"é": "中文 \u2028"})
    assert "中文" in plain and "\\u2028" in plain and json.loads(plain) == {"é": "中文 \u2028"}


def test_xml_text_replaces_what_xml_cannot_carry() -> None:
    assert (
        xml_text("a\x07b\x1b[2J\tc\nd\ud800e\ufffef\u202eg") == "a\\x07b\\x1b[2J\tc\nd\\ud800e\\ufffef\u202eg"
    )
