"""Which migration the database is at and which the code needs, read without Alembic: a
running bot checks this at start, and Alembic with its templates is 37 MB it would keep
for nothing (``alphapeer db upgrade`` loads it; tests hold both readings equal)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"""^revision(?:: str)? = ["']([^"']+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision[^=\n]*= ["']([^"']+)["']""", re.M)


@cache
def head_revision() -> str | None:
    """The one migration no other builds on."""
    revisions: set[str] = set()
    below: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        below.update(_DOWN.findall(source))
    heads = sorted(revisions - below)
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {heads}")
    return heads[0] if heads else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database (None before the first migration)."""
    async with engine.connect() as conn:
        try:
            return await conn.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:  # no such table: never migrated
            return None
