"""Stripe webhook ingest over real HTTP: signed ``checkout.session.completed`` events, each
verified and recorded once (answered 200), then applied by the applier (booking confirmed,
ledger posted, receipt with ICS queued); then every event delivered again (duplicates);
against a baseline in the same run: a bare aiohttp handler that only verifies the
signature."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import aiohttp
import stripe
from aiohttp import web
from sqlalchemy import func, insert, select

from bench.common import Market, summary
from core.models import Booking, Payment, ProviderEvent
from core.uow import Database
from payments.stripe_provider import TOLERANCE_S, StripeProvider
from web_callbacks.app import APPLIER_KEY, create_app

SECRET = "whsec_bench"
CONCURRENCY = int(__import__("os").environ.get("WH_CONC", "8"))


async def _seed(db: Database, m: Market, total: int) -> list[int]:
    now = db.clock.now()
    rows = []
    for i in range(total):
        start = now + timedelta(days=1, hours=i)
        rows.append({"course_id": m.course.id, "teacher_id": m.teacher.id,
                     "student_id": m.students[i % len(m.students)].id, "kind": "lesson",
                     "status": "held", "starts_at": start, "ends_at": start + timedelta(hours=1),
                     "teacher_until": start + timedelta(hours=1), "price_minor": 4000,
                     "currency": "USD", "created_at": now, "late_cancel": False,
                     "hold_expires_at": now + timedelta(days=1), "sequence": 0})
    async with db.uow() as uow:
        ids = list((await uow.session.execute(
            insert(Booking).returning(Booking.id), rows)).scalars().all())
        await uow.session.execute(insert(Payment), [
            {"booking_id": bid, "provider": "stripe", "checkout_ref": f"cs_bench_{bid}",
             "amount_minor": 4000, "currency": "USD", "status": "pending", "created_at": now}
            for bid in ids])
    return ids


def _events(ids: list[int]) -> list[tuple[bytes, str]]:
    signed = []
    for bid in ids:
        body = json.dumps({
            "id": f"evt_bench_{bid}", "object": "event", "type": "checkout.session.completed",
            "created": int(time.time()), "data": {"object": {
                "id": f"cs_bench_{bid}", "object": "checkout.session", "payment_status": "paid",
                "payment_intent": f"pi_bench_{bid}", "amount_total": 4000, "currency": "usd",
                "metadata": {"booking_id": str(bid)}}}})
        signed.append((body.encode(), stripe.WebhookSignature.generate_signature_header(
            body, SECRET)))
    return signed


async def _blast(url: str, events: list[tuple[bytes, str]]) -> tuple[float, list[float]]:
    """Deliver every event with a few at once; returns (events/s, latencies in ms)."""
    latencies: list[float] = []
    queue = list(reversed(events))
    async with aiohttp.ClientSession() as http:
        async def worker() -> None:
            while queue:
                body, header = queue.pop()
                t0 = time.perf_counter()
                async with http.post(url, data=body, headers={
                        "Stripe-Signature": header, "Content-Type": "application/json"}) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(events) / elapsed, latencies


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def _baseline_app() -> web.Application:
    async def verify_only(request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        stripe.WebhookSignature.verify_header(body, request.headers["Stripe-Signature"],
                                              SECRET, TOLERANCE_S)
        json.loads(body)
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_post("/webhooks/stripe", verify_only)
    return app


async def run(db: Database, m: Market, total: int) -> dict[str, Any]:
    ids = await _seed(db, m, total)
    events = _events(ids)
    provider = StripeProvider("sk_bench", SECRET, "http://127.0.0.1:9", db.clock.now)
    app = create_app(db, payments=provider)
    runner, base = await _serve(app)
    try:
        started = time.perf_counter()
        rate, lat = await _blast(f"{base}/webhooks/stripe", events)
        await app[APPLIER_KEY].idle()
        applied_rate = total / (time.perf_counter() - started)
        dup_rate, dup_lat = await _blast(f"{base}/webhooks/stripe", events)
        await app[APPLIER_KEY].idle()
    finally:
        await runner.cleanup()
        await provider.close()
    async with db.uow() as uow:
        confirmed = await uow.session.scalar(select(func.count()).select_from(Booking).where(
            Booking.status == "confirmed"))
        recorded = await uow.session.scalar(select(func.count()).select_from(ProviderEvent))
    runner, base = await _serve(_baseline_app())
    try:
        base_rate, base_lat = await _blast(f"{base}/webhooks/stripe", events)
    finally:
        await runner.cleanup()
    print(f"webhook ingest ({total} signed checkout.session.completed, {CONCURRENCY} at once):")
    print(f"  verified and recorded: {rate:6.0f} events/s · {summary(lat)} (goal ≥ 200/s)")
    print(f"  all applied:           {applied_rate:6.0f} events/s · {confirmed} bookings "
          f"confirmed, {recorded} events recorded")
    print(f"  duplicates:            {dup_rate:6.0f} events/s · {summary(dup_lat)} · no effect")
    print(f"  baseline (verify signature only): {base_rate:6.0f} events/s · "
          f"{summary(base_lat)} · ours = {rate / base_rate:.0%} of it")
    return {"rate": rate, "applied": applied_rate, "duplicates": dup_rate,
            "baseline": base_rate}
