"""Moving sessions: either side, old → new told to both, late moves need a reason, and a
rebook soon after cancelling counts as a reschedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.booking import confirm_booking, hold_slot
from core.clock import FrozenClock
from core.models import Booking, OutboxMessage, Reminder, User
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World, fetch_booking, paid_session

THURSDAY_10_BERLIN = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)






async def _notes(db: Database, user: User) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id).order_by(OutboxMessage.id))).all())


async def test_student_moves_a_session_and_the_teacher_hears_old_and_new_time(
        db: Database, world: World, chat: FakeChat) -> None:
    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    await chat.send("/mybookings")
    await chat.click(f"Move #{booking_id}")
    await chat.click("Fri 27 Nov")
    await chat.click("14:00")
    assert "from Thu 26 Nov 10:00" in chat.text and "to   Fri 27 Nov 14:00" in chat.text
    await chat.click("Move it")
    assert f"Moved #{booking_id} from Thu 26 Nov 10:00 to Fri 27 Nov 14:00" in chat.text
    assert any(r.file_name for r in chat.last)
    moved = await fetch_booking(db, booking_id)
    assert moved.starts_at == datetime(2026, 11, 27, 13, tzinfo=UTC) and moved.sequence == 1
    [note] = await _notes(db, world.maya)
    assert "from Thu 26 Nov 10:00 to Fri 27 Nov 14:00" in note.text and note.file_body
    async with db.uow() as uow:
        dues = sorted(r.due_at for r in (await uow.session.scalars(select(Reminder))).all())
    assert dues[-1] == moved.starts_at - timedelta(minutes=15)


async def test_moving_into_its_own_hour_shifted_by_thirty_minutes_is_allowed(
        db: Database, world: World) -> None:
    from core.booking import reschedule_booking

    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        # Slots run on the hour; the next hour overlaps the old one and must still be free.
        later = THURSDAY_10_BERLIN + timedelta(hours=1)
        await reschedule_booking(uow, sam, booking_id, later)
    assert (await fetch_booking(db, booking_id)).starts_at == later


async def test_teacher_moves_a_session_around_the_students_other_bookings(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    async with db.uow() as uow:  # Sam is busy with Ken at 18:00 Tokyo = 10:00 Berlin on Fri
        other = await hold_slot(uow, world.sam, world.python.id, world.ken.id,
                                datetime(2026, 11, 27, 9, tzinfo=UTC))
        await confirm_booking(uow, other.id)
    maya: FakeChat = chat_as("maya")
    await maya.send(f"/reschedule {booking_id}")
    await maya.click("Fri 27 Nov")
    assert "10:00" not in maya.labels and "11:00" in maya.labels
    await maya.click("11:00")
    await maya.click("Move it")
    assert "Sam has been told" in maya.text
    [note] = [n for n in await _notes(db, world.sam) if "moved" in n.text]
    assert "Maya moved session" in note.text


async def test_late_move_needs_a_reason(db: Database, world: World, chat: FakeChat,
                                        clock: FrozenClock) -> None:
    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    clock.set(THURSDAY_10_BERLIN - timedelta(hours=5))
    await chat.send(f"/reschedule {booking_id}")
    await chat.click("Fri 27 Nov")
    await chat.click("14:00")
    await chat.click("Move it")
    assert "late change" in chat.text
    await chat.send("Train strike")
    await chat.click("Move it")
    moved = await fetch_booking(db, booking_id)
    assert moved.late_cancel and moved.cancel_reason == "Train strike"
    assert moved.starts_at == datetime(2026, 11, 27, 13, tzinfo=UTC)


async def _cancel_and_rebook(db: Database, world: World, chat: FakeChat, clock: FrozenClock,
                             *, minutes: int) -> int:
    """Sam cancels a paid Thursday session, then books Friday 14:00 ``minutes`` later."""
    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    clock.advance(minutes=minutes)
    await chat.send("/book python")
    await chat.click("Maya · next")
    await chat.click("Fri 27 Nov")
    await chat.click("14:00")
    await chat.click("Hold & pay")
    return booking_id


async def test_rebooking_soon_after_cancelling_counts_as_a_reschedule(
        db: Database, world: World, chat: FakeChat, clock: FrozenClock) -> None:
    booking_id = await _cancel_and_rebook(db, world, chat, clock, minutes=10)
    assert f"This counts as moving #{booking_id}" in chat.text
    notes = await _notes(db, world.maya)
    assert f"rebooked #{booking_id}" in notes[-1].text and "→" in notes[-1].text
    async with db.uow() as uow:
        new = (await uow.session.scalars(
            select(Booking).where(Booking.status == "held"))).one()
    assert new.rescheduled_from == booking_id


async def test_rebooking_after_the_window_is_a_new_booking(
        db: Database, world: World, chat: FakeChat, clock: FrozenClock) -> None:
    await _cancel_and_rebook(db, world, chat, clock, minutes=31)
    assert "Held!" in chat.text and "counts as moving" not in chat.text


async def test_keep_it_leaves_the_session_where_it_was(
        db: Database, world: World, chat: FakeChat) -> None:
    booking_id = await paid_session(db, world, THURSDAY_10_BERLIN)
    await chat.send(f"/reschedule {booking_id}")
    await chat.click("Keep it as it was")
    assert "Nothing was changed" in chat.text
    assert (await fetch_booking(db, booking_id)).sequence == 0
