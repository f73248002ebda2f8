"""A teacher's stored availability and terms, and the free slots they yield once
bookings, buffers and outside calendars are taken away (expansion lives in core.windows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Executable,
    and_,
    bindparam,
    delete,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from core.config import BookingSettings
from core.errors import InvalidInput
from core.models import (
    ACTIVE_STATUSES,
    AvailabilityOverride,
    AvailabilityRule,
    Booking,
    ExternalBusy,
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


def _occupying(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Bookings that take up time: confirmed ones, and holds that have not lapsed."""
    return and_(
        Booking.status.in_(ACTIVE_STATUSES),
        or_(Booking.status != "held", Booking.hold_expires_at > now),
    )


async def _rows(
    uow: UnitOfWork, statement: Executable, params: dict[str, Any] | None = None
) -> Sequence[Any]:
    """Plain rows through the connection: the slot path reads hundreds of rows per call,
    and the ORM's per-row bookkeeping cost more than the query (pending changes go first)."""
    await uow.session.flush()
    return (await (await uow.session.connection()).execute(statement, params)).all()


def _terms(cfg: BookingSettings, buffer: int | None, notice: int | None,
           horizon: int | None) -> Terms:
    """A teacher's terms: their own values, else the ``[booking]`` defaults."""
    return Terms(
        buffer or 0,
        cfg.min_notice_minutes if notice is None else notice,
        cfg.horizon_days if horizon is None else horizon,
    )


async def load_terms(uow: UnitOfWork, teacher_ids: Sequence[int]) -> dict[int, Terms]:
    """Each teacher's terms (none read again that this transaction's slots already read)."""
    known = {t: uow.memo[("terms", t)] for t in teacher_ids if ("terms", t) in uow.memo}
    if len(known) == len(teacher_ids):
        return known
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
    return {t: _terms(cfg, *rows.get(t, (0, None, None))) for t in teacher_ids}


@cache
def _schedules_query() -> Executable:
    """Terms, weekly windows and date overrides of teachers ``:ids`` as one statement: every
    row carries the teacher's terms; ``day`` is NULL on weekly rows (round trips are most
    of what a slot request costs on SQLite). Built once: the parameters are bound."""
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    weekly = (
        select(
            User.id,
            TeacherSettings.buffer_minutes,
            TeacherSettings.min_notice_minutes,
            TeacherSettings.horizon_days,
            type_coerce(null(), Date).label("day"),
            literal("weekly").label("kind"),
            AvailabilityRule.weekday,
            AvailabilityRule.start_minute,
            AvailabilityRule.end_minute,
        )
        .select_from(User)
        .outerjoin(TeacherSettings, TeacherSettings.user_id == User.id)
        .outerjoin(AvailabilityRule, AvailabilityRule.teacher_id == User.id)
        .where(User.id.in_(ids))
    )
    dated = select(
        AvailabilityOverride.teacher_id,
        null(),
        null(),
        null(),
        AvailabilityOverride.day,
        AvailabilityOverride.kind,
        null(),
        AvailabilityOverride.start_minute,
        AvailabilityOverride.end_minute,
    ).where(
        AvailabilityOverride.teacher_id.in_(ids),
        AvailabilityOverride.day >= bindparam("first"),
        AvailabilityOverride.day <= bindparam("last"),
    )
    return union_all(weekly, dated)


async def load_schedules(
    uow: UnitOfWork, teacher_ids: Sequence[int], first: date, last: date
) -> dict[int, tuple[Terms, Plan]]:
    """Each teacher's terms and plan (windows, and overrides between ``first`` and ``last``)."""
    cfg = uow.settings.booking
    plans = {teacher_id: Plan() for teacher_id in teacher_ids}
    terms: dict[int, Terms] = {}
    given = {
        "ids": list(teacher_ids),
        "first": first - timedelta(days=1),
        "last": last + timedelta(days=1),
    }
    for teacher_id, buffer, notice, horizon, day, kind, weekday, begin, finish in await _rows(
        uow, _schedules_query(), given
    ):
        if day is not None:
            plans[teacher_id].overrides.append(Override(day, kind, begin, finish))
            continue
        terms[teacher_id] = _terms(cfg, buffer, notice, horizon)
        if weekday is not None:
            plans[teacher_id].windows.append(Window(weekday, begin, finish))
    default = _terms(cfg, None, None, None)
    for teacher_id in teacher_ids:
        uow.memo[("terms", teacher_id)] = terms.get(teacher_id, default)
    return {t: (terms.get(t, default), plans[t]) for t in teacher_ids}


@cache
def _busy_query() -> Executable:
    """Bookings that take up the time of teachers ``:ids`` or of ``:person`` (0: nobody),
    and the teachers' outside-calendar busy times (rows with no student; their "until" is
    their end), between ``:start`` and ``:reach``, as one statement built once."""
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    person: BindParameter[int] = bindparam("person")
    start: BindParameter[datetime] = bindparam("start")
    reach: BindParameter[datetime] = bindparam("reach")
    booked = select(
        Booking.teacher_id,
        Booking.student_id,
        Booking.starts_at,
        Booking.ends_at,
        Booking.teacher_until,
    ).where(
        or_(
            Booking.teacher_id.in_(ids),
            Booking.student_id.in_(ids),
            Booking.student_id == person,
            Booking.teacher_id == person,
        ),
        _occupying(bindparam("now")),
        Booking.starts_at < reach,
        Booking.teacher_until > start,
        Booking.id != bindparam("ignoring"),  # a booking being moved frees its own time
    )
    outside = select(
        ExternalBusy.teacher_id,
        null(),
        ExternalBusy.starts_at,
        ExternalBusy.ends_at,
        ExternalBusy.ends_at,
    ).where(
        ExternalBusy.teacher_id.in_(ids),
        ExternalBusy.starts_at < reach,
        ExternalBusy.ends_at > start,
    )
    return union_all(booked, outside)


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
    times of their outside calendar (two statements whatever the number of teachers)."""
    if not teachers:
        return []
    now = uow.clock.now()
    ids = [t.id for t in teachers]
    schedules = await load_schedules(
        uow, ids, (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    )
    # A day beyond the end covers any buffer; buffers are applied per teacher below.
    busy_rows = await _rows(uow, _busy_query(), {
        "ids": ids, "person": student_id or 0, "now": now, "start": start,
        "reach": end + timedelta(days=1), "ignoring": ignoring or 0,
    })
    student_busy = (
        [(s, e) for _, who, s, e, _ in busy_rows if who == student_id]
        + [(s, e) for teacher_id, who, s, e, _ in busy_rows
           if who is not None and teacher_id == student_id]
        if student_id is not None
        else []
    )
    slots: list[Slot] = []
    for teacher in teachers:
        t, plan = schedules[teacher.id]
        buffer = timedelta(minutes=t.buffer_minutes)
        earliest = max(start, now + timedelta(minutes=t.min_notice_minutes))
        latest = min(end, now + timedelta(days=t.horizon_days))
        if earliest >= latest:
            continue
        # A slot must end a buffer before the teacher's next session (teacher_until already
        # holds the buffer after each one; an outside event's is its end) and must not
        # overlap what the teacher learns.
        busy = merge_spans(
            [(s - buffer, until) for teacher_id, _, s, _, until in busy_rows
             if teacher_id == teacher.id]
            + [(s, e) for _, who, s, e, _ in busy_rows if who == teacher.id]
            + student_busy
        )
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
    uow.memo.pop(("terms", teacher.id), None)  # read afresh by this transaction's next slots
    return row
