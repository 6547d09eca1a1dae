"""Explicit conversions from the time encodings found in artifacts to a :class:`TimeValue`.

Every artifact format counts time its own way: Android stores Unix milliseconds, Apple stores
seconds since 2001-01-01 (Cocoa / Mac absolute time; Messages counts nanoseconds since then from
iOS 11), Chrome stores microseconds since 1601 (WebKit), Firefox stores microseconds since 1970
(PRTime), EXIF stores local wall-clock text with no offset. Each plugin names the encoding it knows its column uses and calls the matching
converter. Nothing here guesses a unit from the size of a number: one project that did so dated
evidence decades off when a value happened to fall in the "wrong" range.

A converted time keeps the raw value and the encoding name next to the UTC instant, so an examiner
can always check the conversion by hand, and a value that cannot be converted (zero, null, out of
range) is reported as such rather than turned into an empty string.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = [
    "COCOA_EPOCH",
    "MAC1904_EPOCH",
    "UNIX_EPOCH",
    "WEBKIT_EPOCH",
    "TimeValue",
    "from_cocoa_ns",
    "from_cocoa_seconds",
    "from_exif_datetime",
    "from_iso8601_text",
    "from_mac1904_seconds",
    "from_prtime_us",
    "from_unix_ms",
    "from_unix_seconds",
    "from_webkit_us",
    "iso_utc",
    "utc_offset",
    "wall_time",
]

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
WEBKIT_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
MAC1904_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)

# Encoding names, as stored in TimeValue.encoding (part of the record format: do not rename).
UNIX_S = "unix_s"
UNIX_MS = "unix_ms"
COCOA_S = "cocoa_s"
COCOA_NS = "cocoa_ns"
WEBKIT_US = "webkit_us"
PRTIME_US = "prtime_us"
EXIF_LOCAL = "exif_local"
MAC1904_S = "mac1904_s"
ISO8601_TEXT = "iso8601_text"


@dataclass(frozen=True, kw_only=True)
class TimeValue:
    """A time read from an artifact: the UTC instant (when known) and exactly what was stored.

    ``utc`` is ISO 8601 with microseconds and ``Z``, or ``None`` when the stored value means
    "no time" (zero/null) or cannot be converted; ``note`` then says which. ``local`` holds the
    wall-clock time when that is all the artifact records (EXIF without an offset): the UTC
    instant is then unknown and ``offset`` is ``None`` rather than a guessed ``+00:00``.
    """

    utc: str | None
    raw: int | float | str | None
    encoding: str
    offset: str | None = None
    local: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON-able form used by :func:`triage.plugin.records.record_to_dict`."""
        return {
            "utc": self.utc,
            "raw": self.raw,
            "encoding": self.encoding,
            "offset": self.offset,
            "local": self.local,
            "note": self.note,
        }


def iso_utc(dt: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the project-wide form)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: refuse to guess its time zone")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_OFFSET_TEXT = re.compile(r"^([+-])(\d{2}):?(\d{2})?$")


def utc_offset(text: str) -> tuple[timezone, str] | None:
    """``Z``, ``+HH:MM``, ``+HHMM`` or ``+HH`` as a time zone and its ``+HH:MM`` form, or ``None``
    when the text is no offset a clock can have (hours over 23, minutes over 59: ``+25:00`` is
    written by broken firmware and hostile files alike). Callers keep the local time and say so."""
    if text == "Z":
        return UTC, "+00:00"
    m = _OFFSET_TEXT.match(text)
    if m is None:
        return None
    hours, minutes = int(m[2]), int(m[3] or 0)
    if hours > 23 or minutes > 59:
        return None
    return timezone((-1 if m[1] == "-" else 1) * timedelta(hours=hours, minutes=minutes)), (
        f"{m[1]}{m[2]}:{minutes:02d}"
    )


def _bad_offset_note(text: str) -> str:
    """The note of a time whose UTC offset is not one (see :func:`utc_offset`)."""
    return f"UTC offset {text!r} is not a valid offset (hours 0-23, minutes 0-59): local time, UTC unknown"


