"""Signing in on the web: a person's email address and password, one-time tokens (email
verification, password set and reset), web sessions, and the attempts that rate limits count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

TOKEN_PURPOSES = ("verify", "reset", "set_password")


class AccountEmail(Base):
    """One email address per account; unverified until a code or link proves it. Addresses
    are stored lower-cased, so the unique constraint is case-insensitive."""

    __tablename__ = "account_email"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # argon2id, PHC string format; None until the person sets a web password.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class EmailToken(Base):
    """A single-use, expiring secret sent to an address: a link token and, for verification,
    a six-digit code. Only keyed hashes are stored, so a database leak reveals neither."""

    __tablename__ = "email_token"
    __table_args__ = (
        CheckConstraint(f"purpose IN {TOKEN_PURPOSES!r}", name="known_purpose"),
        Index("ix_email_token_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)  # wrong codes typed against it


class WebSession(Base):
    """A signed-in browser. The cookie carries the id and a random secret whose hash is
    kept here; revoking (logout, password change) is setting ``revoked_at``."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class RateEvent(Base):
    """One counted attempt (a login, a code sent, a reset asked for) under a bucket and key
    (an address, an IP, a user id): limits count these rows in a sliding window, in the
    database, so every worker process sees the same count."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
