"""/refund <session> [amount] [reason] (admin): refund all or part of what a session still
holds; the student, the teacher and the admins are told how much."""

from __future__ import annotations

from core.booking import find_booking_view
from core.errors import InvalidInput, NotFound
from core.escrow import held_amount, paid_payment, refund_paid, refund_unreleased, released_left
from core.models import User
from core.money import Money
from core.outbox import notify
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
    payment = await paid_payment(ctx.uow, booking.id)
    held = await held_amount(ctx.uow, booking)
    amount: Money | None = None
    rest = words[1:]
    if rest and rest[0][:1] in AMOUNT_START:  # "-5" or ".5" is a bad amount, not a reason
        try:
            amount = Money.parse(rest[0], booking.currency)
        except ValueError as exc:
            raise InvalidInput(f"{exc}. {USAGE}") from None
        rest = rest[1:]
    released = await released_left(ctx.uow, booking)
    if payment is None or not (held.minor or released.minor):
        raise InvalidInput(f"Session #{booking.id} has no paid money left to refund.")
    reason = " ".join(rest)[:150] or "refund by the admin"
    if amount is None and not held.minor:
        plain = str(released).replace(",", "")
        raise InvalidInput(f"Session #{booking.id}'s money was already released. To take up "
                           f"to {released} back from the payees and refund it, give the "
                           f"amount: /refund {booking.id} {plain} <reason>.")
    if amount is None or amount <= held:
        refunded = await refund_unreleased(ctx.uow, booking, payment, reason=reason,
                                           amount=amount)
        teacher = await ctx.uow.session.get(User, booking.teacher_id)
        assert teacher is not None
        await notify(ctx.uow, teacher, "refund_by_admin",
                     f"↩️ The admin refunded {refunded} of session #{booking.id} to "
                     f"{view.student_name} ({reason}). It comes out of the held money, not "
                     "your released earnings.")
        return [Reply(f"↩️ Refunding {refunded} of session #{booking.id} to "
                      f"{view.student_name}; {held - refunded} stays held. Student and teacher "
                      "are told.", tone="success")]
    refunded = await refund_paid(ctx.uow, booking, payment, amount, reason=reason)
    return [Reply(f"↩️ Refunding {refunded} of session #{booking.id} to {view.student_name}: "
                  f"{held} held and {refunded - held} taken back from the released shares "
                  "(payouts already sent are reversed first). Everyone involved is told.",
                  tone="success")]

COMMAND = Command("refund", "Refund a paid session, held or released (admin)", handler=refund,
                  roles=frozenset({"admin"}), args_hint="<session> [amount] [reason]")
