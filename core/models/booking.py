"""Bookings. Overlap guards live in the database (see the initial migration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.money import Money

BOOKING_STATUSES = ("held", "confirmed", "cancelled", "expired", "completed")
# Statuses that occupy the teacher's and the student's time.
ACTIVE_STATUSES = ("held", "confirmed")
_ACTIVE_SQL = text("status IN ('held', 'confirmed')")
_INTRO_SQL = text("kind = 'intro' AND status IN ('held', 'confirmed', 'completed')")


def _no_buffer(context: DefaultExecutionContext) -> datetime:
    """Without a buffer the teacher is free again when the session ends."""
    return context.get_current_parameters()["ends_at"]  # type: ignore[no-untyped-call,no-any-return]


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive_length"),
        CheckConstraint(f"status IN {BOOKING_STATUSES!r}", name="known_status"),
        CheckConstraint("kind IN ('lesson', 'intro')", name="known_kind"),
        CheckConstraint("teacher_id <> student_id", name="not_self"),
        # Exact-start duplicates are refused on every backend; overlaps by trigger / exclusion.
        Index(
            "uq_booking_teacher_active_start",
            "teacher_id",
            "starts_at",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index(
            "uq_booking_student_active_start",
            "student_id",
            "starts_at",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_booking_teacher_time", "teacher_id", "starts_at"),
        Index("ix_booking_student_time", "student_id", "starts_at"),
        Index("ix_booking_status_hold", "status", "hold_expires_at"),
        CheckConstraint("teacher_until >= ends_at", name="buffer_after_end"),
        # One free intro per visitor and teacher (a cancelled one may be booked again).
        Index(
            "uq_booking_one_intro",
            "student_id",
            "teacher_id",
            unique=True,
            sqlite_where=_INTRO_SQL,
            postgresql_where=_INTRO_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(8), default="lesson")
    status: Mapped[str] = mapped_column(String(12), default="held")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The end plus the teacher's buffer: the teacher's overlap guard uses this.
    teacher_until: Mapped[datetime] = mapped_column(UTCDateTime(), default=_no_buffer)
    sequence: Mapped[int] = mapped_column(default=0)  # ICS SEQUENCE, raised on every change
    rescheduled_from: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None)
    # After the session each side says whether it happened ("held") or who did not come.
    followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    student_report: Mapped[str | None] = mapped_column(String(16), default=None)
    teacher_report: Mapped[str | None] = mapped_column(String(16), default=None)
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    late_cancel: Mapped[bool] = mapped_column(default=False)
    # Recorded only when both agreed at booking (the teacher's standing choice, the student's
    # choice on the confirmation step).
    student_records: Mapped[bool] = mapped_column(default=False)
    teacher_records: Mapped[bool] = mapped_column(default=False)

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
