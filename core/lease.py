"""Claiming rows for one worker: a conditional UPDATE that only one process can win.

Work queues (outbox, refunds and payouts, recordings, /ask questions) lease a row with
``claimed_until``; a worker that dies lets the lease lapse and another takes the row over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, update
from sqlalchemy.orm import InstrumentedAttribute

from core.uow import UnitOfWork


def changed_one(result: object) -> bool:
    """Whether a conditional UPDATE changed exactly one row (this worker won it)."""
    return int(getattr(result, "rowcount", 0) or 0) == 1


def backoff(attempts: int) -> timedelta:
    """How long a failed delivery waits: 30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def lease_free(claimed_until: InstrumentedAttribute[Any], now: datetime) -> ColumnElement[bool]:
    """Nobody holds the row, or their lease has lapsed."""
    return or_(claimed_until.is_(None), claimed_until < now)


async def lease(uow: UnitOfWork, model: Any, candidates: Select[int], ready: ColumnElement[bool],
                duration: timedelta) -> list[int]:
    """Lease each candidate id still ``ready`` and free (counting an attempt); returns the
    ids this worker won, in the candidates' order."""
    now = uow.clock.now()
    won: list[int] = []
    for row_id in (await uow.session.scalars(candidates)).all():
        result = await uow.session.execute(
            update(model).where(model.id == row_id, ready, lease_free(model.claimed_until, now))
            .values(claimed_until=now + duration, attempts=model.attempts + 1),
            execution_options={"synchronize_session": False})
        if changed_one(result):
            won.append(row_id)
    return won
