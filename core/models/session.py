"""The live session: its video room, who attended, recordings, transcripts, thread messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

OUTCOMES = ("completed", "partial", "student_no_show", "teacher_no_show", "no_show")
RECORDING_STATES = ("ready", "transcribed", "failed")


class VideoRoom(Base):
    """One booking's room; opened on the first join, closed by the end callback or a sweep."""

    __tablename__ = "video_room"
    __table_args__ = (
        CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES!r}", name="known_outcome"),
        Index("ix_video_room_open", "closed_at", "provider"),
    )

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(8))
    meeting_id: Mapped[str] = mapped_column(String(64), unique=True)
    record: Mapped[bool] = mapped_column(default=False)
    create_time: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)


class Attendance(Base):
    """How long one participant was seen in the room (from polling the provider)."""

    __tablename__ = "attendance"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[int] = mapped_column(default=0)


class Recording(Base):
    """A provider's recording of a session; the transcription job works through them."""

    __tablename__ = "recording"
    __table_args__ = (
        UniqueConstraint("provider", "record_id"),
        CheckConstraint(f"status IN {RECORDING_STATES!r}", name="known_status"),
        Index("ix_recording_pending", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    provider: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[str] = mapped_column(String(128))
    playback_url: Mapped[str] = mapped_column(String(500))
    media_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="ready")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


class Transcript(Base):
    """A recording's text (full-text searchable) and the AI summary sent to both people."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionMessage(Base):
    """A message or file relayed between a session's participants (the session thread)."""

    __tablename__ = "session_message"
    __table_args__ = (Index("ix_session_message_booking", "booking_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(200), default=None)
    file_ref: Mapped[str | None] = mapped_column(String(300), default=None)
    file_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    platform: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionRoom(Base):
    """A session's private room on a platform that has them (a Discord private thread):
    who was added to it is kept, so messages reach the others there or by direct message."""

    __tablename__ = "session_room"
    __table_args__ = (UniqueConstraint("platform", "room_key"),)

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    room_key: Mapped[str] = mapped_column(String(32))
    student_in: Mapped[bool] = mapped_column(default=False)
    teacher_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AIQuestion(Base):
    """An /ask question waiting for (or answered by) the AI; answered after the turn commits."""

    __tablename__ = "ai_question"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'answered', 'failed')", name="known_status"),
        Index("ix_ai_question_pending", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
