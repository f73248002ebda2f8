"""/notifications through the chat: per-kind channels (chat apps, email) honoured by the
next notification, a kind switched off, quiet hours typed in the person's own time holding
chat until their morning, and polite refusals (garbage, stale buttons, unlinked apps)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.errors import InvalidInput
from core.models import AccountEmail, Identity, OutboxMessage, User
from core.uow import Database
from handlers import payload, texts
from handlers.commands.notifications import parse_quiet
from handlers.reply import Reply
from scheduling.courier import Courier
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import text_of
from tests.world import World, paid_session

MAYA = "maya@example.org"
THURSDAY = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, Maya's hours
NIGHT = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
MORNING = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 07:00 in Berlin


class Inbox:
    """A courier sender that records what each person got."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []

    async def send(self, external_id: str, reply: Reply) -> None:
        self.got.append((external_id, reply.text))


async def _verify(db: Database, user: User, address: str) -> None:
    async with db.uow() as uow:
        uow.session.add(AccountEmail(user_id=user.id, address=address, added_at=uow.clock.now(),
                                     verified_at=uow.clock.now()))


async def _person(db: Database, user: User) -> User:
    async with db.uow() as uow:
        found = await uow.session.get(User, user.id)
        assert found is not None
        return found


async def _chat_rows(db: Database, user: User, kind: str) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind))).all())


async def _sam_cancels(db: Database, world: World, chat: FakeChat) -> int:
    """Sam cancels his Thursday session with Maya: Maya hears of it (a bookings kind)."""
    booking_id = await paid_session(db, world, THURSDAY)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    assert f"Cancelled session #{booking_id}" in chat.text
    return booking_id


async def test_maya_takes_bookings_by_email_only_and_the_next_arrives_only_by_email(
        db: Database, world: World, mail: MailEnv, chat: FakeChat, chat_as: Any) -> None:
    await _verify(db, world.maya, MAYA)
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications")
    assert "🗓 Bookings and changes: the test chat, 📧 email" in maya.text
    assert f"📧 Email: {MAYA}" in maya.text
    await maya.click("Bookings and changes")
    assert maya.labels[:2] == ["✅ the test chat", "✅ 📧 email"]
    await maya.click("the test chat")
    assert "The test chat off for 🗓 Bookings and changes." in maya.text
    assert "now: 📧 email" in maya.text and "❌ the test chat" in maya.labels
    await maya.click("Back")
    assert "🗓 Bookings and changes: 📧 email" in maya.text
    assert "💬 Messages: the test chat" in maya.text  # other kinds unchanged
    booking_id = await _sam_cancels(db, world, chat)
    assert await _chat_rows(db, world.maya, "booking_cancelled") == []
    inbox = Inbox()
    await Courier(db, {"test": inbox.send}).deliver_due()
    assert [text for to, text in inbox.got if to == "maya"] == []
    await mail.deliver()
    got = mail.server.one(MAYA, "cancelled")
    assert f"Sam cancelled session #{booking_id}" in text_of(got)


async def test_maya_switches_bookings_off_and_nothing_arrives(
        db: Database, world: World, mail: MailEnv, chat: FakeChat, chat_as: Any) -> None:
    await _verify(db, world.maya, MAYA)
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications bookings")
    await maya.click("All off")
    assert "🔕 off — none of these will reach you" in maya.text
    await maya.click("Done")
    assert "All set" in maya.text
    await _sam_cancels(db, world, chat)
    assert await _chat_rows(db, world.maya, "booking_cancelled") == []
    await mail.deliver()
    assert mail.server.to(MAYA) == []
    await maya.send("/notifications bookings")
    await maya.click("Default")  # and back: the chat and email again
    assert "now: the test chat, 📧 email" in maya.text


