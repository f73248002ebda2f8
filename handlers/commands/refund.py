"""/refund <session> [amount] [reason] (admin): refund all or part of what a session still
holds; the student, the teacher and the admins are told how much."""

from __future__ import annotations

from core.booking import find_booking_view
from core.errors import InvalidInput, NotFound
from core.escrow import refund_by_admin
from core.money import Money
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply
from handlers.turn import parse_id

AMOUNT_START = frozenset("0123456789.-+$€£¥")
USAGE = "Write /refund <session> [amount] [reason], e.g. /refund 12 15.00 half the lesson lost."


async def refund(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    booking_id = parse_id(words[0]) if words else None
    if booking_id is None:
        raise InvalidInput(USAGE)
    view = await find_booking_view(ctx.uow, booking_id)
    if view is None:
        raise NotFound("session")
    booking = view.booking
    amount: Money | None = None
    rest = words[1:]
    if rest and rest[0][:1] in AMOUNT_START:  # "-5" or ".5" is a bad amount, not a reason
        try:
            amount = Money.parse(rest[0], booking.currency)
        except ValueError as exc:
            raise InvalidInput(f"{exc}. {USAGE}") from None
        rest = rest[1:]
    reason = " ".join(rest)[:150] or "refund by the admin"
    done = await refund_by_admin(ctx.uow, booking, amount, reason=reason)
    if done.from_held == done.refunded:
        return [Reply(f"↩️ Refunding {done.refunded} of session #{booking.id} to "
                      f"{view.student_name}; {done.held_left} stays held. Student and teacher "
                      "are told.", tone="success")]
    return [Reply(f"↩️ Refunding {done.refunded} of session #{booking.id} to "
                  f"{view.student_name}: {done.from_held} held and "
                  f"{done.refunded - done.from_held} taken back from the released shares "
                  "(payouts already sent are reversed first). Everyone involved is told.",
                  tone="success")]

COMMAND = Command("refund", "Refund a paid session, held or released (admin)", handler=refund,
                  roles=frozenset({"admin"}), args_hint="<session> [amount] [reason]")
