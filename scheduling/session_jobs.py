"""Live-session jobs: attendance polls, closing sessions, recordings, transcripts, /ask.

Provider and AI calls happen between units of work, never inside one; every row these
jobs act on is claimed first, so several processes can run them side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import select

from core.ai_port import AIError, Assistant
from core.assistant import claim_questions, save_answer, summary_prompt
from core.models import Booking, Course, User
from core.outage import log_failure
from core.outbox import queue
from core.recording import (
    NewRecording,
    claim_recordings,
    defer_recording,
    list_unrecorded_meetings,
    record_recording,
    save_transcript,
)
from core.uow import Database, UnitOfWork
from core.video import Closed, close_room, list_rooms_to_poll, record_presence
from core.video_port import VideoError, VideoProvider
from handlers.session_news import answer_message, recording_ready, session_result, summary_message

log = logging.getLogger("alphapeer.sessions")
POLL_CONCURRENCY = 8


async def poll_attendance(db: Database, video: VideoProvider) -> int:
    """Read who is in each running room and credit them; returns rooms polled."""
    if not video.tracks_attendance:
        return 0
    async with db.uow() as uow:
        rooms = await list_rooms_to_poll(uow, video.name)
    gate = asyncio.Semaphore(POLL_CONCURRENCY)

    async def poll(booking_id: int, meeting_id: str) -> bool:
        async with gate:
            try:
                info = await video.meeting_info(meeting_id)
            except VideoError as exc:
                log.warning("attendance of #%s not read: %s", booking_id, exc)
                return False
        async with db.uow() as uow:
            present = {a.user_id for a in info.attendees if a.user_id is not None}
            await record_presence(uow, booking_id, present)
        return True

    done = await asyncio.gather(*(poll(booking_id, meeting) for booking_id, meeting in rooms))
    return sum(done)


async def announce_closed(uow: UnitOfWork, closed: Closed) -> int:
    """Tell both people how the session went: a rating prompt, or the question."""
    b = closed.booking
    people = {u.id: u for u in (await uow.session.scalars(select(User).where(
        User.id.in_((b.student_id, b.teacher_id))))).all()}
    title = await uow.session.scalar(select(Course.title).where(Course.id == b.course_id))
    student, teacher = people[b.student_id], people[b.teacher_id]
    await queue(uow, [session_result(b, closed.outcome, closed.minutes, me, other, str(title))
                      for me, other in ((student, teacher), (teacher, student))])
    return 2


async def close_reported_end(db: Database, booking_id: int) -> bool:
    """The provider says the meeting ended: decide it from attendance and tell both people
    (once), unless it ended too early to tell."""
    async with db.uow() as uow:
        closed = await close_room(uow, booking_id, reported_end=True)
        if closed is None:
            return False
        await announce_closed(uow, closed)
    log.info("session #%s closed: %s", booking_id, closed.outcome)
    return True


async def announce_recording(uow: UnitOfWork, new: NewRecording) -> None:
    now = uow.clock.now()
    await queue(uow, [recording_ready(uow.settings, new.booking, new.recording.id, person, now)
                      for person in (new.student, new.teacher)])


async def reconcile_recordings(db: Database, video: VideoProvider) -> int:
    """Recordings whose ready-callback never arrived, found by asking the provider."""
    if not video.records:
        return 0
    async with db.uow() as uow:
        meetings = await list_unrecorded_meetings(uow, video.name)
    if not meetings:
        return 0
    try:
        found = await video.recordings(meetings)
    except VideoError as exc:
        log.warning("recordings not listed: %s", exc)
        return 0
    added = 0
    for info in found:
        if not info.published:
            continue
        async with db.uow() as uow:
            new = await record_recording(uow, video.name, info)
            if new is not None:
                await announce_recording(uow, new)
                added += 1
    return added


async def transcribe_recordings(db: Database, video: VideoProvider,
                                assistant: Assistant | None) -> int:
    """Download, transcribe and summarise claimed recordings; deliver the summary to both."""
    if assistant is None:
        return 0
    async with db.uow() as uow:
        claimed = await claim_recordings(uow)
    done = 0
    for item in claimed:
        try:
            audio = await video.download(item.media_url)
            body = await assistant.transcribe(audio, f"{item.record_id}.webm")
            summary = await assistant.complete(
                summary_prompt(item.course_title, item.module_title, body)) if body else None
        except (VideoError, AIError) as exc:
            log.warning("recording %s not transcribed: %s", item.recording_id, exc)
            async with db.uow() as uow:
                await defer_recording(uow, item.recording_id, str(exc), retryable=exc.retryable)
            continue
        async with db.uow() as uow:
            saved = await save_transcript(uow, item.recording_id, body, summary)
            booking = await uow.session.get(Booking, item.booking_id)
            if saved is None or booking is None:
                continue
            if summary:
                people = (await uow.session.scalars(select(User).where(
                    User.id.in_((booking.student_id, booking.teacher_id))))).all()
                await queue(uow, [summary_message(
                    uow.settings, booking, item.recording_id, person, item.course_title,
                    item.module_title, summary, uow.clock.now()) for person in people])
        done += 1
    return done


async def answer_questions(db: Database, assistant: Assistant | None) -> int:
    """Answer /ask questions waiting for the AI; the answer goes to the asker."""
    if assistant is None:
        return 0
    async with db.uow() as uow:
        claimed = await claim_questions(uow)
    answered = 0
    for item in claimed:
        answer, error, retryable = None, "", False
        try:
            answer = await assistant.complete(item.messages)
        except AIError as exc:
            error, retryable = str(exc), exc.retryable
            log.warning("question %s not answered: %s", item.id, exc)
        async with db.uow() as uow:
            row = await save_answer(uow, item.id, answer, error=error, retryable=retryable)
            if row is None:
                continue
            asker = await uow.session.get(User, row.user_id)
            assert asker is not None
            await queue(uow, [answer_message(asker, row.question, row.answer or "",
                                             failed=row.status == "failed")])
            answered += row.status == "answered"
    return answered


class QuestionWorker:
    """Answers /ask questions as soon as a turn commits one (woken), not at the next sweep."""

    def __init__(self, db: Database, assistant: Assistant,
                 wake_courier: Callable[[], None]) -> None:
        self.db = db
        self.assistant = assistant
        self.wake_courier = wake_courier
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 30.0) -> None:
        while True:
            try:
                if await answer_questions(self.db, self.assistant):
                    self.wake_courier()
            except Exception as exc:  # the database or the AI may be briefly away; next round
                log_failure(log, "answering questions failed", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
