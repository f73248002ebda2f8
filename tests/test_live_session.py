"""Live sessions over real HTTP: the join link, attendance from a simulated meeting, the
end and recording callbacks (forged ones refused), transcript → summary to both, ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from core.clock import FrozenClock
from core.models import Attendance, Booking, Recording, SessionReview, Transcript, VideoRoom
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from scheduling.jobs import send_followups
from scheduling.session_jobs import poll_attendance, transcribe_recordings
from tests.bbb_standin import sign_recording_callback
from tests.fakechat import FakeChat
from tests.video_env import VideoEnv, venv  # noqa: F401  (the "venv" fixture)
from tests.world import World

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 Berlin, Maya, 60 min


async def _meet(env: VideoEnv, clock: FrozenClock, world: World, booking: Booking, *,
                sam_leaves_after: int = 60) -> None:
    """Both join through their links 5 minutes early; polls every minute to the end."""
    clock.set(START - timedelta(minutes=5))
    for user in (world.sam, world.maya):
        status, landed, _ = await env.get(env.join(booking, user))
        assert status == 200 and "/client/" in landed
    for minute in range(-5, 61):
        clock.set(START + timedelta(minutes=minute))
        if minute == sam_leaves_after:
            await env.bbb.leave(env.meeting(booking), booking.student_id)
        await poll_attendance(env.db, env.video)


async def test_join_link_refuses_early_strangers_and_forgeries_then_redirects_in_time(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    booking = await venv.book(world, START)
    clock.set(START - timedelta(minutes=16))
    status, body = await venv.first_hop(venv.join(booking, world.sam))
    assert status == 425 and "opens at 08:45" in body
    status, body = await venv.first_hop(venv.join(booking, world.lee))  # not a participant
    assert status == 404 and "not for a session of yours" in body
    status, _ = await venv.first_hop(venv.join(booking, world.sam)[:-3] + "xyz")
    assert status == 404
    assert not venv.bbb.calls  # nothing reached the video server

    clock.set(START - timedelta(minutes=14))
    status, location = await venv.first_hop(venv.join(booking, world.sam))
    assert status == 302 and location.startswith(venv.bbb.api_url + "api/join?")
    query = parse_qs(urlsplit(location).query)
    assert query["role"] == ["VIEWER"] and query["userID"] == [str(world.sam.id)]
    assert query["meetingID"] == [venv.meeting(booking)] and "checksum" in query
    status, location = await venv.first_hop(venv.join(booking, world.maya))
    teacher = parse_qs(urlsplit(location).query)
    assert teacher["role"] == ["MODERATOR"] and teacher["createTime"] == query["createTime"]
    status, landed, _ = await venv.get(location)  # the stand-in verifies the checksum
    assert status == 200 and "/client/" in landed
    creates = [params for call, params in venv.bbb.calls if call == "create"]
    assert len(creates) == 2 and creates[0]["record"] == "true"  # idempotent create
    assert creates[0]["meta_endCallbackUrl"].startswith(f"{venv.base}/video/end/{booking.id}/")

    clock.set(START + timedelta(minutes=60))
    status, body = await venv.first_hop(venv.join(booking, world.sam))
    assert status == 410 and "has ended" in body


async def test_simulated_meeting_gives_attendance_rating_prompt_recording_and_summary(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    booking = await venv.book(world, START)
    await _meet(venv, clock, world, booking)
    async with venv.db.uow() as uow:
        minutes = {a.user_id: a.seconds // 60 for a in (await uow.session.scalars(
            select(Attendance).where(Attendance.booking_id == booking.id))).all()}
    assert minutes[world.sam.id] >= 58 and minutes[world.maya.id] >= 58

    clock.set(START + timedelta(minutes=61))
    venv.ai.transcripts[b"decorator lesson audio"] = (
        "We wrote a decorator that times a function and talked about closures.")
    record_id = await venv.bbb.finish(venv.meeting(booking), media=b"decorator lesson audio")
    assert ("end", 200) in venv.bbb.callback_statuses
    assert ("recording_ready", 200) in venv.bbb.callback_statuses
    async with venv.db.uow() as uow:
        room = await uow.session.get(VideoRoom, booking.id)
        stored = await uow.session.get(Booking, booking.id)
        recording = (await uow.session.scalars(select(Recording))).one()
    assert room is not None and room.outcome == "completed"
    assert stored is not None and stored.status == "completed"  # the release evidence
    assert recording.record_id == record_id
    for person in (world.sam, world.maya):
        texts = [m.text for m in await venv.outbox(person)]
        assert any("is complete" in t and "How would you rate it?" in t for t in texts)
        assert any("recording of session" in t for t in texts)

    assert await transcribe_recordings(venv.db, venv.video, venv.assistant) == 1
    assert await transcribe_recordings(venv.db, venv.video, venv.assistant) == 0
    chat = next(body for path, body in venv.ai.requests if path.endswith("/chat/completions"))
    assert "Python from Zero" in chat["messages"][0]["content"]
    assert "Basics" in chat["messages"][0]["content"]  # the module this session covered
    for person in (world.sam, world.maya):
        summary = (await venv.outbox(person))[-1]
        assert summary.kind == "session_summary" and "Summary of session" in summary.text

    sam = FakeChat(Dispatcher(venv.db, build_registry()), "sam")
    await sam.send("/transcripts decorators")
    assert f"#{booking.id}" in sam.text and "decorator" in sam.text
    link = sam.url(f"▶ Recording #{booking.id}")
    status, location = await venv.first_hop(link)
    assert status == 302 and record_id in location
    lee = FakeChat(Dispatcher(venv.db, build_registry()), "lee")
    await lee.send("/transcripts decorators")
    assert "No transcript" in lee.text  # not Lee's session

    await sam.press(next(m for m in await venv.outbox(world.sam) if m.kind == "session_done")
                    .buttons[0][4]["action"])
    await sam.send("Decorators and closures")
    await sam.click("Skip")
    assert "Review saved" in sam.text
    async with venv.db.uow() as uow:
        review = (await uow.session.scalars(select(SessionReview))).one()
    assert review.stars == 5 and review.covered == "Decorators and closures"


async def test_forged_end_and_recording_callbacks_change_nothing(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    booking = await venv.book(world, START)
    clock.set(START - timedelta(minutes=5))
    await venv.get(venv.join(booking, world.sam))
    clock.set(START + timedelta(minutes=59))
    status, _, _ = await venv.get(f"{venv.base}/video/end/{booking.id}/{'0' * 40}")
    assert status == 403
    real = urlsplit(next(p for c, p in venv.bbb.calls if c == "create")["meta_endCallbackUrl"])
    status, _, body = await venv.get(f"{venv.base}{real.path}")  # genuine token, still running
    assert status == 200 and body == "still running"
    forged = sign_recording_callback("not-the-shared-secret-but-just-as-long",
                                     venv.meeting(booking), "rec-1")
    async with venv.http.post(f"{venv.base}/video/recording-ready",
                              data={"signed_parameters": forged}) as resp:
        assert resp.status == 401
    async with venv.http.post(f"{venv.base}/video/recording-ready",
                              data={"signed_parameters": "garbage"}) as resp:
        assert resp.status == 401
    async with venv.db.uow() as uow:
        room = await uow.session.get(VideoRoom, booking.id)
        assert room is not None and room.closed_at is None
        assert (await uow.session.scalars(select(Recording))).first() is None
        assert (await uow.session.scalars(select(Transcript))).first() is None


async def test_partial_and_no_show_sessions_ask_both_people_instead_of_completing(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    booking = await venv.book(world, START)
    await _meet(venv, clock, world, booking, sam_leaves_after=20)
    clock.set(START + timedelta(minutes=71))
    assert await send_followups(venv.db, venv.video) == 1
    async with venv.db.uow() as uow:
        room = await uow.session.get(VideoRoom, booking.id)
        stored = await uow.session.get(Booking, booking.id)
    assert room is not None and room.outcome == "partial"
    assert stored is not None and stored.status == "confirmed"  # no release without answers
    sam_last = (await venv.outbox(world.sam))[-1]
    assert "Part of the session seems to be missing" in sam_last.text
    assert "It happened" in sam_last.buttons[0][0]["label"]

    later = START + timedelta(days=1)
    second = await venv.book(world, later, teacher_records=False)
    clock.set(later + timedelta(minutes=71))
    assert await send_followups(venv.db, venv.video) == 1
    assert "Neither of you was seen" in (await venv.outbox(world.maya))[-1].text
    async with venv.db.uow() as uow:
        assert (await uow.session.get(Booking, second.id)).status == "confirmed"  # type: ignore[union-attr]


async def test_late_recording_callback_is_found_by_reconciliation_once(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    from scheduling.session_jobs import reconcile_recordings

    booking = await venv.book(world, START)
    await _meet(venv, clock, world, booking)
    clock.set(START + timedelta(minutes=61))
    venv.bbb.meetings[venv.meeting(booking)].params["meta_bbb-recording-ready-url"] = (
        "http://127.0.0.1:9/lost")  # the callback never reaches us
    await venv.bbb.finish(venv.meeting(booking))
    assert await reconcile_recordings(venv.db, venv.video) == 1
    assert await reconcile_recordings(venv.db, venv.video) == 0
