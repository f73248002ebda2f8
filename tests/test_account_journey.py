"""Issue 8's "done when" as one person's journey, on both databases: a newcomer adds and
verifies an email, sets and then resets a web password, books and pays a session and gets
the confirmation email with the calendar invite, and messages their teacher and reads the
reply. Email is read from the SMTP stand-in; the web pages are used over real HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.models import OutboxMessage, User
from core.uow import Database
from tests.email_steps import (
    csrf_of,
    link_in,
    newest,
    path_of,
    set_password_by_chat,
    sign_in,
    submit,
    verify_by_chat,
)
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import attachments_of, text_of
from tests.world import World
from web_callbacks.app import create_app

NIA = "nia@example.org"
FIRST, SECOND = "first long passphrase", "second long passphrase"


async def _latest(db: Database, user_id: int, kind: str) -> OutboxMessage:
    async with db.uow() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(
            OutboxMessage.user_id == user_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None, f"no {kind} notification"
        return row


async def _press(chat: FakeChat, row: OutboxMessage, label: str) -> None:
    [action] = [b["action"] for line in row.buttons for b in line if b["label"] == label]
    await chat.press(action)


async def test_newcomer_verifies_email_books_gets_the_invite_messages_and_resets_password(
        db: Database, world: World, chat_as: Any, mail: MailEnv) -> None:
    nia: FakeChat = chat_as("nia", "Nia")
    maya: FakeChat = chat_as("maya", "Maya")
    await nia.send("/start")
    await nia.click("I want to learn")
    await nia.click("Berlin")
    await verify_by_chat(nia, mail, NIA)
    await mail.deliver()
    assert newest(mail, NIA, "Welcome to Alpha Peer")

    async with TestClient(TestServer(create_app(db))) as browser:
        resp = await set_password_by_chat(nia, browser, FIRST)
        assert resp.status == 303
        assert (await sign_in(browser, NIA, FIRST)).status == 303

        await nia.send(f"/book {world.python.id}")
        await nia.click("Maya")
        await nia.send("1")
        await nia.send("1")
        await nia.click("Hold & pay")
        checkout = await browser.get(path_of(nia.url("Pay")), allow_redirects=False)
        paid = await browser.post(path_of(checkout.headers["Location"]), data={"action": "pay"})
        assert "Thank you" in await paid.text()
        await mail.deliver()
        receipt = newest(mail, NIA, "Receipt")
        [(kind, ics)] = [v for n, v in attachments_of(receipt).items() if n.endswith(".ics")]
        assert 'method="REQUEST"' in kind and b"Python from Zero" in ics
        assert "Maya" in text_of(receipt)

        await nia.send("/message")
        await nia.click("Maya · your teacher")
        await nia.send("Could we start with loops?")
        assert "✅ Sent to Maya" in nia.text
        await _press(maya, await _latest(db, world.maya.id, "direct_message"), "↩ Reply")
        await maya.send("Yes, loops first. See you then!")
        async with db.uow() as uow:
            me = await uow.session.scalar(select(User).where(User.display_name == "Nia"))
            assert me is not None
        reply = await _latest(db, me.id, "direct_message")
        assert "Yes, loops first" in reply.text and "Maya" in reply.text
        await nia.send("/messages")
        assert "• Maya · 1 new — Yes, loops first. See you then!" in nia.text

        await submit(browser, "/account/reset", "/account/reset", email=NIA)
        await mail.deliver()
        link = link_in(newest(mail, NIA, "Reset your"), "/account/reset")
        opened = await browser.get(link)
        done = await browser.post(link, data={"csrf": await csrf_of(opened), "new": SECOND,
                                              "confirm": SECOND}, allow_redirects=False)
        assert done.status == 303
        assert "Wrong email" in await (await sign_in(browser, NIA, FIRST)).text()
        assert (await sign_in(browser, NIA, SECOND)).status == 303
