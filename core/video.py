"""Video rooms for sessions: who may join and when, what the room is, and who attended.

The provider is reached only by the web server and the scheduler (never inside a chat
turn): these functions decide and record; ``core.video_port`` describes the provider.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.db import is_valid_id
from core.errors import DomainError, NotFound
from core.models import Attendance, Booking, Course, User, VideoRoom
from core.uow import UnitOfWork
from core.video_port import MODERATOR, VIEWER, Joiner, Room, RoomSpec

LESSON_GRACE = timedelta(minutes=10)  # a lesson's room stays open a little past its end


class JoinRefused(DomainError):
    """Too early, too late, or not a session this person can join."""

    code = "join_refused"
    template = "{reason}"

    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason=reason)
        self.status = status  # the web page's HTTP status


def meeting_id_for(secret: str, booking_id: int) -> str:
    """Stable per booking and impossible to guess without the server's key."""
    digest = hmac.new(secret.encode(), f"room:{booking_id}".encode(), hashlib.sha256)
    return f"ap-{booking_id}-{digest.hexdigest()[:32]}"


def end_token(secret: str, booking_id: int) -> str:
    """Our own proof on the end-callback URL (the provider calls it unsigned)."""
    digest = hmac.new(secret.encode(), f"video-end:{booking_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def check_end_token(secret: str, booking_id: int, token: str) -> bool:
    return hmac.compare_digest(end_token(secret, booking_id), token)


@dataclass(frozen=True)
class JoinPlan:
    booking: Booking
    spec: RoomSpec
    joiner: Joiner


def room_closes(booking: Booking) -> datetime:
    """Intro rooms close at the intro's end; lessons get a few minutes' grace."""
    return booking.ends_at if booking.kind == "intro" else booking.ends_at + LESSON_GRACE


def room_spec(uow: UnitOfWork, booking: Booking, course_title: str) -> RoomSpec:
    settings = uow.settings
    base = settings.web.public_url.rstrip("/")
    secret = settings.secrets.secret_key
    now = uow.clock.now()
    closes = room_closes(booking)
    minutes = max(1, math.ceil((closes - max(now, booking.starts_at - timedelta(
        minutes=settings.video.opens_minutes_before))).total_seconds() / 60))
    if booking.kind == "intro":
        minutes = min(minutes, settings.video.intro_minutes + settings.video.opens_minutes_before)
    what = "Free intro" if booking.kind == "intro" else course_title
    return RoomSpec(
        meeting_id=meeting_id_for(secret, booking.id),
        name=f"{what} · session #{booking.id}",
        record=booking.student_records and booking.teacher_records,
        duration_minutes=minutes,
        # An intro is the visitor and the teacher; lessons leave room for the admin.
        max_participants=2 if booking.kind == "intro" else settings.video.max_participants,
        logout_url=f"{base}/video/left",
        end_callback_url=f"{base}/video/end/{booking.id}/{end_token(secret, booking.id)}",
        recording_ready_url=f"{base}/video/recording-ready",
        meta={"booking": str(booking.id), "kind": booking.kind},
    )


async def plan_join(uow: UnitOfWork, booking_id: int, user_id: int) -> JoinPlan:
    """Check the person and the time window; say how to open the room and join it."""
    booking = await uow.session.get(Booking, booking_id) if is_valid_id(booking_id) else None
    if booking is None or user_id not in (booking.student_id, booking.teacher_id):
        raise JoinRefused("This link is not for a session of yours.", status=404)
    if booking.status != "confirmed":
        raise JoinRefused(f"Session #{booking.id} is {booking.status}; there is nothing to join.",
                          status=410)
    now = uow.clock.now()
    opens = booking.starts_at - timedelta(minutes=uow.settings.video.opens_minutes_before)
    if now < opens:
        raise JoinRefused(f"The room for session #{booking.id} opens at {opens:%H:%M} UTC "
                          f"({uow.settings.video.opens_minutes_before} minutes before the "
                          "start). Come back then — the same link will work.", status=425)
    if now >= booking.ends_at:
        raise JoinRefused(f"Session #{booking.id} has ended.", status=410)
    person = await uow.session.get(User, user_id)
    title = await uow.session.scalar(select(Course.title).where(Course.id == booking.course_id))
    assert person is not None and title is not None
    role = MODERATOR if user_id == booking.teacher_id else VIEWER
    return JoinPlan(booking, room_spec(uow, booking, title),
                    Joiner(user_id, person.display_name, role))


async def save_room(uow: UnitOfWork, booking: Booking, provider: str, room: Room,
                    record: bool) -> Room:
    """Remember the opened room once; a racing second opener gets the first one's room."""
    values = {"booking_id": booking.id, "provider": provider, "meeting_id": room.meeting_id,
              "record": record, "create_time": room.create_time,
              "opened_at": uow.clock.now()}
    await uow.session.execute(uow.insert(VideoRoom).values(values).on_conflict_do_nothing())
    saved = await uow.session.get(VideoRoom, booking.id, populate_existing=True)
    assert saved is not None
    if saved.create_time != room.create_time and room.create_time:
        # The provider re-created the room (it had ended or was lost): newest time wins.
        saved.create_time = room.create_time
    return Room(saved.meeting_id, saved.create_time)


async def list_rooms_to_poll(uow: UnitOfWork, provider: str, *, limit: int = 200
                             ) -> list[tuple[int, str]]:
    """(booking id, meeting id) of rooms not closed yet whose sessions have started (or are
    about to)."""
    soon = uow.clock.now() + timedelta(minutes=uow.settings.video.opens_minutes_before)
    rows = (await uow.session.execute(
        select(VideoRoom.booking_id, VideoRoom.meeting_id)
        .join(Booking, Booking.id == VideoRoom.booking_id)
        .where(VideoRoom.closed_at.is_(None), VideoRoom.provider == provider,
               Booking.starts_at <= soon)
        .order_by(Booking.starts_at).limit(limit))).all()
    return [(booking_id, meeting_id) for booking_id, meeting_id in rows]


def _credit(previous: datetime | None, now: datetime, starts: datetime, ends: datetime) -> int:
    """Seconds between two polls that fall inside the session (capped: a missed poll is not
    counted as presence for longer than two intervals)."""
    if previous is None:
        return 0
    start, end = max(previous, starts), min(now, ends)
    return max(0, int((end - start).total_seconds()))


async def record_presence(uow: UnitOfWork, booking_id: int, present: set[int]) -> int:
    """One poll: credit the participants seen now with the time since the previous poll."""
    room = await uow.session.get(VideoRoom, booking_id, with_for_update=True)
    booking = await uow.session.get(Booking, booking_id)
    if room is None or booking is None or room.closed_at is not None:
        return 0
    now = uow.clock.now()
    cap = timedelta(seconds=2 * uow.settings.video.attendance_poll_seconds)
    previous = max(room.polled_at, now - cap) if room.polled_at else None
    room.polled_at = now
    participants = present & {booking.student_id, booking.teacher_id}
    rows = {a.user_id: a for a in (await uow.session.scalars(select(Attendance).where(
        Attendance.booking_id == booking_id))).all()}
    for user_id in participants:
        row = rows.get(user_id)
        if row is None:
            uow.session.add(Attendance(booking_id=booking_id, user_id=user_id,
                                       first_seen_at=now, last_seen_at=now, seconds=0))
            continue
        # Only time since a poll that also saw them counts (they may have left in between).
        since = previous if previous and row.last_seen_at >= previous else None
        row.seconds += _credit(since, now, booking.starts_at, booking.ends_at)
        row.last_seen_at = now
    return len(participants)


def decide_outcome(booking: Booking, seconds: dict[int, int], attended_pct: int) -> str:
    """completed, partial, student_no_show, teacher_no_show or no_show from minutes present."""
    student = seconds.get(booking.student_id)
    teacher = seconds.get(booking.teacher_id)
    if student is None and teacher is None:
        return "no_show"
    if student is None:
        return "student_no_show"
    if teacher is None:
        return "teacher_no_show"
    return ("completed" if min(student, teacher) >= needed(booking, attended_pct).total_seconds()
            else "partial")


def needed(booking: Booking, attended_pct: int) -> timedelta:
    """How long each person must be present for the session to count as attended."""
    return (booking.ends_at - booking.starts_at) * attended_pct / 100


@dataclass(frozen=True)
class Closed:
    booking: Booking
    outcome: str
    minutes: dict[int, int]


async def close_room(uow: UnitOfWork, booking_id: int, *, reported_end: bool = False
                     ) -> Closed | None:
    """Decide the session from attendance, once; None if already decided or not ours.

    A completed session completes the booking (the evidence for releasing its money);
    the others wait for the participants' answers or the admin. A meeting the provider
    reports ended (``reported_end``) before it could have been complete — everyone dropped
    out and may come back — is left to the after-session sweep.
    """
    booking = await uow.session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise NotFound("session")
    room = await uow.session.get(VideoRoom, booking_id, with_for_update=True)
    if room is not None and room.closed_at is not None:
        return None
    if booking.status != "confirmed":
        return None
    now = uow.clock.now()
    if reported_end and now < booking.starts_at + needed(booking,
                                                         uow.settings.video.attended_pct):
        return None
    seconds = dict((await uow.session.execute(select(Attendance.user_id, Attendance.seconds)
                                              .where(Attendance.booking_id == booking_id))).all())
    outcome = decide_outcome(booking, seconds, uow.settings.video.attended_pct)
    if room is not None:
        room.closed_at, room.outcome = now, outcome
    if booking.followup_at is None:
        booking.followup_at = now
    if outcome == "completed":
        booking.status = "completed"
    return Closed(booking, outcome, {k: round(v / 60) for k, v in seconds.items()})
