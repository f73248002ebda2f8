"""/thread <session>: talk to the other participant of a session through the bot; messages
and files are relayed to whichever app they use and kept as the session's history."""

from __future__ import annotations

from core.errors import DomainError
from core.outbox import OutButton, notify
from core.session_thread import list_messages, open_thread, post_message
from core.timezone import format_local
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Finish, Flow, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Reply
from handlers.turn import parse_id

USAGE = "Which session? Use /thread <number> (see /mybookings)."


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    booking_id = parse_id(args)
    if booking_id is None:
        return Finish((Reply(USAGE, tone="warning"),))
    thread = await open_thread(ctx.uow, ctx.user, booking_id)
    ctx.data["booking_id"] = thread.booking.id
    ctx.data["other"] = thread.other.display_name
    return None


async def ask_message(ctx: Ctx) -> Prompt:
    booking_id = int(ctx.data["booking_id"])
    history = await list_messages(ctx.uow, booking_id)
    lines = []
    for m in history:
        who = "You" if m.sender_id == ctx.user.id else ctx.data["other"]
        when = format_local(m.created_at, ctx.user.timezone, with_date=False)
        what = m.body or f"📎 {m.file_name}"
        lines.append(f"{when} {who}: {what[:200]}")
    shown = ("\n".join(lines) + "\n\n") if lines else ""
    return Prompt(f"💬 Session #{booking_id} with {ctx.data['other']}\n{shown}"
                  "Type a message or send a file and I'll pass it on. /ask <question> asks "
                  "the AI about the course; /cancel leaves the thread.")


async def on_message(ctx: Ctx, inp: Input) -> Outcome:
    try:
        thread = await open_thread(ctx.uow, ctx.user, int(ctx.data["booking_id"]))
        attachment = inp.attachment
        message = await post_message(
            ctx.uow, thread, text=inp.text,
            file_name=attachment.name if attachment else None,
            file_ref=attachment.file_ref if attachment else None,
            file_size=attachment.size if attachment else 0, platform=ctx.turn.platform)
    except DomainError as exc:
        return Reject(exc.user_message)
    reply = OutButton("↩ Reply", action=payload.command("thread", str(thread.booking.id)))
    buttons: list[OutButton] = [reply]
    if message.file_ref and message.file_ref.startswith("https://"):
        buttons.insert(0, OutButton(f"📎 {message.file_name or 'file'}"[:60],
                                    url=message.file_ref))
    text = message.body or f"📎 sent a file: {message.file_name}"
    await notify(ctx.uow, thread.other, "thread_message",
                 f"💬 {ctx.user.display_name} · session #{thread.booking.id}: {text}",
                 (tuple(buttons),))
    return Stay(note=f"✓ Sent to {thread.other.display_name}.")


FLOW = Flow("thread", (Step("message", ask_message, on_message, free_text=True),),
            start=on_start, title="the session thread")
COMMAND = Command("thread", "Message the other person of a session (text and files)",
                  flow=FLOW, args_hint="<session>")
