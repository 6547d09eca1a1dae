"""Finding the terms of a keyword file in bytes, in document text and in record fields.

:class:`KeywordSet` compiles a :class:`~triage.keywords.terms.KeywordSpec` once: the literal
terms, folded (triage/text/fold.py), into one Aho-Corasick automaton (``ahocorasick-rs``), so a
window of text is searched for every literal in one pass however many there are; each regular
expression with the ``regex`` module, applied on its own with a time limit per window.

:class:`ContentScanner` is fed a file's (or an image's) bytes chunk by chunk, as they are read
for hashing: it searches windows of :data:`WINDOW` bytes, each starting :data:`OVERLAP` bytes
before the previous one ended, in every text view of the bytes (triage/text/decode.py). A hit is
reported by the window in which it ends past the overlap, so a hit across a chunk boundary is
found once. Memory: one window and the hits kept, capped at :data:`MAX_HITS` per file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from triage.keywords.terms import KeywordSpec, Term
from triage.text.decode import ByteOffsets, TextView, clean, views
from triage.text.fold import Folded, fold

__all__ = ["CONTEXT", "MAX_HITS", "OVERLAP_MIN", "WINDOW", "ContentScanner", "Hit", "KeywordSet"]

WINDOW = 1 << 20  # bytes searched at a time
REGEX_SPAN = 1024  # longest regex hit found whole across a window boundary (longer ones may be cut)
OVERLAP_MIN = 4096
CONTEXT = 40  # characters of context on each side of a hit
MAX_HITS = 10_000  # hits kept per file (or document, or image); the rest are counted
REGEX_SECONDS = 2.0  # time limit of one regular expression over one window
AC_STEP = 64 << 10  # bytes of folded text handed to the automaton at a time


@dataclass(frozen=True, slots=True)
class Hit:
    """One hit: the term, where (byte offset and length, or character offset in a text), how it
    read there (``matched``, in the original characters) and the text around it."""

    term: int  # index in KeywordSet.terms
    start: int  # byte offset (bytes) or character offset (text)
    length: int  # bytes or characters
    encoding: str | None  # the text view it was found in (None: text searched as text)
    matched: str
    context: str


class KeywordSet:
    """The compiled terms (see the module docstring)."""

    def __init__(self, spec: KeywordSpec) -> None:
        import ahocorasick_rs
        import regex  # type: ignore[import-untyped]

        self.spec = spec
        self.terms: tuple[Term, ...] = spec.terms
        literals = [(i, fold(t.pattern)) for i, t in enumerate(self.terms) if not t.regex]
        self.literal_terms = [i for i, _ in literals]
        self.automaton = (
            ahocorasick_rs.BytesAhoCorasick(
                [p.encode("utf-8") for _, p in literals], matchkind=ahocorasick_rs.MatchKind.Standard
            )
            if literals
            else None
        )
        self.regexes = [
            (i, regex.compile(t.pattern, regex.IGNORECASE | regex.FULLCASE))
            for i, t in enumerate(self.terms)
            if t.regex
        ]
        longest = max((len(p) for _, p in literals), default=0)
        self.longest_bytes = max((len(p.encode("utf-8")) for _, p in literals), default=0)
        # a folded character comes from at most 4 bytes (UTF-8, or a UTF-16 surrogate pair)
        self.overlap = max(OVERLAP_MIN, 4 * longest + 16, REGEX_SPAN)
        # UTF-16 of text outside ASCII may hold no zero byte: then every window is read as UTF-16;
        # otherwise only a window holding ASCII text in UTF-16 (triage/text/decode.py)
        self.always_utf16 = any(not t.pattern.isascii() for t in self.terms)
        self.regex_timeouts: dict[int, int] = {}  # term -> windows whose search timed out

    # -- text -------------------------------------------------------------------------------------
    def search_text(self, text: str) -> Iterator[tuple[int, int, int]]:
        """``(term, start, end)`` character spans of ``text`` (original characters) that match."""
        if self.automaton is not None:
            folded = Folded.of(text)
            ascii_ = folded.text.isascii()
            # lone surrogates (undecodable bytes) become bytes no UTF-8 term holds
            data = folded.text.encode("ascii") if ascii_ else folded.text.encode("utf-8", "surrogatepass")
            to_char = _ByteToChar(data) if not ascii_ else None
            for pattern, bstart, bend in self._literal_matches(data):
                if to_char is None:
                    start, end = bstart, bend
                else:
                    start = to_char.index(bstart)
                    end = start + len(data[bstart:bend].decode("utf-8", "surrogatepass"))
                if folded.ends_inside(end):  # 'cafe' is not a hit in 'café' (e + U+0301)
                    continue
                a, b = folded.source_span(start, end)
                yield self.literal_terms[pattern], a, b
        for term, rx in self.regexes:
            try:
                for m in rx.finditer(text, timeout=REGEX_SECONDS):
                    if m.end() > m.start():
                        yield term, m.start(), m.end()
            except TimeoutError:
                self.regex_timeouts[term] = self.regex_timeouts.get(term, 0) + 1

    def _literal_matches(self, data: bytes) -> Iterator[tuple[int, int, int]]:
        """The automaton's matches in ``data``, by start, asked :data:`AC_STEP` bytes at a time (a
        term matching everywhere never makes a list of millions); each slice is searched on by the
        longest term, and reports the matches that start in it."""
        assert self.automaton is not None
        reach = self.longest_bytes
        for offset in range(0, max(len(data), 1), AC_STEP):
            piece = data[offset : offset + AC_STEP + reach]
            found = self.automaton.find_matches_as_indexes(piece, overlapping=True)
            found.sort(key=lambda m: m[1])
            for pattern, start, end in found:
                if start < AC_STEP:
                    yield pattern, offset + start, offset + end

    def count_text(self, text: str, counts: dict[int, int]) -> None:
        """Add the number of hits of each term in ``text`` to ``counts`` (fast: no spans)."""
        if self.automaton is not None:
            folded = fold(text)
            data = folded.encode("ascii") if folded.isascii() else folded.encode("utf-8", "surrogatepass")
            reach = self.longest_bytes
            for offset in range(0, max(len(data), 1), AC_STEP):
                piece = data[offset : offset + AC_STEP + reach]
                found = Counter(
                    m[0]
                    for m in self.automaton.find_matches_as_indexes(piece, overlapping=True)
                    if m[1] < AC_STEP
                )
                for pattern, n in found.items():
                    term = self.literal_terms[pattern]
                    counts[term] = counts.get(term, 0) + n
        for term, rx in self.regexes:
            try:
                n = sum(1 for _ in rx.finditer(text, timeout=REGEX_SECONDS))
            except TimeoutError:
                self.regex_timeouts[term] = self.regex_timeouts.get(term, 0) + 1
                continue
            counts[term] = counts.get(term, 0) + n

    def text_hits(self, text: str) -> Iterator[Hit]:
        """The hits in a text (a document part, a record field): offsets in characters."""
        for term, a, b in self.search_text(text):
            yield Hit(term, a, b - a, None, clean(text[a:b]), _context(text, a, b))

    def view_hits(self, view: TextView, report_from: int) -> Iterator[Hit]:
        """The hits in one text view of a window that end past absolute byte ``report_from``."""
        text = view.text
        starts, ends = ByteOffsets(view), ByteOffsets(view)
        for term, a, b in self.search_text(text):
            end = ends(b)
            if end <= report_from:
                continue  # inside the overlap: the previous window reported it
            start = starts(a)
            yield Hit(term, start, end - start, view.encoding, clean(text[a:b]), _context(text, a, b))


class _ByteToChar:
    """Character index of UTF-8 byte offsets of one text, asked in increasing order (one pass)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0  # byte offset
        self.chars = 0  # characters before it

    def index(self, offset: int) -> int:
        if offset < self.at:
            self.at, self.chars = 0, 0
        self.chars += len(self.data[self.at : offset].decode("utf-8", "surrogatepass"))
        self.at = offset
        return self.chars


