"""Weekly availability and the free slots it yields.

Slots are computed per local calendar date in the teacher's zone and only then converted
to UTC, so a daylight-saving change never moves a lesson: 18:00 stays 18:00 local.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, or_, select

from core.errors import InvalidInput
from core.models import ACTIVE_STATUSES, AvailabilityRule, Booking, User
from core.uow import UnitOfWork


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    teacher_id: int


@dataclass(frozen=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


def _exists_locally(moment: datetime, zone: ZoneInfo) -> bool:
    """False for wall-clock times skipped by a DST jump (they do not round-trip)."""
    back = moment.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def expand_windows(
    windows: Iterable[Window], zone_name: str, minutes: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Every ``minutes``-long slot inside the windows, between ``start`` and ``end`` (UTC)."""
    zone = ZoneInfo(zone_name)
    by_day: dict[int, list[Window]] = {}
    for w in windows:
        by_day.setdefault(w.weekday, []).append(w)
    out: list[tuple[datetime, datetime]] = []
    day: date = start.astimezone(zone).date()
    last: date = end.astimezone(zone).date()
    length = timedelta(minutes=minutes)
    while day <= last:
        midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
        for w in by_day.get(day.weekday(), ()):
            # Wall-clock arithmetic, then UTC: on a spring-forward day the window is shorter.
            closes = (midnight + timedelta(minutes=w.end_minute)).astimezone(UTC)
            minute = w.start_minute
            while minute + minutes <= w.end_minute:
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                minute += minutes
                if not _exists_locally(at, zone):
                    continue
                utc = at.astimezone(UTC)
                if start <= utc and utc + length <= min(end, closes):
                    out.append((utc, utc + length))
        day += timedelta(days=1)
    return sorted(set(out))


def booking_window(uow: UnitOfWork) -> tuple[datetime, datetime]:
    """From the minimum notice to the booking horizon."""
    now = uow.clock.now()
    cfg = uow.settings.booking
    return now + timedelta(minutes=cfg.min_notice_minutes), now + timedelta(days=cfg.horizon_days)


def _occupying(now: datetime) -> ColumnElement[bool]:
    """Bookings that take up time: confirmed ones, and holds that have not lapsed."""
    return and_(
        Booking.status.in_(ACTIVE_STATUSES),
        or_(Booking.status != "held", Booking.hold_expires_at > now),
    )


async def list_free_slots(
    uow: UnitOfWork,
    teachers: Sequence[User],
    minutes: int,
    *,
    student_id: int | None,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Free slots of these teachers (two statements whatever their number)."""
    if not teachers:
        return []
    ids = [t.id for t in teachers]
    rules = (
        await uow.session.scalars(
            select(AvailabilityRule).where(AvailabilityRule.teacher_id.in_(ids))
        )
    ).all()
    people = or_(Booking.teacher_id.in_(ids), Booking.student_id.in_(ids))
    if student_id is not None:
        people = or_(people, Booking.student_id == student_id, Booking.teacher_id == student_id)
    busy_rows = (
        await uow.session.execute(
            select(
                Booking.teacher_id, Booking.student_id, Booking.starts_at, Booking.ends_at
            ).where(
                people,
                _occupying(uow.clock.now()),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
        )
    ).all()
    student_busy = [
        (b.starts_at, b.ends_at)
        for b in busy_rows
        if student_id is not None and student_id in (b.student_id, b.teacher_id)
    ]
    slots: list[Slot] = []
    for teacher in teachers:
        windows = [
            Window(r.weekday, r.start_minute, r.end_minute)
            for r in rules
            if r.teacher_id == teacher.id
        ]
        busy = student_busy + [
            (b.starts_at, b.ends_at)
            for b in busy_rows
            if teacher.id in (b.teacher_id, b.student_id)
        ]
        for s, e in expand_windows(windows, teacher.timezone, minutes, start, end):
            if not any(s < b_end and b_start < e for b_start, b_end in busy):
                slots.append(Slot(s, e, teacher.id))
    return sorted(slots)


async def set_weekly_availability(
    uow: UnitOfWork, teacher: User, windows: Sequence[Window]
) -> None:
    """Replace the teacher's weekly windows."""
    for w in windows:
        if not (0 <= w.weekday <= 6 and 0 <= w.start_minute < w.end_minute <= 1440):
            raise InvalidInput("Each window needs a weekday and a start before its end.")
    await uow.session.execute(
        delete(AvailabilityRule).where(AvailabilityRule.teacher_id == teacher.id)
    )
    uow.session.add_all(
        AvailabilityRule(
            teacher_id=teacher.id,
            weekday=w.weekday,
            start_minute=w.start_minute,
            end_minute=w.end_minute,
        )
        for w in windows
    )
