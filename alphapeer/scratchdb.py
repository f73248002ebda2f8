"""Throw-away databases for tests and benchmarks: a SQLite file, or a fresh PostgreSQL
database created next to the one a URL names (and dropped afterwards)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


def asyncpg_url(url: str) -> str:
    return (url.replace("postgresql://", "postgresql+asyncpg://", 1)
            if url.startswith("postgresql://") else url)


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    plain = make_url(asyncpg_url(url)).set(drivername="postgresql")
    conn = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(backend: str, folder: Path, pg_url: str = "") -> AsyncIterator[str]:
    """Yield a URL for an empty database of ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":  # the caller's folder is temporary and goes with its files
        yield f"sqlite+aiosqlite:///{folder / f'scratch-{secrets.token_hex(4)}.db'}"
        return
    if not pg_url:
        raise ValueError("a PostgreSQL scratch database needs a server URL")
    name = f"alphapeer_scratch_{secrets.token_hex(4)}"
    await _admin(pg_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(asyncpg_url(pg_url)).set(database=name).render_as_string(
            hide_password=False)
    finally:
        await _admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
