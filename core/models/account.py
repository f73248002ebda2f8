"""People: one account, several platform identities, several roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime

ROLES = ("student", "teacher", "creator", "funder", "admin")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    origin: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Where messages from others reach this person; None: the platform they joined on.
    notify_via: Mapped[str | None] = mapped_column(String(16), default=None)
    reminders_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Which channels each kind of notification uses ({"bookings": ["telegram", "email"]});
    # a kind not listed uses the default (see core.notification).
    notify_prefs: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # Quiet hours, minutes after local midnight: chat notifications wait until they end.
    quiet_from: Mapped[int | None] = mapped_column(default=None)
    quiet_to: Mapped[int | None] = mapped_column(default=None)
    # Other students may message this person (student-to-student needs both to opt in).
    peer_messages: Mapped[bool] = mapped_column(default=False)
    # The personal referral code in this person's invite link (made on first use).
    ref_code: Mapped[str | None] = mapped_column(String(16), unique=True, index=True,
                                                  default=None)

    roles: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="user"
    )

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint(f"role IN {ROLES!r}", name="known_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="roles", lazy="raise_on_sql")


class Identity(Base):
    """A user as seen by one platform (Telegram user id, Discord user id, terminal name)."""

    __tablename__ = "identity"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        UniqueConstraint("user_id", "platform"),  # one identity per platform per account
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise_on_sql")
