"""After the session window: both people are asked whether it happened; no-shows and
disagreements are recorded; both confirming completes the session."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import FrozenClock
from core.followup import outcome
from core.models import OutboxMessage, User
from core.uow import Database
from handlers import payload
from scheduling.jobs import send_followups
from tests.fakechat import FakeChat
from tests.world import World, fetch_booking, paid_session

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)






async def _asked(db: Database, user: User) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == "followup"))).all())


async def test_both_are_asked_once_after_the_session_window(
        db: Database, world: World, clock: FrozenClock) -> None:
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    clock.set(TUESDAY_10_BERLIN + timedelta(minutes=65))  # ended 5 minutes ago: too soon
    assert await send_followups(db) == 0
    clock.set(TUESDAY_10_BERLIN + timedelta(minutes=75))
    assert sorted(await asyncio.gather(send_followups(db), send_followups(db))) == [0, 1]
    [to_sam] = await _asked(db, world.sam)
    [to_maya] = await _asked(db, world.maya)
    assert f"How did session #{booking_id} go" in to_sam.text and "with Maya" in to_sam.text
    assert "teaching Sam" in to_maya.text
    labels = [b["label"] for row in to_sam.buttons for b in row]
    assert labels == ["✅ It happened", "🚫 Maya didn't come"]


async def test_both_confirming_completes_the_session(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    clock.set(TUESDAY_10_BERLIN + timedelta(hours=2))
    await chat.press(payload.command("attended", f"{booking_id} held"))
    assert "Thanks" in chat.text
    assert (await fetch_booking(db, booking_id)).status == "confirmed"
    maya: FakeChat = chat_as("maya")
    await maya.press(payload.command("attended", f"{booking_id} held"))
    assert "both of you confirmed" in maya.text
    assert (await fetch_booking(db, booking_id)).status == "completed"


async def test_teacher_reporting_a_no_show_and_a_contradiction_are_recorded(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    clock.set(TUESDAY_10_BERLIN + timedelta(hours=2))
    maya: FakeChat = chat_as("maya")
    await maya.press(payload.command("attended", f"{booking_id} no_show"))
    assert "Sam didn't come" in maya.text
    assert outcome(await fetch_booking(db, booking_id)) == "student_no_show"
    await chat.press(payload.command("attended", f"{booking_id} held"))
    assert "remember it differently" in chat.text
    assert outcome(await fetch_booking(db, booking_id)) == "disputed"


async def test_answers_before_the_end_or_from_strangers_change_nothing(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    await chat.press(payload.command("attended", f"{booking_id} held"))
    assert "once the session is over" in chat.text
    lee: FakeChat = chat_as("lee")
    await lee.press(payload.command("attended", f"{booking_id} no_show"))
    assert "couldn't find that booking" in lee.text
    await chat.press(payload.command("attended", f"{booking_id} maybe"))
    assert "buttons" in chat.text
    booking = await fetch_booking(db, booking_id)
    assert (booking.student_report, booking.teacher_report) == (None, None)


async def test_attended_is_not_listed_in_help(world: World, chat: FakeChat) -> None:
    await chat.send("/help")
    assert "/attended" not in chat.text
