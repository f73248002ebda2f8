"""Signing in on the web over real HTTP: a password set from the chat's link, login limits
that reveal nothing, password reset by email (read from the SMTP stand-in), sessions that end
when the password changes, and CSRF on every form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from html import unescape

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text

from core.clock import FrozenClock
from core.email_token import prune_email_tokens
from core.models import AccountEmail, EmailToken
from core.uow import Database
from core.web_session import prune_sessions
from tests.email_steps import (
    Browser,
    csrf_of,
    link_in,
    newest,
    set_password_by_chat,
    sign_in,
    submit,
    verify_by_chat,
)
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.world import World
from web_callbacks.app import create_app

SAM = "sam@example.org"
PASSWORD, NEW = "correct horse battery", "staple a new one please"
Open = Callable[[], AbstractAsyncContextManager[Browser]]


@pytest.fixture
def browsers(db: Database) -> Open:
    """Each browser is its own client (cookie jar) on its own server, one database."""
    def make() -> AbstractAsyncContextManager[Browser]:
        return TestClient(TestServer(create_app(db)))
    return make


@pytest.fixture
async def browser(browsers: Open) -> AsyncIterator[Browser]:
    async with browsers() as http:
        yield http


@pytest.fixture
async def sam_with_password(world: World, chat: FakeChat, mail: MailEnv,
                            browser: Browser) -> FakeChat:
    await verify_by_chat(chat, mail, SAM)
    resp = await set_password_by_chat(chat, browser, PASSWORD)
    assert resp.status == 303 and resp.headers["Location"] == "/account/login?n=set"
    return chat


async def _signed_in(browser: Browser) -> bool:
    resp = await browser.get("/account", allow_redirects=False)
    return resp.status == 200


async def test_student_sets_a_password_from_the_chat_link_then_signs_in_with_safe_cookies(
        db: Database, world: World, chat: FakeChat, mail: MailEnv, browser: Browser) -> None:
    await verify_by_chat(chat, mail, SAM)
    await chat.send("/email")
    page = chat.url("Set a web password").removeprefix("http://127.0.0.1:8080")
    opened = await browser.get(page)
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert opened.headers["Cache-Control"] == "no-store"
    resp = await browser.post(page, data={"csrf": await csrf_of(opened), "new": PASSWORD,
                                          "confirm": PASSWORD}, allow_redirects=False)
    assert resp.status == 303
    again = await submit(browser, "/account/login", page, new=NEW, confirm=NEW)
    assert again.status == 404  # the link worked once
    login = await sign_in(browser, SAM, PASSWORD)
    assert login.status == 303 and login.headers["Location"] == "/account"
    cookie = next(c for c in login.headers.getall("Set-Cookie") if c.startswith("ap_session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= flags and "secure" not in flags
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Max-Age=1209600" in cookie
    body = await (await browser.get("/account")).text()
    assert "Sam" in body and SAM in body and "student" in body and "This browser" in body
    async with db.uow() as uow:
        row = await uow.session.get(AccountEmail, world.sam.id)
        stored = [str(value) for table in ("account_email", "email_token", "web_session")
                  for found in [await uow.session.execute(text(f"SELECT * FROM {table}"))]
                  for record in found for value in record]
    dump = " ".join(stored)
    assert row is not None and row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in dump


async def test_cookie_is_secure_when_the_public_url_is_https(
        db: Database, sam_with_password: FakeChat) -> None:
    settings = replace(db.settings, web=replace(db.settings.web,
                                                public_url="https://alphapeer.example"))
    async with TestClient(TestServer(create_app(Database(db.engine, db.clock, settings)))
                          ) as http:
        opened = await http.get("/account/login")
        nonce = opened.cookies["ap_form"].value
        resp = await http.post("/account/login", allow_redirects=False,
                               cookies={"ap_form": nonce},
                               data={"csrf": await csrf_of(opened), "email": SAM,
                                     "password": PASSWORD})
    assert resp.status == 303
    cookie = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("ap_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


async def test_wrong_password_and_unknown_email_answer_identically(
        sam_with_password: FakeChat, browser: Browser) -> None:
    wrong = await sign_in(browser, SAM, "not the password at all")
    unknown = await sign_in(browser, "nobody@example.org", "not the password at all")
    assert wrong.status == unknown.status == 200
    assert (await wrong.text()).replace(SAM, "X") == \
        (await unknown.text()).replace("nobody@example.org", "X")
    assert "Wrong email or password." in await wrong.text()
    assert "ap_session" not in browser.session.cookie_jar.filter_cookies(browser.make_url("/"))


async def test_login_failures_are_limited_per_address_then_per_ip(
        db: Database, sam_with_password: FakeChat, browser: Browser, browsers: Open,
        clock: FrozenClock) -> None:
    for _ in range(5):
        assert "Wrong email" in await (await sign_in(browser, SAM, "guess guess guess")).text()
    blocked = await sign_in(browser, SAM, PASSWORD)  # even the right one, for now
    assert blocked.status == 429 and "Too many attempts" in await blocked.text()
    clock.advance(minutes=16)
    for n in range(20):  # 20 failures from one IP, over addresses that don't exist
        await sign_in(browser, f"nobody{n % 4}@example.org", "guess guess guess")
    resp = await sign_in(browser, SAM, PASSWORD)
    assert resp.status == 429 and "Too many attempts" in await resp.text()
    clock.advance(minutes=16)
    async with browsers() as fresh:
        assert (await sign_in(fresh, SAM, PASSWORD)).status == 303


async def test_reset_request_answers_identically_and_emails_only_verified_addresses(
        sam_with_password: FakeChat, chat_as: Callable[[str], FakeChat], mail: MailEnv,
        browser: Browser) -> None:
    lee = chat_as("lee")
    await lee.send("/email lee@example.org")  # added, never verified
    answers = []
    for address in (SAM, "nobody@example.org", "lee@example.org"):
        resp = await submit(browser, "/account/reset", "/account/reset", email=address)
        answers.append((resp.status, await resp.text()))
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == 200
    await mail.deliver()
    assert newest(mail, SAM, "Reset your")
    assert mail.server.to("nobody@example.org") == []
    assert [str(m["Subject"]) for m in mail.server.to("lee@example.org")] == [
        "Confirm your email address for Alpha Peer"]


async def test_reset_link_works_once_ends_every_session_and_a_reuse_is_refused(
        db: Database, sam_with_password: FakeChat, mail: MailEnv, browsers: Open,
        browser: Browser) -> None:
    async with browsers() as other:
        assert (await sign_in(other, SAM, PASSWORD)).status == 303
        await submit(browser, "/account/reset", "/account/reset", email=SAM)
        await mail.deliver()
        link = link_in(newest(mail, SAM, "Reset your"), "/account/reset")
        opened = await browser.get(link)
        assert opened.status == 200 and opened.headers["Referrer-Policy"] == "no-referrer"
        csrf = await csrf_of(opened)
        done = await browser.post(link, data={"csrf": csrf, "new": NEW, "confirm": NEW},
                                  allow_redirects=False)
        assert done.status == 303 and done.headers["Location"] == "/account/login?n=reset"
        assert not await _signed_in(other)  # every session ended
        reused = await browser.post(link, data={"csrf": csrf, "new": PASSWORD,
                                                "confirm": PASSWORD})
        assert reused.status == 404 and "already used" in await reused.text()
        assert (await browser.get(link)).status == 404
    assert "Wrong email" in await (await sign_in(browser, SAM, PASSWORD)).text()
    assert (await sign_in(browser, SAM, NEW)).status == 303
    await mail.deliver()
    assert newest(mail, SAM, "password was changed")


async def test_reset_link_expires(db: Database, sam_with_password: FakeChat, mail: MailEnv,
                                  browser: Browser, clock: FrozenClock) -> None:
    await submit(browser, "/account/reset", "/account/reset", email=SAM)
    await mail.deliver()
    link = link_in(newest(mail, SAM, "Reset your"), "/account/reset")
    opened = await browser.get(link)
    csrf = await csrf_of(opened)
    clock.advance(minutes=db.settings.accounts.reset_minutes + 1)
    assert (await browser.get(link)).status == 404
    late = await browser.post(link, data={"csrf": csrf, "new": NEW, "confirm": NEW})
    assert late.status == 404
    assert (await sign_in(browser, SAM, PASSWORD)).status == 303  # the old one still works


async def test_reset_requests_are_rate_limited_per_address(
        sam_with_password: FakeChat, mail: MailEnv, browser: Browser) -> None:
    for _ in range(5):
        resp = await submit(browser, "/account/reset", "/account/reset", email=SAM)
        assert resp.status == 200 and "is on its way" in await resp.text()
    await mail.deliver()
    assert len([m for m in mail.server.to(SAM) if "Reset" in str(m["Subject"])]) == 3


async def test_password_change_keeps_this_browser_and_signs_out_the_others(
        sam_with_password: FakeChat, browsers: Open, browser: Browser) -> None:
    async with browsers() as other:
        await sign_in(browser, SAM, PASSWORD)
        await sign_in(other, SAM, PASSWORD)
        bad = await submit(browser, "/account", "/account/password", current="wrong wrong",
                           new=NEW, confirm=NEW)
        assert bad.status == 400 and "current password isn't right" in unescape(await bad.text())
        weak = await submit(browser, "/account", "/account/password", current=PASSWORD,
                            new="aaaaaaaaaaaa", confirm="aaaaaaaaaaaa")
        assert "can't be one character repeated" in unescape(await weak.text())
        ok = await submit(browser, "/account", "/account/password", current=PASSWORD,
                          new=NEW, confirm=NEW)
        assert ok.status == 303 and ok.headers["Location"] == "/account?n=changed"
        assert await _signed_in(browser) and not await _signed_in(other)


async def test_sign_out_one_browser_then_everywhere_from_the_web_and_the_chat(
        sam_with_password: FakeChat, browsers: Open, browser: Browser) -> None:
    async with browsers() as other, browsers() as third:
        for b in (browser, other, third):
            await sign_in(b, SAM, PASSWORD)
        page = await (await browser.get("/account")).text()
        assert page.count("<button>Sign out</button></form></div>") == 2  # the other two
        opened = await browser.get("/account")
        listed = await browser.post("/account/logout", allow_redirects=False, data={
            "csrf": await csrf_of(opened),
            "session": page.split("name=session value=")[1].split(">")[0]})
        assert listed.headers["Location"] == "/account?n=one"
        assert sum([not await _signed_in(b) for b in (other, third)]) == 1
        everywhere = await submit(browser, "/account", "/account/logout-all")
        assert everywhere.headers["Location"] == "/account/login?n=everywhere"
        assert not any([await _signed_in(b) for b in (browser, other, third)])
        await sign_in(other, SAM, PASSWORD)
        await sam_with_password.send("/email signout")
        assert "Signed out of the web everywhere (1 browser)" in sam_with_password.text
        assert not await _signed_in(other)


async def test_post_without_a_csrf_token_is_refused(
        sam_with_password: FakeChat, browsers: Open, browser: Browser) -> None:
    bare = await browser.post("/account/login", data={"email": SAM, "password": PASSWORD})
    assert bare.status == 403
    await sign_in(browser, SAM, PASSWORD)
    assert (await browser.post("/account/logout-all", data={})).status == 403
    async with browsers() as other:
        await sign_in(other, SAM, PASSWORD)
        theirs = await csrf_of(await other.get("/account"))
        forged = await browser.post("/account/logout-all", data={"csrf": theirs})
        assert forged.status == 403  # a token bound to another session
    assert await _signed_in(browser)
    assert (await browser.post("/account/reset", data={"email": SAM})).status == 403


async def test_account_page_needs_a_session(browser: Browser, db: Database) -> None:
    resp = await browser.get("/account", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/account/login"
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(AccountEmail))).all() == []


async def test_prune_forgets_old_tokens_and_long_expired_sessions_only(
        db: Database, sam_with_password: FakeChat, browser: Browser,
        clock: FrozenClock) -> None:
    await sign_in(browser, SAM, PASSWORD)
    clock.advance(days=2)
    async with db.uow() as uow:
        assert await prune_email_tokens(uow) >= 2  # the used code, the set-password links
        assert await prune_sessions(uow) == 0
        assert (await uow.session.scalars(select(EmailToken))).all() == []
    assert await _signed_in(browser)
    clock.advance(days=db.settings.accounts.web_session_days + 31)
    async with db.uow() as uow:
        assert await prune_sessions(uow) == 1
    from core.models import RateEvent
    from scheduling.jobs import prune_access

    async with db.uow() as uow:
        assert (await uow.session.scalars(select(RateEvent))).all() != []  # code requests
    assert await prune_access(db) >= 1  # the hourly job: old attempts go too
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(RateEvent))).all() == []
