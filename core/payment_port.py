"""What core needs from a payment provider, and the neutral shape of provider events.

Providers (``payments/``) implement ``PaymentProvider``; their webhooks are parsed into
``PaymentEvent`` so one code path handles Stripe and the sandbox alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.money import Money

# Neutral event types a provider's events are mapped to.
CHECKOUT_PAID = "checkout.paid"
CHECKOUT_DECLINED = "checkout.declined"
DISPUTE_OPENED = "dispute.opened"
DISPUTE_WON = "dispute.won"
DISPUTE_LOST = "dispute.lost"
CHECKOUT_EXPIRED = "checkout.expired"  # the checkout can no longer be paid
ACCOUNT_READY = "account.ready"  # a payee's payout account can receive transfers


@dataclass(frozen=True)
class CheckoutRequest:
    booking_id: int
    amount: Money
    description: str
    idempotency_key: str
    success_url: str
    cancel_url: str
    expires_at_epoch: int  # the hold's end: paying later must not be possible


@dataclass(frozen=True)
class Checkout:
    ref: str  # the provider's checkout id
    url: str  # where the payer is sent


@dataclass(frozen=True)
class OutRequest:
    """A refund (to the payer's card) or a payout (to a payee's account)."""

    key: str  # our deterministic id, used as the provider's idempotency key
    amount: Money
    charge_ref: str | None  # the payment it comes from
    destination: str | None = None  # a payee's account, for payouts
    group: str = ""  # ties payouts to the payment (Stripe transfer_group)


@dataclass(frozen=True)
class ReversalRequest:
    """Take (part of) a payout back from the payee's account before refunding the payer."""

    key: str
    transfer_ref: str
    amount: Money


@dataclass(frozen=True)
class PaymentEvent:
    provider: str
    event_id: str
    type: str  # one of the types above, or the provider's own type when we ignore it
    checkout_ref: str | None = None
    charge_ref: str | None = None
    amount: Money | None = None
    booking_id: int | None = None
    account_ref: str | None = None


INSUFFICIENT_FUNDS = "balance_insufficient"


class ProviderError(Exception):
    """A provider call failed; ``retryable`` says whether trying again later may work."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None,
                 answered: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code  # the provider's reason, e.g. "balance_insufficient"
        # True: the provider refused, nothing moved. False: unreachable or failed midway,
        # so the outcome is unknown and only the same idempotency key may be retried.
        self.answered = answered


class PaymentProvider(Protocol):
    name: str

    async def open_checkout(self, request: CheckoutRequest) -> Checkout: ...

    async def refund(self, request: OutRequest) -> str: ...

    async def transfer(self, request: OutRequest) -> str: ...

    async def reverse(self, request: ReversalRequest) -> str: ...

    async def connect_link(self, user_id: int, account_ref: str | None,
                           return_url: str) -> tuple[str, str]:
        """(account ref, onboarding URL) for a payee's payout account."""
        ...

    async def account_ready(self, account_ref: str) -> bool: ...
