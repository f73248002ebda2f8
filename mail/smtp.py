"""Sending through an SMTP server with aiosmtplib: STARTTLS, implicit TLS or plain."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from core.mail_port import MailRefused


class SmtpTransport:
    def __init__(self, host: str, port: int, *, security: str = "starttls", username: str = "",
                 password: str = "", timeout: float = 30) -> None:
        self.host, self.port = host, port
        self.security = security
        self.username, self.password = username, password
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message, hostname=self.host, port=self.port,
                use_tls=self.security == "tls", start_tls=self.security == "starttls",
                username=self.username or None, password=self.password or None,
                timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise MailRefused(f"recipient refused: {exc.recipients}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600 and exc.code not in (530, 535):  # 5xx: for good,
                raise MailRefused(f"{exc.code} {exc.message}") from exc  # except auth
            raise
