"""Payments in: checkouts for held bookings, and provider events (paid, declined, disputes).

Every event is recorded once under its provider id in the same transaction as its effects,
so a repeated delivery changes nothing and a crash leaves either all of it or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import ledger
from core.alerts import tell_admins
from core.booking import confirm_booking, find_booking_view
from core.errors import BookingStateError, NotFound
from core.escrow import freeze, refund_unreleased, settle_dispute
from core.invite import InviteFacts, file_name, invite
from core.models import Booking, Payment, ProviderEvent, User
from core.money import Money
from core.outbox import notify
from core.payment_port import (
    CHECKOUT_DECLINED,
    CHECKOUT_PAID,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PaymentEvent,
)
from core.timezone import format_local
from core.uow import UnitOfWork


@dataclass(frozen=True)
class Payable:
    """A held booking that can be paid now, and the checkout already opened for it."""

    booking: Booking
    course_title: str
    teacher_name: str
    open_checkout: Payment | None


async def find_payable(uow: UnitOfWork, booking_id: int, provider: str) -> Payable:
    view = await find_booking_view(uow, booking_id)
    if view is None:
        raise NotFound("booking")
    b = view.booking
    lapsed = b.hold_expires_at is not None and b.hold_expires_at <= uow.clock.now()
    if b.status != "held" or lapsed or b.kind != "lesson":
        raise BookingStateError(status="expired" if lapsed and b.status == "held" else b.status)
    existing = await uow.session.scalar(select(Payment).where(
        Payment.booking_id == b.id, Payment.provider == provider, Payment.status == "pending"))
    return Payable(b, view.course_title, view.teacher_name, existing)


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


async def handle_event(uow: UnitOfWork, event: PaymentEvent, payload: dict[str, object]) -> str:
    """Apply one provider event exactly once; returns what happened (for logs and tests)."""
    row = ProviderEvent(provider=event.provider, event_id=event.event_id, type=event.type,
                        payload=payload, received_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:
        return "duplicate"
    outcome = await _apply(uow, event)
    row.outcome = outcome[:200]
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
    payment = await _payment_for(uow, event)
    if payment is None and event.type == CHECKOUT_PAID and event.booking_id and event.amount:
        # The webhook beat our own record of the checkout: the metadata names the booking.
        booking = await uow.session.get(Booking, event.booking_id)
        if booking is not None and event.checkout_ref:
            payment = await record_checkout(uow, booking, event.provider, event.checkout_ref,
                                            "")
    if payment is None:
        return f"ignored {event.type}: no payment of ours"
    if event.type == CHECKOUT_PAID:
        return await _paid(uow, payment, event)
    if event.type == CHECKOUT_DECLINED:
        return await _declined(uow, payment)
    if event.type in (DISPUTE_OPENED, DISPUTE_WON, DISPUTE_LOST):
        if payment.status != "paid":
            return f"ignored {event.type}: payment {payment.id} is {payment.status}"
        if event.type == DISPUTE_OPENED:
            return await freeze(uow, payment, event.event_id)
        return await settle_dispute(uow, payment, event.event_id,
                                    won=event.type == DISPUTE_WON)
    return f"ignored {event.type}"


async def _paid(uow: UnitOfWork, payment: Payment, event: PaymentEvent) -> str:
    if payment.status == "paid":
        return f"payment {payment.id} already recorded"
    got = event.amount or payment_amount(payment)
    payment.status, payment.paid_at = "paid", uow.clock.now()
    payment.charge_ref = event.charge_ref or payment.charge_ref
    payment.amount_minor, payment.currency = got.minor, got.currency
    await ledger.post(uow, f"payment:{payment.id}", "payment",
                      ledger.receive(got, payment.provider, ledger.held(payment.booking_id)),
                      booking_id=payment.booking_id, memo=f"checkout {payment.checkout_ref}")
    booking = await uow.session.get(Booking, payment.booking_id, with_for_update=True)
    assert booking is not None
    student = await uow.session.get(User, booking.student_id)
    assert student is not None
    expected = Money(booking.price_minor, booking.currency)
    if booking.status != "held" or got != expected:
        why = (f"the session was {booking.status} by then" if booking.status != "held"
               else f"the amount was {got}, not {expected}")
        await refund_unreleased(uow, booking, payment, reason=f"paid after the hold ended: {why}")
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
