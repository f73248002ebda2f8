"""Answers to "did your session happen?" (from the buttons sent after each session)."""

from __future__ import annotations

from core.followup import outcome, record_report
from core.models import User
from core.review import STARS, star_label
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply
from handlers.turn import parse_id

THANKS = {
    "completed": "✅ Thanks — both of you confirmed session #{id} happened.",
    "pending": "✅ Thanks — noted for session #{id}.",
    "student_no_show": "Noted: {other} didn't come to session #{id}. Our team will follow up.",
    "teacher_no_show": "Sorry {other} didn't come to session #{id}. Our team will follow up, "
                       "and you won't pay for a session that didn't happen.",
    "disputed": "Noted for session #{id}. You two remember it differently, so our team will "
                "look into it.",
}


async def attended(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    booking_id = parse_id(words[0]) if words else None
    if booking_id is None or len(words) != 2:
        return [Reply("Please answer with the buttons under the question.", tone="warning")]
    booking = await record_report(ctx.uow, ctx.user, booking_id, words[1])
    other = await ctx.uow.session.get(
        User, booking.teacher_id if ctx.user.id == booking.student_id else booking.student_id)
    assert other is not None
    result = outcome(booking)
    thanks = THANKS[result].format(id=booking.id, other=other.display_name)
    if words[1] != "held":
        return [Reply(thanks, tone="success", replace=ctx.clicked)]
    stars = tuple(Button(star_label(n), action=payload.command("review", f"{booking.id} {n}"))
                  for n in STARS)
    return [Reply(f"{thanks}\nHow would you rate it?", buttons=(stars,), tone="success",
                  replace=ctx.clicked)]


COMMAND = Command("attended", "Say whether a session happened", handler=attended, hidden=True)
