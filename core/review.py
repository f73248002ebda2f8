"""Session reviews: each participant rates the other after a session (1-5 stars, what was
covered, a comment); a teacher's reputation is the average of their students' stars."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db import is_valid_id
from core.errors import BookingStateError, InvalidInput, NotFound
from core.models import Booking, SessionReview, User
from core.text import clean_line
from core.uow import UnitOfWork

STARS = range(1, 6)


def star_label(stars: int) -> str:
    """What a star button says, wherever stars are offered."""
    return f"{stars}★"


@dataclass(frozen=True)
class Reputation:
    average: float
    count: int

    def __str__(self) -> str:
        return f"★ {self.average:.1f} ({self.count})" if self.count else "new"


async def reviewable(uow: UnitOfWork, user: User, booking_id: int) -> Booking:
    """The user's own finished session that they have not reviewed yet."""
    booking = await uow.session.get(Booking, booking_id) if is_valid_id(booking_id) else None
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("session")
    if booking.status not in ("confirmed", "completed"):
        raise BookingStateError(status=booking.status)
    if booking.ends_at > uow.clock.now():
        raise InvalidInput("You can review a session once it is over.")
    own_report = booking.student_report if user.id == booking.student_id else \
        booking.teacher_report
    if own_report == "no_show":
        raise InvalidInput("You said this session didn't happen, so there is nothing to rate.")
    done = await uow.session.scalar(select(SessionReview.id).where(
        SessionReview.booking_id == booking.id, SessionReview.author_id == user.id))
    if done is not None:
        raise InvalidInput(f"You already reviewed session #{booking.id}. Thank you!")
    return booking


def clean_note(text: str | None, what: str, most: int) -> str:
    return clean_line(text, what=what, least=2, most=most)


async def record_review(uow: UnitOfWork, user: User, booking_id: int, *, stars: int,
                        covered: str | None = None, comment: str | None = None
                        ) -> SessionReview:
    if stars not in STARS:
        raise InvalidInput("Pick 1 to 5 stars.")
    booking = await reviewable(uow, user, booking_id)
    as_student = user.id == booking.student_id
    review = SessionReview(
        booking_id=booking.id, author_id=user.id,
        subject_id=booking.teacher_id if as_student else booking.student_id,
        author_role="student" if as_student else "teacher", stars=stars,
        covered=clean_note(covered, "summary", 500) if covered else None,
        comment=clean_note(comment, "comment", 1000) if comment else None,
        created_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():  # a second click racing this one loses here
            uow.session.add(review)
    except IntegrityError:
        raise InvalidInput(f"You already reviewed session #{booking.id}. Thank you!") from None
    return review


async def teacher_reputations(uow: UnitOfWork, teacher_ids: list[int]) -> dict[int, Reputation]:
    """Average stars from students, per teacher (one statement for any number of teachers)."""
    if not teacher_ids:
        return {}
    rows = (await uow.session.execute(
        select(SessionReview.subject_id, func.avg(SessionReview.stars), func.count())
        .where(SessionReview.subject_id.in_(teacher_ids),
               SessionReview.author_role == "student")
        .group_by(SessionReview.subject_id))).all()
    found = {int(t): Reputation(round(float(avg), 2), int(n)) for t, avg, n in rows}
    return {t: found.get(t, Reputation(0.0, 0)) for t in teacher_ids}
