"""/unfollow <number>: stop following someone (quietly: they are not told)."""

from __future__ import annotations

from handlers.commands.follow import change_follow
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply


async def unfollow_someone(ctx: Ctx, args: str) -> list[Reply]:
    return await change_follow(ctx, args, on=False)


COMMAND = Command("unfollow", "Stop following someone", handler=unfollow_someone,
                  args_hint="<number>", hidden=True)
