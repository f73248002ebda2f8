"""Alerts for the admins (disputes, refunds, failed payouts): one message to each admin."""

from __future__ import annotations

from sqlalchemy import select

from core.models import User, UserRole
from core.outbox import Outgoing, queue
from core.uow import UnitOfWork


async def list_admins(uow: UnitOfWork) -> list[User]:
    return list((await uow.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin").order_by(User.id))).all())


async def tell_admins(uow: UnitOfWork, kind: str, text: str) -> None:
    admins = await list_admins(uow)
    if admins:
        await queue(uow, [Outgoing(a, kind, text) for a in admins])
