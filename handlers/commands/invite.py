"""/invite <course> <email>, <email>…: the admin emails prospective students about a course
(each address recorded, so /growth can show what the outreach led to)."""

from __future__ import annotations

import re

from core.errors import InvalidInput
from core.referral import MAX_OUTREACH, send_outreach
from handlers.commands.people import people
from handlers.commands.refer import course_number
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply, clip

USAGE = (f"Use /invite <course> <email>, <email>… — up to {MAX_OUTREACH} addresses, "
         "separated by commas or spaces.")
_SEPARATORS = re.compile(r"[,;\s]+")


async def invite(ctx: Ctx, args: str) -> list[Reply]:
    head, _, rest = args.strip().partition(" ")
    addresses = [a for a in _SEPARATORS.split(rest) if a]
    if not head or not addresses:
        raise InvalidInput(USAGE)
    result = await send_outreach(ctx.uow, ctx.user, await course_number(ctx, head), addresses)
    lines = [f"📧 Emailed {people(len(result.sent))} about {result.course.title}."
             if result.sent else f"Nobody new to email about {result.course.title}."]
    if result.already:
        lines.append(f"Skipped {len(result.already)} already invited about it or already on "
                     f"Alpha Peer: {clip(', '.join(result.already), 600)}")
    if result.invalid:
        lines.append(f"Not email addresses: {clip(', '.join(result.invalid), 300)}")
    lines.append("Who joins and enrols shows in /growth.")
    return [Reply("\n".join(lines), tone="success" if result.sent else "info")]


COMMAND = Command("invite", "Email prospective students about a course (admin)",
                  handler=invite, roles=frozenset({"admin"}), args_hint="<course> <emails>")
