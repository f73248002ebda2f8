"""Issue 8's transactional email, end to end through the real SMTP stand-in: a paid booking
sends the student a confirmation receipt and the teacher a booking notice, both with the
calendar invite; a cancellation sends both people the cancelling invite; the
day-before reminder comes by email, the last-minute ones only in chat; an approved
certificate arrives with its PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from core.booking import hold_slot
from core.clock import FrozenClock
from core.models import AccountEmail, User
from core.uow import Database
from handlers.links import pay_url
from scheduling.jobs import send_due_reminders
from tests.fakechat import FakeChat
from tests.mail_env import MailEnv
from tests.smtp_standin import attachments_of, text_of
from tests.world import World
from web_callbacks.app import create_app

SLOT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed 10:00 Berlin, Maya teaching Python
SAM, MAYA = "sam@example.org", "maya@example.org"


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def _verified(db: Database, *pairs: tuple[User, str]) -> None:
    async with db.uow() as uow:
        for user, address in pairs:
            uow.session.add(AccountEmail(user_id=user.id, address=address,
                                         added_at=uow.clock.now(), verified_at=uow.clock.now()))


async def _paid(db: Database, world: World) -> int:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOT)
        booking_id, link = booking.id, pay_url(db.settings, booking)
    async with TestClient(TestServer(create_app(db))) as http:
        resp = await http.get(_path(link), allow_redirects=False)
        resp = await http.post(_path(resp.headers["Location"]), data={"action": "pay"})
        assert "Thank you" in await resp.text()
    return booking_id


def _invite(files: dict[str, tuple[str, bytes]]) -> tuple[str, str]:
    [(kind, body)] = [v for name, v in files.items() if name.endswith(".ics")]
    return kind, body.decode()


async def test_paying_emails_the_student_a_confirmation_and_the_teacher_a_notice_with_ics(
        db: Database, world: World, mail: MailEnv) -> None:
    await _verified(db, (world.sam, SAM), (world.maya, MAYA))
    booking_id = await _paid(db, world)
    await mail.deliver()
    receipt = mail.server.one(SAM, "Receipt")
    assert f"session #{booking_id}" in text_of(receipt) and "$40.00" in text_of(receipt)
    kind, ics = _invite(attachments_of(receipt))
    assert 'method="REQUEST"' in kind and "METHOD:REQUEST" in ics
    assert "DTSTART:20261125T090000Z" in ics and "Python from Zero" in ics
    notice = mail.server.one(MAYA, "booked and paid")
    assert "Sam" in text_of(notice) and "METHOD:REQUEST" in _invite(attachments_of(notice))[1]


async def test_cancelling_emails_both_people_the_cancelling_invite_with_the_same_uid(
        db: Database, world: World, mail: MailEnv, chat: FakeChat) -> None:
    await _verified(db, (world.maya, MAYA), (world.sam, SAM))
    booking_id = await _paid(db, world)
    await mail.deliver()
    uid = next(line for line in _invite(attachments_of(mail.server.one(
        MAYA, "booked and paid")))[1].splitlines() if line.startswith("UID:"))
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel")
    await mail.deliver()
    cancelled = [m for m in mail.server.to(MAYA) if "cancel" in str(m["Subject"]).lower()]
    assert len(cancelled) == 1
    kind, ics = _invite(attachments_of(cancelled[0]))
    assert 'method="CANCEL"' in kind and "METHOD:CANCEL" in ics and uid in ics
    mine = mail.server.one(SAM, "You cancelled")  # the canceller's own calendar, too
    assert uid in _invite(attachments_of(mine))[1]


async def test_the_day_before_reminder_comes_by_email_the_last_minute_ones_only_in_chat(
        db: Database, world: World, mail: MailEnv, clock: FrozenClock) -> None:
    await _verified(db, (world.sam, SAM))
    await _paid(db, world)
    await mail.deliver()
    before = len(mail.server.to(SAM))
    for lead in (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=15)):
        clock.set(SLOT - lead)
        assert await send_due_reminders(db) == 2  # student and teacher
    await mail.deliver()
    reminders = mail.server.to(SAM)[before:]
    assert len(reminders) == 1
    assert "tomorrow" in f"{reminders[0]['Subject']} {text_of(reminders[0])}".lower()


async def test_an_approved_certificate_arrives_by_email_with_its_pdf(
        db: Database, world: World, mail: MailEnv, clock: FrozenClock,
        chat_as: object) -> None:
    from handlers import payload

    await _verified(db, (world.sam, SAM))
    async with db.uow() as uow:
        course = await uow.session.get(type(world.python), world.python.id)
        assert course is not None
        course.complete_quizzes, course.complete_modules = False, False
    booking_id = await _paid(db, world)
    clock.set(SLOT + timedelta(hours=2))
    sam, maya, ada = (chat_as(k) for k in ("sam", "maya", "ada"))  # type: ignore[operator]
    for person in (sam, maya):
        await person.press(payload.command("attended", f"{booking_id} held"))
    await maya.send(f"/recommend {world.sam.id} {world.python.id}")
    await maya.click("Completion")
    await maya.click("Skip")
    await ada.send("/certify")
    await ada.click("Approve")
    await mail.deliver()
    got = mail.server.one(SAM, "Congratulations")
    assert "/verify/" in text_of(got)
    [(kind, pdf)] = [v for n, v in attachments_of(got).items() if n.endswith(".pdf")]
    assert kind == "application/pdf" and pdf.startswith(b"%PDF")
