"""The Stripe test environment: the stand-in Stripe API on loopback, our web app using the
real Stripe adapter against it, and a database whose settings select Stripe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core import ledger
from core.clock import FrozenClock
from core.ledger_check import check_ledger
from core.uow import Database
from payments.stripe_provider import StripeProvider
from scheduling.jobs import send_money_out
from tests.stripe_standin import StripeStandIn
from web_callbacks.app import APPLIER_KEY, create_app

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Maya teaching Python, $40
KEY, WHSEC = "sk_test_standin_key", "whsec_standin_secret"
Client = TestClient[object, object]


@dataclass
class Env:
    db: Database
    stripe: StripeStandIn
    provider: StripeProvider
    web: Client

    async def deliver(self, event: dict[str, Any], **sign: Any) -> int:
        body, header = self.stripe.signed(event, **sign)
        resp = await self.web.post("/webhooks/stripe", data=body,
                                   headers={"Stripe-Signature": header,
                                            "Content-Type": "application/json"})
        await self.web.server.app[APPLIER_KEY].idle()  # applied right after the 200
        return resp.status

    async def sweep(self) -> int:
        return await send_money_out(self.db, self.provider)


@pytest.fixture(name="env")
async def stripe_env(db: Database, clock: FrozenClock) -> AsyncIterator[Env]:
    standin = StripeStandIn(KEY, WHSEC, now=lambda: clock.now().timestamp())
    api = TestServer(standin.app())
    await api.start_server()
    standin.base_url = str(api.make_url("")).rstrip("/")
    settings = replace(
        db.settings,
        payments=replace(db.settings.payments, provider="stripe",
                         stripe_api_base=standin.base_url),
        secrets=replace(db.settings.secrets, stripe_secret_key=KEY,
                        stripe_webhook_secret=WHSEC))
    sdb = Database(db.engine, db.clock, settings)
    provider = StripeProvider(KEY, WHSEC, standin.base_url, clock.now)
    async with TestClient(TestServer(create_app(sdb, payments=provider))) as web:
        yield Env(sdb, standin, provider, web)
    await provider.close()
    await api.close()


def local_path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def ledger_clean(db: Database) -> None:
    async with db.uow() as uow:
        assert await check_ledger(uow) == []


async def balance(db: Database, account: str) -> int:
    async with db.uow() as uow:
        return (await ledger.balance(uow, account, "USD")).minor
