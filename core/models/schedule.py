"""Per-teacher booking settings, date overrides, and reminder rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

REMINDER_KINDS = ("24h", "1h", "15m")


class TeacherSettings(Base):
    """How a teacher wants to be booked; unset values fall back to ``[booking]``."""

    __tablename__ = "teacher_settings"
    __table_args__ = (
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_range"),
        CheckConstraint(
            "min_notice_minutes IS NULL OR min_notice_minutes BETWEEN 0 AND 10080",
            name="notice_range",
        ),
        CheckConstraint(
            "horizon_days IS NULL OR horizon_days BETWEEN 1 AND 365", name="horizon_range"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int | None] = mapped_column(default=None)
    horizon_days: Mapped[int | None] = mapped_column(default=None)
    offers_intro: Mapped[bool] = mapped_column(default=True)
    records_sessions: Mapped[bool] = mapped_column(default=False)  # agrees to be recorded
    listed: Mapped[bool] = mapped_column(default=True)  # shown in course teacher directories


class AvailabilityOverride(Base):
    """One local date: blocked (all day, or some hours) or extra hours."""

    __tablename__ = "availability_override"
    __table_args__ = (
        CheckConstraint("kind IN ('blocked', 'extra')", name="known_kind"),
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name="minute_range",
        ),
        CheckConstraint("kind = 'blocked' OR start_minute IS NOT NULL", name="extra_has_hours"),
        Index("ix_availability_override_teacher_day", "teacher_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    start_minute: Mapped[int | None] = mapped_column(default=None)
    end_minute: Mapped[int | None] = mapped_column(default=None)


class Reminder(Base):
    """A reminder to one participant; claimed by setting ``sent_at`` exactly once."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("booking_id", "user_id", "kind"),
        CheckConstraint(f"kind IN {REMINDER_KINDS!r}", name="known_kind"),
        Index("ix_reminder_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(4))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
