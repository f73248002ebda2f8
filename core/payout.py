"""Money going out: refunds and payouts decided in a transaction are sent to the provider
by a sweep after commit, each claimed under a lease so two workers never send one twice;
the provider call carries the row's deterministic key as its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core import ledger
from core.alerts import tell_admins
from core.lease import lease, lease_free
from core.models import Booking, MoneyOut, Payment, PayoutAccount, TransferReversal, User
from core.money import Money
from core.outbox import notify
from core.payment_port import OutRequest, ReversalRequest
from core.uow import UnitOfWork

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DueOut:
    id: int
    kind: str
    request: OutRequest
    waiting_for_account: bool = False
    # A refund of released money first takes paid-out shares back: (reversal id, request).
    reversals: tuple[tuple[int, ReversalRequest], ...] = ()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** attempts, 6 * 3600))


async def claim_money_out(uow: UnitOfWork, provider: str, *, limit: int = 50) -> list[DueOut]:
    now = uow.clock.now()
    ready = MoneyOut.status == "pending"
    won = await lease(uow, MoneyOut, select(MoneyOut.id)
                      .join(Payment, Payment.id == MoneyOut.payment_id)
                      .where(ready, MoneyOut.next_attempt_at <= now,
                             Payment.provider == provider,
                             lease_free(MoneyOut.claimed_until, now))
                      .order_by(MoneyOut.id).limit(limit), ready, LEASE)
    due: list[DueOut] = []
    for out_id in won:
        out = await uow.session.get(MoneyOut, out_id, populate_existing=True)
        payment = await uow.session.get(Payment, out.payment_id) if out else None
        assert out is not None and payment is not None
        destination = None
        if out.kind == "payout":
            account = await uow.session.get(PayoutAccount, out.user_id)
            destination = account.account_ref if account and account.ready else None
        amount = Money(out.amount_minor, out.currency)
        reversals = await _pending_reversals(uow, out.id) if out.kind == "refund" else ()
        key = out.key if not out.key_round else f"{out.key}:r{out.key_round}"
        due.append(DueOut(out.id, out.kind, OutRequest(
            key=key, amount=amount, charge_ref=payment.charge_ref, destination=destination,
            group=f"booking-{out.booking_id}"),
            waiting_for_account=out.kind == "payout" and destination is None
            and provider != "sandbox", reversals=reversals))
    return due


async def _pending_reversals(uow: UnitOfWork, refund_id: int
                             ) -> tuple[tuple[int, ReversalRequest], ...]:
    rows = (await uow.session.execute(
        select(TransferReversal, MoneyOut.provider_ref)
        .join(MoneyOut, MoneyOut.id == TransferReversal.payout_id)
        .where(TransferReversal.refund_id == refund_id, TransferReversal.status == "pending")
        .order_by(TransferReversal.id))).all()
    return tuple((r.id, ReversalRequest(key=r.key, transfer_ref=ref or "",
                                        amount=Money(r.amount_minor, r.currency)))
                 for r, ref in rows)


async def complete_reversal(uow: UnitOfWork, reversal_id: int, provider_ref: str) -> bool:
    """The payee's share came back to the platform: their owed balance is restored."""
    rev = await uow.session.get(TransferReversal, reversal_id, with_for_update=True)
    if rev is None or rev.status != "pending":
        return False
    refund = await uow.session.get(MoneyOut, rev.refund_id)
    payment = await uow.session.get(Payment, refund.payment_id) if refund else None
    assert refund is not None and payment is not None
    rev.status, rev.provider_ref, rev.last_error = "done", provider_ref, None
    amount = Money(rev.amount_minor, rev.currency)
    await ledger.post(uow, f"reversal:{rev.id}", "reversal",
                      ledger.receive(amount, payment.provider, ledger.earned(rev.user_id)),
                      booking_id=refund.booking_id, memo=provider_ref)
    return True


