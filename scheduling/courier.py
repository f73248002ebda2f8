"""Delivers queued outbox messages through whichever surfaces this process runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.outage import log_failure
from core.outbox import Delivery, claim_due, mark_failed, mark_sent
from core.uow import Database
from handlers.reply import Button, Reply, SharedFile

log = logging.getLogger("alphapeer.courier")
Sender = Callable[[str, Reply], Awaitable[None]]


def as_reply(delivery: Delivery) -> Reply:
    rows = tuple(
        tuple(Button(b.label, action=b.action, url=b.url) for b in row) for row in delivery.buttons
    )
    if delivery.file_name and delivery.file_body is not None:
        return Reply(delivery.text, rows, file_name=delivery.file_name,
                     file=delivery.file_body.encode(), room=delivery.room)
    shared = None
    if delivery.file_ref:
        shared = SharedFile(delivery.file_ref, delivery.file_name or "file",
                            delivery.file_kind or "document")
    return Reply(delivery.text, rows, shared=shared, room=delivery.room)


class Courier:
    """Claims due messages (a lease, so workers never share one), sends, records the result.

    A process that dies after sending but before recording re-sends once the lease lapses;
    that window is one HTTP call wide.
    """

    def __init__(self, db: Database, senders: dict[str, Sender], *, batch: int = 50) -> None:
        self.db = db
        self.senders = dict(senders)
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """Send what is due now; returns how many were sent."""
        if not self.senders:
            return 0
        async with self.db.uow() as uow:
            claimed = await claim_due(uow, tuple(self.senders), limit=self.batch)
        sent = 0
        for delivery in claimed:
            try:
                await self.senders[delivery.platform](delivery.external_id, as_reply(delivery))
            except Exception as exc:  # any failure is retried later; the reason is kept
                log.warning(
                    "outbox #%s to %s failed (try %s): %s",
                    delivery.message_id,
                    delivery.platform,
                    delivery.attempts,
                    exc,
                )
                async with self.db.uow() as uow:
                    await mark_failed(
                        uow, delivery.message_id, delivery.attempts, f"{type(exc).__name__}: {exc}"
                    )
                continue
            async with self.db.uow() as uow:
                await mark_sent(uow, delivery.message_id)
            sent += 1
        return sent

    async def run(self, interval: float = 5.0) -> None:
        """Deliver whenever woken, and every ``interval`` seconds for retries."""
        while True:
            try:
                await self.deliver_due()
            except Exception as exc:  # the database may be briefly away; try again next round
                log_failure(log, "outbox delivery round failed", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
