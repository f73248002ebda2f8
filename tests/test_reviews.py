"""After a session each participant rates it; students' stars become the teacher's
reputation, shown where students choose a teacher and on the teacher's profile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.errors import InvalidInput
from core.models import SessionReview
from core.review import record_review
from core.uow import Database
from handlers import payload
from tests.fakechat import FakeChat
from tests.world import World, paid_session

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _reviews(db: Database) -> list[SessionReview]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(SessionReview))).all())


@pytest.fixture
async def finished(db: Database, world: World, clock: FrozenClock) -> int:
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    clock.set(TUESDAY_10_BERLIN + timedelta(hours=2))
    return booking_id


async def test_student_rates_covers_and_comments_and_the_teacher_list_shows_it(
        db: Database, world: World, finished: int, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    await chat.press(payload.command("attended", f"{finished} held"))
    assert "How would you rate it?" in chat.text
    assert chat.labels == ["1★", "2★", "3★", "4★", "5★"]
    await chat.click("4★")
    assert "★★★★☆" in chat.text and "What did you cover?" in chat.text
    await chat.send("List comprehensions and generators")
    assert "Anything to say about your teacher?" in chat.text
    await chat.send("Patient and clear, thank you!")
    assert f"Review saved for session #{finished}" in chat.text
    [review] = await _reviews(db)
    assert (review.stars, review.author_id, review.subject_id, review.author_role) == (
        4, world.sam.id, world.maya.id, "student")
    assert review.covered == "List comprehensions and generators"
    assert review.comment == "Patient and clear, thank you!"

    await chat.send("/book")
    await chat.click("Python from Zero")
    assert "Maya — ★ 4.0 (1)" in chat.text
    maya: FakeChat = chat_as("maya")
    await maya.send("/profile")
    assert "★ 4.0 (1) from students" in maya.text


async def test_skipping_the_notes_still_saves_the_stars(
        db: Database, finished: int, chat: FakeChat) -> None:
    await chat.send(f"/review {finished}")
    assert "How many stars" in chat.text
    await chat.send("seven")
    assert "Tap 1★ to 5★" in chat.text
    await chat.click("5★")
    await chat.click("Skip")
    await chat.click("Skip")
    [review] = await _reviews(db)
    assert (review.stars, review.covered, review.comment) == (5, None, None)


async def test_a_second_review_and_a_stale_star_button_change_nothing(
        db: Database, finished: int, chat: FakeChat) -> None:
    await chat.press(payload.command("review", f"{finished} 5"))
    await chat.click("Skip")
    await chat.click("Skip")
    await chat.press(payload.command("review", f"{finished} 1"))
    assert "already reviewed" in chat.text
    assert [r.stars for r in await _reviews(db)] == [5]


async def test_strangers_unfinished_sessions_and_no_show_reporters_cannot_review(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    await chat.press(payload.command("review", f"{booking_id} 5"))
    assert "once it is over" in chat.text
    clock.set(TUESDAY_10_BERLIN + timedelta(hours=2))
    lee: FakeChat = chat_as("lee")
    await lee.press(payload.command("review", f"{booking_id} 1"))
    assert "couldn't find that session" in lee.text
    await chat.press(payload.command("attended", f"{booking_id} no_show"))
    await chat.press(payload.command("review", f"{booking_id} 1"))
    assert "didn't happen" in chat.text
    for junk in ("review", "review abc", f"review {booking_id} 9", "review 99999999999999"):
        await chat.send("/" + junk)
        assert "Something went wrong" not in chat.text
    assert await _reviews(db) == []


async def test_the_teachers_review_of_the_student_is_not_the_teachers_reputation(
        db: Database, world: World, finished: int, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.press(payload.command("review", f"{finished} 2"))
    assert "How did it go for" not in maya.text and "What did you cover?" in maya.text
    await maya.click("Skip")
    await maya.send("Needs to practise loops")
    [review] = await _reviews(db)
    assert (review.author_role, review.subject_id) == ("teacher", world.sam.id)
    await maya.send("/profile")
    assert "new from students" in maya.text


async def test_two_racing_reviews_of_one_session_save_one(
        db: Database, world: World, finished: int) -> None:
    async def review(stars: int) -> str:
        try:
            async with db.uow() as uow:
                await record_review(uow, world.sam, finished, stars=stars)
            return "saved"
        except InvalidInput:
            return "refused"

    results = await asyncio.gather(*(review(n) for n in (1, 2, 3, 4, 5)))
    assert sorted(results) == ["refused"] * 4 + ["saved"]
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(SessionReview)) == 1
