"""One column value of a row, read as the type the schema declares.

SQLite does not enforce declared types: a damaged or crafted database can hold a BLOB where an app
wrote text, or text where it wrote a time. A plugin reads each value through these helpers, which
return the value when it has the declared type and otherwise warn with the row (``at.warn``: the
warning names the file, the plugin, the table and the row) and give ``None``, so one bad value
costs that value, not the record or the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from triage.plugin.timeconv import TimeValue


class Warns(Protocol):
    """Where a problem with a value is reported (a :class:`~triage.plugin.sqlite_table.RowContext`)."""

    def warn(self, message: str) -> None: ...


def column_text(value: object, column: str, at: Warns | None = None) -> str | None:
    """A TEXT column's value (an empty text as ``None``); another type is warned about."""
    if value is None or isinstance(value, str):
        return value or None
    if at is not None:
        at.warn(f"{column} is not text ({type(value).__name__}): not read")
    return None


def column_int(value: object, column: str, at: Warns | None = None, *, digits: bool = False) -> int | None:
    """An INTEGER column's value; with ``digits``, also a text of decimal digits (some apps store
    numbers as text); anything else is warned about."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if digits and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if at is not None:
        at.warn(f"{column} is not an integer ({type(value).__name__}): not read")
    return None


def column_time(
    value: object, column: str, at: Warns, *, convert: Callable[[int | float | str], TimeValue], encoding: str
) -> TimeValue | None:
    """A time column converted with ``convert`` (a :mod:`~triage.plugin.timeconv` function for
    the column's ``encoding``); a value that is not a number is warned about and kept as a time
    with no UTC value and a note."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        at.warn(f"{column} is not a number ({type(value).__name__}): no time")
        return TimeValue(utc=None, raw=None, encoding=encoding, note="not a number")
    converted = convert(value)
    if converted.note == "not a number":
        at.warn(f"{column} is not a number: {str(value)[:40]!r}")
    return converted
