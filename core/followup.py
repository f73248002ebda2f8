"""After a session: ask both people whether it happened, and derive the outcome.

Their answers are the completion evidence until video attendance is measured: both say it
happened → completed; one says the other did not come → a no-show of that person;
contradicting answers → disputed, for the admin.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.db import is_valid_id
from core.errors import BookingStateError, InvalidInput, NotFound
from core.lease import changed_one
from core.models import Booking, User
from core.uow import UnitOfWork

GRACE = timedelta(minutes=10)
REPORTS = ("held", "no_show")  # "no_show": the *other* person did not come


def outcome(booking: Booking) -> str:
    """completed, student_no_show, teacher_no_show, disputed or pending."""
    s, t = booking.student_report, booking.teacher_report
    if s == "held" and t == "held":
        return "completed"
    if "no_show" in (s, t) and "held" in (s, t):
        return "disputed"
    if t == "no_show":
        return "student_no_show"
    if s == "no_show":
        return "teacher_no_show"
    return "pending"


async def claim_followups(uow: UnitOfWork, *, limit: int = 200) -> list[Booking]:
    """Confirmed sessions that ended a little while ago and were not asked about yet."""
    now = uow.clock.now()
    ids = list((await uow.session.scalars(
        select(Booking.id).where(Booking.status == "confirmed", Booking.followup_at.is_(None),
                                 Booking.ends_at <= now - GRACE)
        .order_by(Booking.ends_at).limit(limit))).all())
    claimed: list[Booking] = []
    for booking_id in ids:
        won = await uow.session.execute(
            update(Booking).where(Booking.id == booking_id, Booking.followup_at.is_(None))
            .values(followup_at=now), execution_options={"synchronize_session": False})
        if changed_one(won):
            booking = await uow.session.get(Booking, booking_id, populate_existing=True)
            assert booking is not None
            claimed.append(booking)
    return claimed


async def record_report(uow: UnitOfWork, user: User, booking_id: int, report: str) -> Booking:
    """One participant's answer; both saying it happened completes the booking."""
    if report not in REPORTS:
        raise InvalidInput("Please answer with the buttons.")
    booking = (await uow.session.get(Booking, booking_id, with_for_update=True)
               if is_valid_id(booking_id) else None)
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("booking")
    if booking.status not in ("confirmed", "completed"):
        raise BookingStateError(status=booking.status)
    if booking.ends_at > uow.clock.now():
        raise InvalidInput("You can say how it went once the session is over.")
    if user.id == booking.student_id:
        booking.student_report = report
    else:
        booking.teacher_report = report
    if outcome(booking) == "completed":
        booking.status = "completed"
    return booking
