"""Finding a course: search and filters (typed and by button), the course card with its
teacher directory, retired courses, creator pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.clock import FrozenClock
from core.models import Booking, Course, Follow
from core.review import record_review
from core.uow import Database
from handlers import payload
from tests.fakechat import FakeChat
from tests.world import World, add_course, paid_session

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _set(db: Database, course_id: int, **values: object) -> None:
    async with db.uow() as uow:
        await uow.session.execute(update(Course).where(Course.id == course_id).values(**values))


def _titles(chat: FakeChat) -> set[str]:
    return {t for t in ("Python from Zero", "Spanish Basics") if t in chat.text}


async def test_student_searches_by_title_description_and_creator_ignoring_case(
        world: World, chat: FakeChat) -> None:
    await chat.send("/courses ZERO")
    assert _titles(chat) == {"Python from Zero"}
    await chat.send("/courses learn spanish")  # every word, in the title or description
    assert _titles(chat) == {"Spanish Basics"}
    await chat.send("/courses ada")  # the creator's name
    assert _titles(chat) == {"Python from Zero", "Spanish Basics"}
    assert "by Ada" in chat.text
    await chat.send("/courses 100%")  # a LIKE wildcard is just a character
    assert "No course matches “100%”" in chat.text


async def test_student_filters_by_level_price_and_creator_typed(
        db: Database, world: World, chat: FakeChat) -> None:
    await _set(db, world.spanish.id, level="intermediate")
    await chat.send("/courses level:beginner")
    assert _titles(chat) == {"Python from Zero"} and "· beginner" in chat.text
    await chat.send("/courses max:35")  # Spanish is $30, Python $40
    assert _titles(chat) == {"Spanish Basics"} and "up to 35" in chat.text
    await chat.send("/courses under 40")
    assert _titles(chat) == {"Python from Zero", "Spanish Basics"}
    await chat.send("/courses python level:beginner max:50 by:ada")
    assert _titles(chat) == {"Python from Zero"}
    assert "matching “python” · beginner · up to 50 · by ada" in chat.text
    await chat.send("/courses by:maya")  # Maya teaches but created nothing
    assert "No course matches · by maya" in chat.text and _titles(chat) == set()
    assert "✖ Clear filters" in chat.labels


async def test_student_typing_a_bad_filter_is_told_the_right_form(
        world: World, chat: FakeChat) -> None:
    await chat.send("/courses level:expert")
    assert "Levels are beginner, intermediate and advanced" in chat.text
    await chat.send("/courses max:cheap")
    assert "Write a top price like max:50" in chat.text
    await chat.send("/courses under")
    assert "Write a top price like max:50" in chat.text


async def test_student_narrows_the_list_with_filter_buttons(
        db: Database, world: World, chat: FakeChat) -> None:
    await _set(db, world.spanish.id, level="intermediate")
    await chat.send("/courses")
    await chat.click("🔎 Filter")
    assert "Filter courses — 2 matches" in chat.text
    await chat.click("Up to 25")
    assert "0 matches" in chat.text and "✅ Up to 25" in chat.labels
    await chat.click("Up to 50")
    await chat.click("Intermediate")
    assert "1 match." in chat.text and {"✅ Up to 50", "✅ Intermediate"} <= set(chat.labels)
    await chat.click("by Ada")
    await chat.click("Show 1 course")
    assert _titles(chat) == {"Spanish Basics"}
    assert "intermediate · up to 50 · by Ada" in chat.text
    await chat.click("Clear filters")
    assert _titles(chat) == {"Python from Zero", "Spanish Basics"}


async def test_filters_survive_paging_and_every_button_fits_telegram(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        for n in range(5):
            await add_course(uow, f"extra-{n}", f"Extra {n}", world.creator, 2000, 30, [])
    long_words = "pythonic " * 8
    await chat.send(f"/courses level:beginner max:99.50 by:ada {long_words}")
    await chat.send("/courses level:beginner max:99.50 by:ada")
    assert "(page 1 of 2)" in chat.text
    await chat.click("More ›")
    assert "(page 2 of 2)" in chat.text and "beginner · up to 99.50 · by ada" in chat.text
    await chat.send(f"/courses {long_words} level:beginner max:1234567.89 by:abcdefghijkl")
    await chat.click("🔎 Filter")  # the long search gave way; the filters are all kept
    assert "beginner · up to 1234567.89 · by abcdefghijkl" in chat.text


async def _review_maya(db: Database, world: World, clock: FrozenClock) -> None:
    booking_id = await paid_session(db, world, TUESDAY_10_BERLIN)
    clock.set(TUESDAY_10_BERLIN + timedelta(hours=2))
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        booking.status = "completed"
        await record_review(uow, world.sam, booking_id, stars=5)
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))


async def test_course_card_shows_modules_teachers_with_rating_and_next_free_time(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat) -> None:
    await _set(db, world.python.id, syllabus="Variables, loops, functions.")
    await _review_maya(db, world, clock)
    await chat.send("/courses")
    await chat.click("ℹ️ Python from Zero")
    text = chat.text
    assert "📘 Python from Zero" in text and "Beginner · $40.00 per 60-min session" in text
    assert "Syllabus: Variables, loops, functions." in text
    assert "1. Basics\n2. Practice" in text
    assert "Maya — ★ 5.0 (1) · 1 session taught · next free Mon 23 Nov 11:00" in text
    assert "Ken — new · 0 sessions taught · next free Mon 23 Nov 11:00" in text
    assert "times in your zone, Berlin" in text
    assert "Created by Ada · 0 followers" in text
    python = str(world.python.id)
    assert chat.button("🎁 Book free intro").action == payload.command("intro", python)
    assert chat.button("🎓 Enrol").action == payload.command("book", python)
    assert chat.button("👤 Ada").action == payload.command("creator", str(world.creator.id))
    await chat.click("🎓 Enrol")
    assert "Who would you like to learn with?" in chat.text


async def test_teacher_hidden_from_directories_leaves_the_course_card(
        world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    ken: FakeChat = chat_as("ken")
    await ken.send("/profile")
    assert "Course directories: listed" in ken.text
    await ken.click("Hide from directories")
    assert "hidden from course directories" in ken.text
    await chat.send(f"/coursecard {world.python.id}")
    assert "Maya —" in chat.text and "Ken —" not in chat.text
    await ken.click("Show in directories")
    await chat.send(f"/coursecard {world.python.id}")
    assert "Ken —" in chat.text


async def test_retired_course_is_not_listed_and_its_card_takes_no_new_students(
        db: Database, world: World, chat: FakeChat) -> None:
    await _set(db, world.python.id, status="retired")
    await chat.send("/courses")
    assert _titles(chat) == {"Spanish Basics"}
    await chat.send("/courses python")
    assert "No course matches" in chat.text
    await chat.send(f"/coursecard {world.python.id}")
    assert "takes no new students" in chat.text
    assert "🎓 Enrol" not in chat.labels and "🎁 Book free intro" not in chat.labels


async def test_draft_course_card_is_only_for_its_creator(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    await _set(db, world.spanish.id, status="draft")
    await chat.send(f"/coursecard {world.spanish.id}")
    assert "couldn't find that course" in chat.text
    await chat.send("/coursecard 99999999999")
    assert "couldn't find that course" in chat.text
    ada: FakeChat = chat_as("ada")
    await ada.send(f"/coursecard {world.spanish.id}")
    assert "Draft: only you can see this card" in ada.text


async def test_creator_page_lists_courses_and_follow_counts(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send(f"/coursecard {world.python.id}")
    await chat.click("👤 Ada")
    assert "🧑‍🎨 Ada — course creator" in chat.text and "0 followers" in chat.text
    assert "2 published courses" in chat.text
    assert {"ℹ️ Python from Zero", "ℹ️ Spanish Basics", "➕ Follow"} <= set(chat.labels)
    await chat.click("➕ Follow")
    assert "You now follow Ada" in chat.text and "1 follower" in chat.text
    assert "Ada — course creator" in chat.text  # back on the creator page
    await chat.click("✖ Unfollow")
    assert "You no longer follow Ada" in chat.text and "0 followers" in chat.text
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(Follow))).all() == []
    await chat.send("/creator")
    assert "🧑‍🎨 Ada" in chat.labels


async def test_creator_page_of_someone_who_creates_nothing_is_not_found(
        world: World, chat: FakeChat) -> None:
    await chat.send(f"/creator {world.maya.id}")
    assert "couldn't find that creator" in chat.text
    await chat.send("/creator abc")
    assert "Use /creator <number>" in chat.text
