"""The ``identifiers`` analyzer: validated identifiers in message bodies and web-history URLs/titles.

Runs after the file plugins, over the run's stored records of the ``chat`` and ``browser``
namespaces. The text it reads is a record's ``body`` (messages), ``url`` and ``title`` (visits);
other fields are not read. Candidates are found with loose patterns and kept only when their
validator (:mod:`plugins.indicator._validate`) accepts them:

* ``phone``: ``phonenumbers``' matcher at leniency VALID (a valid number for its region;
  numbers without ``+`` need the ``region`` option, e.g. ``US``); value E.164;
* ``email``: ``email-validator``, syntax only, nothing resolved; value lower-cased (as the links
  view compares e-mail addresses);
* ``url``: http(s)/ftp URLs, also defanged (``hxxp://x[.]com``); value re-fanged, scheme and host
  lower-cased; ``detail`` is ``defanged`` when it was; a visit's own ``url`` field is not
  reported again as an indicator (it is the record itself), only URLs inside text;
* ``bitcoin``: base58check and bech32/bech32m segwit addresses; value as written (base58) or
  lower-cased (segwit); ``detail`` the address type;
* ``ethereum``: ``0x`` + 40 hex; value the EIP-55 form; ``detail`` ``eip55`` or ``unchecked``;
* ``iban``: compact or in groups of four; value compact upper case; ``detail`` the country;
* ``card``: 12-19 digits, optionally grouped by spaces or dashes, Luhn and issuer range; value
  the digits; ``detail`` the network.

Each indicator keeps the raw text as found, a context snippet (up to 40 characters either side,
on one line), the field and character offset it was found at, and the provenance of the source
record (its record type, locator and plugin; its :class:`SourceRef` is the indicator's source).
One identifier found twice in the same field of one record is one indicator.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from plugins.indicator import _validate as validate
from triage.plugin import AnalysisContext, Analyzer, Option, Record, StoredRecord

__all__ = ["IdentifierFields", "IdentifiersAnalyzer", "Indicator", "find_identifiers", "snippet"]

#: Fields of a stored record that are searched, in this order.
TEXT_FIELDS = ("body", "title", "url")
CONTEXT = 40
MAX_TEXT = 1 << 20  # characters of one field searched (a giant body is cut, with a warning)


@dataclass(frozen=True, kw_only=True)
class IdentifierFields:
    """What every identifier record holds (the links view groups on ``kind`` and ``value``)."""

    kind: str  # phone, email, url, bitcoin, ethereum, iban, card
    value: str  # normalised form (the key links compare)
    raw: str  # the text as found
    detail: str | None = None  # address type, card network, IBAN country, "defanged"
    context: str = ""  # up to CONTEXT characters either side, on one line
    offset: int = 0  # where ``raw`` starts (each record class says in what)
    source_type: str = ""  # what it was found in (the links view's "app" comes from it)


@dataclass(frozen=True, kw_only=True)
class Indicator(IdentifierFields, Record):
    """A validated identifier found in the text of another record (``offset``: the character
    offset of ``raw`` in ``field``; ``source_type``: the record's type)."""

    record_type: ClassVar[str] = "indicator/identifier"

    field: str = ""  # body, title or url of the source record
    source_locator: str | None = None
    source_plugin: str = ""


@dataclass(frozen=True)
class Found:
    """One identifier in a text: kind, normalised value, raw text, detail, character span."""

    kind: str
    value: str
    raw: str
    detail: str | None
    start: int
    end: int


_URL = re.compile(
    r"(?<![\w.])(?:h[tx]{2}ps?|ftp|fxp)(?:://|\[:\]//|\[://\])[^\s<>\"'`]+",
    re.IGNORECASE,
)
# The local part as people write it (letters, digits, ``. _ % + ' -``): RFC 5322 also allows
# ``/ = ? ! # $ & * ^ { | } ~``, which in text are far more often the URL or markup around an
# address (``?to=ann@example.net`` is ``ann@example.net``, not ``?to=ann@...``).
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]{1,64}@[\w-]+(?:\.[\w-]+)+")
_BECH32 = re.compile(r"(?<![0-9A-Za-z])(?:bc|tb|BC|TB)1[02-9AC-HJ-NP-Zac-hj-np-z]{6,87}(?![0-9A-Za-z])")
# A base58 address, an Ethereum address and a card number start with a character of a small
# class; the character before it is tested by a two-character look-behind after it (the same
# test as a look-behind before it, which would make ``re`` try the pattern at every character
# instead of skipping to that class)
_BASE58 = re.compile(r"[123mn](?<![0-9A-Za-z][123mn])[1-9A-HJ-NP-Za-km-z]{24,34}(?![0-9A-Za-z])")
_ETH = re.compile(r"0(?<![0-9A-Za-z]0)[xX][0-9a-fA-F]{40}(?![0-9A-Za-z])")
_IBAN = re.compile(
    r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}(?:[ ]?[0-9A-Za-z]{4}){2,7}(?:[ ]?[0-9A-Za-z]{1,4})?(?![0-9A-Za-z])"
)
_CARD = re.compile(r"\d(?<![\d-]\d)(?:[ -]?\d){11,18}(?![\d])")
_DIGIT = re.compile(r"\d")
#: A plus sign with a digit after it. phonenumbers' candidates (its ``_PATTERN``) start with at
#: most two lead characters (an opening bracket or a plus), each followed by at most four
#: punctuation characters, and then a digit; a number parsed without a region must start with
#: its plus: so a digit follows such a plus within nine characters (fifteen allowed here).
_PLUS_DIGIT = re.compile(r"[+\uff0b](?=\D{0,15}\d)")  # the plus only: each one found on its own
_TRAILING = ".,;:!?)]}>'\""