def _absent(raw: object) -> bool:
    return raw is None or raw == 0 or raw == ""


def _number(raw: int | float | str | None, encoding: str) -> int | float | None:
    """Accept ints, floats and numeric text (SQLite columns are loosely typed)."""
    if isinstance(raw, bool):
        raise TypeError(f"{encoding}: boolean is not a time value")
    if isinstance(raw, int | float):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                return None
    return None


_DAY_US = 86_400_000_000
#: The instants a datetime can hold, in microseconds since 1970 (years 1 to 9999).
_MIN_US = (datetime(1, 1, 1, tzinfo=UTC) - UNIX_EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) - UNIX_EPOCH) // timedelta(microseconds=1)
_EPOCH_US: dict[datetime, int] = {}
_NO_TIME: dict[str, TimeValue] = {}  # encoding -> the value of a NULL time
#: The day of the last instant formatted: (day number since 1970, "YYYY-MM-DDT" as iso_utc writes
#: it). One day, not a map of them: the rows of a table come in time order, mostly, and a
#: million-row table must not grow a cache (the plugins' bounded-memory tests measure it).
_last_day: list[tuple[int, str]] = [(0, "1970-01-01T")]


def _iso_from_us(us: int) -> str:
    """``iso_utc`` of the instant ``us`` microseconds after 1970 (within _MIN_US.._MAX_US), by
    integer arithmetic: the date part is made by iso_utc when the day changes, the time of day
    is formatted here."""
    day, rest = divmod(us, _DAY_US)
    known, date = _last_day[0]
    if known != day:
        text = iso_utc(UNIX_EPOCH + timedelta(days=day))
        date = text[: text.index("T") + 1]
        _last_day[0] = (day, date)
    seconds, micro = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{date}{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}Z"


#: Times from this year on are kept as converted, with a note: no device's clock gives them, so
#: the stored value is damaged or not in the unit its column holds (found in review: a Skype
#: message in 2404, its timestamp ten times the one of the same message in another table).
_LATE = "2100"
LATE_NOTE = "later than the year 2100: converted as stored; check the raw value and its unit"


def _late(value: TimeValue) -> TimeValue:
    """``value`` with :data:`LATE_NOTE` when its instant is in or after 2100 (one string test)."""
    if value.utc is not None and value.utc >= _LATE:
        return TimeValue(
            utc=value.utc, raw=value.raw, encoding=value.encoding, offset="+00:00", note=LATE_NOTE
        )
    return value


def _utc_time(utc: str, raw: int, encoding: str) -> TimeValue:
    """``TimeValue(utc=utc, raw=raw, encoding=encoding, offset="+00:00")``, made without the frozen
    dataclass's ``__init__`` (which sets each field through ``object.__setattr__``): three of these
    per message of a chat database. The same fields, in the instance's ``__dict__``."""
    value = object.__new__(TimeValue)
    value.__dict__.update(utc=utc, raw=raw, encoding=encoding, offset="+00:00", local=None, note=None)
    return value


def _convert(raw: int | float | str | None, encoding: str, epoch: datetime, unit_us: int) -> TimeValue:
    """Shared body: ``epoch + raw * unit``; integer arithmetic for ints so milliseconds stay exact.

    A stored integer (nearly every time in a database) takes a path without datetime objects:
    the same text as ``iso_utc(epoch + timedelta(...))`` and the same "out of range" outside the
    years 1 to 9999 (tests/triage/test_timeconv.py compares the two on the edges)."""
    if raw is None:  # a column left empty: one shared value per encoding (a TimeValue is frozen)
        absent = _NO_TIME.get(encoding)
        if absent is None:
            absent = _NO_TIME[encoding] = TimeValue(
                utc=None, raw=None, encoding=encoding, note="no time stored (null or zero)"
            )
        return absent
    if type(raw) is int and raw:
        offset = _EPOCH_US.get(epoch)
        if offset is None:
            offset = _EPOCH_US[epoch] = (epoch - UNIX_EPOCH) // timedelta(microseconds=1)
        us = offset + raw * unit_us
        if _MIN_US <= us <= _MAX_US:
            text = _iso_from_us(us)
            if text >= _LATE:
                return _late(_utc_time(text, raw, encoding))
            return _utc_time(text, raw, encoding)
        return TimeValue(utc=None, raw=raw, encoding=encoding, note="out of range for its encoding")
    if _absent(raw):
        return TimeValue(utc=None, raw=raw, encoding=encoding, note="no time stored (null or zero)")
    number = _number(raw, encoding)
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        return TimeValue(utc=None, raw=raw, encoding=encoding, note="not a number")
    micro = number * unit_us if isinstance(number, int) else round(number * unit_us)
    return _instant(epoch, micro, raw, encoding)


