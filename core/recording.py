"""Recordings and transcripts: recorded once per provider id, transcribed by a leased job,
searchable by the people who were in the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.lease import lease, lease_free
from core.models import Booking, Course, CourseModule, Recording, Transcript, User, VideoRoom
from core.search import matching_ids, search_words
from core.uow import UnitOfWork
from core.video_port import RecordingInfo

LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 6
RECONCILE_DAYS = 7


@dataclass(frozen=True)
class NewRecording:
    recording: Recording
    booking: Booking
    student: User
    teacher: User


async def record_recording(uow: UnitOfWork, provider: str, info: RecordingInfo
                           ) -> NewRecording | None:
    """Store a recording the first time it is reported; None for repeats and for rooms
    that were not meant to record (nobody gets a link to those)."""
    room = (await uow.session.scalars(select(VideoRoom).where(
        VideoRoom.meeting_id == info.meeting_id, VideoRoom.provider == provider))).first()
    if room is None or not room.record:
        return None
    now = uow.clock.now()
    new_id = await uow.session.scalar(uow.insert(Recording).values(
        booking_id=room.booking_id, provider=provider, record_id=info.record_id,
        playback_url=info.playback_url, media_url=info.media_url, status="ready",
        created_at=now, next_attempt_at=now, attempts=0,
    ).on_conflict_do_nothing().returning(Recording.id))
    if new_id is None:
        return None
    recording = await uow.session.get(Recording, new_id)
    booking = await uow.session.get(Booking, room.booking_id)
    assert recording is not None and booking is not None
    student = await uow.session.get(User, booking.student_id)
    teacher = await uow.session.get(User, booking.teacher_id)
    assert student is not None and teacher is not None
    return NewRecording(recording, booking, student, teacher)


async def list_unrecorded_meetings(uow: UnitOfWork, provider: str) -> list[str]:
    """Recorded rooms of the last days with no recording yet (a callback may have been lost)."""
    since = uow.clock.now() - timedelta(days=RECONCILE_DAYS)
    has_recording = select(Recording.id).where(Recording.booking_id == VideoRoom.booking_id)
    return list((await uow.session.scalars(
        select(VideoRoom.meeting_id).where(
            VideoRoom.provider == provider, VideoRoom.record.is_(True),
            VideoRoom.closed_at.is_not(None), VideoRoom.closed_at >= since,
            ~has_recording.exists()).order_by(VideoRoom.closed_at).limit(100))).all())


@dataclass(frozen=True)
class Transcription:
    """A claimed recording and what the summary needs to know about its session."""

    recording_id: int
    media_url: str
    record_id: str
    booking_id: int
    course_title: str
    module_title: str | None


async def module_of(uow: UnitOfWork, booking: Booking) -> CourseModule | None:
    """The module a session covers: the student's n-th session of the course is module n."""
    before = await uow.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.student_id == booking.student_id, Booking.course_id == booking.course_id,
        Booking.kind == "lesson", Booking.status.in_(("confirmed", "completed")),
        Booking.starts_at < booking.starts_at))
    modules = list((await uow.session.scalars(select(CourseModule).where(
        CourseModule.course_id == booking.course_id).order_by(CourseModule.position))).all())
    if not modules or booking.kind != "lesson":
        return None
    return modules[min(int(before or 0), len(modules) - 1)]


async def claim_recordings(uow: UnitOfWork, *, limit: int = 5) -> list[Transcription]:
    """Recordings due for transcription, each leased so that one worker handles it."""
    now = uow.clock.now()
    ready = Recording.status == "ready"
    won = await lease(uow, Recording, select(Recording.id).where(
        ready, Recording.next_attempt_at <= now, lease_free(Recording.claimed_until, now))
        .order_by(Recording.next_attempt_at).limit(limit), ready, LEASE)
    claimed: list[Transcription] = []
    for recording_id in won:
        recording = await uow.session.get(Recording, recording_id, populate_existing=True)
        assert recording is not None
        booking = await uow.session.get(Booking, recording.booking_id)
        assert booking is not None
        title = await uow.session.scalar(select(Course.title).where(
            Course.id == booking.course_id))
        module = await module_of(uow, booking)
        claimed.append(Transcription(recording.id, recording.media_url, recording.record_id,
                                     booking.id, str(title), module.title if module else None))
    return claimed


async def save_transcript(uow: UnitOfWork, recording_id: int, body: str,
                          summary: str | None) -> Transcript | None:
    """Store the text and summary once; None if another worker already did."""
    recording = await uow.session.get(Recording, recording_id, with_for_update=True)
    if recording is None or recording.status != "ready":
        return None
    recording.status, recording.claimed_until, recording.last_error = "transcribed", None, None
    transcript = Transcript(recording_id=recording.id, booking_id=recording.booking_id,
                            body=body, summary=summary, created_at=uow.clock.now())
    uow.session.add(transcript)
    await uow.session.flush()
    return transcript


async def defer_recording(uow: UnitOfWork, recording_id: int, error: str, *,
                          retryable: bool) -> bool:
    """Try again later with growing pauses; False when it was given up."""
    recording = await uow.session.get(Recording, recording_id, with_for_update=True)
    if recording is None or recording.status != "ready":
        return False
    recording.claimed_until, recording.last_error = None, error[:300]
    if not retryable or recording.attempts >= MAX_ATTEMPTS:
        recording.status = "failed"
        return False
    recording.next_attempt_at = uow.clock.now() + timedelta(minutes=5 * 2 ** recording.attempts)
    return True


@dataclass(frozen=True)
class TranscriptHit:
    booking_id: int
    course_title: str
    starts_at: datetime
    snippet: str
    recording_id: int


def snippet(body: str, words: list[str], width: int = 160) -> str:
    """The passage around the first searched word (stems match, so look for a prefix)."""
    lowered = body.lower()
    spots = [lowered.find(w[: max(3, len(w) - 2)]) for w in words]
    found = min((s for s in spots if s >= 0), default=0)
    start = max(0, found - width // 3)
    text = " ".join(body[start:start + width].split())
    return ("…" if start else "") + text + ("…" if start + width < len(body) else "")


async def search_transcripts(uow: UnitOfWork, user: User, query: str, *, everyone: bool,
                             limit: int = 5) -> list[TranscriptHit]:
    """The person's own sessions' transcripts containing every word (the admin: all)."""
    words = search_words(query)
    if not words:
        return []
    hits = matching_ids(uow, "transcript", words).subquery()
    stmt = (select(Transcript, Booking.starts_at, Course.title)
            .join(hits, hits.c.id == Transcript.id)
            .join(Booking, Booking.id == Transcript.booking_id)
            .join(Course, Course.id == Booking.course_id)
            .order_by(hits.c.rank.desc() if uow.dialect == "postgresql" else hits.c.rank,
                      Transcript.id.desc())
            .limit(limit))
    if not everyone:
        stmt = stmt.where((Booking.student_id == user.id) | (Booking.teacher_id == user.id))
    rows = (await uow.session.execute(stmt)).all()
    return [TranscriptHit(t.booking_id, title, starts, snippet(t.body, words),
                          t.recording_id) for t, starts, title in rows]


async def recording_for(uow: UnitOfWork, recording_id: int, user: User, *, admin: bool
                        ) -> Recording | None:
    """A recording the person may watch: a participant of its session, or the admin."""
    recording = await uow.session.get(Recording, recording_id)
    if recording is None:
        return None
    booking = await uow.session.get(Booking, recording.booking_id)
    if booking is None or not (admin or user.id in (booking.student_id, booking.teacher_id)):
        return None
    return recording