# The searches' matches found from what every match holds, not by trying each pattern at every
# character of the text (Python's ``re`` tries a pattern that starts with a look-behind at each
# position in turn: most of the cost of searching real text). Each function yields exactly the
# matches of its pattern's ``finditer`` (the tests compare them on real and random text):
#
# * a URL holds "//" 4 to 8 characters after its start (scheme of 3-5 letters, then "://",
#   "[:]//" or "[://]") and ends where its tail ends (a blank, a quote, a backtick, < or >);
# * an e-mail address holds one "@", at most 64 characters after its start, and ends where the
#   word, dot and dash characters after the "@" end;
# * an IBAN has two letters then two digits at its start; a bech32 address "bc1"/"tb1" (either
#   case) at its start: each pattern is tried only there.
_URL_TAIL = re.compile(r"[^\s<>\"'`]*")  # the URL pattern's last run, from its "//"
_EMAIL_DOMAIN = re.compile(r"[\w.-]*")  # what the e-mail pattern's domain part is made of
# an IBAN's check digits: two letters before them (and no letter or digit before those), two
# groups of four after them (an optional space before each)
_IBAN_START = re.compile(r"\d(?<=[A-Za-z]{2}\d)(?<![0-9A-Za-z][A-Za-z]{2}\d)\d(?=(?:[ ]?[0-9A-Za-z]{4}){2})")
_BECH32_START = re.compile(r"1(?<=(?:bc|tb|BC|TB)1)")  # a bech32 address's separator "1"


def _run_end(run: re.Pattern[str], text: str, at: int) -> int:
    """Where ``run`` (a pattern that may match nothing) stops matching from ``at``."""
    m = run.match(text, at)
    return at if m is None else m.end()


def _url_matches(text: str) -> Iterator[re.Match[str]]:
    """``_URL.finditer(text)``, tried only before each "//" up to the end of its tail."""
    pos, find = 0, text.find
    at = find("//")
    while at >= 0:
        # The match ends by the tail's end, where the pattern stops anyway: ``endpos`` is exact.
        end = _run_end(_URL_TAIL, text, at)
        m = _URL.search(text, max(pos, at - 8), end)
        if m is None:
            # No URL starts before ``end`` (one starting there would run over the character that
            # ends the tail): the other "//" of this run are not tried again (each would search
            # the rest of the run: quadratic in a long run of them)
            pos = end
        else:
            yield m
            pos = m.end()
        at = find("//", pos)


_AUTHORITY_END = re.compile(r"[/?#\s]")


