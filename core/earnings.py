"""What a teacher or creator has earned: held for upcoming sessions, released, on its way,
paid out, and a statement with a running balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, literal, or_, select

from core import ledger
from core.escrow import shares
from core.models import Booking, Course, LedgerEntry, LedgerTxn, MoneyOut, User
from core.money import Money
from core.uow import UnitOfWork

STATEMENT_LINES = 8


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    kind: str
    booking_id: int | None
    amount: Money
    balance: Money


@dataclass
class Earnings:
    currency: str
    held: Money
    released: Money  # available: released and not yet paid out (may be negative)
    on_its_way: Money
    paid_out: Money
    statement: list[StatementLine] = field(default_factory=list)

    @property
    def total(self) -> Money:
        return self.held + self.released + self.on_its_way + self.paid_out


async def get_earnings(uow: UnitOfWork, user: User) -> Earnings:
    currency = uow.settings.app.currency
    zero = Money.zero(currency)
    cfg = uow.settings.split
    held = zero
    # The person's own sessions joined to their held accounts: work grows with their
    # history, not with everything the platform holds.
    account = literal("held:", String) + cast(Booking.id, String)
    rows = (await uow.session.execute(
        select(Booking.teacher_id, Course.creator_id, func.sum(LedgerEntry.amount_minor))
        .join(Course, Course.id == Booking.course_id)
        .join(LedgerEntry, (LedgerEntry.account == account) & (LedgerEntry.currency == currency))
        .where(or_(Booking.teacher_id == user.id, Course.creator_id == user.id),
               Booking.status.in_(("confirmed", "completed")))
        .group_by(Booking.id, Booking.teacher_id, Course.creator_id))).all()
    for teacher_id, creator_id, raw in rows:
        amount = Money(ledger.natural(ledger.held(0), int(raw)), currency)
        if amount.minor:
            parts = shares(amount, teacher_id, creator_id,
                           (cfg.platform_pct, cfg.creator_pct, cfg.teacher_pct))
            held += parts.get(user.id, zero)
    released = await ledger.balance(uow, ledger.earned(user.id), currency)
    sums: dict[str, int] = dict((await uow.session.execute(
        select(MoneyOut.status, func.sum(MoneyOut.amount_minor))
        .where(MoneyOut.user_id == user.id, MoneyOut.kind == "payout",
               MoneyOut.currency == currency)
        .group_by(MoneyOut.status))).all())
    earnings = Earnings(currency, held, released,
                        Money(int(sums.get("pending", 0) or 0) + int(sums.get("failed", 0) or 0),
                              currency),
                        Money(int(sums.get("sent", 0) or 0), currency))
    earnings.statement = await _statement(uow, user, currency)
    return earnings


async def _statement(uow: UnitOfWork, user: User, currency: str) -> list[StatementLine]:
    """The latest movements of the person's released balance, oldest first."""
    account = ledger.earned(user.id)
    rows = (await uow.session.execute(
        select(LedgerTxn.created_at, LedgerTxn.kind, LedgerTxn.booking_id,
               LedgerEntry.amount_minor)
        .join(LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id)
        .where(LedgerEntry.account == account, LedgerEntry.currency == currency)
        .order_by(LedgerEntry.id.desc()).limit(STATEMENT_LINES))).all()
    balance = (await ledger.balance(uow, account, currency)).minor
    lines: list[StatementLine] = []
    for at, kind, booking_id, raw in rows:  # newest first: walk the balance backwards
        amount = ledger.natural(account, int(raw))
        lines.append(StatementLine(at, kind, booking_id, Money(amount, currency),
                                   Money(balance, currency)))
        balance -= amount
    return lines[::-1]
