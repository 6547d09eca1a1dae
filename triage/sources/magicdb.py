"""libmagic's answer for a file's first bytes, without running the rules that cannot match them.

Why: libmagic tries its ~3,500 binary rules one after the other and stops at the first that
matches. Content that matches none of them (compressed, encrypted or random-looking data: much of
a disk) is tested against every rule, about 400 µs a file here; for 50,000 such files that is more
CPU time than reading and hashing all of them (docs/performance.md, triage benchmark). Yet about
3,000 of those rules begin with a plain comparison, "these bytes at this offset". When a file's
bytes at those offsets are none of the values those rules expect, none of them can match, and
libmagic's first-match answer is decided by the other rules alone, in the same order.

So, once per process:

1. read the compiled database libmagic loads (``magic.mgc``, format version 18 of file 5.4x);
2. sort the binary rules into *plain* ones, whose first test is "bytes (or an integer, at most
   AND-masked) at a fixed offset" or "a literal searched for in a range", and the rest; index
   the plain first tests by a byte position each one fixes, or narrows to a few values (a string
   compared without case or with loose blanks, by the part compared exactly or both cases of its
   first letter; an integer whose mask covers no whole byte, by the byte it covers most);
3. keep the compiled rules ready to be loaded into libmagic from memory (``magic_load_buffers``).

Then for each head (:func:`sniff`): find the plain rules whose first test matches the head
(usually none), load libmagic, once per distinct set, with the other rules plus those, in the
original order, and the named rules they use, and ask it for the type and the charset in one
call. A rule that may match and can re-run the whole database (``indirect``) sends the head to
the full libmagic. Nothing is guessed or re-implemented but one thing, "can this first test match
these bytes": libmagic remains the judge of every answer.

Text (a charset other than ``binary``) goes through ~400 more rules, which libmagic tries on a
converted copy of the bytes (1-1.5 ms a head, mostly ``search`` and ``regex`` tests scanning the
head). For ASCII and UTF-8 heads without a byte-order mark that copy is a prefix of the head, and
almost every text rule's first test needs a literal there (a string's prefix at its offset, or
its longest run between blanks when blanks are compacted; a search's within its range; literals
one of which every match of a regex holds: ``_regex_literals``). One database per process holds
the rules that text heads often may match (:class:`_TextTier`); a head in which no literal of
another rule occurs is answered from it (the rules left out cannot match), any other text by a
database of every text rule and the binary rules it may match (``_Sniffer.every_text``). A head
whose bytes can only be ASCII or UTF-8 text is asked of the tier first: its answer carries the
charset, which libmagic finds without its rules, and stands when that is ASCII or UTF-8
(otherwise the binary rules' database answers, as for any other head).

Whenever the database is not one this module understands (another format version, local rules in
``/etc/magic``, a ``$MAGIC`` it cannot read), or ``$EXHIBIT_PLAIN_LIBMAGIC`` is set, the full
libmagic answers everything. tests/triage/test_magicdb.py compares both on thousands of real files,
random data and cut-off signatures.
"""

from __future__ import annotations

import bisect
import codecs
import ctypes
import itertools
import operator
import os
import re
import struct
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import magic

ENTRY_SIZE = 376  # sizeof(struct magic) for database version 18
MAGIC_NUMBER = 0xF11E041C
VERSION = 18

# struct magic (file.h of file 5.4x): the fields this module reads, at these byte offsets
_HEAD = struct.Struct("<HBBBBBBBBBBiiI")  # cont_level ... lineno: 28 bytes
_MASK = struct.Struct("<Q")  # union _u at 24: numeric mask (or string count/flags)
_STR_FLAGS = struct.Struct("<I")  # _u._s._flags at 28
_VALUE_AT = 32

# flag bits of struct magic
_INDIR, _OFFADD, _INDIROFFADD, _UNSIGNED, _NOSPACE, _BINTEST, _TEXTTEST, _OFFNEGATIVE = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80,
)  # fmt: skip
# nothing that moves or redirects the offset (TEXTTEST only adds text content, which never gets here)
_PLAIN_FLAGS = _BINTEST | _TEXTTEST | _UNSIGNED | _NOSPACE
_STRING_BINTEST = 0x40  # str_flags: "binary test" marker, compared byte for byte

_FILE_STRING = 5
_FILE_SEARCH = 20
# str_flags a search rule may carry and still be screened by its literal prefix: W, w, c, C, s and the
# text/binary markers. W/w (whitespace) and c/C (case) change how some pattern bytes compare; the
# bytes before the first such byte compare exactly, so they must appear where the match starts.
_W, _w, _c, _C, _s = 0x01, 0x02, 0x04, 0x08, 0x10
_SEARCH_FLAGS = _W | _w | _c | _C | _s | 0x20 | _STRING_BINTEST
#: integer types: byte width and byte order (None: the host's)
Order = Literal["little", "big"]
_INTEGERS: dict[int, tuple[int, Order | None]] = {
    1: (1, None),  # byte
    2: (2, None),  # short
    4: (4, None),  # long
    24: (8, None),  # quad
    7: (2, "big"),  # beshort
    8: (4, "big"),  # belong
    26: (8, "big"),  # bequad
    10: (2, "little"),  # leshort
    11: (4, "little"),  # lelong
    25: (8, "little"),  # lequad
}
_FILE_OPAND = 0

MAGIC_MIME_TYPE = 0x10
_UTF8 = codecs.getincrementaldecoder("utf-8")
MAGIC_MIME_ENCODING = 0x400
MAGIC_NO_CHECK_TEXT = 0x20000
MAGIC_NO_CHECK_ENCODING = 0x200000


#: A plain first test: (rule, offset, expected bytes) or (rule, offset, width, byte order, mask, expected),
#: ``rule`` being the index of the rule's first entry in the database.
Check = tuple[int, int, bytes] | tuple[int, int, int, Order, int, int]
_Test = tuple[int, bytes] | tuple[int, int, Order, int, int]  # a Check without its rule
#: A kept rule that can reach an ``indirect`` test: (offset, width, byte order, mask, upper bound), for
#: a first test "unsigned integer & mask < bound"; such a rule may match only when that holds.
Guard = tuple[int, int, Order, int, int]
_FILE_INDIRECT = 41
_NOTHING: tuple[None, ...] = (None,) * 256  # the table for the spare byte: no checks
_FILE_NAME = 45
_FILE_USE = 46


