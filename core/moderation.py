"""Keeping messaging safe: blocking someone (the admin can't be blocked) and reporting a
message received to the admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.alerts import tell_admins
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.messaging import is_admin
from core.models import Block, DirectMessage, Report, User
from core.uow import UnitOfWork


async def block(uow: UnitOfWork, blocker: User, blocked_id: int) -> User:
    """``blocked_id`` can no longer write to ``blocker`` (a repeat changes nothing)."""
    if blocked_id == blocker.id:
        raise InvalidInput("You can't block yourself.")
    target = await uow.session.get(User, blocked_id) if is_valid_id(blocked_id) else None
    if target is None:
        raise NotFound("person")
    if is_admin(target):
        raise InvalidInput("The Alpha Peer admin can't be blocked: they keep the marketplace "
                           "safe and may need to reach you. Tell them if something is wrong.")
    await uow.session.execute(uow.insert(Block).values(
        blocker_id=blocker.id, blocked_id=target.id, created_at=uow.clock.now())
        .on_conflict_do_nothing())
    return target


async def unblock(uow: UnitOfWork, blocker: User, blocked_id: int) -> User:
    """Let someone write again (a repeat changes nothing); only people you blocked."""
    block_row = await uow.session.get(Block, (blocker.id, blocked_id)) if is_valid_id(
        blocked_id) else None
    target = await uow.session.get(User, blocked_id) if block_row is not None else None
    if block_row is None or target is None:
        raise NotFound("person", template="You haven't blocked that person.")
    await uow.session.delete(block_row)
    return target


async def list_blocked(uow: UnitOfWork, user: User) -> list[User]:
    return list((await uow.session.scalars(select(User).join(
        Block, Block.blocked_id == User.id).where(Block.blocker_id == user.id)
        .order_by(User.display_name, User.id))).all())


async def get_received(uow: UnitOfWork, user: User, message_id: int
                       ) -> tuple[DirectMessage, User]:
    """A message someone sent ``user`` and its sender; anything else reads as unknown."""
    message = await uow.session.get(DirectMessage, message_id) if is_valid_id(
        message_id) else None
    sender = await uow.session.get(User, message.sender_id) if message is not None else None
    if message is None or sender is None or message.recipient_id != user.id:
        raise NotFound("message")
    return message, sender


async def report(uow: UnitOfWork, reporter: User, message_id: int, reason: str = "") -> Report:
    """Tell the admins about a message received; reporting it again adds nothing."""
    message, sender = await get_received(uow, reporter, message_id)
    existing = await uow.session.scalar(select(Report).where(
        Report.reporter_id == reporter.id, Report.message_id == message.id))
    if existing is not None:
        return existing
    row = Report(reporter_id=reporter.id, reported_id=sender.id, message_id=message.id,
                 reason=reason[:500], created_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():  # a racing second report loses here
            uow.session.add(row)
            await uow.session.flush()
    except IntegrityError:
        again = await uow.session.scalar(select(Report).where(
            Report.reporter_id == reporter.id, Report.message_id == message.id))
        assert again is not None
        return again
    quoted = message.body if len(message.body) <= 600 else message.body[:599] + "…"
    why = f"\nReason: {reason}" if reason else ""
    await tell_admins(uow, "report", f"⚠️ Report #{row.id}: {reporter.display_name} "
                      f"(#{reporter.id}) reported {sender.display_name} (#{sender.id}) for "
                      f"this message:\n“{quoted}”{why}\n/message {sender.id} to write to them.")
    return row