def _instant(epoch: datetime, micro: int, raw: int | float | str | None, encoding: str) -> TimeValue:
    """``epoch`` + ``micro`` microseconds in UTC (with the note of a time no clock gives), or
    "out of range" outside the years 1 to 9999."""
    try:
        utc = iso_utc(epoch + timedelta(microseconds=micro))
    except (OverflowError, ValueError):
        return TimeValue(utc=None, raw=raw, encoding=encoding, note="out of range for its encoding")
    return _late(TimeValue(utc=utc, raw=raw, encoding=encoding, offset="+00:00"))


def from_unix_seconds(raw: int | float | str | None) -> TimeValue:
    """Seconds since 1970-01-01 UTC (POSIX time)."""
    return _convert(raw, UNIX_S, UNIX_EPOCH, 1_000_000)


def from_unix_ms(raw: int | float | str | None) -> TimeValue:
    """Milliseconds since 1970-01-01 UTC (Java/Android ``System.currentTimeMillis``)."""
    return _convert(raw, UNIX_MS, UNIX_EPOCH, 1_000)


def from_cocoa_seconds(raw: int | float | str | None) -> TimeValue:
    """Seconds since 2001-01-01 UTC (Cocoa ``NSDate`` / Mac absolute time; Core Data TIMESTAMP)."""
    return _convert(raw, COCOA_S, COCOA_EPOCH, 1_000_000)


def from_cocoa_ns(raw: int | float | str | None) -> TimeValue:
    """Nanoseconds since 2001-01-01 UTC (Apple Messages ``message.date`` from iOS 11 / macOS 10.13).

    The instant is kept to the microsecond, rounded down (towards the past); ``raw`` keeps the
    nanoseconds exactly as stored.
    """
    if _absent(raw):
        return TimeValue(utc=None, raw=raw, encoding=COCOA_NS, note="no time stored (null or zero)")
    number = _number(raw, COCOA_NS)
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        return TimeValue(utc=None, raw=raw, encoding=COCOA_NS, note="not a number")
    micro = number // 1000 if isinstance(number, int) else math.floor(number / 1000)
    return _instant(COCOA_EPOCH, micro, raw, COCOA_NS)


def from_webkit_us(raw: int | float | str | None) -> TimeValue:
    """Microseconds since 1601-01-01 UTC (Chrome/WebKit history, Windows FILETIME / 10)."""
    return _convert(raw, WEBKIT_US, WEBKIT_EPOCH, 1)


def from_prtime_us(raw: int | float | str | None) -> TimeValue:
    """Microseconds since 1970-01-01 UTC (Mozilla PRTime, e.g. ``moz_historyvisits.visit_date``)."""
    return _convert(raw, PRTIME_US, UNIX_EPOCH, 1)


