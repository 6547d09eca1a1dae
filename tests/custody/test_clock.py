"""CLOCK_ANOMALY names the entry whose clock was wrong, not its honest successors (point 5 of
issue 7). Entries are recorded for real, properly signed, with the recording computer's clock set
to a chosen time (the ledger takes its stamps from ``custody.timefmt.stamp``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody.case import Case
from custody.events import record_event
from custody.items import acquire
from custody.verify import Report, verify_case

T0 = datetime.now(UTC) + timedelta(hours=1)  # after the actors' registrations (real clock)
FUTURE = max(datetime(2031, 5, 1, 12, 0, tzinfo=UTC), T0 + timedelta(days=400))


def anomalies(report: Report) -> list[int | None]:
    return [p.seq for p in report.problems if p.code == "CLOCK_ANOMALY"]


def record(case: Case, set_clock: Callable[[datetime], None], when: datetime, location: str) -> int:
    set_clock(when)
    return record_event(case, "move", "EX-001", actor="jdoe", location=location).seq


@pytest.fixture
def acquired(case: Case, evidence: Path, set_clock: Callable[[datetime], None]) -> Case:
    set_clock(T0)
    acquire(case, evidence, exhibit="EX-001", actor="jdoe", description="disk")
    return case


def test_one_entry_recorded_in_2031_is_the_one_flagged(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    """The issue's case: the clock is set to 2031 for one entry, then put right. Before the fix
    the 2031 entry passed and every honest entry after it was flagged."""
    honest = [record(acquired, set_clock, T0 + timedelta(minutes=m), f"shelf {m}") for m in (1, 2)]
    wrong = record(acquired, set_clock, FUTURE, "shelf 2031")
    later = [record(acquired, set_clock, T0 + timedelta(minutes=m), f"shelf {m}") for m in (3, 4, 5)]
    report = verify_case(acquired, now=T0 + timedelta(hours=1))
    assert anomalies(report) == [wrong], report.problems
    assert "after the time of this verification" in report.problems[0].detail
    assert report.problems[0].exhibit == "EX-001"
    assert honest and later


def test_a_forward_spike_not_in_the_future_is_flagged_alone(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    """Clock a day ahead for one entry; verified two days later, so the entry is not in the
    future: it is still the one out of order, not the honest entries around it."""
    for m in (1, 2):
        record(acquired, set_clock, T0 + timedelta(minutes=m), "before")
    wrong = record(acquired, set_clock, T0 + timedelta(days=1), "a day ahead")
    for m in (3, 4, 5):
        record(acquired, set_clock, T0 + timedelta(minutes=m), "after")
    report = verify_case(acquired, now=T0 + timedelta(days=2))
    assert anomalies(report) == [wrong]
    detail = next(p.detail for p in report.problems if p.code == "CLOCK_ANOMALY")
    assert f"entry {wrong - 1} before it" in detail and f"entry {wrong + 1} after it" in detail


def test_a_clock_set_back_flags_that_entry_only(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    for m in (1, 2):
        record(acquired, set_clock, T0 + timedelta(minutes=m), "before")
    wrong = record(acquired, set_clock, datetime(2001, 1, 1, tzinfo=UTC), "2001")
    for m in (3, 4):
        record(acquired, set_clock, T0 + timedelta(minutes=m), "after")
    assert anomalies(verify_case(acquired, now=T0 + timedelta(hours=1))) == [wrong]


def test_a_run_of_wrong_entries_shorter_than_the_honest_run(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    wrong = [record(acquired, set_clock, T0 + timedelta(days=1, minutes=m), "ahead") for m in (1, 2)]
    for m in (3, 4, 5):
        record(acquired, set_clock, T0 + timedelta(minutes=m), "after")
    assert anomalies(verify_case(acquired, now=T0 + timedelta(days=3))) == wrong


def test_undecidable_order_flags_both_candidates(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    """1, 5, 2 (the last two entries): either the 5 or the 2 is wrong and nothing says which."""
    first = record(acquired, set_clock, T0 + timedelta(minutes=5), "late")
    second = record(acquired, set_clock, T0 + timedelta(minutes=2), "early")
    assert anomalies(verify_case(acquired, now=T0 + timedelta(days=1))) == [first, second]


def test_every_entry_after_the_verification_time(
    acquired: Case, set_clock: Callable[[datetime], None]
) -> None:
    """A verifying computer whose clock is behind sees everything as future, and says so."""
    report = verify_case(acquired, now=T0 - timedelta(minutes=30))
    assert anomalies(report) == [3]  # the acquisition; the registrations were an hour before T0
    report = verify_case(acquired, now=T0 - timedelta(days=2))
    assert anomalies(report) == [1, 2, 3]


def test_honest_ledger_has_no_anomaly(acquired: Case, set_clock: Callable[[datetime], None]) -> None:
    for m in (1, 1, 2):  # equal times are in order
        record(acquired, set_clock, T0 + timedelta(minutes=m), "same")
    assert verify_case(acquired, now=T0 + timedelta(minutes=10)).ok
    assert anomalies(verify_case(acquired)) == [3, 4, 5, 6]  # the real clock is an hour behind T0


def test_problems_stay_in_entry_order(acquired: Case, set_clock: Callable[[datetime], None]) -> None:
    """The anomaly found at the end is listed where checking in order would have put it."""
    record(acquired, set_clock, T0 + timedelta(minutes=1), "a")
    wrong = record(acquired, set_clock, T0 + timedelta(days=1), "b")
    record(acquired, set_clock, T0 + timedelta(minutes=2), "c")
    record_event(acquired, "unseal", "EX-001", actor="jdoe", seal="S-9")  # SEAL_MISMATCH, later entry
    report = verify_case(acquired, now=T0 + timedelta(days=2))
    assert [(p.code, p.seq) for p in report.problems] == [
        ("CLOCK_ANOMALY", wrong),
        ("SEAL_MISMATCH", wrong + 2),
    ]
