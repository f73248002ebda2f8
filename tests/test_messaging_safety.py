"""Messaging under abuse: blocks, reports to the admin, forged buttons for someone else's
conversation, double submissions, garbage and the hourly limit. Every refusal stores and
delivers nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput, NotFound
from core.messaging import PER_HOUR, REFUSED, send_message
from core.models import Block, DirectMessage, Report, User
from core.moderation import block
from core.uow import Database
from handlers import payload
from tests.fakechat import FakeChat
from tests.test_messaging import REFUSAL, _direct, _outbox, _press, _unread, _write
from tests.world import World, paid_session

MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_blocked_teacher_is_refused_until_unblocked(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    await paid_session(db, world, MORNING)
    maya = chat_as("maya")
    await _write(maya, world.sam, "Are you coming?")
    [told] = await _outbox(db, world.sam)
    await _press(chat, told, "🚫 Block")
    assert "Blocked Maya: they can't message you any more" in chat.text
    await chat.click("Undo")
    assert "Unblocked Maya" in chat.text
    await maya.send(f"/message {world.sam.id}")  # she starts writing again...
    await _press(chat, told, "🚫 Block")  # ...and Sam blocks her meanwhile
    await _press(chat, told, "🚫 Block")  # a double click: still one block
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Block)) == 1
    await maya.send("Hello??")
    assert REFUSAL in maya.text, "reads like any refusal: Maya isn't told she was blocked"
    await maya.send(f"/message {world.sam.id}")
    assert REFUSAL in maya.text
    assert len(await _direct(db)) == 1 and len(await _outbox(db, world.sam)) == 1
    await chat.send(f"/message {world.maya.id}")
    assert f"You blocked Maya. Send /unblock {world.maya.id}" in chat.text

    await chat.send("/unblock")
    assert f"Maya (#{world.maya.id})" in chat.text
    await chat.click("Unblock Maya")
    assert "Unblocked Maya" in chat.text
    await _write(maya, world.sam, "Are you coming now?")
    assert "✅ Sent to Sam" in maya.text
    await chat.send(f"/unblock {world.maya.id}")
    assert "You haven't blocked that person" in chat.text


async def test_report_reaches_the_admin_with_who_and_what(
        db: Database, world: World, chat: FakeChat, chat_as: Any, admin: User) -> None:
    await paid_session(db, world, MORNING)
    await _write(chat_as("maya"), world.sam, "Pay me outside the platform, it's cheaper")
    [told] = await _outbox(db, world.sam)
    await _press(chat, told, "⚠️ Report")
    assert "Report this message from Maya" in chat.text and "outside the platform" in chat.text
    await chat.send("\u0000")
    assert chat.text.startswith("⚠️") and "plain text" in chat.text
    await chat.send("Asks for money off the platform")
    assert "Reported to the Alpha Peer admin" in chat.text
    [alert] = await _outbox(db, admin, "report")
    for shown in ("Sam", "Maya", f"#{world.maya.id}", "Pay me outside the platform",
                  "Asks for money off the platform"):
        assert shown in alert.text, shown
    await _press(chat, told, "⚠️ Report")
    await chat.click("Report without a reason")  # reported again: the admin hears once
    async with db.uow() as uow:
        [row] = (await uow.session.scalars(select(Report))).all()
        assert (row.reporter_id, row.reported_id) == (world.sam.id, world.maya.id)
    assert len(await _outbox(db, admin, "report")) == 1
    await chat.click("Block Maya too")
    assert "Blocked Maya" in chat.text


async def test_forged_buttons_for_someone_elses_conversation_read_as_not_found(
        db: Database, world: World, chat_as: Any) -> None:
    await paid_session(db, world, MORNING)
    await _write(chat_as("maya"), world.sam, "Private note for Sam")
    [told] = await _outbox(db, world.sam)
    history = next(b["action"] for line in told.buttons for b in line
                   if b["label"] == "📜 History")
    lee = chat_as("lee")
    await lee.press(history)
    assert "couldn't find that conversation" in lee.text and "Private note" not in lee.text
    async with db.uow() as uow:
        message_id = await uow.session.scalar(select(DirectMessage.id))
    await lee.press(payload.command("report", str(message_id)))
    assert "couldn't find that message" in lee.text
    maya = chat_as("maya")
    await maya.press(payload.command("report", str(message_id)))
    assert "couldn't find that message" in maya.text, "the sender can't report their own"
    for forged in ("t0", "t99999999999", "t1 o-1", "p0 x", "peer maybe"):
        await lee.press(payload.command("messages", forged))
        assert "Private note" not in lee.text and "incident" not in lee.text
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Report)) == 0
    assert await _unread(db, world.sam) == 1, "nobody else's look marks it read"


async def test_double_submitted_message_is_stored_and_delivered_once(
        db: Database, world: World, chat: FakeChat) -> None:
    await paid_session(db, world, MORNING)
    await chat.send("/message")
    pick = chat.button("Maya · your teacher").action
    await chat.click("Maya · your teacher")
    cancel = chat.button("Cancel").action
    await chat.send("See you tomorrow")
    assert "✅ Sent to Maya" in chat.text
    await chat.send("See you tomorrow")  # the app sent it again
    assert "Sent" not in chat.text
    for stale in (pick, cancel):
        assert stale is not None
        await chat.press(stale)
        assert "expired" in chat.text
    assert await _direct(db) == [(world.sam.id, world.maya.id, "See you tomorrow")]
    assert len(await _outbox(db, world.maya)) == 1


async def test_garbage_message_is_asked_again_and_the_hourly_limit_holds(
        db: Database, world: World, chat: FakeChat) -> None:
    await paid_session(db, world, MORNING)
    await chat.send(f"/message {world.maya.id}")
    for typed in ("   ", "x" * 1501, "hi\u202e there", "\u0000"):
        await chat.send(typed)
        assert chat.text.startswith("⚠️") and "Type your message to Maya" in chat.text
    assert await _direct(db) == []
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        for n in range(PER_HOUR - 1):
            await send_message(uow, sam, world.maya.id, f"ping {n}")
    await chat.send("line one\nline two")
    assert "✅ Sent to Maya" in chat.text
    await _write(chat, world.maya, "one too many")
    assert f"sent {PER_HOUR} messages in the last hour" in chat.text
    assert len(await _direct(db)) == PER_HOUR
    assert (await _direct(db))[-1][2] == "line one\nline two"


async def test_block_and_message_rules_hold_in_core(db: Database, world: World,
                                                    admin: User) -> None:
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        with pytest.raises(InvalidInput, match="can't block yourself"):
            await block(uow, sam, sam.id)
        with pytest.raises(InvalidInput, match="admin can't be blocked"):
            await block(uow, sam, admin.id)
        with pytest.raises(NotFound):
            await block(uow, sam, 0)
        with pytest.raises(InvalidInput, match="1 to 1500"):
            await send_message(uow, sam, admin.id, " \n ")
    assert REFUSED.startswith(REFUSAL)