@dataclass
class Split:
    """A compiled database sorted into plain first tests (checked here) and the other rules.

    ``index`` holds every plain test under one byte position it fixes completely: position ->
    byte value there -> the tests wanting that value. A head is looked at in about 120 places
    instead of being tested against 3,000 rules.
    """

    data: bytes  # the whole database, as libmagic loads it
    index: list[tuple[int, dict[int, list[Check]]]]
    #: rule, offset, places a match may start at from the offset (0: any, to the end; _starts),
    #: literal prefix
    searches: list[tuple[int, int, int, bytes]]
    kept: list[int]  # entries of the rules that are not plain (every reduced database has them)
    guards: list[Guard]  # kept rules that can run ``indirect``: when one may match, use the full database
    spans: dict[int, int]  # plain rule -> end of its entries
    reentrant: frozenset[int]  # plain rules that can run ``indirect`` (all rules again, elsewhere)
    names: dict[bytes, tuple[int, int]]  # named rule -> its entries
    uses: dict[int, frozenset[bytes]]  # rule -> the named rules it needs, directly or not
    plain_rules: int
    kept_rules: int
    text_rules: int  # libmagic tries them on text only (the converted copy): see ``text_screens``
    #: text rules whose first test can be screened: (rule, offset, places, literal, ignore case);
    #: places the literal may start at from the offset: 1 means "at the offset" (a string), 0
    #: "anywhere after it" (a regex), else a search's (_starts)
    text_screens: list[tuple[int, int, int, bytes, bool]] = field(default_factory=list)
    text_kept: list[int] = field(default_factory=list)  # text rules always given to libmagic
    text_ok: bool = False  # text heads may be answered from reduced databases
    #: reentrant rule -> the ways into its ``indirect``: for each entry that runs it (directly or
    #: through a named rule), the plain tests of its ancestors (levels 1 and deeper) that must all
    #: match for libmagic to reach it (:meth:`may_reenter`); rules with an unscreened way are not here
    reach: dict[int, list[list[Check]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the index as parallel sequences (position; 256-slot table of checks) for the hot loop
        self._positions = [position for position, _ in self.index]
        self._tables = [tuple(table.get(b) for b in range(256)) for _, table in self.index]
        self._fetchers: dict[int, tuple[tuple[tuple[list[Check] | None, ...], ...], Any]] = {}
        # the kept rules' entries, in order, as one block (``kept`` is sorted)
        self._kept_bytes = b"".join(self.data[ENTRY_SIZE * (1 + k) : ENTRY_SIZE * (2 + k)] for k in self.kept)
        self._at_start: dict[int, list[tuple[bytes, bool, list[int]]]] | None = None
        self._elsewhere: list[tuple[int, int, bytes, bool, list[int]]] = []
        # each search's literal, looked for by the compiled pattern of the literal when it is
        # short (the regex engine's scan beats bytes.find's on two to four bytes: "<!" over
        # 4 KB of random data 1.3 against 3.4 µs), else by bytes.find
        self._search_plan = [
            (rule, offset, span, prefix, re.compile(re.escape(prefix)).search if len(prefix) <= 4 else None)
            for rule, offset, span, prefix in self.searches
        ]
        self._scanner, self._rules = _scanner(self._positions, self.index, self.searches)
        #: every text rule (those always given to libmagic and the screened ones)
        self.text_all = frozenset(self.text_kept).union(rule for rule, *_ in self.text_screens)

    def matching(self, head: bytes) -> list[int] | None:
        """The plain rules whose first test matches ``head`` (the others cannot match it at all),
        or ``None`` when only the full database can answer (a guard holds)."""
        n = len(head)
        for offset, width, order, mask, bound in self.guards:
            if offset + width <= n and int.from_bytes(head[offset : offset + width], order) & mask < bound:
                return None
        if self._scanner is not None:
            return self._scanned(head, n)
        found: list[int] = []
        # the head's bytes at every indexed position it has, fetched in one C call
        count = bisect.bisect_left(self._positions, n)
        if count:
            cached = self._fetchers.get(count)
            if cached is None:  # itemgetter of one item returns it bare: fetch a spare last byte too
                cached = self._fetchers[count] = (
                    (*self._tables[:count], _NOTHING),
                    operator.itemgetter(*self._positions[:count], -1),
                )
            tables, fetch = cached
            for table, byte in zip(tables, fetch(head), strict=True):
                checks = table[byte]
                if checks:
                    found.extend(check[0] for check in checks if _holds(check, head, n))
        for rule, offset, span, prefix, search in self._search_plan:
            # libmagic tries each start in [offset, offset + span); a match begins with ``prefix``
            end = offset + span - 1 + len(prefix) if span else n
            if offset < n and (search(head, offset, end) if search else head.find(prefix, offset, end) != -1):
                found.append(rule)
        return found

    def matched(self, head: bytes) -> tuple[int, ...] | None:
        """:meth:`matching` as a sorted tuple of distinct rules (what a handle is keyed by): in
        one C call (the look-ups and each hit's check) when the C module has the checks."""
        n = len(head)
        for offset, width, order, mask, bound in self.guards:
            if offset + width <= n and int.from_bytes(head[offset : offset + width], order) & mask < bound:
                return None
        if self._rules is not None:
            return self._rules(head)
        found = self.matching(head)
        return None if found is None else tuple(sorted(set(found)))

    def _scanned(self, head: bytes, n: int) -> list[int]:
        """:meth:`matching` past its guards, the look-ups done by :mod:`triage.sources._magicscan`
        (the same rules in the same order); each hit's checks are made here."""
        found: list[int] = []
        tables = self._tables
        plan = self._search_plan
        for hit in self._scanner.scan(head):
            if hit < 0:
                found.append(plan[~hit][0])
                continue
            found.extend(check[0] for check in tables[hit >> 8][hit & 255] if _holds(check, head, n))
        return found

    def may_reenter(self, rules: Iterable[int], head: bytes) -> bool:
        """Whether libmagic may run ``indirect`` on ``head`` for one of ``rules`` (reentrant
        rules whose first test matched it): then only the full database answers alike.

        libmagic tests an entry of level L only after the last entry of level L - 1 before it
        matched, so an ``indirect`` is reached only if every ancestor's test matches. A way in
        whose plain ancestor tests (:data:`reach`) do not all hold cannot be taken, and a rule
        none of whose ways can be is an ordinary rule for this head: the reduced database that
        holds it gives libmagic's answer (random data matches ``0 byte 0`` of MacBinary's rule
        one time in 256; the tests below it then fail: 0.7 % of the heads of random files went
        to the full database, 0.2-0.6 ms each against ~0.05 ms).
        """
        n = len(head)
        for rule in rules:
            ways = self.reach.get(rule)
            if ways is None or any(all(_holds(check, head, n) for check in way) for way in ways):
                return True
        return False

    def text_matching(self, text: bytes) -> list[int]:
        """The text rules libmagic may match on its converted copy ``text`` of a text head: those
        whose first test cannot be screened, and those whose literal is where the test looks."""
        if self._at_start is None:
            self._group_text_screens()
        found = list(self.text_kept)
        if not text:
            return found
        lowered = text.lower()  # ASCII only, as the C library's tolower in libmagic's locale
        n = len(text)
        # literals at offset 0, filed under their first byte (either case's, for a case-free one)
        for literal, icase, rules in self._at_start.get(text[0], ()):  # type: ignore[union-attr]
            if (lowered if icase else text).startswith(literal):
                found.extend(rules)
        for offset, span, literal, icase, rules in self._elsewhere:
            if offset >= n:
                continue
            hay = lowered if icase else text
            if span == 1:
                if hay.startswith(literal, offset):
                    found.extend(rules)
            else:
                end = offset + span - 1 + len(literal) if span else n
                if hay.find(literal, offset, end) != -1:
                    found.extend(rules)
        return found

    def _group_text_screens(self) -> None:
        """``text_screens`` grouped: one check per distinct literal and place, and the literals
        compared at offset 0 filed by first byte."""
        grouped: dict[tuple[int, int, bytes, bool], list[int]] = {}
        for rule, offset, span, literal, icase in self.text_screens:
            grouped.setdefault((offset, span, literal, icase), []).append(rule)
        at_start: dict[int, list[tuple[bytes, bool, list[int]]]] = {}
        elsewhere: list[tuple[int, int, bytes, bool, list[int]]] = []
        for (offset, span, literal, icase), rules in grouped.items():
            if offset == 0 and span == 1:
                firsts = {literal[0], literal[:1].upper()[0]} if icase else {literal[0]}
                for first in firsts:
                    at_start.setdefault(first, []).append((literal, icase, rules))
            else:
                elsewhere.append((offset, span, literal, icase, rules))
        self._elsewhere = elsewhere
        self._at_start = at_start

    def database(self, rules: tuple[int, ...] = ()) -> bytes:
        """A compiled database: the kept rules plus ``rules`` in their original order, and the
        named rules they need. Built from whole blocks (this runs for every new set of rules)."""
        pieces = []
        done = 0  # kept entries placed so far
        count = len(self.kept)
        for rule in sorted(rules):
            upto = bisect.bisect_left(self.kept, rule)
            pieces.append(self._kept_bytes[ENTRY_SIZE * done : ENTRY_SIZE * upto])
            pieces.append(self.data[ENTRY_SIZE * (1 + rule) : ENTRY_SIZE * (1 + self.spans[rule])])
            count += self.spans[rule] - rule
            done = upto
        pieces.append(self._kept_bytes[ENTRY_SIZE * done :])
        needed = self.uses[-1].union(*(self.uses[r] for r in rules))
        named = sorted(k for name in needed for k in range(*self.names[name]))
        header = bytearray(self.data[:ENTRY_SIZE])
        struct.pack_into("<II", header, 8, count, len(named))
        return b"".join(
            [header, *pieces, *(self.data[ENTRY_SIZE * (1 + k) : ENTRY_SIZE * (2 + k)] for k in named)]
        )


def _holds(check: Check, head: bytes, n: int) -> bool:
    """Whether ``head`` (of length ``n``) passes an indexed rule's check (:data:`Check`)."""
    if len(check) == 3:
        return head.startswith(check[2], check[1])
    _rule, offset, width, order, mask, want = check
    return offset + width <= n and int.from_bytes(head[offset : offset + width], order) & mask == want


def _scanner(
    positions: list[int],
    index: list[tuple[int, dict[int, list[Check]]]],
    searches: list[tuple[int, int, int, bytes]],
) -> tuple[Any, Any]:
    """The C look-ups of :meth:`Split.matching` and the C version of :meth:`Split.matched` (its
    ``rules``), or ``None`` for either without :func:`_c_module` (the Python loop gives the same
    rules) or, for ``rules``, when a check does not fit it."""
    c = _c_module()
    if c is None:
        return None, None
    flags = bytearray(256 * len(index))
    slots: list[list[tuple[Any, ...] | None]] = []  # each flagged slot's checks, in slot order, for rules()
    for i, (_, table) in enumerate(index):
        for byte in sorted(table):
            if table[byte]:
                flags[256 * i + byte] = 1
                slots.append([_c_check(check) for check in table[byte]])
    literals = [(offset, span, prefix) for _, offset, span, prefix in searches]
    if any(None in slot for slot in slots):  # a check the C code cannot make: scan() only
        return c.Scanner(positions, bytes(flags), literals), None
    scanner = c.Scanner(positions, bytes(flags), literals, slots, [rule for rule, *_ in searches])
    return scanner, scanner.rules


def _c_check(check: Check) -> tuple[Any, ...] | None:
    """``check`` as :meth:`triage.sources._magicscan.Scanner.rules` takes it (the byte order as
    "big"), or ``None`` if its integer does not fit 64 bits."""
    if len(check) == 3:
        return check if check[2] else None
    rule, offset, width, order, mask, want = check
    if not (1 <= width <= 8 and 0 <= mask < 1 << 64 and 0 <= want < 1 << 64 and offset >= 0):
        return None
    return (rule, offset, width, order == "big", mask, want)


def _c_module() -> Any:
    """:mod:`triage.sources._magicscan`, or ``None`` when it is not built or
    ``$EXHIBIT_MAGICSCAN_OFF`` is set (then the Python versions of its look-ups run; the tests
    compare the two)."""
    if os.environ.get("EXHIBIT_MAGICSCAN_OFF"):
        return None
    try:
        from triage.sources import _magicscan
    except ImportError:
        return None
    return _magicscan


def database_path() -> Path | None:
    """The compiled database libmagic loads by default, if that is all it loads; else ``None``."""
    lib = magic.libmagic
    lib.magic_getpath.restype = ctypes.c_char_p
    lib.magic_getpath.argtypes = [ctypes.c_char_p, ctypes.c_int]
    raw = lib.magic_getpath(None, 0)
    if not raw:
        return None
    compiled: list[Path] = []
    for part in os.fsdecode(raw).split(":"):
        if not part:
            continue
        p = Path(part)
        mgc = p if p.suffix == ".mgc" else Path(part + ".mgc")
        if mgc.is_file():
            compiled.append(mgc)
        elif p.is_file():
            try:
                text = p.read_text("latin-1")
            except OSError:
                return None
            if any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
                return None  # local rules in source form: evaluated before the database
        elif p.is_dir():
            return None  # a folder of source files
    return compiled[0] if len(compiled) == 1 else None


def split_database(data: bytes) -> Split | None:
    """Split a compiled database (version 18, little-endian host); ``None`` if that is not safe."""
    if len(data) < 2 * ENTRY_SIZE or len(data) % ENTRY_SIZE or sys.byteorder != "little":
        return None
    magic_no, version, n_binary, n_named = struct.unpack_from("<4I", data, 0)
    if magic_no != MAGIC_NUMBER or version != VERSION or n_binary + n_named != len(data) // ENTRY_SIZE - 1:
        return None

    def kind(k: int) -> int:
        return data[ENTRY_SIZE * (1 + k) + 6]  # struct magic.type

    def value(k: int) -> bytes:
        at = ENTRY_SIZE * (1 + k) + _VALUE_AT
        return data[at : at + 128].split(b"\0", 1)[0]

    def used(start: int, end: int) -> set[bytes]:  # "use ^name" flips the byte order of "name"
        return {value(k).lstrip(b"^") for k in range(start, end) if kind(k) == _FILE_USE}

    # named rules (set 1): name -> entries, the names each one uses, and whether it runs "indirect"
    names: dict[bytes, tuple[int, int]] = {}
    for start, end in _rules(data, n_binary, n_binary + n_named):
        if kind(start) != _FILE_NAME:
            return None
        names[value(start)] = (start, end)
    calls = {name: used(*span) for name, span in names.items()}
    indirect = {name for name, (a, b) in names.items() if any(kind(k) == _FILE_INDIRECT for k in range(a, b))}

    def closure(start_names: set[bytes]) -> frozenset[bytes] | None:
        seen: set[bytes] = set()
        todo = list(start_names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            if name not in names:
                return None  # a name this parser cannot find: do not guess
            seen.add(name)
            todo.extend(calls[name])
        return frozenset(seen)

    index: dict[int, dict[int, list[Check]]] = {}
    searches: list[tuple[int, int, int, bytes]] = []
    kept: list[int] = []
    guards: list[Guard] = []
    spans: dict[int, int] = {}
    reentrant: set[int] = set()
    reach: dict[int, list[list[Check]]] = {}
    uses: dict[int, frozenset[bytes]] = {}

    def reenters(k: int) -> bool:  # an "indirect", or a "use" of named rules that run one (or may)
        if kind(k) == _FILE_INDIRECT:
            return True
        if kind(k) != _FILE_USE:
            return False
        needs = closure({value(k).lstrip(b"^")})
        return needs is None or bool(needs & indirect)

    kept_names: set[bytes] = set()
    plain_rules = kept_rules = text_only = 0
    text_screens: list[tuple[int, int, int, bytes, bool]] = []
    text_kept: list[int] = []
    text_ok = True
    for start, end in _rules(data, 0, n_binary):
        at = ENTRY_SIZE * (1 + start)
        if not data[at + 2] & _BINTEST:
            # tried on text only, on libmagic's converted copy: given to a text head's database
            # when its first test may match that copy, or always when it cannot be screened
            text_only += 1
            needs = closure(used(start, end))
            if needs is None:
                return None
            spans[start] = end
            uses[start] = needs
            if any(kind(k) == _FILE_INDIRECT for k in range(start, end)) or needs & indirect:
                reentrant.add(start)
                text_ok = False  # never the case in Debian's database; then text goes to the full one
            screens = _text_screens(data, at)
            if not screens:
                text_kept.append(start)
            else:  # the rule may match only if one of its screens' literals is there
                text_screens.extend((start, *screen) for screen in screens)
            continue
        needs = closure(used(start, end))
        if needs is None:
            return None
        runs_indirect = any(kind(k) == _FILE_INDIRECT for k in range(start, end)) or bool(needs & indirect)
        search = _search_check(data, at)
        placed = None if search is not None else _plain_check(data, at)
        if search is None and placed is None:
            if runs_indirect:  # it would run every rule again at another offset: guard it
                guard = _guard(data, at)
                if guard is None:
                    return None
                guards.append(guard)
            kept.extend(range(start, end))
            kept_names |= needs
            kept_rules += 1
            continue
        plain_rules += 1
        spans[start] = end
        uses[start] = needs
        if runs_indirect:
            reentrant.add(start)
            ways = _ways_in(data, start, end, reenters)
            if ways:  # (every such rule has a way in; none found: left to the full database)
                reach[start] = ways
        if search is not None:
            searches.append((start, *search))
        else:
            position, values, check = placed  # type: ignore[misc]
            for byte in values:
                index.setdefault(position, {}).setdefault(byte, []).append((start, *check))
    uses[-1] = frozenset(kept_names)
    return Split(
        data=data,
        index=sorted(index.items()),
        searches=searches,
        kept=kept,
        guards=guards,
        spans=spans,
        reentrant=frozenset(reentrant),
        reach=reach,
        names=names,
        uses=uses,
        plain_rules=plain_rules,
        kept_rules=kept_rules,
        text_rules=text_only,
        text_screens=text_screens,
        text_kept=text_kept,
        text_ok=text_ok,
    )


def _rules(data: bytes, first: int, stop: int) -> list[tuple[int, int]]:
    """(first entry, end) of each rule among entries [first, stop): a top-level line and the
    continuation lines after it."""
    rules = []
    i = first
    while i < stop:
        start = i
        i += 1
        while i < stop and _HEAD.unpack_from(data, ENTRY_SIZE * (1 + i))[0] != 0:
            i += 1
        rules.append((start, i))
    return rules


def _guard(data: bytes, at: int) -> Guard | None:
    """The first test of a kept rule as "unsigned integer & mask < bound", if it is one."""
    cont, flag, _factor, reln, _vallen, typ, _in_type, _in_op, mask_op, cond, _fop, offset, _in_off, _line = (
        _HEAD.unpack_from(data, at)
    )
    if cont or flag & ~_PLAIN_FLAGS or not flag & _UNSIGNED or reln != ord("<") or cond or offset < 0:
        return None
    if typ not in _INTEGERS or mask_op != _FILE_OPAND:
        return None
    width, order = _INTEGERS[typ]
    full = (1 << (8 * width)) - 1
    bound = int.from_bytes(data[at + _VALUE_AT : at + _VALUE_AT + 8], "little")
    if bound > full >> 1:
        return None  # libmagic sign-extends before comparing: only small bounds compare alike
    mask = _MASK.unpack_from(data, at + 24)[0] & full or full
    return offset, width, order or sys.byteorder, mask, bound


def _ways_in(data: bytes, start: int, end: int, runs: Callable[[int], bool]) -> list[list[Check]] | None:
    """For each entry of the rule ``start``..``end`` that ``runs`` ``indirect``, the plain tests of
    its ancestors below the first test (each a necessary condition: :func:`_plain_check` of the
    entry as if it were a first test), as ``Check`` s of the rule; ``None`` when a way has none."""
    ways: list[list[Check]] = []
    for k in range(start + 1, end):
        if not runs(k):
            continue
        level = _HEAD.unpack_from(data, ENTRY_SIZE * (1 + k))[0]
        checks: list[Check] = []
        for j in range(k - 1, start, -1):  # the last entry of each level above k's is its ancestor
            at = ENTRY_SIZE * (1 + j)
            cont = _HEAD.unpack_from(data, at)[0]
            if cont != level - 1:
                continue
            level = cont
            placed = _plain_check(data, at, top=False)
            if placed is not None:
                checks.append(cast(Check, (start, *placed[2])))
        if not checks:
            return None
        ways.append(checks)
    return ways


def _search_check(data: bytes, at: int) -> tuple[int, int, bytes] | None:
    """(offset, range, literal prefix) of a top-level ``search`` test, or ``None``."""
    cont, flag, _factor, reln, vallen, typ, _in_type, _in_op, _mask_op, cond, _fop, offset, _in_off, _line = (
        _HEAD.unpack_from(data, at)
    )
    if typ != _FILE_SEARCH or cont != 0 or flag & ~_PLAIN_FLAGS or not flag & _BINTEST:
        return None
    if reln != ord("=") or cond or offset < 0 or not 0 < vallen <= 128:
        return None
    span, str_flags = struct.unpack_from("<II", data, at + 24)
    if str_flags & ~_SEARCH_FLAGS:
        return None
    pattern = data[at + _VALUE_AT : at + _VALUE_AT + vallen]
    span = _starts(span, str_flags)
    if not str_flags & (_W | _w | _c | _C):
        return offset, span, pattern  # compared byte for byte: the whole pattern
    prefix = bytearray()
    for byte in pattern:
        if byte >= 0x80:
            break  # the C library's idea of case and space beyond ASCII depends on the locale
        if str_flags & (_W | _w) and byte in _BLANKS:
            break
        if str_flags & (_c | _C) and (0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A):
            break
        prefix.append(byte)
    return (offset, span, bytes(prefix)) if prefix else None


_FILE_REGEX = 17
#: flags a text rule's first test may carry and still be screened by a literal: the whitespace and
#: case flags (handled as in ``_search_check``), s, the text/binary markers, and f (full word),
#: which only adds a condition
_TEXT_FLAGS = _W | _w | _c | _C | _s | 0x20 | _STRING_BINTEST | 0x4000
_REGEX_FLAGS = _c | _C | _s | 0x20 | _STRING_BINTEST | 0x800  # 0x800: the range counts lines
_BLANKS = b" \t\n\v\f\r"  # what the whitespace flags W and w treat as blanks (isspace)
_BOUND = re.compile(rb"\{([0-9]*)(,[0-9]*)?\}")  # a regex's bound: {m}, {m,}, {m,n}
_FOLDED_BEYOND_ASCII = frozenset(b"isk")  # letters a non-ASCII letter's case folds to (ı ſ K)


def _text_screens(data: bytes, at: int) -> list[tuple[int, int, bytes, bool]]:
    """The screens of a text rule's first test: (offset, places, literal, ignore case) each, one
    of which libmagic's converted copy must hold for the test to match; none (``[]``) when it
    cannot be screened (the rule is always kept). ``places``: where from the offset the literal
    may start (1: at the offset; 0: anywhere after it).

    ``string``: the literal prefix (see ``_search_check``) at the offset (1). ``search``: the
    prefix at the places its range gives (:func:`_starts`). When whitespace flags (W, w) leave
    no prefix (the pattern starts with a blank), the longest run of other bytes, anywhere (0): a
    blank of the pattern matches blanks of any number, but the bytes between blanks compare
    one for one. ``regex``: literals one of which every match contains
    (:func:`_regex_literals`), anywhere from the offset on (0), matched without case when the
    regex is.
    """
    cont, flag, _factor, reln, vallen, typ, _in_type, _in_op, _mask_op, cond, _fop, offset, _in_off, _line = (
        _HEAD.unpack_from(data, at)
    )
    if cont != 0 or flag & ~_PLAIN_FLAGS or reln != ord("=") or cond or offset < 0 or not 0 < vallen <= 128:
        return []
    span, str_flags = struct.unpack_from("<II", data, at + 24)
    pattern = data[at + _VALUE_AT : at + _VALUE_AT + vallen]
    if typ == _FILE_REGEX:
        if str_flags & ~_REGEX_FLAGS:
            return []
        icase = bool(str_flags & (_c | _C))
        literals = _regex_literals(pattern)
        if icase and any(set(literal.lower()) & _FOLDED_BEYOND_ASCII for literal in literals):
            # REG_ICASE in a UTF-8 locale matches i, s and k with letters outside ASCII (the
            # dotless i, the long s, the Kelvin sign): lower-casing ASCII cannot screen them
            return []
        return [(offset, 0, literal.lower() if icase else literal, icase) for literal in literals]
    if typ not in (_FILE_STRING, _FILE_SEARCH) or str_flags & ~_TEXT_FLAGS:
        return []
    icase = bool(str_flags & (_c | _C))
    prefix = _literal_prefix(pattern, str_flags)
    if prefix:
        starts = 1 if typ == _FILE_STRING else _starts(span, str_flags)
        return [(offset, starts, prefix.lower() if icase else prefix, icase)]
    if not str_flags & (_W | _w):
        return []
    inner = max(_unblank_runs(pattern), key=len, default=b"")
    return [(offset, 0, inner.lower() if icase else inner, icase)] if inner else []


def _starts(span: int, str_flags: int) -> int:
    """How many places from its offset libmagic tries a ``search`` of range ``span`` at (0: every
    place to the end). A search without flags goes through memmem over ``span`` plus the
    pattern's length bytes, so it may match at offset + ``span`` too; with flags it compares at
    each of the ``span`` places from the offset (softmagic.c, FILE_SEARCH)."""
    if span and str_flags == 0:
        return span + 1
    return span


def _literal_prefix(pattern: bytes, str_flags: int) -> bytes:
    """The bytes of a string or search pattern that the text must hold from the match's start:
    up to the first byte the whitespace flags (W, w) make special, or a non-ASCII byte. With a
    case flag (c, C) a letter matches at least its other case: the caller compares without
    case (ASCII only, as the C library in libmagic's locale)."""
    if not str_flags & (_W | _w | _c | _C):
        return pattern
    prefix = bytearray()
    for byte in pattern:
        if byte >= 0x80:
            break
        if str_flags & (_W | _w) and byte in _BLANKS:
            break
        prefix.append(byte)
    return bytes(prefix)


def _unblank_runs(pattern: bytes) -> list[bytes]:
    """The runs of ASCII bytes between blanks (and non-ASCII bytes) of a string pattern."""
    runs: list[bytes] = []
    run = bytearray()
    for byte in pattern:
        if byte >= 0x80 or byte in _BLANKS:
            if run:
                runs.append(bytes(run))
                run.clear()
        else:
            run.append(byte)
    if run:
        runs.append(bytes(run))
    return runs


def _regex_literals(pattern: bytes) -> tuple[bytes, ...]:
    """Literals at least one of which every match of the POSIX extended regex ``pattern``
    holds (``()`` when none is certain).

    A branch of the pattern needs each of its runs of literal bytes and each group it must
    match at least once; the most telling of these is kept (the longest shortest literal,
    then the fewest alternatives). Alternatives (``|``) need one of their branches' literals,
    so every branch must have some. Brackets, ``.``, anchors and escapes of letters or digits
    end a run; a byte followed by ``*``, ``?`` or a bound is dropped, and ``+`` ends the run
    after it; a group followed by ``*``, ``?`` or a bound of at least 0 is optional. Any other
    printable ASCII byte, a tab, or a backslash and a punctuation byte, is itself. A bound
    this parser cannot read gives up.
    """
    return _alternation(pattern, 0, len(pattern)) or ()


def _alternation(pattern: bytes, start: int, stop: int) -> tuple[bytes, ...] | None:
    """What every match of ``pattern[start:stop]`` (branches split at ``|`` outside groups and
    brackets) needs one of, or ``None``."""
    branches: list[tuple[int, int]] = []
    i = begin = start
    while i < stop:
        c = pattern[i]
        if c == 0x5C:  # backslash
            i += 2
        elif c == 0x28:  # (
            i = _group_end(pattern, i)
            if i < 0:
                return None
        elif c == 0x5B:  # [
            i = _bracket_end(pattern, i)
            if i < 0:
                return None
        elif c == 0x7C:  # |
            branches.append((begin, i))
            i = begin = i + 1
        else:
            i += 1
    branches.append((begin, stop))
    needed: list[bytes] = []
    for a, b in branches:
        one = _branch(pattern, a, b)
        if not one:
            return None  # a branch that needs no literal: the alternation needs none either
        needed.extend(x for x in one if x not in needed)
    return tuple(needed)


def _branch(pattern: bytes, i: int, n: int) -> tuple[bytes, ...] | None:
    """What every match of the branch ``pattern[i:n]`` (no ``|`` outside groups) needs one of."""
    candidates: list[tuple[bytes, ...]] = []
    run = bytearray()

    def close() -> None:
        if run:
            candidates.append((bytes(run),))
            run.clear()

    while i < n:
        c = pattern[i]
        if c == 0x28:  # ( ... )
            close()
            end = _group_end(pattern, i)
            if end < 0 or end > n:
                return None
            inner = _alternation(pattern, i + 1, end - 1)
            i, least = _quantifier(pattern, end, n)
            if least is None:
                return None
            if least and inner:
                candidates.append(inner)
            continue
        if c == 0x5B:  # [ ... ]
            close()
            i = _bracket_end(pattern, i)
            if i < 0 or i > n:
                return None
            continue
        if c in b"*?{+":
            after, least = _quantifier(pattern, i, n)
            if least is None:
                return None
            if (not least or c != 0x2B) and run:  # the byte before may be absent or repeat
                run.pop()
            close()
            i = after
            continue
        if c == 0x5C:  # backslash
            nxt = pattern[i + 1] if i + 1 < n else 0
            if 0x21 <= nxt < 0x7F and not chr(nxt).isalnum() and nxt not in b"<>`'":
                run.append(nxt)
            else:  # a class (\w), a back-reference, or one of GNU's anchors (\< \> \` \')
                close()
            i += 2
            continue
        if (0x20 <= c < 0x7F and c not in b".^$)") or c == 0x09:
            run.append(c)
        else:
            close()
        i += 1
    close()
    if not candidates:
        return None
    return max(candidates, key=lambda x: (min(map(len, x)), -len(x)))


def _quantifier(pattern: bytes, i: int, n: int) -> tuple[int, int | None]:
    """The end of the quantifiers at ``pattern[i]`` (if any are there) and the fewest times
    they let the atom before match (1 when there is none; ``None`` for a bound this cannot
    read). glibc applies quantifiers one after another (``b+?`` is ``(b+)?``): zero if any of
    them allows zero."""
    least = 1
    while i < n:
        c = pattern[i]
        if c in b"*?":
            i, least = i + 1, 0
        elif c == 0x2B:  # +
            i += 1
        elif c == 0x7B:  # {
            bound = _BOUND.match(pattern, i, n)
            if bound is None:
                return i, None
            i = bound.end()
            if not int(bound.group(1) or 0):
                least = 0
        else:
            break
    return i, least


def _bracket_end(pattern: bytes, i: int) -> int:
    """The index after the bracket expression starting at ``pattern[i]`` (``[``), or -1."""
    n = len(pattern)
    j = i + 1
    if j < n and pattern[j] == 0x5E:  # ^
        j += 1
    if j < n and pattern[j] == 0x5D:  # a leading ] is a member
        j += 1
    while j < n and pattern[j] != 0x5D:
        if pattern[j] == 0x5B and j + 1 < n and pattern[j + 1] in b":.=":  # [:class:] [.x.] [=x=]
            k = pattern.find(bytes([pattern[j + 1], 0x5D]), j + 2)
            if k < 0:
                return -1
            j = k + 2
        else:
            j += 1
    return j + 1 if j < n else -1


def _group_end(pattern: bytes, i: int) -> int:
    """The index after the group starting at ``pattern[i]`` (``(``), or -1."""
    depth = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:
            i += 2
            continue
        if c == 0x5B:
            i = _bracket_end(pattern, i)
            if i < 0:
                return -1
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _plain_check(data: bytes, at: int, top: bool = True) -> tuple[int, tuple[int, ...], _Test] | None:
    """(position, byte values there, check) of a plain top-level test, or ``None`` for any other.

    The position is one where the test fixes the byte, or narrows it to a few values: a string's
    first byte (both cases of a letter its flags compare without case); for an integer, the first
    byte its mask covers in full, else the byte its mask covers most (at least
    :data:`_MASK_BITS` bits: at most 16 values). The check is a necessary condition of the test:
    the whole string, or its part before the first byte its flags compare loosely; the masked
    integer. A rule whose check fails on a head cannot match it; one whose check holds is given
    to libmagic, which decides. With ``top`` false, the same of an entry below a rule's first test
    (any level, not marked binary; still at an absolute offset), whose check alone is wanted
    (:func:`_ways_in`); a loose mask then gives no position.
    """
    cont, flag, _factor, reln, vallen, typ, _in_type, _in_op, mask_op, cond, _fop, offset, _in_off, _line = (
        _HEAD.unpack_from(data, at)
    )
    if top and (cont != 0 or not flag & _BINTEST):
        return None  # (top=False: an entry below a rule's first test, its test at an absolute offset)
    if flag & ~_PLAIN_FLAGS or reln != ord("=") or cond or offset < 0:
        return None
    value = data[at + _VALUE_AT : at + _VALUE_AT + 128]
    if typ == _FILE_STRING:
        str_flags = _STR_FLAGS.unpack_from(data, at + 28)[0]
        if not 0 < vallen <= 128:
            return None
        pattern = value[:vallen]
        if str_flags in (0, _STRING_BINTEST):
            return offset, (pattern[0],), (offset, pattern)
        if str_flags & ~_STRING_SCREENABLE:
            return None
        exact = _string_exact_prefix(pattern, str_flags)
        if exact:
            return offset, (exact[0],), (offset, exact)
        first = pattern[0]
        if not (0x41 <= first <= 0x5A or 0x61 <= first <= 0x7A) or first | 0x20 == 0x69:
            # a blank under W/w (it may match other blanks, or none), a byte past ASCII; or i/I,
            # onto which a Turkish ISO-8859-9 locale's tolower/toupper also maps 0xDD and 0xFD
            return None
        # an ASCII letter compared without case: either case there (they differ in bit 0x20)
        return offset, (first & 0xDF, first | 0x20), (offset, 1, "little", 0xDF, first & 0xDF)
    if typ not in _INTEGERS or mask_op != _FILE_OPAND:
        return None
    width, order = _INTEGERS[typ]
    order = order or sys.byteorder
    full = (1 << (8 * width)) - 1
    number = int.from_bytes(value[:8], "little") & full  # the union holds the value as a host integer
    mask = _MASK.unpack_from(data, at + 24)[0] & full
    if not mask:
        want = number.to_bytes(width, order)
        return offset, (want[0],), (offset, want)
    mask_bytes = mask.to_bytes(width, order)
    want_bytes = (number & mask).to_bytes(width, order)
    check = (offset, width, order, mask, number & mask)
    for j, m in enumerate(mask_bytes):
        if m == 0xFF:
            return offset + j, (want_bytes[j],), check
    j = max(range(width), key=lambda i: (mask_bytes[i].bit_count(), -i))
    if mask_bytes[j].bit_count() < _MASK_BITS:
        # too loose to file the test under a byte; below a first test only the check is wanted
        return None if top else (offset, (), check)
    m, w = mask_bytes[j], want_bytes[j]
    return offset + j, tuple(v for v in range(256) if v & m == w), check


#: string flags whose tests still fix bytes: W and w (blanks), c and C (case), the binary-test
#: marker and f (full word: the match must end a word, which changes nothing before)
_FULL_WORD = 0x4000
_STRING_SCREENABLE = _W | _w | _c | _C | _STRING_BINTEST | _FULL_WORD
#: the bytes C's isspace() takes for blanks (what libmagic's W and w compare loosely)
_C_SPACE = frozenset(b" \t\n\v\f\r")
#: the fewest bits a mask must cover in one byte for the test to be indexed by that byte
_MASK_BITS = 4


def _string_exact_prefix(pattern: bytes, str_flags: int) -> bytes:
    """The start of a string test's pattern that libmagic compares byte for byte under
    ``str_flags``: up to the first blank under W or w, or the first letter compared without case
    (lower case under c, upper case under C). libmagic asks the C library's ``isspace``,
    ``islower`` and ``isupper`` in the process's locale, which may class bytes past ASCII too
    (ISO-8859 locales): such a byte ends the exact part as well."""
    for i, b in enumerate(pattern):
        if b >= 0x80 or (
            (str_flags & (_W | _w) and b in _C_SPACE)
            or (str_flags & _c and 0x61 <= b <= 0x7A)
            or (str_flags & _C and 0x41 <= b <= 0x5A)
        ):
            return pattern[:i]
    return pattern


class _Handle:
    """A libmagic handle loaded from a database held in memory (magic_load_buffers)."""

    def __init__(self, database: bytes, flags: int) -> None:
        lib = magic.libmagic
        lib.magic_open.restype = ctypes.c_void_p
        lib.magic_open.argtypes = [ctypes.c_int]
        lib.magic_load_buffers.restype = ctypes.c_int
        lib.magic_load_buffers.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_size_t,
        ]
        lib.magic_buffer.restype = ctypes.c_char_p
        lib.magic_buffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        lib.magic_close.restype = None
        lib.magic_close.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._buffer = ctypes.create_string_buffer(database, len(database))  # libmagic keeps pointers into it
        self._cookie = lib.magic_open(flags)
        if not self._cookie:
            raise OSError("libmagic: magic_open failed")
        pointers = (ctypes.c_void_p * 1)(ctypes.cast(self._buffer, ctypes.c_void_p))
        sizes = (ctypes.c_size_t * 1)(len(database))
        # libmagic's memory for the loaded rules (as much as the database, ~0.4 MB) is freed only
        # by magic_close: when this handle goes (a set's evicted from the cache, a tier replaced
        # by a new one), so does its cookie, before the buffer the cookie points into
        self._closed = weakref.finalize(self, lib.magic_close, self._cookie)
        if lib.magic_load_buffers(self._cookie, pointers, sizes, 1) != 0:
            raise OSError("libmagic: the reduced database did not load")
        self._lock = threading.Lock()

    def __call__(self, head: bytes) -> str | None:
        with self._lock:
            out = self._lib.magic_buffer(self._cookie, head, len(head))
        return None if out is None else out.decode("utf-8", "replace")


class _Sniffer:
    """The handles of one process: the kept rules plus each distinct set of matched rules."""

    def __init__(self, split: Split) -> None:
        self.split = split
        self.handle = lru_cache(maxsize=1024)(self._handle)
        self.every_text = lru_cache(maxsize=16)(self._every_text)
        self.text = _TextTier(self)

    def _handle(self, rules: tuple[int, ...], binary: bool = False) -> _Handle:
        # The type and the charset in one call ("type; charset=..."): libmagic takes the charset
        # from its encoding test, which does not depend on the rules loaded, so the charset is
        # the one the rule-less handle gives, and text (any charset but binary) is told apart
        # without a second call. ``binary``: for heads whose encoding can only be binary
        # (:func:`_surely_binary`), libmagic skips its encoding test and its text step.
        flags = MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING
        if binary:
            flags |= MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_TEXT
        return _Handle(self.split.database(rules), flags)

    def _every_text(self, rules: tuple[int, ...]) -> _Handle:
        """The handle of the binary ``rules`` a text head may match plus every text rule: for
        the heads the text tier refuses (a rule outside it may match). It gives libmagic's
        answer as the full database does (no rule left out can match the head), in about half
        its time: of the full database's ~0.9 ms on a text head of a few KB, the text rules take
        ~0.45 ms, the ~3,000 binary rules the rest. One per distinct set of binary rules (text
        heads match few)."""
        return _Handle(
            self.split.database(tuple(sorted(self.split.text_all.union(rules)))),
            MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING,
        )


class _TextTier:
    """One database for text heads: the rules that text heads of this process often may match.

    A text head's own set of rules that may match it is nearly always new (which literals a text
    holds varies: 1,525 sets in 2,989 system text files), and building a handle costs about
    5 ms, more than the full database's 1.3 ms. But any database holding a head's set gives
    libmagic's answer (the rules left out cannot match it), so one database of the rules that
    many text heads may match answers most text heads. The rules are counted over text heads;
    every :data:`TEXT_REVIEW` counted heads, those wanted by at least :data:`TEXT_SHARE` of them
    become the tier's database (when that changes).

    Finding a head's exact set costs a search for each of ~280 literals (~600 µs); to know that
    the set is inside the tier, it is enough that no literal of a rule outside it occurs in the
    head: those at offset 0 are compared there, the others searched for anywhere, but only those
    every pair of adjacent bytes of which occurs in the head (:class:`_Pairs`, a few table
    look-ups in numpy). When one occurs, every text rule answers (``_Sniffer.every_text``).
    Until the tier exists, then for every head the tier cannot answer that way and every
    :data:`TEXT_SAMPLE`-th other head, the exact set is found (~200 µs) and counted, and
    decides: text the tier lacks rules for teaches it within :data:`TEXT_REVIEW` heads, and
    text it fits costs no counting.
    """

    def __init__(self, sniffer: _Sniffer) -> None:
        self.sniffer = sniffer
        self.counts: dict[int, int] = {}
        self.counted = 0
        self.seen = 0
        self.rules: frozenset[int] = frozenset()
        self.handle: _Handle | None = None
        self._start: dict[int, list[tuple[bytes, bool]]] = {}  # outsiders compared at offset 0
        self._anywhere = _pairs(set(), set())  # the other outsiders' literals
        self._lock = threading.Lock()

    def __call__(self, head: bytes, binary: set[int]) -> _Handle | None:
        """The tier's handle if the rules that may match text ``head`` (``binary``: the binary
        rules it may match) are all in it, else ``None``."""
        with self._lock:  # the counts and the pair table are shared state
            return self._call(head, binary)

    def _call(self, head: bytes, binary: set[int]) -> _Handle | None:
        self.seen += 1
        handle = self.handle
        sampled = handle is None or self.seen % TEXT_SAMPLE == 0
        if not sampled and binary <= self.rules and not self._outsider(head):
            return handle  # not counted: nothing outside the tier may match
        # counted: the tier refused it (every text rule answers, about 0.5 ms, unless the exact
        # set fits after all), so that the tier soon holds what text like it wants; or sampled
        split = self.sniffer.split
        wanted = set(split.text_matching(head)).union(binary)
        self.counted += 1
        counts = self.counts
        for rule in wanted:
            counts[rule] = counts.get(rule, 0) + 1
        if self.counted % TEXT_REVIEW == 0:
            self._review()
        return self.handle if self.handle is not None and wanted <= self.rules else None

    def _outsider(self, head: bytes) -> bool:
        """Whether a literal of a rule outside the tier occurs in ``head`` (where its rule looks,
        for those at offset 0; anywhere, for the others)."""
        for literal, nocase in self._start.get(head[0], ()):
            if (head[: len(literal)].lower() if nocase else head).startswith(literal):
                return True
        return self._anywhere.occurs(head)

    def _review(self) -> None:
        floor = TEXT_SHARE * self.counted
        rules = frozenset(r for r, n in self.counts.items() if n >= floor)
        if rules == self.rules:
            return
        split = self.sniffer.split
        self.rules = rules
        self.handle = _Handle(split.database(tuple(sorted(rules))), MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING)
        start: dict[int, list[tuple[bytes, bool]]] = {}
        anywhere: dict[bool, set[bytes]] = {False: set(), True: set()}
        for rule, offset, span, literal, nocase in split.text_screens:
            if rule in rules:
                continue
            if offset == 0 and span == 1:
                for first in {literal[0], literal[:1].upper()[0]} if nocase else {literal[0]}:
                    start.setdefault(first, []).append((literal, nocase))
            else:
                anywhere[nocase].add(literal)
        self._start = start
        self._anywhere = _pairs(anywhere[False], anywhere[True])


def _pairs(exact: set[bytes], nocase: set[bytes]) -> Any:
    """The outsider check of the text tier: :class:`triage.sources._magicscan.Pairs` (the same
    answers, ~4x faster, and no numpy in the worker), else :class:`_Pairs`."""
    c = _c_module()
    return _Pairs(exact, nocase) if c is None else c.Pairs(sorted(exact), sorted(nocase))


class _Pairs:
    """Whether any of some literals occurs in a text, some compared exactly and some without case
    (ASCII). Only a literal every pair of adjacent bytes of which occurs in the text, both lower-
    cased (one table of the pairs a text holds), is searched for; a literal that occurs passes
    that test, since lower-casing keeps it in the text. (:func:`_pairs` uses the C version of
    this when it is built.)"""

    def __init__(self, exact: set[bytes], nocase: set[bytes]) -> None:
        import numpy as np

        self._np = np
        self.singles = bytes(sorted({x[0] for x in exact if len(x) == 1}))
        self.singles_nocase = bytes(sorted({x[0] for x in nocase if len(x) == 1}))
        longer = sorted({(x, False) for x in exact if len(x) > 1} | {(x, True) for x in nocase if len(x) > 1})
        ids = [a << 8 | b for x, _ in longer for a, b in itertools.pairwise(x.lower())]
        self.ids = np.array(ids, dtype=np.int64)
        self.starts = np.cumsum([0] + [len(x) - 1 for x, _ in longer[:-1]], dtype=np.int64)
        self.longer = longer
        # the pairs of the text being looked at hold this call's number (none to clear after)
        self.stamps = np.zeros(65536, dtype=np.uint32)
        self.calls = 0

    def occurs(self, text: bytes) -> bool:
        lowered = text.lower()
        for byte in self.singles:
            if byte in text:
                return True
        for byte in self.singles_nocase:
            if byte in lowered:
                return True
        n = len(text)
        if n < 2 or not self.longer:
            return False  # no pair of bytes: no literal of two or more bytes occurs
        np = self._np
        stamps = self.stamps
        self.calls += 1
        if self.calls >= 1 << 32:
            stamps[:] = 0
            self.calls = 1
        call = self.calls
        stamps[np.frombuffer(lowered, dtype=">u2", count=n // 2)] = call  # pairs at even offsets
        stamps[np.frombuffer(lowered, dtype=">u2", offset=1, count=(n - 1) // 2)] = call  # at odd ones
        maybe = np.flatnonzero(np.logical_and.reduceat(stamps[self.ids] == call, self.starts))
        longer = self.longer
        return any(x in (lowered if nocase else text) for x, nocase in (longer[i] for i in maybe.tolist()))


#: How often (in counted text heads) the text tier is reviewed; the share of counted text heads
#: a rule must be wanted by to be in it; one head in this many of those the tier answers is
#: counted once it exists (every head it refuses is).
TEXT_REVIEW = 64
TEXT_SHARE = 0.02
TEXT_SAMPLE = 256


@lru_cache(maxsize=1)
def _sniffer() -> _Sniffer | None:
    if os.environ.get("EXHIBIT_PLAIN_LIBMAGIC"):
        return None
    try:
        path = database_path()
        if path is None:
            return None
        split = split_database(path.read_bytes())
        if split is None:
            return None
        return _Sniffer(split)
    except (OSError, AttributeError, ValueError):  # an older libmagic, an unreadable file: plain libmagic
        return None


@lru_cache(maxsize=1)
def _full() -> Any:
    return magic.Magic(mime=True)


def plain_libmagic(head: bytes) -> str:
    """The full libmagic's MIME type of ``head`` (python-magic, the default database)."""
    return str(_full().from_buffer(head))


def fast_path_active() -> bool:
    """True when :func:`sniff` can answer binary heads from the reduced database."""
    return _sniffer() is not None


def sniff(head: bytes) -> str:
    """libmagic's MIME type of ``head`` (non-empty), identical to :func:`plain_libmagic`."""
    s = _sniffer()
    if s is None:
        return plain_libmagic(head)
    rules = s.split.matched(head)
    if rules is None:
        return plain_libmagic(head)
    reentrant = s.split.reentrant.intersection(rules)
    if reentrant and s.split.may_reenter(reentrant, head):
        return plain_libmagic(head)  # a rule that may match runs all rules again: they must be there
    asked = (
        bool(head) and not head[:32].translate(None, _TEXT_BYTES) and not head.translate(None, _TEXT_BYTES)
    )
    if asked:
        # bytes libmagic may call ASCII or UTF-8 text: its text tier answers with the charset,
        # and that answer stands when the charset is one of those (else the steps below decide)
        found = _text(s, head, rules)
        if found:
            return found
    answer = s.handle(rules, _surely_binary(head))(head)
    if answer is None:
        return plain_libmagic(head)
    mime, _, charset = answer.partition("; charset=")
    if charset != "binary":
        # text: libmagic converts it and tries its text rules on the copy
        found = None if asked or charset not in _TIER_CHARSETS else _text(s, head, rules)
        return found or plain_libmagic(head)
    if head.endswith(b"\0") and _text_once_trimmed(head):
        return plain_libmagic(head)
    return mime or plain_libmagic(head)


#: the bytes libmagic's ASCII and UTF-8 text may hold (its text_chars: printable ASCII, BEL,
#: BS, TAB, LF, VT, FF, CR, ESC; and every byte of a UTF-8 sequence)
_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\a\b\t\n\v\f\r\x1b" + bytes(range(0x80, 0x100))
_TIER_CHARSETS = ("us-ascii", "utf-8")


def _surely_binary(head: bytes) -> bool:
    """Whether libmagic's encoding test can only call ``head`` binary, as it is and once its
    trailing NUL bytes are dropped (its text step tests that again): a NUL byte is left inside
    the part it looks at, and no byte-order mark starts it.

    A NUL is text in none of the encodings libmagic 5.4x tries without a byte-order mark (ASCII,
    UTF-7 and UTF-8, ISO-8859, extended ASCII, EBCDIC: each rejects byte 0); UTF-16 and UTF-32
    text, which holds NUL bytes, is recognised only after its mark, and heads starting with
    UTF-8's are left to the full test too. For such heads libmagic's answer is the same without
    its encoding test (the charset stays ``binary``, and the checks that ask whether the head
    looks like text get "no", as they would) and without its text step (which finds no text in
    a head its encoding test calls binary): about 7 us less a head of 8 KB.
    """
    rest = head.rstrip(b"\0")
    return rest.find(b"\0", 0, _ENCODING_MAX) != -1 and not rest.startswith(_BYTE_ORDER_MARKS)


#: what libmagic's encoding test looks at (its default ``encoding_max``), and the byte-order marks
#: after which NUL bytes may be text
_ENCODING_MAX = 65536
_UTF16_32_MARKS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-32 LE's starts as UTF-16 LE's
_BYTE_ORDER_MARKS = (*_UTF16_32_MARKS, b"\xef\xbb\xbf")


def _text_once_trimmed(head: bytes) -> bool:
    """Whether libmagic may try its text rules on ``head`` although its charset is ``binary``.

    libmagic's text step drops trailing NUL bytes before it looks at the encoding again: text
    followed by NUL bytes (a padded file) is typed by the text rules (``text/x-c``) while its
    charset stays ``binary``. That can happen only when no NUL is left inside the rest, or the
    rest starts as UTF-16 or UTF-32 text does (a byte-order mark).
    """
    rest = head.rstrip(b"\0") or head[:1]
    return b"\0" not in rest or rest.startswith(_UTF16_32_MARKS)


def _text(s: _Sniffer, head: bytes, rules: tuple[int, ...]) -> str | None:
    """libmagic's type of an ASCII or UTF-8 text ``head`` from a database of the binary rules it
    may match plus the text rules that may match its converted copy (the tier's, or every text
    rule when one outside the tier may match), or ``None`` when only the full database can say
    (a byte-order mark, invalid UTF-8, or libmagic finds another charset).

    For ASCII and UTF-8 without a byte-order mark, libmagic's converted copy is the head itself,
    re-encoded as UTF-8 from the code points it decoded (the same bytes when the head is valid
    UTF-8; a sequence cut at the end of the head, and trailing NUL bytes, are left out): every
    copy is a prefix of the head, so a literal its tests need that is not in the head cannot be
    in the copy. The charset comes with the answer (libmagic's encoding test does not depend on
    the rules loaded) and must be ASCII or UTF-8.
    """
    if not s.split.text_ok or head.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        _UTF8().decode(head, False)  # strict: no overlong forms, no surrogates (libmagic accepts them)
    except UnicodeDecodeError:
        return None
    handle = s.text(head, set(rules))
    if handle is None:  # a rule outside the tier may match: every text rule is there
        handle = s.every_text(rules)
    answer = handle(head)
    if answer is None:
        return None
    mime, _, charset = answer.partition("; charset=")
    return mime if charset in _TIER_CHARSETS and mime else None
