"""Holding, confirming, listing and cancelling bookings.

The service checks first for a friendly answer; the database has the last word: a trigger
(SQLite) or an exclusion constraint (PostgreSQL) refuses any overlap for a teacher or a
student, so two racing requests can never both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.availability import list_free_slots, load_terms
from core.catalogue import course_by_id, find_course_teacher
from core.db import is_valid_id
from core.errors import (
    BookingStateError,
    CourseRetired,
    IntroAlreadyTaken,
    InvalidInput,
    NotFound,
    ReasonRequired,
    SlotTaken,
    StudentBusy,
)
from core.escrow import charge_late_cancel, paid_payment, refund_unreleased
from core.learning import assign_module, enrol, enrolment_of
from core.models import ACTIVE_STATUSES, Booking, Course, TeacherSettings, User
from core.money import Money
from core.reminder import plan_reminders
from core.text import clean_reason
from core.uow import UnitOfWork


@dataclass(frozen=True)
class BookingView:
    """A booking with the names a person needs to recognise it."""

    booking: Booking
    course_title: str
    teacher_name: str
    student_name: str


INTRO_MINUTES = 15


async def teacher_records(uow: UnitOfWork, teacher_id: int) -> bool:
    """The teacher's standing agreement to have sessions recorded."""
    return bool(await uow.session.scalar(select(TeacherSettings.records_sessions).where(
        TeacherSettings.user_id == teacher_id)))


async def toggle_teacher_records(uow: UnitOfWork, teacher: User) -> bool:
    """Switch the teacher's agreement to recordings; returns whether they now agree.
    Sessions already booked keep what was agreed at booking."""
    row = await uow.session.get(TeacherSettings, teacher.id, with_for_update=True)
    if row is None:
        row = TeacherSettings(user_id=teacher.id, buffer_minutes=0, offers_intro=True,
                              records_sessions=False)
        uow.session.add(row)
    row.records_sessions = not row.records_sessions
    return row.records_sessions