_EXIF_DT = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def from_exif_datetime(raw: str | None, offset: str | None = None, subsec: str | None = None) -> TimeValue:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` local time, with the EXIF 2.31 ``OffsetTime*`` tag if present.

    Without an offset the UTC instant is unknown: ``utc`` stays ``None``, ``local`` carries the
    wall-clock time and ``note`` flags it, so a timeline never silently treats camera time as UTC.
    """
    if raw is None or not raw.strip(" \x00") or set(raw.strip(" \x00")) <= set("0: "):
        return TimeValue(utc=None, raw=raw, encoding=EXIF_LOCAL, note="no time stored")
    text = raw.strip(" \x00")
    m = _EXIF_DT.match(text)
    if not m:
        return TimeValue(utc=None, raw=raw, encoding=EXIF_LOCAL, note="not an EXIF date-time")
    micro = 0
    if subsec and subsec.strip(" \x00").isdigit():
        digits = subsec.strip(" \x00")[:6]
        micro = int(digits.ljust(6, "0"))
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        wall = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return TimeValue(utc=None, raw=raw, encoding=EXIF_LOCAL, note="invalid calendar date")
    off = offset.strip(" \x00") if offset else None
    return wall_time(raw, EXIF_LOCAL, wall, off if off and _EXIF_OFFSET.match(off) else None)


def from_mac1904_seconds(raw: int | float | str | None) -> TimeValue:
    """Seconds since 1904-01-01 UTC: QuickTime / ISO BMFF ``mvhd``, ``tkhd`` and ``mdhd`` times.

    ISO/IEC 14496-12 defines these fields as UTC; some cameras write their local wall-clock time
    there instead, which nothing in the file reveals (compare with a time that carries an offset,
    such as Apple's ``com.apple.quicktime.creationdate``).
    """
    return _convert(raw, MAC1904_S, MAC1904_EPOCH, 1_000_000)


_ISO_TEXT = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def from_iso8601_text(raw: str | None) -> TimeValue:
    """ISO 8601 date-time text such as ``2024-05-01T14:34:56+0200`` (Apple's QuickTime
    ``com.apple.quicktime.creationdate``, the ``creation_time`` text of MP4 ``mdta`` keys).

    With ``Z`` or an offset the UTC instant is given; without one it is local time of unknown
    offset: ``utc`` stays ``None`` and ``local`` holds the wall-clock reading, as for EXIF.
    """
    if raw is None or not raw.strip(" \x00"):
        return TimeValue(utc=None, raw=raw, encoding=ISO8601_TEXT, note="no time stored")
    m = _ISO_TEXT.match(raw.strip(" \x00"))
    if not m:
        return TimeValue(utc=None, raw=raw, encoding=ISO8601_TEXT, note="not an ISO 8601 date-time")
    micro = int(m[7][:6].ljust(6, "0")) if m[7] else 0
    try:
        wall = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), micro)
    except ValueError:
        return TimeValue(utc=None, raw=raw, encoding=ISO8601_TEXT, note="invalid calendar date")
    return wall_time(raw, ISO8601_TEXT, wall, m[8])


def wall_time(
    raw: str, encoding: str, wall: datetime, zone: str | None, *, local_when_utc: bool = True
) -> TimeValue:
    """A wall-clock reading with the zone text written beside it (``Z``, ``+HH:MM``...; ``None``
    when none was): the UTC instant when the zone is an offset a clock can have, else the local
    time with a note saying why there is no UTC. ``local_when_utc``: keep ``local`` for a time
    written in UTC too."""
    local = wall.isoformat(timespec="microseconds")
    if not zone:
        return TimeValue(
            utc=None, raw=raw, encoding=encoding, local=local, note="local time, UTC offset unknown"
        )
    parsed = utc_offset(zone)
    if parsed is None:
        return TimeValue(utc=None, raw=raw, encoding=encoding, local=local, note=_bad_offset_note(zone))
    tz, offset = parsed
    try:
        utc = iso_utc(wall.replace(tzinfo=tz))
    except (OverflowError, ValueError):
        return TimeValue(
            utc=None, raw=raw, encoding=encoding, local=local, note="out of range for its encoding"
        )
    keep = local_when_utc or offset != "+00:00"
    return TimeValue(utc=utc, raw=raw, encoding=encoding, offset=offset, local=local if keep else None)
