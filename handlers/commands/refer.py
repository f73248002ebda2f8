"""/refer: your personal invite links and how many joined through them, or an invitation
emailed to a friend (about a course, if you name one)."""

from __future__ import annotations

from core.catalogue import find_course_by_slug, get_published_course
from core.errors import InvalidInput, NotFound
from core.referral import (
    RefPayload,
    ensure_ref_code,
    invite_links,
    refer_by_email,
    referral_counts,
)
from handlers.commands.people import people, plural
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply
from handlers.turn import parse_id

USAGE = ("Send /refer for your personal invite link, or /refer friend@example.org [course] to "
         "email a friend an invitation.")


async def course_number(ctx: Ctx, text: str) -> int:
    """A course typed as its number or its short name (slug)."""
    number = parse_id(text)
    if number is not None:
        return number
    found = await find_course_by_slug(ctx.uow, text[:48])
    if found is None:
        raise NotFound("course")
    return found.id


async def _links(ctx: Ctx, course_id: int | None) -> Reply:
    course = await get_published_course(ctx.uow, course_id) if course_id else None
    links = invite_links(ctx.settings, RefPayload(await ensure_ref_code(ctx.uow, ctx.user),
                                                  course.id if course else None))
    emailed, joined = await referral_counts(ctx.uow, ctx.user)
    lines = ["🤝 Invite people to Alpha Peer" + (f" — for {course.title}" if course else ""),
             f"Your personal link: {links.page}"]
    if links.telegram:
        lines.append(f"Straight into Telegram: {links.telegram}")
    lines += [f"On Discord (or any chat with the bot) they send: /start {links.payload}",
              "",
              f"So far {people(joined)} joined through you"
              + (f"; you emailed {plural(emailed, 'invitation')}." if emailed else "."),
              "To email someone an invitation: /refer friend@example.org [course]"]
    buttons = [Button("🔗 Your invite page", url=links.page)]
    if links.telegram:
        buttons.append(Button("✈️ Open in Telegram", url=links.telegram))
    return Reply("\n".join(lines), (tuple(buttons),), replace=ctx.clicked)


async def refer(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    addresses = [w for w in words if "@" in w]
    rest = [w for w in words if "@" not in w]
    if len(addresses) > 1 or len(rest) > 1:
        raise InvalidInput(USAGE)
    course_id = await course_number(ctx, rest[0]) if rest else None
    if not addresses:
        return [await _links(ctx, course_id)]
    invitation = await refer_by_email(ctx.uow, ctx.user, addresses[0], course_id)
    to = invitation.referral.email
    if not invitation.new:
        return [Reply(f"You already invited {to} — no second email was sent. Share your "
                      "link from /refer if they lost it.", tone="warning")]
    return [Reply(f"📧 Invitation sent to {to}. We'll tell you when they join — thank you!",
                  tone="success")]


COMMAND = Command("refer", "Invite a friend: your personal link, or an invitation by email",
                  handler=refer, roles=frozenset({"student", "teacher", "creator", "admin"}),
                  args_hint="[email] [course]")
