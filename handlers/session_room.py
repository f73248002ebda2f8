"""Passing session-thread messages on, from a /thread conversation or from a private room
(a Discord private thread): kept as the session's history, relayed to whoever didn't see it."""

from __future__ import annotations

from core.errors import DomainError, NotFound
from core.session_thread import (
    Thread,
    booking_of_room,
    open_thread,
    post_message,
    relay,
)
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Input
from handlers.links import file_url
from handlers.reply import Reply


async def pass_on(ctx: Ctx, thread: Thread, inp: Input, *, in_room: bool = False) -> bool:
    """Keep the message and relay it (False: the other person saw it in the room)."""
    attachment = inp.attachment
    message = await post_message(
        ctx.uow, thread, text=inp.text,
        file_name=attachment.name if attachment else None,
        file_ref=attachment.file_ref if attachment else None,
        file_size=attachment.size if attachment else 0,
        file_kind=attachment.kind if attachment else "document",
        platform=ctx.turn.platform)
    return await relay(
        ctx.uow, thread, message,
        link=file_url(ctx.uow.settings, message.id, thread.other.id, ctx.uow.clock.now()),
        reply_action=payload.command("thread", str(thread.booking.id)), in_room=in_room)


async def room_message(ctx: Ctx, room_key: str) -> list[Reply]:
    """Someone wrote in a session room: nothing is said back unless it was refused."""
    booking_id = await booking_of_room(ctx.uow, ctx.turn.platform, room_key)
    if booking_id is None:
        return []  # a thread that is not a session room: not ours to answer
    try:
        thread = await open_thread(ctx.uow, ctx.user, booking_id)
        await pass_on(ctx, thread, Input(text=ctx.turn.text, attachment=ctx.turn.attachment),
                      in_room=True)
    except NotFound:
        return []  # not a participant (a moderator, say): their words stay in the room
    except DomainError as exc:
        return [Reply(exc.user_message, tone="warning")]
    return []
