"""Messages to other people: after commit, retried with back-off, never sent twice,
visible to the admin when they keep failing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.account import grant_role
from core.booking import confirm_booking, hold_slot
from core.clock import FrozenClock
from core.models import Identity, OutboxMessage, User
from core.outbox import MAX_ATTEMPTS, notify
from core.uow import Database
from handlers.dispatcher import Dispatcher
from handlers.reply import Reply
from scheduling.courier import Courier
from tests.fakechat import FakeChat
from tests.world import World

THURSDAY = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class Inbox:
    """A sender that records, and fails the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.got: list[tuple[str, str]] = []

    async def send(self, external_id: str, reply: Reply) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unreachable")
        await asyncio.sleep(0.01)  # long enough for a second worker to try the same row
        self.got.append((external_id, reply.text))


async def _queue(db: Database, user: User, text: str = "hello") -> int:
    async with db.uow() as uow:
        person = await uow.session.get(User, user.id)
        assert person is not None
        [message] = await notify(uow, person, "test", text)
        await uow.session.flush()
        return message.id


async def _row(db: Database, message_id: int) -> OutboxMessage:
    async with db.uow() as uow:
        row = await uow.session.get(OutboxMessage, message_id)
        assert row is not None
        return row


async def test_cancellation_queues_a_message_that_a_later_worker_sends_once(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, THURSDAY)
        await confirm_booking(uow, booking.id)
    await chat.send(f"/cancel {booking.id}")
    await chat.click("Yes, cancel it")  # committed; the process "dies" before delivering
    inbox = Inbox()
    first, second = Courier(db, {"test": inbox.send}), Courier(db, {"test": inbox.send})
    sent = await asyncio.gather(first.deliver_due(), second.deliver_due())
    assert sorted(sent) == [0, 1]
    assert len(inbox.got) == 1
    to, text = inbox.got[0]
    assert to == "maya" and f"Sam cancelled session #{booking.id}" in text
    assert await first.deliver_due() == 0


async def test_failed_delivery_is_retried_after_back_off_and_then_succeeds(
        db: Database, world: World, clock: FrozenClock) -> None:
    message_id = await _queue(db, world.maya)
    inbox = Inbox(failures=1)
    courier = Courier(db, {"test": inbox.send})
    assert await courier.deliver_due() == 0
    row = await _row(db, message_id)
    assert row.attempts == 1 and "unreachable" in (row.last_error or "")
    assert row.sent_at is None and row.failed_at is None
    assert await courier.deliver_due() == 0  # not due yet: backing off
    clock.advance(seconds=31)
    assert await courier.deliver_due() == 1
    assert inbox.got == [("maya", "hello")]
    assert (await _row(db, message_id)).attempts == 2


async def test_message_that_keeps_failing_is_given_up_and_shown_to_the_admin(
        db: Database, world: World, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    message_id = await _queue(db, world.maya)
    courier = Courier(db, {"test": Inbox(failures=100).send})
    for _ in range(MAX_ATTEMPTS):
        await courier.deliver_due()
        clock.advance(hours=2)
    row = await _row(db, message_id)
    assert row.failed_at is not None and row.attempts == MAX_ATTEMPTS
    async with db.uow() as uow:
        admin = await uow.session.get(User, world.creator.id)
        assert admin is not None
        grant_role(uow, admin, "admin")
    admin_chat = FakeChat(dispatcher, "ada")
    await admin_chat.send("/outbox")
    assert "1 gave up" in admin_chat.text and "platform unreachable" in admin_chat.text
    await admin_chat.click(f"Retry #{message_id}")
    assert f"Message #{message_id} is queued again" in admin_chat.text
    inbox = Inbox()
    assert await Courier(db, {"test": inbox.send}).deliver_due() == 1
    student = FakeChat(dispatcher, "sam")
    await student.send("/outbox")
    assert "isn't available to you" in student.text


async def test_notifications_go_where_the_person_chose(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        uow.session.add(Identity(user_id=world.sam.id, platform="test2", external_id="sam-2",
                                 created_at=uow.clock.now()))
    await chat.send("/profile")
    assert "notifications go to the test chat" in chat.text
    await chat.click("Notifications")
    await chat.click("the second test chat")
    assert "notifications go to the second test chat" in chat.text
    message_id = await _queue(db, world.sam)
    assert (await _row(db, message_id)).platform == "test2"
    inbox = Inbox()
    assert await Courier(db, {"test2": inbox.send}).deliver_due() == 1
    assert inbox.got == [("sam-2", "hello")]


@pytest.mark.parametrize("platforms", [("test",), ("telegram",)])
async def test_courier_only_claims_messages_for_platforms_it_can_reach(
        db: Database, world: World, platforms: tuple[str, ...]) -> None:
    await _queue(db, world.maya)
    inbox = Inbox()
    courier = Courier(db, {p: inbox.send for p in platforms})
    assert await courier.deliver_due() == (1 if "test" in platforms else 0)
    async with db.uow() as uow:
        pending = (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))).all()
    assert len(pending) == (0 if "test" in platforms else 1)


async def test_a_calendar_file_travels_with_its_message(db: Database, world: World) -> None:
    async with db.uow() as uow:
        maya = await uow.session.get(User, world.maya.id)
        assert maya is not None
        await notify(uow, maya, "test", "invite", attachment=("x.ics", "BEGIN:VCALENDAR"))
    got: list[Reply] = []

    async def keep(_to: str, reply: Reply) -> None:
        got.append(reply)

    assert await Courier(db, {"test": keep}).deliver_due() == 1
    assert got[0].file_name == "x.ics" and got[0].file == b"BEGIN:VCALENDAR"
