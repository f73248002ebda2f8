"""/broadcast (admin): one message to every student, teacher, creator or funder, or to
everyone in a course; each recipient gets it in their conversation with the admin."""

from __future__ import annotations

from core.broadcast import audience_ids, broadcast, describe_audience, list_course_audiences
from core.errors import DomainError
from core.messaging import Buttons, clean_body
from core.models import DirectMessage
from core.outbox import OutButton
from handlers import payload
from handlers.commands.message import page_nav, turned_page
from handlers.context import Ctx
from handlers.flow import (
    Choice,
    Finish,
    Flow,
    Goto,
    Input,
    Next,
    Outcome,
    Prompt,
    Reject,
    Stay,
    Step,
)
from handlers.registry import Command
from handlers.reply import Reply, clip, rows_of

COURSE = "course"
SEND, EDIT = "send", "edit"
PER_PAGE = 8
AUDIENCES = (Choice("🎓 Students", "role:student"), Choice("🧑‍🏫 Teachers", "role:teacher"),
             Choice("✍️ Creators", "role:creator"), Choice("💼 Funders", "role:funder"),
             Choice("📚 A course…", COURSE))


def people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def broadcast_buttons(m: DirectMessage) -> Buttons:
    return ((OutButton("↩ Reply", action=payload.command("message", str(m.sender_id))),
             OutButton("📜 History", action=payload.command("messages", f"t{m.thread_id}"))),)


async def ask_audience(ctx: Ctx) -> Prompt:
    return Prompt("📣 Whom is the broadcast for?", rows_of(AUDIENCES, 2))


async def _choose(ctx: Ctx, audience: str) -> Outcome:
    try:
        ids = await audience_ids(ctx.uow, ctx.user, audience)
    except DomainError as exc:
        return Reject(exc.user_message)
    if not ids:
        return Reject("Nobody is in that audience yet. Pick another.")
    ctx.data["audience"] = audience
    return Goto("text")


async def on_audience(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == COURSE:
        return Next()
    if inp.value not in {c.value for c in AUDIENCES}:
        return Reject("Tap one of the audiences.")
    return await _choose(ctx, inp.value)


async def ask_course(ctx: Ctx) -> Prompt:
    courses = await list_course_audiences(ctx.uow)
    if not courses:
        return Prompt("No course has students yet. /cancel, or pick a role instead.")
    page, nav = page_nav(ctx, len(courses), PER_PAGE)
    shown = courses[(page - 1) * PER_PAGE : page * PER_PAGE]
    choices = [Choice(clip(f"{c.title} · {n}", 60), f"c:{c.id}") for c, n in shown]
    return Prompt("📚 Which course's students? (people enrolled, active or completed)",
                  (*rows_of(choices, 2), tuple(nav)))


async def on_course(ctx: Ctx, inp: Input) -> Outcome:
    if turned_page(ctx, inp.value):
        return Stay()
    value = inp.value or ""
    if not value.startswith("c:"):
        return Reject("Tap one of the courses.")
    return await _choose(ctx, f"course:{value[2:]}")


async def ask_text(ctx: Ctx) -> Prompt:
    whom = await describe_audience(ctx.uow, str(ctx.data["audience"]))
    return Prompt(f"✍️ Type the message for {whom} (up to 1500 characters).")


async def on_text(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["body"] = clean_body(inp.text)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_confirm(ctx: Ctx) -> Prompt:
    audience = str(ctx.data["audience"])
    count = len(await audience_ids(ctx.uow, ctx.user, audience))
    whom = await describe_audience(ctx.uow, audience)
    return Prompt(f"📣 Send this to {whom}: {people(count)}?\n\n{clip(ctx.data['body'], 1500)}",
                  ((Choice(f"📣 Send to {people(count)}", SEND), Choice("✏️ Edit text", EDIT)),))


async def on_confirm(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == EDIT:
        return Goto("text")
    if inp.value != SEND:
        return Reject("Tap Send, Edit text or Cancel.")
    try:
        sent = await broadcast(ctx.uow, ctx.user, str(ctx.data["audience"]),
                               str(ctx.data["body"]), buttons=broadcast_buttons)
    except DomainError as exc:
        return Finish((Reply(exc.user_message, tone="warning", replace=ctx.clicked),))
    return Finish((Reply(f"📣 Sent to {people(sent.recipients)}. Their answers arrive in "
                         "/messages.", tone="success", replace=ctx.clicked),))


FLOW = Flow(
    "broadcast",
    (
        Step("audience", ask_audience, on_audience),
        Step("course", ask_course, on_course),
        Step("text", ask_text, on_text, free_text=True),
        Step("confirm", ask_confirm, on_confirm),
    ),
    title="the broadcast",
)
COMMAND = Command("broadcast", "Message every student, teacher, creator or funder, or a course",
                  flow=FLOW, roles=frozenset({"admin"}))
COMMANDS = (COMMAND,)
