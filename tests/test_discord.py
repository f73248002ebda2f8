"""The Discord surface: discord.py's real command tree and views against simcord's
in-memory Discord (no network, no token)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import simcord
from sqlalchemy import select

from bots.discord.app import AlphaPeerClient
from core.account import find_user_by_identity
from core.models import Booking
from core.uow import Database
from handlers import payload
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.reply import Button, Reply
from tests.fakechat import FakeChat
from tests.world import World


@pytest.fixture
def simcord_bot(dispatcher: Dispatcher) -> AlphaPeerClient:
    return AlphaPeerClient(dispatcher, build_registry())


@dataclass
class Server:
    env: Any
    channel: Any
    tess: Any  # a member with no special permissions
    boss: Any  # a server administrator


@pytest.fixture
def server(simcord_env: Any, world: World) -> Server:
    env = simcord_env
    guild = env.create_guild("Alpha Peer Community")
    channel = guild.create_text_channel("general")
    admins = guild.create_role("Admins", permissions=discord.Permissions(administrator=True))
    tess = guild.add_member(env.create_user("tess"))
    boss = guild.add_member(env.create_user("boss"), roles=[admins])
    return Server(env, channel, tess, boss)


def _labels(message: Any) -> list[str]:
    return [c.get("label", "") for row in message.components for c in row["components"]]


def _url(message: Any, label: str) -> str:
    found = [c for row in message.components for c in row["components"]
             if label in c.get("label", "")]
    assert len(found) == 1, _labels(message)
    return str(found[0]["url"])


async def _click(who: Any, message: Any, label: str) -> Any:
    matches = [x for x in _labels(message) if label in x]
    assert len(matches) == 1, f"{label!r} among {_labels(message)}"
    result = await who.click(message, label=matches[0])
    return result.followups[-1] if result.followups else result.response


async def test_member_books_by_slash_command_and_buttons(
        db: Database, server: Server) -> None:
    r = await server.tess.slash(server.channel, "start")
    assert r.ephemeral and "Welcome to Alpha Peer, tess" in r.response.content
    menu = await _click(server.tess, r.response, "I want to learn")
    assert "Which timezone" in menu.content
    menu = await _click(server.tess, menu, "Berlin")
    assert "all set" in menu.content
    r = await server.tess.slash(server.channel, "book", course="python")
    assert r.ephemeral and "Who would you like to learn with?" in r.response.content
    menu = await _click(server.tess, r.response, "Maya · next")
    menu = await _click(server.tess, menu, "Tue 24 Nov")
    menu = await _click(server.tess, menu, "10:00")
    assert "Please check your session" in menu.content
    menu = await _click(server.tess, menu, "Hold & pay")
    assert "Held!" in menu.content
    assert "/pay/" in _url(menu, "Pay $40.00")
    async with db.uow() as uow:
        tess = await find_user_by_identity(uow, "discord", str(server.tess.id))
        assert tess is not None
        [booking] = (await uow.session.scalars(select(Booking))).all()
        assert booking.student_id == tess.id and booking.status == "held"
    assert server.channel.history() == []  # nothing was posted for the whole server to see


async def test_errors_are_ephemeral(server: Server) -> None:
    r = await server.tess.slash(server.channel, "start")
    menu = await _click(server.tess, r.response, "I want to learn")
    await _click(server.tess, menu, "London")
    r = await server.tess.slash(server.channel, "cancel", booking_number="abc")
    assert r.ephemeral and "Booking numbers look like 12" in r.response.content


async def test_admin_command_is_hidden_from_members_and_checked_for_admins(
        server: Server) -> None:
    assert "outbox" not in server.tess.available_commands(server.channel)
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await server.tess.slash(server.channel, "outbox")
    # A server admin sees it, but Alpha Peer's own admin role is still required.
    r = await server.boss.slash(server.channel, "outbox")
    assert r.ephemeral and "isn't available to you" in r.response.content


async def test_button_pressed_after_a_restart_still_works(
        server: Server, dispatcher: Dispatcher) -> None:
    r = await server.tess.slash(server.channel, "start")
    await server.env.restart_bot(AlphaPeerClient(dispatcher, build_registry()))
    menu = await _click(server.tess, r.response, "I want to learn")
    assert "Which timezone" in menu.content


async def test_direct_messages_run_flows_and_numbers_press_buttons(server: Server) -> None:
    user = server.env.create_user("dee")
    await user.send_dm("/start")
    assert "What brings you here?" in user.dm_channel.last_message.content
    await user.send_dm("1")
    assert "Which timezone" in user.dm_channel.last_message.content
    await user.send_dm("Lisbon")
    assert "Lisbon time" in user.dm_channel.last_message.content


async def test_markdown_and_mentions_in_names_are_shown_literally(server: Server) -> None:
    sneaky = server.env.create_user("**bold**_@everyone")
    await sneaky.send_dm("/start")
    content = sneaky.dm_channel.last_message.content
    assert r"\*\*bold\*\*" in content


async def test_linking_a_discord_identity_merges_it_into_the_existing_account(
        db: Database, world: World, server: Server, chat: FakeChat) -> None:
    await chat.send("/link")
    code = re.search(r"/link (\w{4}-\w{4})", chat.text)
    assert code is not None
    r = await server.tess.slash(server.channel, "link", code=code.group(1))
    assert "Linked!" in r.response.content
    async with db.uow() as uow:
        merged = await find_user_by_identity(uow, "discord", str(server.tess.id))
    assert merged is not None and merged.id == world.sam.id
    r = await server.tess.slash(server.channel, "mybookings")
    assert "no upcoming sessions" in r.response.content


async def test_outbox_messages_arrive_as_direct_messages(server: Server) -> None:
    client = server.env.bot
    await client.send_direct(server.tess.id, Reply("Maya cancelled session #3 **today**"))
    assert server.tess.user.dm_channel.last_message.content == (
        r"Maya cancelled session #3 \*\*today\*\*")


async def test_a_long_reply_full_of_markdown_arrives_whole_in_messages_discord_accepts(
        server: Server) -> None:
    # Escaping doubles "* * *…": 1,401 characters became 2,801, over Discord's 2,000.
    text = "💬 Sam (#5):\n" + "* " * 700
    answer = Button("↩️ Answer", action=payload.command("message", "5"))
    reply = Reply(text.strip(), ((answer,),))
    await server.env.bot.send_direct(server.tess.id, reply)
    sent = server.tess.user.dm_channel.history()
    assert len(sent) == 2 and all(len(m.content) <= 2000 for m in sent)
    assert "".join(m.content for m in sent).replace("\\", "").replace("\n", "") == \
        text.strip().replace("\n", "")
    assert not sent[0].components  # the button comes with the last piece
    assert [c.label for row in sent[-1].components for c in row.children] == ["↩️ Answer"]
