"""/earnings (teachers, creators): held, released, on its way and paid out, as a bar and a
statement with a running balance."""

from __future__ import annotations

from core.earnings import Earnings, get_earnings
from core.timezone import format_local
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply

BAR = 20
KINDS = {"release": "released", "payout_request": "payout started",
         "late_cancel_charge": "late-cancel charge"}


def bar(e: Earnings) -> str:
    """One 20-cell bar: ▓ paid out, ▒ on its way or released, ░ still held."""
    total = max(e.total.minor, 1)
    paid = round(BAR * max(e.paid_out.minor, 0) / total)
    moving = round(BAR * max(e.on_its_way.minor + e.released.minor, 0) / total)
    return "▓" * paid + "▒" * moving + "░" * max(BAR - paid - moving, 0)


async def show_earnings(ctx: Ctx, args: str) -> list[Reply]:
    e = await get_earnings(ctx.uow, ctx.user)
    if not e.total.minor and not e.statement:
        return [Reply("💰 No earnings yet. When a session you teach (or one of your course's "
                      "sessions) is paid, its share shows here as held, then released after "
                      "the session, then paid out.", replace=ctx.clicked)]
    lines = [f"💰 Your earnings ({e.currency})",
             f"Held until sessions complete: {e.held}",
             f"Released, not yet paid out:   {e.released}",
             f"Payouts on their way:         {e.on_its_way}",
             f"Paid out:                     {e.paid_out}"]
    pre = ""
    if e.total.minor > 0:
        pre = f"{bar(e)}  {e.total}\n▓ paid  ▒ released / on its way  ░ held"
    if e.statement:
        lines.append("\nStatement (running balance of released money):")
        for s in e.statement:
            what = KINDS.get(s.kind, s.kind.replace("_", " "))
            session = f" #{s.booking_id}" if s.booking_id else ""
            lines.append(f"{format_local(s.at, ctx.user.timezone)} · {what}{session} · "
                         f"{'+' if s.amount.minor > 0 else ''}{s.amount} → {s.balance}")
    return [Reply("\n".join(lines), pre=pre, replace=ctx.clicked)]


COMMAND = Command("earnings", "Your earnings: held, released, paid out",
                  handler=show_earnings, roles=frozenset({"teacher", "creator"}))
