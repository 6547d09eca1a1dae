"""The identifier search's screens (plugins/indicator/identifiers.py ``_Screen``): each search is
skipped only when the text lacks something every match of its pattern holds, so the answers are
those of running every search. The oracle is the same function with every search run
(``_find(text, region, None)``), over real text (this machine's documentation and configuration,
which every Debian system has), text built from the published identifier test vectors the
validator tests use, written in every form the patterns accept, and random text drawn from the
characters the screens look at."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from plugins.indicator import identifiers
from plugins.indicator.identifiers import _find, _Screen, find_identifiers
from tests.plugins.test_indicator_validate import (
    BIP173_VALID_V0,
    CARD_TEST_NUMBERS,
    IBAN_REGISTRY_EXAMPLES,
)

ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's first example
BASE58 = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def _same(text: str) -> None:
    for region in (None, "GB"):
        assert find_identifiers(text, region) == _find(text, region, None), (region, text[:200])


def _system_texts(limit: int) -> list[str]:
    roots = [Path("/usr/share/doc"), Path("/etc"), Path("/usr/share/common-licenses")]
    found: list[str] = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            if len(found) >= limit:
                return found
            try:
                if not path.is_file() or path.is_symlink() or path.stat().st_size > 200_000:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\x00" in data[:4096]:
                continue
            found.append(data.decode("utf-8", "replace"))
    return found


def test_real_text_gives_the_same_identifiers() -> None:
    texts = _system_texts(600)
    if len(texts) < 100:
        pytest.skip(f"only {len(texts)} text files under /usr/share/doc and /etc")
    found = 0
    for text in texts:
        _same(text)
        found += len(find_identifiers(text))
    assert found > 50  # URLs and e-mail addresses of the copyright files, at least


def _written_forms() -> list[str]:
    """Every identifier of the test vectors in the forms the patterns accept."""
    forms = [ETH, ETH.upper().replace("0X", "0x"), "0X" + ETH[2:], BASE58]
    for address in BIP173_VALID_V0:
        forms += [address, address.lower(), address.upper()]
    for example in IBAN_REGISTRY_EXAMPLES:
        iban = example[0] if isinstance(example, tuple) else example
        compact = iban.replace(" ", "")
        forms += [compact, " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)), compact.lower()]
    for number in CARD_TEST_NUMBERS:
        forms += [number, "-".join(number[i : i + 4] for i in range(0, len(number), 4)), " ".join(number)]
    forms += [
        "http://example.org/a?b=1",
        "HTTPS://EXAMPLE.ORG",
        "hxxp://x[.]com",
        "hXXps[://]bad[.]example",
        "ftp://files.example.net/x",
        "fxp[:]//files.example.net",
        "jane.doe+tag@example.co.uk",
        "+44 20 7946 0958",
        "\uff0b44 20 7946 0958",
        "020 7946 0958",
    ]
    return forms


@pytest.mark.parametrize("non_ascii", [False, True], ids=["ascii", "with-non-ascii"])
def test_every_written_form_is_found_as_before(non_ascii: bool) -> None:
    forms = _written_forms()
    rng = random.Random(7)
    filler = ["the", "price", "was", "paid", "to", "account", "on", "12.03.", "ref", "no.", ";", "(", ")"]
    if non_ascii:
        filler += ["Straße", "٣٤", "📞", "naïve"]
    kinds: set[str] = set()
    for form in forms:
        text = (
            " ".join(rng.choice(filler) for _ in range(8))
            + f" {form}. "
            + " ".join(rng.choice(filler) for _ in range(8))
        )
        _same(text)
        kinds |= {f.kind for f in find_identifiers(text, "GB")}
        _same(form)
    assert kinds == {"ethereum", "bitcoin", "iban", "card", "url", "email", "phone"}
    _same(" ".join(forms))


def test_random_text_from_the_screened_characters() -> None:
    rng = random.Random(2026)
    pieces = [
        *list("0123456789abcdefxABCX -.:/@+[]()"),
        "0x",
        "bc1",
        "tb1",
        "BC1",
        "//",
        "http",
        "hxxp",
        "ftp",
    ]
    pieces += [ETH[2:14], BASE58[:12], "4242 4242", "-4242-", "DE89", "3704 0044"]
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 60)))
        _same(text)


def test_a_plain_text_skips_the_searches_it_cannot_feed() -> None:
    screen = _Screen.of("a configuration file: port = 8080, user = www-data, # see the manual\n" * 50)
    assert not (screen.url or screen.ethereum or screen.bech32 or screen.base58 or screen.iban or screen.card)
    assert screen.digits == 200
    assert _Screen.of(f"pay {BASE58}").base58 and _Screen.of("4111 1111-1111 1111").card
    everything = _Screen.of("Straße 12 34")  # not ASCII: every search runs, as before
    assert everything.base58 and everything.iban and not everything.card


#: Each screened search and the screen that lets it run.
SCREENED = [
    (identifiers._URL, "url"),
    (identifiers._ETH, "ethereum"),
    (identifiers._BECH32, "bech32"),
    (identifiers._BASE58, "base58"),
    (identifiers._IBAN, "iban"),
    (identifiers._CARD, "card"),
]


def _screen_lets_every_match_through(text: str) -> None:
    screen = _Screen.of(text)
    for pattern, flag in SCREENED:
        if pattern.search(text) is not None:
            assert getattr(screen, flag), (flag, text)


def test_a_pattern_that_matches_is_never_screened_out() -> None:
    """The screens' own property, stronger than comparing validated answers: wherever a pattern
    matches at all, valid or not, its screen lets it run. Texts at the patterns' shortest
    matches (25 base58 characters, 12 card digits split every way, bech32's 6 data characters,
    an IBAN's country and check digits) and random text of the screened characters."""
    rng = random.Random(11)
    edges = [
        "1" + "a" * 24,
        "m" + "Z" * 24,
        "x 0x" + "f" * 40 + " y",
        "BC1" + "q" * 6,
        "tb1" + "7" * 6,
        "de89 3704",
        "GB82WEST12345698765432",
        "1 2 3 4 5 6 7 8 9 0 1 2",
        "1-2-3-4-5-6-7-8-9-0-1-2",
        "1234 5678 9012",
        "hxxps[://]x",
        "FtP[:]//x",
        "HTtP://x",
    ]
    for edge in edges:
        for text in (edge, f"({edge})", f"a.{edge}.b", f"{edge[:-1]}"):
            _screen_lets_every_match_through(text)
    alphabet = "0123456789abcdefmnxABCDEFX -.:/@+[]()_"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))
        _screen_lets_every_match_through(text)


