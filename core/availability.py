"""Weekly availability, date overrides, and the free slots they yield.

Slots are computed per local calendar date in the teacher's zone and only then converted
to UTC, so a daylight-saving change never moves a lesson: 18:00 stays 18:00 local.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, or_, select

from core.errors import InvalidInput
from core.external_calendar import load_external_busy
from core.models import (
    ACTIVE_STATUSES,
    AvailabilityOverride,
    AvailabilityRule,
    Booking,
    TeacherSettings,
    User,
)
from core.uow import UnitOfWork

T = TypeVar("T", int, datetime)


class Slot(NamedTuple):
    """A bookable time (a tuple: thousands are built per request, and sort natively)."""

    starts_at: datetime
    ends_at: datetime
    teacher_id: int


@dataclass(frozen=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Override:
    day: date
    kind: str  # "blocked" | "extra"
    start_minute: int | None = None
    end_minute: int | None = None


@dataclass(frozen=True)
class Terms:
    """How one teacher is booked: buffer after sessions, notice, horizon."""

    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int


@dataclass
class Plan:
    """A teacher's weekly windows and date overrides."""

    windows: list[Window] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


def merge_spans(spans: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Overlapping or touching spans become one; the result is sorted (minutes or times)."""
    merged: list[tuple[T, T]] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def _subtract(spans: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def day_spans(plan: Plan, day: date) -> list[tuple[int, int]]:
    """The open minutes of one local date: weekly windows plus extras, minus blocks."""
    spans = [(w.start_minute, w.end_minute) for w in plan.windows if w.weekday == day.weekday()]
    todays = [o for o in plan.overrides if o.day == day]
    spans += [
        (o.start_minute, o.end_minute or 1440)
        for o in todays
        if o.kind == "extra" and o.start_minute is not None
    ]
    for o in todays:
        if o.kind == "blocked":
            spans = (
                []
                if o.start_minute is None
                else _subtract(spans, (o.start_minute, o.end_minute or 1440))
            )
    return merge_spans(spans)  # overlapping spans would offer a time twice


def _exists_locally(moment: datetime, zone: ZoneInfo) -> bool:
    """False for wall-clock times skipped by a DST jump (they do not round-trip)."""
    back = moment.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def expand_windows(
    windows: Iterable[Window],
    zone_name: str,
    minutes: int,
    start: datetime,
    end: datetime,
    overrides: Iterable[Override] = (),
) -> list[tuple[datetime, datetime]]:
    """Every ``minutes``-long slot inside the open spans, between ``start`` and ``end`` (UTC)."""
    zone = ZoneInfo(zone_name)
    plan = Plan(list(windows), list(overrides))
    out: list[tuple[datetime, datetime]] = []
    day: date = start.astimezone(zone).date()
    last: date = end.astimezone(zone).date()
    length = timedelta(minutes=minutes)
    step = timedelta(minutes=minutes)
    while day <= last:
        spans = day_spans(plan, day)
        if not spans:
            day += timedelta(days=1)
            continue
        midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
        offset = midnight.utcoffset()
        next_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        if offset is not None and offset == next_midnight.utcoffset():
            # No clock change today (363 days a year): plain arithmetic, exact and fast.
            base = midnight.replace(tzinfo=UTC) - offset
            for open_at, close_at in spans:
                utc = base + timedelta(minutes=open_at)
                closes = base + timedelta(minutes=close_at)
                while utc + length <= closes:
                    if start <= utc and utc + length <= end:
                        out.append((utc, utc + length))
                    utc += step
            day += timedelta(days=1)
            continue
        for open_at, close_at in spans:
            # Wall-clock arithmetic, then UTC: on a spring-forward day the span is shorter.
            closes = (midnight + timedelta(minutes=close_at)).astimezone(UTC)
            minute = open_at
            while minute + minutes <= close_at:
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                minute += minutes
                if not _exists_locally(at, zone):
                    continue
                utc = at.astimezone(UTC)
                if start <= utc and utc + length <= min(end, closes):
                    out.append((utc, utc + length))
        day += timedelta(days=1)
    # Spans are merged and days run in order, so only a repeated fall-back hour can repeat.
    return out if all(a < b for a, b in pairwise(out)) else sorted(set(out))


def booking_window(uow: UnitOfWork) -> tuple[datetime, datetime]:
    """The widest window anyone can be booked in (teachers may narrow it)."""
    now = uow.clock.now()
    return now, now + timedelta(days=365)


def _occupying(now: datetime) -> ColumnElement[bool]:
    """Bookings that take up time: confirmed ones, and holds that have not lapsed."""
    return and_(
        Booking.status.in_(ACTIVE_STATUSES),
        or_(Booking.status != "held", Booking.hold_expires_at > now),
    )


async def load_terms(uow: UnitOfWork, teacher_ids: Sequence[int]) -> dict[int, Terms]:
    cfg = uow.settings.booking
    rows = {
        s.user_id: s
        for s in (
            await uow.session.scalars(
                select(TeacherSettings).where(TeacherSettings.user_id.in_(teacher_ids))
            )
        ).all()
    }
    terms: dict[int, Terms] = {}
    for teacher_id in teacher_ids:
        row = rows.get(teacher_id)
        terms[teacher_id] = Terms(
            row.buffer_minutes if row else 0,
            row.min_notice_minutes
            if row and row.min_notice_minutes is not None
            else cfg.min_notice_minutes,
            row.horizon_days if row and row.horizon_days is not None else cfg.horizon_days,
        )
    return terms


async def load_plans(
    uow: UnitOfWork, teacher_ids: Sequence[int], first: date, last: date
) -> dict[int, Plan]:
    plans = {teacher_id: Plan() for teacher_id in teacher_ids}
    for rule in (
        await uow.session.scalars(
            select(AvailabilityRule).where(AvailabilityRule.teacher_id.in_(teacher_ids))
        )
    ).all():
        plans[rule.teacher_id].windows.append(
            Window(rule.weekday, rule.start_minute, rule.end_minute)
        )
    for o in (
        await uow.session.scalars(
            select(AvailabilityOverride).where(
                AvailabilityOverride.teacher_id.in_(teacher_ids),
                AvailabilityOverride.day >= first - timedelta(days=1),
                AvailabilityOverride.day <= last + timedelta(days=1),
            )
        )
    ).all():
        plans[o.teacher_id].overrides.append(Override(o.day, o.kind, o.start_minute, o.end_minute))
    return plans


async def list_free_slots(
    uow: UnitOfWork,
    teachers: Sequence[User],
    minutes: int,
    *,
    student_id: int | None,
    start: datetime,
    end: datetime,
    ignoring: int | None = None,
) -> list[Slot]:
    """Free slots of these teachers between ``start`` and ``end``, inside each teacher's
    notice and horizon, keeping each teacher's buffer after every session and the busy
    times of their outside calendar (five statements whatever the number of teachers)."""
    if not teachers:
        return []
    now = uow.clock.now()
    ids = [t.id for t in teachers]
    terms = await load_terms(uow, ids)
    plans = await load_plans(
        uow, ids, (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    )
    people = or_(Booking.teacher_id.in_(ids), Booking.student_id.in_(ids))
    if student_id is not None:
        people = or_(people, Booking.student_id == student_id, Booking.teacher_id == student_id)
    widest = max(t.buffer_minutes for t in terms.values())
    busy_rows = (
        await uow.session.execute(
            select(
                Booking.teacher_id,
                Booking.student_id,
                Booking.starts_at,
                Booking.ends_at,
                Booking.teacher_until,
            ).where(
                people,
                _occupying(now),
                Booking.starts_at < end + timedelta(minutes=widest),
                Booking.teacher_until > start,
                Booking.id != (ignoring or 0),  # a booking being moved frees its own time
            )
        )
    ).all()
    outside = await load_external_busy(uow, ids, start, end)
    student_busy = [
        (b.starts_at, b.ends_at)
        for b in busy_rows
        if student_id is not None and student_id in (b.student_id, b.teacher_id)
    ]
    slots: list[Slot] = []
    for teacher in teachers:
        t = terms[teacher.id]
        buffer = timedelta(minutes=t.buffer_minutes)
        earliest = max(start, now + timedelta(minutes=t.min_notice_minutes))
        latest = min(end, now + timedelta(days=t.horizon_days))
        if earliest >= latest:
            continue
        teaching = merge_spans(
            [(b.starts_at, b.teacher_until) for b in busy_rows if b.teacher_id == teacher.id]
            + outside[teacher.id])
        learning = merge_spans(
            [(b.starts_at, b.ends_at) for b in busy_rows if b.student_id == teacher.id]
            + student_busy)
        plan = plans[teacher.id]
        # Slots come out in time order, so each busy list is walked once, forward only.
        ti = li = 0
        for s, e in expand_windows(
            plan.windows, teacher.timezone, minutes, earliest, latest, plan.overrides
        ):
            while ti < len(teaching) and teaching[ti][1] <= s:
                ti += 1
            if ti < len(teaching) and teaching[ti][0] < (e + buffer if buffer else e):
                continue
            while li < len(learning) and learning[li][1] <= s:
                li += 1
            if li < len(learning) and learning[li][0] < e:
                continue
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
        for w in merge_windows(windows)
    )


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows on the same day become one."""
    given = list(windows)
    return [Window(day, begin, finish) for day in range(7)
            for begin, finish in merge_spans((w.start_minute, w.end_minute)
                                             for w in given if w.weekday == day)]


async def list_windows(uow: UnitOfWork, teacher: User) -> list[Window]:
    rules = (
        await uow.session.scalars(
            select(AvailabilityRule)
            .where(AvailabilityRule.teacher_id == teacher.id)
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_minute)
        )
    ).all()
    return [Window(r.weekday, r.start_minute, r.end_minute) for r in rules]


