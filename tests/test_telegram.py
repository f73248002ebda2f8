"""The Telegram surface end to end: PTB's real client against a strict stand-in Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bots.telegram.app import TelegramSurface, webhook_secret
from bots.telegram.render import chunks
from core.booking import confirm_booking, hold_slot
from core.config import Settings
from core.inbox import store_updates
from core.models import Booking, Identity, InboundUpdate
from core.outbox import notify
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from scheduling.courier import Courier
from tests.conftest import make_settings
from tests.fake_telegram import FakeTelegram, parse_html
from tests.world import World
from web_callbacks.app import Webhook, create_app

USER = 4242
PUBLIC = "https://alphapeer.example.com"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def tg_settings(db: Database, fake: FakeTelegram, tmp_path: Path) -> Callable[..., Settings]:
    def make(**extra: str) -> Settings:
        return make_settings(db.settings.database_url, tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                             ALPHAPEER_TELEGRAM_BASE_URL=fake.base_url,
                             ALPHAPEER_WEB_PUBLIC_URL=PUBLIC, **extra)
    return make


LIVE: list[TelegramSurface] = []


def _surface(db: Database, settings: Settings) -> TelegramSurface:
    tg_db = Database(db.engine, db.clock, settings)  # same database, Telegram settings
    registry = build_registry()
    tg = TelegramSurface(settings, tg_db, Dispatcher(tg_db, registry), registry)
    LIVE[:] = [tg]
    return tg


@pytest.fixture
async def surface(db: Database, tg_settings: Callable[..., Settings]
                  ) -> AsyncIterator[TelegramSurface]:
    tg = _surface(db, tg_settings())
    await tg.start()
    yield tg
    await tg.stop()


async def _settle(fake: FakeTelegram, *surfaces: TelegramSurface) -> None:
    """Every update fetched (acknowledged) and every handling finished, replies sent."""
    for _ in range(3):
        await fake.settle(quiet=0.05)
        for tg in surfaces or tuple(LIVE):
            await tg.drain()


async def _say(fake: FakeTelegram, text: str) -> str:
    fake.user_sends(USER, text)
    await _settle(fake)
    return fake.last(USER).text


async def _onboard_and_book(fake: FakeTelegram) -> None:
    """A newcomer who learns, in Berlin, at the course menu of /book."""
    await _say(fake, "/start")
    await _click(fake, "I want to learn")
    await _click(fake, "Berlin")
    await _say(fake, "/book")


async def _click(fake: FakeTelegram, label: str) -> str:
    fake.user_clicks(USER, fake.last(USER), label)
    await _settle(fake)
    return fake.last(USER).text


async def test_newcomer_books_on_telegram_to_a_pay_link_with_every_callback_answered(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    assert "Welcome to Alpha Peer, Tess" in await _say(fake, "/start")
    assert "Which timezone" in await _click(fake, "I want to learn")
    assert "You're all set" in await _click(fake, "Berlin")
    assert "Which course" in await _say(fake, "/book")
    assert "Who would you like to learn with?" in await _click(fake, "Python from Zero")
    await _click(fake, "Maya · next")
    await _click(fake, "Tue 24 Nov")
    assert "Please check your session" in await _click(fake, "10:00")
    assert "Held!" in await _click(fake, "Hold & pay")
    pay = fake.last(USER).button("Pay $40.00")
    assert pay["url"].startswith(f"{PUBLIC}/pay/")
    assert fake.refused == []
    assert fake.open_queries == {} and len(fake.answered) == 7
    # Menus were edited in place: one message per typed command plus the final one.
    assert len(fake.chat(USER)) <= 4
    default_menu = fake.commands["default"]
    assert {c["command"] for c in default_menu} >= {"start", "book", "help", "link"}
    assert "outbox" not in {c["command"] for c in default_menu}


async def test_stale_button_gets_an_alert_and_changes_nothing(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    await _onboard_and_book(fake)
    course_menu = fake.last(USER)
    old = course_menu.button("Python from Zero")["callback_data"]
    await _click(fake, "Python from Zero")
    before = len(fake.sent)
    fake.user_presses(USER, course_menu, old)
    await _settle(fake)
    alert = list(fake.answered.values())[-1]
    assert "menu has expired" in alert["text"] and alert["show_alert"] == "true"
    assert len(fake.sent) == before and fake.refused == []


async def test_flow_continues_after_the_process_restarts(
        db: Database, world: World, fake: FakeTelegram,
        tg_settings: Callable[..., Settings]) -> None:
    first = _surface(db, tg_settings())
    await first.start()
    await _onboard_and_book(fake)
    await _click(fake, "Python from Zero")
    await first.stop()
    second = _surface(db, tg_settings())  # a new process: nothing shared in memory
    await second.start()
    try:
        assert "Days when Maya is free" in await _click(fake, "Maya · next")
    finally:
        await second.stop()
    assert fake.refused == []


async def test_same_update_delivered_twice_is_handled_once(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    update = fake.user_sends(USER, "/courses")
    fake.updates.append(dict(update))  # Telegram redelivers it
    await _settle(fake)
    await surface.receive([update])  # and once more through a webhook, say
    await _settle(fake)
    assert [m.text for m in fake.chat(USER)].count(fake.last(USER).text) == 1
    assert len(fake.chat(USER)) == 1


async def test_button_reaching_both_the_poll_and_the_start_up_replay_is_answered_once(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    await _onboard_and_book(fake)
    update = fake.user_clicks(USER, fake.last(USER), "Python from Zero")
    fake.updates.remove(update)  # handed over below instead of by polling
    await surface.receive([update])  # stored; its handling is on its way
    await surface.replay(older_than=timedelta(0))  # a replay finds it not yet handled
    await _settle(fake)
    assert "Who would you like to learn with?" in fake.last(USER).text
    assert update["callback_query"]["id"] in fake.answered
    assert fake.refused == []  # a second answerCallbackQuery would be refused here
    assert not any("something went wrong" in m.text for m in fake.chat(USER))


async def test_update_stored_before_a_crash_is_handled_on_restart(
        db: Database, world: World, fake: FakeTelegram,
        tg_settings: Callable[..., Settings]) -> None:
    update = {"update_id": 77, "message": {
        "message_id": 1, "date": 0, "text": "/courses",
        "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "Tess"}}}
    async with db.uow() as uow:  # stored, then the process died before handling it
        await store_updates(uow, "telegram", [(77, update)])
    tg = _surface(db, tg_settings())
    await tg.start()
    try:
        await _settle(fake)
        assert "Python from Zero" in fake.last(USER).text
    finally:
        await tg.stop()
    async with db.uow() as uow:
        pending = await uow.session.scalar(
            select(func.count()).where(InboundUpdate.handled_at.is_(None)))
    assert pending == 0


async def test_html_in_names_is_escaped_and_accepted(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    fake.user_sends(USER, "/start", name="<b>Bob & Co</b>")
    await _settle(fake)
    assert "Welcome to Alpha Peer, <b>Bob & Co</b>!" in fake.last(USER).text
    assert fake.refused == []


async def test_document_reaches_the_handlers_as_an_attachment(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    await _say(fake, "/start")
    await _click(fake, "I want to learn")
    await _click(fake, "Berlin")
    fake.user_sends_document(USER, "notes.pdf")
    await _settle(fake)
    assert "can't use a file here" in fake.last(USER).text


async def test_webhook_refuses_a_wrong_secret_and_handles_a_right_one(
        db: Database, world: World, fake: FakeTelegram,
        tg_settings: Callable[..., Settings]) -> None:
    settings = tg_settings(ALPHAPEER_TELEGRAM_MODE="webhook")
    tg = _surface(db, settings)
    await tg.start()
    assert fake.webhook["url"] == PUBLIC + "/telegram/webhook"
    assert fake.webhook["secret"] == webhook_secret(settings.secrets.secret_key)
    hook = Webhook("/telegram/webhook", "X-Telegram-Bot-Api-Secret-Token", tg.secret,
                   tg.receive)
    update = {"update_id": 5, "message": {
        "message_id": 1, "date": 0, "text": "/courses", "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "Tess"}}}
    try:
        async with TestClient(TestServer(create_app(db, (hook,)))) as http:
            wrong = await http.post("/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            missing = await http.post("/telegram/webhook", json=update)
            assert (wrong.status, missing.status) == (401, 401)
            async with db.uow() as uow:
                assert await uow.session.scalar(select(func.count(InboundUpdate.id))) == 0
            right = await http.post("/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": tg.secret})
            assert right.status == 200
            await _settle(fake)
            assert "Python from Zero" in fake.last(USER).text
    finally:
        await tg.stop()


async def test_outbox_reaches_a_teacher_on_telegram(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    async with db.uow() as uow:
        uow.session.add(Identity(user_id=world.maya.id, platform="telegram",
                                 external_id="5151", created_at=uow.clock.now()))
        await uow.session.flush()
        await notify(uow, world.maya, "test", "Sam booked <Python> & more")
    courier = Courier(db, {"telegram": surface.send})
    assert await courier.deliver_due() == 1
    assert fake.last(5151).text == "Sam booked <Python> & more"
    assert await courier.deliver_due() == 0


def test_long_texts_are_split_under_the_limit_and_stay_valid_html() -> None:
    text = ("a < b & c > d " * 40 + "\n") * 30
    parts = chunks(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parse_html(p) + "\n" for p in parts).split() == text.split()


async def test_cancelled_session_tells_the_teacher_on_telegram(
        db: Database, world: World, fake: FakeTelegram, surface: TelegramSurface) -> None:
    async with db.uow() as uow:
        uow.session.add(Identity(user_id=world.maya.id, platform="telegram",
                                 external_id="5151", created_at=uow.clock.now()))
        uow.session.add(Identity(user_id=world.sam.id, platform="telegram",
                                 external_id=str(USER), created_at=uow.clock.now()))
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                  datetime(2026, 11, 26, 9, tzinfo=UTC))
        await confirm_booking(uow, booking.id)
    courier = Courier(surface.db, {"telegram": surface.send})
    surface.dispatcher.after_commit = courier.wake
    await _say(fake, f"/cancel {booking.id}")
    await _click(fake, "Yes, cancel it")
    await courier.deliver_due()
    note = fake.last(5151)
    assert f"Sam cancelled session #{booking.id}" in note.text and "10:00" in note.text
    assert note.button("My bookings")
    async with db.uow() as uow:
        assert (await uow.session.get(Booking, booking.id)).status == "cancelled"
