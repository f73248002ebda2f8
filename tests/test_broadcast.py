"""The admin's broadcasts: to a role or a course, each recipient once, in their thread with
the admin (so they can answer); an empty audience or a double click sends nothing more."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.broadcast import broadcast
from core.errors import InvalidInput
from core.models import Broadcast, DirectMessage, Enrolment, OutboxMessage, User
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World


async def _broadcasts_to(db: Database) -> dict[int, int]:
    """Recipient → how many broadcast notifications they got."""
    async with db.uow() as uow:
        rows = await uow.session.execute(select(OutboxMessage.user_id, func.count()).where(
            OutboxMessage.kind == "broadcast").group_by(OutboxMessage.user_id))
        return {user_id: int(n) for user_id, n in rows.all()}


async def _enrol(db: Database, world: World) -> None:
    """Sam takes Python; Lee finished Spanish; Ken left Python."""
    async with db.uow() as uow:
        now = uow.clock.now()
        uow.session.add_all([
            Enrolment(course_id=world.python.id, student_id=world.sam.id, status="active",
                      enrolled_at=now),
            Enrolment(course_id=world.spanish.id, student_id=world.lee.id, status="completed",
                      enrolled_at=now),
            Enrolment(course_id=world.python.id, student_id=world.ken.id, status="left",
                      enrolled_at=now)])


async def test_admin_broadcasts_to_a_role_and_each_recipient_gets_it_once(
        db: Database, world: World, chat_as: Any, admin: User) -> None:
    brian = chat_as("brian")
    await brian.send("/broadcast")
    assert "Whom is the broadcast for?" in brian.text
    await brian.click("Students")
    assert "Type the message for all students" in brian.text
    await brian.send("\u0000")
    assert brian.text.startswith("⚠️")
    await brian.send("New courses open next week!")
    assert "Send this to all students: 4 people?" in brian.text
    send = brian.button("Send to 4 people").action
    assert send is not None
    await brian.press(send)
    assert "Sent to 4 people" in brian.text
    await brian.press(send)  # a double click
    assert "expired" in brian.text

    students = {world.maya.id, world.ken.id, world.sam.id, world.lee.id}
    assert await _broadcasts_to(db) == dict.fromkeys(students, 1)
    async with db.uow() as uow:
        [row] = (await uow.session.scalars(select(Broadcast))).all()
        assert (row.audience, row.recipients) == ("role:student", 4)
        stored = (await uow.session.scalars(select(DirectMessage))).all()
        assert {m.recipient_id for m in stored} == students and len(stored) == 4
        assert all(m.broadcast_id == row.id and m.sender_id == admin.id for m in stored)
        [told] = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.lee.id))).all()
    assert "📣" in told.text and "New courses open next week!" in told.text

    lee = chat_as("lee")
    [reply] = [b["action"] for line in told.buttons for b in line if b["label"] == "↩ Reply"]
    await lee.press(reply)
    await lee.send("Which ones?")
    assert "✅ Sent to Brian" in lee.text
    await brian.send("/messages")
    assert "Lee · 1 new — Which ones?" in brian.text


async def test_admin_broadcasts_to_a_course_reaching_only_its_students(
        db: Database, world: World, chat_as: Any, admin: User) -> None:
    await _enrol(db, world)
    brian = chat_as("brian")
    await brian.send("/broadcast")
    await brian.click("A course")
    assert "Python from Zero · 1" in brian.labels and "Spanish Basics · 1" in brian.labels
    await brian.click("Spanish Basics · 1")
    assert "Type the message for everyone in Spanish Basics" in brian.text
    await brian.send("Spanish level 2 is coming")
    await brian.click("Edit text")
    await brian.send("Spanish level 2 opens in January")
    assert "1 person?" in brian.text and "opens in January" in brian.text
    await brian.click("Send to 1 person")
    assert await _broadcasts_to(db) == {world.lee.id: 1}
    lee = chat_as("lee")
    await lee.send("/messages")
    await lee.click("Brian")
    assert "Brian 📣: Spanish level 2 opens in January" in lee.text


async def test_empty_audience_and_non_admin_broadcasts_are_refused(
        db: Database, world: World, chat: FakeChat, admin: User) -> None:
    brian = FakeChat(chat.dispatcher, "brian")
    await brian.send("/broadcast")
    await brian.click("Funders")
    assert "Nobody is in that audience yet" in brian.text
    await brian.click("A course")
    assert "No course has students yet" in brian.text
    await chat.send("/broadcast")
    assert "isn't available to you" in chat.text
    async with db.uow() as uow:
        brian_user = await uow.session.get(User, admin.id)
        sam = await uow.session.get(User, world.sam.id)
        assert brian_user is not None and sam is not None
        with pytest.raises(InvalidInput, match="Nobody is in that audience"):
            await broadcast(uow, brian_user, f"course:{world.python.id}", "hello")
        with pytest.raises(InvalidInput, match="Only the Alpha Peer admin"):
            await broadcast(uow, sam, "role:student", "hello")
        with pytest.raises(InvalidInput, match="a role or a course"):
            await broadcast(uow, brian_user, "role:everyone", "hello")
    assert await _broadcasts_to(db) == {}
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Broadcast)) == 0