def _in_url_authority(text: str, at: int) -> bool:
    """Whether the "@" at ``at`` is in the authority of a URL (after ``://``, before its path):
    the user and password of ``http://user:pass@host/`` read as an e-mail address ``pass@host``."""
    before = text[max(0, at - 512) : at]
    scheme = before.rfind("://")
    return scheme >= 0 and _AUTHORITY_END.search(before, scheme + 3) is None


def _email_matches(text: str) -> Iterator[re.Match[str]]:
    """``_EMAIL.finditer(text)``, tried only in the 64 characters before each "@" (a match
    holds the first "@" after its start) up to the end of the domain characters after it. Text
    dense in "@" (more than one in 32 characters) is searched by the pattern's own pass, which
    costs less there than a search around each "@"."""
    if text.count("@") * 32 > len(text):
        yield from _EMAIL.finditer(text)
        return
    pos, find = 0, text.find
    at = find("@")
    while at >= 0:
        m = _EMAIL.search(text, max(pos, at - 64), _run_end(_EMAIL_DOMAIN, text, at + 1))
        if m is None:
            # no address starts at or before this "@" (one starting before it holds it): the next
            # window starts after it, not 64 characters before the next "@" again
            pos = max(pos, at + 1)
        else:
            yield m
            pos = m.end()
        at = find("@", max(pos, at + 1))


