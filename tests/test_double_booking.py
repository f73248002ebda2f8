"""No double booking, whoever races: the database has the last word."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.booking import hold_slot
from core.clock import FrozenClock
from core.errors import SlotTaken, StudentBusy
from core.models import Booking
from core.uow import Database
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.world import World, add_person

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 Berlin, inside Maya's hours


async def _active(db: Database) -> int:
    async with db.uow() as uow:
        stmt = select(func.count()).select_from(Booking).where(
            Booking.status.in_(("held", "confirmed")))
        return int(await uow.session.scalar(stmt) or 0)


async def _to_confirm_step(chat: FakeChat) -> None:
    await chat.send("/book python")
    await chat.click("Maya · next")
    await chat.click("Tue 24 Nov")
    await chat.click("10:00")
    assert "Please check your session" in chat.text


async def test_fifty_students_racing_for_one_slot_leave_exactly_one_holder(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    async with db.uow() as uow:
        for i in range(50):
            await add_person(uow, f"racer{i}", f"Racer {i}", "Europe/Berlin", "student")
    chats = [FakeChat(dispatcher, f"racer{i}") for i in range(50)]
    for chat in chats:
        await _to_confirm_step(chat)
    await asyncio.gather(*(chat.click("Hold & pay") for chat in chats))
    winners = [c for c in chats if "Held!" in c.text]
    losers = [c for c in chats if "just taken" in c.text]
    assert len(winners) == 1
    assert len(losers) == 49
    # Each loser is shown the times still free that day, not sent back to the start.
    assert all("pick a start time" in c.text and "10:00" not in c.labels for c in losers)
    assert await _active(db) == 1


async def test_student_losing_a_first_available_race_is_shown_that_days_other_times(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    async with db.uow() as uow:
        await add_person(uow, "racer", "Racer", "Europe/Berlin", "student")
    chats = [FakeChat(dispatcher, "sam"), FakeChat(dispatcher, "racer")]
    for chat in chats:  # only Ken teaches Spanish: both are offered his soonest time
        await chat.send("/book spanish")
        await chat.click("First available")
        assert "Please check your session" in chat.text
    for chat in chats:
        await chat.click("Hold & pay")
    winner, loser = chats
    assert "Held!" in winner.text
    assert "just taken" in loser.text and "pick a start time" in loser.text
    assert await _active(db) == 1


async def _insert(db: Database, world: World, *, teacher: int, student: int, start: datetime,
                  minutes: int = 60, status: str = "confirmed") -> None:
    async with db.uow() as uow:
        uow.session.add(Booking(course_id=world.python.id, teacher_id=teacher, student_id=student,
                                status=status, starts_at=start,
                                ends_at=start + timedelta(minutes=minutes), price_minor=4000,
                                currency="USD", created_at=uow.clock.now()))


async def test_database_refuses_overlapping_booking_for_same_teacher(
        db: Database, world: World) -> None:
    await _insert(db, world, teacher=world.maya.id, student=world.sam.id, start=SLOT)
    with pytest.raises(IntegrityError):
        await _insert(db, world, teacher=world.maya.id, student=world.lee.id,
                      start=SLOT + timedelta(minutes=30))
    assert await _active(db) == 1


async def test_database_refuses_overlapping_booking_for_same_student(
        db: Database, world: World) -> None:
    await _insert(db, world, teacher=world.maya.id, student=world.sam.id, start=SLOT)
    with pytest.raises(IntegrityError):
        await _insert(db, world, teacher=world.ken.id, student=world.sam.id,
                      start=SLOT - timedelta(minutes=30))
    assert await _active(db) == 1


async def test_database_allows_back_to_back_and_over_cancelled_bookings(
        db: Database, world: World) -> None:
    await _insert(db, world, teacher=world.maya.id, student=world.sam.id, start=SLOT)
    await _insert(db, world, teacher=world.maya.id, student=world.lee.id,
                  start=SLOT + timedelta(hours=1))
    await _insert(db, world, teacher=world.maya.id, student=world.lee.id,
                  start=SLOT - timedelta(minutes=30), status="cancelled")
    assert await _active(db) == 2


async def test_database_refuses_reactivating_a_cancelled_booking_into_a_clash(
        db: Database, world: World) -> None:
    await _insert(db, world, teacher=world.maya.id, student=world.lee.id, start=SLOT,
                  status="cancelled")
    await _insert(db, world, teacher=world.maya.id, student=world.sam.id, start=SLOT)
    with pytest.raises(IntegrityError):
        async with db.uow() as uow:
            booking = (await uow.session.scalars(
                select(Booking).where(Booking.status == "cancelled"))).one()
            booking.status = "confirmed"
    assert await _active(db) == 1


async def test_student_cannot_hold_two_teachers_at_once(db: Database, world: World) -> None:
    async with db.uow() as uow:
        await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOT)
    # Ken teaches 18:00-20:00 Tokyo = 09:00-11:00 UTC: the same hour as Maya's slot.
    with pytest.raises(StudentBusy):
        async with db.uow() as uow:
            await hold_slot(uow, world.sam, world.python.id, world.ken.id, SLOT)


async def test_lapsed_hold_frees_the_slot_for_the_next_student(
        db: Database, world: World, clock: FrozenClock) -> None:
    async with db.uow() as uow:
        await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOT)
    with pytest.raises(SlotTaken):
        async with db.uow() as uow:
            await hold_slot(uow, world.lee, world.python.id, world.maya.id, SLOT)
    clock.advance(minutes=db.settings.booking.hold_minutes + 1)
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.lee, world.python.id, world.maya.id, SLOT)
    assert booking.student_id == world.lee.id
    async with db.uow() as uow:
        statuses = sorted((await uow.session.scalars(select(Booking.status))).all())
    assert statuses == ["expired", "held"]


async def test_student_double_clicking_hold_at_once_books_once_and_hears_menu_expired(
        db: Database, world: World, chat: FakeChat) -> None:
    await _to_confirm_step(chat)
    action = chat.button("Hold & pay").action
    assert action is not None
    first, second = await asyncio.gather(chat.press(action), chat.press(action))
    texts = sorted(r.text for r in first + second)
    assert sum("Held!" in t for t in texts) == 1
    assert sum("menu has expired" in t for t in texts) == 1
    assert await _active(db) == 1
