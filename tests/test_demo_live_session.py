"""Issue 6's "done when", on the demo data: the booked session's join button redirects (in
the window) to a correctly signed BBB join URL; after a simulated meeting and recording
both people get a rating prompt and then the AI summary."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from alphapeer.demo import seed_demo
from core.clock import FrozenClock
from core.models import Booking, OutboxMessage, User
from scheduling.jobs import send_due_reminders, send_followups
from scheduling.session_jobs import poll_attendance, transcribe_recordings
from tests.video_env import VideoEnv, venv  # noqa: F401  (the "venv" fixture)


async def _join_button(env: VideoEnv, user: User) -> str:
    async with env.db.uow() as uow:
        last = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == "reminder_15m"))).one()
    return str(last.buttons[0][0]["url"])


async def test_demo_session_joins_bbb_then_rating_prompt_then_summary(
        venv: VideoEnv, clock: FrozenClock) -> None:  # noqa: F811
    assert await seed_demo(venv.db)
    async with venv.db.uow() as uow:
        booking = (await uow.session.scalars(select(Booking).where(
            Booking.starts_at > clock.now()))).one()
        sam = await uow.session.get(User, booking.student_id)
        maya = await uow.session.get(User, booking.teacher_id)
    assert sam is not None and maya is not None
    assert booking.student_records and booking.teacher_records

    clock.set(booking.starts_at - timedelta(minutes=15))
    assert await send_due_reminders(venv.db) == 2
    for person, role in ((sam, "VIEWER"), (maya, "MODERATOR")):
        status, location = await venv.first_hop(await _join_button(venv, person))
        assert status == 302
        query = parse_qs(urlsplit(location).query)
        assert query["role"] == [role] and query["userID"] == [str(person.id)]
        status, landed, _ = await venv.get(location)  # the BBB stand-in checks the checksum
        assert status == 200 and "/client/" in landed

    minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
    for minute in range(0, minutes + 1):
        clock.set(booking.starts_at + timedelta(minutes=minute))
        await poll_attendance(venv.db, venv.video)
    clock.set(booking.ends_at + timedelta(minutes=1))
    await venv.bbb.finish(venv.meeting(booking))
    clock.set(booking.ends_at + timedelta(minutes=15))
    assert await send_followups(venv.db, venv.video) == 0  # already closed by the callback
    assert await transcribe_recordings(venv.db, venv.video, venv.assistant) == 1
    for person in (sam, maya):
        kinds = [m.kind for m in await venv.outbox(person)]
        assert kinds.index("session_done") < kinds.index("session_summary")
        assert "recording_ready" in kinds
