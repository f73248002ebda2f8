"""/calendar: a private feed of your sessions for Google Calendar, Apple Calendar, Outlook."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.links import calendar_url
from handlers.registry import Command
from handlers.reply import Button, Reply


async def show_calendar(ctx: Ctx, _args: str) -> list[Reply]:
    url = calendar_url(ctx.settings, ctx.user.id, ctx.uow.clock.now())
    return [
        Reply(
            "🗓 Your sessions as a calendar feed. In your calendar app choose "
            "“Subscribe to calendar” / “From URL” and paste this link; sessions appear "
            "and update on their own.\n\nKeep the link private: anyone with it can "
            f"see your schedule.\n\n{url}",
            ((Button("🗓 Open the feed", url=url),),),
            private=True,
        )
    ]


COMMAND = Command("calendar", "Your sessions in your own calendar app", handler=show_calendar)
