"""The session thread: messages and files between a session's two participants, relayed by
the bot (each side answers in their own app) and kept as the session's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import Booking, SessionMessage, User
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
                       file_size: int = 0, platform: str | None = None) -> SessionMessage:
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
