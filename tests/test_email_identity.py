"""/email in the chat: an address is added, proven by the code or the link that arrive
through a real SMTP server on loopback, and no reply ever says whose an address is."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.clock import FrozenClock
from core.models import AccountEmail, EmailToken
from core.uow import Database
from handlers import texts
from tests.email_steps import Browser, code_in, link_in, newest, verify_by_chat
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import text_of
from tests.world import World
from web_callbacks.app import create_app

SAM, LEE = "sam@example.org", "lee@example.org"


@pytest.fixture
async def browser(db: Database) -> AsyncIterator[Browser]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


async def _row(db: Database, user_id: int) -> AccountEmail | None:
    async with db.uow() as uow:
        return await uow.session.get(AccountEmail, user_id)


async def test_student_adds_an_email_and_the_emailed_code_verifies_it(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await chat.send("/email")
    assert "No email address yet" in chat.text
    await chat.click("Add an email address")
    await chat.send("  Sam@Example.ORG ")
    assert chat.text == ("📨 We sent a 6-digit code to sam@example.org (valid 15 minutes). "
                         "Type it here, or tap the link in the email.")
    assert await mail.deliver() == 1
    email = mail.server.one(SAM, "Confirm your email")
    assert "/email/verify/" in text_of(email)
    await chat.send(code_in(email))
    assert "✅ sam@example.org is verified" in chat.text
    assert chat.url("Set a web password").startswith("http://127.0.0.1:8080/account/password/")
    row = await _row(db, world.sam.id)
    assert row is not None and row.verified_at is not None and row.password_hash is None
    await mail.deliver()
    assert "Welcome to Alpha Peer, Sam" in str(mail.server.one(SAM, "Welcome")["Subject"])
    async with db.uow() as uow:
        stored = (await uow.session.scalars(select(EmailToken))).all()
    assert all(code_in(email) not in (t.code_hash or "") + t.link_hash for t in stored)


async def test_student_opens_the_emailed_link_and_it_verifies_once(
        db: Database, world: World, chat: FakeChat, mail: MailEnv, browser: Browser) -> None:
    await chat.send(f"/email {SAM}")
    await mail.deliver()
    link = link_in(mail.server.one(SAM, "Confirm your email"), "/email/verify")
    resp = await browser.get(link)
    assert resp.status == 200 and "sam@example.org is verified" in await resp.text()
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    again = await browser.get(link)
    assert again.status == 404 and "already used" in await again.text()
    await chat.send("/email")
    assert "sam@example.org — ✅ verified" in chat.text
    await mail.deliver()
    assert mail.server.one(SAM, "Welcome")


async def test_student_types_five_wrong_codes_and_that_code_locks(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await chat.send(f"/email {SAM}")
    await mail.deliver()
    right = code_in(mail.server.one(SAM, "Confirm your email"))
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        await chat.send(wrong)
        assert f"isn't right — {left} tr" in chat.text
    await chat.send(wrong)
    assert "last try for this code" in chat.text
    await chat.send(right)
    assert "expired, was already used or had too many wrong tries" in chat.text
    assert (await _row(db, world.sam.id)).verified_at is None  # type: ignore[union-attr]
    await chat.click("Send a new code")
    assert "The earlier code no longer works" in chat.text
    await mail.deliver()
    await chat.send(code_in(newest(mail, SAM, "Confirm your email")))
    assert "is verified" in chat.text


async def test_student_types_the_code_after_it_expired_and_it_is_refused(
        db: Database, world: World, chat: FakeChat, mail: MailEnv, clock: FrozenClock) -> None:
    await chat.send(f"/email {SAM}")
    await mail.deliver()
    clock.advance(minutes=db.settings.accounts.code_minutes + 1)
    await chat.send(code_in(mail.server.one(SAM, "Confirm your email")))
    assert "has expired, was already used" in chat.text
    assert (await _row(db, world.sam.id)).verified_at is None  # type: ignore[union-attr]
    await chat.send("/email")
    assert "has expired. Tap ↻ Send a new code" in chat.text


async def test_student_asking_for_many_codes_is_rate_limited_per_address_and_per_person(
        db: Database, world: World, chat: FakeChat, mail: MailEnv, clock: FrozenClock) -> None:
    await chat.send(f"/email {SAM}")
    await chat.click("Send a new code")
    await chat.click("Send a new code")
    await chat.click("Send a new code")  # a fourth code to one address within the hour
    assert "That's a lot of codes in one hour" in chat.text
    assert await mail.deliver() == 3
    for n in (1, 2):
        await chat.send(f"sam{n}@example.org")
        assert "We sent a 6-digit code" in chat.text
    await chat.send("sam3@example.org")  # a sixth code for one person
    assert "That's a lot of codes" in chat.text
    assert await mail.deliver() == 2 and mail.server.to("sam3@example.org") == []
    clock.advance(hours=1, minutes=1)
    await chat.send("sam3@example.org")
    assert "We sent a 6-digit code to sam3@example.org" in chat.text


async def test_student_adding_someone_elses_address_sees_the_same_and_the_owner_is_told(
        db: Database, world: World, chat: FakeChat, chat_as: object, mail: MailEnv) -> None:
    lee: FakeChat = chat_as("lee")  # type: ignore[operator]
    await verify_by_chat(lee, mail, LEE)
    await chat.send("/email new@example.org")
    free = (chat.text.replace("new@example.org", "X"), chat.labels)
    await chat.send("/email lee@example.org")
    assert (chat.text.replace(LEE, "X"), chat.labels) == free
    await chat.send("123456")
    assert "isn't right — 4 tries left" in chat.text
    await chat.send("/email")
    assert "Waiting for the code sent to lee@example.org" in chat.text
    await mail.deliver()
    to_lee = [str(m["Subject"]) for m in mail.server.to(LEE)]
    assert to_lee == ["Confirm your email address for Alpha Peer",
                      "Welcome to Alpha Peer, Lee", "Someone tried to add your email address"]
    notice = text_of(newest(mail, LEE, "Someone tried"))
    assert "/link" in notice and not any(ch.isdigit() for ch in notice.split("--")[0])
    assert (await _row(db, world.lee.id)).verified_at is not None  # type: ignore[union-attr]
    assert await _row(db, world.sam.id) is None  # nothing of Sam's holds Lee's address


async def test_verified_student_changes_address_and_keeps_the_old_until_the_new_is_proven(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await verify_by_chat(chat, mail, SAM)
    await chat.send("/email")
    await chat.click("Change")
    await chat.send("sam@work.example")
    assert (await _row(db, world.sam.id)).address == SAM  # type: ignore[union-attr]
    await mail.deliver()
    await chat.send(code_in(mail.server.one("sam@work.example", "Confirm your email")))
    assert "sam@work.example is verified" in chat.text
    await mail.deliver()
    assert mail.server.one(SAM, "address was changed")
    assert mail.server.to("sam@work.example")[-1]["Subject"] != "Welcome to Alpha Peer, Sam"


async def test_student_removes_the_address_after_confirming(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await verify_by_chat(chat, mail, SAM)
    await chat.send("/email")
    await chat.click("Remove")
    assert "Remove sam@example.org?" in chat.text
    await chat.click("Remove it")
    assert "🗑 Removed" in chat.text and await _row(db, world.sam.id) is None
    await chat.send("/email remove")
    assert "There is no address to remove" in chat.text


@pytest.mark.parametrize("line", ["/email sam\u0000@example.org",
                                  "/email sam\u202e@example.org", "/refer a\u0000@example.org"])
async def test_an_address_with_invisible_characters_is_refused(
        db: Database, world: World, chat: FakeChat, mail: MailEnv, line: str) -> None:
    # A NUL reached the database (an incident on PostgreSQL, which can't store it).
    await chat.send(line)
    assert "doesn't look like an email address" in chat.text
    assert await _row(db, world.sam.id) is None


async def test_garbage_stale_buttons_and_double_clicks_answer_clearly(
        db: Database, world: World, chat: FakeChat, mail: MailEnv) -> None:
    await chat.send("/email")
    await chat.click("Add an email address")
    await chat.send("not an address")
    assert "doesn't look like an email address" in chat.text
    await chat.send(SAM)
    resend = chat.button("Send a new code").action
    assert resend is not None
    await chat.send("abc")
    assert "Type the 6 digits" in chat.text
    fresh = chat.button("Send a new code").action
    assert fresh is not None and fresh != resend
    await chat.press(resend)  # from the prompt before: it was replaced
    assert chat.text == texts.MENU_EXPIRED
    await chat.press(fresh)
    await chat.press(fresh)  # a double click sends one code, not two
    assert chat.text == texts.MENU_EXPIRED
    assert await mail.deliver() == 2
    await chat.send("/email gibberish")
    assert "Send /email name@example.org" in chat.text
    await chat.send("/email signout")
    assert "weren't signed in on the web" in chat.text
