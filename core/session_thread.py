"""The session thread: messages and files between a session's two participants, relayed by
the bot (each side answers in their own app) and kept as the session's history.

On Discord the thread can be a private room (a private thread both participants were added
to): what one writes there the other already sees, so only participants outside the room
get it relayed, and what reaches a room member from elsewhere is posted in the room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import Booking, Identity, SessionMessage, SessionRoom, User
from core.outbox import Forward, OutButton, Outgoing, queue
from core.text import clean_line
from core.uow import UnitOfWork

OPEN_AFTER_END = timedelta(days=14)
MAX_MESSAGE = 1500
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Thread:
    booking: Booking
    me: User
    other: User


async def open_thread(uow: UnitOfWork, user: User, booking_id: int) -> Thread:
    """The user's own paid or finished session, up to two weeks after it ended."""
    booking = await uow.session.get(Booking, booking_id) if is_valid_id(booking_id) else None
    if booking is None or user.id not in (booking.student_id, booking.teacher_id):
        raise NotFound("session")
    if booking.status not in ("confirmed", "completed"):
        raise InvalidInput(f"Session #{booking.id} is {booking.status}; its thread is closed.")
    if uow.clock.now() > booking.ends_at + OPEN_AFTER_END:
        raise InvalidInput(f"The thread of session #{booking.id} closed two weeks after it "
                           "ended. Use /message to reach them.")
    other = await uow.session.get(
        User, booking.teacher_id if user.id == booking.student_id else booking.student_id)
    assert other is not None
    return Thread(booking, user, other)


async def post_message(uow: UnitOfWork, thread: Thread, *, text: str | None = None,
                       file_name: str | None = None, file_ref: str | None = None,
                       file_size: int = 0, file_kind: str = "document",
                       platform: str | None = None) -> SessionMessage:
    """Keep one message (or file) of the thread; the caller relays it."""
    body = clean_line(text, what="message", least=1, most=MAX_MESSAGE) if text else ""
    if file_ref is not None and file_size > MAX_FILE_BYTES:
        raise InvalidInput("That file is over 20 MB; please share a link instead.")
    if not body and file_ref is None:
        raise InvalidInput("Type a message or send a file.")
    name = clean_line(file_name, what="file name", least=1, most=200) if file_name else None
    message = SessionMessage(booking_id=thread.booking.id, sender_id=thread.me.id, body=body,
                             file_name=name or ("file" if file_ref else None),
                             file_ref=file_ref, platform=platform,
                             file_kind=file_kind if file_ref else None,
                             created_at=uow.clock.now())
    uow.session.add(message)
    await uow.session.flush()
    return message


async def list_messages(uow: UnitOfWork, booking_id: int, *, limit: int = 8
                        ) -> list[SessionMessage]:
    """The latest messages, oldest first."""
    rows = list((await uow.session.scalars(select(SessionMessage).where(
        SessionMessage.booking_id == booking_id).order_by(SessionMessage.id.desc())
        .limit(limit))).all())
    return rows[::-1]


def _is_in(room: SessionRoom, booking: Booking, user_id: int) -> bool:
    return room.student_in if user_id == booking.student_id else room.teacher_in


async def room_of(uow: UnitOfWork, booking_id: int, platform: str) -> SessionRoom | None:
    return await uow.session.get(SessionRoom, (booking_id, platform))


async def booking_of_room(uow: UnitOfWork, platform: str, room_key: str) -> int | None:
    return await uow.session.scalar(select(SessionRoom.booking_id).where(
        SessionRoom.platform == platform, SessionRoom.room_key == room_key))


async def room_members(uow: UnitOfWork, booking: Booking, platform: str) -> dict[int, str]:
    """The participants who can be added to a room on ``platform``: user id → platform key."""
    rows = await uow.session.execute(select(Identity.user_id, Identity.external_id).where(
        Identity.platform == platform,
        Identity.user_id.in_((booking.student_id, booking.teacher_id))))
    return {user_id: key for user_id, key in rows.all()}


async def bind_room(uow: UnitOfWork, booking: Booking, platform: str, room_key: str,
                    added: set[str], *, replacing: bool = False) -> SessionRoom:
    """Remember the room opened for a session and who was added to it (``added``: platform
    keys). When two were opened at once the first one stored wins: the caller removes its
    own if the returned key differs. ``replacing``: the old room is gone (deleted)."""
    if replacing:
        await uow.session.execute(delete(SessionRoom).where(
            SessionRoom.booking_id == booking.id, SessionRoom.platform == platform))
    keys = await room_members(uow, booking, platform)
    await uow.session.execute(uow.insert(SessionRoom).values(
        booking_id=booking.id, platform=platform, room_key=room_key, student_in=False,
        teacher_in=False, created_at=uow.clock.now()).on_conflict_do_nothing())
    room = await uow.session.get(SessionRoom, (booking.id, platform), populate_existing=True)
    assert room is not None
    if room.room_key == room_key:
        room.student_in = room.student_in or keys.get(booking.student_id) in added
        room.teacher_in = room.teacher_in or keys.get(booking.teacher_id) in added
    return room


async def relay(uow: UnitOfWork, thread: Thread, message: SessionMessage, *,
                link: str, reply_action: str, in_room: bool = False) -> bool:
    """Pass a thread message on to the other participant; False when they already saw it
    (it was written in the session's room on ``message.platform`` and they are in it). A
    room member gets it in the room; a file from another platform comes as ``link`` (our
    signed download route)."""
    booking, other = thread.booking, thread.other
    rooms = (await uow.session.scalars(
        select(SessionRoom).where(SessionRoom.booking_id == booking.id))).all()
    their_room = next((r for r in rooms if _is_in(r, booking, other.id)), None)
    if in_room and their_room is not None and their_room.platform == message.platform:
        return False
    forward = None
    if message.file_ref is not None and message.platform is not None:
        forward = Forward(message.platform, message.file_ref, message.file_name or "file",
                          message.file_kind or "document", link)
    text = message.body or f"📎 sent a file: {message.file_name}"
    await queue(uow, [Outgoing(
        other, "thread_message",
        f"💬 {thread.me.display_name} · session #{booking.id}: {text}",
        () if their_room else ((OutButton("↩ Reply", action=reply_action),),),
        forward=forward,
        room=(their_room.platform, their_room.room_key) if their_room else None)])
    return True


async def file_for(uow: UnitOfWork, message_id: int, user_id: int) -> SessionMessage | None:
    """A file sent in a session thread, if ``user_id`` is one of that session's people."""
    message = await uow.session.get(SessionMessage, message_id) if is_valid_id(
        message_id) else None
    if message is None or message.file_ref is None:
        return None
    booking = await uow.session.get(Booking, message.booking_id)
    if booking is None or user_id not in (booking.student_id, booking.teacher_id):
        return None
    return message
