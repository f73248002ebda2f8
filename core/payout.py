"""Money going out: refunds and payouts decided in a transaction are sent to the provider
by a sweep after commit, each claimed under a lease so two workers never send one twice;
the provider call carries the row's deterministic key as its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from core import ledger
from core.alerts import tell_admins
from core.models import Booking, MoneyOut, Payment, PayoutAccount, User
from core.money import Money
from core.outbox import notify
from core.payment_port import OutRequest
from core.uow import UnitOfWork

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DueOut:
    id: int
    kind: str
    request: OutRequest
    waiting_for_account: bool = False


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** attempts, 6 * 3600))


async def claim_money_out(uow: UnitOfWork, provider: str, *, limit: int = 50) -> list[DueOut]:
    now = uow.clock.now()
    ids = list((await uow.session.scalars(
        select(MoneyOut.id).join(Payment, Payment.id == MoneyOut.payment_id)
        .where(MoneyOut.status == "pending", MoneyOut.next_attempt_at <= now,
               Payment.provider == provider,
               or_(MoneyOut.claimed_until.is_(None), MoneyOut.claimed_until < now))
        .order_by(MoneyOut.id).limit(limit))).all())
    due: list[DueOut] = []
    for out_id in ids:
        won = await uow.session.execute(
            update(MoneyOut).where(MoneyOut.id == out_id, MoneyOut.status == "pending",
                                   or_(MoneyOut.claimed_until.is_(None),
                                       MoneyOut.claimed_until < now))
            .values(claimed_until=now + LEASE, attempts=MoneyOut.attempts + 1),
            execution_options={"synchronize_session": False})
        if int(getattr(won, "rowcount", 0) or 0) != 1:
            continue
        out = await uow.session.get(MoneyOut, out_id, populate_existing=True)
        payment = await uow.session.get(Payment, out.payment_id) if out else None
        assert out is not None and payment is not None
        destination = None
        if out.kind == "payout":
            account = await uow.session.get(PayoutAccount, out.user_id)
            destination = account.account_ref if account and account.ready else None
        amount = Money(out.amount_minor, out.currency)
        due.append(DueOut(out.id, out.kind, OutRequest(
            key=out.key, amount=amount, charge_ref=payment.charge_ref, destination=destination,
            group=f"booking-{out.booking_id}"),
            waiting_for_account=out.kind == "payout" and destination is None
            and provider != "sandbox"))
    return due


async def complete_money_out(uow: UnitOfWork, out_id: int, provider_ref: str) -> bool:
    """The provider confirmed it: book it as gone and send the receipt (once)."""
    out = await uow.session.get(MoneyOut, out_id, with_for_update=True)
    if out is None or out.status == "sent":
        return False
    payment = await uow.session.get(Payment, out.payment_id)
    booking = await uow.session.get(Booking, out.booking_id)
    user = await uow.session.get(User, out.user_id)
    assert payment is not None and booking is not None and user is not None
    out.status, out.sent_at, out.provider_ref = "sent", uow.clock.now(), provider_ref
    out.claimed_until, out.last_error = None, None
    amount = Money(out.amount_minor, out.currency)
    await ledger.post(uow, f"{out.kind}_sent:{out.id}", f"{out.kind}_sent",
                      ledger.send(amount, ledger.on_its_way(out.id), payment.provider),
                      booking_id=out.booking_id, memo=provider_ref)
    if out.kind == "refund":
        text = (f"🧾 Refund receipt — {amount} for session #{booking.id} is back on the card "
                f"you paid with (reference {provider_ref}). Banks take 5–10 days to show it.")
    else:
        text = (f"🧾 Payout receipt — {amount} for session #{booking.id} was sent to your "
                f"payout account (reference {provider_ref}).")
    await notify(uow, user, f"{out.kind}_receipt", text)
    return True


async def wait_for_payout_account(uow: UnitOfWork, out_id: int) -> None:
    """Not a failure: the payout goes once the payee connects an account; look again later."""
    out = await uow.session.get(MoneyOut, out_id, with_for_update=True)
    if out is None or out.status != "pending":
        return
    out.attempts -= 1  # the claim counted one
    out.claimed_until, out.next_attempt_at = None, uow.clock.now() + timedelta(hours=1)
    out.last_error = "waiting for the payee to connect a payout account (/payouts)"


async def defer_money_out(uow: UnitOfWork, out_id: int, error: str, *, retryable: bool) -> None:
    """The provider said no (or was unreachable): retry later, or give up and tell the admin."""
    out = await uow.session.get(MoneyOut, out_id, with_for_update=True)
    if out is None or out.status != "pending":
        return
    out.last_error, out.claimed_until = error[:300], None
    if retryable and out.attempts < MAX_ATTEMPTS:
        out.next_attempt_at = uow.clock.now() + _backoff(out.attempts)
        return
    out.status = "failed"
    await tell_admins(uow, "money_out_failed",
                      f"🚨 The {out.kind} of {Money(out.amount_minor, out.currency)} for "
                      f"session #{out.booking_id} failed after {out.attempts} attempts: "
                      f"{error[:200]}. The money stays earmarked for it in the ledger.")
