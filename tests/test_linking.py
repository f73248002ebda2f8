"""One person on two platforms: /link codes merge identities into one account."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from core.account import find_user_by_identity
from core.booking import hold_slot
from core.clock import FrozenClock
from core.models import Booking, Identity, User
from core.uow import Database
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.world import World

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _code(chat: FakeChat) -> str:
    found = re.search(r"/link ([A-Z0-9]{4}-[A-Z0-9]{4})", chat.text)
    assert found, chat.text
    return found.group(1)


async def _owner(db: Database, platform: str, key: str) -> User:
    async with db.uow() as uow:
        user = await find_user_by_identity(uow, platform, key)
        assert user is not None
        return user


async def _users(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(User)) or 0)


async def test_code_from_one_app_joins_the_other_into_one_account(
        db: Database, world: World, chat: FakeChat, dispatcher: Dispatcher) -> None:
    await chat.send("/link")
    code = _code(chat)
    other = FakeChat(dispatcher, "sam-on-discord", "Samuel", platform="test2")
    await other.send("/courses")  # first contact creates a separate account
    before = await _users(db)
    await other.send(f"/link {code.lower()}")
    assert "Linked!" in other.text and "Sam" in other.text
    assert await _users(db) == before - 1
    assert (await _owner(db, "test2", "sam-on-discord")).id == world.sam.id
    await other.send("/profile")
    assert "👤 Sam" in other.text and "the second test chat" in other.text
    await other.send(f"/link {code}")
    assert "wrong, used or expired" in other.text


async def test_expired_or_garbled_codes_are_refused_and_merge_nothing(
        db: Database, world: World, chat: FakeChat, dispatcher: Dispatcher,
        clock: FrozenClock) -> None:
    await chat.send("/link")
    code = _code(chat)
    other = FakeChat(dispatcher, "x", platform="test2")
    await other.send("/link ABC")
    assert "look like ABCD-2345" in other.text
    clock.advance(minutes=11)
    await other.send(f"/link {code}")
    assert "expired" in other.text
    async with db.uow() as uow:  # the refused turns rolled back: no account, no identity
        assert await find_user_by_identity(uow, "test2", "x") is None
    assert (await _owner(db, "test", "sam")).id == world.sam.id


async def test_a_code_cannot_be_used_from_the_same_account(world: World, chat: FakeChat) -> None:
    await chat.send("/link")
    await chat.send(f"/link {_code(chat)}")
    assert "from your other app" in chat.text


async def test_account_with_an_identity_on_that_platform_already_is_refused(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    lee: FakeChat = chat_as("lee")
    await lee.send("/link")
    await chat.send(f"/link {_code(lee)}")  # Sam (test) into Lee, who is on test already
    assert "already has a the test chat identity" in chat.text or "already has" in chat.text
    assert (await _owner(db, "test", "sam")).id == world.sam.id


async def test_bookings_follow_the_person_when_accounts_merge(
        db: Database, world: World, chat: FakeChat, dispatcher: Dispatcher) -> None:
    other = FakeChat(dispatcher, "sam2", platform="test2")
    await other.send("/courses")
    newcomer = await _owner(db, "test2", "sam2")
    async with db.uow() as uow:
        user = await uow.session.get(User, newcomer.id)
        assert user is not None
        booking = await hold_slot(uow, user, world.python.id, world.maya.id, SLOT)
    await chat.send("/link")
    await other.send(f"/link {_code(chat)}")
    async with db.uow() as uow:
        moved = await uow.session.get(Booking, booking.id)
        assert moved is not None and moved.student_id == world.sam.id
    await chat.send("/mybookings")
    assert f"#{booking.id}" in chat.text


async def test_overlapping_sessions_block_a_merge_and_change_nothing(
        db: Database, world: World, chat: FakeChat, dispatcher: Dispatcher) -> None:
    other = FakeChat(dispatcher, "sam2", platform="test2")
    await other.send("/courses")
    newcomer = await _owner(db, "test2", "sam2")
    async with db.uow() as uow:
        await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOT)
        user = await uow.session.get(User, newcomer.id)
        assert user is not None
        await hold_slot(uow, user, world.python.id, world.ken.id, SLOT)
    await chat.send("/link")
    await other.send(f"/link {_code(chat)}")
    assert "overlapping times" in other.text
    assert (await _owner(db, "test2", "sam2")).id == newcomer.id
    async with db.uow() as uow:
        identities = await uow.session.scalar(
            select(func.count()).where(Identity.user_id == world.sam.id))
    assert identities == 1


async def test_two_accounts_with_addresses_profiles_follows_and_messages_become_one(
        db: Database, world: World, chat: FakeChat, dispatcher: Dispatcher) -> None:
    from core.models import AccountEmail, DirectMessage, DirectThread, Follow, Profile

    other = FakeChat(dispatcher, "sam-on-discord", "Samuel", platform="test2")
    await other.send("/courses")
    samuel = await _owner(db, "test2", "sam-on-discord")
    async with db.uow() as uow:
        now = uow.clock.now()
        uow.session.add_all([
            AccountEmail(user_id=world.sam.id, address="sam@old.example", added_at=now),
            AccountEmail(user_id=samuel.id, address="sam@example.org", added_at=now,
                         verified_at=now),
            Profile(user_id=world.sam.id, bio="first"), Profile(user_id=samuel.id, bio="x"),
            Follow(follower_id=world.sam.id, followee_id=world.maya.id, created_at=now),
            Follow(follower_id=samuel.id, followee_id=world.maya.id, created_at=now),
            Follow(follower_id=samuel.id, followee_id=world.sam.id, created_at=now)])
        await uow.session.flush()
        for person, body in ((world.sam.id, "Hi Sam, see you Tuesday"),
                             (samuel.id, "And hello on the other app")):
            low, high = sorted((world.maya.id, person))
            thread = DirectThread(low_id=low, high_id=high, created_at=now, last_at=now)
            uow.session.add(thread)
            await uow.session.flush()
            uow.session.add(DirectMessage(thread_id=thread.id, sender_id=world.maya.id,
                                          recipient_id=person, body=body, created_at=now))
    await chat.send("/link")
    await other.send(f"/link {_code(chat)}")
    assert "Linked!" in other.text, other.text
    async with db.uow() as uow:
        address = await uow.session.get(AccountEmail, world.sam.id)
        assert address is not None and address.address == "sam@example.org"  # the verified one
        assert (await uow.session.get(Profile, world.sam.id)) is not None
        follows = (await uow.session.execute(select(Follow.follower_id, Follow.followee_id)
                                             )).all()
        assert [tuple(f) for f in follows] == [(world.sam.id, world.maya.id)]
        [thread] = (await uow.session.scalars(select(DirectThread))).all()
        bodies = (await uow.session.scalars(select(DirectMessage.body).where(
            DirectMessage.thread_id == thread.id).order_by(DirectMessage.id))).all()
        assert list(bodies) == ["Hi Sam, see you Tuesday", "And hello on the other app"]
