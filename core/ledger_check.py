"""``alphapeer ledger check``: every invariant the money path promises, verified from the
stored rows alone. Each finding is a sentence; an empty list means the books are sound."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core import ledger
from core.models import Booking, LedgerEntry, LedgerTxn, MoneyOut, Payment, TransferReversal
from core.uow import UnitOfWork

# Owed balances that can never be negative (an earned balance can: a late-cancel charge).
NEVER_NEGATIVE = ("cash:", "held:", "frozen:", "out:", "fees:")


async def check_ledger(uow: UnitOfWork) -> list[str]:
    problems: list[str] = []
    s = uow.session
    for txn_id, currency, total in (await s.execute(
            select(LedgerEntry.txn_id, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
            .group_by(LedgerEntry.txn_id, LedgerEntry.currency)
            .having(func.sum(LedgerEntry.amount_minor) != 0))).all():
        problems.append(f"transaction {txn_id} does not balance in {currency}: {total}")
    for txn_id, n in (await s.execute(
            select(LedgerTxn.id, func.count(LedgerEntry.id))
            .outerjoin(LedgerEntry, LedgerEntry.txn_id == LedgerTxn.id)
            .group_by(LedgerTxn.id).having(func.count(LedgerEntry.id) < 2))).all():
        problems.append(f"transaction {txn_id} has {n} entries (needs at least two)")
    for account, currency, amount in await ledger.all_balances(uow):
        if amount < 0 and account.startswith(NEVER_NEGATIVE):
            problems.append(f"{account} is negative: {amount} {currency}")
    problems += await _payments(uow)
    problems += await _money_out(uow)
    problems += await _reversals(uow)
    problems += await _bookings(uow)
    problems += await _append_only(uow)
    return problems


async def _txn_keys(uow: UnitOfWork, prefix: str) -> set[str]:
    return set((await uow.session.scalars(
        select(LedgerTxn.key).where(LedgerTxn.key.startswith(prefix, autoescape=True)))).all())


async def _payments(uow: UnitOfWork) -> list[str]:
    problems = []
    posted = await _txn_keys(uow, "payment:")
    paid = (await uow.session.scalars(select(Payment).where(
        Payment.status.in_(("paid", "duplicate"))))).all()
    for p in paid:
        if f"payment:{p.id}" not in posted:
            problems.append(f"payment {p.id} is paid but not in the ledger")
    paid_ids = {f"payment:{p.id}" for p in paid}
    for key in sorted(posted - paid_ids):
        problems.append(f"ledger has {key} but that payment is not marked paid")
    return problems


async def _money_out(uow: UnitOfWork) -> list[str]:
    problems = []
    sent_keys = await _txn_keys(uow, "refund_sent:") | await _txn_keys(uow, "payout_sent:")
    outs = (await uow.session.scalars(select(MoneyOut))).all()
    waiting = await ledger.balances(uow, [ledger.on_its_way(o.id) for o in outs])
    for o in outs:
        key = f"{o.kind}_sent:{o.id}"
        left = waiting.get((ledger.on_its_way(o.id), o.currency))
        left_minor = left.minor if left else 0
        if o.status == "sent" and (key not in sent_keys or left_minor):
            problems.append(f"{o.kind} {o.id} is sent but the ledger still has "
                            f"{left_minor} on its way")
        if o.status != "sent" and (key in sent_keys or left_minor != o.amount_minor):
            problems.append(f"{o.kind} {o.id} is {o.status} but the ledger has "
                            f"{left_minor} of {o.amount_minor} on its way")
    return problems


async def _reversals(uow: UnitOfWork) -> list[str]:
    """A reversal is in the ledger exactly when it is done."""
    posted = await _txn_keys(uow, "reversal:")
    done = {f"reversal:{r}" for r in (await uow.session.scalars(
        select(TransferReversal.id).where(TransferReversal.status == "done"))).all()}
    return ([f"transfer reversal {k.split(':')[1]} is done but not in the ledger"
             for k in sorted(done - posted)] +
            [f"ledger has {k} but that reversal is not done" for k in sorted(posted - done)])


async def _bookings(uow: UnitOfWork) -> list[str]:
    """Money held for a session that can no longer happen must be on its way back."""
    problems = []
    held = await ledger.balances_between(uow, "held:", "held;")
    ids = [int(a.split(":")[1]) for (a, _c), m in held.items() if m.minor]
    if ids:
        for b in (await uow.session.scalars(select(Booking).where(
                Booking.id.in_(ids), Booking.status.in_(("cancelled", "expired"))))).all():
            problems.append(f"session {b.id} is {b.status} but still holds "
                            f"{held[(ledger.held(b.id), b.currency)]}")
    return problems


async def _append_only(uow: UnitOfWork) -> list[str]:
    conn = await uow.session.connection()
    if conn.dialect.name == "sqlite":
        names = set((await conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"))).scalars().all())
        wanted = {f"{t}_no_{a}" for t in ("ledger_txn", "ledger_entry")
                  for a in ("update", "delete")}
    else:
        names = set((await conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))).scalars().all())
        wanted = {"ledger_txn_append_only", "ledger_entry_append_only"}
    return [f"append-only guard {n} is missing" for n in sorted(wanted - names)]