async def add_override(uow: UnitOfWork, teacher: User, override: Override) -> None:
    """Block a date (or some hours of it), or open extra hours on it."""
    today = uow.clock.now().astimezone(ZoneInfo(teacher.timezone)).date()
    if override.day < today:
        raise InvalidInput("That date has passed. Pick today or a later date.")
    if override.kind == "blocked" and override.start_minute is None:
        await uow.session.execute(
            delete(AvailabilityOverride).where(
                AvailabilityOverride.teacher_id == teacher.id,
                AvailabilityOverride.day == override.day,
            )
        )
    uow.session.add(
        AvailabilityOverride(
            teacher_id=teacher.id,
            day=override.day,
            kind=override.kind,
            start_minute=override.start_minute,
            end_minute=override.end_minute,
        )
    )


async def set_terms(
    uow: UnitOfWork,
    teacher: User,
    *,
    buffer_minutes: int | None = None,
    min_notice_minutes: int | None = None,
) -> TeacherSettings:
    row = await uow.session.get(TeacherSettings, teacher.id)
    if row is None:
        row = TeacherSettings(user_id=teacher.id, buffer_minutes=0)
        uow.session.add(row)
    if buffer_minutes is not None:
        if not 0 <= buffer_minutes <= 120:
            raise InvalidInput("A buffer can be 0 to 120 minutes.")
        row.buffer_minutes = buffer_minutes
    if min_notice_minutes is not None:
        if not 0 <= min_notice_minutes <= 10080:
            raise InvalidInput("Notice can be 0 minutes to 7 days.")
        row.min_notice_minutes = min_notice_minutes
    return row
