"""Referrals: invitations by email and by personal link, the admin's outreach about a course,
where newcomers came from, and the admin's /growth report — through the chat, the web pages
and a real SMTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

import core.referral
from core.account import find_user_by_identity
from core.booking import confirm_booking, hold_slot
from core.models import OutboxMessage, Referral, User
from core.referral import (
    RefPayload,
    claim_email_referrals,
    ensure_ref_code,
    invite_links,
    parse_payload,
)
from core.uow import Database
from tests.fakechat import PLATFORM, FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import html_of, text_of
from tests.world import World, add_person
from web_callbacks.app import create_app

FRIEND = "friend@example.org"
PUBLIC = "http://127.0.0.1:8080"
SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


async def _user(db: Database, key: str) -> User:
    async with db.uow() as uow:
        user = await find_user_by_identity(uow, PLATFORM, key)
        assert user is not None
        return user


async def _referrals(db: Database) -> list[Referral]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Referral).order_by(Referral.id))).all())


async def _told(db: Database, user: User, kind: str) -> list[str]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage.text).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind))).all())


async def _onboard(chat: FakeChat, payload: str) -> None:
    await chat.send(f"/start {payload}")
    await chat.click("I want to learn")
    await chat.click("Berlin")
    assert "You're all set" in chat.text


async def test_student_refers_a_friend_by_email_who_gets_the_invitation(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await chat.send(f"/refer {FRIEND} python")
    assert "Invitation sent to friend@example.org" in chat.text
    assert await mail.deliver() == 1
    got = mail.server.one(FRIEND, "invited you")
    assert got["Subject"] == "Sam invited you to Alpha Peer"
    body = text_of(got)
    [row] = await _referrals(db)
    code = (await _user(db, "sam")).ref_code
    assert code and row.channel == "email" and row.course_id == world.python.id
    payload = f"ref-{code}-c{world.python.id}-e{row.id}"
    assert f"{PUBLIC}/r/{payload}" in body and f"/start {payload}" in body
    assert "Sam invited you to learn Python from Zero" in body
    assert "Beginner · $40.00 per 60-minute session" in body and "Basics, Practice" in body
    assert f"href=\"{PUBLIC}/r/{payload}\"" in html_of(got)
    assert "because Sam invited you" in body and "your Alpha Peer account" not in body


async def test_student_refers_the_same_address_twice_and_it_is_sent_once(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await chat.send(f"/refer {FRIEND}")
    await chat.send(f"/refer {FRIEND.upper()}")
    assert "already invited friend@example.org" in chat.text and "no second email" in chat.text
    assert await mail.deliver() == 1
    assert len(await _referrals(db)) == 1


async def test_student_over_the_daily_invitation_limit_is_refused(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    for i in range(10):
        await chat.send(f"/refer friend{i}@example.org")
        assert "Invitation sent" in chat.text
    await chat.send("/refer friend10@example.org")
    assert "10 invitations in the last 24 hours" in chat.text
    assert len(await _referrals(db)) == 10
    assert await mail.deliver() == 10
    assert mail.server.to("friend10@example.org") == []


async def test_one_address_invited_by_many_people_gets_at_most_three_a_day(
        db: Database, world: World, chat_as, mail: MailEnv) -> None:  # type: ignore[no-untyped-def]
    for key in ("sam", "lee", "maya"):
        chat: FakeChat = chat_as(key)
        await chat.send(f"/refer {FRIEND}")
        assert "Invitation sent" in chat.text
    ken: FakeChat = chat_as("ken")
    await ken.send(f"/refer {FRIEND}")
    assert "several invitations today" in ken.text
    assert await mail.deliver() == 3


async def test_student_without_arguments_sees_their_link_and_who_joined(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    await chat.send("/refer")
    code = (await _user(db, "sam")).ref_code
    assert code and re.fullmatch(r"[A-Za-z0-9]{10}", code)
    assert f"{PUBLIC}/r/ref-{code}" in chat.text and f"/start ref-{code}" in chat.text
    assert chat.url("Your invite page") == f"{PUBLIC}/r/ref-{code}"
    assert "So far 0 people joined through you" in chat.text
    await chat.send("/refer")
    assert (await _user(db, "sam")).ref_code == code  # made once
    await _onboard(chat_as("nova", "Nova"), f"ref-{code}")
    await chat.send("/refer python")
    assert f"/r/ref-{code}-c{world.python.id}" in chat.text and "for Python from Zero" in chat.text
    assert "So far 1 person joined through you" in chat.text


async def test_newcomer_with_a_ref_link_is_recorded_and_the_referrer_told(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    await chat.send("/refer")
    code = (await _user(db, "sam")).ref_code
    nova: FakeChat = chat_as("nova", "Nova")
    await _onboard(nova, f"ref-{code}-c{world.python.id}")
    assert "📘 Python from Zero" in nova.text  # the invitation's course opens
    user = await _user(db, "nova")
    assert user.origin == f"ref:{code}"
    [row] = await _referrals(db)
    assert (row.channel, row.referrer_id, row.joined_user_id, row.course_id) == (
        "link", world.sam.id, user.id, world.python.id)
    assert await _told(db, world.sam, "referral_joined") == [
        "🤝 Nova joined Alpha Peer through your link. Thank you for spreading the word!"]
    await nova.send(f"/start ref-{code}")  # already here: nothing counts twice
    assert len(await _referrals(db)) == 1


async def test_newcomer_with_an_unknown_code_is_just_a_deep_link(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    await _onboard(chat_as("nova", "Nova"), "ref-NoSuchCode1")
    assert (await _user(db, "nova")).origin == "ref-NoSuchCode1"
    assert await _referrals(db) == []


async def test_newcomer_from_an_emailed_link_claims_that_invitation(
        db: Database, world: World, chat: FakeChat, chat_as, mail: MailEnv) -> None:  # type: ignore[no-untyped-def]
    await chat.send(f"/refer {FRIEND}")
    await mail.deliver()
    payload = re.search(r"/start (ref-\S+)", text_of(mail.server.one(FRIEND, "invited")))
    assert payload is not None
    await _onboard(chat_as("nova", "Nova"), payload.group(1))
    [row] = await _referrals(db)
    assert row.channel == "email" and row.joined_user_id == (await _user(db, "nova")).id
    assert await _told(db, world.sam, "referral_joined") == [
        "🤝 Nova joined Alpha Peer through your invitation. Thank you for spreading the word!"]


async def test_verified_address_claims_the_emailed_referral(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send(f"/refer {FRIEND}")
    async with db.uow() as uow:
        nova = await add_person(uow, "nova", "Nova", "UTC", "student")
        assert await claim_email_referrals(uow, nova, "Friend@Example.org") == 1
        assert await claim_email_referrals(uow, nova, FRIEND) == 0  # once
    [row] = await _referrals(db)
    assert row.joined_user_id == nova.id and row.joined_at is not None
    code = (await _user(db, "sam")).ref_code
    assert (await _user(db, "nova")).origin == f"ref:{code}"
    assert len(await _told(db, world.sam, "referral_joined")) == 1


async def test_admin_outreach_emails_arrive_and_are_recorded(
        db: Database, world: World, admin: User, chat_as, mail: MailEnv) -> None:  # type: ignore[no-untyped-def]
    brian: FakeChat = chat_as("brian")
    await brian.send("/invite python a@example.org, B@example.org; not-an-address a@example.org")
    assert "Emailed 2 people about Python from Zero" in brian.text
    assert "Not email addresses: not-an-address" in brian.text
    assert await mail.deliver() == 2
    for address in ("a@example.org", "b@example.org"):
        got = mail.server.one(address, "Python from Zero on Alpha Peer")
        assert "Brian from the Alpha Peer team" in text_of(got)
        assert "/r/ref-" in text_of(got)
    rows = await _referrals(db)
    assert [(r.channel, r.email, r.course_id, r.referrer_id) for r in rows] == [
        ("outreach", "a@example.org", world.python.id, admin.id),
        ("outreach", "b@example.org", world.python.id, admin.id)]
    await brian.send("/invite python a@example.org")
    assert "Nobody new to email" in brian.text and "Skipped 1" in brian.text
    many = ", ".join(f"p{i}@example.org" for i in range(51))
    await brian.send(f"/invite python {many}")
    assert "At most 50 addresses" in brian.text
    assert len(await _referrals(db)) == 2


async def test_non_admin_invite_is_refused(db: Database, world: World, chat: FakeChat,
                                           mail: MailEnv) -> None:
    await chat.send("/invite python a@example.org")
    assert "/invite isn't available to you" in chat.text
    assert await _referrals(db) == [] and await mail.deliver() == 0


async def test_admin_growth_shows_origins_and_the_funnel(
        db: Database, world: World, admin: User, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    await chat.send(f"/refer {FRIEND}")
    await chat.send("/refer")
    code = (await _user(db, "sam")).ref_code
    await _onboard(chat_as("nova", "Nova"), f"ref-{code}")
    await _onboard(chat_as("olga", "Olga"), "course-spanish")
    async with db.uow() as uow:
        nova = await find_user_by_identity(uow, PLATFORM, "nova")
        assert nova is not None
        booking = await hold_slot(uow, nova, world.python.id, world.maya.id, SLOT)
        await confirm_booking(uow, booking.id)
    brian: FakeChat = chat_as("brian")
    await brian.send("/invite spanish x@example.org, y@example.org")
    await brian.send("/growth")
    table = brian.last[0].pre
    assert "Where 8 people came from" in table
    assert re.search(r"direct\s+█+░*\s+6\s+75%", table)
    assert re.search(r"invited by Sam\s+█+░*\s+1\s+13%", table)
    assert re.search(r"course-spanish\s+█+░*\s+1\s+13%", table)
    assert re.search(r"email\s+1\s+0\s+0", table)
    assert re.search(r"link\s+1\s+1\s+1", table)
    assert re.search(r"outreach\s+2\s+0\s+0", table)
    assert brian.last[1].image and brian.last[1].image.startswith(b"\x89PNG")
    await chat.send("/growth")
    assert "/growth isn't available to you" in chat.text


async def test_ref_code_collision_is_retried(db: Database, world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        sam.ref_code = "Taken00000"
    codes = iter(["Taken00000", "Fresh00000"])
    monkeypatch.setattr(core.referral, "new_code", lambda: next(codes))
    async with db.uow() as uow:
        lee = await uow.session.get(User, world.lee.id)
        assert lee is not None
        assert await ensure_ref_code(uow, lee) == "Fresh00000"
        assert lee.display_name == "Lee"  # the row is usable after the savepoint's rollback
    assert (await _user(db, "lee")).ref_code == "Fresh00000"


def test_invite_links_fit_telegram_and_parse_back(db: Database) -> None:
    settings = replace(db.settings, telegram=replace(db.settings.telegram,
                                                     bot_username="@AlphaPeerBot"))
    ref = RefPayload("Abc123XYZ0", 2147483647, 2147483647)
    links = invite_links(settings, ref)
    assert links.telegram == f"https://t.me/AlphaPeerBot?start={links.payload}"
    assert links.page == f"{PUBLIC}/r/{links.payload}"
    assert len(links.payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", links.payload)
    assert parse_payload(links.payload) == ref
    assert invite_links(db.settings, ref).telegram is None
    for bad in ("", "ref-", "ref-ab", "course-python", "ref-abc_def", "ref-abcd-c0",
                "ref-abcd-c99999999999", "ref-abcd-x1"):
        assert parse_payload(bad) is None, bad


async def test_visitor_opens_an_invitation_page_and_unknown_codes_are_not_found(
        db: Database, world: World, client: TestClient[object, object]) -> None:
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        sam.display_name = "<b>Sam</b>"
        code = await ensure_ref_code(uow, sam)
    resp = await client.get(f"/r/ref-{code}-c{world.python.id}")
    body = await resp.text()
    assert resp.status == 200
    assert "&lt;b&gt;Sam&lt;/b&gt;</strong> invited you" in body and "<b>Sam</b>" not in body
    assert "Python from Zero" in body and f"/start ref-{code}-c{world.python.id}" in body
    assert "/courses/python/inquire" in body
    assert "Open in Telegram" not in body  # no bot username configured
    for path in ("/r/ref-Unknown123", "/r/garbage", f"/r/ref-{code}-c"):
        assert (await client.get(path)).status == 404


async def test_invitation_page_offers_telegram_and_discord_when_configured(
        db: Database, world: World) -> None:
    settings = replace(db.settings,
                       telegram=replace(db.settings.telegram, bot_username="AlphaPeerBot"),
                       discord=replace(db.settings.discord,
                                       invite_url="https://discord.gg/alphapeer"))
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        code = await ensure_ref_code(uow, sam)
    app = create_app(Database(db.engine, db.clock, settings))
    async with TestClient(TestServer(app)) as http:
        body = await (await http.get(f"/r/ref-{code}")).text()
    assert f"href='https://t.me/AlphaPeerBot?start=ref-{code}'" in body
    assert "Open in Telegram" in body and "https://discord.gg/alphapeer" in body


async def test_friend_who_verifies_the_invited_address_in_chat_joins_the_referral(
        db: Database, world: World, chat: FakeChat, chat_as, mail: MailEnv) -> None:  # type: ignore[no-untyped-def]
    from tests.email_steps import verify_by_chat

    await chat.send(f"/refer {FRIEND}")
    await mail.deliver()
    nova: FakeChat = chat_as("nova", "Nova")
    await nova.send("/start")
    await nova.click("I want to learn")
    await nova.click("Tokyo")
    await verify_by_chat(nova, mail, FRIEND)
    [row] = await _referrals(db)
    assert row.joined_user_id == (await _user(db, "nova")).id
    assert len(await _told(db, world.sam, "referral_joined")) == 1
