"""The Jinja2 environment every report template is rendered in.

Autoescaping is on for every template (evidence text is hostile: a chat body may hold HTML), an
undefined name is an error rather than an empty string, and every value a template prints passes
through one ``finalize`` hook: the redaction, then :func:`visible` (control, bidi-override and
invisible characters shown as ``\\u202e``-style escapes, so that a file name shows what it is, not
what it pretends to be), so that no template can forget either.

Some printed values are already HTML (:class:`markupsafe.Markup`): a macro's output, the result
of ``join`` or ``e``. Their text between tags is redacted (unescaped, rewritten, escaped again)
and their tags kept, so a macro's markup is neither escaped twice nor can a filter's result slip
past the redaction.

Filters: ``count`` writes an integer with thousands separators; ``hexwrap`` lets a long hash
wrap every 32 digits (a ``<wbr>``; breaking anywhere costs WeasyPrint a third of its time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from custody.safetext import char_escape, is_unsafe, needs_escape

_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
_KEEP = "\n\t"  # line breaks and tabs of a message body stay what they are
_HEX_RUN = re.compile(r"[0-9a-f]{33,}")


def visible(text: str) -> str:
    """``text`` with every control, bidi, invisible and separator character (but line feeds and
    tabs) written as a visible escape (custody.safetext)."""
    if not needs_escape(text):
        return text
    return "".join(char_escape(ch) if ch not in _KEEP and is_unsafe(ch) else ch for ch in text)


def _hexwrap(value: Any, every: int = 32) -> Any:
    """A long hex string (a hash, a signature) with a line-break opportunity every ``every`` digits."""
    if isinstance(value, str) and _HEX_RUN.fullmatch(value):
        return Markup("<wbr>").join(value[i : i + every] for i in range(0, len(value), every))
    return value


def _count(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


def environment(text: Callable[[str], str] | None = None) -> Environment:
    """The report environment; ``text`` rewrites every printed string (the redaction), if given."""

    def rewrite(value: str) -> str:
        return visible(text(value) if text is not None else value)

    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, Markup):
            if text is None:  # escaped text stays as it is; control characters still shown
                return Markup(_TAG_OR_TEXT.sub(lambda m: m.group(1) or visible(m.group(2)), value))
            return Markup(
                _TAG_OR_TEXT.sub(lambda m: m.group(1) or str(escape(rewrite(unescape(m.group(2))))), value)
            )
        if isinstance(value, str):
            return rewrite(value)
        return value

    env = Environment(
        loader=PackageLoader("triage.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = _count
    env.filters["hexwrap"] = _hexwrap
    return env
