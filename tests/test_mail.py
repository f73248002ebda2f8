"""Transactional email through a real SMTP server on loopback: what people get by email
when they have a verified address (receipts and booking confirmations with the calendar
invite, reminders, certificates with the PDF), what their notification choices and quiet
hours change, and how the mailer copes with a refusing or failing server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from core.mail import Attachment, queue_email
from core.models import AccountEmail, EmailMessage, OutboxMessage, User
from core.outbox import notify
from core.uow import Database
from mail.folder import FolderTransport
from scheduling.mailer import Mailer
from tests.mail_env import SENDER, MailEnv
from tests.smtp_standin import attachments_of, html_of, text_of
from tests.world import World

SAM = "sam@example.org"


async def _verified(db: Database, user: User, address: str) -> None:
    async with db.uow() as uow:
        uow.session.add(AccountEmail(user_id=user.id, address=address, added_at=uow.clock.now(),
                                     verified_at=uow.clock.now()))


async def _notify(db: Database, user: User, kind: str, text: str, **kw: object) -> None:
    async with db.uow() as uow:
        person = await uow.session.get(User, user.id)
        assert person is not None
        await notify(uow, person, kind, text, **kw)  # type: ignore[arg-type]


async def test_receipt_email_has_text_html_and_the_calendar_invite(
        db: Database, world: World, mail: MailEnv) -> None:
    await _verified(db, world.sam, SAM)
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    await _notify(db, world.sam, "receipt", "🧾 Receipt — $40.00 paid for session #7: Python",
                  attachment=("alphapeer-session-7.ics", ics))
    assert await mail.deliver() == 1
    got = mail.server.one(SAM, "Receipt")
    assert got["From"] == SENDER
    assert got["Subject"] == "Receipt — $40.00 paid for session #7: Python"
    assert "$40.00 paid" in text_of(got) and "/notifications" in text_of(got)
    assert "<p>" in html_of(got) and "$40.00 paid" in html_of(got)
    [(kind, body)] = attachments_of(got).values()
    assert kind.startswith("text/calendar") and 'method="REQUEST"' in kind and body == ics.encode()


async def test_nobody_without_a_verified_address_is_emailed(
        db: Database, world: World, mail: MailEnv) -> None:
    async with db.uow() as uow:
        uow.session.add(AccountEmail(user_id=world.sam.id, address=SAM,
                                     added_at=uow.clock.now()))  # not verified
    await _notify(db, world.sam, "receipt", "🧾 Receipt")
    assert await mail.deliver() == 0 and mail.server.received == []


async def test_categories_off_by_email_stay_in_chat_and_choices_are_honoured(
        db: Database, world: World, mail: MailEnv) -> None:
    await _verified(db, world.sam, SAM)
    await _notify(db, world.sam, "new_follower", "👥 Lee follows you now")  # chat by default
    await _notify(db, world.sam, "reminder_15m", "⏰ In 15 minutes")  # chat only, always
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        sam.notify_prefs = {"payments": ["email"], "bookings": []}
    await _notify(db, world.sam, "receipt", "🧾 Receipt by email only")
    await _notify(db, world.sam, "booking_moved", "🔁 Moved (switched off)")
    assert await mail.deliver() == 1
    assert [str(m["Subject"]) for m in mail.server.received] == ["Receipt by email only"]
    async with db.uow() as uow:
        chat = (await uow.session.scalars(select(OutboxMessage.kind).where(
            OutboxMessage.user_id == world.sam.id).order_by(OutboxMessage.id))).all()
    assert chat == ["new_follower", "reminder_15m"]


async def test_quiet_hours_hold_chat_until_morning_in_the_persons_zone(
        db: Database, world: World, clock: object) -> None:
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)  # Berlin
        assert sam is not None
        sam.quiet_from, sam.quiet_to = 22 * 60, 7 * 60
    night = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    clock.set(night)  # type: ignore[attr-defined]
    await _notify(db, world.sam, "booking_moved", "🔁 Moved")
    await _notify(db, world.sam, "reminder_1h", "⏰ In an hour")  # asked for: goes now
    async with db.uow() as uow:
        rows = {r.kind: r.next_attempt_at for r in (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == world.sam.id))).all()}
    assert rows["booking_moved"] == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    assert rows["reminder_1h"] == night


async def test_certificate_email_carries_the_pdf(db: Database, world: World,
                                                 mail: MailEnv) -> None:
    await _verified(db, world.sam, SAM)
    pdf = b"%PDF-1.4 fake"
    await _notify(db, world.sam, "certificate_issued", "🎓 Congratulations!",
                  email_files=(Attachment("certificate-X.pdf", "application/pdf", pdf),))
    await mail.deliver()
    files = attachments_of(mail.server.one(SAM, "Congratulations"))
    assert files["certificate-X.pdf"] == ("application/pdf", pdf)


async def test_a_refused_address_is_given_up_and_a_down_server_retried(
        db: Database, world: World, mail: MailEnv, clock: object) -> None:
    mail.server.refuse.add("gone@example.org")
    async with db.uow() as uow:
        await queue_email(uow, "gone@example.org", "test", "Hello", "Hi")
        await queue_email(uow, SAM, "test", "Later", "Hi again")
    mail.server.down = True
    assert await mail.deliver() == 0
    async with db.uow() as uow:
        rows = {r.to_address: r for r in (await uow.session.scalars(select(EmailMessage))).all()}
    assert rows["gone@example.org"].failed_at is not None  # 550: for good
    assert rows[SAM].failed_at is None and rows[SAM].sent_at is None  # 451: again later
    mail.server.down = False
    assert await mail.deliver() == 0  # not due yet (back-off)
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert await mail.deliver() == 1 and [m["To"] for m in mail.server.received] == [SAM]


async def test_two_mailers_never_send_the_same_email_twice(
        db: Database, world: World, mail: MailEnv) -> None:
    import asyncio

    async with db.uow() as uow:
        for n in range(6):
            await queue_email(uow, f"p{n}@example.org", "test", f"Note {n}", "Hi")
    second = Mailer(db, mail.mailer.transport, SENDER, batch=2)
    sent = await asyncio.gather(mail.mailer.deliver_due(), second.deliver_due(),
                                second.deliver_due())
    sent_more = await mail.deliver()
    assert sum(sent) + sent_more == 6
    assert sorted(m["To"] for m in mail.server.received) == sorted(
        f"p{n}@example.org" for n in range(6))


async def test_folder_backend_writes_eml_files_instead_of_sending(
        db: Database, world: World, tmp_path: Path) -> None:
    async with db.uow() as uow:
        await queue_email(uow, SAM, "welcome", "Welcome to Alpha Peer", "Hello Sam")
    folder = Mailer(db, FolderTransport(tmp_path / "mail"), SENDER)
    assert await folder.deliver_due() == 1
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    assert b"Subject: Welcome to Alpha Peer" in eml.read_bytes()
