"""/transcripts <words>: search the transcripts of your recorded sessions (the admin: all)."""

from __future__ import annotations

from core.recording import search_transcripts
from core.timezone import format_local
from handlers.context import Ctx
from handlers.links import recording_url
from handlers.registry import Command
from handlers.reply import Button, Reply

USAGE = ("Search what was said in your recorded sessions, e.g. /transcripts decorators. "
         "Sessions are recorded when both of you agree at booking.")


async def transcripts(ctx: Ctx, args: str) -> list[Reply]:
    if not args.strip():
        return [Reply(USAGE)]
    hits = await search_transcripts(ctx.uow, ctx.user, args[:200],
                                    everyone="admin" in ctx.user.role_names)
    if not hits:
        return [Reply(f"No transcript mentions “{' '.join(args.split())[:80]}”.")]
    now = ctx.uow.clock.now()
    lines, buttons = ["🔎 Found in your sessions:"], []
    for hit in hits:
        when = format_local(hit.starts_at, ctx.user.timezone)
        lines.append(f"\n#{hit.booking_id} · {hit.course_title} · {when}\n{hit.snippet}")
        buttons.append((Button(f"▶ Recording #{hit.booking_id}",
                               url=recording_url(ctx.settings, hit.recording_id, ctx.user.id,
                                                 now)),))
    return [Reply("\n".join(lines)[:1900], tuple(buttons[:5]), private=True)]


COMMAND = Command("transcripts", "Search what was said in your recorded sessions",
                  handler=transcripts, args_hint="<words>")
