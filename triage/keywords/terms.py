"""The keyword file: one term a line, literal or ``re:`` regular expression, any language.

Format (UTF-8, a byte-order mark allowed)::

    # a comment: a line whose first non-blank character is '#'
    passport                 literal: found case-insensitively, Unicode-folded (triage/text/fold.py)
    Straße                   matches STRASSE, strasse, Strasse
    2fragment sentence2      spaces inside a term are part of it
    re:f[[:alpha:]]rst       regular expression (the `regex` module's syntax, POSIX classes too),
                             matched case-insensitively with full case folding
    lit:#hashtag             'lit:' takes the rest literally (a term starting with '#' or 're:')

Blank lines are skipped; spaces and tabs around a term are not part of it. A regular expression
that does not compile, or a term that is empty, is an error naming the line: the search does not
start. A term listed twice (the same after folding) is searched once, as its first line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.text.fold import fold

__all__ = ["KeywordSpec", "Term", "load_keywords", "parse_keywords"]

REGEX_FLAGS_NOTE = "IGNORECASE | FULLCASE (regex module, version 0 syntax)"


@dataclass(frozen=True, slots=True)
class Term:
    """One term: ``text`` as written in the file, its ``line``, and the literal or pattern."""

    text: str
    line: int
    regex: bool
    pattern: str  # the literal (unfolded) or the regular expression


@dataclass(frozen=True, slots=True)
class KeywordSpec:
    """The terms of one keyword file, with the file's name and SHA-256 (recorded with the run)."""

    terms: tuple[Term, ...]
    name: str = ""
    sha256: str = ""

    def for_record(self) -> dict[str, Any]:
        """What the run's ledger entry records: the file, its hash and every term as written."""
        return {"file": self.name, "sha256": self.sha256, "terms": [t.text for t in self.terms]}


#: The longest term (literal or expression) a keyword file may hold, in characters. Found in
#: review: one 200,000-character term took a search of a 5 MB folder 224 s, all of it building
#: the automaton (the cost grows with the square of the length).
MAX_TERM = 1000


def parse_keywords(text: str, name: str = "<keywords>") -> KeywordSpec:
    """The terms of a keyword file's ``text``; :class:`TriageError` naming the line of a bad one."""
    import regex  # type: ignore[import-untyped]

    terms: list[Term] = []
    seen: set[tuple[bool, str]] = set()
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        if line.startswith("re:"):
            pattern, is_regex = line[3:], True
            try:
                regex.compile(pattern, regex.IGNORECASE | regex.FULLCASE)
            except (regex.error, ValueError, OverflowError) as exc:
                raise TriageError(
                    f"{name}, line {number}: regular expression {pattern!r} does not compile: {exc}",
                    hint="fix the expression, or write the term without 're:' to search for it literally",
                ) from exc
        elif line.startswith("lit:"):
            pattern, is_regex = line[4:], False
        else:
            pattern, is_regex = line, False
        if not pattern:
            raise TriageError(f"{name}, line {number}: empty term", hint="remove the line or give the term")
        if len(pattern) > MAX_TERM:
            raise TriageError(
                f"{name}, line {number}: a term of {len(pattern):,} characters (at most {MAX_TERM:,})",
                hint="search for a distinctive part of it; a longer term only slows the search (its "
                "automaton grows with the square of its length) and finds nothing a part would not",
            )
        ident = (is_regex, pattern if is_regex else fold(pattern))
        if ident in seen:
            continue
        seen.add(ident)
        terms.append(Term(line, number, is_regex, pattern))
    if not terms:
        raise TriageError(f"{name}: no terms", hint="one term per line; '#' starts a comment line")
    return KeywordSpec(tuple(terms), name, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def load_keywords(path: Path) -> KeywordSpec:
    """Read and parse the keyword file at ``path`` (UTF-8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TriageError(
            f"cannot read keyword file {path}: {exc.strerror or exc}", hint="check the path"
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TriageError(
            f"keyword file {path} is not UTF-8 (byte {exc.start})", hint="save it as UTF-8"
        ) from exc
    spec = parse_keywords(text, str(path))
    return KeywordSpec(spec.terms, str(path), hashlib.sha256(data).hexdigest())
