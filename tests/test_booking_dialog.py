"""The booking journey through the real dispatcher, flows and database."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Booking
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World


async def _bookings(db: Database) -> list[Booking]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Booking).order_by(Booking.id))).all())


async def test_student_books_course_teacher_day_time_and_gets_pay_link(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/book")
    assert "Which course" in chat.text
    await chat.click("Python from Zero")
    assert "Who would you like to learn with?" in chat.text
    await chat.click("Maya · next")
    assert "Days when Maya is free" in chat.text
    await chat.click("Tue 24 Nov")
    assert "pick a start time" in chat.text
    await chat.click("10:00")
    assert "Please check your session" in chat.text and "$40.00" in chat.text
    await chat.click("Hold & pay")
    assert "Held!" in chat.text
    assert "/pay/" in chat.url("Pay $40.00")
    [booking] = await _bookings(db)
    assert booking.status == "held"
    assert booking.teacher_id == world.maya.id and booking.student_id == world.sam.id
    # 10:00 in Berlin (UTC+1 in November) is 09:00 UTC.
    assert booking.starts_at.isoformat() == "2026-11-24T09:00:00+00:00"


async def test_teacher_choice_shows_sessions_taught_and_next_free_time(
        db: Database, world: World, chat: FakeChat) -> None:
    from datetime import UTC, datetime

    from core.booking import confirm_booking, hold_slot

    async with db.uow() as uow:
        done = await hold_slot(uow, world.lee, world.python.id, world.maya.id,
                               datetime(2026, 11, 24, 9, tzinfo=UTC))
        await confirm_booking(uow, done.id)
        done.status = "completed"
    await chat.send("/book python")
    assert "• Maya — new · 1 session taught · next free" in chat.text
    assert "• Ken — new · 0 sessions taught · next free" in chat.text
