"""The sandbox provider (the embedded default): no money moves. Checkout is our own page
clearly marked as a sandbox; its Pay and Decline buttons produce the same neutral events a
Stripe webhook does, so the whole money path runs end to end on a fresh machine."""

from __future__ import annotations

import hashlib
import secrets

from core.payment_port import Checkout, CheckoutRequest, OutRequest, ReversalRequest

NAME = "sandbox"


class SandboxProvider:
    name = NAME

    def __init__(self, public_url: str) -> None:
        self._public_url = public_url.rstrip("/")

    async def open_checkout(self, request: CheckoutRequest) -> Checkout:
        ref = f"cs_sandbox_{secrets.token_urlsafe(12)}"
        return Checkout(ref=ref, url=f"{self._public_url}/sandbox/checkout/{ref}")

    @staticmethod
    def _ref(prefix: str, key: str) -> str:
        # Deterministic from our key, as an idempotent provider would answer a repeat.
        return f"{prefix}_sandbox_{hashlib.sha256(key.encode()).hexdigest()[:16]}"

    async def refund(self, request: OutRequest) -> str:
        return self._ref("re", request.key)

    async def transfer(self, request: OutRequest) -> str:
        return self._ref("tr", request.key)

    async def reverse(self, request: ReversalRequest) -> str:
        return self._ref("trr", request.key)

    async def connect_link(self, user_id: int, account_ref: str | None,
                           return_url: str) -> tuple[str, str]:
        return account_ref or f"acct_sandbox_{user_id}", return_url

    async def account_ready(self, account_ref: str) -> bool:
        return True
