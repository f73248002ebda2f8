"""Before two accounts of one person become one: rows that exist once per person (address,
profile, teacher settings) keep one copy, pairs that would point at the same person twice
(follows, blocks) or duplicate the target's go, and conversations with the same third person
are joined, so the generic move of every account column meets no constraint."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from core.models import (
    AccountEmail,
    Block,
    DirectMessage,
    DirectThread,
    Follow,
    Profile,
    TeacherSettings,
    User,
)
from core.uow import UnitOfWork


async def _one_per_person(uow: UnitOfWork, source: User, target: User) -> None:
    session = uow.session
    mine = await session.get(AccountEmail, source.id)
    theirs = await session.get(AccountEmail, target.id)
    if mine is not None and theirs is not None:
        # Keep the proven address; when both are, the account being joined into wins.
        drop = theirs if theirs.verified_at is None and mine.verified_at is not None else mine
        await session.delete(drop)
    for model in (Profile, TeacherSettings):
        if await session.get(model, target.id) is not None:
            await session.execute(delete(model).where(model.user_id == source.id))
    await session.flush()


async def _pairs(uow: UnitOfWork, one: InstrumentedAttribute[int],
                 other: InstrumentedAttribute[int], model: type[Follow] | type[Block],
                 source: User, target: User) -> None:
    """Rows between the two accounts go; rows the target already has go."""
    session = uow.session
    await session.execute(delete(model).where(or_(
        and_(one == source.id, other == target.id), and_(one == target.id,
                                                         other == source.id))))
    for mover, fixed in ((one, other), (other, one)):
        kept = select(fixed).where(mover == target.id)
        await session.execute(delete(model).where(mover == source.id, fixed.in_(kept)))


async def _threads(uow: UnitOfWork, source: User, target: User) -> None:
    session = uow.session
    rows = (await session.scalars(select(DirectThread).where(
        or_(DirectThread.low_id == source.id, DirectThread.high_id == source.id)))).all()
    for thread in rows:
        other = thread.high_id if thread.low_id == source.id else thread.low_id
        if other == target.id:  # the person writing to themself: nothing to keep
            await session.delete(thread)
            continue
        low, high = sorted((target.id, other))
        kept = await session.scalar(select(DirectThread).where(
            DirectThread.low_id == low, DirectThread.high_id == high))
        if kept is None:
            thread.low_id, thread.high_id = low, high
            continue
        await session.execute(update(DirectMessage).where(DirectMessage.thread_id == thread.id)
                              .values(thread_id=kept.id),
                              execution_options={"synchronize_session": False})
        kept.last_at = max(kept.last_at, thread.last_at)
        await session.delete(thread)
    await session.flush()


async def prepare_merge(uow: UnitOfWork, *, source: User, target: User) -> None:
    await _one_per_person(uow, source, target)
    await _pairs(uow, Follow.follower_id, Follow.followee_id, Follow, source, target)
    await _pairs(uow, Block.blocker_id, Block.blocked_id, Block, source, target)
    await _threads(uow, source, target)
