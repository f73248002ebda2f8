"""Cancelling: unpaid holds, paid sessions, late cancellations with reasons, teachers."""

from __future__ import annotations

from datetime import UTC, datetime

from core.booking import confirm_booking, hold_slot
from core.clock import FrozenClock
from core.models import Booking
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
THURSDAY_10_BERLIN = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def _book(db: Database, world: World, at: datetime, *, paid: bool) -> int:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at)
        if paid:
            await confirm_booking(uow, booking.id)
        return booking.id


async def _get(db: Database, booking_id: int) -> Booking:
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def test_student_cancels_an_unpaid_hold_from_my_bookings(db: Database, world: World,
                                                               chat: FakeChat) -> None:
    booking_id = await _book(db, world, TUESDAY_10_BERLIN, paid=False)
    await chat.send("/mybookings")
    assert f"#{booking_id}" in chat.text and "awaiting payment" in chat.text
    await chat.click(f"Cancel #{booking_id}")
    assert "Cancel this session?" in chat.text
    await chat.click("Yes, cancel it")
    assert f"Cancelled session #{booking_id}" in chat.text and "No payment" in chat.text
    booking = await _get(db, booking_id)
    assert booking.status == "cancelled" and not booking.late_cancel
    await chat.send("/mybookings")
    assert "no upcoming sessions" in chat.text


async def test_cancelling_a_paid_session_days_ahead_needs_no_reason(
        db: Database, world: World, chat: FakeChat) -> None:
    booking_id = await _book(db, world, THURSDAY_10_BERLIN, paid=True)
    await chat.send("/cancel")
    await chat.click(f"#{booking_id}")
    await chat.click("Yes, cancel it")
    booking = await _get(db, booking_id)
    assert booking.status == "cancelled" and booking.late_cancel is False
    assert booking.cancel_reason is None


async def test_late_cancellation_asks_for_a_reason_and_is_flagged(
        db: Database, world: World, chat: FakeChat, clock: FrozenClock) -> None:
    booking_id = await _book(db, world, TUESDAY_10_BERLIN, paid=True)
    clock.advance(hours=10)  # now 18:00 UTC Monday: 15 h before the session
    await chat.send(f"/cancel {booking_id}")
    assert "late cancellation" in chat.text
    await chat.send("no")
    assert "3 to 300 characters" in chat.text
    await chat.send("My flight was moved")
    assert "Reason: My flight was moved" in chat.text
    await chat.click("Yes, cancel it")
    assert "late cancellation" in chat.text
    booking = await _get(db, booking_id)
    assert booking.status == "cancelled" and booking.late_cancel is True
    assert booking.cancel_reason == "My flight was moved"
    assert booking.cancelled_by == world.sam.id


async def test_keeping_the_session_changes_nothing(db: Database, world: World,
                                                   chat: FakeChat) -> None:
    booking_id = await _book(db, world, THURSDAY_10_BERLIN, paid=True)
    await chat.send(f"/cancel #{booking_id}")
    await chat.click("No, keep it")
    assert "Kept session" in chat.text
    assert (await _get(db, booking_id)).status == "confirmed"


async def test_teacher_cancels_a_session_they_teach(db: Database, world: World,
                                                    chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await _book(db, world, THURSDAY_10_BERLIN, paid=True)
    maya: FakeChat = chat_as("maya")
    await maya.send("/mybookings")
    assert "teaching Sam" in maya.text
    await maya.click(f"Cancel #{booking_id}")
    await maya.click("Yes, cancel it")
    booking = await _get(db, booking_id)
    assert booking.status == "cancelled" and booking.cancelled_by == world.maya.id


async def test_session_under_way_cannot_be_cancelled(db: Database, world: World,
                                                     chat: FakeChat, clock: FrozenClock) -> None:
    booking_id = await _book(db, world, TUESDAY_10_BERLIN, paid=True)
    clock.set(TUESDAY_10_BERLIN.replace(minute=10))
    await chat.send(f"/cancel {booking_id}")
    assert "already under way" in chat.text
    assert (await _get(db, booking_id)).status == "confirmed"


async def test_cancelled_slot_can_be_booked_again(db: Database, world: World,
                                                  chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await _book(db, world, TUESDAY_10_BERLIN, paid=True)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    lee: FakeChat = chat_as("lee")
    await lee.send("/book python")
    await lee.click("Maya · next")
    await lee.click("Tue 24 Nov")
    await lee.click("04:00")  # 10:00 Berlin is 04:00 in New York
    await lee.click("Hold & pay")
    assert "Held!" in lee.text
