"""/link: one account across Telegram and Discord (and the terminal, in development)."""

from __future__ import annotations

from core.linking import (
    CODE_TTL,
    create_link_code,
    format_code,
    platform_name,
    redeem_link_code,
)
from core.outbox import notify
from handlers.context import Ctx
from handlers.display import menu_buttons
from handlers.registry import Command
from handlers.reply import Reply


async def link(ctx: Ctx, args: str) -> list[Reply]:
    platform = ctx.turn.platform
    if args.strip():
        owner = await redeem_link_code(ctx.uow, ctx.user, platform, args)
        await notify(
            ctx.uow,
            owner,
            "account_linked",
            f"🔗 Your {platform_name(platform)} account is now linked to this one. "
            "Bookings, roles and messages are shared between them.",
        )
        return [
            Reply(
                f"🔗 Linked! This {platform_name(platform)} chat and your other app are "
                f"now one account, {owner.display_name}. Choose where notifications go "
                "in /profile.",
                menu_buttons(),
                tone="success",
            )
        ]
    code = await create_link_code(ctx.uow, ctx.user, platform)
    minutes = int(CODE_TTL.total_seconds() // 60)
    return [
        Reply(
            f"To use Alpha Peer from another app as the same person, send this there "
            f"within {minutes} minutes:\n\n/link {format_code(code.code)}\n\n"
            "The code works once. Anything you did there joins this account.",
            private=True,
        )
    ]


COMMAND = Command(
    "link",
    "Use one account on Telegram and Discord",
    handler=link,
    args_hint="[code]",
    needs_onboarding=False,
)
