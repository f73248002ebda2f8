"""/reschedule [booking]: move a session to another free time (either side)."""

from __future__ import annotations

from core.booking import check_cancellable, get_booking_for, list_upcoming_bookings
from core.errors import DomainError, InvalidInput
from core.text import clean_reason
from handlers.commands.book import STEPS as BOOK_STEPS
from handlers.commands.book import slot_key
from handlers.context import Ctx
from handlers.display import when
from handlers.flow import Choice, Finish, Flow, Goto, Input, Next, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Reply, clip
from handlers.turn import parse_id

SHARED = {s.name: s for s in BOOK_STEPS}


async def _choose(ctx: Ctx, booking_id: int) -> None:
    booking = await get_booking_for(ctx.uow, ctx.user, booking_id)
    check_cancellable(ctx.uow, booking)
    ctx.data.update(moving=booking.id, course_id=booking.course_id,
                    teacher_id=booking.teacher_id, student_id=booking.student_id,
                    minutes=int((booking.ends_at - booking.starts_at).total_seconds() // 60),
                    **{"from": slot_key(booking.starts_at)})


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    if args.strip():
        number = parse_id(args)
        if number is None:
            raise InvalidInput("Booking numbers look like 12. Send /mybookings to see yours.")
        await _choose(ctx, number)
        return None
    if not await list_upcoming_bookings(ctx.uow, ctx.user, limit=1):
        return Finish((Reply("You have no upcoming sessions to move.", replace=ctx.clicked),))
    return None


async def ask_pick(ctx: Ctx) -> Prompt:
    views = await list_upcoming_bookings(ctx.uow, ctx.user, limit=4)
    return Prompt("Which session do you want to move?", tuple(
        (Choice(clip(f"#{v.booking.id} · {when(v.booking.starts_at, ctx.user)} · "
                     f"{v.course_title}", 80), str(v.booking.id)),) for v in views))


async def on_pick(ctx: Ctx, inp: Input) -> Outcome:
    number = parse_id(inp.value or inp.text or "")
    if number is None:
        return Reject("Tap the session you want to move.")
    try:
        await _choose(ctx, number)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_reason(ctx: Ctx) -> Prompt:
    return Prompt("It's less than a day before the session, so moving it now counts as a late "
                  "change. Please type a short reason — the other person will see it.")


async def on_reason(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["reason"] = clean_reason(inp.text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Goto("confirm")


FLOW = Flow(
    "reschedule",
    (
        Step("pick", ask_pick, on_pick, skip=lambda ctx: "moving" in ctx.data),
        SHARED["day"],
        SHARED["time"],
        SHARED["confirm"],
        Step("reason", ask_reason, on_reason, free_text=True),
    ),
    start=on_start,
    title="moving a session",
)
COMMAND = Command("reschedule", "Move a session to another time", flow=FLOW,
                  args_hint="[booking number]")
