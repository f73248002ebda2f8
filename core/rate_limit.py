"""Sliding-window limits kept in the database (logins, codes, resets, invitations), so every
worker process counts the same attempts and a restart forgets nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from core.models import RateEvent
from core.uow import UnitOfWork

KEEP = timedelta(days=2)  # longer than any window; older events are pruned


async def attempts(uow: UnitOfWork, bucket: str, key: str, window: timedelta) -> int:
    """How many attempts were counted under ``bucket``/``key`` in the last ``window``."""
    since = uow.clock.now() - window
    return int(await uow.session.scalar(select(func.count()).select_from(RateEvent).where(
        RateEvent.bucket == bucket, RateEvent.key == key[:128], RateEvent.at > since)) or 0)


async def hit(uow: UnitOfWork, bucket: str, key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt if fewer than ``limit`` were made in ``window``; False (nothing
    counted) when the limit is reached. Counting happens in the caller's transaction, so a
    refused login still counts: the caller commits either way."""
    if await attempts(uow, bucket, key, window) >= limit:
        return False
    uow.session.add(RateEvent(bucket=bucket[:32], key=key[:128], at=uow.clock.now()))
    return True


async def prune_rate_events(uow: UnitOfWork) -> int:
    """Forget attempts older than any window; returns how many went."""
    result = await uow.session.execute(
        delete(RateEvent).where(RateEvent.at < uow.clock.now() - KEEP),
        execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)
