"""Loading and saving flow state rows (the handlers' flows own what goes in them)."""

from __future__ import annotations

from core.models import Conversation
from core.uow import UnitOfWork

ConversationKey = tuple[str, str, str]


async def find_conversation(uow: UnitOfWork, key: ConversationKey) -> Conversation | None:
    """The flow state row, locked for this turn so concurrent clicks take turns."""
    return await uow.session.get(Conversation, key, with_for_update=True)


async def save_conversation(
    uow: UnitOfWork,
    key: ConversationKey,
    *,
    flow: str,
    step: str,
    nonce: str,
    data: dict[str, object],
    choices: list[list[str]],
) -> Conversation:
    row = await uow.session.get(Conversation, key)
    if row is None:
        platform, chat_key, user_key = key
        row = Conversation(platform=platform, chat_key=chat_key, user_key=user_key)
        uow.session.add(row)
    row.flow, row.step, row.nonce = flow, step, nonce
    # New objects so the JSON columns are seen as changed.
    row.data = dict(data)
    row.choices = [list(c) for c in choices]
    row.updated_at = uow.clock.now()
    return row


async def clear_conversation(uow: UnitOfWork, key: ConversationKey) -> None:
    row = await uow.session.get(Conversation, key)
    if row is not None:
        await uow.session.delete(row)