def _tried_at(pattern: re.Pattern[str], starts: Iterator[int], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` when every match starts at one of ``starts`` (ascending)."""
    pos = 0
    for start in starts:
        if start >= pos:
            m = pattern.match(text, start)
            if m is not None:
                yield m
                pos = m.end()


def _iban_matches(text: str, classes: bytes | None = None) -> Iterator[re.Match[str]]:
    """``_IBAN.finditer(text)``. With ``classes`` (an ASCII text's letters as ``a``, digits as
    ``0``, the rest ``.``: :class:`_Screen`), the starts are where two letters and two digits
    follow a character that is neither, found by a byte search (a regular-expression scan of
    text dense in digits cost ~10-15 ns a character)."""
    if classes is None:
        return _tried_at(_IBAN, (m.start() - 2 for m in _IBAN_START.finditer(text)), text)
    return _tried_at(_IBAN, _class_starts(classes, b"aa00"), text)


def _class_starts(classes: bytes, run: bytes) -> Iterator[int]:
    """Where ``run`` occurs in ``classes`` after a ``.`` (or at the start), in order."""
    find = classes.find
    at = find(run)
    while at >= 0:
        if at == 0 or classes[at - 1] == 0x2E:  # "."
            yield at
        at = find(run, at + 1)


def _bech32_matches(text: str) -> Iterator[re.Match[str]]:
    return _tried_at(_BECH32, (m.start() - 2 for m in _BECH32_START.finditer(text)), text)


def _trim_url(raw: str) -> str:
    """A URL candidate without the sentence punctuation that follows it (keeping balanced brackets)."""
    while raw and raw[-1] in _TRAILING:
        if raw[-1] == ")" and raw.count("(") >= raw.count(")"):
            break
        if raw[-1] == "]" and raw.count("[") >= raw.count("]"):
            break
        raw = raw[:-1]
    return raw


def _iban_at(text: str, match: re.Match[str]) -> tuple[str, str, int] | None:
    """The longest valid IBAN starting at ``match`` (the pattern may take a following word too)."""
    raw = match.group()
    while len(raw) >= 12:
        found = validate.iban(raw)
        if found is not None:
            return found[0], found[1], len(raw)
        cut = max(raw.rfind(" "), len(raw) - 1)
        raw = raw[:cut].rstrip()
    return None


_ASCII_CLASSES = (
    bytes(ord("0") if chr(b).isdigit() else ord("a") if chr(b).isalpha() else ord(".") for b in range(128))
    + b"." * 128
)  # an ASCII text's digits as 0, letters as a, anything else as .


@dataclass(frozen=True)
class _Screen:
    """What each search needs the text to hold before it can match at all, decided for ASCII
    text from a copy of it with every digit made ``0`` and every letter ``a`` (C-speed byte
    operations instead of a regular-expression pass per kind). Each test is a necessary
    condition of its pattern, so a search it skips could have found nothing; text that is not
    ASCII (where ``\\d`` and ``\\w`` also match other scripts' digits and letters) is searched
    by every pattern, as before. ``plus``: a plus sign with a digit after it (:data:`_PLUS_DIGIT`),
    without which the phone number search finds nothing unless a region is given. ``classes``:
    that copy, for ASCII text (where the IBAN search finds its starts)."""

    digits: int
    url: bool
    ethereum: bool
    bech32: bool
    base58: bool
    iban: bool
    card: bool
    plus: bool = True
    classes: bytes | None = None

    @classmethod
    def of(cls, text: str) -> _Screen:
        if not text.isascii():
            digits = len(_DIGIT.findall(text))
            return cls(
                digits,
                "//" in text,
                "0x" in text or "0X" in text,
                "1" in text,
                True,
                digits >= 2,
                digits >= 12,
                ("+" in text or "\uff0b" in text) and _PLUS_DIGIT.search(text) is not None,
            )
        raw = text.encode("ascii")
        classes = raw.translate(_ASCII_CLASSES)
        words = classes.replace(b"0", b"a")  # letters and digits alike
        lowered = raw.lower()
        digits = classes.count(b"0")
        return cls(
            digits=digits,
            # a scheme (h[tx]{2}ps?, ftp, fxp), then "//"
            url=b"//" in raw and any(s in lowered for s in (b"htt", b"htx", b"hxt", b"hxx", b"ftp", b"fxp")),
            ethereum=(b"0x" in lowered) and b"a" * 42 in words,  # 0x and 40 hex digits: 42 in a row
            bech32=(b"bc1" in lowered or b"tb1" in lowered) and b"a" * 9 in words,  # bc1 + at least 6
            base58=b"a" * 25 in words,  # 25 to 35 letters and digits in a row
            iban=digits >= 2 and b"aa00" in classes,  # a country code, then two check digits
            # 12 digits or more, at most one space or dash between two: without spaces and
            # dashes, 12 digits in a row
            card=digits >= 12 and b"0" * 12 in raw.translate(_ASCII_CLASSES, b" -"),
            plus=b"+" in raw and _PLUS_DIGIT.search(text) is not None,
            classes=classes,
        )


def find_identifiers(text: str, region: str | None = None) -> list[Found]:
    """Every validated identifier in ``text``, in order of position (spans never overlap)."""
    return _find(text, region, _Screen.of(text))


class _Spans:
    """Spans of a text that do not overlap, kept in order: whether a new one overlaps any is two
    binary searches, not a look at each (a text of thousands of identifiers)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []  # in the same order: spans that do not overlap end in order too

    def free(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` overlaps none: the last span starting before ``end`` is the
        one that ends last among those that could."""
        before = bisect_left(self.starts, end)
        return before == 0 or self.ends[before - 1] <= start

    def add(self, start: int, end: int) -> None:
        """Add a span that overlaps none held."""
        at = bisect_left(self.starts, start)
        self.starts.insert(at, start)
        self.ends.insert(at, end)


def _find(text: str, region: str | None, screen: _Screen | None) -> list[Found]:
    """:func:`find_identifiers`; ``screen`` ``None`` is the tests' reference: every search run,
    each pattern's own ``finditer``, and the phone matcher over the whole text (trying every
    candidate when there is no region)."""
    found: list[Found] = []
    taken = _Spans()
    urls = _Spans()

    def add(kind: str, value: str, start: int, end: int, detail: str | None) -> None:
        # Wallets, IBANs and e-mail addresses inside a URL count (a block explorer's address
        # page); digits inside a URL are not read as phone or card numbers.
        if kind == "url":
            urls.add(start, end)
        elif not taken.free(start, end) or (kind in ("phone", "card") and not urls.free(start, end)):
            return
        else:
            taken.add(start, end)
        found.append(Found(kind, value, text[start:end], detail, start, end))

    # Each search runs only where its pattern could match at all (_Screen: cheap tests of what
    # every match must contain): most message bodies and text files hold no identifier, and
    # eight regular-expression passes over each were most of the cost of finding none.
    quick = screen is not None  # the matches found from their anchors, not by every pattern's finditer
    if screen is None:
        screen = _Screen(len(_DIGIT.findall(text)), True, True, True, True, True, True)
    digits = screen.digits
    for m in (_url_matches(text) if quick else _URL.finditer(text)) if screen.url else ():
        raw = _trim_url(m.group())
        url = validate.url(raw)
        if url is not None:
            add("url", url[0], m.start(), m.start() + len(raw), "defanged" if url[1] else None)
    for m in _ETH.finditer(text) if screen.ethereum else ():
        eth = validate.ethereum(m.group())
        if eth is not None:
            add("ethereum", eth[0], m.start(), m.end(), eth[1])
    for m in (_bech32_matches(text) if quick else _BECH32.finditer(text)) if screen.bech32 else ():
        btc = validate.bitcoin(m.group())
        if btc is not None:
            add("bitcoin", btc[0], m.start(), m.end(), btc[1])
    for m in _BASE58.finditer(text) if screen.base58 else ():
        btc = validate.bitcoin(m.group())
        if btc is not None:
            add("bitcoin", btc[0], m.start(), m.end(), btc[1])
    for m in (_email_matches(text) if quick else _EMAIL.finditer(text)) if "@" in text else ():
        raw = m.group().rstrip(".-")
        if _in_url_authority(text, m.start() + raw.index("@")):
            continue  # http://user:password@host/: credentials and a host, not an address
        address = validate.email(raw)
        if address is not None:
            add("email", address.lower(), m.start(), m.start() + len(raw), None)
    for m in (_iban_matches(text, screen.classes) if quick else _IBAN.finditer(text)) if screen.iban else ():
        iban = _iban_at(text, m)
        if iban is not None:
            add("iban", iban[0], m.start(), m.start() + iban[2], iban[1])
    for m in _CARD.finditer(text) if screen.card else ():
        card = validate.card(m.group())
        if card is not None:
            add("card", card[0], m.start(), m.end(), card[1])
    # No valid number is shorter than 6 digits; and without a region only a number written with
    # a plus sign can be parsed (phonenumbers then requires one of its plus characters, "+" or the
    # full-width "＋", at the start of the candidate, and a digit soon after: _PLUS_DIGIT). The
    # matcher is the slow part.
    if digits >= 6 and (region is not None or screen.plus):
        for start, end, e164 in _phone_numbers(text, region, quick):
            add("phone", e164, start, end, None)
    found.sort(key=lambda f: (f.start, f.kind))
    return found


#: A character outside every class and literal of phonenumbers' candidate pattern (digits, its
#: leads and punctuation, the extension words' letters: "ext", "int", "anexo", "доб"; read
#: without regard to case, as phonenumbers compiles it; a test compares the two over every code
#: point): no candidate runs across one.
_PHONE_STOP = re.compile(
    "[^\\d\t #(),+\\-./:;=\\[\\]~aeinostx\xa0\xad\u00f3\u0301\u0431\u0434\u043e\u200b\u2010-\u2015"
    "\u2053\u2060\u2212\u223c\u3000\u30fc\uff03\uff08\uff09\uff0b\uff0d-\uff0f\uff3b\uff3d"
    "\uff45\uff49\uff4e\uff54\uff58\uff5e]",
    re.IGNORECASE,
)
_PHONE_TRIES = 1000  # invalid candidates phonenumbers tries in one text (or one window) before it gives up


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """The parts of ``text`` where a number written with a plus can be, in order, apart: for each
    run of characters between two that stop every candidate (:data:`_PHONE_STOP`) that holds a
    plus with a digit after it, from 5 characters before its first such plus (a candidate's
    leads: at most two, each followed by at most four punctuation characters), or from the
    run's start, to the stop character that ends the run, included (the matcher reads the
    character after a number: a letter there means no number), or the end."""
    windows: list[tuple[int, int]] = []
    stop_at = -1  # where the last window's run ends
    for m in _PLUS_DIGIT.finditer(text):
        at = m.start()
        if at < stop_at:
            continue  # in the last window's run
        start = max(at - 5, stop_at + 1)
        stop = _PHONE_STOP.search(text, at)
        stop_at = len(text) if stop is None else stop.start()
        windows.append((start, min(stop_at + 1, len(text))))
    return windows


def _phone_numbers(text: str, region: str | None, quick: bool) -> Iterator[tuple[int, int, str]]:
    """Start, end and E.164 form of each number phonenumbers' matcher finds in ``text`` (leniency
    VALID). Without a region and with ``quick``, only the windows where a number written with a
    plus can be are searched (:func:`_phone_windows`): the matcher finds the same numbers
    there, since no candidate crosses a window's edges, without trying the text's other digit
    runs, which cannot be parsed without a region; and its budget of invalid candidates
    (:data:`_PHONE_TRIES`) is each window's, so a number is missed only when a thousand
    invalid candidates precede it in its own window (its run of the characters a candidate may
    hold: a long list of numbers on one line; the budget bounds the time such text takes), not
    when they precede it anywhere in the text, as before. Without
    ``quick`` (the tests' reference) the whole text is searched, every candidate tried when
    there is no region. With a region every digit run is a candidate: the whole text is
    searched, a thousand invalid candidates at most."""
    import phonenumbers  # here: only text that may hold a number needs it (docs/plugins.md)

    leniency = phonenumbers.Leniency.VALID
    e164 = phonenumbers.PhoneNumberFormat.E164
    windows = _phone_windows(text) if region is None and quick else [(0, len(text))]
    tries = 1 << 62 if region is None and not quick else _PHONE_TRIES  # the reference tries all
    for lo, hi in windows:
        part = text if (lo, hi) == (0, len(text)) else text[lo:hi]
        for pm in phonenumbers.PhoneNumberMatcher(part, region, leniency=leniency, max_tries=tries):
            yield lo + pm.start, lo + pm.end, phonenumbers.format_number(pm.number, e164)


def snippet(text: str, start: int, end: int) -> str:
    """The context of ``text[start:end]``: up to CONTEXT characters either side, on one line."""
    left = max(0, start - CONTEXT)
    right = min(len(text), end + CONTEXT)
    snippet = ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
    return " ".join(snippet.split())


class IdentifiersAnalyzer(Analyzer):
    """Reads the run's chat and browser records (``body``, ``title``, ``url``) and emits one
    :class:`Indicator` per validated phone number, e-mail address, URL, Bitcoin or Ethereum
    address, IBAN or payment card found in them (see the module docstring for each check)."""

    name = "identifiers"
    version = "1.0.0"
    requires = ("phonenumbers",)  # imported where used: docs/plugins.md, "Heavy libraries"
    independent = True  # each record searched on its own (a large run's records are split)
    description = (
        "validated phone numbers, e-mails, URLs, wallets, IBANs and cards in messages and web history"
    )
    reads = ("chat", "browser")
    emits = (Indicator,)
    options = (
        Option(
            "region",
            "region",
            "two-letter country of numbers written without +, e.g. US (default: only +numbers)",
        ),
    )

    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        region = ctx.options.get("region") or None  # checked and upper-cased before the run (Option kind)
        for record in records:
            for field in TEXT_FIELDS:
                text = record.data.get(field)
                if not isinstance(text, str) or not text:
                    continue
                if len(text) > MAX_TEXT:
                    ctx.warn(
                        f"{field} of {len(text)} characters: only the first {MAX_TEXT} searched",
                        path=record.source.path,
                        locator=record.locator,
                    )
                    text = text[:MAX_TEXT]
                seen: set[tuple[str, str]] = set()
                for f in find_identifiers(text, region):
                    if field == "url" and f.kind == "url" and f.start == 0 and f.end == len(text):
                        continue  # the visited URL itself
                    if (f.kind, f.value) in seen:
                        continue
                    seen.add((f.kind, f.value))
                    yield Indicator(
                        source=record.source,
                        locator=f"{record.locator or ''}#{field}@{f.start}",
                        kind=f.kind,
                        value=f.value,
                        raw=f.raw,
                        detail=f.detail,
                        context=snippet(text, f.start, f.end),
                        field=field,
                        offset=f.start,
                        source_type=record.record_type,
                        source_locator=record.locator,
                        source_plugin=record.plugin,
                    )
