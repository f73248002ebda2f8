"""What people are told about bookings: the booker's confirmation, the other side's
notification, calendar invites, and reminders. Messages to others go through the outbox."""

from __future__ import annotations

from datetime import datetime

from core.config import Settings
from core.invite import InviteFacts, file_name, invite
from core.models import Booking, Course, User
from core.outbox import OutButton, notify
from core.reminder import DueReminder
from core.timezone import format_local
from core.uow import UnitOfWork
from handlers import payload
from handlers.context import Ctx
from handlers.links import join_url
from handlers.reply import Button, Reply

MY_BOOKINGS = OutButton("📋 My bookings", action=payload.command("mybookings"))


def _what(booking: Booking) -> str:
    return "free intro" if booking.kind == "intro" else "session"


async def _facts(uow: UnitOfWork, booking: Booking) -> tuple[InviteFacts, User, User]:
    course = await uow.session.get(Course, booking.course_id)
    teacher = await uow.session.get(User, booking.teacher_id)
    student = await uow.session.get(User, booking.student_id)
    assert course and teacher and student
    return (InviteFacts(booking, course.title, teacher.display_name, student.display_name),
            teacher, student)


def _invite_reply(facts: InviteFacts, body: str, *, cancelled: bool) -> Reply:
    text = ("🗓 Remove it from your calendar (open the file)." if cancelled
            else "🗓 Add it to your calendar (open the file).")
    return Reply(text, file_name=file_name(facts.booking), file=body.encode())


def video_note(settings: Settings, booking: Booking) -> str:
    """What the video room will and won't do, said before the session."""
    if settings.video.provider != "bbb":
        return ("🎥 Video by a private Jitsi room: no recording and no attendance tracking, "
                "so afterwards you'll both be asked whether it happened.")
    if booking.student_records and booking.teacher_records:
        return "🎥 Recorded (you both agreed): transcript and AI summary afterwards."
    return "🎥 Not recorded. Attendance in the room is measured and confirms the session."


async def booked_reply(ctx: Ctx, booking: Booking) -> list[Reply]:
    """Confirmation and calendar invite for the booker; the teacher gets both by outbox."""
    facts, teacher, _student = await _facts(ctx.uow, booking)
    ics = invite(facts, ctx.uow.clock.now())
    await notify(ctx.uow, teacher, "booking_confirmed",
                 f"🆕 {ctx.user.display_name} booked a {_what(booking)} with you: "
                 f"{facts.course_title}, {format_local(booking.starts_at, teacher.timezone)} "
                 f"(your time), #{booking.id}.", ((MY_BOOKINGS,),),
                 attachment=(file_name(booking), ics))
    confirmation = Reply(
        f"✅ Booked your {_what(booking)} #{booking.id}: {facts.course_title} with "
        f"{teacher.display_name}, {format_local(booking.starts_at, ctx.user.timezone)} "
        "(your time).\nI'll remind you 24 hours and 1 hour before, and send a join button "
        f"15 minutes before it starts.\n{video_note(ctx.settings, booking)}",
        ((Button("📋 My bookings", action=payload.command("mybookings")),),),
        tone="success", replace=ctx.clicked)
    await _email_copy(ctx, "booking_confirmed", confirmation.text, booking, ics)
    return [confirmation, _invite_reply(facts, ics, cancelled=False)]


async def _email_copy(ctx: Ctx, kind: str, text: str, booking: Booking, ics: str | None
                      ) -> None:
    """The person acting saw it in chat; their email (if they take bookings by email) gets
    the invite too, so a calendar fed by email stays in step."""
    await notify(ctx.uow, ctx.user, kind, text,
                 attachment=(file_name(booking), ics) if ics else None, chat=False)


async def cancelled_replies(ctx: Ctx, booking: Booking, was_confirmed: bool) -> list[Reply]:
    """Tell the other person; both get a calendar cancellation if it had been confirmed."""
    facts, teacher, student = await _facts(ctx.uow, booking)
    other = teacher if ctx.user.id == booking.student_id else student
    late = " (a late cancellation)" if booking.late_cancel else ""
    reason = f"\nReason: {booking.cancel_reason}" if booking.cancel_reason else ""
    ics = invite(facts, ctx.uow.clock.now(), cancelled=True) if was_confirmed else None
    await notify(ctx.uow, other, "booking_cancelled",
                 f"✖ {ctx.user.display_name} cancelled {_what(booking)} #{booking.id}{late}: "
                 f"{facts.course_title}, {format_local(booking.starts_at, other.timezone)} "
                 f"(your time).{reason}", ((MY_BOOKINGS,),),
                 attachment=(file_name(booking), ics) if ics else None)
    await _email_copy(ctx, "booking_cancelled",
                      f"✖ You cancelled {_what(booking)} #{booking.id}: {facts.course_title}, "
                      f"{format_local(booking.starts_at, ctx.user.timezone)} (your time).",
                      booking, ics)
    return [_invite_reply(facts, ics, cancelled=True)] if ics else []


