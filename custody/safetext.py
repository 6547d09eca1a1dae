"""Values from evidence, the ledger or the user are shown as literal, visible text.

A file name, an SMS body, a reason typed by an officer or an actor's name can hold anything: an
escape sequence that clears the terminal and prints fake output, a right-to-left override that
turns ``gpj.exe`` into ``exe.jpg`` on screen, zero-width characters that make two names look
equal, a line separator that forges a new line. :func:`escape` turns any value into text in
which every such character is shown as a visible backslash escape, so what is on screen is what
is in the evidence, character for character:

* code points below U+0080 as ``\\x1b``; the rest of the Basic Multilingual Plane as ``\\u202e``;
  higher planes as ``\\U000e0001``;
* a lone surrogate U+DC80..U+DCFF (an undecodable byte kept by Python's ``surrogateescape``) as
  the byte it stands for, ``\\xff``, as :func:`triage.sanitize.display_name` writes it.

Escaped (:func:`needs_escape`): every character Python does not count as printable, that is the
Unicode categories Cc (controls, C0 and C1, ESC), Cf (format: bidi embeddings, overrides and
isolates, LRM/RLM/ALM, zero-width space/joiners, word joiner, BOM, tags), Zl and Zp (line and
paragraph separators), Zs other than the ASCII space (no-break and other spaces), Co (private
use), Cs (surrogates) and Cn (unassigned); and the default-ignorable characters of other
categories that draw nothing (combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
Mongolian and other variation selectors, braille blank).

Backslashes are left alone: this is one-way display text, not an encoding, and paths that
:func:`triage.sanitize.display_name` already escaped (``bs_\\x08.txt``, ``back\\\\slash``) pass
through unchanged, so escaping is idempotent on them. ``--json`` carries the real values: in its
text the same characters are written as JSON's own ``\\u`` escapes (:func:`json_visible`), which
decode to exactly those values and put nothing on a terminal that it acts on or hides.

Rich markup is the other half of the problem (``[/]`` crashes, ``[link=...]`` makes a link,
``[cash]`` vanishes); :mod:`custody.console` builds consoles, tables and progress bars that never parse it and escape
every string they are given. This module does not import Rich, so the fast ``exhibit ls`` path and
:mod:`triage.sanitize` use it without loading it.
"""

from __future__ import annotations

import re

#: Characters that are printable by Python's definition but draw nothing (Unicode's
#: Default_Ignorable_Code_Point outside the categories ``str.isprintable`` already rejects).
_INVISIBLE = (
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b-\u180f"  # Mongolian free variation selectors (U+180E is Cf)
    "\u2800"  # braille pattern blank
    "\ufe00-\ufe0f"  # variation selectors
    "\U000e0100-\U000e01ef"  # variation selectors supplement
)

_INVISIBLE_RE = re.compile("[" + _INVISIBLE + "]")


def is_unsafe(ch: str) -> bool:
    """True for a character :func:`escape` escapes (one code point)."""
    return not ch.isprintable() or _INVISIBLE_RE.match(ch) is not None


def char_escape(ch: str) -> str:
    """The visible escape of one character (see the module docstring for the forms)."""
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_utf8(text: str) -> bool:
    """False when ``text`` holds a lone surrogate (bytes that were not UTF-8, or a broken pair)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def needs_escape(text: str) -> bool:
    """True when ``text`` holds a character :func:`escape` would escape."""
    return not text.isprintable() or _INVISIBLE_RE.search(text) is not None


def escape(value: object) -> str:
    """``str(value)`` with every control, bidi, invisible and separator character escaped.

    The common case, ordinary text, costs one ``isprintable`` test and one small regex search
    and returns the string itself (this runs on every cell of every table).
    """
    text = value if isinstance(value, str) else str(value)
    if not needs_escape(text):
        return text
    return "".join(char_escape(ch) if is_unsafe(ch) else ch for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes a code point above the BMP as its UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_visible(line: str) -> str:
    """One line of JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every
    character :func:`escape` would escape written as a JSON ``\\u`` escape: C1 controls (U+009B
    starts a terminal command as ESC [ does), bidi overrides and isolates, zero-width and other
    invisible characters, separators. The JSON decodes to the same value. Only characters from
    DEL (U+007F) up are looked at: ``json.dumps`` has already escaped the C0 controls inside
    strings, and the line must hold no structural line break (give an indented document a line
    at a time). Ordinary text, in any script, costs one ``isprintable`` test and one small regex
    search and comes back as it is."""
    if not needs_escape(line):
        return line
    return "".join(_json_escape(ch) if ch > "\x7e" and is_unsafe(ch) else ch for ch in line)
