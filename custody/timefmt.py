"""Timestamps as the ledger stores them: UTC instant plus the recorder's UTC offset.

A court needs both: the UTC instant orders events across time zones; the offset tells what the
clock on the wall said where the event happened. Both are kept exactly: an offset that is not a
whole number of minutes (historical local mean time, a POSIX ``TZ`` with seconds) is written with
its seconds rather than rounded, and a time the user types is refused with a message, never
guessed at, when it cannot be represented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from custody.errors import InvalidTime

OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})(?::(\d{2}))?$")
AT_EXAMPLE = "2026-01-02T10:00+01:00"
MAX_TIME_TEXT = 64  # no ISO 8601 time is longer; longer input is refused before parsing


@dataclass(frozen=True)
class Stamp:
    """An instant in UTC (ISO 8601, microseconds, ``Z``) and the local offset (``+HH:MM[:SS]``)."""

    utc: str
    offset: str

    def as_dict(self) -> dict[str, str]:
        return {"utc": self.utc, "offset": self.offset}

    def local(self) -> datetime:
        return parse_utc(self.utc).astimezone(parse_offset(self.offset))


def format_utc(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` with a four-digit year (``strftime('%Y')`` drops the
    leading zeros of years before 1000 on glibc, which would break the fixed width)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: refuse to guess its time zone")
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_offset(delta: timedelta | None) -> str:
    """``+HH:MM``, or ``+HH:MM:SS`` when the offset has seconds; never rounded.

    Raises ``ValueError`` for an offset with a fraction of a second (no clock has one).
    """
    delta = delta or timedelta(0)
    if delta.microseconds:
        raise ValueError(f"UTC offset {delta} has a fraction of a second")
    total = int(delta.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{seconds:02d}" if seconds else text


def parse_utc(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return dt.astimezone(UTC)


def parse_offset(text: str) -> timezone:
    """The inverse of :func:`format_offset` (``ValueError`` for anything else)."""
    match = OFFSET.match(text)
    if match is None:
        raise ValueError(f"UTC offset {text!r} is not +HH:MM or +HH:MM:SS")
    sign, hours, minutes, seconds = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
    if int(minutes) > 59 or int(seconds or 0) > 59 or delta >= timedelta(hours=24):
        raise ValueError(f"UTC offset {text!r} is out of range")
    return timezone(-delta if sign == "-" else delta)


def stamp(dt: datetime | None = None) -> Stamp:
    """Stamp ``dt`` (aware) or now, keeping the local offset in force at that instant."""
    local = (dt or datetime.now(UTC)).astimezone()
    return Stamp(utc=format_utc(local), offset=format_offset(local.utcoffset()))


def parse_stamp(text: str, *, option: str = "--at") -> Stamp:
    """Parse a user-given ISO 8601 time with an explicit offset (``2026-01-02T10:00+01:00``).

    Every way the text can fail (not ISO 8601, no offset, an offset of 24 hours or more or with a
    fraction of a second, a year Python cannot represent or that leaves the range once converted
    to UTC) is an :class:`InvalidTime` naming the value and the option it came from.
    """

    def refuse(why: str) -> InvalidTime:
        shown = text if len(text) <= MAX_TIME_TEXT else text[:MAX_TIME_TEXT] + "..."
        return InvalidTime(
            f"invalid time {shown!r} for {option}: {why}",
            hint=f"give an ISO 8601 date and time with its UTC offset, e.g. {option} {AT_EXAMPLE}",
        )

    if len(text) > MAX_TIME_TEXT:
        raise refuse("too long to be a date and time")
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        dt = datetime.fromisoformat(candidate)
    except ValueError as exc:
        if "offset must be a timedelta" in str(exc):
            raise refuse("a UTC offset must be less than 24 hours") from None
        raise refuse("not an ISO 8601 date and time (year 1 to 9999)") from None
    offset = dt.utcoffset()
    if offset is None:
        raise refuse("it has no UTC offset: add one, e.g. +00:00 for UTC") from None
    if offset.microseconds:
        raise refuse("a UTC offset cannot have a fraction of a second")
    try:
        utc = format_utc(dt)
    except OverflowError:
        raise refuse("in UTC it falls outside the years 1 to 9999") from None
    return Stamp(utc=utc, offset=format_offset(offset))
