"""The Stripe adapter: Checkout for payments, Connect "separate charges and transfers" for
payouts, refunds and transfer reversals, and webhook events mapped to neutral ones.

Money is captured at once and stays in the platform balance ("held until the session is
complete"); each payee's share later leaves as a Transfer tied to the charge
(``source_transaction``) under our own deterministic idempotency key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import stripe

from core.money import Money
from core.payment_port import (
    ACCOUNT_READY,
    CHECKOUT_DECLINED,
    CHECKOUT_EXPIRED,
    CHECKOUT_PAID,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    INSUFFICIENT_FUNDS,
    Checkout,
    CheckoutRequest,
    OutRequest,
    PaymentEvent,
    ProviderError,
    ReversalRequest,
)

NAME = "stripe"
TOLERANCE_S = 300  # how old a webhook signature may be
# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation; a
# shorter hold is still enforced by us: a payment after the hold lapsed is refunded.
MIN_SESSION_LIFE = timedelta(minutes=31)
log = logging.getLogger("alphapeer.payments.stripe")


class WebhookRejected(Exception):
    """A delivery that is not a genuine, fresh Stripe event."""


def _error(exc: stripe.StripeError) -> ProviderError:
    retryable = isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError,
                                 stripe.APIError))
    code = getattr(exc, "code", None)
    if code == INSUFFICIENT_FUNDS:  # funds arrive later (pending charges, reversals)
        retryable = True
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    unknown = isinstance(exc, (stripe.APIConnectionError, stripe.APIError))
    return ProviderError(f"stripe: {message}" + (f" ({code})" if code else ""),
                         retryable=retryable, code=code if isinstance(code, str) else None,
                         answered=not unknown)


class StripeProvider:
    name = NAME

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str,
                 clock_now: Callable[[], datetime]) -> None:
        self._http = stripe.AIOHTTPClient(timeout=20)
        self._client = stripe.StripeClient(secret_key, base_addresses={"api": api_base},
                                           http_client=self._http, max_network_retries=2)
        self._webhook_secret = webhook_secret
        self._now = clock_now

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def open_checkout(self, request: CheckoutRequest) -> Checkout:
        soonest = int((self._now() + MIN_SESSION_LIFE).timestamp())
        expires = max(request.expires_at_epoch, soonest)
        booking = str(request.booking_id)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": request.amount.currency.lower(),
                "unit_amount": request.amount.minor,
                "product_data": {"name": request.description[:250]}}}],
            "success_url": request.success_url, "cancel_url": request.cancel_url,
            "expires_at": expires, "client_reference_id": booking,
            "metadata": {"booking_id": booking},
            "payment_intent_data": {"transfer_group": f"booking-{booking}",
                                    "metadata": {"booking_id": booking}},
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"{request.idempotency_key}:{expires}"})
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        if not session.url:
            raise ProviderError("stripe: the checkout session has no URL", retryable=False)
        return Checkout(ref=session.id, url=session.url)

    async def refund(self, request: OutRequest) -> str:
        if not request.charge_ref:
            raise ProviderError("stripe: a refund needs the payment it comes from",
                                retryable=False)
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": request.charge_ref, "amount": request.amount.minor,
                 "metadata": {"key": request.key}},
                {"idempotency_key": request.key})
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return refund.id

    async def _charge_of(self, payment_intent: str) -> str:
        intent = await self._client.v1.payment_intents.retrieve_async(payment_intent)
        charge = intent.latest_charge
        if charge is None:
            raise ProviderError(f"stripe: payment {payment_intent} has no charge yet",
                                retryable=True)
        return charge if isinstance(charge, str) else charge.id

    async def transfer(self, request: OutRequest) -> str:
        if not request.destination or not request.charge_ref:
            raise ProviderError("stripe: a transfer needs a destination and its payment",
                                retryable=False)
        try:
            source = await self._charge_of(request.charge_ref)
            transfer = await self._client.v1.transfers.create_async(
                {"amount": request.amount.minor, "currency": request.amount.currency.lower(),
                 "destination": request.destination, "source_transaction": source,
                 "transfer_group": request.group, "metadata": {"key": request.key}},
                {"idempotency_key": request.key})
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return transfer.id

    async def reverse(self, request: ReversalRequest) -> str:
        try:
            reversal = await self._client.v1.transfers.reversals.create_async(
                request.transfer_ref, {"amount": request.amount.minor,
                                       "metadata": {"key": request.key}},
                {"idempotency_key": request.key})
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return reversal.id

    async def connect_link(self, user_id: int, account_ref: str | None,
                           return_url: str) -> tuple[str, str]:
        try:
            if account_ref is None:
                account = await self._client.v1.accounts.create_async(
                    {"controller": {"fees": {"payer": "application"},
                                    "losses": {"payments": "application"},
                                    "stripe_dashboard": {"type": "express"}},
                     "capabilities": {"transfers": {"requested": True}},
                     "metadata": {"user_id": str(user_id)}},
                    {"idempotency_key": f"account:{user_id}"})
                account_ref = account.id
            link = await self._client.v1.account_links.create_async(
                {"account": account_ref, "type": "account_onboarding",
                 "refresh_url": return_url, "return_url": return_url})
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return account_ref, link.url

    async def account_ready(self, account_ref: str) -> bool:
        try:
            account = await self._client.v1.accounts.retrieve_async(account_ref)
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return _ready(account.to_dict())

    @staticmethod
    def parse_event(payload: dict[str, Any]) -> PaymentEvent:
        """A recorded (already verified) event, mapped again when it is applied."""
        return event_from(payload)

    def parse_webhook(self, body: bytes, signature: str) -> tuple[PaymentEvent, dict[str, Any]]:
        """Verify a delivery and map it; raises ``WebhookRejected`` for anything not genuine."""
        try:
            text = body.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature, self._webhook_secret,
                                                  TOLERANCE_S)
            raw = json.loads(text)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise WebhookRejected(str(exc) or "bad signature") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise WebhookRejected("not an event")
        return event_from(raw), raw


def _ready(account: Any) -> bool:
    capabilities = account.get("capabilities") or {}
    return bool(account.get("payouts_enabled")) or capabilities.get("transfers") == "active"


def _money(obj: dict[str, Any], field: str) -> Money | None:
    amount, currency = obj.get(field), obj.get("currency")
    if isinstance(amount, int) and isinstance(currency, str):
        return Money(amount, currency.upper())
    return None


def _booking(obj: dict[str, Any]) -> int | None:
    meta = obj.get("metadata") or {}
    value = meta.get("booking_id") if isinstance(meta, dict) else None
    return int(value) if isinstance(value, str) and value.isdigit() else None


def event_from(raw: dict[str, Any]) -> PaymentEvent:
    """A Stripe event as a neutral one; types we do not act on keep their Stripe name."""
    kind = str(raw.get("type", ""))
    data = raw.get("data") or {}
    obj: dict[str, Any] = (data.get("object") or {}) if isinstance(data, dict) else {}
    eid = str(raw["id"])
    if kind.startswith("checkout.session."):
        paid = kind == "checkout.session.async_payment_succeeded" or (
            kind == "checkout.session.completed" and obj.get("payment_status") == "paid")
        neutral = (CHECKOUT_PAID if paid
                   else CHECKOUT_DECLINED if kind == "checkout.session.async_payment_failed"
                   else CHECKOUT_EXPIRED if kind == "checkout.session.expired" else kind)
        return PaymentEvent(NAME, eid, type=neutral, checkout_ref=obj.get("id"),
                            charge_ref=obj.get("payment_intent"),
                            amount=_money(obj, "amount_total"), booking_id=_booking(obj))
    if kind in ("charge.dispute.created", "charge.dispute.closed"):
        status = obj.get("status")
        neutral = (DISPUTE_OPENED if kind.endswith("created")
                   else DISPUTE_LOST if status == "lost" else DISPUTE_WON)
        return PaymentEvent(NAME, eid, type=neutral, charge_ref=obj.get("payment_intent"),
                            amount=_money(obj, "amount"))
    if kind == "account.updated" and _ready(obj):
        return PaymentEvent(NAME, eid, type=ACCOUNT_READY, account_ref=obj.get("id"))
    return PaymentEvent(NAME, eid, kind)
