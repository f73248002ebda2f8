"""What the mailer needs from an email transport (SMTP, or a local folder)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class MailRefused(Exception):
    """The server refused this message for good (a bad recipient): retrying cannot help."""


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand one message over; MailRefused if refused for good, any other error to retry."""
        ...