def test_a_number_the_phone_matcher_finds_without_a_region_passes_the_plus_screen() -> None:
    """Without a region phonenumbers finds only numbers written with a plus, which its candidates
    (at most two lead characters, each followed by at most four punctuation characters) put a
    digit soon after: ``_Screen.plus`` (a plus and a digit within 15 characters after it) lets
    every such text through. The oracle is phonenumbers' own matcher, on numbers of several
    countries written with brackets, spaces, dashes, dots, slashes and the full-width plus between
    the plus and the digits, in ASCII and non-ASCII text, and on random text of those characters;
    numbers whose plus is followed by more punctuation than that are not found, screened or not."""
    import phonenumbers
    from phonenumbers import phonenumbermatcher

    # the bounds the screen's window relies on (phonenumbers' candidate pattern): a release that
    # changes them must be looked at again
    assert (phonenumbermatcher._LEAD_LIMIT, phonenumbermatcher._PUNCTUATION_LIMIT) == ("{0,2}", "{0,4}")

    def found(text: str) -> bool:
        return any(phonenumbers.PhoneNumberMatcher(text, None, leniency=phonenumbers.Leniency.VALID))

    rng = random.Random(41)
    numbers = ["44 20 7946 0958", "1 202 555 0143", "49 30 901820", "33 1 42 68 53 00", "971 4 123 4567"]
    gaps = ["", " ", "(", " (", "-", ". ", "/ ", "( ", "  ( ", "((", "(-.", "([ ", " -. /", "\u3000", "-" * 6]
    texts = []
    for number in numbers:
        for plus in ("+", "\uff0b"):
            for gap in gaps:
                for around in ("call {} now", "é {} ü", "{}"):
                    texts.append(around.format(plus + gap + number))
    # the farthest a found number's first digit can be from its plus (two leads, four punctuation
    # characters after each), and numbers in other scripts' digits
    edges = ["+----(----44) 20 7946 0958", "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨", "＋４４ ２０ ７９４６ ０９５８"]
    assert all(found(text) for text in edges), "the edge cases are numbers phonenumbers finds"
    texts += edges
    alphabet = "0123456789 +\uff0b()-./[]x\u3000é"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(8, 40))) for _ in range(3000)]
    hits = 0
    for text in texts:
        if found(text):
            hits += 1
            assert _Screen.of(text).plus, text
    assert hits > 100, hits  # the written numbers are found: the test sees the matcher work
    assert not _Screen.of("a + b = c, C++ and +x").plus and _Screen.of("tel +44 20 7946 0958").plus


