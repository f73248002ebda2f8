"""Weekly availability → free slots: per local date (DST-safe), minus bookings and holds."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.availability import Slot, list_free_slots, set_weekly_availability
from core.clock import FrozenClock
from core.errors import InvalidInput
from core.models import Booking, TeacherSettings, User
from core.uow import Database
from core.windows import (
    Override,
    Window,
    _ExpansionCache,
    expand_windows,
    expansions,
    merge_spans,
    without_busy,
)
from tests.conftest import T0
from tests.world import World

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
EVERY_DAY = range(7)
SUNDAY = 6


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_starts(slots: list[tuple[datetime, datetime]], zone: str) -> list[str]:
    return [s.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M") for s, _ in slots]


def daily(start_hour: int, end_hour: int) -> list[Window]:
    return [Window(d, start_hour * 60, end_hour * 60) for d in EVERY_DAY]


# --- expand_windows: pure ------------------------------------------------------------------


def test_expand_windows_berlin_1800_stays_local_across_spring_dst() -> None:
    slots = expand_windows(daily(18, 19), BERLIN, 60, utc(2027, 3, 26), utc(2027, 3, 31))
    assert [(s.day, s.hour) for s, _ in slots] == [(26, 17), (27, 17), (28, 16), (29, 16),
                                                   (30, 16)]
    assert set(local_starts(slots, BERLIN)) == {f"03-{d} 18:00" for d in range(26, 31)}
    assert all(e - s == timedelta(minutes=60) for s, e in slots)


def test_expand_windows_berlin_1800_stays_local_across_autumn_dst() -> None:
    slots = expand_windows(daily(18, 19), BERLIN, 60, utc(2027, 10, 30), utc(2027, 11, 2))
    assert [(s.day, s.hour) for s, _ in slots] == [(30, 16), (31, 17), (1, 17)]


def test_expand_windows_spring_forward_gap_produces_no_slot() -> None:
    windows = [Window(SUNDAY, 0, 6 * 60)]
    for minutes, expected in [
        (60, ["00:00", "01:00", "03:00", "04:00", "05:00"]),
        (30, ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30",
              "05:00", "05:30"]),
    ]:
        slots = expand_windows(windows, BERLIN, minutes, utc(2027, 3, 27), utc(2027, 3, 29))
        assert local_starts(slots, BERLIN) == [f"03-28 {t}" for t in expected]


def test_expand_windows_window_inside_spring_gap_produces_no_slot() -> None:
    # 02:00-03:00 does not exist in Berlin on 2027-03-28; it must not shift to 03:00.
    gap = [Window(SUNDAY, 120, 180)]
    for minutes in (30, 60):
        slots = expand_windows(gap, BERLIN, minutes, utc(2027, 3, 27), utc(2027, 3, 29))
        assert slots == []
    week_before = expand_windows(gap, BERLIN, 30, utc(2027, 3, 20), utc(2027, 3, 22))
    assert local_starts(week_before, BERLIN) == ["03-21 02:00", "03-21 02:30"]


def test_expand_windows_overlapping_windows_offer_each_slot_once() -> None:
    windows = [Window(0, 9 * 60, 12 * 60), Window(0, 10 * 60, 13 * 60),
               Window(0, 9 * 60, 10 * 60)]
    slots = expand_windows(windows, BERLIN, 60, utc(2026, 11, 23), utc(2026, 11, 24))
    assert local_starts(slots, BERLIN) == ["11-23 09:00", "11-23 10:00", "11-23 11:00",
                                           "11-23 12:00"]


def test_expand_windows_autumn_fall_back_produces_no_duplicate_or_overlap() -> None:
    windows = [Window(SUNDAY, 0, 6 * 60)]
    slots = expand_windows(windows, BERLIN, 30, utc(2027, 10, 30), utc(2027, 11, 1))
    starts = local_starts(slots, BERLIN)
    # 02:00 and 02:30 happen twice on the wall clock; each is offered once.
    assert starts == [f"10-31 {h:02d}:{m:02d}" for h in range(6) for m in (0, 30)]
    assert len({s for s, _ in slots}) == len(slots)
    assert all(prev_end <= nxt for (_, prev_end), (nxt, _) in itertools.pairwise(slots))


def test_expand_windows_new_york_1800_stays_local_across_spring_dst() -> None:
    slots = expand_windows(daily(18, 19), NEW_YORK, 60, utc(2027, 3, 13, 12),
                           utc(2027, 3, 15, 12))
    # 18:00 EST is 23:00 UTC; 18:00 EDT is 22:00 UTC.
    assert slots == [(utc(2027, 3, 13, 23), utc(2027, 3, 14, 0)),
                     (utc(2027, 3, 14, 22), utc(2027, 3, 14, 23))]


def test_expand_windows_new_york_gap_skips_0200() -> None:
    slots = expand_windows([Window(SUNDAY, 60, 4 * 60)], NEW_YORK, 60, utc(2027, 3, 14),
                           utc(2027, 3, 15))
    assert local_starts(slots, NEW_YORK) == ["03-14 01:00", "03-14 03:00"]
    assert [s for s, _ in slots] == [utc(2027, 3, 14, 6), utc(2027, 3, 14, 7)]


def test_expand_windows_drops_slots_outside_requested_range() -> None:
    # 10:30 UTC is 11:30 Berlin; 14:00 UTC is 15:00 Berlin.
    slots = expand_windows(daily(9, 17), BERLIN, 60, utc(2026, 11, 23, 10, 30),
                           utc(2026, 11, 23, 14))
    assert local_starts(slots, BERLIN) == ["11-23 12:00", "11-23 13:00", "11-23 14:00"]


def test_expand_windows_drops_slot_that_does_not_fit_window() -> None:
    slots = expand_windows([Window(0, 9 * 60, 10 * 60 + 30)], BERLIN, 60, utc(2026, 11, 23),
                           utc(2026, 11, 24))
    assert local_starts(slots, BERLIN) == ["11-23 09:00"]


def test_expand_windows_tokyo_evening_is_utc_morning() -> None:
    slots = expand_windows(daily(18, 20), "Asia/Tokyo", 45, utc(2026, 11, 23),
                           utc(2026, 11, 24))
    assert slots == [(utc(2026, 11, 23, 9), utc(2026, 11, 23, 9, 45)),
                     (utc(2026, 11, 23, 9, 45), utc(2026, 11, 23, 10, 30))]


@given(weekday=st.integers(0, 6), start=st.integers(0, 23 * 60), span=st.integers(1, 8 * 60),
       minutes=st.sampled_from([30, 45, 60, 90]),
       zone=st.sampled_from([BERLIN, NEW_YORK, "Asia/Tokyo", "Australia/Sydney",
                             "Asia/Kolkata"]))
def test_expand_windows_slots_never_leave_their_window(weekday: int, start: int, span: int,
                                                       minutes: int, zone: str) -> None:
    end = min(start + span, 1440)
    tz = ZoneInfo(zone)
    # Exactly two local weeks, with no DST change in any of these zones.
    first = datetime(2026, 11, 23, tzinfo=tz).astimezone(UTC)
    after = first + timedelta(days=14)
    slots = expand_windows([Window(weekday, start, end)], zone, minutes, first, after)
    day_starts = []
    for s, e in slots:
        ls, le = s.astimezone(tz), e.astimezone(tz)
        assert e - s == timedelta(minutes=minutes)
        assert ls.weekday() == weekday
        midnight = datetime.combine(ls.date(), datetime.min.time(), tzinfo=tz)
        assert midnight + timedelta(minutes=start) <= ls
        assert le <= midnight + timedelta(minutes=end)
        day_starts.append(ls.date())
    per_day = (end - start) // minutes
    assert all(day_starts.count(d) == per_day for d in set(day_starts))
    assert len(set(day_starts)) == (2 if per_day else 0)


def test_expand_windows_slot_spanning_spring_gap_does_not_overrun_window() -> None:
    tz = ZoneInfo(BERLIN)
    slots = expand_windows([Window(SUNDAY, 90, 180)], BERLIN, 45, utc(2027, 3, 27),
                           utc(2027, 3, 29))
    window_end = datetime(2027, 3, 28, 3, 0, tzinfo=tz)
    assert all(e <= window_end for _, e in slots)


@given(busy=st.lists(st.tuples(st.integers(-200, 3000), st.integers(1, 400)), max_size=25),
       minutes=st.sampled_from([15, 45, 60]))
def test_without_busy_keeps_exactly_the_slots_that_touch_no_busy_time(
        busy: list[tuple[int, int]], minutes: int) -> None:
    base = utc(2026, 11, 23)
    length = timedelta(minutes=minutes)
    spans = [(base + k * length, base + (k + 1) * length) for k in range(3000 // minutes)]
    taken = merge_spans([(base + timedelta(minutes=a), base + timedelta(minutes=a + d))
                         for a, d in busy])
    expected = [(s, e) for s, e in spans if not any(b0 < e and s < b1 for b0, b1 in taken)]
    assert without_busy(spans, taken, length) == expected


def test_expansions_are_reused_and_a_changed_plan_is_expanded_afresh() -> None:
    expansions.clear()
    week = (utc(2026, 11, 23), utc(2026, 11, 30))
    first = expand_windows(daily(9, 11), BERLIN, 60, *week)
    again = expand_windows(daily(9, 11), BERLIN, 60, *week)
    changed = expand_windows(daily(9, 12), BERLIN, 60, *week)
    blocked = expand_windows(daily(9, 11), BERLIN, 60, *week,
                             overrides=[Override(date(2026, 11, 24), "blocked")])
    assert first == again and len(first) == 14
    assert len(changed) == 21
    assert len(blocked) == 12
    assert expand_windows(daily(9, 11), BERLIN, 60, utc(2026, 11, 23, 9), utc(2026, 11, 23, 10)) \
        == [(utc(2026, 11, 23, 9), utc(2026, 11, 23, 10))]


def test_expansion_cache_stays_within_its_slot_budget() -> None:
    cache = _ExpansionCache(budget=100)
    spans = tuple((utc(2026, 1, 1), utc(2026, 1, 2)) for _ in range(40))
    for key in range(10):
        cache.put((key,), spans)
    assert cache.get((9,)) is not None and cache.get((8,)) is not None
    assert cache.get((0,)) is None  # the oldest went first
    cache.put(("huge",), spans * 3)  # larger than the whole budget: not kept at all
    assert cache.get(("huge",)) is None and cache.get((9,)) is not None


# --- database: availability rules and bookings ---------------------------------------------

TUESDAY = (utc(2026, 11, 24), utc(2026, 11, 25))
# Maya (Berlin, UTC+1 in November) is free 08:00-16:00 UTC; her 10:00 local lesson is 09:00 UTC.
MAYA_TUESDAY = [utc(2026, 11, 24, h) for h in range(8, 16)]


@pytest.fixture
async def world(world: World, db: Database) -> World:
    """These tests look months ahead (DST dates), past the default 28-day horizon."""
    async with db.uow() as uow:
        for teacher in (world.maya, world.ken):
            uow.session.add(TeacherSettings(user_id=teacher.id, buffer_minutes=0,
                                            horizon_days=365, min_notice_minutes=0))
    return world


async def _slots(db: Database, teachers: list[User], *, student: User | None = None,
                 minutes: int = 60, span: tuple[datetime, datetime] = TUESDAY) -> list[Slot]:
    async with db.uow() as uow:
        return await list_free_slots(uow, teachers, minutes,
                                     student_id=student.id if student else None,
                                     start=span[0], end=span[1])


async def _book(db: Database, world: World, teacher: User, student: User, starts: datetime,
                *, minutes: int = 60, status: str = "confirmed",
                hold_expires_at: datetime | None = None) -> None:
    async with db.uow() as uow:
        uow.session.add(Booking(
            course_id=world.python.id, teacher_id=teacher.id, student_id=student.id,
            kind="lesson", status=status, starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes), price_minor=4000, currency="USD",
            hold_expires_at=hold_expires_at, created_at=T0))


def _starts(slots: list[Slot]) -> list[datetime]:
    return [s.starts_at for s in slots]


async def test_list_free_slots_maya_offers_berlin_hours_in_utc(db: Database,
                                                               world: World) -> None:
    slots = await _slots(db, [world.maya])
    assert _starts(slots) == MAYA_TUESDAY
    assert all(s.teacher_id == world.maya.id for s in slots)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=60) for s in slots)


async def test_list_free_slots_two_teachers_sorted_together(db: Database,
                                                           world: World) -> None:
    slots = await _slots(db, [world.maya, world.ken])
    ken = [(s.starts_at, s.teacher_id) for s in slots if s.teacher_id == world.ken.id]
    # Ken's 18:00-20:00 in Tokyo is 09:00-11:00 UTC.
    assert ken == [(utc(2026, 11, 24, 9), world.ken.id), (utc(2026, 11, 24, 10), world.ken.id)]
    assert len(slots) == len(MAYA_TUESDAY) + 2
    assert slots == sorted(slots)


async def test_list_free_slots_without_teachers_is_empty(db: Database, world: World) -> None:
    assert await _slots(db, []) == []


async def test_list_free_slots_berlin_1800_stays_local_across_dst(db: Database,
                                                                  world: World) -> None:
    async with db.uow() as uow:
        await set_weekly_availability(uow, world.maya, daily(18, 19))
    slots = await _slots(db, [world.maya], span=(utc(2027, 3, 26), utc(2027, 3, 31)))
    assert [(s.starts_at.day, s.starts_at.hour) for s in slots] == [
        (26, 17), (27, 17), (28, 16), (29, 16), (30, 16)]


async def test_set_weekly_availability_replaces_old_windows(db: Database, world: World) -> None:
    async with db.uow() as uow:
        await set_weekly_availability(uow, world.maya, [Window(1, 14 * 60, 16 * 60)])
    assert _starts(await _slots(db, [world.maya])) == [utc(2026, 11, 24, 13),
                                                       utc(2026, 11, 24, 14)]
    async with db.uow() as uow:
        await set_weekly_availability(uow, world.maya, [])
    assert await _slots(db, [world.maya]) == []


@pytest.mark.parametrize("window", [Window(7, 0, 60), Window(-1, 0, 60), Window(0, 600, 600),
                                    Window(0, 600, 540), Window(0, -1, 60), Window(0, 0, 1441)],
                         ids=repr)
async def test_set_weekly_availability_bad_window_keeps_old_rules(db: Database, world: World,
                                                                  window: Window) -> None:
    async with db.uow() as uow:
        with pytest.raises(InvalidInput):
            await set_weekly_availability(uow, world.maya, [Window(1, 9 * 60, 10 * 60), window])
        slots = await list_free_slots(uow, [world.maya], 60, student_id=None,
                                      start=TUESDAY[0], end=TUESDAY[1])
    assert _starts(slots) == MAYA_TUESDAY


async def test_list_free_slots_confirmed_booking_removes_only_its_slot(db: Database,
                                                                      world: World) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9))
    expected = [t for t in MAYA_TUESDAY if t != utc(2026, 11, 24, 9)]
    for student in (None, world.sam, world.lee):
        assert _starts(await _slots(db, [world.maya], student=student)) == expected


async def test_list_free_slots_partly_overlapping_booking_removes_both_slots(
        db: Database, world: World) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9, 30), minutes=45)
    slots = await _slots(db, [world.maya])
    assert utc(2026, 11, 24, 9) not in _starts(slots)
    assert utc(2026, 11, 24, 10) not in _starts(slots)
    assert len(slots) == len(MAYA_TUESDAY) - 2


async def test_list_free_slots_unexpired_hold_removes_slot(db: Database, world: World) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9), status="held",
                hold_expires_at=T0 + timedelta(minutes=15))
    assert utc(2026, 11, 24, 9) not in _starts(await _slots(db, [world.maya]))


async def test_list_free_slots_expired_hold_frees_slot(db: Database, world: World) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9), status="held",
                hold_expires_at=T0 - timedelta(minutes=1))
    assert _starts(await _slots(db, [world.maya])) == MAYA_TUESDAY


async def test_list_free_slots_hold_frees_slot_once_clock_passes_expiry(
        db: Database, world: World, clock: FrozenClock) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9), status="held",
                hold_expires_at=T0 + timedelta(minutes=15))
    clock.advance(minutes=14)
    assert utc(2026, 11, 24, 9) not in _starts(await _slots(db, [world.maya]))
    clock.advance(minutes=1)
    assert _starts(await _slots(db, [world.maya])) == MAYA_TUESDAY


@pytest.mark.parametrize("status", ["cancelled", "expired", "completed"])
async def test_list_free_slots_inactive_booking_keeps_slot(db: Database, world: World,
                                                           status: str) -> None:
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9), status=status)
    assert _starts(await _slots(db, [world.maya])) == MAYA_TUESDAY


async def test_list_free_slots_students_own_booking_hides_overlap_for_them_only(
        db: Database, world: World) -> None:
    # Sam has Ken at 09:00-10:00 UTC, which is Maya's 10:00 Berlin slot.
    await _book(db, world, world.ken, world.sam, utc(2026, 11, 24, 9))
    for_sam = _starts(await _slots(db, [world.maya], student=world.sam))
    assert for_sam == [t for t in MAYA_TUESDAY if t != utc(2026, 11, 24, 9)]
    assert _starts(await _slots(db, [world.maya], student=world.lee)) == MAYA_TUESDAY
    assert _starts(await _slots(db, [world.maya])) == MAYA_TUESDAY


async def test_list_free_slots_student_who_teaches_then_cannot_book_then(
        db: Database, world: World) -> None:
    # Maya teaches Lee at 09:00 UTC, so as a student she cannot take Ken's 09:00 UTC slot.
    await _book(db, world, world.maya, world.lee, utc(2026, 11, 24, 9))
    assert _starts(await _slots(db, [world.ken], student=world.maya)) == [utc(2026, 11, 24, 10)]
    assert _starts(await _slots(db, [world.ken], student=world.sam)) == [utc(2026, 11, 24, 9),
                                                                         utc(2026, 11, 24, 10)]


async def test_list_free_slots_students_expired_hold_does_not_hide_slot(
        db: Database, world: World) -> None:
    await _book(db, world, world.ken, world.sam, utc(2026, 11, 24, 9), status="held",
                hold_expires_at=T0 - timedelta(seconds=1))
    assert _starts(await _slots(db, [world.maya], student=world.sam)) == MAYA_TUESDAY


async def test_list_free_slots_teacher_busy_as_student_loses_slot(db: Database,
                                                                  world: World) -> None:
    # Maya takes Ken's lesson at 09:00 UTC, so she cannot teach then.
    await _book(db, world, world.ken, world.maya, utc(2026, 11, 24, 9))
    slots = await _slots(db, [world.maya])
    assert _starts(slots) == [t for t in MAYA_TUESDAY if t != utc(2026, 11, 24, 9)]


async def test_list_free_slots_other_teachers_booking_leaves_slot(db: Database,
                                                                  world: World) -> None:
    await _book(db, world, world.ken, world.lee, utc(2026, 11, 24, 9))
    assert _starts(await _slots(db, [world.maya], student=world.sam)) == MAYA_TUESDAY
    ken = await _slots(db, [world.ken], student=world.sam)
    assert _starts(ken) == [utc(2026, 11, 24, 10)]

