"""Messages between people, relayed by the bot: one thread per pair, its messages, who
blocked whom, reports to the admin, and the admin's broadcasts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class DirectThread(Base):
    """The conversation of two people; ``low_id`` < ``high_id`` makes the pair unique."""

    __tablename__ = "direct_thread"
    __table_args__ = (
        UniqueConstraint("low_id", "high_id"),
        CheckConstraint("low_id < high_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    low_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DirectMessage(Base):
    __tablename__ = "direct_message"
    __table_args__ = (
        Index("ix_direct_message_thread", "thread_id", "id"),
        Index("ix_direct_message_unread", "recipient_id", "read_at"),
        Index("ix_direct_message_sender", "sender_id", "created_at"),  # the hourly limit
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("direct_thread.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="SET NULL"), default=None)


class Block(Base):
    """``blocker`` receives nothing from ``blocked`` (the admin can't be blocked)."""

    __tablename__ = "block"
    __table_args__ = (CheckConstraint("blocker_id <> blocked_id", name="not_self"),)

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    """Someone reported a person (and the message that made them) to the admin."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("reporter_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"))
    reported_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("direct_message.id", ondelete="SET NULL"), default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Broadcast(Base):
    """The admin's message to everyone with a role, or everyone enrolled in a course."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(40))  # "role:student" | "course:12"
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