QUICK: list[tuple[re.Pattern[str], Callable[[str], Iterator[re.Match[str]]]]] = [
    (identifiers._URL, identifiers._url_matches),
    (identifiers._EMAIL, identifiers._email_matches),
    (identifiers._IBAN, identifiers._iban_matches),
    (identifiers._IBAN, lambda text: identifiers._iban_matches(text, _Screen.of(text).classes)),
    (identifiers._BECH32, identifiers._bech32_matches),
    # the patterns as written with their look-behind first, against the module's (look-behind
    # after the first character)
    (re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d])"), identifiers._CARD.finditer),
    (re.compile(r"(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{40}(?![0-9A-Za-z])"), identifiers._ETH.finditer),
    (
        re.compile(r"(?<![0-9A-Za-z])[123mn2][1-9A-HJ-NP-Za-km-z]{24,34}(?![0-9A-Za-z])"),
        identifiers._BASE58.finditer,
    ),
]


def _quick_is_finditer(text: str) -> int:
    """Each search's quick finder yields exactly its pattern's ``finditer`` matches; the count."""
    total = 0
    for pattern, quick in QUICK:
        expected = [(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]
        # one more than expected at most: a finder that repeats a match fails instead of hanging
        got = [(m.start(), m.end(), m.group()) for m in islice(quick(text), len(expected) + 1)]
        assert got == expected, (pattern.pattern, text[:300])
        total += len(expected)
    return total


def test_each_search_found_from_its_anchors_yields_its_pattern_s_matches() -> None:
    """The quick finders (``_url_matches``: tried before each "//"; ``_email_matches``: around
    each "@"; IBANs and bech32 addresses at their check digits and separator; cards, Ethereum
    and base58 addresses with the look-behind after their first character) against the
    patterns' own ``finditer``: on real text, on the written forms run together (a match's
    anchor inside another match, two matches sharing a window), at the edges (a local part of
    64 characters and of 65, a "//" without a scheme before a URL, a text that starts or ends
    at an anchor), and on random text dense in the patterns' characters and anchors."""
    texts = _system_texts(300)
    if len(texts) < 100:
        pytest.skip(f"only {len(texts)} text files under /usr/share/doc and /etc")
    real = sum(_quick_is_finditer(text) for text in texts)
    assert real > 50, real
    forms = _written_forms()
    edges = [
        " ".join(forms),
        "".join(forms),
        "@",
        "//",
        "a@",
        "@b.cd",
        "http://",
        "x//http://a.b//c hxxp[://]d//e ftp://f",
        "https[:]//a.b hxxps[:]//c[.]d Hxxps[://]e.f",
        "http://a.b/x@y.com/c@d.ef",
        "http://a/ftp://b //d",
        "a@b.c@d.ef g!h#i@j.kl .m@n.op +q@r.st -u@v.wx",
        "a" * 64 + "@example.org " + "b" * 65 + "@example.org",
        "x" * 70 + "!" + "y" * 10 + "@example.org",
        "DE89370400440532013000DE89 3704 0044 0532 0130 00 xDE89370400440532013000",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4abc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "4111111111111111-4111111111111111 4111 1111 1111 1111 1 4111-1111-1111-1111",
        "0x" + "a" * 40 + "0x" + "b" * 40 + " 0x" + "c" * 41,
        "٣٤ 4111111111111111 ٤١١١١١١١١١١١١١١١ DE٨٩370400440532013000 x@ü.de ü@x.de",
    ]
    found = sum(_quick_is_finditer(text) for text in edges)
    assert found > 30, found
    rng = random.Random(1207)
    pieces = [
        *list("0123456789abcmnpqxtsfhBCDEX -.:/@+!#[]()_\n\"<>`'"),
        "//",
        "://",
        "[:]//",
        "[://]",
        "http",
        "hxxp",
        "ftp",
        "fxp",
        "bc1",
        "TB1",
        "0x",
        "DE89",
        "GB82",
        "4111 1111",
        "1111-1111",
        "jane.doe",
        "@example.org",
        ".co.uk",
        ETH[2:20],
        BASE58[:13],
        "٣",
        "é",
    ]
    for _ in range(6000):
        _quick_is_finditer("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 120))))


def test_numbers_are_found_in_the_plus_windows_as_in_the_whole_text() -> None:
    """Without a region only numbers written with a plus can be parsed, and phonenumbers' matcher
    is run only on the windows around them (``_phone_windows``): the oracle is the matcher on
    the whole text with every candidate tried. No candidate crosses a window's end: the stop
    characters are exactly those no class or literal of phonenumbers' candidate pattern matches
    (read from the compiled pattern, with its flags, over every code point); its leads reach at most 5 characters before a plus (pinned in the
    plus screen's test above). With a thousand digit runs before a number, the matcher on the
    whole text gives up before it (its budget of invalid candidates); the windows find it."""
    import phonenumbers
    from phonenumbers import phonenumbermatcher

    def items(pattern: Any) -> list[tuple[str, Any]]:
        out = []
        for op, av in pattern:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                out += items(av[2])
            elif name == "SUBPATTERN":
                out += items(av[3])
            elif name == "BRANCH":
                for branch in av[1]:
                    out += items(branch)
            elif name == "IN":
                out += [(str(o), a) for o, a in av]
            else:
                out.append((name, av))
        return out

    from re import _parser

    pieces = []
    for name, av in items(_parser.parse(phonenumbermatcher._PATTERN.pattern)):
        if name == "LITERAL":
            pieces.append(re.escape(chr(av)))
        elif name == "RANGE":
            pieces.append(f"[{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}]")
        else:  # nothing that matches "anything but" a class, and no class but the digits
            assert (name, str(av)) == ("CATEGORY", "CATEGORY_DIGIT"), (name, av)
            pieces.append(r"\d")
    alphabet = re.compile("|".join(pieces), phonenumbermatcher._PATTERN.flags)
    stop = identifiers._PHONE_STOP
    outside = [
        cp for cp in range(0x110000) if (alphabet.fullmatch(chr(cp)) is None) != bool(stop.fullmatch(chr(cp)))
    ]
    assert outside == [], [hex(cp) for cp in outside[:20]]  # stops exactly where the pattern cannot go

    def oracle(text: str) -> list[tuple[int, int, str]]:
        e164 = phonenumbers.PhoneNumberFormat.E164
        matcher = phonenumbers.PhoneNumberMatcher(
            text, None, leniency=phonenumbers.Leniency.VALID, max_tries=1 << 62
        )
        return [(m.start, m.end, phonenumbers.format_number(m.number, e164)) for m in matcher]

    def same(text: str) -> int:
        expected = oracle(text)
        assert list(identifiers._phone_numbers(text, None, True)) == expected, text[:300]
        return len(expected)

    numbers = ["+44 20 7946 0958", "+1 (202) 555-0143", "(+49) 30 901820", "＋33 1 42 68 53 00 ext. 12"]
    edges = [
        "+\n+44 20 7946 0958",
        '+"+44 20 7946 0958"',
        "+ +44 20 7946 0958",
        "(  (+44 20 7946 0958",
        "x (----+44) 20 7946 0958",  # the farthest lead: 5 characters before its plus
        "x\n[ - -+44] 20 7946 0958",
        "+44 20 7946 0958b",  # the character after a number counts: a letter, % or a currency sign
        "see +44 20 7946 0958%",
        "+44 20 7946 0958€",
        "+44 20 7946 0958b +44 20 7946 0958% +44 20 7946 0958€ +44 20 7946 0958.",
        "+44 20 7946 0958 extension 12, +1 202 555 0143 int 7 and ＋33 1 42 68 53 00",
        "12345+44 20 7946 0958",
        "tel:+44 20 7946 0958\n+1 202 555 0143|+49 30 901820",
        "+44 20 7946 0958" + " " * 3000 + "ext 123",
        "{" + ", ".join(f'"t{i}": "+44 20 7946 095{i}"' for i in range(10)) + "}",
    ]
    hits = sum(same(text) for text in edges + numbers)
    assert hits >= 14, hits
    rng = random.Random(77)
    pieces = [
        *list('0123456789 +\uff0b()-./[]x#,:\n\r"<>{}|e'),
        "ext",
        "+44",
        "20 7946",
        "0958",
        "555-0143",
        "+1 202",
    ]
    for _ in range(3000):
        hits += same("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 60))))
    texts = [t for t in _system_texts(600) if "+" in t]
    for text in texts:
        hits += same(text)
    assert hits > 60, hits
    crowded = " ".join(str(1000 + i) for i in range(1500)) + " call +44 20 7946 0958"
    whole = phonenumbers.PhoneNumberMatcher(
        crowded, None, leniency=phonenumbers.Leniency.VALID, max_tries=1000
    )
    assert not list(whole), "the matcher on the whole text gives up before the number"
    assert [n[2] for n in identifiers._phone_numbers(crowded, None, True)] == ["+442079460958"]
    assert [f.value for f in find_identifiers(crowded) if f.kind == "phone"] == ["+442079460958"]
    # the budget is each window's, a window one run of the characters a candidate may hold: a
    # number after a thousand others on their own lines, or after a word, is found; a thousand
    # invalid candidates before it in its own run (one line of numbers) still hide it, as the
    # docstring says
    for found_text in (
        "".join(f"+1 555 {i:04d}\n" for i in range(1100)) + "+44 20 7946 0958\n",
        "+1 " + ", ".join(str(1000 + i) for i in range(1500)) + " call +44 20 7946 0958",
    ):
        assert [n[2] for n in identifiers._phone_numbers(found_text, None, True)][-1] == "+442079460958"
    line = "+1 " + ", ".join(str(1000 + i) for i in range(1500)) + ", +44 20 7946 0958"
    assert [n[2] for n in oracle(line)] == ["+442079460958"]
    assert list(identifiers._phone_numbers(line, None, True)) == []


def test_spans_tell_an_overlap_as_a_look_at_each_span_does() -> None:
    """``_Spans`` (the identifiers already placed, searched by bisection) against the plain
    rule: ``[start, end)`` is free when it overlaps no held span; spans added in any order,
    queries touching, inside, around and between them."""
    rng = random.Random(9)
    for _ in range(400):
        spans = identifiers._Spans()
        held: list[tuple[int, int]] = []
        for _ in range(rng.randrange(0, 40)):
            start = rng.randrange(0, 200)
            end = start + rng.randrange(1, 12)
            free = all(end <= s or start >= e for s, e in held)
            assert spans.free(start, end) == free, (held, start, end)
            if free:
                spans.add(start, end)
                held.append((start, end))
        assert list(zip(spans.starts, spans.ends, strict=True)) == sorted(held)


class _Counted:
    """A compiled pattern that adds up the characters each of its searches may look at."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.looked = 0

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        self.looked += min(endpos, len(text)) - pos
        return self.pattern.search(text, pos, endpos)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        self.looked += len(text)
        return self.pattern.finditer(text)


@pytest.mark.parametrize(
    ("name", "finder", "text"),
    [
        ("_URL", identifiers._url_matches, "ftp " + "a//" * 20_000),  # "//" after "//" in one run, no URL
        ("_URL", identifiers._url_matches, "see http://" + "x//" * 20_000),
        ("_URL", identifiers._url_matches, "http://a.b/ " * 10_000),
        ("_EMAIL", identifiers._email_matches, "@" * 60_000),
        ("_EMAIL", identifiers._email_matches, "a@" * 30_000),
        ("_EMAIL", identifiers._email_matches, ("x" * 40 + "@") * 2_000),
        ("_EMAIL", identifiers._email_matches, "mail a@b.cd, " * 5_000),
    ],
)
def test_the_anchored_searches_look_at_each_character_a_bounded_number_of_times(
    name: str, finder: Callable[[str], Iterator[re.Match[str]]], text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile runs of anchors (thousands of "//" in one run of non-blank text, text made of "@"):
    the characters the pattern's searches may look at add up to a few times the text's length,
    never to the text's length for each anchor (the first version searched a URL's whole run
    again from each "//" of it: minutes for a text of 120 KB). Counted, not timed."""
    counted = _Counted(getattr(identifiers, name))
    monkeypatch.setattr(identifiers, name, counted)
    list(finder(text))
    assert counted.looked <= 80 * len(text), (counted.looked, len(text))
