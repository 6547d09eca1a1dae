"""The QuickTime converters: 1904-epoch seconds and ISO 8601 text (Apple's creationdate)."""

from __future__ import annotations

from triage.plugin.timeconv import from_iso8601_text, from_mac1904_seconds


def test_mac1904_seconds() -> None:
    # 2,082,844,800 s separate 1904-01-01 from 1970-01-01 (66 years, 17 of them leap years)
    t = from_mac1904_seconds(2_082_844_800)
    assert (t.utc, t.raw, t.encoding, t.offset) == (
        "1970-01-01T00:00:00.000000Z",
        2_082_844_800,
        "mac1904_s",
        "+00:00",
    )
    # what ffmpeg writes into mvhd for -metadata creation_time=2024-05-01T12:34:56Z
    assert from_mac1904_seconds(3_797_411_696).utc == "2024-05-01T12:34:56.000000Z"
    zero = from_mac1904_seconds(0)
    assert zero.utc is None and zero.note == "no time stored (null or zero)"
    assert from_mac1904_seconds(2**64 - 1).note == "out of range for its encoding"


def test_iso8601_text_with_and_without_offset() -> None:
    t = from_iso8601_text("2024-05-01T14:34:56+0200")
    assert (t.utc, t.offset, t.local) == (
        "2024-05-01T12:34:56.000000Z",
        "+02:00",
        "2024-05-01T14:34:56.000000",
    )
    assert from_iso8601_text("2024-05-01T12:34:56.250000Z").utc == "2024-05-01T12:34:56.250000Z"
    assert from_iso8601_text("2019-12-24T23:48:46-05:30").utc == "2019-12-25T05:18:46.000000Z"
    local = from_iso8601_text("2024-05-01 14:34:56")
    assert local.utc is None and local.local == "2024-05-01T14:34:56.000000"
    assert local.note == "local time, UTC offset unknown"
    assert from_iso8601_text("yesterday").note == "not an ISO 8601 date-time"
    assert from_iso8601_text("2024-02-30T00:00:00Z").note == "invalid calendar date"
    assert from_iso8601_text("").utc is None
