"""The composition root: the only place concrete pieces are assembled."""

from __future__ import annotations

from dataclasses import dataclass

from core.ai_port import Assistant
from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import create_engine
from core.mail_port import MailTransport
from core.payment_port import PaymentProvider
from core.uow import Database
from core.video_port import VideoProvider
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.registry import Registry
from mail.folder import FolderTransport
from mail.smtp import SmtpTransport
from payments.sandbox import SandboxProvider
from video.bbb import BBBProvider
from video.jitsi import JitsiProvider


@dataclass
class Container:
    settings: Settings
    db: Database
    registry: Registry
    dispatcher: Dispatcher
    payments: PaymentProvider
    video: VideoProvider
    assistant: Assistant | None  # None: AI is off
    mail: MailTransport

    async def close(self) -> None:
        """Release the providers' HTTP connections (the database is disposed separately)."""
        for client in (self.payments, self.video, self.assistant):
            close = getattr(client, "close", None)
            if close is not None:
                await close()


def build_provider(settings: Settings, clock: Clock) -> PaymentProvider:
    if settings.payments.provider == "stripe":
        # Imported when configured: stripe (23 MB) and openai (48 MB) are most of what an
        # idle process would hold otherwise.
        from payments.stripe_provider import StripeProvider

        return StripeProvider(settings.secrets.stripe_secret_key,
                              settings.secrets.stripe_webhook_secret,
                              settings.payments.stripe_api_base, clock.now)
    return SandboxProvider(settings.web.public_url)


def build_video(settings: Settings) -> VideoProvider:
    if settings.video.provider == "bbb":
        return BBBProvider(settings.video.bbb_url, settings.secrets.bbb_secret)
    return JitsiProvider(settings.video.jitsi_url, settings.secrets.secret_key)


def build_assistant(settings: Settings) -> Assistant | None:
    ai = settings.ai
    if not ai.base_url:
        return None
    from ai.openai_assistant import OpenAIAssistant

    return OpenAIAssistant(ai.base_url, settings.secrets.openai_api_key, ai.chat_model,
                           ai.transcribe_model, timeout=ai.timeout_seconds)


def build_mail(settings: Settings) -> MailTransport:
    mail = settings.email
    if mail.backend == "smtp":
        return SmtpTransport(mail.host, mail.port, security=mail.security,
                             username=mail.username, password=settings.secrets.smtp_password,
                             timeout=mail.timeout_seconds)
    return FolderTransport(settings.data_path / mail.folder)


def build(settings: Settings, clock: Clock | None = None) -> Container:
    engine = create_engine(
        settings.database_url,
        echo=settings.database.echo,
        pool_size=settings.database.pool_size,
        busy_timeout_ms=settings.database.busy_timeout_ms,
    )
    db = Database(engine, clock or SystemClock(), settings)
    registry = build_registry()
    return Container(settings, db, registry, Dispatcher(db, registry),
                     build_provider(settings, db.clock), build_video(settings),
                     build_assistant(settings), build_mail(settings))