async def hold_slot(
    uow: UnitOfWork,
    student: User,
    course_id: int,
    teacher_id: int,
    starts_at: datetime,
    *,
    intro: bool = False,
    record: bool = False,
) -> Booking:
    """Reserve a slot for ``student`` until the hold lapses or is paid. ``record``: the
    student agrees to a recording (made only if the teacher agrees too).

    A free intro (15 minutes, no payment) is confirmed at once; one per student and teacher.
    """
    course = await bookable_course(uow, course_id, student.id, intro=intro)
    minutes = INTRO_MINUTES if intro else course.session_minutes
    if teacher_id == student.id:
        raise InvalidInput("You can't book a session with yourself.")
    teacher = (await find_course_teacher(uow, course_id, teacher_id)
               if is_valid_id(teacher_id) else None)
    if teacher is None:
        raise NotFound("teacher")
    if intro and teacher_id in await list_intro_partners(uow, student.id):
        raise IntroAlreadyTaken()
    ends_at = starts_at + timedelta(minutes=minutes)
    free = await list_free_slots(
        uow, [teacher], minutes, student_id=student.id, start=starts_at, end=ends_at
    )
    if not any(s.starts_at == starts_at for s in free):
        teacher_free = await list_free_slots(
            uow, [teacher], minutes, student_id=None, start=starts_at, end=ends_at
        )
        if any(s.starts_at == starts_at for s in teacher_free):
            raise StudentBusy()
        raise SlotTaken()
    now = uow.clock.now()
    await _expire_lapsed_holds(uow, now, people=(teacher_id, student.id))
    terms = (await load_terms(uow, [teacher_id]))[teacher_id]
    cfg = uow.settings.booking
    earlier = None if intro else await find_recent_cancellation(uow, student.id, teacher_id,
                                                                course.id)
    booking = Booking(
        course_id=course.id,
        teacher_id=teacher_id,
        student_id=student.id,
        kind="intro" if intro else "lesson",
        status="confirmed" if intro else "held",
        starts_at=starts_at,
        ends_at=ends_at,
        teacher_until=ends_at + timedelta(minutes=terms.buffer_minutes),
        rescheduled_from=earlier.id if earlier else None,
        price_minor=0 if intro else course.price_minor,
        currency=course.currency,
        hold_expires_at=None if intro else now + timedelta(minutes=cfg.hold_minutes),
        created_at=now,
        student_records=record,
        teacher_records=await teacher_records(uow, teacher_id),
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(booking)
            await uow.session.flush()
            if booking.status == "confirmed":
                await plan_reminders(uow, booking)
            await assign_module(uow, booking)
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        # PostgreSQL names the index; SQLite names its columns.
        if "one_intro" in text or "booking.student_id, booking.teacher_id" in text:
            raise IntroAlreadyTaken() from None
        if "student" in str(exc.orig).lower():
            raise StudentBusy() from None
        raise SlotTaken() from None
    return booking


async def bookable_course(uow: UnitOfWork, course_id: int, student_id: int, *,
                          intro: bool = False) -> Course:
    """A published course, or a retired one for the students it already has."""
    course = await course_by_id(uow, course_id) if is_valid_id(course_id) else None
    if course is None or course.status == "draft":
        raise NotFound("course")
    if course.status == "retired" and (
            intro or await enrolment_of(uow, course.id, student_id) is None):
        raise CourseRetired()
    return course


async def list_intro_partners(uow: UnitOfWork, student_id: int) -> set[int]:
    """Teachers this student has already had (or booked) a free intro with."""
    stmt = select(Booking.teacher_id).where(
        Booking.student_id == student_id, Booking.kind == "intro",
        Booking.status.in_(("held", "confirmed", "completed")))
    return set((await uow.session.scalars(stmt)).all())


async def _expire_lapsed_holds(
    uow: UnitOfWork, now: datetime, people: tuple[int, ...] | None = None
) -> int:
    stmt = update(Booking).where(Booking.status == "held", Booking.hold_expires_at <= now)
    if people is not None:
        stmt = stmt.where(or_(Booking.teacher_id.in_(people), Booking.student_id.in_(people)))
    result = await uow.session.execute(
        stmt.values(status="expired"), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def expire_holds(uow: UnitOfWork) -> int:
    """Free every slot whose unpaid hold has lapsed; returns how many."""
    return await _expire_lapsed_holds(uow, uow.clock.now())


async def confirm_booking(uow: UnitOfWork, booking_id: int) -> Booking:
    """Mark a held booking as paid and confirmed (idempotent)."""
    booking = (
        await uow.session.get(Booking, booking_id, with_for_update=True)
        if is_valid_id(booking_id)
        else None
    )
    if booking is None:
        raise NotFound("booking")
    if booking.status == "confirmed":
        return booking
    if booking.status != "held":
        raise BookingStateError(status=booking.status)
    booking.status = "confirmed"
    booking.hold_expires_at = None
    await plan_reminders(uow, booking)
    await enrol(uow, booking)
    return booking


async def get_booking_for(uow: UnitOfWork, user: User, booking_id: int) -> Booking:
    """A booking the user takes part in; anything else reads as not found."""
    booking = await uow.session.get(Booking, booking_id) if is_valid_id(booking_id) else None
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("booking")
    return booking


@cache  # built once: statements are immutable, each caller adds its own criteria
def _views_query() -> Select[Booking, str, str, str]:
    teacher, student = aliased(User), aliased(User)
    return (
        select(Booking, Course.title, teacher.display_name, student.display_name)
        .join(Course, Course.id == Booking.course_id)
        .join(teacher, teacher.id == Booking.teacher_id)
        .join(student, student.id == Booking.student_id)
    )


async def list_upcoming_bookings(
    uow: UnitOfWork, user: User, *, limit: int = 10
) -> list[BookingView]:
    """Active bookings (as student or teacher) that have not ended, soonest first."""
    now = uow.clock.now()
    stmt = (
        _views_query()
        .where(
            or_(Booking.student_id == user.id, Booking.teacher_id == user.id),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.ends_at > now,
            or_(Booking.status != "held", Booking.hold_expires_at > now),
        )
        .order_by(Booking.starts_at)
        .limit(limit)
    )
    return await _views(uow, stmt)


async def _views(uow: UnitOfWork, stmt: Select[Booking, str, str, str]) -> list[BookingView]:
    return [BookingView(*row) for row in (await uow.session.execute(stmt)).all()]


async def find_booking_view(uow: UnitOfWork, booking_id: int) -> BookingView | None:
    """A booking with its names, whoever asks (callers check who may see it)."""
    if not is_valid_id(booking_id):
        return None
    found = await _views(uow, _views_query().where(Booking.id == booking_id))
    return found[0] if found else None


async def get_booking_view(uow: UnitOfWork, user: User, booking_id: int) -> BookingView:
    view = await find_booking_view(uow, booking_id)
    if view is None or user.id not in (view.booking.student_id, view.booking.teacher_id):
        raise NotFound("booking")
    return view


def is_late_cancel(uow: UnitOfWork, booking: Booking) -> bool:
    """Inside the late-cancellation window (only paid bookings count as late)."""
    hours = uow.settings.booking.late_cancel_hours
    return booking.status == "confirmed" and booking.starts_at - uow.clock.now() < timedelta(
        hours=hours
    )


def check_cancellable(uow: UnitOfWork, booking: Booking) -> None:
    if (
        booking.status == "held"
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= uow.clock.now()
    ):
        raise BookingStateError(status="expired")
    if not booking.is_active:
        raise BookingStateError(status=booking.status)
    if booking.starts_at <= uow.clock.now():
        raise BookingStateError(status="already under way")


@dataclass(frozen=True)
class Cancellation:
    booking: Booking
    refunded: Money  # what started on its way back to the student (zero if unpaid)


async def cancel_booking(
    uow: UnitOfWork, user: User, booking_id: int, reason: str | None = None
) -> Cancellation:
    """Cancel as the student or the teacher; late cancellations need a reason. A paid
    session refunds what it still holds; a teacher cancelling late is charged."""
    booking = (
        await uow.session.get(Booking, booking_id, with_for_update=True)
        if is_valid_id(booking_id)
        else None
    )
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("booking")
    check_cancellable(uow, booking)
    late = is_late_cancel(uow, booking)
    if late and len(" ".join((reason or "").split())) < 3:
        raise ReasonRequired(hours=uow.settings.booking.late_cancel_hours)
    clean = clean_reason(reason) if reason else ""
    was_confirmed = booking.status == "confirmed"
    if was_confirmed:
        booking.sequence += 1  # calendars accept the cancel only with a later SEQUENCE
    booking.status = "cancelled"
    booking.cancelled_at = uow.clock.now()
    booking.cancelled_by = user.id
    booking.cancel_reason = clean or None
    booking.late_cancel = late
    booking.hold_expires_at = None
    payment = await paid_payment(uow, booking.id) if was_confirmed else None
    if payment is None:
        return Cancellation(booking, Money.zero(booking.currency))
    by = "the student" if user.id == booking.student_id else "the teacher"
    refunded = await refund_unreleased(uow, booking, payment, reason=f"cancelled by {by}",
                                       tell_student=user.id != booking.student_id)
    if late and user.id == booking.teacher_id:
        await charge_late_cancel(uow, booking)
    return Cancellation(booking, refunded)


async def intro_conversion(uow: UnitOfWork) -> tuple[int, int]:
    """(free intros held, of which the student went on to book a paid session with that
    teacher). Derived from bookings, so nothing extra needs recording or can drift."""
    intro = aliased(Booking)
    lesson = aliased(Booking)
    intros = await uow.session.scalar(
        select(func.count()).select_from(intro)
        .where(intro.kind == "intro", intro.status.in_(("confirmed", "completed"))))
    converted = await uow.session.scalar(
        select(func.count(func.distinct(intro.id))).select_from(intro)
        .join(lesson, (lesson.student_id == intro.student_id)
              & (lesson.teacher_id == intro.teacher_id) & (lesson.kind == "lesson")
              & lesson.status.in_(("confirmed", "completed"))
              & (lesson.created_at >= intro.created_at))
        .where(intro.kind == "intro", intro.status.in_(("confirmed", "completed"))))
    return int(intros or 0), int(converted or 0)


async def list_calendar_bookings(uow: UnitOfWork, user_id: int, *,
                                 days_back: int = 30) -> list[BookingView]:
    """Confirmed and completed sessions from a month ago on, for a calendar feed."""
    since = uow.clock.now() - timedelta(days=days_back)
    stmt = (_views_query()
            .where(or_(Booking.student_id == user_id, Booking.teacher_id == user_id),
                   Booking.status.in_(("confirmed", "completed")), Booking.ends_at > since)
            .order_by(Booking.starts_at).limit(500))
    return await _views(uow, stmt)


async def reschedule_booking(uow: UnitOfWork, user: User, booking_id: int,
                             new_start: datetime, reason: str | None = None) -> datetime:
    """Move a booking (either participant) to a free time with the same teacher; returns
    the old start. Under the late-cancellation window it needs a reason, like a cancel."""
    booking = (await uow.session.get(Booking, booking_id, with_for_update=True)
               if is_valid_id(booking_id) else None)
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("booking")
    check_cancellable(uow, booking)
    if new_start == booking.starts_at:
        raise InvalidInput("That's the time it already has. Pick another time.")
    late = is_late_cancel(uow, booking)
    if late and len(" ".join((reason or "").split())) < 3:
        raise ReasonRequired(hours=uow.settings.booking.late_cancel_hours)
    teacher = await uow.session.get(User, booking.teacher_id)
    assert teacher is not None
    length = booking.ends_at - booking.starts_at
    free = await list_free_slots(uow, [teacher], int(length.total_seconds() // 60),
                                 student_id=booking.student_id, start=new_start,
                                 end=new_start + length, ignoring=booking.id)
    if not any(s.starts_at == new_start for s in free):
        raise SlotTaken()
    old = booking.starts_at
    buffer = booking.teacher_until - booking.ends_at
    try:
        async with uow.session.begin_nested():
            booking.starts_at, booking.ends_at = new_start, new_start + length
            booking.teacher_until = booking.ends_at + buffer
            booking.sequence += 1
            if late:
                booking.late_cancel = True
                booking.cancel_reason = clean_reason(reason)
            await uow.session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    if booking.status == "confirmed":
        await plan_reminders(uow, booking)
    return old


async def find_recent_cancellation(uow: UnitOfWork, student_id: int, teacher_id: int,
                                   course_id: int) -> Booking | None:
    """The student's own cancellation with this teacher and course within the rebook window:
    booking again that soon counts as a reschedule of it."""
    since = uow.clock.now() - timedelta(minutes=uow.settings.booking.rebook_window_minutes)
    stmt = (select(Booking)
            .where(Booking.student_id == student_id, Booking.teacher_id == teacher_id,
                   Booking.course_id == course_id, Booking.status == "cancelled",
                   Booking.cancelled_by == student_id, Booking.cancelled_at >= since)
            .order_by(Booking.cancelled_at.desc()).limit(1))
    return (await uow.session.scalars(stmt)).first()


async def count_sessions_taught(uow: UnitOfWork, teacher_ids: list[int]) -> dict[int, int]:
    """Completed paid sessions per teacher (one statement for any number of teachers)."""
    if not teacher_ids:
        return {}
    rows = (await uow.session.execute(
        select(Booking.teacher_id, func.count())
        .where(Booking.teacher_id.in_(teacher_ids), Booking.kind == "lesson",
               Booking.status == "completed")
        .group_by(Booking.teacher_id))).all()
    counts = {int(t): int(n) for t, n in rows}
    return {t: counts.get(t, 0) for t in teacher_ids}
