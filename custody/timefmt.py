"""Timestamps as the ledger stores them: UTC instant plus the recorder's UTC offset.

A court needs both: the UTC instant orders events across time zones; the offset tells what the
clock on the wall said where the event happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone


@dataclass(frozen=True)
class Stamp:
    """An instant in UTC (ISO 8601, microseconds, ``Z``) and the local offset (``+HH:MM``)."""

    utc: str
    offset: str

    def as_dict(self) -> dict[str, str]:
        return {"utc": self.utc, "offset": self.offset}

    def local(self) -> datetime:
        return parse_utc(self.utc).astimezone(parse_offset(self.offset))


def format_utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: refuse to guess its time zone")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_utc(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return dt.astimezone(UTC)


def parse_offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def stamp(dt: datetime | None = None) -> Stamp:
    """Stamp ``dt`` (aware) or now, keeping the local offset in force at that instant."""
    local = (dt or datetime.now(UTC)).astimezone()
    return Stamp(utc=format_utc(local), offset=format_offset(local.utcoffset()))


def parse_stamp(text: str) -> Stamp:
    """Parse a user-given ISO 8601 time with an explicit offset (``2026-01-02T10:00+01:00``)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset: add one, e.g. {text}+00:00")
    return Stamp(utc=format_utc(dt), offset=format_offset(dt.utcoffset()))
