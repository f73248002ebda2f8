"""Inbound updates are stored before they are handled and claimed inside the turn that
handles them, so a crash re-handles nothing that committed and loses nothing that did not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.lease import changed_one
from core.models import InboundUpdate
from core.uow import UnitOfWork


async def store_updates(
    uow: UnitOfWork, platform: str, updates: Sequence[tuple[int, dict[str, Any]]]
) -> list[tuple[int, int]]:
    """Record updates; returns (row id, update id) for the ones not seen before."""
    if not updates:
        return []
    now = uow.clock.now()
    stmt = (
        uow.insert(InboundUpdate)
        .values(
            [
                {"platform": platform, "update_id": uid, "payload": payload, "received_at": now}
                for uid, payload in updates
            ]
        )
        .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        .returning(InboundUpdate.id, InboundUpdate.update_id)
    )
    rows = (await uow.session.execute(stmt)).all()
    return sorted((int(r[0]), int(r[1])) for r in rows)


async def claim_update(uow: UnitOfWork, row_id: int) -> bool:
    """Mark the update handled in this transaction; False if someone already did."""
    result = await uow.session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == row_id, InboundUpdate.handled_at.is_(None))
        .values(handled_at=uow.clock.now()),
        execution_options={"synchronize_session": False},
    )
    return changed_one(result)


async def list_unhandled(
    uow: UnitOfWork, platform: str, *, older_than: timedelta, limit: int = 100
) -> list[InboundUpdate]:
    """Updates received but never handled (a crash or restart came between)."""
    cutoff: datetime = uow.clock.now() - older_than
    stmt = (
        select(InboundUpdate)
        .where(
            InboundUpdate.platform == platform,
            InboundUpdate.handled_at.is_(None),
            InboundUpdate.received_at <= cutoff,
        )
        .order_by(InboundUpdate.update_id)
        .limit(limit)
    )
    return list((await uow.session.scalars(stmt)).all())

