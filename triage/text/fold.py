"""Case- and compatibility-folding of text, with the way back to the original characters.

Text is compared in a *folded* form: every character is decomposed by compatibility (NFKD),
case-folded, and decomposed again (case folding can produce characters that decompose). Two
strings fold to the same text exactly when their NFKC + casefold forms are equal (NFKC and NFKD
make the same characters equivalent; the folded form is simply kept decomposed, because a
decomposed string is built character by character, and so keeps a map back to the original).

What that means for a searcher: the ligature ``ﬁ`` folds to ``fi``, ``ß`` and ``ẞ`` to ``ss``,
full-width ``Ｆｉｒｓｔ`` to ``first``, ``é`` (one code point or ``e`` + U+0301) to ``e`` + U+0301;
Turkish dotted capital ``İ`` folds to ``i`` + U+0307 (so it matches ``i̇`` and ``İ``, not plain
``i``) and dotless ``ı`` stays ``ı`` (Unicode's default folding, without Turkish rules). A lone
surrogate (what an undecodable byte becomes, triage/text/decode.py) stays as it is and matches
no term.

:func:`fold` folds a term; :class:`Folded` folds a text and maps a position in the folded text
back to the index of the original character it came from. Every character folds to at least
one character, so when the folded text is as long as the original the map is the identity;
otherwise it is computed (in C, by ``str.translate`` and ``str.count``) only when asked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

__all__ = ["Folded", "fold", "is_combining"]


def _fold_char(c: str) -> str:
    return unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", c).casefold())


class _FoldTable(dict[int, str]):
    """``str.translate`` table: code point -> its folded text, computed once per code point."""

    def __missing__(self, key: int) -> str:
        value = _fold_char(chr(key))
        self[key] = value
        return value


class _MarkTable(dict[int, str]):
    """``str.translate`` table: code point -> ``"\\x00" * (n - 1) + "\\x01"`` for a character that
    folds to ``n`` characters, so the ``"\\x01"`` before a folded position count original characters."""

    def __missing__(self, key: int) -> str:
        value = "\x00" * (len(_FOLD[key]) - 1) + "\x01"
        self[key] = value
        return value


_FOLD = _FoldTable()
_MARK = _MarkTable()
for _c in range(128):  # ASCII folds to its lower case: filled in advance
    _FOLD[_c] = chr(_c).lower()
    _MARK[_c] = "\x01"


def fold(text: str) -> str:
    """``text`` folded (see the module docstring): what a term is compared in.

    Computed on the whole string in C (``casefold`` and ``unicodedata.normalize``): the same as
    folding character by character, except that combining marks in a row come out in canonical
    order. Lone surrogates (undecodable bytes) stay as they are: they match no term.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    folded = decomposed.casefold()
    if folded == decomposed:  # nothing to fold: it is decomposed already
        return folded
    return unicodedata.normalize("NFKD", folded)


def is_combining(c: str) -> bool:
    """Is ``c`` a combining mark (a hit must not end right before one: ``cafe`` is not in ``café``)?"""
    return unicodedata.combining(c) != 0


@dataclass(slots=True)
class Folded:
    """``original`` folded into ``text``; :meth:`source_index` maps positions back.

    Positions asked for in increasing order are mapped in one pass over the text however many
    there are (the count of characters completed so far is carried from one to the next).
    """

    original: str
    text: str = ""
    _marks: str | None = field(default=None, repr=False)
    _last: tuple[int, int] = field(default=(0, 0), repr=False)  # (position, characters before it)

    @classmethod
    def of(cls, original: str) -> Folded:
        return cls(original, fold(original))

    @property
    def identity(self) -> bool:
        """Is folded position ``i`` the original character ``i`` for every ``i``?"""
        return len(self.text) == len(self.original)

    def source_index(self, position: int) -> int:
        """The index in ``original`` of the character that folded position ``position`` came from
        (``position == len(text)`` gives ``len(original)``)."""
        if self.identity:
            return position
        if self._marks is None:
            self._marks = self.original.translate(_MARK)
        # characters completed before ``position``: those whose last folded char lies before it
        at, before = self._last
        if position >= at:
            before += self._marks.count("\x01", at, position)
        else:
            before -= self._marks.count("\x01", position, at)
        self._last = (position, before)
        return before

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters ``[a, b)`` that folded ``text[start:end]`` came from, whole."""
        if self.identity:
            return start, end
        first = self.source_index(start)
        last = (self.source_index(end - 1) + 1) if end > start else first
        return first, last

    def ends_inside(self, end: int) -> bool:
        """Does a match ending at folded ``end`` stop before a combining mark (a partial letter)?"""
        return end < len(self.text) and is_combining(self.text[end])
