"""What people are told after a live session: attendance and the rating prompt, the
recording, the AI summary, and answers to /ask. All go through the outbox."""

from __future__ import annotations

from datetime import datetime

from core.config import Settings
from core.models import Booking, User
from core.outbox import OutButton, Outgoing
from core.review import STARS, star_label
from handlers import payload
from handlers.announce import followup_message
from handlers.links import recording_url

Buttons = tuple[tuple[OutButton, ...], ...]
WHY = {
    "partial": "Part of the session seems to be missing.",
    "student_no_show": "It looks like the student didn't come.",
    "teacher_no_show": "It looks like the teacher didn't come.",
    "no_show": "Neither of you was seen in the room.",
}


def _minutes(minutes: dict[int, int], user_id: int) -> str:
    spent = minutes.get(user_id)
    return "not seen in the room" if spent is None else f"{spent} min"


def rating_buttons(booking_id: int) -> Buttons:
    return (tuple(OutButton(star_label(n), action=payload.command("review", f"{booking_id} {n}"))
                  for n in STARS),)


def session_result(booking: Booking, outcome: str, minutes: dict[int, int], recipient: User,
                   other: User, course_title: str) -> Outgoing:
    """Completed: a rating prompt. Otherwise: the question whether it happened, so a
    person who was there can say so (contradicting answers go to the admin)."""
    seen = (f"The room saw you {_minutes(minutes, recipient.id)} and {other.display_name} "
            f"{_minutes(minutes, other.id)}.")
    if outcome == "completed":
        return Outgoing(recipient, "session_done",
                        f"✅ Session #{booking.id} ({course_title}) is complete. {seen}\n"
                        f"How would you rate it?", rating_buttons(booking.id))
    text, buttons = followup_message(booking, recipient, other, course_title)
    return Outgoing(recipient, "followup", f"{seen} {WHY[outcome]}\n{text}", buttons)


def recording_ready(settings: Settings, booking: Booking, recording_id: int, recipient: User,
                    now: datetime) -> Outgoing:
    link = recording_url(settings, recording_id, recipient.id, now)
    return Outgoing(recipient, "recording_ready",
                    f"🎥 The recording of session #{booking.id} is ready. It is private: this "
                    "link works only for you. A transcript and summary follow when they are "
                    "done.", ((OutButton("▶ Watch the recording", url=link),),))


def summary_message(settings: Settings, booking: Booking, recording_id: int, recipient: User,
                    course_title: str, module_title: str | None, summary: str,
                    now: datetime) -> Outgoing:
    module = f" · {module_title}" if module_title else ""
    link = recording_url(settings, recording_id, recipient.id, now)
    text = f"📝 Summary of session #{booking.id} — {course_title}{module}\n\n{summary}"
    return Outgoing(recipient, "session_summary", text[:1900],
                    ((OutButton("▶ Recording", url=link),
                      OutButton("🔎 Transcripts", action=payload.command("transcripts"))),))


def answer_message(recipient: User, question: str, answer: str, *, failed: bool) -> Outgoing:
    if failed:
        return Outgoing(recipient, "ai_answer",
                        f"Sorry, the assistant couldn't answer “{question[:200]}” just now. "
                        "Please try /ask again in a while, or ask your teacher.")
    return Outgoing(recipient, "ai_answer", f"🤖 {answer}"[:1900])
