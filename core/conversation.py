"""Loading and saving flow state rows (the handlers' flows own what goes in them)."""

from __future__ import annotations

from core.models import Conversation
from core.uow import UnitOfWork

ConversationKey = tuple[str, str, str]
_UNKNOWN = object()


def _memo_key(key: ConversationKey) -> tuple[str, ConversationKey]:
    return ("conversation", key)


def remember_conversation(uow: UnitOfWork, key: ConversationKey,
                          row: Conversation | None) -> None:
    """What the turn's first statement found (a row, or none), so no second look is needed."""
    uow.memo[_memo_key(key)] = row


async def find_conversation(uow: UnitOfWork, key: ConversationKey) -> Conversation | None:
    """The flow state row, locked for this turn so concurrent clicks take turns (when the
    turn loaded it with the account, that statement locked the account instead)."""
    known = uow.memo.get(_memo_key(key), _UNKNOWN)
    if known is not _UNKNOWN:
        return known if isinstance(known, Conversation) else None
    row = await uow.session.get(Conversation, key, with_for_update=True)
    remember_conversation(uow, key, row)
    return row


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
    row = await find_conversation(uow, key)
    if row is None:
        platform, chat_key, user_key = key
        row = Conversation(platform=platform, chat_key=chat_key, user_key=user_key)
        uow.session.add(row)
        remember_conversation(uow, key, row)
    row.flow, row.step, row.nonce = flow, step, nonce
    # New objects so the JSON columns are seen as changed.
    row.data = dict(data)
    row.choices = [list(c) for c in choices]
    row.updated_at = uow.clock.now()
    return row


async def clear_conversation(uow: UnitOfWork, key: ConversationKey) -> None:
    row = await find_conversation(uow, key)
    if row is not None:
        await uow.session.delete(row)
        remember_conversation(uow, key, None)
