"""Onboarding, deep links, help and profile edits, as a newcomer would meet them."""

from __future__ import annotations

from sqlalchemy import select

from core.account import find_user_by_identity
from core.models import Conversation, User
from core.uow import Database
from tests.fakechat import PLATFORM, FakeChat
from tests.world import World


async def _user(db: Database, key: str) -> User:
    async with db.uow() as uow:
        user = await find_user_by_identity(uow, PLATFORM, key)
        assert user is not None
        return user


async def test_newcomer_picks_role_and_timezone_and_sees_the_menu(db: Database,
                                                                 chat_as) -> None:  # type: ignore[no-untyped-def]
    chat: FakeChat = chat_as("nova", "Nova")
    await chat.send("/start")
    assert "Welcome to Alpha Peer, Nova" in chat.text
    await chat.click("I want to learn")
    assert "Which timezone" in chat.text
    await chat.click("Tokyo")
    assert "You're all set, Nova" in chat.text and "Tokyo time" in chat.text
    assert {"📚 Courses", "🗓 Book a session", "📋 My bookings", "👤 Profile"} <= set(chat.labels)
    user = await _user(db, "nova")
    assert user.timezone == "Asia/Tokyo" and user.role_names == {"student"}
    assert user.onboarded_at is not None


async def test_newcomer_whose_app_name_has_control_characters_is_greeted_by_a_clean_name(
        db: Database, chat_as) -> None:  # type: ignore[no-untyped-def]
    # A NUL in the name made every turn an incident on PostgreSQL; RTL overrides spoof.
    chat: FakeChat = chat_as("nova", "No\u0000va\u202e  \tStar")
    await chat.send("/start")
    assert "Welcome to Alpha Peer, Nova Star" in chat.text
    assert (await _user(db, "nova")).display_name == "Nova Star"


async def test_newcomer_types_a_city_as_timezone(db: Database, chat_as) -> None:  # type: ignore[no-untyped-def]
    chat: FakeChat = chat_as("nova")
    await chat.send("/start")
    await chat.click("fund someone")
    await chat.send("Atlantis")
    assert "didn't recognise" in chat.text and "Which timezone" in chat.text
    await chat.send("buenos aires")
    assert "Buenos Aires time" in chat.text
    user = await _user(db, "nova")
    assert user.timezone == "America/Argentina/Buenos_Aires"
    assert user.role_names == {"funder"}


async def test_deep_link_records_origin_and_opens_that_course(db: Database, world: World,
                                                              chat_as) -> None:  # type: ignore[no-untyped-def]
    chat: FakeChat = chat_as("nova")
    await chat.send("/start course-python")
    await chat.click("I want to learn")
    await chat.click("Berlin")
    assert "You're all set" in chat.text
    assert "Who would you like to learn with?" in chat.text  # booking opened on Python
    assert "Python from Zero" in chat.text
    user = await _user(db, "nova")
    assert user.origin == "course-python"


async def test_booking_before_onboarding_onboards_then_continues(db: Database, world: World,
                                                                 chat_as) -> None:  # type: ignore[no-untyped-def]
    chat: FakeChat = chat_as("nova")
    await chat.send("/book spanish")
    assert "What brings you here?" in chat.text
    await chat.click("I want to learn")
    await chat.click("London")
    assert "Spanish Basics" in chat.text and "Who would you like to learn with?" in chat.text


async def test_returning_user_start_shows_welcome_back_and_keeps_origin(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/start ref-anna")
    assert "Welcome back, Sam" in chat.text
    assert (await _user(db, "sam")).origin == "ref-anna"
    await chat.send("/start ref-other")
    assert (await _user(db, "sam")).origin == "ref-anna"


async def test_help_lists_the_commands_for_the_users_roles(world: World,
                                                           chat: FakeChat) -> None:
    await chat.send("/help")
    for name in ("/book", "/courses", "/mybookings", "/cancel", "/profile", "/help"):
        assert name in chat.text


async def test_unknown_command_and_stray_text_get_a_pointer_to_help(world: World,
                                                                    chat: FakeChat) -> None:
    await chat.send("/frobnicate")
    assert "I don't know /frobnicate" in chat.text
    await chat.send("hello there")
    assert "/help" in chat.text


async def test_profile_edits_name_and_timezone(db: Database, world: World,
                                               chat: FakeChat) -> None:
    await chat.send("/profile")
    assert "Sam" in chat.text and "Berlin" in chat.text
    await chat.click("Change name")
    await chat.send("   ")
    assert "1 to 64 characters" in chat.text
    await chat.send("Samantha   Jones")
    assert "Saved" in chat.text and "Samantha Jones" in chat.text
    await chat.click("Change timezone")
    await chat.send("UTC-5")
    assert "UTC-5" in chat.text
    user = await _user(db, "sam")
    assert (user.display_name, user.timezone) == ("Samantha Jones", "Etc/GMT+5")
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(Conversation))).all() == []


async def test_courses_can_be_browsed_searched_and_booked_from_the_list(
        world: World, chat: FakeChat) -> None:
    await chat.send("/courses")
    assert "Python from Zero" in chat.text and "Spanish Basics" in chat.text
    assert "$40.00 per 60-min session" in chat.text
    await chat.send("/courses spanish")
    assert "Spanish Basics" in chat.text and "Python from Zero" not in chat.text
    await chat.click("Book Spanish Basics")
    assert "Who would you like to learn with?" in chat.text
