"""Where people come from: referrals (by email or a personal link), the admin's emails to
prospective students, and visitors' inquiries to course creators — with what they led to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

REFERRAL_CHANNELS = ("email", "link", "outreach")


class Referral(Base):
    """One invitation: to an address (``email``), someone who came by a personal link
    (``link``), or the admin's email about a course (``outreach``). ``joined_user_id`` is set
    when the invited person makes an account."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(f"channel IN {REFERRAL_CHANNELS!r}", name="known_channel"),
        Index("ix_referral_email", "email"),
        # One emailed invitation per referrer and address, one outreach email per course and
        # address: two racing requests cannot both send.
        Index("uq_referral_email_once", "referrer_id", "email", unique=True,
              sqlite_where=text("channel = 'email'"), postgresql_where=text("channel = 'email'")),
        Index("uq_referral_outreach_once", "course_id", "email", unique=True,
              sqlite_where=text("channel = 'outreach'"),
              postgresql_where=text("channel = 'outreach'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    joined_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Inquiry(Base):
    """A visitor's question about a course, delivered to its creator; ``enrolment_id`` is
    set when the visitor later enrols (inquiry → enrolment conversion)."""

    __tablename__ = "inquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254), index=True)
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))  # "web" | "chat"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment.id", ondelete="SET NULL"), default=None)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
