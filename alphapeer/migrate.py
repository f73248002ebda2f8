"""Alembic, driven from our own settings (no alembic.ini needed).

SQLite cannot alter most of a table in place, so Alembic rebuilds it (copy, drop, rename).
With foreign keys enforced, dropping a table that others point at fails on a populated
database, so SQLite migrations run with enforcement off and are checked with
``PRAGMA foreign_key_check`` before they commit.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.search import is_search_table

SCRIPTS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave out the full-text search objects, which the models do not (and cannot) declare:
    FTS5's tables on SQLite, the expression indexes on PostgreSQL."""
    return name is None or not is_search_table(name) or type_ not in ("table", "index")


class MigrationError(Exception):
    """A migration would leave the database inconsistent; nothing was committed."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def _pragma(conn: AsyncConnection, statement: str) -> None:
    # Outside any transaction (PRAGMA foreign_keys is ignored inside one): use the driver.
    raw = await conn.get_raw_connection()
    await raw.driver_connection.execute(statement)  # type: ignore[union-attr]


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    step = command.upgrade if action == "upgrade" else command.downgrade
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await _pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(lambda sync: step(alembic_config(sync), revision))
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise MigrationError(f"foreign keys broken: {broken[:5]}")
        finally:
            if sqlite:
                await _pragma(conn, "PRAGMA foreign_keys=ON")


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
