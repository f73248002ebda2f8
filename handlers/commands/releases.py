"""/releases (admin): completed sessions whose held money can be released, one by one or
all at once, with totals; approving splits it and starts the payouts."""

from __future__ import annotations

from collections import defaultdict

from core.errors import InvalidInput, NotFound
from core.escrow import Releasable, list_releasable, release_booking
from core.money import Money
from core.timezone import format_local
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

SHOWN = 4
APPROVE_ALL_LIMIT = 100


def _totals(items: list[Releasable]) -> str:
    sums: dict[str, int] = defaultdict(int)
    for item in items:
        sums[item.amount.currency] += item.amount.minor
    return " + ".join(str(Money(m, c)) for c, m in sorted(sums.items())) or "nothing"


async def show_releases(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    note = ""
    if words and words[0] == "approve":
        booking_id = parse_id(words[1]) if len(words) == 2 else None
        if booking_id is None:
            raise NotFound("session")
        amount = await release_booking(ctx.uow, booking_id)
        note = f"✅ Released {amount} for session #{booking_id}; payouts started.\n\n"
    elif words and words[0] == "all":
        items = await list_releasable(ctx.uow, limit=APPROVE_ALL_LIMIT)
        if not items:
            raise InvalidInput("Nothing is waiting for release (someone may have just "
                               "approved it).")
        for item in items:
            await release_booking(ctx.uow, item.booking.id)
        note = f"✅ Released {len(items)} sessions, {_totals(items)}; payouts started.\n\n"
    elif words:
        raise InvalidInput("Use the buttons, or /releases to see the queue.")
    items = await list_releasable(ctx.uow, limit=APPROVE_ALL_LIMIT)
    if not items:
        return [Reply(f"{note}🧾 Nothing waiting for release. Sessions appear here once "
                      "completed, past the cooling-off period and not disputed.",
                      tone="success" if note else "info", replace=ctx.clicked)]
    lines = [f"{note}🧾 {len(items)} session(s) ready for release — {_totals(items)}:"]
    rows = []
    for item in items[:SHOWN]:
        b = item.booking
        lines.append(clip(f"#{b.id} · {item.amount} · {item.course_title} with "
                          f"{item.teacher_name} · ended "
                          f"{format_local(b.ends_at, ctx.user.timezone)}", 120))
        rows.append((Button(f"✅ Approve #{b.id} ({item.amount})",
                            action=payload.command("releases", f"approve {b.id}")),))
    if len(items) > SHOWN:
        lines.append(f"… and {len(items) - SHOWN} more.")
    rows.append((Button(f"✅ Approve all ({len(items)} · {clip(_totals(items), 30)})",
                        action=payload.command("releases", "all")),))
    return [Reply("\n".join(lines), tuple(rows), tone="success" if note else "info",
                  replace=ctx.clicked)]


COMMAND = Command("releases", "Approve releases of held funds", handler=show_releases,
                  roles=frozenset({"admin"}))