async def fail_reversal(uow: UnitOfWork, reversal_id: int, error: str) -> None:
    """The payee's account can't give it back (already withdrawn): the refund goes ahead
    from the platform's balance and the payee owes it from future earnings."""
    rev = await uow.session.get(TransferReversal, reversal_id, with_for_update=True)
    if rev is None or rev.status != "pending":
        return
    rev.status, rev.last_error = "failed", error[:300]
    user = await uow.session.get(User, rev.user_id)
    assert user is not None
    await tell_admins(uow, "reversal_failed",
                      f"⚠️ Could not take {Money(rev.amount_minor, rev.currency)} back from "
                      f"{user.display_name}'s payout account ({error[:120]}). The student's "
                      "refund goes ahead; it is deducted from their future earnings.")


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


async def defer_money_out(uow: UnitOfWork, out_id: int, error: str, *, retryable: bool,
                          answered: bool = False) -> None:
    """The provider said no (or was unreachable): retry later, or give up and tell the admin.
    ``answered``: it refused outright, so the next try goes under a fresh idempotency key."""
    out = await uow.session.get(MoneyOut, out_id, with_for_update=True)
    if out is None or out.status != "pending":
        return
    out.last_error, out.claimed_until = error[:300], None
    if answered:
        out.key_round += 1
    if retryable and out.attempts < MAX_ATTEMPTS:
        out.next_attempt_at = uow.clock.now() + _backoff(out.attempts)
        return
    out.status = "failed"
    await tell_admins(uow, "money_out_failed",
                      f"🚨 The {out.kind} of {Money(out.amount_minor, out.currency)} for "
                      f"session #{out.booking_id} failed after {out.attempts} attempts: "
                      f"{error[:200]}. The money stays earmarked for it in the ledger.")


async def connect_account(uow: UnitOfWork, user_id: int, provider: str, account_ref: str
                          ) -> PayoutAccount:
    """Remember the payee's account at the provider (once; a repeat returns the first)."""
    account = await uow.session.get(PayoutAccount, user_id, with_for_update=True)
    if account is not None and account.provider == provider:
        return account
    if account is not None:  # the deployment moved to another provider: start over there
        account.provider, account.account_ref, account.ready = provider, account_ref, False
        return account
    account = PayoutAccount(user_id=user_id, provider=provider, account_ref=account_ref,
                            created_at=uow.clock.now())
    uow.session.add(account)
    await uow.session.flush()
    return account


async def mark_account_ready(uow: UnitOfWork, provider: str, account_ref: str) -> str:
    """The payee finished onboarding: mark the account ready and send what waits for it."""
    account = await uow.session.scalar(
        select(PayoutAccount).where(PayoutAccount.provider == provider,
                                    PayoutAccount.account_ref == account_ref)
        .with_for_update())
    if account is None:
        return f"ignored: account {account_ref} is not ours"
    if account.ready:
        return f"account {account_ref} already ready"
    account.ready = True
    waiting = list((await uow.session.scalars(select(MoneyOut).where(
        MoneyOut.user_id == account.user_id, MoneyOut.kind == "payout",
        MoneyOut.status == "pending"))).all())
    for out in waiting:
        out.next_attempt_at, out.last_error = uow.clock.now(), None
    user = await uow.session.get(User, account.user_id)
    assert user is not None
    currencies = {o.currency for o in waiting}
    total = ""
    if len(currencies) == 1:
        zero = Money.zero(currencies.pop())
        total = f" of {sum((Money(o.amount_minor, o.currency) for o in waiting), zero)}"
    more = (f" {len(waiting)} payout{'s' if len(waiting) != 1 else ''}{total} waiting for "
            f"it {'are' if len(waiting) != 1 else 'is'} on the way now." if waiting else "")
    await notify(uow, user, "payout_account_ready",
                 f"✅ Your payout account is connected.{more} See /earnings.")
    return f"account {account_ref} ready; {len(waiting)} payouts due now"
