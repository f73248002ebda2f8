"""Stripe's webhook: each delivery's signature and age are verified, the event is recorded
once under its id and answered 200 at once (Stripe's advice: acknowledge, then work); an
applier then applies recorded events in order, each in its own transaction. Repeats change
nothing; an event that depends on one not applied yet waits for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.payment import record_event
from core.uow import Database
from payments.stripe_provider import StripeProvider, WebhookRejected
from scheduling.jobs import apply_provider_events

log = logging.getLogger("alphapeer.web.stripe")
PATH = "/webhooks/stripe"
MAX_BODY = 256 * 1024


class EventApplier:
    """One drain at a time per process; a wake during a drain runs one more round."""

    def __init__(self, db: Database, provider: StripeProvider,
                 after_commit: Callable[[], None] | None) -> None:
        self._db, self._provider, self._after_commit = db, provider, after_commit
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def wake(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._drain(), name="stripe-events")

    async def _drain(self) -> None:
        while True:
            self._again = False
            try:
                applied = await apply_provider_events(self._db, self._provider.name,
                                                      self._provider.parse_event)
            except Exception:  # the scheduler's sweep picks them up; never lose the loop
                log.exception("applying stripe events failed")
                return
            if applied and self._after_commit is not None:
                self._after_commit()
            if not self._again:
                return

    async def idle(self) -> None:
        """Wait until nothing is being applied (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


def stripe_webhook(db: Database, provider: StripeProvider, applier: EventApplier
                   ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413, text="too large")
        body = await request.read()
        try:
            event, raw = provider.parse_webhook(body, request.headers.get("Stripe-Signature",
                                                                          ""))
        except WebhookRejected as exc:
            log.warning("stripe webhook refused: %s", exc)
            return web.Response(status=400, text="rejected")
        async with db.uow() as uow:
            fresh = await record_event(uow, event, raw)
        if fresh is not None:
            applier.wake()
        return web.json_response({"received": True})

    return receive
