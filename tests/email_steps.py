"""Steps shared by the email and web account tests: read codes and links out of the emails
the SMTP stand-in received, verify an address through the chat, fill in web forms."""

from __future__ import annotations

import re
from email.message import EmailMessage

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import text_of

PUBLIC = "http://127.0.0.1:8080"
_CODE = re.compile(r"\b(\d{6})\b")
_CSRF = re.compile(r"name=csrf value='([^']+)'")
Browser = TestClient  # type: ignore[type-arg]


def code_in(message: EmailMessage) -> str:
    found = _CODE.findall(text_of(message))
    assert len(found) == 1, f"expected one code in {text_of(message)!r}"
    return str(found[0])


def link_in(message: EmailMessage, route: str) -> str:
    """The path of the ``route`` link (``/account/reset``) in an email."""
    found = re.findall(re.escape(PUBLIC + route) + r"/[\w-]+", text_of(message))
    assert len(found) == 1, f"expected one {route} link in {text_of(message)!r}"
    return path_of(found[0])


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC), url
    return url[len(PUBLIC):]


def newest(mail: MailEnv, address: str, subject_words: str) -> EmailMessage:
    found = [m for m in mail.server.to(address)
             if subject_words.lower() in str(m["Subject"]).lower()]
    assert found, f"no email {subject_words!r} to {address}"
    return found[-1]


async def verify_by_chat(chat: FakeChat, mail: MailEnv, address: str) -> None:
    """Add ``address`` in the chat and type the code that arrived by email."""
    await chat.send(f"/email {address}")
    assert "We sent a 6-digit code" in chat.text, chat.text
    await mail.deliver()
    await chat.send(code_in(newest(mail, address, "Confirm your email")))
    assert "is verified" in chat.text, chat.text


async def csrf_of(resp: ClientResponse) -> str:
    found = _CSRF.findall(await resp.text())
    assert found, "no CSRF token on the page"
    return str(found[0])


async def submit(browser: Browser, page: str, action: str, **fields: str) -> ClientResponse:
    """Open ``page`` and post its form to ``action`` with ``fields`` (as a browser does)."""
    opened = await browser.get(page, allow_redirects=False)
    assert opened.status == 200, (page, opened.status, await opened.text())
    csrf = await csrf_of(opened)
    return await browser.post(action, data={"csrf": csrf, **fields}, allow_redirects=False)


async def sign_in(browser: Browser, address: str, password: str) -> ClientResponse:
    return await submit(browser, "/account/login", "/account/login", email=address,
                        password=password)


async def set_password_by_chat(chat: FakeChat, browser: Browser, password: str
                               ) -> ClientResponse:
    """Open the chat's 🔑 link and choose ``password``."""
    await chat.send("/email")
    page = path_of(chat.url("Set a web password"))
    return await submit(browser, page, page, new=password, confirm=password)
