"""The unit of work: one transaction per chat turn, web request or scheduled job."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import Clock
from core.config import Settings


class UnitOfWork:
    """Owns a session and its transaction. Core functions use it and never commit."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
    ) -> None:
        self._factory = factory
        self.clock = clock
        self.settings = settings
        self._session: AsyncSession | None = None
        self.notifications = 0  # outbox messages queued; the caller wakes the courier

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()
            self._session = None


class Database:
    """Engine + session factory; hands out units of work."""

    def __init__(self, engine: AsyncEngine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.settings)

    async def dispose(self) -> None:
        await self.engine.dispose()
