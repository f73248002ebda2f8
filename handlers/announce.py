"""What people are told about bookings: the booker's confirmation, the other side's
notification, and reminders. Messages to others go through the outbox."""

from __future__ import annotations

from core.config import Settings
from core.models import Booking, User
from core.outbox import OutButton, notify
from core.reminder import DueReminder
from core.timezone import format_local
from handlers import payload
from handlers.context import Ctx
from handlers.links import join_url
from handlers.reply import Button, Reply

MY_BOOKINGS = OutButton("📋 My bookings", action=payload.command("mybookings"))


def _what(booking: Booking) -> str:
    return "free intro" if booking.kind == "intro" else "session"


async def booked_reply(ctx: Ctx, booking: Booking, course_title: str) -> Reply:
    """Confirmation for the person who booked; the teacher hears of it through the outbox."""
    teacher = await ctx.uow.session.get(User, booking.teacher_id)
    assert teacher is not None
    await notify(
        ctx.uow,
        teacher,
        "booking_confirmed",
        f"🆕 {ctx.user.display_name} booked a {_what(booking)} with you: "
        f"{course_title}, {format_local(booking.starts_at, teacher.timezone)} "
        f"(your time), #{booking.id}.",
        ((MY_BOOKINGS,),),
    )
    return Reply(
        f"✅ Booked your {_what(booking)} #{booking.id}: {course_title} with "
        f"{teacher.display_name}, {format_local(booking.starts_at, ctx.user.timezone)} "
        "(your time).\nI'll remind you 24 hours and 1 hour before, and send a join button "
        "15 minutes before it starts.",
        ((Button("📋 My bookings", action=payload.command("mybookings")),),),
        tone="success",
        replace=ctx.clicked,
    )


def reminder_message(
    due: DueReminder, settings: Settings
) -> tuple[str, tuple[tuple[OutButton, ...], ...]]:
    b = due.booking
    when = format_local(b.starts_at, due.recipient.timezone)
    role = "with" if due.recipient.id == b.student_id else "teaching"
    what = f"{due.course_title} {role} {due.other.display_name} (#{b.id})"
    if due.kind == "15m":
        link = join_url(settings, b, due.recipient.id)
        return (
            f"🎥 Starting in 15 minutes: {what}.",
            ((OutButton("🎥 Join now", url=link),), (MY_BOOKINGS,)),
        )
    lead = "Tomorrow" if due.kind == "24h" else "In 1 hour"
    return f"⏰ {lead}, {when} (your time): {what}.", ((MY_BOOKINGS,),)
