"""The composition root: the only place concrete pieces are assembled."""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import create_engine
from core.payment_port import PaymentProvider
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.registry import Registry
from payments.sandbox import SandboxProvider


@dataclass
class Container:
    settings: Settings
    db: Database
    registry: Registry
    dispatcher: Dispatcher
    payments: PaymentProvider


def build_provider(settings: Settings) -> PaymentProvider:
    # Only the sandbox exists so far; configuration refuses "stripe" until its adapter lands.
    return SandboxProvider(settings.web.public_url)


def build(settings: Settings, clock: Clock | None = None) -> Container:
    engine = create_engine(
        settings.database_url,
        echo=settings.database.echo,
        pool_size=settings.database.pool_size,
        busy_timeout_ms=settings.database.busy_timeout_ms,
    )
    db = Database(engine, clock or SystemClock(), settings)
    registry = build_registry()
    return Container(settings, db, registry, Dispatcher(db, registry), build_provider(settings))
