"""Visitors' inquiries: the web form on a course and /inquire in chat reach the creator by
email (through a real SMTP server on loopback) and in chat; bad input, forged forms and
floods are answered clearly; an inquiry followed by an enrolment counts as converted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from core.booking import confirm_booking, hold_slot
from core.models import AccountEmail, EmailMessage, Inquiry, OutboxMessage, User
from core.uow import Database
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import html_of, text_of
from tests.world import World, paid_session
from web_callbacks.app import create_app

ADA = "ada@example.org"
QUESTION = "Can I take this course with no programming experience at all?"
SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
Client = TestClient[object, object]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


async def _verified(db: Database, user: User, address: str) -> None:
    async with db.uow() as uow:
        uow.session.add(AccountEmail(user_id=user.id, address=address, added_at=uow.clock.now(),
                                     verified_at=uow.clock.now()))


async def _token(client: Client, slug: str = "python") -> str:
    resp = await client.get(f"/courses/{slug}/inquire")
    assert resp.status == 200
    found = re.search(r"name=token value='([^']+)'", await resp.text())
    assert found is not None
    return found.group(1)


async def _post(client: Client, token: str | None = None, slug: str = "python",
                **fields: str) -> tuple[int, str]:
    form = {"name": "Vic", "email": "Vic@Example.org", "message": QUESTION, **fields,
            "token": token if token is not None else await _token(client, slug)}
    resp = await client.post(f"/courses/{slug}/inquire", data=form)
    return resp.status, await resp.text()


async def _inquiries(db: Database) -> list[Inquiry]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Inquiry).order_by(Inquiry.id))).all())


async def _chat_to(db: Database, user: User, kind: str = "inquiry") -> list[str]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage.text).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind))).all())


async def test_visitor_posts_the_web_form_and_the_creator_gets_email_and_chat(
        db: Database, world: World, client: Client, mail: MailEnv) -> None:
    await _verified(db, world.creator, ADA)
    status, body = await _post(client)
    assert status == 200 and "Thanks — the creator will answer by email" in body
    assert "vic@example.org" in body
    assert await mail.deliver() == 1
    got = mail.server.one(ADA, "Question about Python from Zero from Vic")
    assert QUESTION in text_of(got) and "Vic <vic@example.org>" in text_of(got)
    assert "mailto:vic@example.org?subject=Re%3A%20Question" in html_of(got)
    assert got["Reply-To"] == "vic@example.org"  # answering the email reaches the visitor
    [chat] = await _chat_to(db, world.creator)
    assert QUESTION in chat and "vic@example.org" in chat
    [row] = await _inquiries(db)
    assert (row.course_id, row.name, row.email, row.source, row.user_id) == (
        world.python.id, "Vic", "vic@example.org", "web", None)


async def test_creator_who_chose_email_for_messages_gets_one_email_not_two(
        db: Database, world: World, client: Client, mail: MailEnv) -> None:
    await _verified(db, world.creator, ADA)
    async with db.uow() as uow:
        ada = await uow.session.get(User, world.creator.id)
        assert ada is not None
        ada.notify_prefs = {"messages": ["test", "email"]}
    assert (await _post(client))[0] == 200
    assert await mail.deliver() == 1
    assert QUESTION in text_of(mail.server.one(ADA, "Question about Python from Zero"))


async def test_visitor_bad_input_is_answered_clearly_and_nothing_is_stored(
        db: Database, world: World, client: Client, mail: MailEnv) -> None:
    token = await _token(client)
    cases = [
        ({"message": ""}, "Please write your question"),
        ({"message": "x" * 5000}, "at most 1200 characters"),
        ({"email": "not-an-address"}, "doesn&#x27;t look like an email address"),
        ({"name": ""}, "A name needs 1 to 80 characters"),
        ({"name": "Vic\u202e"}, "without invisible control characters"),
        ({"name": "<script>alert(1)</script>", "message": "short"}, "Please write"),
    ]
    for fields, answer in cases:
        status, body = await _post(client, token, **fields)
        assert status == 400 and answer in body, (fields, body[-400:])
        assert "<script>alert" not in body
    status, body = await _post(client, token + "x")
    assert status == 400 and "This form expired or didn" in body
    status, body = await _post(client, await _token(client, "spanish"))  # another course's
    assert status == 400 and "This form expired or didn" in body
    assert (await client.get("/courses/nope/inquire")).status == 404
    assert (await _post(client, token, slug="nope"))[0] == 404
    assert await _inquiries(db) == []
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(EmailMessage)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_visitor_over_the_limits_is_told_too_many_inquiries(
        db: Database, world: World, client: Client) -> None:
    token = await _token(client)
    for _ in range(3):
        assert (await _post(client, token))[0] == 200
    status, body = await _post(client, token)  # a fourth from the same address
    assert status == 429 and "Too many inquiries — please try again later" in body
    assert "Thanks" not in body
    for i in range(2):  # other addresses, the same IP: five a day in all
        assert (await _post(client, token, email=f"other{i}@example.org"))[0] == 200
    status, body = await _post(client, token, email="third@example.org")
    assert status == 429 and "Too many inquiries" in body
    assert len(await _inquiries(db)) == 5


async def test_student_inquires_in_chat_and_the_creator_is_told(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/inquire python")
    assert "what's your email address?" in chat.text
    await chat.send("sam at example")
    assert "doesn't look like an email address" in chat.text
    await chat.send("sam@example.org")
    assert "What would you like to ask Ada about Python from Zero?" in chat.text
    await chat.send("hi?")
    assert "at least 10 characters" in chat.text
    await chat.send(QUESTION)
    assert "Sent to Ada. They'll answer by email at sam@example.org" in chat.text
    [row] = await _inquiries(db)
    assert (row.user_id, row.source, row.email, row.name) == (
        world.sam.id, "chat", "sam@example.org", "Sam")
    [told] = await _chat_to(db, world.creator)
    assert "Sam <sam@example.org> asked in the chat" in told and QUESTION in told


async def test_visitor_asks_from_the_course_card_before_onboarding(
        db: Database, world: World, chat_as) -> None:  # type: ignore[no-untyped-def]
    vic: FakeChat = chat_as("vic", "Vic")
    await vic.send(f"/coursecard {world.python.id}")
    await vic.click("❓ Ask the creator")
    await vic.send("vic@example.org")
    await vic.send(QUESTION)
    assert "Sent to Ada" in vic.text
    [row] = await _inquiries(db)
    assert row.email == "vic@example.org" and row.user_id is not None


async def test_student_with_a_verified_address_skips_the_email_step_and_is_limited(
        db: Database, world: World, chat: FakeChat) -> None:
    await _verified(db, world.sam, "sam@example.org")
    for _ in range(3):
        await chat.send("/inquire python")
        assert "What would you like to ask Ada" in chat.text
        await chat.send(QUESTION)
        assert "Sent to Ada" in chat.text
    await chat.send("/inquire python")
    await chat.send(QUESTION)
    assert "Too many inquiries" in chat.text
    assert len(await _inquiries(db)) == 3


async def test_inquirer_who_enrols_is_converted_and_growth_shows_it(
        db: Database, world: World, admin: User, chat: FakeChat, chat_as,  # type: ignore[no-untyped-def]
        client: Client) -> None:
    await _verified(db, world.lee, "lee@example.org")
    for course in ("python", "spanish"):  # Sam asks about both, in chat
        await chat.send(f"/inquire {course}")
        if "email address" in chat.text:
            await chat.send("sam@example.org")
        await chat.send(QUESTION)
    assert (await _post(client, email="LEE@example.org"))[0] == 200  # Lee, on the web
    assert (await _post(client, email="nobody@example.org"))[0] == 200
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        await hold_slot(uow, sam, world.python.id, world.maya.id,
                        datetime(2026, 11, 25, 10, 0, tzinfo=UTC), intro=True)
    await paid_session(db, world, SLOT)  # Sam enrols in Python
    async with db.uow() as uow:
        lee = await uow.session.get(User, world.lee.id)
        assert lee is not None
        booking = await hold_slot(uow, lee, world.python.id, world.maya.id,
                                  datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
        await confirm_booking(uow, booking.id)
    rows = {(r.name, r.course_id, r.email): r for r in await _inquiries(db)}
    converted = {key for key, r in rows.items() if r.enrolment_id is not None}
    assert converted == {("Sam", world.python.id, "sam@example.org"),
                         ("Vic", world.python.id, "lee@example.org")}
    assert all(r.converted_at is not None for r in rows.values() if r.enrolment_id)
    brian: FakeChat = chat_as("brian")
    await brian.send("/growth")
    table = brian.last[0].pre
    assert "Inquiries   4 → 2 enrolled (50%)  [chat 2→1 · web 2→1]" in table
    assert "Free intros 1 → 1 paid session (100%)" in table
