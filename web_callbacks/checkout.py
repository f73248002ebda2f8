"""Checkout over the web: the signed pay link opens the provider's checkout, the sandbox's
own checkout page, and its Pay / Decline buttons (the same path as a provider webhook)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape

from aiohttp import web
from sqlalchemy import select

from core.booking import BookingView, find_booking_view
from core.errors import BookingStateError, NotFound
from core.models import Payment
from core.payment import find_payable, handle_event, payment_amount, record_checkout
from core.payment_port import (
    CHECKOUT_DECLINED,
    CHECKOUT_PAID,
    CheckoutRequest,
    PaymentEvent,
    PaymentProvider,
    ProviderError,
)
from core.signing import verify_token
from core.timezone import format_local
from core.uow import Database
from handlers.links import PAY
from web_callbacks.pages import html_page, rows

log = logging.getLogger("alphapeer.web.checkout")


def pay_handler(db: Database, provider: PaymentProvider
                ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def pay(request: web.Request) -> web.Response:
        """Open (or reopen) the checkout for a held booking and send the payer there."""
        try:
            subject = verify_token(db.settings.secrets.secret_key, PAY,
                                   request.match_info["token"], db.clock.now())
            async with db.uow() as uow:
                payable = await find_payable(uow, int(subject), provider.name)
        except (NotFound, ValueError):
            return html_page("Link expired", "<p>This payment link is invalid or has expired. "
                         "Book again in the chat.</p>", 404)
        except BookingStateError as exc:
            return html_page("Nothing to pay", f"<p>{escape(exc.user_message)} There is nothing "
                         "to pay here; your chat has the details.</p>", 410)
        booking = payable.booking
        if payable.open_checkout is not None and payable.open_checkout.checkout_url:
            raise web.HTTPSeeOther(payable.open_checkout.checkout_url)
        public = db.settings.web.public_url.rstrip("/")
        until = booking.hold_expires_at or booking.starts_at
        try:
            checkout = await provider.open_checkout(CheckoutRequest(
                booking_id=booking.id, amount=booking.price,
                description=f"{payable.course_title} with {payable.teacher_name}, "
                            f"session #{booking.id}",
                idempotency_key=f"checkout:{booking.id}:{payable.attempt}",
                success_url=f"{public}/paid", cancel_url=f"{public}/paid?cancelled=1",
                expires_at_epoch=int(until.timestamp())))
        except ProviderError as exc:
            log.warning("checkout for booking %s failed: %s", booking.id, exc)
            return html_page("Try again in a moment", "<p>The payment service did not answer. "
                         "Nothing was charged and your time is still held until "
                         f"{escape(format_local(until, 'UTC', with_date=False))} UTC — reload "
                         "this page in a moment.</p>", 503)
        async with db.uow() as uow:  # only the booking's id and price are read from it
            payment = await record_checkout(uow, booking, provider.name, checkout.ref,
                                            checkout.url)
            url = payment.checkout_url or checkout.url
        raise web.HTTPSeeOther(url)

    return pay


async def paid_page(request: web.Request) -> web.Response:
    if request.query.get("cancelled"):
        return html_page("Payment not finished", "<p>Nothing was charged. Your pay link in the "
                     "chat works until the hold ends.</p>")
    return html_page("Thank you", "<p>Your payment went through. The confirmation and calendar "
                 "invite are in your chat.</p>")


def sandbox_routes(db: Database, after_commit: Callable[[], None] | None
                   ) -> list[web.RouteDef]:
    """The sandbox's checkout page: clearly not real, same event path as a real provider."""

    async def _payment(ref: str) -> tuple[Payment, BookingView] | None:
        async with db.uow() as uow:
            payment = await uow.session.scalar(select(Payment).where(
                Payment.provider == "sandbox", Payment.checkout_ref == ref))
            view = await find_booking_view(uow, payment.booking_id) if payment else None
        return (payment, view) if payment and view else None

    async def show(request: web.Request) -> web.Response:
        found = await _payment(request.match_info["ref"])
        if found is None:
            return html_page("Unknown checkout", "<p>This checkout does not exist.</p>", 404)
        payment, view = found
        booking = view.booking
        if payment.status == "paid":
            return html_page("Already paid", f"<p>Session #{booking.id} is paid. The "
                         "confirmation is in your chat.</p>")
        details = rows([("Session", f"#{booking.id}"), ("Course", view.course_title),
                        ("Teacher", view.teacher_name),
                        ("Amount", str(payment_amount(payment))),
                        ("When", format_local(booking.starts_at, "UTC") + " UTC")])
        ref = escape(payment.checkout_ref)
        body = (
            "<p><span class=tag>SANDBOX — no real money moves</span></p>"
            f"<div class=box>{details}</div>"
            f"<form method=post action='/sandbox/checkout/{ref}'>"
            "<button name=action value=pay>Pay (sandbox)</button> "
            "<button name=action value=decline>Decline (test a failed card)</button></form>"
        )
        return html_page("Sandbox checkout", body)

    async def act(request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        found = await _payment(ref)
        form = await request.post()
        action = form.get("action")
        if found is None or action not in ("pay", "decline"):
            return html_page("Unknown checkout", "<p>Nothing happened.</p>", 404)
        payment, view = found
        booking = view.booking
        kind = CHECKOUT_PAID if action == "pay" else CHECKOUT_DECLINED
        event = PaymentEvent(
            provider="sandbox", event_id=f"evt_{ref}_{action}", type=kind, checkout_ref=ref,
            charge_ref=f"ch_{ref.removeprefix('cs_')}", amount=payment_amount(payment),
            booking_id=booking.id)
        async with db.uow() as uow:
            outcome = await handle_event(uow, event, {"sandbox": action, "checkout": ref})
        log.info("sandbox %s for %s: %s", action, ref, outcome)
        if after_commit is not None:
            after_commit()
        if action == "decline":
            return html_page("Payment declined", "<p>The sandbox declined the card, as asked. "
                         "Nothing was charged; the chat says how to retry.</p>")
        if "refunded" in outcome:
            return html_page("Refunded", "<p>This payment is being refunded in full: the "
                         "session was already paid, or its hold had ended. The chat has the "
                         "details.</p>")
        return html_page("Thank you", "<p>Paid (sandbox). The confirmation and calendar invite "
                     "are in your chat.</p>")

    return [web.get("/sandbox/checkout/{ref}", show), web.post("/sandbox/checkout/{ref}", act)]
