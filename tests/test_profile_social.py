"""Profiles and follows: what people say about themselves, who sees it, how complete it is,
and following teachers and creators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models import Certificate, Follow, OutboxMessage, Profile
from core.social import follower_counts
from core.uow import Database
from handlers import payload
from handlers.dispatcher import Dispatcher
from handlers.reply import SharedFile
from handlers.turn import Attachment, Turn
from tests.fakechat import FakeChat
from tests.world import World


async def _send_file(chat: FakeChat, kind: str, ref: str, name: str = "") -> None:
    """What an adapter hands over when someone sends a photo or a file."""
    turn = Turn(platform=chat.platform, chat_key=chat.user_key, user_key=chat.user_key,
                display_name=chat.name, attachment=Attachment(kind, ref, name))
    chat.last = await chat.dispatcher.handle(turn)


async def _profile(db: Database, user_id: int) -> Profile | None:
    async with db.uow() as uow:
        return await uow.session.get(Profile, user_id)


async def _followers(db: Database, user_id: int) -> int:
    async with db.uow() as uow:
        return (await follower_counts(uow, [user_id]))[user_id]


async def _outbox(db: Database, user_id: int) -> list[str]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage.text).where(
            OutboxMessage.user_id == user_id))).all())


# --- follows ---------------------------------------------------------------------------------


async def test_student_follows_a_teacher_once_and_unfollows(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send(f"/people {world.maya.id}")
    assert "👤 Maya" in chat.text and "0 followers" in chat.text
    follow = chat.button("➕ Follow").action
    assert follow is not None
    await chat.press(follow)
    assert "You now follow Maya" in chat.text and "1 follower" in chat.text
    await chat.press(follow)  # a double click
    assert "You already follow Maya" in chat.text
    assert await _followers(db, world.maya.id) == 1
    assert await _outbox(db, world.maya.id) == ["👋 Sam started following you."]
    await chat.send("/people")
    assert "You follow 1 person" in chat.text and "👤 Maya" in chat.labels
    await chat.send(f"/people {world.maya.id}")
    await chat.click("✖ Unfollow")
    assert "You no longer follow Maya" in chat.text and "0 followers" in chat.text
    await chat.send(f"/unfollow {world.maya.id}")
    assert "You weren't following Maya" in chat.text
    await chat.send(f"/follow {world.maya.id}")  # again the same day: Maya isn't pinged again
    assert await _followers(db, world.maya.id) == 1
    assert len(await _outbox(db, world.maya.id)) == 1


async def test_follow_refuses_yourself_an_unknown_number_and_garbage(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send(f"/follow {world.sam.id}")
    assert "You can't follow yourself" in chat.text
    await chat.send("/follow 987654")
    assert "couldn't find that person" in chat.text
    await chat.send("/follow 99999999999")
    assert "Use /follow <number>" in chat.text
    await chat.send("/unfollow abc")
    assert "Use /unfollow <number>" in chat.text
    await chat.send(f"/people {world.sam.id}")
    assert "Follow" not in " ".join(chat.labels) and "this is you" in chat.text
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(Follow))).all() == []


# --- profile edits ---------------------------------------------------------------------------


async def test_student_writes_a_bio_and_a_too_long_one_changes_nothing(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/profile")
    await chat.click("📝 Bio")
    await chat.send("x" * 501)
    assert "501 characters; please keep it to 500" in chat.text
    assert "Type your bio" in chat.text  # asked again
    assert await _profile(db, world.sam.id) is None
    await chat.send("Learning Python   to automate\n\nmy bakery's orders.")
    assert "Saved" in chat.text
    assert "Bio: Learning Python to automate\nmy bakery's orders." in chat.text
    await chat.click("📝 Bio")
    await chat.click("Clear bio")
    profile = await _profile(db, world.sam.id)
    assert profile is not None and profile.bio == ""


async def test_links_must_be_web_links_and_at_most_five(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/profile links")
    await chat.send("https://github.com/sam")
    assert "Links: github.com/sam" in chat.text
    await chat.click("🌐 Links")
    for bad, said in (("github.com/sam", "isn't a web link"),
                      ("javascript:alert(1)", "isn't a web link"),
                      ("https://nodot", "isn't a web link"),
                      (" ".join(f"https://x{n}.org" for n in range(6)), "up to 5")):
        await chat.send(bad)
        assert said in chat.text and "Type up to 5 links" in chat.text
    profile = await _profile(db, world.sam.id)
    assert profile is not None and profile.links == ["https://github.com/sam"]
    await chat.send("https://sam.dev, https://github.com/sam")
    profile = await _profile(db, world.sam.id)
    assert profile is not None and profile.links == ["https://sam.dev", "https://github.com/sam"]
    await chat.send(f"/people {world.sam.id}")
    assert chat.url("sam.dev") == "https://sam.dev"


async def test_strength_bar_says_what_is_missing(world: World, chat: FakeChat) -> None:
    await chat.send("/profile")
    assert chat.text.startswith(
        "Profile 20% ▓░░░░ — add a picture, a bio, your interests and a link")
    await chat.click("🎯 Interests")
    await chat.click("Music")
    await chat.click("Maths")
    assert "Chosen: Maths, Music" in chat.text and "✅ Music" in chat.labels
    await chat.click("Done")
    await chat.send("/profile links")
    await chat.send("https://sam.dev")
    assert "Profile 60% ▓▓▓░░ — add a picture and a bio" in chat.text
    assert "Interests: Maths, Music" in chat.text


# --- privacy ---------------------------------------------------------------------------------


async def test_private_bio_is_hidden_from_others_and_shown_to_its_owner(
        world: World, chat: FakeChat, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/profile bio")
    await maya.send("I teach Python on weekends.")
    await chat.send(f"/people {world.maya.id}")
    assert "I teach Python on weekends." in chat.text
    await maya.send("/profile")
    await maya.click("🔒 Privacy")
    await maya.click("🌐 Bio")
    assert "Bio: 🔒 private" in maya.text and "🔒 Bio" in maya.labels
    await maya.click("Done")
    assert "Only you see: Bio" in maya.text
    await chat.send(f"/people {world.maya.id}")
    assert "I teach Python on weekends." not in chat.text and "👤 Maya" in chat.text
    await maya.click("👁 My public card")
    assert "I teach Python on weekends. 🔒" in maya.text


async def test_all_private_profile_shows_others_only_the_name(
        world: World, chat: FakeChat, chat_as: Any) -> None:
    lee: FakeChat = chat_as("lee")
    await lee.send("/profile bio")
    await lee.send("Funding my team's Spanish.")
    await lee.send("/profile privacy")
    await lee.click("All private")
    assert "Everything is private" in lee.text
    await lee.click("Done")
    await chat.send(f"/people {world.lee.id}")
    assert "Lee keeps their profile private" in chat.text and "Spanish" not in chat.text


# --- picture and documents ---------------------------------------------------------------


async def test_picture_is_sent_again_by_reference_only_on_its_own_platform(
        db: Database, world: World, dispatcher: Dispatcher, chat: FakeChat,
        chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/profile picture")
    await maya.send("here you go")
    assert "Please send a photo" in maya.text
    await _send_file(maya, "document", "doc-1", "me.png")
    assert "send the picture as a photo" in maya.text
    await _send_file(maya, "photo", "photo-123")
    assert "Saved" in maya.text and "Picture: yes" in maya.text
    profile = await _profile(db, world.maya.id)
    assert profile is not None
    assert (profile.picture_ref, profile.picture_platform) == ("photo-123", "test")

    await chat.send(f"/people {world.maya.id}")
    shared = [r.shared for r in chat.last if r.shared]
    assert shared == [SharedFile("photo-123", "Maya", "photo")]
    elsewhere = FakeChat(dispatcher, "vic", "Vic", platform="test2")
    await elsewhere.send(f"/people {world.maya.id}")
    assert "👤 Maya" in elsewhere.text
    assert [r.shared for r in elsewhere.last if r.shared] == []


async def test_documents_are_added_shared_and_capped_at_five(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/profile documents")
    for n in range(1, 6):
        await _send_file(maya, "document", f"file-{n}", f"CV {n}.pdf")
        assert f"Added CV {n}.pdf" in maya.text
    await _send_file(maya, "document", "file-6", "one too many.pdf")
    assert "You already show 5 documents" in maya.text
    await maya.click("🗑 5.")
    assert "Removed CV 5.pdf" in maya.text and "(4 of 5)" in maya.text
    await maya.click("Done")
    profile = await _profile(db, world.maya.id)
    assert profile is not None and [d["name"] for d in profile.documents] == [
        "CV 1.pdf", "CV 2.pdf", "CV 3.pdf", "CV 4.pdf"]
    await chat.send(f"/people {world.maya.id}")
    await chat.click("📄 CV 2.pdf")
    assert [r.shared for r in chat.last] == [SharedFile("file-2", "CV 2.pdf", "document")]
    await chat.press(payload.command("people", f"{world.maya.id} doc 9"))
    assert "isn't on this profile any more" in chat.text


# --- the public card -------------------------------------------------------------------------


async def test_teacher_card_shows_rating_sessions_courses_and_certificates(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        uow.session.add(Certificate(code="CERT-MAYA-1", kind="teaching",
                                    course_id=world.python.id, user_id=world.maya.id,
                                    issued_at=uow.clock.now()))
    await chat.send(f"/people {world.maya.id}")
    assert "👩‍🏫 Teacher · new · 0 sessions taught" in chat.text
    assert "📚 Teaches: Python from Zero" in chat.text
    assert "🧑‍🏫 Teaching · Python from Zero · 0 students taught · " in chat.text
    assert "/verify/CERT-MAYA-1" in chat.text
    await chat.send("/people 99999")
    assert "couldn't find that person" in chat.text
    await chat.send("/people someone")
    assert "Use /people <number>" in chat.text


# --- interests at onboarding -----------------------------------------------------------------


async def test_newcomer_may_pick_interests_right_after_onboarding(
        db: Database, chat_as: Any) -> None:
    nova: FakeChat = chat_as("nova", "Nova")
    await nova.send("/start")
    await nova.click("I want to learn")
    await nova.click("Tokyo")
    assert "You're all set, Nova" in nova.text and "optional last step" in nova.text
    assert {"📚 Courses", "🎵 Music", "💻 Programming"} <= set(nova.labels)
    music = nova.button("Music").action
    assert music is not None
    await nova.press(music)
    await nova.press(music)  # a double click keeps it chosen
    assert "✅ Music" in nova.labels and "Chosen: Music" in nova.text
    await nova.click("Done")
    assert "Your interests: Music" in nova.text and "📚 Courses" in nova.labels
    await nova.send("hello")  # nothing was left waiting for an answer
    assert "I didn't catch that" in nova.text


async def test_newcomer_arriving_by_deep_link_goes_straight_on(
        world: World, chat_as: Any) -> None:
    nova: FakeChat = chat_as("nova", "Nova")
    await nova.send("/start course-python")
    await nova.click("I want to learn")
    await nova.click("Berlin")
    assert "Who would you like to learn with?" in nova.text
    assert "optional last step" not in nova.text and "🎵 Music" not in nova.labels
