"""Rich output that shows every value as literal text: consoles, tables, styled lines, progress.

Rich reads strings as markup by default: a file named ``[/x].jpg`` crashes a table, ``[cash]`` in
an SMS body vanishes, ``[link=...]`` becomes a clickable link, ``:smile:`` becomes an emoji. Every
console and table here is built so that no string is ever parsed: Rich only sees
:class:`rich.text.Text` objects made from :func:`custody.safetext.escape`, and deliberate styling
(a red ``error:``) is attached as a Text style, never written as markup around a value.

Use these instead of Rich's own classes in command code:

* :class:`LiteralConsole` (``print`` escapes every ``str`` it is given);
* :class:`LiteralTable` (``add_row`` escapes every ``str`` cell);
* :func:`styled` for a line mixing styled labels and values;
* :func:`label_column` for progress bars whose label holds a value.

A test (``tests/test_hostile_text.py``) checks no command module imports ``rich.console.Console``
or ``rich.table.Table`` directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from custody.safetext import escape

if TYPE_CHECKING:
    from rich.progress import ProgressColumn


def literal(value: object, style: str = "") -> Text:
    """``value`` as literal Rich text: escaped (see :mod:`custody.safetext`), never parsed."""
    return Text(escape(value), style=style)


def styled(*parts: str | tuple[str, str] | Text) -> Text:
    """One line from parts: a ``str`` is a value (escaped), ``(text, style)`` a styled value
    (escaped too), a :class:`Text` is kept as is.

    ``styled(("error:", "bold red"), " ", message)`` is how to colour a label next to a value.
    """
    line = Text()
    for part in parts:
        if isinstance(part, Text):
            line.append_text(part)
        elif isinstance(part, tuple):
            line.append(escape(part[0]), style=part[1])
        else:
            line.append(escape(part))
    return line


def _literal_renderable(value: Any) -> Any:
    return literal(value) if isinstance(value, str) else value


class LiteralConsole(Console):
    """A console that never interprets text: no markup, emoji codes or highlighting, and every
    ``str`` passed to :meth:`print` shown through :func:`custody.safetext.escape`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(markup=False, highlight=False, emoji=False)
        kwargs.setdefault("soft_wrap", True)  # a line stays one line (tables still fit the width)
        super().__init__(**kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs.pop("markup", None)  # a caller cannot switch markup back on
        kwargs.pop("emoji", None)
        kwargs.pop("highlight", None)
        super().print(*(_literal_renderable(o) for o in objects), **kwargs)


class LiteralTable(Table):
    """A table whose ``str`` cells are escaped literal text (numbers and other objects via ``str``)."""

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        cells: list[RenderableType | None] = [
            literal(cell) if isinstance(cell, str) else cell for cell in renderables
        ]
        super().add_row(*cells, **kwargs)


def label_column() -> ProgressColumn:
    """A progress column showing the task's description as literal text, never markup.

    Give the task an escaped description (``progress.add_task(escape(label))``): values never go
    into the column's format string, where ``{`` or ``[`` from a user would be interpreted.
    """
    from rich.progress import TextColumn  # with the bar: a command without one does not load it

    return TextColumn("{task.description}", markup=False)
