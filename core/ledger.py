"""The double-entry ledger: every movement of money is a balanced, append-only transaction.

Entries are signed minor units, debit positive and credit negative; each transaction sums to
zero per currency. ``cash:*`` accounts are what the platform holds at a provider (assets);
everything else is owed to someone (held for a session, earned by a payee, on its way out)
or is the platform's revenue, so its natural balance is the negated sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from core.models import LedgerEntry, LedgerTxn
from core.money import Money
from core.uow import UnitOfWork

PLATFORM_FEES = "fees:platform"
PENALTIES = "fees:penalties"


def cash(provider: str) -> str:
    return f"cash:{provider}"


def held(booking_id: int) -> str:
    """Paid for a session and held until it is complete and released."""
    return f"held:{booking_id}"


def frozen(booking_id: int) -> str:
    """Held money under a dispute: neither released nor refunded until it is settled."""
    return f"frozen:{booking_id}"


def earned(user_id: int) -> str:
    """Released to a teacher or creator and not yet paid out."""
    return f"earned:{user_id}"


def on_its_way(money_out_id: int) -> str:
    """A refund or payout decided and waiting for the provider to confirm it."""
    return f"out:{money_out_id}"


def is_asset(account: str) -> bool:
    return account.startswith("cash:")


def natural(account: str, raw_sum: int) -> int:
    """The balance as people read it: what is held, owed or earned is positive."""
    return raw_sum if is_asset(account) else -raw_sum


@dataclass(frozen=True)
class Line:
    account: str
    amount: Money  # debit positive, credit negative


def move(amount: Money, source: str, target: str) -> list[Line]:
    """``amount`` passes from one owed balance to another (held -> earned, and so on)."""
    if is_asset(source) or is_asset(target):
        raise ValueError("move() is between owed balances; use receive() or send() for cash")
    return [Line(source, amount), Line(target, -amount)]


def receive(amount: Money, provider: str, target: str) -> list[Line]:
    """Money arrives at the provider and is owed to ``target`` (held for a session)."""
    return [Line(cash(provider), amount), Line(target, -amount)]


def send(amount: Money, source: str, provider: str) -> list[Line]:
    """Money owed from ``source`` leaves the provider (a refund, payout or chargeback)."""
    return [Line(source, amount), Line(cash(provider), -amount)]


class Unbalanced(ValueError):
    """A transaction whose lines do not sum to zero: a programming error, never posted."""


async def post(uow: UnitOfWork, key: str, kind: str, lines: Sequence[Line], *,
               booking_id: int | None = None, memo: str = "") -> bool:
    """Post one transaction once: True if posted now, False if ``key`` was posted before."""
    totals: dict[str, int] = defaultdict(int)
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        totals[line.amount.currency] += line.amount.minor
        merged[(line.account, line.amount.currency)] += line.amount.minor
    kept = {k: v for k, v in merged.items() if v}
    if any(totals.values()) or len(kept) < 2:
        raise Unbalanced(f"{kind} {key}: lines must balance across two accounts: {lines}")
    txn = LedgerTxn(key=key, kind=kind, booking_id=booking_id, memo=memo[:200],
                    created_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():  # a repeat (or racing) key loses on the index
            uow.session.add(txn)
            await uow.session.flush()
            await uow.session.execute(insert(LedgerEntry), [
                {"txn_id": txn.id, "account": account, "amount_minor": amount,
                 "currency": currency} for (account, currency), amount in kept.items()])
    except IntegrityError:
        return False
    return True


async def balance(uow: UnitOfWork, account: str, currency: str) -> Money:
    raw = await uow.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
        .where(LedgerEntry.account == account, LedgerEntry.currency == currency))
    return Money(natural(account, int(raw or 0)), currency)


async def balances(uow: UnitOfWork, accounts: Sequence[str]) -> dict[tuple[str, str], Money]:
    """Natural balances of these accounts, per currency (one statement)."""
    if not accounts:
        return {}
    rows = (await uow.session.execute(
        select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.account.in_(accounts))
        .group_by(LedgerEntry.account, LedgerEntry.currency))).all()
    return {(a, c): Money(natural(a, int(total)), c) for a, c, total in rows}


async def balances_between(uow: UnitOfWork, low: str, high: str
                           ) -> dict[tuple[str, str], Money]:
    """Natural balances of accounts named from ``low`` up to (not including) ``high``."""
    rows = (await uow.session.execute(
        select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.account >= low, LedgerEntry.account < high)
        .group_by(LedgerEntry.account, LedgerEntry.currency))).all()
    return {(a, c): Money(natural(a, int(total)), c) for a, c, total in rows}


async def all_balances(uow: UnitOfWork) -> list[tuple[str, str, int]]:
    """(account, currency, natural balance) for every account that ever moved."""
    rows = (await uow.session.execute(
        select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .group_by(LedgerEntry.account, LedgerEntry.currency)
        .order_by(LedgerEntry.account, LedgerEntry.currency))).all()
    return [(a, c, natural(a, int(total))) for a, c, total in rows]