def reminder_message(
    due: DueReminder, settings: Settings
) -> tuple[str, tuple[tuple[OutButton, ...], ...]]:
    b = due.booking
    when = format_local(b.starts_at, due.recipient.timezone)
    role = "with" if due.recipient.id == b.student_id else "teaching"
    what = f"{due.course_title} {role} {due.other.display_name} (#{b.id})"
    if due.kind == "15m":
        link = join_url(settings, b, due.recipient.id)
        return (f"🎥 Starting in 15 minutes: {what}.",
                ((OutButton("🎥 Join now", url=link),), (MY_BOOKINGS,)))
    lead = "Tomorrow" if due.kind == "24h" else "In 1 hour"
    return f"⏰ {lead}, {when} (your time): {what}.", ((MY_BOOKINGS,),)


async def rescheduled_replies(ctx: Ctx, booking: Booking, old_start: datetime) -> list[Reply]:
    """Both people learn the old and the new time; both get the updated invite."""
    facts, teacher, student = await _facts(ctx.uow, booking)
    other = teacher if ctx.user.id == booking.student_id else student
    ics = invite(facts, ctx.uow.clock.now()) if booking.status == "confirmed" else None
    await notify(ctx.uow, other, "booking_moved",
                 f"🔁 {ctx.user.display_name} moved {_what(booking)} #{booking.id} "
                 f"({facts.course_title}) from {format_local(old_start, other.timezone)} "
                 f"to {format_local(booking.starts_at, other.timezone)} (your time).",
                 ((MY_BOOKINGS,),), attachment=(file_name(booking), ics) if ics else None)
    done = Reply(f"🔁 Moved #{booking.id} from {format_local(old_start, ctx.user.timezone)} "
                 f"to {format_local(booking.starts_at, ctx.user.timezone)} (your time). "
                 f"{other.display_name} has been told.", tone="success", replace=ctx.clicked)
    await _email_copy(ctx, "booking_moved", done.text, booking, ics)
    return [done, _invite_reply(facts, ics, cancelled=False)] if ics else [done]


async def rebooked_note(ctx: Ctx, booking: Booking) -> str:
    """A new hold soon after cancelling with the same teacher counts as a reschedule:
    the teacher is told old → new; the student sees a note."""
    if booking.rescheduled_from is None:
        return ""
    earlier = await ctx.uow.session.get(Booking, booking.rescheduled_from)
    teacher = await ctx.uow.session.get(User, booking.teacher_id)
    assert earlier is not None and teacher is not None
    await notify(ctx.uow, teacher, "booking_moved",
                 f"🔁 {ctx.user.display_name} rebooked #{earlier.id} as #{booking.id}: "
                 f"{format_local(earlier.starts_at, teacher.timezone)} → "
                 f"{format_local(booking.starts_at, teacher.timezone)} (your time), "
                 "awaiting payment.", ((MY_BOOKINGS,),))
    return (f"\nThis counts as moving #{earlier.id} "
            f"({format_local(earlier.starts_at, ctx.user.timezone)}), which you cancelled "
            "a moment ago.")


def followup_message(booking: Booking, recipient: User, other: User,
                     course_title: str) -> tuple[str, tuple[tuple[OutButton, ...], ...]]:
    """Asked of both people right after a session: did it happen?"""
    ask = payload.command
    return (f"How did session #{booking.id} go — {course_title} "
            f"{'with' if recipient.id == booking.student_id else 'teaching'} "
            f"{other.display_name}, {format_local(booking.starts_at, recipient.timezone)}?",
            ((OutButton("✅ It happened", action=ask("attended", f"{booking.id} held")),
              OutButton(f"🚫 {other.display_name[:40]} didn't come",
                        action=ask("attended", f"{booking.id} no_show"))),))
