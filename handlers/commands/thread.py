"""/thread <session>: talk to the other participant of a session through the bot; messages
and files are relayed to whichever app they use and kept as the session's history. On
Discord, with a session channel configured, the thread is a private Discord thread."""

from __future__ import annotations

from core.errors import DomainError
from core.session_thread import Thread, list_messages, open_thread, room_members
from core.timezone import format_local
from handlers.context import Ctx
from handlers.flow import Finish, Flow, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Reply, RoomRequest
from handlers.session_room import pass_on
from handlers.turn import parse_id

USAGE = "Which session? Use /thread <number> (see /mybookings)."
ROOM_PLATFORM = "discord"


async def history(ctx: Ctx, thread: Thread) -> str:
    lines = []
    for m in await list_messages(ctx.uow, thread.booking.id):
        who = "You" if m.sender_id == ctx.user.id else thread.other.display_name
        when = format_local(m.created_at, ctx.user.timezone, with_date=False)
        what = m.body or f"📎 {m.file_name}"
        lines.append(f"{when} {who}: {what[:200]}")
    return ("\n".join(lines) + "\n\n") if lines else ""


async def _private_room(ctx: Ctx, thread: Thread) -> Finish:
    """Discord: the conversation moves to a private thread with both participants in it."""
    booking = thread.booking
    members = await room_members(ctx.uow, booking, ROOM_PLATFORM)
    elsewhere = "" if thread.other.id in members else (
        f" {thread.other.display_name} isn't on Discord: what you write there reaches them "
        "in their app, and their answers appear in the thread.")
    greeting = (f"🔒 Session #{booking.id} · {thread.me.display_name} & "
                f"{thread.other.display_name}. Only the two of you (and the bot) see this "
                f"thread. Messages and files here are kept with the session.{elsewhere}")
    request = RoomRequest(booking.id, f"Session #{booking.id}"[:100],
                          tuple(members.values()), greeting)
    return Finish((Reply(f"🔒 Your private thread for session #{booking.id} with "
                         f"{thread.other.display_name} is open.{elsewhere}",
                         open_room=request),))


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    booking_id = parse_id(args)
    if booking_id is None:
        return Finish((Reply(USAGE, tone="warning"),))
    thread = await open_thread(ctx.uow, ctx.user, booking_id)
    if ctx.turn.platform == ROOM_PLATFORM and ctx.uow.settings.discord.session_channel_id:
        return await _private_room(ctx, thread)
    ctx.data["booking_id"] = thread.booking.id
    ctx.data["other"] = thread.other.display_name
    return None


async def ask_message(ctx: Ctx) -> Prompt:
    thread = await open_thread(ctx.uow, ctx.user, int(ctx.data["booking_id"]))
    return Prompt(f"💬 Session #{thread.booking.id} with {thread.other.display_name}\n"
                  f"{await history(ctx, thread)}"
                  "Type a message or send a file and I'll pass it on. /ask <question> asks "
                  "the AI about the course; /cancel leaves the thread.")


async def on_message(ctx: Ctx, inp: Input) -> Outcome:
    try:
        thread = await open_thread(ctx.uow, ctx.user, int(ctx.data["booking_id"]))
        await pass_on(ctx, thread, inp)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Stay(note=f"✓ Sent to {thread.other.display_name}.")


FLOW = Flow("thread", (Step("message", ask_message, on_message, free_text=True),),
            start=on_start, title="the session thread")
COMMAND = Command("thread", "Message the other person of a session (text and files)",
                  flow=FLOW, args_hint="<session>")
