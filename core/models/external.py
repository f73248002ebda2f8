"""A teacher's outside calendar (an ICS URL) and the busy times last read from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ExternalCalendar(Base):
    __tablename__ = "external_calendar"

    teacher_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                            primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


class ExternalBusy(Base):
    """One busy interval from the teacher's outside calendar; replaced on every refresh."""

    __tablename__ = "external_busy"
    __table_args__ = (Index("ix_external_busy_teacher_time", "teacher_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
