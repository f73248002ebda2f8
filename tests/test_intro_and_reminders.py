"""Free 15-minute intros and reminders before sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.booking import confirm_booking, hold_slot, intro_conversion
from core.clock import FrozenClock
from core.errors import IntroAlreadyTaken
from core.models import Booking, OutboxMessage, Reminder, User
from core.uow import Database
from scheduling.jobs import send_due_reminders
from tests.fakechat import FakeChat
from tests.world import World
from web_callbacks.app import create_app

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _outbox(db: Database, user: User) -> list[str]:
    async with db.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id).order_by(OutboxMessage.id))).all()
        return [r.text for r in rows]


async def _book_intro(chat: FakeChat) -> None:
    await chat.send("/intro python")
    assert "free 15-minute intro" in chat.text
    await chat.click("Maya · next")
    await chat.click("Tue 24 Nov")
    await chat.click("10:15")  # intro slots are 15 minutes long
    assert "free, no payment" in chat.text
    await chat.click("Book free intro")


async def test_visitor_books_a_free_intro_without_paying(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_intro(chat)
    assert "Booked your free intro" in chat.text and "remind you" in chat.text
    async with db.uow() as uow:
        [booking] = (await uow.session.scalars(select(Booking))).all()
        reminders = (await uow.session.scalars(select(Reminder))).all()
    assert (booking.kind, booking.status, booking.price_minor) == ("intro", "confirmed", 0)
    assert booking.ends_at - booking.starts_at == timedelta(minutes=15)
    assert len(reminders) == 6  # both people, three kinds
    [note] = await _outbox(db, world.maya)
    assert "Sam booked a free intro with you" in note and "10:15" in note


async def test_one_free_intro_per_visitor_and_teacher(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_intro(chat)
    await chat.send("/intro python")
    assert "Maya" not in " ".join(chat.labels)  # already met: only Ken is offered
    assert any(label.startswith("Ken") for label in chat.labels)
    wednesday = datetime(2026, 11, 25, 10, tzinfo=UTC)
    with pytest.raises(IntroAlreadyTaken):  # the rule holds below the chat too
        async with db.uow() as uow:
            sam = await uow.session.get(User, world.sam.id)
            assert sam is not None
            await hold_slot(uow, sam, world.python.id, world.maya.id, wednesday, intro=True)
    with pytest.raises(IntegrityError):  # and the database refuses it without the check
        async with db.uow() as uow:
            uow.session.add(Booking(
                course_id=world.python.id, teacher_id=world.maya.id, student_id=world.sam.id,
                kind="intro", status="confirmed", starts_at=wednesday,
                ends_at=wednesday + timedelta(minutes=15), price_minor=0, currency="USD",
                created_at=uow.clock.now()))


async def test_intro_to_paid_session_counts_as_a_conversion(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_intro(chat)
    async with db.uow() as uow:
        assert await intro_conversion(uow) == (1, 0)
        lesson = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                 datetime(2026, 11, 26, 9, tzinfo=UTC))
        await confirm_booking(uow, lesson.id)
    async with db.uow() as uow:
        assert await intro_conversion(uow) == (1, 1)


async def _paid_session(db: Database, world: World) -> Booking:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                  TUESDAY_10_BERLIN)
        await confirm_booking(uow, booking.id)
        return booking


async def test_reminders_go_out_once_at_24h_1h_and_15m_with_a_join_link(
        db: Database, world: World, clock: FrozenClock) -> None:
    booking = await _paid_session(db, world)
    clock.set(TUESDAY_10_BERLIN - timedelta(hours=24))
    sent = await asyncio.gather(send_due_reminders(db), send_due_reminders(db))
    assert sorted(sent) == [0, 2]  # two workers, each reminder claimed by one of them
    assert "Tomorrow, Tue 24 Nov 10:00 (your time)" in (await _outbox(db, world.sam))[-1]
    assert "teaching Sam" in (await _outbox(db, world.maya))[-1]
    clock.set(TUESDAY_10_BERLIN - timedelta(hours=1))
    assert await send_due_reminders(db) == 2
    clock.set(TUESDAY_10_BERLIN - timedelta(minutes=15))
    assert await send_due_reminders(db) == 2
    assert await send_due_reminders(db) == 0
    async with db.uow() as uow:
        last = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.sam.id).order_by(OutboxMessage.id.desc()))).first()
    assert last is not None and "Starting in 15 minutes" in last.text
    link = last.buttons[0][0]["url"]
    async with TestClient(TestServer(create_app(db))) as http:
        resp = await http.get(link.split("127.0.0.1:8080", 1)[1], allow_redirects=False)
        # The default video provider is Jitsi: straight to the session's own room.
        assert resp.status == 302
        assert resp.headers["Location"].startswith(f"https://meet.jit.si/ap-{booking.id}-")


async def test_switched_off_reminders_and_cancelled_sessions_stay_silent(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat) -> None:
    await chat.send("/profile")
    await chat.click("Reminders")
    await chat.click("24 hours before")
    assert "24 hours before: off" in chat.text
    await chat.click("Done")
    await _paid_session(db, world)
    clock.set(TUESDAY_10_BERLIN - timedelta(hours=24))
    assert await send_due_reminders(db) == 1  # Maya only
    assert await _outbox(db, world.sam) == []
    async with db.uow() as uow:
        booking = (await uow.session.scalars(select(Booking))).one()
        booking.status = "cancelled"
    clock.set(TUESDAY_10_BERLIN - timedelta(hours=1))
    assert await send_due_reminders(db) == 0


async def test_a_reminder_due_long_ago_is_not_sent_late(
        db: Database, world: World, clock: FrozenClock) -> None:
    await _paid_session(db, world)
    clock.set(TUESDAY_10_BERLIN - timedelta(minutes=10))  # the process was down for a day
    assert await send_due_reminders(db) == 2  # only the 15-minute ones are still useful
