"""Yearly earnings per payee for tax filing (1099-style): gross released to them, charges
taken from their earnings, net, payouts sent, month by month over a UTC calendar year; and
the payees whose gross reaches the reporting threshold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select

from core import ledger
from core.errors import InvalidInput
from core.models import LedgerEntry, LedgerTxn, MoneyOut, User
from core.money import Money
from core.uow import UnitOfWork

FIRST_YEAR = 2000
RELEASE = "release"
# Earned money leaving for the payee's account, or coming back from it (a reversed payout),
# is neither income nor a charge; any other change to earnings but a release is deducted
# (late-cancel charges, refunds taken back from released money).
PAYOUT_KINDS = ("payout_request", "reversal")


@dataclass(frozen=True)
class Month:
    month: int  # 1-12
    gross: Money
    charges: Money  # taken from earnings: late-cancel charges, refunds taken back
    payouts: Money  # sent to the payee's account in this month
    payouts_sent: int = 0

    @property
    def net(self) -> Money:
        return self.gross - self.charges


@dataclass(frozen=True)
class YearReport:
    user_id: int
    name: str
    year: int
    threshold: Money
    months: tuple[Month, ...]
    complete: bool  # the year is over; otherwise figures are the year to date

    @property
    def currency(self) -> str:
        return self.threshold.currency

    def _sum(self, attr: str) -> Money:
        total = Money.zero(self.currency)
        for month in self.months:
            total += getattr(month, attr)
        return total

    @property
    def gross(self) -> Money:
        return self._sum("gross")

    @property
    def charges(self) -> Money:
        return self._sum("charges")

    @property
    def net(self) -> Money:
        return self.gross - self.charges

    @property
    def payouts_total(self) -> Money:
        return self._sum("payouts")

    @property
    def payouts_sent(self) -> int:
        return sum(month.payouts_sent for month in self.months)

    @property
    def reportable(self) -> bool:
        return self.threshold <= self.gross

    @property
    def empty(self) -> bool:
        return not (self.gross.minor or self.charges.minor or self.payouts_sent)


@dataclass(frozen=True)
class PayeeTotal:
    user_id: int
    name: str
    gross: Money
    charges: Money
    payouts_sent: int
    payouts_total: Money

    @property
    def net(self) -> Money:
        return self.gross - self.charges


def year_range(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) in UTC: the calendar year the report covers."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def last_complete_year(uow: UnitOfWork) -> int:
    return uow.clock.now().year - 1


def check_year(uow: UnitOfWork, year: int) -> None:
    """Refuse years before the platform's records or still to come."""
    this_year = uow.clock.now().year
    if year < FIRST_YEAR:
        raise InvalidInput(f"There are no records before {FIRST_YEAR}; pick a later year.")
    if year > this_year:
        raise InvalidInput(f"{year} hasn't happened yet; the latest report is for {this_year} "
                           "(so far).")


def threshold(uow: UnitOfWork) -> Money:
    return Money(uow.settings.payments.tax_report_threshold_minor, uow.settings.app.currency)


def _month(column: Any, year: int) -> Any:
    """The UTC month a timestamp falls in, computed by the database (portable SQL)."""
    starts = [datetime(year, m, 1, tzinfo=UTC) for m in range(2, 13)]
    return case(*((column < start, m) for m, start in enumerate(starts, 1)), else_=12)


