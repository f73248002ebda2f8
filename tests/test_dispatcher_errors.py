"""Nobody sees a traceback: unexpected failures apologise and roll back everything."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import DBAPIError

from core.account import rename
from core.clock import FrozenClock
from core.db import create_engine
from core.uow import Database
from handlers.commands import build_registry
from handlers.context import Ctx
from handlers.dispatcher import Dispatcher
from handlers.registry import Command
from handlers.reply import Reply
from tests.fakechat import FakeChat
from tests.world import World


async def _explode(ctx: Ctx, _args: str) -> list[Reply]:
    rename(ctx.user, "Half Written")  # a write that must not survive the failure
    raise RuntimeError("secret internals: password=hunter2")


async def test_unexpected_failure_apologises_with_incident_and_rolls_back(
        db: Database, world: World, caplog: pytest.LogCaptureFixture) -> None:
    registry = build_registry()
    registry.add(Command("explode", "A command that fails", handler=_explode))
    chat = FakeChat(Dispatcher(db, registry), "sam")
    with caplog.at_level(logging.ERROR, logger="alphapeer.dispatch"):
        await chat.send("/explode")
    assert "Sorry — something went wrong" in chat.text
    assert "Nothing was charged" in chat.text
    assert "hunter2" not in chat.text and "RuntimeError" not in chat.text
    incident = chat.text.rsplit("incident ", 1)[1].rstrip(".")
    assert any(incident in r.getMessage() for r in caplog.records)
    await chat.send("/profile")
    assert "Half Written" not in chat.text and "Sam" in chat.text


async def test_database_down_gets_try_again_in_a_moment(db: Database) -> None:
    # Nothing listens on port 9 (discard) of loopback: connecting fails at once.
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    down = Database(engine, FrozenClock(db.clock.now()), db.settings)
    try:
        chat = FakeChat(Dispatcher(down, build_registry()), "sam")
        await chat.send("/book")
        assert "try again in a moment" in chat.text
        assert "Nothing was charged" in chat.text
    finally:
        await engine.dispose()


class _CannotConnectNow(Exception):
    sqlstate = "57P03"  # what asyncpg says while PostgreSQL shuts down or starts up


async def _shutting_down(ctx: Ctx, _args: str) -> list[Reply]:
    raise DBAPIError("SELECT 1", None, _CannotConnectNow("the database system is shutting down"))


async def test_database_shutting_down_gets_try_again_not_an_incident(
        db: Database, world: World, caplog: pytest.LogCaptureFixture) -> None:
    registry = build_registry()
    registry.add(Command("down", "A command that meets a stopping server",
                         handler=_shutting_down))
    chat = FakeChat(Dispatcher(db, registry), "sam")
    with caplog.at_level(logging.WARNING, logger="alphapeer.dispatch"):
        await chat.send("/down")
    assert "try again in a moment" in chat.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
