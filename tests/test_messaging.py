"""Messages between people: who may write to whom, relayed notifications with a Reply
button, history and unread counts, opt-in between students, funders and the admin (abuse
cases are in test_messaging_safety.py). Every refusal stores nothing and delivers nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from core.errors import NotFound
from core.messaging import list_contacts, list_threads, send_message, unread_count
from core.models import DirectMessage, Enrolment, OutboxMessage, User
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World, add_person, paid_session

MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REFUSAL = "I can't pass messages between you and that person"


async def _outbox(db: Database, user: User, kind: str = "direct_message") -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))).all())


async def _direct(db: Database) -> list[tuple[int, int, str]]:
    async with db.uow() as uow:
        return [(m.sender_id, m.recipient_id, m.body) for m in (await uow.session.scalars(
            select(DirectMessage).order_by(DirectMessage.id))).all()]


async def _unread(db: Database, user: User) -> int:
    async with db.uow() as uow:
        return await unread_count(uow, user.id)


def _labels(row: OutboxMessage) -> list[str]:
    return [b["label"] for line in row.buttons for b in line]


async def _press(chat: FakeChat, row: OutboxMessage, label: str) -> None:
    """Press a button of a notification the way the recipient's app would."""
    [action] = [b["action"] for line in row.buttons for b in line if b["label"] == label]
    await chat.press(action)


async def _write(chat: FakeChat, to: User, text: str) -> None:
    await chat.send(f"/message {to.id}")
    assert "Type your message to" in chat.text, chat.text
    await chat.send(text)


async def _funder(db: Database, world: World) -> User:
    """Fran, who pays for Sam's Python course."""
    async with db.uow() as uow:
        fran = await add_person(uow, "fran", "Fran", "Europe/London", "funder")
        uow.session.add(Enrolment(course_id=world.python.id, student_id=world.sam.id,
                                  funder_id=fran.id, status="active",
                                  enrolled_at=uow.clock.now()))
        return fran


