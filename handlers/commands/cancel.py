"""/cancel [booking]: cancel a session; late cancellations ask for a reason."""

from __future__ import annotations

from core.booking import (
    cancel_booking,
    check_cancellable,
    get_booking_for,
    get_booking_view,
    is_late_cancel,
    list_upcoming_bookings,
)
from core.errors import DomainError, InvalidInput, NotFound, ReasonRequired
from core.text import clean_reason
from handlers.announce import cancelled_replies
from handlers.context import Ctx
from handlers.display import booking_line, when
from handlers.flow import (
    Cancel,
    Choice,
    Finish,
    Flow,
    Goto,
    Input,
    Next,
    Outcome,
    Prompt,
    Reject,
    Step,
)
from handlers.registry import Command
from handlers.reply import Reply, clip
from handlers.turn import parse_id

MAX_LISTED = 4


def _booking_id(text: str) -> int:
    number = parse_id(text)
    if number is not None:
        return number
    if text.strip().removeprefix("#").isascii() and text.strip().removeprefix("#").isdigit():
        raise NotFound("booking")  # a number, just not one of anybody's bookings
    raise InvalidInput("Booking numbers look like 12. Send /mybookings to see yours.")


async def _choose(ctx: Ctx, booking_id: int) -> None:
    booking = await get_booking_for(ctx.uow, ctx.user, booking_id)
    check_cancellable(ctx.uow, booking)
    ctx.data["booking_id"] = booking.id
    ctx.data["late"] = is_late_cancel(ctx.uow, booking)


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    if args.strip():
        await _choose(ctx, _booking_id(args))
        return None
    if not await list_upcoming_bookings(ctx.uow, ctx.user, limit=1):
        return Finish((Reply("You have no upcoming sessions to cancel.", replace=ctx.clicked),))
    return None


async def ask_pick(ctx: Ctx) -> Prompt:
    views = await list_upcoming_bookings(ctx.uow, ctx.user, limit=MAX_LISTED)
    rows = tuple(
        (
            Choice(
                clip(
                    f"#{v.booking.id} · {when(v.booking.starts_at, ctx.user)} · {v.course_title}",
                    80,
                ),
                str(v.booking.id),
            ),
        )
        for v in views
    )
    return Prompt("Which session do you want to cancel?", rows)


async def on_pick(ctx: Ctx, inp: Input) -> Outcome:
    try:
        await _choose(ctx, _booking_id(inp.value or inp.text or ""))
    except DomainError as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_reason(ctx: Ctx) -> Prompt:
    hours = ctx.settings.booking.late_cancel_hours
    return Prompt(
        f"This session starts in less than {hours} hours, so cancelling now counts as "
        "a late cancellation. Please type a short reason — the other person will "
        "see it."
    )


async def on_reason(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["reason"] = clean_reason(inp.text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_confirm(ctx: Ctx) -> Prompt:
    view = await get_booking_view(ctx.uow, ctx.user, int(ctx.data["booking_id"]))
    reason = f"\nReason: {ctx.data['reason']}" if ctx.data.get("reason") else ""
    return Prompt(
        f"Cancel this session?\n\n{booking_line(view, ctx.user)}{reason}",
        ((Choice("Yes, cancel it", "ok"), Choice("No, keep it", "keep")),),
        cancel=False,
    )


async def on_confirm(ctx: Ctx, inp: Input) -> Outcome:
    booking_id = int(ctx.data["booking_id"])
    if inp.value == "keep":
        return Cancel(f"Kept session #{booking_id}. Nothing was changed.")
    if inp.value != "ok":
        return Reject("Tap “Yes, cancel it” or “No, keep it”.")
    booking = await get_booking_for(ctx.uow, ctx.user, booking_id)
    unpaid, confirmed = booking.status == "held", booking.status == "confirmed"
    try:
        done = await cancel_booking(ctx.uow, ctx.user, booking_id, ctx.data.get("reason"))
    except ReasonRequired as exc:  # the clock moved into the late window meanwhile
        ctx.data["late"] = True
        return Goto("reason", note=f"⚠️ {exc.user_message}")
    files = await cancelled_replies(ctx, booking, was_confirmed=confirmed)
    late = " It was recorded as a late cancellation." if booking.late_cancel else ""
    money = " No payment had been taken." if unpaid else ""
    back = done.refunded
    if back.minor:
        money = (f" Refunding {back} to the card you paid with — a receipt follows."
                 if ctx.user.id == booking.student_id else f" The student gets {back} back.")
    said = Reply(f"Cancelled session #{booking_id}.{late}{money}", tone="success",
                 replace=ctx.clicked)
    return Finish((said, *files))


FLOW = Flow(
    "cancel",
    (
        Step("pick", ask_pick, on_pick, skip=lambda ctx: "booking_id" in ctx.data),
        Step(
            "reason",
            ask_reason,
            on_reason,
            skip=lambda ctx: not ctx.data.get("late"),
            free_text=True,
        ),
        Step("confirm", ask_confirm, on_confirm),
    ),
    start=on_start,
    title="cancelling",
)

COMMAND = Command(
    "cancel",
    "Cancel a booked session (or stop what you're doing)",
    flow=FLOW,
    args_hint="[booking number]",
)
