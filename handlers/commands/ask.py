"""/ask <question>: help when stuck, with the course's context. With AI configured the answer
arrives in a moment; without it, the course materials are searched and AI is said to be off."""

from __future__ import annotations

from core.assistant import ask as ask_assistant
from handlers.context import Ctx
from handlers.flow import find_active
from handlers.registry import Command
from handlers.reply import Button, Reply

USAGE = "Ask a question after the command, e.g. /ask how do I read a file line by line?"


async def _thread_booking(ctx: Ctx) -> int | None:
    """Asked inside a session thread: that session's course is the context."""
    conv = await find_active(ctx)
    if conv is not None and conv.flow == "thread" and conv.data:
        return int(conv.data["booking_id"])
    return None


async def ask(ctx: Ctx, args: str) -> list[Reply]:
    if not args.strip():
        return [Reply(USAGE, tone="warning")]
    asked = await ask_assistant(ctx.uow, ctx.user, args, booking_id=await _thread_booking(ctx))
    about = f" about {asked.course.title}" if asked.course else ""
    if asked.question_id is not None:
        return [Reply(f"🤖 Thinking about your question{about}… the answer arrives here in "
                      "a moment.", private=True)]
    if not asked.hits:
        return [Reply(f"AI is off here, and nothing in the course materials{about} matches "
                      "your question. Try other words, or ask your teacher with /thread.",
                      private=True)]
    lines = [f"AI is off here, so here is what the course materials{about} say:"]
    links: list[Button] = []
    for hit in asked.hits:
        lines.append(f"\n📄 {hit.title}\n{hit.excerpt}")
        if hit.url and hit.url.startswith(("https://", "http://")):
            links.append(Button(f"📄 {hit.title}"[:60], url=hit.url))
    return [Reply("\n".join(lines)[:1900], tuple((b,) for b in links[:3]), private=True)]


COMMAND = Command("ask", "Ask the course assistant when you're stuck", handler=ask,
                  args_hint="<question>")
