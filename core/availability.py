"""A teacher's stored availability and terms, and the free slots they yield once
bookings, buffers and outside calendars are taken away (expansion lives in core.windows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, and_, delete, or_, select

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
from core.windows import (
    Override,
    Plan,
    Window,
    expand_windows,
    merge_spans,
    merge_windows,
    without_busy,
)


class Slot(NamedTuple):
    """A bookable time (a tuple: thousands are built per request, and sort natively)."""

    starts_at: datetime
    ends_at: datetime
    teacher_id: int


@dataclass(frozen=True)
class Terms:
    """How one teacher is booked: buffer after sessions, notice, horizon."""

    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int


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


async def _rows(uow: UnitOfWork, statement: Executable) -> Sequence[Any]:
    """Plain rows through the connection: the slot path reads hundreds of rows per call,
    and the ORM's per-row bookkeeping cost more than the query (pending changes go first)."""
    await uow.session.flush()
    return (await (await uow.session.connection()).execute(statement)).all()


async def load_terms(uow: UnitOfWork, teacher_ids: Sequence[int]) -> dict[int, Terms]:
    cfg = uow.settings.booking
    rows = {
        user_id: (buffer, notice, horizon)
        for user_id, buffer, notice, horizon in await _rows(
            uow,
            select(
                TeacherSettings.user_id,
                TeacherSettings.buffer_minutes,
                TeacherSettings.min_notice_minutes,
                TeacherSettings.horizon_days,
            ).where(TeacherSettings.user_id.in_(teacher_ids)),
        )
    }
    terms: dict[int, Terms] = {}
    for teacher_id in teacher_ids:
        buffer, notice, horizon = rows.get(teacher_id, (0, None, None))
        terms[teacher_id] = Terms(
            buffer or 0,
            cfg.min_notice_minutes if notice is None else notice,
            cfg.horizon_days if horizon is None else horizon,
        )
    return terms


async def load_plans(
    uow: UnitOfWork, teacher_ids: Sequence[int], first: date, last: date
) -> dict[int, Plan]:
    plans = {teacher_id: Plan() for teacher_id in teacher_ids}
    rules = select(
        AvailabilityRule.teacher_id,
        AvailabilityRule.weekday,
        AvailabilityRule.start_minute,
        AvailabilityRule.end_minute,
    ).where(AvailabilityRule.teacher_id.in_(teacher_ids))
    for teacher_id, weekday, begin, finish in await _rows(uow, rules):
        plans[teacher_id].windows.append(Window(weekday, begin, finish))
    overrides = select(
        AvailabilityOverride.teacher_id,
        AvailabilityOverride.day,
        AvailabilityOverride.kind,
        AvailabilityOverride.start_minute,
        AvailabilityOverride.end_minute,
    ).where(
        AvailabilityOverride.teacher_id.in_(teacher_ids),
        AvailabilityOverride.day >= first - timedelta(days=1),
        AvailabilityOverride.day <= last + timedelta(days=1),
    )
    for teacher_id, day, kind, begin, finish in await _rows(uow, overrides):
        plans[teacher_id].overrides.append(Override(day, kind, begin, finish))
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
    busy_rows = await _rows(
        uow,
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
        ),
    )
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
        # A slot must end a buffer before the teacher's next session (teacher_until already
        # holds the buffer after each one) and must not overlap what the teacher learns.
        busy = merge_spans(
            [
                (b.starts_at - buffer, b.teacher_until)
                for b in busy_rows
                if b.teacher_id == teacher.id
            ]
            + [(s - buffer, e) for s, e in outside[teacher.id]]
            + [(b.starts_at, b.ends_at) for b in busy_rows if b.student_id == teacher.id]
            + student_busy
        )
        plan = plans[teacher.id]
        spans = expand_windows(
            plan.windows, teacher.timezone, minutes, earliest, latest, plan.overrides
        )
        teacher_id, make = teacher.id, tuple.__new__  # Slot(...) costs twice as much
        slots += [
            make(Slot, (s, e, teacher_id))
            for s, e in without_busy(spans, busy, timedelta(minutes=minutes))
        ]
    return slots if len(teachers) == 1 else sorted(slots)


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
