"""Issue 5's "done when", on the demo data as the terminal chat sees it: a student pays in
the sandbox, the session completes, the admin releases it and the teacher's /earnings shows
70% of the price; a cancellation before completion refunds in full; the ledger checks clean."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from alphapeer.demo import PLATFORM, seed_demo
from alphapeer.ledger_cli import ledger_command
from core.clock import FrozenClock
from core.models import Booking, Identity
from core.money import Money
from core.uow import Database
from handlers import payload
from handlers.dispatcher import Dispatcher
from payments.sandbox import SandboxProvider
from scheduling.jobs import send_money_out
from tests.fakechat import FakeChat
from web_callbacks.app import create_app


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def _book_and_pay(sam: FakeChat, http: TestClient[object, object]) -> None:
    await sam.send("/book")
    for choice in ("1", "2", "1", "1", "1"):  # course, teacher, day, time, hold
        await sam.send(choice)
    assert "Held!" in sam.text
    link = next(b.url for b in sam.buttons if b.url and "/pay/" in b.url)
    resp = await http.get(_path(link), allow_redirects=False)
    resp = await http.post(_path(resp.headers["Location"]), data={"action": "pay"})
    assert "Thank you" in await resp.text()


async def _newest_booking(db: Database, key: str) -> Booking:
    async with db.uow() as uow:
        student_id = await uow.session.scalar(select(Identity.user_id).where(
            Identity.platform == PLATFORM, Identity.external_id == key))
        booking = await uow.session.scalar(select(Booking).where(
            Booking.student_id == student_id).order_by(Booking.id.desc()).limit(1))
        assert booking is not None
        return booking


async def _teacher_key(db: Database, booking: Booking) -> str:
    async with db.uow() as uow:
        key = await uow.session.scalar(select(Identity.external_id).where(
            Identity.platform == PLATFORM, Identity.user_id == booking.teacher_id))
        assert key is not None
        return key


async def test_demo_student_pays_admin_releases_teacher_earns_70_percent_and_cancel_refunds(
        db: Database, dispatcher: Dispatcher, clock: FrozenClock) -> None:
    assert await seed_demo(db)
    sam = FakeChat(dispatcher, "sam", "Sam Carter", platform=PLATFORM)
    brian = FakeChat(dispatcher, "brian", "Brian", platform=PLATFORM)
    sandbox = SandboxProvider(db.settings.web.public_url)
    async with TestClient(TestServer(create_app(db))) as http:
        await _book_and_pay(sam, http)
        booking = await _newest_booking(db, "sam")
        assert booking.status == "confirmed"
        teacher = FakeChat(dispatcher, await _teacher_key(db, booking), platform=PLATFORM)

        clock.set(booking.ends_at + timedelta(minutes=30))
        await sam.press(payload.command("attended", f"{booking.id} held"))
        await teacher.press(payload.command("attended", f"{booking.id} held"))
        clock.advance(hours=db.settings.payments.cooling_off_hours)
        await brian.send("/releases")
        await brian.send(f"/releases approve {booking.id}")
        assert await send_money_out(db, sandbox) >= 1
        await teacher.send("/earnings")
        seventy = Money(booking.price_minor * 70 // 100, booking.currency)
        assert f"Paid out:                     {seventy}" in teacher.text

        await _book_and_pay(sam, http)
        second = await _newest_booking(db, "sam")
        assert second.id != booking.id and second.status == "confirmed"
        await sam.send(f"/cancel {second.id}")
        if "reason" in sam.text:
            await sam.send("Something came up")
        await sam.click("Yes, cancel it")
        assert f"Refunding {second.price} to the card you paid with" in sam.text
        assert await send_money_out(db, sandbox) == 1
    assert await ledger_command(db.settings, "check") == 0