async def test_student_messages_their_teacher_who_replies_from_the_notification(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    await paid_session(db, world, MORNING)
    await chat.send("/message")
    assert "Whom would you like to message?" in chat.text
    assert f"Maya (#{world.maya.id}) — your teacher · Python from Zero" in chat.text
    await chat.click("Maya · your teacher")
    assert "Type your message to Maya" in chat.text
    await chat.send("Hi Maya, can we cover loops on Tuesday?")
    assert "✅ Sent to Maya" in chat.text

    [told] = await _outbox(db, world.maya)
    assert "Sam" in told.text and "can we cover loops on Tuesday?" in told.text
    assert _labels(told) == ["↩ Reply", "📜 History", "🚫 Block", "⚠️ Report"]
    assert await _unread(db, world.maya) == 1

    maya = chat_as("maya")
    await _press(maya, told, "↩ Reply")
    assert "Type your message to Sam" in maya.text
    await maya.send("Yes, loops and lists. See you then!")
    assert "✅ Sent to Sam" in maya.text
    [answer] = await _outbox(db, world.sam)
    assert "Maya" in answer.text and "loops and lists" in answer.text
    assert await _unread(db, world.maya) == 0, "answering reads what they wrote"

    assert await _unread(db, world.sam) == 1
    await chat.send("/messages")
    assert "1 unread" in chat.text and "Maya · 1 new — Yes, loops and lists" in chat.text
    await chat.click("Maya (1)")
    lines = chat.text.splitlines()
    mine = next(i for i, line in enumerate(lines) if "Sam" not in line and "You: Hi" in line)
    theirs = next(i for i, line in enumerate(lines) if "Maya: Yes, loops" in line)
    assert mine < theirs, "newest last"
    assert await _unread(db, world.sam) == 0
    await chat.send("/messages")
    assert "0 unread" in chat.text and "1 new" not in chat.text


async def test_long_conversation_shows_the_latest_page_then_older_ones(
        db: Database, world: World, chat: FakeChat) -> None:
    await paid_session(db, world, MORNING)
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        for n in range(1, 13):
            await send_message(uow, sam, world.maya.id, f"note number {n:02d}")
    await chat.send("/messages")
    await chat.click("Maya")
    assert "note number 12" in chat.text and "note number 03" in chat.text
    assert "note number 02" not in chat.text
    await chat.click("Older messages")
    assert "note number 01" in chat.text and "note number 02" in chat.text
    assert "note number 03" not in chat.text and "Older messages" not in chat.labels


async def test_stranger_is_refused_and_nothing_is_stored(
        db: Database, world: World, chat_as: Any) -> None:
    await paid_session(db, world, MORNING)
    lee = chat_as("lee")
    await lee.send(f"/message {world.maya.id}")
    assert REFUSAL in lee.text
    await lee.send("/message 99999")  # nobody: the same answer, so numbers can't be probed
    assert REFUSAL in lee.text
    await lee.send(f"/message {world.lee.id}")
    assert "can't message yourself" in lee.text
    await lee.send("/message")
    assert "There's nobody you can message yet" in lee.text
    async with db.uow() as uow:
        outsider = await uow.session.get(User, world.lee.id)
        assert outsider is not None
        with pytest.raises(NotFound, match="can't pass messages"):
            await send_message(uow, outsider, world.sam.id, "hello")
    assert await _direct(db) == []
    assert await _outbox(db, world.maya) == [] and await _outbox(db, world.sam) == []


async def test_students_message_each_other_only_after_both_opt_in(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    lee = chat_as("lee")
    await chat.send(f"/message {world.lee.id}")
    assert REFUSAL in chat.text and "Other students may message me" in chat.text
    await chat.send("/messages")
    await chat.click("Other students may message me: off")
    assert "may now message you" in chat.text
    assert "💬 Other students may message me: on" in chat.labels
    await chat.send(f"/message {world.lee.id}")
    assert REFUSAL in chat.text, "Lee hasn't opted in yet"
    assert await _direct(db) == []

    await lee.send("/messages")
    await lee.click("Other students may message me: off")
    await _write(chat, world.lee, "Want to practise Python together?")
    assert "✅ Sent to Lee" in chat.text
    [told] = await _outbox(db, world.lee)
    assert "practise Python together" in told.text

    await chat.send("/messages peer off")  # Sam changes his mind; Lee may still answer
    assert "can no longer message you" in chat.text
    await _press(lee, told, "↩ Reply")
    await lee.send("Sure, Thursday?")
    assert "✅ Sent to Sam" in lee.text
    assert [b for _, _, b in await _direct(db)] == ["Want to practise Python together?",
                                                    "Sure, Thursday?"]


async def test_admin_cannot_be_blocked_and_messages_anyone(
        db: Database, world: World, chat_as: Any, admin: User) -> None:
    brian, lee = chat_as("brian"), chat_as("lee")
    await _write(brian, world.lee, "Welcome to Alpha Peer! Any questions?")
    assert "✅ Sent to Lee" in brian.text
    [told] = await _outbox(db, world.lee)
    await _press(lee, told, "🚫 Block")
    assert "admin can't be blocked" in lee.text
    await lee.send("/message admin")
    assert "Type your message to Brian" in lee.text
    await lee.send("How do I book an intro?")
    assert "✅ Sent to Brian" in lee.text
    [question] = await _outbox(db, admin)
    assert "How do I book an intro?" in question.text
    await lee.send("/message")
    assert "Brian · Alpha Peer admin" in lee.labels


async def test_funder_messages_a_funded_student_but_no_one_else(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    fran = chat_as("fran", "Fran")
    funder = await _funder(db, world)
    await fran.send("/message")
    assert "Sam · you fund their Python from Zero" in fran.labels
    await fran.click("Sam · you fund")
    await fran.send("How is the course going?")
    assert "✅ Sent to Sam" in fran.text
    [told] = await _outbox(db, world.sam)
    await _press(chat, told, "↩ Reply")
    await chat.send("Great, module 1 done!")
    [answer] = await _outbox(db, funder)
    assert "module 1 done" in answer.text
    await fran.send(f"/message {world.lee.id}")
    assert REFUSAL in fran.text


async def test_course_creator_teachers_and_students_are_each_others_contacts(
        db: Database, world: World) -> None:
    await paid_session(db, world, MORNING)  # Sam enrols in Python
    async with db.uow() as uow:
        def names(found: list[Any]) -> dict[str, str]:
            return {c.user.display_name: c.why for c in found}
        creator = await uow.session.get(User, world.creator.id)
        ken = await uow.session.get(User, world.ken.id)
        sam = await uow.session.get(User, world.sam.id)
        assert creator is not None and ken is not None and sam is not None
        assert names(await list_contacts(uow, creator)) == {
            "Maya": "teaches your Python from Zero",
            "Ken": "teaches your Python from Zero, Spanish Basics",
            "Sam": "takes your Python from Zero"}
        assert names(await list_contacts(uow, ken)) == {
            "Ada": "creator of Python from Zero, Spanish Basics"}
        assert names(await list_contacts(uow, sam)) == {
            "Maya": "your teacher · Python from Zero", "Ada": "creator of Python from Zero"}
        await send_message(uow, sam, world.creator.id, "Is there a module 3 coming?")


async def test_inbox_costs_the_same_statements_however_many_conversations(
        db: Database, world: World, admin: User) -> None:
    async def statements(limit: int) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(str(args[2]))
        async with db.uow() as uow:
            event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            try:
                brian = await uow.session.get(User, admin.id)
                assert brian is not None
                threads, total = await list_threads(uow, brian, limit=limit)
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert len(threads) == min(limit, 5) and total == 5
        return len(seen)

    async with db.uow() as uow:
        brian = await uow.session.get(User, admin.id)
        assert brian is not None
        for person in (world.creator, world.maya, world.ken, world.sam, world.lee):
            await send_message(uow, brian, person.id, f"Hello {person.display_name}")
    assert await statements(2) == await statements(5)


async def test_creator_pages_through_many_contacts_to_pick_one(
        db: Database, world: World, chat_as: Any) -> None:
    async with db.uow() as uow:
        for n in range(1, 11):
            pupil = await add_person(uow, f"p{n}", f"Pupil {n:02d}", "UTC", "student")
            uow.session.add(Enrolment(course_id=world.spanish.id, student_id=pupil.id,
                                      status="active", enrolled_at=uow.clock.now()))
    ada = chat_as("ada")
    await ada.send("/message")
    assert [x for x in ada.labels if x.startswith(("Maya", "Ken"))] == [
        "Ken · teaches your Python from Zero, Spanish Basics",
        "Maya · teaches your Python from Zero"]
    assert "Pupil 06" in ada.text and "Pupil 07" not in ada.text
    await ada.click("More ›")
    assert "Pupil 07" in ada.text and "Pupil 10" in ada.text and "Pupil 06" not in ada.text
    await ada.click("Pupil 10")
    assert "Type your message to Pupil 10" in ada.text
    await ada.send("Welcome to Spanish Basics!")
    assert "✅ Sent to Pupil 10" in ada.text
