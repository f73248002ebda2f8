"""Every registered command, with garbage arguments and forged buttons, from a student, a
teacher and a stranger: a clear answer, never an incident, never a change to bookings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.models import Booking
from core.uow import Database
from handlers import payload
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.world import World

GARBAGE = ["", "abc", "-1", "99999999999999999999", "²", "#0", "<b>x</b>", "\u202e\u0000",
           "a" * 300, "1 2 3", "retry x"]
NAMES = [c.name for c in build_registry().all()]


async def _bookings(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Booking)) or 0)


@pytest.mark.parametrize("name", NAMES)
async def test_command_with_garbage_arguments_answers_clearly(
        db: Database, world: World, dispatcher: Dispatcher, name: str) -> None:
    before = await _bookings(db)
    for who in ("sam", "maya", "stranger"):
        chat = FakeChat(dispatcher, who)
        for args in GARBAGE:
            for reply in await chat.send(f"/{name} {args}".strip()) + \
                    await chat.press(payload.command(name, args[:40])):
                assert "incident" not in reply.text and "Traceback" not in reply.text
            await chat.send("/cancel")  # leave whatever flow the garbage opened
    assert await _bookings(db) == before
