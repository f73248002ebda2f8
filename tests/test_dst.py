"""Lessons keep their local time across both daylight-saving transitions, in London,
New York and Sydney (southern hemisphere: the switches go the other way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.windows import Window, expand_windows

DAILY_18 = [Window(d, 18 * 60, 19 * 60) for d in range(7)]
DAILY_0130 = [Window(d, 90, 180) for d in range(7)]  # 01:30-03:00, straddles the switches


@pytest.mark.parametrize(("zone", "before", "after", "days"), [
    # zone, UTC hour of 18:00 local before and after, (first, last) day of the span
    ("Europe/London", 18, 17, ((2027, 3, 26), (2027, 3, 30))),   # spring forward 28 Mar
    ("Europe/London", 17, 18, ((2026, 10, 23), (2026, 10, 27))),  # fall back 25 Oct
    ("America/New_York", 23, 22, ((2027, 3, 12), (2027, 3, 16))),  # spring forward 14 Mar
    ("America/New_York", 22, 23, ((2026, 10, 30), (2026, 11, 3))),  # fall back 1 Nov
    ("Australia/Sydney", 7, 8, ((2027, 4, 2), (2027, 4, 6))),   # fall back 4 Apr (AEDT->AEST)
    ("Australia/Sydney", 8, 7, ((2026, 10, 2), (2026, 10, 6))),  # spring forward 4 Oct
])
def test_six_pm_stays_six_pm_local_across_the_switch(
        zone: str, before: int, after: int, days: tuple[tuple[int, int, int], ...]) -> None:
    start = datetime(*days[0], tzinfo=UTC)
    end = datetime(*days[1], 23, 59, tzinfo=UTC)
    slots = expand_windows(DAILY_18, zone, 60, start, end)
    hours = [s.hour for s, _ in slots]
    assert hours[0] == before and hours[-1] == after
    assert set(hours) == {before, after}
    assert {s.astimezone(ZoneInfo(zone)).hour for s, _ in slots} == {18}


@pytest.mark.parametrize(("zone", "day"), [
    ("Europe/London", (2027, 3, 28)), ("America/New_York", (2027, 3, 14)),
    ("Australia/Sydney", (2026, 10, 4)),
])
def test_spring_forward_gap_yields_no_slot_that_does_not_exist(
        zone: str, day: tuple[int, int, int]) -> None:
    start = datetime(*day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    slots = expand_windows(DAILY_0130, zone, 30, start, start + timedelta(days=1))
    local = [s.astimezone(ZoneInfo(zone)) for s, _ in slots]
    # Every offered start exists on the wall clock and its end stays inside the window.
    for (s, e), at in zip(slots, local, strict=True):
        assert at.replace(tzinfo=None) == s.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        assert (e - s).total_seconds() == 1800
    assert len({s for s, _ in slots}) == len(slots)


@pytest.mark.parametrize(("zone", "day"), [
    ("Europe/London", (2026, 10, 25)), ("America/New_York", (2026, 11, 1)),
    ("Australia/Sydney", (2027, 4, 4)),
])
def test_fall_back_repeated_hour_is_offered_once(zone: str, day: tuple[int, int, int]) -> None:
    start = datetime(*day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    slots = expand_windows(DAILY_0130, zone, 30, start, start + timedelta(days=1))
    labels = [s.astimezone(ZoneInfo(zone)).strftime("%H:%M") for s, _ in slots]
    assert len(labels) == len(set(labels))
