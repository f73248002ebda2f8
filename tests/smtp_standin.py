"""A real SMTP server on loopback (aiosmtpd, on the test's own event loop) that keeps what
it receives, so tests read every email our mailer sends through aiosmtplib. It can ask for
a login and refuse chosen recipients, like a real server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "mailer", "smtp-pass-for-tests"


@dataclass
class SmtpStandin:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    down: bool = False  # answer every message 451 (try again later)
    _server: asyncio.Server | None = None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.down:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        self.received.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    def _auth(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login.decode() == USER
              and data.password.decode() == PASSWORD)
        return AuthResult(success=ok, handled=False)

    async def start(self) -> SmtpStandin:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="smtp.test", authenticator=self._auth,
                         auth_required=True, auth_require_tls=False),
            self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]

    def one(self, address: str, kind_words: str) -> EmailMessage:
        """The one email to ``address`` whose subject contains ``kind_words``."""
        found = [m for m in self.to(address) if kind_words.lower() in str(m["Subject"]).lower()]
        subjects = [str(m["Subject"]) for m in self.to(address)]
        assert len(found) == 1, f"{len(found)} emails match {kind_words!r}; got {subjects}"
        return found[0]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())


def attachments_of(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """File name → (content type with parameters, bytes)."""
    found = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        found[str(part.get_filename())] = (str(part["Content-Type"]), bytes(payload or b""))
    return found
