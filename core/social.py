"""Who follows whom: the social graph behind follower counts, creator pages and (later) the
community feed. A follow is one row; a second click finds it there and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import Follow, OutboxMessage, User
from core.outbox import OutButton, notify
from core.uow import UnitOfWork

NEW_FOLLOWER = "new_follower"
# Follow, unfollow, follow again must not become a way to ping someone over and over.
QUIET_FOR = timedelta(hours=24)


async def get_person(uow: UnitOfWork, user_id: int) -> User:
    """Anyone by account number; a number that can't be one reads as not found."""
    user = await uow.session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound("person")
    return user


async def follow(uow: UnitOfWork, follower: User, followee_id: int, *,
                 profile_action: str | None = None) -> bool:
    """Follow someone; True when it is new (a double click finds the row and does nothing).
    A new follower is told once a day at most; ``profile_action`` opens the follower's card."""
    if followee_id == follower.id:
        raise InvalidInput("You can't follow yourself — but others can follow you from your "
                           "profile card.")
    followee = await get_person(uow, followee_id)
    result = await uow.session.execute(
        uow.insert(Follow)
        .values(follower_id=follower.id, followee_id=followee.id,
                created_at=uow.clock.now())
        .on_conflict_do_nothing())
    if not getattr(result, "rowcount", 0):
        return False
    await _tell(uow, follower, followee, profile_action)
    return True


async def _tell(uow: UnitOfWork, follower: User, followee: User, action: str | None) -> None:
    text = f"👋 {follower.display_name} started following you."
    recent = await uow.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.user_id == followee.id, OutboxMessage.kind == NEW_FOLLOWER,
        OutboxMessage.text == text,
        OutboxMessage.created_at >= uow.clock.now() - QUIET_FOR).limit(1))
    if recent is not None:
        return
    buttons = (((OutButton(f"👤 {follower.display_name}"[:80], action=action),),)
               if action else ())
    await notify(uow, followee, NEW_FOLLOWER, text, buttons)


async def unfollow(uow: UnitOfWork, follower: User, followee_id: int) -> bool:
    """Stop following; True if there was something to stop (a second click is harmless)."""
    if followee_id == follower.id:
        raise InvalidInput("You can't follow yourself, so there is nothing to undo.")
    followee = await get_person(uow, followee_id)
    result = await uow.session.execute(delete(Follow).where(
        Follow.follower_id == follower.id, Follow.followee_id == followee.id))
    return bool(getattr(result, "rowcount", 0))


async def is_following(uow: UnitOfWork, follower_id: int, followee_id: int) -> bool:
    found = await uow.session.scalar(select(Follow.follower_id).where(
        Follow.follower_id == follower_id, Follow.followee_id == followee_id))
    return found is not None


async def follower_counts(uow: UnitOfWork, ids: list[int]) -> dict[int, int]:
    """Followers per person (one statement for any number of people)."""
    if not ids:
        return {}
    rows = (await uow.session.execute(
        select(Follow.followee_id, func.count())
        .where(Follow.followee_id.in_(ids)).group_by(Follow.followee_id))).all()
    found = {int(who): int(n) for who, n in rows}
    return {i: found.get(i, 0) for i in ids}


async def following_count(uow: UnitOfWork, user_id: int) -> int:
    return int(await uow.session.scalar(
        select(func.count()).select_from(Follow).where(Follow.follower_id == user_id)) or 0)


async def list_following(uow: UnitOfWork, user_id: int, *, limit: int = 50) -> list[User]:
    """People this person follows, most recently followed first."""
    stmt = (select(User).join(Follow, Follow.followee_id == User.id)
            .where(Follow.follower_id == user_id)
            .order_by(Follow.created_at.desc(), User.id.desc()).limit(limit))
    return list((await uow.session.scalars(stmt)).all())
