"""Files in the session thread over Telegram's real client and a strict stand-in Bot API:
to someone on Telegram the file goes again by its file id (no download); to someone on
another app as a private link that our web server fetches from Telegram (getFile)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bots.telegram.app import TelegramSurface
from core.config import Settings
from core.models import Identity, OutboxMessage, SessionMessage
from core.uow import Database
from scheduling.courier import Courier
from tests.fake_telegram import FakeTelegram
from tests.test_telegram import (  # noqa: F401 - fixtures
    PUBLIC,
    USER,
    _settle,
    fake,
    surface,
    tg_settings,
)
from tests.world import World, paid_session
from web_callbacks.app import create_app
from web_callbacks.files import telegram_file_base

MAYA_TG = 5151
PDF = b"%PDF-1.4 decorators cheat sheet"


async def _on_telegram(db: Database, *people: tuple[int, int]) -> None:
    async with db.uow() as uow:
        for user_id, chat in people:
            uow.session.add(Identity(user_id=user_id, platform="telegram",
                                     external_id=str(chat), created_at=uow.clock.now()))


async def _sam_sends_a_file(db: Database, world: World, bot_api: FakeTelegram) -> int:
    booking_id = await paid_session(db, world, datetime(2026, 11, 26, 9, tzinfo=UTC))
    bot_api.user_sends(USER, f"/thread {booking_id}", name="Sam")
    await _settle(bot_api)
    assert f"Session #{booking_id} with Maya" in bot_api.last(USER).text
    bot_api.user_sends_document(USER, "decorators.pdf", name="Sam", data=PDF)
    await _settle(bot_api)
    assert "Sent to Maya" in bot_api.last(USER).text
    return booking_id


async def test_a_file_reaches_a_teacher_on_telegram_as_the_same_file(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:  # noqa: F811
    await _on_telegram(db, (world.sam.id, USER), (world.maya.id, MAYA_TG))
    booking_id = await _sam_sends_a_file(db, world, fake)
    [upload] = [f for f in fake.files if fake.files[f] == PDF]
    assert await Courier(db, {"telegram": surface.send}).deliver_due() == 1
    got = fake.last(MAYA_TG)
    assert got.kind == "document" and got.file_ref == upload  # no download, no re-upload
    assert f"Sam · session #{booking_id}: 📎 sent a file: decorators.pdf" in got.text
    assert [b["text"] for b in got.buttons] == ["↩ Reply"]
    assert "download" not in fake.calls and fake.refused == []
    async with db.uow() as uow:
        kept = (await uow.session.scalars(select(SessionMessage))).one()
        assert (kept.file_name, kept.file_ref, kept.file_kind) == (
            "decorators.pdf", upload, "document")


async def test_a_file_reaches_a_teacher_elsewhere_as_a_private_link(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface,  # noqa: F811
        tg_settings: Callable[..., Settings]) -> None:  # noqa: F811
    await _on_telegram(db, (world.sam.id, USER))  # Maya only uses the other app
    await _sam_sends_a_file(db, world, fake)
    async with db.uow() as uow:
        relayed = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == world.maya.id))).one()
    assert relayed.platform == "test" and relayed.file_ref is None
    link = relayed.buttons[0][0]
    assert link["label"] == "📎 decorators.pdf" and link["url"].startswith(f"{PUBLIC}/file/")
    path = link["url"].removeprefix(PUBLIC)
    web_db = Database(db.engine, db.clock, tg_settings())
    async with TestClient(TestServer(create_app(web_db))) as http:
        got = await http.get(path)
        assert got.status == 200 and await got.read() == PDF
        assert "decorators.pdf" in got.headers["Content-Disposition"]
        forged = await http.get(path[:-3] + "abc")
        assert forged.status == 404
        assert "getFile" in fake.calls and "download" in fake.calls


async def test_a_file_link_is_refused_to_someone_outside_the_session(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface,  # noqa: F811
        tg_settings: Callable[..., Settings]) -> None:  # noqa: F811
    from handlers.links import file_url

    await _on_telegram(db, (world.sam.id, USER))
    await _sam_sends_a_file(db, world, fake)
    async with db.uow() as uow:
        message = (await uow.session.scalars(select(SessionMessage))).one()
    settings = tg_settings()
    stranger = file_url(settings, message.id, world.lee.id, db.clock.now())
    async with TestClient(TestServer(create_app(Database(db.engine, db.clock, settings)))
                          ) as http:
        got = await http.get(stranger.removeprefix(PUBLIC))
        assert got.status == 404 and "not available" in await got.text()
    assert "download" not in fake.calls


def test_the_file_address_follows_a_self_hosted_bot_api_server() -> None:
    assert telegram_file_base("https://api.telegram.org/bot") == \
        "https://api.telegram.org/file/bot"
    assert telegram_file_base("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
