"""Engine creation and column types shared by every table.

SQLite: WAL, a busy timeout and ``BEGIN IMMEDIATE`` on every transaction, so write
transactions queue instead of interleaving (two check-then-insert bookings cannot both win).
PostgreSQL: asyncpg with a pool; overlap guards are exclusion constraints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from core.metrics import note_statement

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Ids are 32-bit integers on every backend; anything larger cannot name a row.
MAX_ID = 2**31 - 1


def is_valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite stores naive ISO text, so values are normalised to UTC before storing; the
    fixed format keeps text comparison in SQL (and in the overlap trigger) correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the stored text: one C parse per value instead of the generic
        # parser and two wrappers, which counts when hundreds of bookings are read per request.
        # The offset goes into the text because `replace(tzinfo=UTC)` costs ten parses.
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            return None if value is None else parse(value + "+00:00")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, busy_timeout_ms: int = 15000
) -> AsyncEngine:
    """Create the async engine with the per-backend settings this product relies on."""
    if not is_sqlite(url):
        engine = create_async_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        _count_statements(engine)
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size * 4,
        connect_args={"timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN IMMEDIATE is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    _count_statements(engine)
    return engine


def _count_statements(engine: AsyncEngine) -> None:
    """Every statement counts for the turn running it (core.metrics.counting); transaction
    control (SQLite's explicit BEGIN IMMEDIATE) is not a statement of the turn's work."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.startswith("BEGIN"):
            note_statement()
