"""/outbox (admin): messages that keep failing to reach people, with a retry button."""

from __future__ import annotations

from core.errors import NotFound
from core.linking import platform_name
from core.outbox import outbox_health, retry_failed
from core.timezone import format_local
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id


async def show_outbox(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    note = ""
    if len(words) == 2 and words[0] == "retry":
        message_id = parse_id(words[1])
        if message_id is None or not await retry_failed(ctx.uow, message_id):
            raise NotFound("message")
        note = f"↻ Message #{message_id} is queued again.\n\n"
    health = await outbox_health(ctx.uow)
    oldest = (
        f", oldest from {format_local(health.oldest_pending, ctx.user.timezone)}"
        if health.oldest_pending
        else ""
    )
    lines = [f"{note}📮 Outbox: {health.pending} waiting{oldest}; {health.failed} gave up."]
    rows = []
    for m in health.recent_failures:
        lines.append(
            f"#{m.id} to person {m.user_id} via {platform_name(m.platform or '?')}, "
            f"{m.attempts} tries: {clip(m.last_error or 'unknown error', 80)}"
        )
        rows.append(
            (Button(f"↻ Retry #{m.id}", action=payload.command("outbox", f"retry {m.id}")),)
        )
    return [Reply("\n".join(lines), tuple(rows[:5]), replace=ctx.clicked)]


COMMAND = Command(
    "outbox",
    "Messages that could not be delivered",
    handler=show_outbox,
    roles=frozenset({"admin"}),
)