def _context(text: str, a: int, b: int) -> str:
    return clean(text[max(0, a - CONTEXT) : b + CONTEXT])


@dataclass
class ContentScanner:
    """Searches a stream of bytes fed in chunks (see the module docstring)."""

    keywords: KeywordSet
    base: int = 0  # absolute offset of the first byte fed (an image's partition, a file's 0)
    window: int = WINDOW
    hits: list[Hit] = field(default_factory=list)
    dropped: dict[int, int] = field(default_factory=dict)  # term -> hits over MAX_HITS, not kept
    _buffer: bytearray = field(default_factory=bytearray)
    _buffer_at: int = 0  # absolute offset of _buffer[0]
    _searched_to: int = 0  # absolute offset up to which hits were reported (their ends)
    # UTF-16BE hits ending at the last byte of a window: their UTF-16LE twin, one byte later,
    # can only be seen by the next window, which decides whether they are kept (see _search)
    _held: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._buffer_at = self._searched_to = self.base

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self.window + self.keywords.overlap:
            self._search(self.window + self.keywords.overlap)

    def finish(self) -> list[Hit]:
        """Search what is left; the hits, in order of offset (then term)."""
        if self._buffer and self._buffer_at + len(self._buffer) > self._searched_to:
            self._search(len(self._buffer), last=True)
        for hit in self._held:  # no byte follows: no twin can
            self._keep(hit)
        self._held = []
        self._buffer = bytearray()
        self.hits.sort(key=lambda h: (h.start, h.term, h.encoding or ""))
        return self.hits

    def _search(self, size: int, *, last: bool = False) -> None:
        data = bytes(self._buffer[:size])
        report_from = self._searched_to
        found: dict[tuple[int, int], Hit] = {}
        room = max(0, MAX_HITS - len(self.hits))  # hits this window may still add
        full = room == 0
        for view in () if full else views(data, self._buffer_at, always_utf16=self.keywords.always_utf16):
            for hit in self.keywords.view_hits(view, report_from):
                # the same bytes in another view (ASCII text reads the same in UTF-8 and Latin-1)
                found.setdefault((hit.term, hit.start), hit)
                if len(found) >= room:
                    full = True
                    break
            if full:
                break
        if full:  # over the cap: the window's other hits are only counted (an estimate)
            counts: dict[int, int] = {}
            for view in views(data, self._buffer_at, always_utf16=self.keywords.always_utf16):
                self.keywords.count_text(view.text, counts)
            for term, _ in found:
                counts[term] = counts.get(term, 0) - 1
            for term, n in counts.items():
                if n > 0:
                    self.dropped[term] = self.dropped.get(term, 0) + n
        end = self._buffer_at + size
        for held in self._held:  # a twin of a hit held back by the window before?
            twin = found.get((held.term, held.start + 1))
            if twin is None or twin.encoding != "utf-16le":
                self._keep(held)
        self._held = []
        for (term, start), hit in found.items():
            # ASCII text in UTF-16LE also reads as UTF-16BE one byte earlier (the zero byte before
            # each letter taken as its high byte): the same text, kept once, as UTF-16LE
            twin = found.get((term, start + 1))
            if hit.encoding == "utf-16be" and twin is not None and twin.encoding == "utf-16le":
                continue
            if hit.encoding == "utf-16be" and hit.start + hit.length == end and not last:
                self._held.append(hit)  # its twin would end one byte past this window
                continue
            self._keep(hit)
        self._searched_to = end
        keep = min(self.keywords.overlap, size)
        del self._buffer[: size - keep]
        self._buffer_at = end - keep

    def _keep(self, hit: Hit) -> None:
        if len(self.hits) < MAX_HITS:
            self.hits.append(hit)
        else:
            self.dropped[hit.term] = self.dropped.get(hit.term, 0) + 1
