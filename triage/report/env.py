"""The Jinja2 environment every report template is rendered in.

Autoescaping is on for every template (evidence text is hostile: a chat body may hold HTML), an
undefined name is an error rather than an empty string, and every value a template prints passes
through one ``finalize`` hook: the redaction, so that no template can forget it.

Some printed values are already HTML (:class:`markupsafe.Markup`): a macro's output, the result
of ``join`` or ``e``. Their text between tags is redacted (unescaped, rewritten, escaped again)
and their tags kept, so a macro's markup is neither escaped twice nor can a filter's result slip
past the redaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")


def environment(text: Callable[[str], str] | None = None) -> Environment:
    """The report environment; ``text`` rewrites every printed string (the redaction), if given."""

    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        if text is not None and isinstance(value, Markup):
            return Markup(
                _TAG_OR_TEXT.sub(lambda m: m.group(1) or str(escape(text(unescape(m.group(2))))), value)
            )
        if text is not None and isinstance(value, str):
            return text(value)
        return value

    return Environment(
        loader=PackageLoader("triage.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
