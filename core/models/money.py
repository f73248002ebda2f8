"""Money: the append-only ledger, payments in, events from providers, and money going out
(refunds and payouts) as durable rows that a sweep sends to the provider after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

PAYMENT_STATUSES = ("pending", "paid", "declined", "duplicate")
MONEY_OUT_KINDS = ("refund", "payout")
MONEY_OUT_STATUSES = ("pending", "sent", "failed")
REVERSAL_STATUSES = ("pending", "done", "failed")


class LedgerTxn(Base):
    """One balanced movement of money; ``key`` makes posting it idempotent."""

    __tablename__ = "ledger_txn"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None,
                                                   index=True)
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """One side of a movement: debit positive, credit negative, in minor units."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="non_zero"),
        Index("ix_ledger_entry_account", "account", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("ledger_txn.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class Payment(Base):
    """A checkout for one booking at one provider."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("provider", "checkout_ref"),
        CheckConstraint(f"status IN {PAYMENT_STATUSES!r}", name="known_status"),
        CheckConstraint("amount_minor > 0", name="positive"),
        # Several checkouts may be opened for a booking; only one of them can be paid.
        Index("uq_payment_one_paid", "booking_id", unique=True,
              sqlite_where=text("status = 'paid'"), postgresql_where=text("status = 'paid'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    checkout_ref: Mapped[str] = mapped_column(String(120))
    checkout_url: Mapped[str | None] = mapped_column(String(500), default=None)
    charge_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # None, "open", "won" or "lost": a charge has at most one dispute, and its events may
    # arrive in any order, so a closed dispute is never reopened by a late "created".
    dispute_status: Mapped[str | None] = mapped_column(String(8), default=None)


class ProviderEvent(Base):
    """A webhook event, recorded once under its provider id (repeats are ignored)."""

    __tablename__ = "provider_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),
                      Index("ix_provider_event_pending", "applied_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(200), default="")
    # Webhooks are recorded first and applied right after; None until its effects are in.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MoneyOut(Base):
    """A refund or payout decided in a transaction and sent to the provider after commit."""

    __tablename__ = "money_out"
    __table_args__ = (
        CheckConstraint(f"kind IN {MONEY_OUT_KINDS!r}", name="known_kind"),
        CheckConstraint(f"status IN {MONEY_OUT_STATUSES!r}", name="known_status"),
        CheckConstraint("amount_minor > 0", name="positive"),
        Index("ix_money_out_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # Deterministic, e.g. "transfer:<booking>:<payee>": the provider's idempotency key too.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(8), default="pending")
    provider_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    # Raised each time the provider answered "no": it stores an answer under the
    # idempotency key, so the next try needs a new key (nothing moved under the old one).
    key_round: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TransferReversal(Base):
    """Part of a sent payout taken back from the payee before a refund of released money."""

    __tablename__ = "transfer_reversal"
    __table_args__ = (
        CheckConstraint(f"status IN {REVERSAL_STATUSES!r}", name="known_status"),
        CheckConstraint("amount_minor > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # the idempotency key
    refund_id: Mapped[int] = mapped_column(ForeignKey("money_out.id"), index=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("money_out.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    provider_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PayoutAccount(Base):
    """Where a teacher's or creator's payouts go (a Stripe connected account)."""

    __tablename__ = "payout_account"
    __table_args__ = (UniqueConstraint("provider", "account_ref"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    account_ref: Mapped[str] = mapped_column(String(120))
    ready: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
