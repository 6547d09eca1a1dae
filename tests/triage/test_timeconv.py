"""Epoch converters: each encoding converted explicitly, raw value kept, no unit guessing."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from triage.plugin.timeconv import (
    LATE_NOTE,
    TimeValue,
    from_cocoa_ns,
    from_cocoa_seconds,
    from_exif_datetime,
    from_iso8601_text,
    from_prtime_us,
    from_unix_ms,
    from_unix_seconds,
    from_webkit_us,
    iso_utc,
    utc_offset,
)


def test_unix_ms_is_exact_to_the_millisecond() -> None:
    # mmssms.db row 1 (plaso test data): 2013-10-29 16:56:28.038 UTC
    t = from_unix_ms(1383065788038)
    assert t.utc == "2013-10-29T16:56:28.038000Z"
    assert (t.raw, t.encoding, t.offset) == (1383065788038, "unix_ms", "+00:00")


def test_unix_seconds() -> None:
    assert from_unix_seconds(0).utc is None
    assert from_unix_seconds(1).utc == "1970-01-01T00:00:01.000000Z"


def test_cocoa_seconds_int_and_fraction() -> None:
    # WhatsApp ZMESSAGEDATE 676082810 = Unix 1654390010 (978307200 s between the epochs)
    assert from_cocoa_seconds(676082810).utc == "2022-06-05T00:46:50.000000Z"
    assert from_cocoa_seconds(704735807.2214981).utc == "2023-05-02T15:56:47.221498Z"


def test_cocoa_nanoseconds_since_2001() -> None:
    # imessage_chat.db (plaso test data) message 8: 470573320 s = 2015-11-30 10:48:40 UTC, the
    # instant plaso asserts; the same instant as iOS 11+ stores it, in nanoseconds
    t = from_cocoa_ns(470573320_000000000)
    assert t.utc == "2015-11-30T10:48:40.000000Z"
    assert (t.raw, t.encoding, t.offset) == (470573320_000000000, "cocoa_ns", "+00:00")
    # sub-microsecond digits are kept in raw; the instant is rounded down to the microsecond
    assert from_cocoa_ns(704735807_221498999).utc == "2023-05-02T15:56:47.221498Z"
    assert from_cocoa_ns(-1).utc == "2000-12-31T23:59:59.999999Z"  # before the epoch: still down
    assert from_cocoa_ns("470573320000000000").utc == "2015-11-30T10:48:40.000000Z"
    assert from_cocoa_ns(0).utc is None and from_cocoa_ns(0).note
    assert from_cocoa_ns(10**30).note == "out of range for its encoding"
    assert from_cocoa_ns("soon").note == "not a number"
    # no unit guessing: a seconds-sized value stays nanoseconds (0.47 s after the epoch)
    assert from_cocoa_ns(470573320).utc == "2001-01-01T00:00:00.470573Z"


def test_webkit_microseconds_since_1601() -> None:
    # Chrome History visit 1: 12946651391000000 = 2011-04-07 12:03:11 UTC
    assert from_webkit_us(12946651391000000).utc == "2011-04-07T12:03:11.000000Z"


def test_prtime_microseconds_since_1970() -> None:
    assert from_prtime_us(1383065788038123).utc == "2013-10-29T16:56:28.038123Z"


def test_no_unit_guessing_from_magnitude() -> None:
    """A seconds-sized value given to the ms converter is *not* reinterpreted as seconds."""
    assert from_unix_ms(1383065788).utc == "1970-01-17T00:11:05.788000Z"


@pytest.mark.parametrize("raw", [None, 0, ""])
def test_absent_times_say_so(raw: int | str | None) -> None:
    t = from_webkit_us(raw)
    assert t.utc is None and t.raw == raw and t.note


def test_out_of_range_and_garbage_are_flagged_not_blank() -> None:
    huge = from_unix_ms(10**20)
    assert huge.utc is None and huge.note == "out of range for its encoding" and huge.raw == 10**20
    junk = from_cocoa_seconds("yesterday")
    assert junk.utc is None and junk.note == "not a number"


def test_numeric_text_is_accepted() -> None:
    assert from_unix_ms("1383065788038").utc == "2013-10-29T16:56:28.038000Z"


def test_exif_without_offset_keeps_local_time_only() -> None:
    t = from_exif_datetime("2008:05:30 15:56:01")
    assert t.utc is None and t.offset is None
    assert t.local == "2008-05-30T15:56:01.000000"
    assert t.note == "local time, UTC offset unknown"
    assert t.raw == "2008:05:30 15:56:01"


def test_exif_with_offset_and_subseconds_gives_utc() -> None:
    t = from_exif_datetime("2020:01:02 10:00:00", "+02:00", "25")
    assert t.utc == "2020-01-02T08:00:00.250000Z"
    assert t.offset == "+02:00"


@pytest.mark.parametrize("raw", ["0000:00:00 00:00:00", "    ", "2020:13:45 99:00:00", "garbage"])
def test_exif_bad_values(raw: str) -> None:
    t = from_exif_datetime(raw)
    assert t.utc is None and t.local is None and t.note


@pytest.mark.parametrize(
    ("convert", "epoch", "unit_us"),
    [
        (from_unix_ms, datetime(1970, 1, 1, tzinfo=UTC), 1_000),
        (from_unix_seconds, datetime(1970, 1, 1, tzinfo=UTC), 1_000_000),
        (from_cocoa_seconds, datetime(2001, 1, 1, tzinfo=UTC), 1_000_000),
        (from_webkit_us, datetime(1601, 1, 1, tzinfo=UTC), 1),
        (from_prtime_us, datetime(1970, 1, 1, tzinfo=UTC), 1),
    ],
)
def test_integer_times_match_datetime_arithmetic(
    convert: Callable[[int], TimeValue], epoch: datetime, unit_us: int
) -> None:
    """Stored integers are converted without datetime objects; the text and the out-of-range
    edges must be those of epoch + timedelta formatted by iso_utc (the oracle here)."""
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    lo = -((epoch - first) // timedelta(microseconds=1) // -unit_us)  # the first raw value in range
    hi = (last - epoch) // timedelta(microseconds=1) // unit_us
    rng = random.Random(unit_us)
    raws = [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, -1, 1, 86_399_999, -86_400_001, 10**30, -(10**30)]
    raws += [rng.randint(lo, hi) for _ in range(2000)]
    for raw in raws:
        try:
            want: str | None = iso_utc(epoch + timedelta(microseconds=raw * unit_us))
        except (OverflowError, ValueError):
            want = None
        got = convert(raw)
        assert got.utc == want, raw
        late = want is not None and want >= "2100"  # kept, with a note that no clock gives such a time
        assert got.note == (LATE_NOTE if late else None if want else "out of range for its encoding"), raw
        assert got.offset == ("+00:00" if want else None), raw
        if want is not None:  # made without __init__: the same value, field for field and in order
            made = TimeValue(
                utc=want, raw=raw, encoding=got.encoding, offset="+00:00", note=LATE_NOTE if late else None
            )
            assert (
                got == made
                and hash(got) == hash(made)
                and list(vars(got).items()) == list(vars(made).items())
            )


def test_a_time_no_clock_gives_is_kept_with_a_note() -> None:
    """Found in review: a Skype message's timestamp ten times the true one (13727168620 for
    1372716862) was shown as 2404-12-30 with nothing said. Kept as converted, with a note."""
    bad, good = from_unix_seconds(13727168620), from_unix_seconds(1372716862)
    assert bad.utc == "2404-12-30T06:23:40.000000Z" and bad.note == LATE_NOTE and bad.raw == 13727168620
    assert good.utc == "2013-07-01T22:14:22.000000Z" and good.note is None
    assert from_unix_seconds(13727168620.5).note == LATE_NOTE  # a float takes the other path
    assert from_cocoa_ns(4_000_000_000 * 10**9).note == LATE_NOTE
    assert (
        from_unix_ms(4102444799999).note is None and from_unix_ms(4102444800000).note == LATE_NOTE
    )  # 2100-01-01


@pytest.mark.parametrize("offset", ["+25:00", "-24:00", "+05:99", "+99:99"])
def test_an_offset_no_clock_has_keeps_the_local_time_with_a_note(offset: str) -> None:
    """Review: ``OffsetTimeOriginal=+25:00`` raised from ``datetime.timezone`` and the photo's whole
    record was lost; ``+05:99`` was read as 06:39. Now the time is local, with the offset named."""
    for value in (
        from_exif_datetime("2020:02:01 10:00:00", offset),
        from_iso8601_text(f"2020-02-01T10:00:00{offset}"),
    ):
        assert value.utc is None and value.offset is None
        assert value.local == "2020-02-01T10:00:00.000000"
        assert value.note is not None and value.note.startswith(
            f"UTC offset '{offset}' is not a valid offset"
        )


@pytest.mark.parametrize(
    "text, offset, minutes",
    [("Z", "+00:00", 0), ("+23:59", "+23:59", 1439), ("-0530", "-05:30", -330), ("+02", "+02:00", 120)],
)
def test_utc_offsets_at_their_edges(text: str, offset: str, minutes: int) -> None:
    parsed = utc_offset(text)
    assert parsed is not None and parsed[1] == offset
    assert parsed[0].utcoffset(None) == timedelta(minutes=minutes)
    assert utc_offset("+24:00") is None and utc_offset("+0560") is None and utc_offset("2:00") is None