async def get_year_report(uow: UnitOfWork, user: User, year: int) -> YearReport:
    """The payee's year; raises InvalidInput for a year out of range."""
    check_year(uow, year)
    currency = uow.settings.app.currency
    start, end = year_range(year)
    account = ledger.earned(user.id)
    moves = (select(_month(LedgerTxn.created_at, year).label("month"),
                    (LedgerTxn.kind == RELEASE).label("is_release"),
                    LedgerEntry.amount_minor.label("amount"))
             .join(LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id)
             .where(LedgerEntry.account == account, LedgerEntry.currency == currency,
                    LedgerTxn.created_at >= start, LedgerTxn.created_at < end,
                    LedgerTxn.kind.not_in(PAYOUT_KINDS))).subquery()
    gross: dict[int, int] = defaultdict(int)
    charges: dict[int, int] = defaultdict(int)
    for month, is_release, raw in (await uow.session.execute(
            select(moves.c.month, moves.c.is_release, func.sum(moves.c.amount))
            .group_by(moves.c.month, moves.c.is_release))).all():
        amount = ledger.natural(account, int(raw))
        if is_release:
            gross[int(month)] += amount
        else:
            charges[int(month)] -= amount
    sent = (select(_month(MoneyOut.sent_at, year).label("month"),
                   MoneyOut.amount_minor.label("amount"))
            .where(MoneyOut.user_id == user.id, MoneyOut.kind == "payout",
                   MoneyOut.status == "sent", MoneyOut.currency == currency,
                   MoneyOut.sent_at >= start, MoneyOut.sent_at < end)).subquery()
    payouts: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for month, n, total in (await uow.session.execute(
            select(sent.c.month, func.count(), func.sum(sent.c.amount))
            .group_by(sent.c.month))).all():
        payouts[int(month)] = (int(n), int(total))
    months = tuple(Month(m, Money(gross[m], currency), Money(charges[m], currency),
                         Money(payouts[m][1], currency), payouts[m][0]) for m in range(1, 13))
    return YearReport(user.id, user.display_name, year, threshold(uow), months,
                      complete=end <= uow.clock.now())


async def list_reportable(uow: UnitOfWork, year: int) -> list[PayeeTotal]:
    """Payees whose gross for the year reaches the threshold, highest first."""
    check_year(uow, year)
    currency = uow.settings.app.currency
    start, end = year_range(year)
    limit = threshold(uow).minor
    released = func.sum(case((LedgerTxn.kind == RELEASE, LedgerEntry.amount_minor), else_=0))
    other = func.sum(case((LedgerTxn.kind == RELEASE, 0), else_=LedgerEntry.amount_minor))
    # A range scan over earned:* accounts (the account index applies), credits negative.
    rows = (await uow.session.execute(
        select(LedgerEntry.account, released, other)
        .join(LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id)
        .where(LedgerEntry.account >= "earned:", LedgerEntry.account < "earned;",
               LedgerEntry.currency == currency, LedgerTxn.kind.not_in(PAYOUT_KINDS),
               LedgerTxn.created_at >= start, LedgerTxn.created_at < end)
        .group_by(LedgerEntry.account)
        .having(released <= -limit))).all()
    totals = {int(account.split(":")[1]): (-int(gross), int(rest))
              for account, gross, rest in rows}
    if not totals:
        return []
    names = dict((await uow.session.execute(
        select(User.id, User.display_name).where(User.id.in_(list(totals))))).all())
    payouts = await _payouts(uow, list(totals), currency, start, end)
    found = [PayeeTotal(uid, str(names.get(uid, f"#{uid}")), Money(gross, currency),
                        Money(rest, currency), *payouts.get(uid, (0, Money.zero(currency))))
             for uid, (gross, rest) in totals.items()]
    return sorted(found, key=lambda p: (-p.gross.minor, p.name.casefold(), p.user_id))


async def _payouts(uow: UnitOfWork, user_ids: Sequence[int], currency: str, start: datetime,
                   end: datetime) -> dict[int, tuple[int, Money]]:
    rows = (await uow.session.execute(
        select(MoneyOut.user_id, func.count(), func.sum(MoneyOut.amount_minor))
        .where(MoneyOut.user_id.in_(list(user_ids)), MoneyOut.kind == "payout",
               MoneyOut.status == "sent", MoneyOut.currency == currency,
               MoneyOut.sent_at >= start, MoneyOut.sent_at < end)
        .group_by(MoneyOut.user_id))).all()
    return {int(uid): (int(n), Money(int(total), currency)) for uid, n, total in rows}
