"""Delivers queued email through the configured transport, after the transaction that
queued it has committed; a refused address is given up on, anything else retried."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.mail import build_mime, claim_due_emails, mark_email_failed, mark_email_sent
from core.mail_port import MailRefused, MailTransport
from core.outage import log_failure
from core.uow import Database

log = logging.getLogger("alphapeer.mailer")


class Mailer:
    """Claims due emails with a lease (workers never share one), sends, records the result.
    A process that dies between sending and recording sends that one again once the lease
    lapses, with the same Message-ID, so mail clients show it once."""

    def __init__(self, db: Database, transport: MailTransport, sender: str, *,
                 batch: int = 20) -> None:
        self.db = db
        self.transport = transport
        self.sender = sender
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """Send what is due now; returns how many were sent."""
        async with self.db.uow() as uow:
            claimed = await claim_due_emails(uow, limit=self.batch)
        sent = 0
        for row in claimed:
            try:
                await self.transport.send(build_mime(row, self.sender))
            except Exception as exc:  # kept as the reason; retried unless refused for good
                log.warning("email #%s (%s) failed (try %s): %s", row.id, row.kind,
                            row.attempts, exc)
                async with self.db.uow() as uow:
                    await mark_email_failed(uow, row.id, row.attempts,
                                            f"{type(exc).__name__}: {exc}",
                                            permanent=isinstance(exc, MailRefused))
                continue
            async with self.db.uow() as uow:
                await mark_email_sent(uow, row.id)
            sent += 1
        return sent

    async def run(self, interval: float = 15.0) -> None:
        """Deliver whenever woken, and every ``interval`` seconds for retries."""
        while True:
            try:
                while await self.deliver_due() >= self.batch:
                    pass  # a full batch: there may be more waiting
            except Exception as exc:  # the database or server may be briefly away
                log_failure(log, "email delivery round failed", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
