"""What each participant thought of a session: stars, what was covered, a comment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class SessionReview(Base):
    __tablename__ = "session_review"
    __table_args__ = (
        UniqueConstraint("booking_id", "author_id"),  # one review per person per session
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("author_id <> subject_id", name="not_self"),
        Index("ix_session_review_subject", "subject_id", "author_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    author_role: Mapped[str] = mapped_column(String(8))  # "student" | "teacher"
    stars: Mapped[int] = mapped_column(SmallInteger)
    covered: Mapped[str | None] = mapped_column(String(500), default=None)
    comment: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
