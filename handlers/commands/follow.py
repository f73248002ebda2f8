"""/follow <number>: follow a teacher, creator or fellow student (they hear about it once)."""

from __future__ import annotations

from core.social import follow, get_person, unfollow
from handlers import payload
from handlers.commands.creator import creator_page
from handlers.commands.people import profile_card
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Reply
from handlers.turn import parse_id

BACK_TO_CREATOR = "creator"  # a Follow pressed on a creator page returns there


async def change_follow(ctx: Ctx, args: str, *, on: bool) -> list[Reply]:
    """Follow or unfollow, then show the page the button was on; repeats change nothing."""
    words = args.split()
    user_id = parse_id(words[0]) if words else None
    if user_id is None:
        verb = "follow" if on else "unfollow"
        return [Reply(f"Whom? Use /{verb} <number> — or tap {verb.capitalize()} on someone's "
                      "profile card (/people).", tone="warning")]
    if on:
        new = await follow(ctx.uow, ctx.user, user_id,
                           profile_action=payload.command("people", str(ctx.user.id)))
    else:
        new = await unfollow(ctx.uow, ctx.user, user_id)
    name = (await get_person(ctx.uow, user_id)).display_name
    if on:
        note = (f"✅ You now follow {name}." if new else f"You already follow {name}.")
    else:
        note = (f"You no longer follow {name}." if new else f"You weren't following {name}.")
    if words[1:2] == [BACK_TO_CREATOR]:
        return await creator_page(ctx, user_id, note)
    return await profile_card(ctx, user_id, note)


async def follow_someone(ctx: Ctx, args: str) -> list[Reply]:
    return await change_follow(ctx, args, on=True)


# Reached by the Follow buttons on cards (typing it works too); hidden keeps /help short.
COMMAND = Command("follow", "Follow a teacher, creator or student", handler=follow_someone,
                  args_hint="<number>", hidden=True)
