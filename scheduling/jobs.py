"""Sweep jobs: each opens its own unit of work and is safe to run in several processes."""

from __future__ import annotations

import logging

from core.booking import expire_holds
from core.uow import Database

log = logging.getLogger("alphapeer.jobs")


async def sweep_expired_holds(db: Database) -> int:
    """Release slots whose unpaid holds lapsed (an UPDATE; concurrent runs cannot clash)."""
    async with db.uow() as uow:
        freed = await expire_holds(uow)
    if freed:
        log.info("released %d lapsed holds", freed)
    return freed
