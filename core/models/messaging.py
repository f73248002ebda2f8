"""Durable messaging: updates received (inbox) and messages to send (outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class InboundUpdate(Base):
    """A platform update stored before it is handled, so none is lost or handled twice."""

    __tablename__ = "inbound_update"
    __table_args__ = (
        UniqueConstraint("platform", "update_id"),
        Index("ix_inbound_update_pending", "handled_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OutboxMessage(Base):
    """A message to someone other than the person acting, sent after the change commits."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[dict[str, str]]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    platform: Mapped[str | None] = mapped_column(String(16), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    # A small text attachment (a calendar invite); large files will live in object storage.
    file_name: Mapped[str | None] = mapped_column(String(100), default=None)
    file_body: Mapped[str | None] = mapped_column(Text, default=None)
    # A file forwarded by reference: a file id of the recipient's platform ("photo"/"document").
    file_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    file_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    # Post in this shared room (a private Discord thread) instead of a direct message.
    room: Mapped[str | None] = mapped_column(String(32), default=None)


class LinkCode(Base):
    """A one-time code that joins an identity on another platform to this account."""

    __tablename__ = "link_code"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