async def test_maya_without_email_switching_chat_off_means_off(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications bookings")
    assert "add an address with /email" in maya.text
    assert not [label for label in maya.labels if "email" in label]
    await maya.click("the test chat")
    assert "now: 🔕 off" in maya.text
    await _sam_cancels(db, world, chat)
    assert await _chat_rows(db, world.maya, "booking_cancelled") == []


async def test_maya_types_quiet_hours_and_a_night_notice_waits_for_her_morning(
        db: Database, world: World, clock: FrozenClock, chat: FakeChat, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications")
    assert "🌙 Quiet hours: off" in maya.text
    await maya.click("Quiet hours")
    assert "your time (Europe/Berlin)" in maya.text
    await maya.send("10pm-7am")
    assert "🌙 Quiet hours set: 22:00–07:00 your time (Europe/Berlin)." in maya.text
    assert "🌙 Quiet hours: 22:00–07:00 your time (Europe/Berlin)" in maya.text  # the menu
    person = await _person(db, world.maya)
    assert (person.quiet_from, person.quiet_to) == (22 * 60, 7 * 60)
    booking_id = await paid_session(db, world, THURSDAY)
    clock.set(NIGHT)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    [row] = await _chat_rows(db, world.maya, "booking_cancelled")
    assert row.next_attempt_at == MORNING  # 07:00 in Berlin
    inbox = Inbox()
    courier = Courier(db, {"test": inbox.send})
    await courier.deliver_due()
    clock.set(datetime(2026, 11, 24, 5, 59, tzinfo=UTC))  # 06:59 in Berlin
    await courier.deliver_due()
    assert [text for to, text in inbox.got if to == "maya"] == []
    clock.set(MORNING)
    assert await courier.deliver_due() == 1
    to, text = inbox.got[-1]
    assert to == "maya" and f"Sam cancelled session #{booking_id}" in text


async def test_maya_garbage_quiet_hours_get_a_clear_message_and_change_nothing(
        db: Database, world: World, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications quiet 23-6:30")
    assert "🌙 Quiet hours set: 23:00–06:30 your time (Europe/Berlin)." in maya.text
    await maya.click("Quiet hours")
    for garbage in ("whenever you like", "25-7", "22:75-7", "13pm-7", "7"):
        await maya.send(garbage)
        assert "as quiet hours" in maya.text and "Nothing was changed" in maya.text, garbage
        assert "22:00-07:00, 22-7 or 10pm-7am" in maya.text
    await maya.send("22-22")
    assert "a different end" in maya.text
    await maya.send("/notifications quiet banana")
    assert "I couldn't read “banana” as quiet hours" in maya.text
    person = await _person(db, world.maya)
    assert (person.quiet_from, person.quiet_to) == (23 * 60, 6 * 60 + 30)
    await maya.send("/notifications quiet off")
    assert "Quiet hours off" in maya.text
    assert (await _person(db, world.maya)).quiet_from is None


async def test_maya_stale_buttons_and_unlinked_channels_are_refused_politely(
        db: Database, world: World, chat_as: Any) -> None:
    maya: FakeChat = chat_as("maya")
    await maya.send("/notifications")
    old_menu = maya.button("Bookings and changes").action
    await maya.click("Bookings and changes")
    old_toggle = maya.button("the test chat").action
    assert old_menu is not None and old_toggle is not None
    await maya.click("the test chat")
    fresh = payload.decode(maya.button("the test chat").action)
    assert fresh is not None
    for stale in (old_menu, old_toggle):  # an old menu, and a double click
        await maya.press(stale)
        assert texts.MENU_EXPIRED in maya.text
    assert (await _person(db, world.maya)).notify_prefs == {"bookings": []}  # toggled once
    await maya.press(payload.flow_choice(fresh.tag, "ch:discord"))  # forged: never offered
    assert texts.MENU_EXPIRED in maya.text
    await maya.send("/notifications bookings")
    await maya.send("Discord")
    assert "You haven't linked Discord to this account: send /link there first" in maya.text
    await maya.send("email")
    assert "no verified email yet: add one with /email" in maya.text
    await maya.send("/notifications payments telegram")
    assert "You haven't linked Telegram" in maya.text
    await maya.send("/notifications sometimes")
    assert "/notifications bookings email" in maya.text
    assert (await _person(db, world.maya)).notify_prefs == {"bookings": []}


async def test_sam_picks_where_notifications_go_from_profile(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        uow.session.add(Identity(user_id=world.sam.id, platform="telegram", external_id="777",
                                 created_at=uow.clock.now()))
    await chat.send("/profile")
    await chat.click("Notifications")
    assert "notifications go to Telegram" in chat.text  # a real app before the test one
    await chat.click("Use the test chat")
    assert "✅ From now on notifications go to the test chat." in chat.text
    assert "💬 Messages: the test chat" in chat.text
    await chat.click("Messages")
    assert chat.labels[:2] == ["✅ the test chat", "❌ Telegram"]
    await chat.click("Telegram")
    assert "now: Telegram, the test chat" in chat.text
    assert (await _person(db, world.sam)).notify_via == "test"


@pytest.mark.parametrize(("typed", "hours"), [
    ("22:00-07:00", (1320, 420)), ("22-7", (1320, 420)), ("10pm-7am", (1320, 420)),
    ("10 p.m. to 7 a.m.", (1320, 420)), ("from 23:30 until 6:15", (1410, 375)),
    ("22h–7h", (1320, 420)), ("12am-6am", (0, 360)), ("  OFF ", None), ("none", None)])
def test_quiet_hours_typed_loosely_are_understood(
        typed: str, hours: tuple[int, int] | None) -> None:
    assert parse_quiet(typed, "Europe/Berlin") == hours


@pytest.mark.parametrize("typed", ["", "soon", "22", "22-7-8", "24:30-7", "0pm-7", "²-7"])
def test_quiet_hours_garbage_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_quiet(typed, "Europe/Berlin")
