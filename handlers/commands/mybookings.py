"""/mybookings: upcoming sessions, as a student and as a teacher."""

from __future__ import annotations

from core.booking import list_upcoming_bookings
from handlers import payload
from handlers.context import Ctx
from handlers.display import booking_line, zone_note
from handlers.links import pay_url
from handlers.registry import Command
from handlers.reply import Button, Reply

SHOWN = 4


async def show_bookings(ctx: Ctx, _args: str) -> list[Reply]:
    views = await list_upcoming_bookings(ctx.uow, ctx.user, limit=10)
    if not views:
        return [
            Reply(
                "You have no upcoming sessions.",
                ((Button("🗓 Book a session", action=payload.command("book")),),),
                replace=ctx.clicked,
            )
        ]
    lines = [f"📋 Your upcoming sessions ({zone_note(ctx.user)}):"]
    lines += [booking_line(v, ctx.user) for v in views]
    rows: list[tuple[Button, ...]] = []
    for view in views[:SHOWN]:
        b = view.booking
        row = [Button(f"✖ Cancel #{b.id}", action=payload.command("cancel", str(b.id))),
               Button(f"🔁 Move #{b.id}", action=payload.command("reschedule", str(b.id)))]
        if b.status == "held" and b.student_id == ctx.user.id:
            row.append(Button(f"💳 Pay #{b.id} · {b.price}", url=pay_url(ctx.settings, b)))
        rows.append(tuple(row))
    rows.append((Button("🗓 Book another", action=payload.command("book")),))
    return [Reply("\n".join(lines), tuple(rows), replace=ctx.clicked)]


COMMAND = Command("mybookings", "Your upcoming sessions", handler=show_bookings)
