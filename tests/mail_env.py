"""Email in tests: the SMTP stand-in on loopback and a mailer that sends to it through the
real SMTP client (aiosmtplib), with a login, as production does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from core.uow import Database
from mail.smtp import SmtpTransport
from scheduling.mailer import Mailer
from tests.smtp_standin import PASSWORD, USER, SmtpStandin

SENDER = "Alpha Peer <no-reply@alphapeer.test>"


@dataclass
class MailEnv:
    server: SmtpStandin
    mailer: Mailer

    async def deliver(self) -> int:
        """Send everything queued so far (as the mailer does after each commit)."""
        total = 0
        while sent := await self.mailer.deliver_due():
            total += sent
        return total


@pytest.fixture
async def mail(db: Database) -> AsyncIterator[MailEnv]:
    """The ``db`` fixture plus a real SMTP server on loopback and a mailer pointed at it."""
    server = await SmtpStandin().start()
    transport = SmtpTransport(server.host, server.port, security="none", username=USER,
                              password=PASSWORD, timeout=10)
    try:
        yield MailEnv(server, Mailer(db, transport, SENDER))
    finally:
        await server.stop()
