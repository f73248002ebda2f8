"""The unit of work: one transaction per chat turn, web request or scheduled job."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import Clock
from core.config import Settings


class WriterTurn:
    """SQLite has one writer at a time, and every transaction here begins IMMEDIATE. Waiting
    in SQLite's busy handler means sleeping and polling (unfair, with tails of seconds under
    load); waiting here is a FIFO queue in the process. Re-entrant per task."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class UnitOfWork:
    """Owns a session and its transaction. Core functions use it and never commit."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings,
        turn: WriterTurn | None = None,
    ) -> None:
        self._turn = turn
        self._factory = factory
        self.clock = clock
        self.settings = settings
        self._session: AsyncSession | None = None
        self.notifications = 0  # outbox messages queued; the caller wakes the courier
        self.memo: dict[Any, Any] = {}  # what this transaction already read (see conversation)

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql": for the few statements that differ."""
        return str(self.session.get_bind().dialect.name)

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_nothing`` on both databases."""
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        if self._turn is not None:
            await self._turn.acquire()
        try:
            self._session = self._factory()
            await self._session.begin()
        except BaseException:
            if self._turn is not None:
                self._turn.release()
            raise
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
            try:
                await session.close()
            finally:
                self._session = None
                if self._turn is not None:
                    self._turn.release()


class Database:
    """Engine + session factory; hands out units of work."""

    def __init__(self, engine: AsyncEngine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._turn = WriterTurn() if engine.dialect.name == "sqlite" else None

    def uow(self, clock: Clock | None = None) -> UnitOfWork:
        """A unit of work; ``clock`` overrides "now" for it alone (seeding a past)."""
        return UnitOfWork(self.sessions, clock or self.clock, self.settings, self._turn)

    async def dispose(self) -> None:
        await self.engine.dispose()
