"""Teachers set availability in a few taps; students see exactly that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.availability import list_free_slots, list_windows, set_terms
from core.booking import confirm_booking, hold_slot
from core.models import Booking, User
from core.uow import Database
from core.windows import Window
from tests.fakechat import FakeChat
from tests.world import World


async def _maya_slots(db: Database, world: World, days: int = 7,
                      minutes: int = 60) -> list[datetime]:
    async with db.uow() as uow:
        maya = await uow.session.get(User, world.maya.id)
        assert maya is not None
        now = uow.clock.now()
        slots = await list_free_slots(uow, [maya], minutes, student_id=None, start=now,
                                      end=now + timedelta(days=days))
    return [s.starts_at for s in slots]


async def test_teacher_publishes_a_week_of_availability_in_two_presses(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    assert "Your weekly hours (Berlin time)" in maya.text and "Mon–Sun 09:00–17:00" in maya.text
    assert "Mo Tu We Th Fr Sa Su" in maya.last[0].pre
    await maya.click("Weekday evenings")
    await maya.click("Publish")  # two presses after the command
    assert "Published" in maya.text and "Mon–Fri 18:00–21:00" in maya.text
    async with db.uow() as uow:
        user = await uow.session.get(User, world.maya.id)
        assert user is not None
        assert await list_windows(uow, user) == [Window(d, 18 * 60, 21 * 60) for d in range(5)]
    starts = await _maya_slots(db, world)
    assert starts and {s.hour for s in starts} == {17, 18, 19}  # UTC = Berlin - 1 in November
    assert all(s.weekday() < 5 for s in starts)


async def test_teacher_types_hours_and_gets_an_example_when_they_do_not_parse(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    await maya.click("Type hours")
    await maya.send("whenever I feel like it")
    assert "Try: mon-fri 18:00-21:00, sat 10-12" in maya.text
    await maya.send("tue, thu 9am-1pm; sat 10-12")
    assert "Tue 09:00–13:00" in maya.text and "Sat 10:00–12:00" in maya.text
    await maya.click("Publish")
    async with db.uow() as uow:
        user = await uow.session.get(User, world.maya.id)
        assert user is not None
        assert await list_windows(uow, user) == [
            Window(1, 540, 780), Window(3, 540, 780), Window(5, 600, 720)]


async def test_day_off_and_extra_hours_change_what_students_can_book(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    before = await _maya_slots(db, world)
    assert any(s.date().isoformat() == "2026-11-24" for s in before)
    await maya.send("/availability")
    await maya.click("Day off / extra")
    await maya.click("Tue 24")
    assert "Tue 24 Nov marked off" in maya.text
    after = await _maya_slots(db, world)
    assert not any(s.date().isoformat() == "2026-11-24" for s in after)
    await maya.click("Day off / extra")
    await maya.send("extra nov 28 19-21")
    assert "Sat 28 Nov extra hours added" in maya.text
    added = set(await _maya_slots(db, world)) - set(before)
    assert added == {datetime(2026, 11, 28, h, tzinfo=UTC) for h in (18, 19)}
    await maya.click("Day off / extra")
    await maya.send("yesterday-ish")
    assert "couldn't read that date" in maya.text


async def test_buffer_keeps_the_next_hour_free_and_the_database_enforces_it(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    await maya.click("Buffer & notice")
    await maya.click("15 min")
    assert "Saved" in maya.text and "15 min" in maya.text
    ten = datetime(2026, 11, 24, 9, tzinfo=UTC)  # 10:00 Berlin
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, ten)
        await confirm_booking(uow, booking.id)
    assert booking.teacher_until == ten + timedelta(minutes=75)
    starts = await _maya_slots(db, world)
    assert ten + timedelta(hours=1) not in starts  # 11:00 would end in the buffer
    assert ten + timedelta(hours=2) in starts
    with pytest.raises(IntegrityError):
        async with db.uow() as uow:
            uow.session.add(Booking(
                course_id=world.python.id, teacher_id=world.maya.id, student_id=world.lee.id,
                status="confirmed", starts_at=ten + timedelta(minutes=70),
                ends_at=ten + timedelta(minutes=130), price_minor=4000, currency="USD",
                created_at=uow.clock.now()))


async def test_notice_hides_slots_sooner_than_the_teacher_allows(
        db: Database, world: World) -> None:
    async with db.uow() as uow:
        maya = await uow.session.get(User, world.maya.id)
        assert maya is not None
        await set_terms(uow, maya, min_notice_minutes=48 * 60)
    starts = await _maya_slots(db, world)
    assert min(starts) >= datetime(2026, 11, 25, 8, tzinfo=UTC)


async def test_students_cannot_set_availability(world: World, chat: FakeChat) -> None:
    await chat.send("/availability")
    assert "isn't available to you" in chat.text


async def test_booking_day_step_shows_a_month_grid_and_accepts_a_day_number(
        world: World, chat: FakeChat) -> None:
    await chat.send("/book python")
    await chat.click("Maya · next")
    grid = chat.last[0].pre
    assert grid.startswith("Mo Tu We Th Fr Sa Su") and "24" in grid
    await chat.send("25")
    assert "Wednesday 25 November" in chat.text
