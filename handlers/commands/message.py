"""/message [person]: write to your teacher, a student of yours, a course's creator, someone
you fund, a fellow student (both opted in) or the admin; the bot relays it and the other
person answers from the notification's ↩ Reply button."""

from __future__ import annotations

from core.alerts import list_admins
from core.errors import DomainError
from core.messaging import (
    Buttons,
    clean_body,
    get_recipient,
    list_contacts,
    send_message,
)
from core.models import DirectMessage
from core.outbox import OutButton
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Input, Next, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip, rows_of
from handlers.turn import parse_id

PER_PAGE = 8  # four rows of two; the fifth row holds the page buttons and Cancel
ADMIN_WORDS = ("admin", "ap", "alphapeer")


def message_buttons(m: DirectMessage) -> Buttons:
    """The recipient's buttons on a relayed message."""
    return ((OutButton("↩ Reply", action=payload.command("message", str(m.sender_id))),
             OutButton("📜 History", action=payload.command("messages", f"t{m.thread_id}"))),
            (OutButton("🚫 Block", action=payload.command("block", str(m.sender_id))),
             OutButton("⚠️ Report", action=payload.command("report", str(m.id)))))


def page_nav(ctx: Ctx, total: int, per_page: int) -> tuple[int, list[Choice]]:
    """The current page (kept in ctx.data) and its ‹ › choices."""
    pages = max(1, -(-total // per_page))
    page = min(max(int(ctx.data.get("page", 1)), 1), pages)
    nav = [Choice("‹ Back", f"p:{page - 1}")] if page > 1 else []
    if page < pages:
        nav.append(Choice("More ›", f"p:{page + 1}"))
    return page, nav


def turned_page(ctx: Ctx, value: str | None) -> bool:
    page = parse_id(value[2:]) if value and value.startswith("p:") else None
    if page is not None:
        ctx.data["page"] = page
    return page is not None


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    wanted = args.strip().casefold()
    if not wanted:
        if not await list_contacts(ctx.uow, ctx.user, limit=1):
            return Finish((Reply("There's nobody you can message yet: once you book a "
                                 "session, enrol in a course or teach one, those people "
                                 "appear here.", replace=ctx.clicked),))
        return None
    if wanted in ADMIN_WORDS:
        admins = [a for a in await list_admins(ctx.uow) if a.id != ctx.user.id]
        person_id = admins[0].id if admins else 0
    else:
        person_id = parse_id(wanted) or 0
    recipient = await get_recipient(ctx.uow, ctx.user, person_id)
    ctx.data.update(to=recipient.id, name=recipient.display_name)
    return None


async def ask_person(ctx: Ctx) -> Prompt:
    contacts = await list_contacts(ctx.uow, ctx.user)
    page, nav = page_nav(ctx, len(contacts), PER_PAGE)
    shown = contacts[(page - 1) * PER_PAGE : page * PER_PAGE]
    lines = ["✉️ Whom would you like to message?"]
    lines += [f"• {c.user.display_name} (#{c.user.id}) — {c.why}" for c in shown]
    lines.append("Or type /message <number> for someone else you may write to.")
    choices = [Choice(clip(f"{c.user.display_name} · {c.why}", 60), f"u:{c.user.id}")
               for c in shown]
    return Prompt(clip("\n".join(lines), 1900), (*rows_of(choices, 2), tuple(nav)))


async def on_person(ctx: Ctx, inp: Input) -> Outcome:
    if turned_page(ctx, inp.value):
        return Stay()
    person_id = parse_id((inp.value or "").removeprefix("u:")) if inp.value else None
    if person_id is None:
        return Reject("Tap one of the people shown.")
    try:
        recipient = await get_recipient(ctx.uow, ctx.user, person_id)
    except DomainError as exc:
        return Reject(exc.user_message)
    ctx.data.update(to=recipient.id, name=recipient.display_name)
    return Next()


async def ask_body(ctx: Ctx) -> Prompt:
    return Prompt(f"✍️ Type your message to {ctx.data['name']} (up to 1500 characters). "
                  "I'll pass it on and they can answer here.")


async def on_body(ctx: Ctx, inp: Input) -> Outcome:
    if inp.text is None:
        return Reject("Please type your message as text (files can't be sent here).")
    try:
        body = clean_body(inp.text)
    except DomainError as exc:
        return Reject(exc.user_message)
    try:
        message = await send_message(ctx.uow, ctx.user, int(ctx.data["to"]), body,
                                     buttons=message_buttons)
    except DomainError as exc:  # refused meanwhile (a block, the hourly limit)
        return Finish((Reply(exc.user_message, tone="warning"),))
    return Finish((Reply(
        f"✅ Sent to {ctx.data['name']}. Their answer will come here.", (
            (Button("📜 History", action=payload.command("messages", f"t{message.thread_id}")),
             Button("📥 Inbox", action=payload.command("messages"))),),
        tone="success"),))


FLOW = Flow(
    "message",
    (
        Step("person", ask_person, on_person, skip=lambda ctx: "to" in ctx.data),
        Step("body", ask_body, on_body, free_text=True),
    ),
    start=on_start,
    title="writing a message",
)
COMMAND = Command("message", "Message your teacher, a student, a course creator or the admin",
                  flow=FLOW, args_hint="[person number]")
COMMANDS = (COMMAND,)
