"""The composition root: the only place concrete pieces are assembled."""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock, SystemClock
from core.config import Settings
from core.db import create_engine
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.registry import Registry


@dataclass
class Container:
    settings: Settings
    db: Database
    registry: Registry
    dispatcher: Dispatcher


def build(settings: Settings, clock: Clock | None = None) -> Container:
    engine = create_engine(
        settings.database_url,
        echo=settings.database.echo,
        pool_size=settings.database.pool_size,
        busy_timeout_ms=settings.database.busy_timeout_ms,
    )
    db = Database(engine, clock or SystemClock(), settings)
    registry = build_registry()
    return Container(settings, db, registry, Dispatcher(db, registry))
