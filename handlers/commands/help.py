"""/help: the commands open to this person's roles."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.display import menu_buttons
from handlers.registry import Command
from handlers.reply import MAX_TEXT, Reply


async def show_help(ctx: Ctx, _args: str) -> list[Reply]:
    assert ctx.registry is not None, "the dispatcher passes its registry"
    lines = ["Here's what I can do:"]
    for command in ctx.registry.for_roles(ctx.user.role_names):
        hint = f" {command.args_hint}" if command.args_hint else ""
        lines.append(f"/{command.name}{hint} — {command.description}")
    lines.append("\nAt any step, /cancel stops what you're doing without changing anything.")
    # Many roles mean many commands: split rather than exceed a chat message's length.
    pages: list[list[str]] = [[]]
    for line in lines:
        if sum(len(x) + 1 for x in pages[-1]) + len(line) > MAX_TEXT:
            pages.append([])
        pages[-1].append(line)
    return [Reply("\n".join(page), menu_buttons() if i == len(pages) - 1 else (),
                  replace=ctx.clicked and i == 0) for i, page in enumerate(pages)]


COMMAND = Command("help", "What I can do for you", handler=show_help, needs_onboarding=False)
