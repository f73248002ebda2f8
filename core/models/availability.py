"""Weekly recurring availability, in the teacher's own timezone."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AvailabilityRule(Base):
    """Every ``weekday`` (0 = Monday) from ``start_minute`` to ``end_minute`` local time."""

    __tablename__ = "availability_rule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minute_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]
