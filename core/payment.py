"""Payments in: checkouts for held bookings, and provider events (paid, declined, disputes).

Every event is recorded once under its provider id in the same transaction as its effects,
so a repeated delivery changes nothing and a crash leaves either all of it or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import ledger
from core.alerts import tell_admins
from core.booking import confirm_booking, find_booking_view
from core.errors import BookingStateError, NotFound
from core.escrow import freeze, paid_payment, refund_unreleased, settle_dispute
from core.invite import InviteFacts, file_name, invite
from core.models import Booking, Payment, ProviderEvent, User
from core.money import Money
from core.outbox import notify
from core.payment_port import (
    ACCOUNT_READY,
    CHECKOUT_DECLINED,
    CHECKOUT_EXPIRED,
    CHECKOUT_PAID,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PaymentEvent,
)
from core.payout import mark_account_ready
from core.timezone import format_local
from core.uow import UnitOfWork

DISPUTES = (DISPUTE_OPENED, DISPUTE_WON, DISPUTE_LOST)
GIVE_UP_AFTER = timedelta(days=3)


class EventNotReady(Exception):
    """The event refers to something an earlier event has not told us yet (a dispute on a
    payment whose "paid" event is still on its way): nothing is recorded, so the provider's
    redelivery applies it later."""


@dataclass(frozen=True)
class Payable:
    """A held booking that can be paid now, and the checkout already opened for it."""

    booking: Booking
    course_title: str
    teacher_name: str
    open_checkout: Payment | None
    attempt: int  # 1 + checkouts already closed unpaid: each new checkout gets its own key


async def find_payable(uow: UnitOfWork, booking_id: int, provider: str) -> Payable:
    view = await find_booking_view(uow, booking_id)
    if view is None:
        raise NotFound("booking")
    b = view.booking
    lapsed = b.hold_expires_at is not None and b.hold_expires_at <= uow.clock.now()
    if b.status != "held" or lapsed or b.kind != "lesson":
        raise BookingStateError(status="expired" if lapsed and b.status == "held" else b.status)
    payments = (await uow.session.scalars(select(Payment).where(
        Payment.booking_id == b.id, Payment.provider == provider))).all()
    existing = next((p for p in payments if p.status == "pending"), None)
    closed = sum(p.status == "declined" for p in payments)
    return Payable(b, view.course_title, view.teacher_name, existing, closed + 1)


async def _find_checkout(uow: UnitOfWork, provider: str, ref: str) -> Payment | None:
    return await uow.session.scalar(
        select(Payment).where(Payment.provider == provider, Payment.checkout_ref == ref))


async def record_checkout(uow: UnitOfWork, booking: Booking, provider: str, ref: str,
                          url: str) -> Payment:
    """The checkout the provider opened (a repeat of the same one returns the first row)."""
    found = await _find_checkout(uow, provider, ref)
    if found is not None:
        return found
    payment = Payment(booking_id=booking.id, provider=provider, checkout_ref=ref,
                      checkout_url=url, amount_minor=booking.price_minor,
                      currency=booking.currency, created_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():
            uow.session.add(payment)
    except IntegrityError:  # the same checkout recorded by a racing request
        found = await _find_checkout(uow, provider, ref)
        assert found is not None
        return found
    return payment


async def record_event(uow: UnitOfWork, event: PaymentEvent, payload: dict[str, Any]
                       ) -> int | None:
    """Store a verified event once under its provider id; None when it was seen before."""
    # One statement: a repeat (or a racing delivery) inserts nothing and returns no id.
    new_id: int | None = await uow.session.scalar(
        uow.insert(ProviderEvent).values(
            provider=event.provider, event_id=event.event_id, type=event.type,
            payload=payload, received_at=uow.clock.now(), outcome="")
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(ProviderEvent.id))
    return new_id


async def handle_event(uow: UnitOfWork, event: PaymentEvent, payload: dict[str, Any]) -> str:
    """Record and apply one provider event exactly once, in this transaction; returns what
    happened (for logs and tests). Raises ``EventNotReady`` (the caller rolls back and asks
    for a redelivery) when it depends on an event not seen yet."""
    event_row = await record_event(uow, event, payload)
    if event_row is None:
        return "duplicate"
    outcome = await _apply(uow, event)
    row = await uow.session.get(ProviderEvent, event_row)
    assert row is not None
    row.outcome, row.applied_at = outcome[:200], uow.clock.now()
    return outcome


async def pending_events(uow: UnitOfWork, provider: str, *, after: int = 0,
                         limit: int = 100) -> list[int]:
    """Recorded events not applied yet, oldest first, from after the given row."""
    return list((await uow.session.scalars(
        select(ProviderEvent.id).where(ProviderEvent.provider == provider,
                                       ProviderEvent.applied_at.is_(None),
                                       ProviderEvent.id > after)
        .order_by(ProviderEvent.id).limit(limit))).all())


async def apply_recorded(uow: UnitOfWork, event_row: int,
                         parse: Callable[[dict[str, Any]], PaymentEvent]) -> str | None:
    """Apply a recorded event (once: the row is locked and marked). An event that depends on
    one not applied yet stays pending for the next round; None when there was nothing to do."""
    row = await uow.session.get(ProviderEvent, event_row, with_for_update=True,
                                populate_existing=True)
    if row is None or row.applied_at is not None:
        return None
    if row.received_at < uow.clock.now() - GIVE_UP_AFTER:  # what it waits for never came
        row.outcome, row.applied_at = f"gave up: {row.outcome}"[:200], uow.clock.now()
        return row.outcome
    try:
        async with uow.session.begin_nested():
            outcome = await _apply(uow, parse(row.payload))
    except EventNotReady as exc:
        row.outcome = f"waiting: {exc}"[:200]
        return None
    row.outcome, row.applied_at = outcome[:200], uow.clock.now()
    return outcome


async def _payment_for(uow: UnitOfWork, event: PaymentEvent) -> Payment | None:
    if event.checkout_ref:
        found = await uow.session.scalar(
            select(Payment).where(Payment.provider == event.provider,
                                  Payment.checkout_ref == event.checkout_ref)
            .with_for_update())
        if found is not None:
            return found
    if event.charge_ref:
        return await uow.session.scalar(
            select(Payment).where(Payment.provider == event.provider,
                                  Payment.charge_ref == event.charge_ref).with_for_update())
    return None


async def _apply(uow: UnitOfWork, event: PaymentEvent) -> str:
    if event.type == ACCOUNT_READY:
        if not event.account_ref:
            return "ignored account event: no account"
        return await mark_account_ready(uow, event.provider, event.account_ref)
    payment = await _payment_for(uow, event)
    if payment is None and event.type == CHECKOUT_PAID and event.booking_id and event.amount:
        # The webhook beat our own record of the checkout: the metadata names the booking.
        booking = await uow.session.get(Booking, event.booking_id)
        if booking is not None and event.checkout_ref:
            payment = await record_checkout(uow, booking, event.provider, event.checkout_ref,
                                            "")
    if payment is None and event.type in DISPUTES and event.charge_ref:
        raise EventNotReady(f"{event.type} for {event.charge_ref} before its payment")
    if payment is None:
        return f"ignored {event.type}: no payment of ours"
    if event.type == CHECKOUT_PAID:
        return await _paid(uow, payment, event)
    if event.type == CHECKOUT_DECLINED:
        return await _declined(uow, payment)
    if event.type == CHECKOUT_EXPIRED:
        if payment.status != "pending":
            return f"expiry ignored: payment {payment.id} is {payment.status}"
        payment.status = "declined"  # the next pay click opens a fresh checkout
        return f"payment {payment.id} expired unpaid"
    if event.type in DISPUTES:
        return await _dispute(uow, payment, event)
    return f"ignored {event.type}"


async def _dispute(uow: UnitOfWork, payment: Payment, event: PaymentEvent) -> str:
    """A charge has one dispute; its events may come in any order or more than once."""
    if payment.status == "duplicate":
        return f"ignored {event.type}: payment {payment.id} was refunded as a duplicate"
    if payment.status != "paid":
        raise EventNotReady(f"{event.type} for payment {payment.id}, still {payment.status}")
    if payment.dispute_status in ("won", "lost"):
        return f"ignored {event.type}: the dispute is already {payment.dispute_status}"
    if event.type == DISPUTE_OPENED:
        if payment.dispute_status == "open":
            return f"ignored {event.type}: the dispute is already open"
        payment.dispute_status = "open"
        return await freeze(uow, payment, event.event_id)
    won = event.type == DISPUTE_WON
    payment.dispute_status = "won" if won else "lost"
    return await settle_dispute(uow, payment, event.event_id, won=won, disputed=event.amount)


async def _paid(uow: UnitOfWork, payment: Payment, event: PaymentEvent) -> str:
    if payment.status in ("paid", "duplicate"):
        return f"payment {payment.id} already recorded"
    booking = await uow.session.get(Booking, payment.booking_id, with_for_update=True)
    assert booking is not None
    got = event.amount or payment_amount(payment)
    first = await paid_payment(uow, booking.id)
    payment.status = "duplicate" if first is not None else "paid"
    payment.paid_at = uow.clock.now()
    payment.charge_ref = event.charge_ref or payment.charge_ref
    payment.amount_minor, payment.currency = got.minor, got.currency
    await ledger.post(uow, f"payment:{payment.id}", "payment",
                      ledger.receive(got, payment.provider, ledger.held(payment.booking_id)),
                      booking_id=payment.booking_id, memo=f"checkout {payment.checkout_ref}")
    if first is not None:  # a second checkout for the same session was paid too
        await refund_unreleased(uow, booking, payment, amount=got,
                                reason=f"session #{booking.id} was already paid "
                                       f"(payment {first.id})")
        await tell_admins(uow, "payment_mismatch",
                          f"⚠️ Session #{booking.id} was paid twice; payment {payment.id} "
                          f"({got}) is refunded in full.")
        return f"payment {payment.id} refunded: session already paid by payment {first.id}"
    student = await uow.session.get(User, booking.student_id)
    assert student is not None
    expected = Money(booking.price_minor, booking.currency)
    if booking.status != "held" or got != expected:
        why = (f"the session was {booking.status} by then" if booking.status != "held"
               else f"the amount was {got}, not {expected}")
        await refund_unreleased(uow, booking, payment, amount=got,
                                reason=f"paid after the hold ended: {why}")
        await tell_admins(uow, "payment_mismatch",
                          f"⚠️ Payment {payment.id} for session #{booking.id} refunded: {why}.")
        return f"payment {payment.id} refunded: {why}"
    await confirm_booking(uow, booking.id)
    await _announce_paid(uow, booking, payment, student)
    return f"payment {payment.id} confirmed booking {booking.id}"


def payment_amount(payment: Payment) -> Money:
    return Money(payment.amount_minor, payment.currency)


async def _declined(uow: UnitOfWork, payment: Payment) -> str:
    if payment.status != "pending":
        return f"decline ignored: payment {payment.id} is {payment.status}"
    payment.status = "declined"  # that checkout is over; the pay link opens a fresh one
    booking = await uow.session.get(Booking, payment.booking_id)
    assert booking is not None
    student = await uow.session.get(User, booking.student_id)
    assert student is not None
    until = (format_local(booking.hold_expires_at, student.timezone, with_date=False)
             if booking.hold_expires_at else "soon")
    await notify(uow, student, "payment_declined",
                 f"❌ The payment for session #{booking.id} was declined, so nothing was "
                 f"charged. Your time is still held until {until} — open the pay link again "
                 "to retry with another card.")
    return f"payment {payment.id} declined"


async def _announce_paid(uow: UnitOfWork, booking: Booking, payment: Payment,
                         student: User) -> None:
    view = await find_booking_view(uow, booking.id)
    teacher = await uow.session.get(User, booking.teacher_id)
    assert view is not None and teacher is not None
    ics = invite(InviteFacts(booking, view.course_title, view.teacher_name, view.student_name),
                 uow.clock.now())
    attachment = (file_name(booking), ics)
    price = payment_amount(payment)
    await notify(uow, student, "receipt",
                 f"🧾 Receipt — {price} paid for session #{booking.id}: {view.course_title} "
                 f"with {view.teacher_name}, {format_local(booking.starts_at, student.timezone)}"
                 f" (your time). Reference {payment.checkout_ref}.\n"
                 "✅ You're booked. The money is held until the session is complete; cancel "
                 "before then and whatever is not yet released comes back to you.\n"
                 "🗓 Add it to your calendar (open the file).", attachment=attachment)
    await notify(uow, teacher, "booking_confirmed",
                 f"🆕 {view.student_name} booked and paid session #{booking.id}: "
                 f"{view.course_title}, {format_local(booking.starts_at, teacher.timezone)} "
                 "(your time).", attachment=attachment)
