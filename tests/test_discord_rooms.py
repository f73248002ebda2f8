"""Session threads on Discord as private threads (simcord's in-memory Discord, discord.py's
real client): both participants added, nobody else sees it, messages kept with the session;
someone not on Discord gets what is written there relayed, and their answers land in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bots.discord.app import AlphaPeerClient
from core.models import Identity, OutboxMessage, SessionMessage, SessionRoom
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from scheduling.courier import Courier
from tests.conftest import make_settings
from tests.fakechat import FakeChat
from tests.world import World, paid_session
from web_callbacks.app import create_app

START = datetime(2026, 11, 26, 9, tzinfo=UTC)


@pytest.fixture
def simcord_bot(dispatcher: Dispatcher) -> AlphaPeerClient:
    return AlphaPeerClient(dispatcher, build_registry())


@dataclass
class Rooms:
    env: Any
    db: Database  # settings with the session channel
    sessions: Any  # the channel private session threads go under
    general: Any
    sam: Any
    maya: Any
    mallory: Any  # a member of the server with nothing to do with the session


async def _on_discord(db: Database, user_id: int, member: Any) -> None:
    async with db.uow() as uow:
        uow.session.add(Identity(user_id=user_id, platform="discord",
                                 external_id=str(member.id), created_at=uow.clock.now()))


@pytest.fixture
async def rooms(simcord_env: Any, db: Database, world: World, tmp_path: Path) -> Rooms:
    env = simcord_env
    guild = env.create_guild("Alpha Peer Community")
    general = guild.create_text_channel("general")
    sessions = guild.create_text_channel("sessions")
    sam = guild.add_member(env.create_user("sam"))
    maya = guild.add_member(env.create_user("maya"))
    mallory = guild.add_member(env.create_user("mallory"))
    settings = make_settings(db.settings.database_url, tmp_path,
                             ALPHAPEER_DISCORD_SESSION_CHANNEL_ID=str(sessions.id))
    room_db = Database(db.engine, db.clock, settings)
    await env.restart_bot(AlphaPeerClient(Dispatcher(room_db, build_registry()),
                                          build_registry(), session_channel_id=sessions.id))
    await _on_discord(db, world.sam.id, sam)
    return Rooms(env, room_db, sessions, general, sam, maya, mallory)


async def _open(rooms: Rooms, booking_id: int) -> Any:
    r = await rooms.sam.slash(rooms.general, "thread", session=str(booking_id))
    assert r.ephemeral and f"private thread for session #{booking_id}" in r.response.content
    [thread] = rooms.sessions.threads
    buttons = [c for row in r.response.components for c in row["components"]]
    assert buttons[0]["label"] == "🔒 Open the thread"
    assert buttons[0]["url"].endswith(f"/{thread.id}")
    return thread


async def test_both_participants_share_a_private_thread_nobody_else_sees(
        rooms: Rooms, db: Database, world: World) -> None:
    await _on_discord(db, world.maya.id, rooms.maya)
    booking_id = await paid_session(db, world, START)
    thread = await _open(rooms, booking_id)
    assert "Only the two of you" in thread.history()[0].content
    await rooms.sam.send(thread, "I'll bring my decorators homework")
    await rooms.maya.send(thread, "Great, see you Thursday")
    # Both are in the thread: nothing is relayed, both messages are kept with the session.
    async with db.uow() as uow:
        kept = (await uow.session.scalars(select(SessionMessage).order_by(
            SessionMessage.id))).all()
        relayed = (await uow.session.scalars(select(OutboxMessage))).all()
        room = await uow.session.get(SessionRoom, (booking_id, "discord"))
    assert [(m.sender_id, m.body) for m in kept] == [
        (world.sam.id, "I'll bring my decorators homework"),
        (world.maya.id, "Great, see you Thursday")]
    assert relayed == [] and room is not None and room.student_in and room.teacher_in
    with pytest.raises(Exception, match="cannot"):  # private: a third member can't read it
        thread.history(viewer=rooms.mallory)
    # Asking again reuses the same thread.
    again = await rooms.sam.slash(rooms.general, "thread", session=str(booking_id))
    assert "is open" in again.response.content and len(rooms.sessions.threads) == 1


async def test_a_teacher_elsewhere_gets_thread_messages_and_answers_into_it(
        rooms: Rooms, db: Database, world: World) -> None:
    booking_id = await paid_session(db, world, START)  # Maya uses the other app only
    thread = await _open(rooms, booking_id)
    assert "Maya isn't on Discord" in thread.history()[0].content
    await rooms.sam.send(thread, "Can we cover closures too?")
    async with db.uow() as uow:
        [to_maya] = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.maya.id))).all()
    assert to_maya.platform == "test" and "Can we cover closures too?" in to_maya.text
    maya = FakeChat(Dispatcher(db, build_registry()), "maya")
    await maya.press(to_maya.buttons[0][0]["action"])  # ↩ Reply
    await maya.send("Yes, closures first")
    async with db.uow() as uow:
        [to_sam] = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.sam.id))).all()
    assert (to_sam.platform, to_sam.room) == ("discord", str(thread.id))
    assert to_sam.buttons == []  # answered in the thread itself, no reply button needed
    courier = Courier(rooms.db, {"discord": rooms.env.bot.send_direct})
    assert await courier.deliver_due() == 1
    assert "Maya · session" in thread.last_message.content
    assert "Yes, closures first" in thread.last_message.content


async def test_someone_else_cannot_open_a_thread_for_a_session_not_theirs(
        rooms: Rooms, db: Database, world: World) -> None:
    booking_id = await paid_session(db, world, START)
    await _on_discord(db, world.lee.id, rooms.mallory)
    r = await rooms.mallory.slash(rooms.general, "thread", session=str(booking_id))
    assert "couldn't find" in r.response.content
    assert rooms.sessions.threads == []


async def test_a_chat_in_an_ordinary_thread_is_not_taken_for_a_session(
        rooms: Rooms, db: Database, world: World) -> None:
    await rooms.sam.send(rooms.general, "hello everyone")
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(SessionMessage))).all() == []


async def test_a_file_in_the_thread_reaches_a_teacher_elsewhere_as_a_private_link(
        rooms: Rooms, db: Database, world: World) -> None:
    booking_id = await paid_session(db, world, START)
    thread = await _open(rooms, booking_id)
    await rooms.sam.send(thread, attachments=[("notes.pdf", b"%PDF-1.4 closures")])
    async with db.uow() as uow:
        [to_maya] = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.maya.id))).all()
        [kept] = (await uow.session.scalars(select(SessionMessage))).all()
    assert "📎 sent a file: notes.pdf" in to_maya.text
    link = to_maya.buttons[0][0]
    assert link["label"] == "📎 notes.pdf" and "/file/" in link["url"]
    async with TestClient(TestServer(create_app(rooms.db))) as http:
        got = await http.get("/file/" + link["url"].split("/file/", 1)[1],
                             allow_redirects=False)
    assert got.status == 302 and got.headers["Location"] == kept.file_ref
    assert kept.file_ref is not None and kept.file_ref.startswith("https://")
