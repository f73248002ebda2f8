"""Webhook chaos: every Stripe event delivered 1-5 times, shuffled, some at once, mixed with
forged signatures and stale timestamps → every bad delivery refused, no double effect, and
the same end state whatever the order (events that arrive before the one they depend on wait
for it)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core import ledger
from core.booking import hold_slot
from core.models import OutboxMessage, PayoutAccount, ProviderEvent, User
from core.payment import pending_events
from handlers.links import pay_url, payouts_url
from tests.stripe_env import SLOT, Env, balance, ledger_clean, local_path
from tests.world import World, fetch_booking

Delivery = tuple[str, dict[str, Any], dict[str, Any]]  # (kind, event, signing options)


async def _open(env: Env, student: User, world: World, at: datetime) -> tuple[int, str]:
    async with env.db.uow() as uow:
        booking = await hold_slot(uow, student, world.python.id, world.maya.id, at)
        link = pay_url(env.db.settings, booking)
    resp = await env.web.get(local_path(link), allow_redirects=False)
    assert resp.status == 303
    return booking.id, resp.headers["Location"].rsplit("/", 1)[1]


async def test_shuffled_repeated_and_forged_deliveries_have_one_effect_each(
        env: Env, world: World, admin: User) -> None:
    rng = random.Random(20261122)
    slots = [SLOT + timedelta(days=d) for d in range(5)]
    students = [world.sam, world.lee, world.sam, world.lee, world.sam]
    opened = [await _open(env, s, world, at) for s, at in zip(students, slots, strict=True)]
    paid_ids = [b for b, _ in opened[:4]]
    events = [env.stripe.pay(sid) for _, sid in opened[:4]]
    events.append(env.stripe.expire(opened[4][1]))
    intents = [env.stripe.sessions[sid]["payment_intent"] for _, sid in opened[:4]]
    events += [env.stripe.dispute(intents[0]), env.stripe.dispute(intents[0], "won"),
               env.stripe.dispute(intents[1]), env.stripe.dispute(intents[1], "lost"),
               env.stripe.dispute(intents[2], "lost")]  # its "created" never comes
    link = payouts_url(env.db.settings, world.maya.id, env.db.clock.now())
    resp = await env.web.get(local_path(link), allow_redirects=False)
    events.append(env.stripe.onboard(resp.headers["Location"].rsplit("/", 1)[1]))
    events.append(env.stripe._event("customer.created", {"id": "cus_1"}))  # not ours

    now = int(datetime.now(UTC).timestamp())
    deliveries: list[Delivery] = []
    for event in events:
        deliveries += [("good", event, {})] * rng.randint(1, 5)
        deliveries.append(("bad", event, {"secret": "whsec_forged"}))
        deliveries.append(("bad", event, {"timestamp": now - rng.randint(301, 86_400)}))
    rng.shuffle(deliveries)

    refused = 0
    for start in range(0, len(deliveries), 4):  # a few at once, as Stripe's workers do
        batch = deliveries[start:start + 4]
        statuses = await asyncio.gather(*(env.deliver(e, **opts) for _, e, opts in batch))
        for (kind, _event, _), status in zip(batch, statuses, strict=True):
            assert status == (400 if kind == "bad" else 200)
            refused += kind == "bad"
    assert refused == 2 * len(events)
    async with env.db.uow() as uow:  # whatever waited for an earlier event is applied now
        assert await pending_events(uow, "stripe") == []

    async with env.db.uow() as uow:
        recorded = await uow.session.scalar(select(func.count()).select_from(ProviderEvent))
        receipts = (await uow.session.scalars(select(OutboxMessage.text).where(
            OutboxMessage.kind == "receipt"))).all()
        account = await uow.session.get(PayoutAccount, world.maya.id)
    assert recorded == len(events)
    assert len(receipts) == 4 and all(f"#{b}:" in " ".join(receipts) for b in paid_ids)
    assert account is not None and account.ready
    for booking_id in paid_ids:
        assert (await fetch_booking(env.db, booking_id)).status == "confirmed"
    assert (await fetch_booking(env.db, opened[4][0])).status == "held"
    held = [await balance(env.db, ledger.held(b)) for b in paid_ids]
    frozen = [await balance(env.db, ledger.frozen(b)) for b in paid_ids]
    assert held == [4000, 0, 0, 4000]  # won, lost, lost without "created", undisputed
    assert frozen == [0, 0, 0, 0]
    assert await balance(env.db, "cash:stripe") == 8000
    await ledger_clean(env.db)
