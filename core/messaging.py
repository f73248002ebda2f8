"""Messages between people, relayed by the bot: who may write to whom (one rule, used by
sending, replying and the contact list), threads, history, unread counts. Blocks and reports
are in core.moderation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CompoundSelect, String, and_, func, literal_column, or_, select, union
from sqlalchemy import update as sql_update

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import (
    Block,
    Booking,
    Course,
    CourseTeacher,
    DirectMessage,
    DirectThread,
    Enrolment,
    User,
    UserRole,
)
from core.outbox import OutButton, notify
from core.text import clean_line
from core.uow import UnitOfWork

MAX_BODY = 1500
PER_HOUR = 30  # per sender; the admin is exempt (announcements, support)
PAGE = 10
LIVE_BOOKINGS = ("held", "confirmed", "completed")  # not cancelled or expired
ENROLLED = ("active", "completed")
Buttons = tuple[tuple[OutButton, ...], ...]
ButtonsFor = Callable[[DirectMessage], Buttons]

# One answer for unknown people, unrelated people and people who blocked you: nothing about
# an account number can be learnt by trying it.
REFUSED = ("I can't pass messages between you and that person. You can message your "
           "teachers, your students, the creators and teachers of your courses, the people "
           "you fund (or who fund you) and the Alpha Peer admin; other students once you have "
           "both turned on “💬 Other students may message me” in /messages.")
# Why someone is a contact, best first; {course} is the course that links you.
WHY = {
    "admin": "Alpha Peer admin",
    "teacher": "your teacher · {course}",
    "student": "your student · {course}",
    "creator": "creator of {course}",
    "course_teacher": "teaches your {course}",
    "enrolled": "takes your {course}",
    "funder": "funds your {course}",
    "funded": "you fund their {course}",
    "wrote": "wrote to you",
    "thread": "you wrote to them",
}
_RANK = {why: rank for rank, why in enumerate(WHY)}


@dataclass(frozen=True)
class Contact:
    user: User
    why: str


def is_admin(user: User) -> bool:
    return "admin" in user.role_names


def _links(me: int, other: int | None = None, *, admin: bool = False) -> CompoundSelect[Any]:
    """(person, why, course title): every link that lets ``me`` write to someone, as one
    statement; ``other`` narrows each branch to one person (so indexes are used)."""
    no_course = literal_column("NULL", String)

    def pick(person: Any, why: str, course: Any, *where: Any) -> Any:
        narrow = (person == other,) if other is not None else ()
        return select(person.label("person"), literal_column(f"'{why}'", String).label("why"),
                      course.label("course")).where(*where, *narrow)

    live, enrolled = Booking.status.in_(LIVE_BOOKINGS), Enrolment.status.in_(ENROLLED)
    by_booking, by_enrolment = Course.id == Booking.course_id, Course.id == Enrolment.course_id
    by_teacher = Course.id == CourseTeacher.course_id
    branches = [
        pick(UserRole.user_id, "admin", no_course, UserRole.role == "admin"),
        pick(Booking.teacher_id, "teacher", Course.title, by_booking, live,
             Booking.student_id == me),
        pick(Booking.student_id, "student", Course.title, by_booking, live,
             Booking.teacher_id == me),
        pick(Course.creator_id, "creator", Course.title, by_enrolment, enrolled,
             Enrolment.student_id == me),
        pick(Course.creator_id, "creator", Course.title, by_teacher,
             CourseTeacher.teacher_id == me),
        pick(CourseTeacher.teacher_id, "course_teacher", Course.title, by_teacher,
             Course.creator_id == me),
        pick(Enrolment.student_id, "enrolled", Course.title, by_enrolment, enrolled,
             Course.creator_id == me),
        pick(Enrolment.funder_id, "funder", Course.title, by_enrolment,
             Enrolment.student_id == me, Enrolment.funder_id.is_not(None)),
        pick(Enrolment.student_id, "funded", Course.title, by_enrolment,
             Enrolment.funder_id == me),
        # Someone who wrote to you may get an answer in that thread.
        pick(DirectMessage.sender_id, "wrote", no_course, DirectMessage.recipient_id == me),
    ]
    if admin:  # the admin's own conversations (not broadcasts: those reach everyone)
        branches.append(pick(DirectMessage.recipient_id, "thread", no_course,
                             DirectMessage.sender_id == me,
                             DirectMessage.broadcast_id.is_(None)))
    return union(*branches)


async def may_message(uow: UnitOfWork, sender: User, recipient: User) -> bool:
    """Whether the rules link these two (blocks aside): the admin and anyone, a lesson or
    intro between them, a course's creator and its students or teachers, a funder and the
    funded, two students who both opted in, or an answer to someone who wrote first."""
    if sender.id == recipient.id:
        return False
    if is_admin(sender) or is_admin(recipient):
        return True
    if (sender.peer_messages and recipient.peer_messages
            and {"student"} <= sender.role_names and {"student"} <= recipient.role_names):
        return True
    found = await uow.session.scalar(
        select(literal_column("1")).select_from(_links(sender.id, recipient.id).subquery())
        .limit(1))
    return found is not None


async def _blocks(uow: UnitOfWork, me: int, others: list[int]) -> set[tuple[int, int]]:
    """(blocker, blocked) pairs between ``me`` and ``others``, either way."""
    if not others:
        return set()
    rows = await uow.session.execute(select(Block.blocker_id, Block.blocked_id).where(or_(
        and_(Block.blocker_id == me, Block.blocked_id.in_(others)),
        and_(Block.blocked_id == me, Block.blocker_id.in_(others)))))
    return {(a, b) for a, b in rows.all()}


async def get_recipient(uow: UnitOfWork, sender: User, recipient_id: int) -> User:
    """The person ``sender`` may write to now; anyone else reads the same as unknown."""
    if recipient_id == sender.id:
        raise InvalidInput("You can't message yourself.")
    recipient = await uow.session.get(User, recipient_id) if is_valid_id(recipient_id) else None
    if recipient is None or not await may_message(uow, sender, recipient):
        raise NotFound("person", template=REFUSED)
    blocks = await _blocks(uow, sender.id, [recipient.id])
    if (recipient.id, sender.id) in blocks and not is_admin(sender):
        raise NotFound("person", template=REFUSED)
    if (sender.id, recipient.id) in blocks:
        raise InvalidInput(f"You blocked {recipient.display_name}. Send /unblock "
                           f"{recipient.id} first to write to them.")
    return recipient


async def list_contacts(uow: UnitOfWork, user: User, *, limit: int = 200) -> list[Contact]:
    """People ``user`` may message now, best link first, then by name (a few statements)."""
    best: dict[int, tuple[int, str, set[str]]] = {}
    for person, why, course in (await uow.session.execute(
            _links(user.id, admin=is_admin(user)))).all():
        if person == user.id:
            continue
        if person not in best or _RANK[why] < best[person][0]:
            best[person] = (_RANK[why], why, set())
        if best[person][1] == why and course:
            best[person][2].add(course)
    blocked = {a if b == user.id else b for a, b in await _blocks(uow, user.id, list(best))}
    ids = [i for i in best if i not in blocked]
    users = (await uow.session.scalars(select(User).where(User.id.in_(ids)))).all() if ids else []
    ordered = sorted(users, key=lambda u: (best[u.id][0], u.display_name.casefold(), u.id))
    return [Contact(u, WHY[best[u.id][1]].format(course=", ".join(sorted(best[u.id][2]))))
            for u in ordered[:limit]]


def clean_body(text: str | None) -> str:
    """A message as relayed: plain text, lines kept, 1 to MAX_BODY characters."""
    lines = [clean_line(line, what="message", least=0, most=MAX_BODY)
             for line in (text or "").strip().splitlines()]
    body = "\n".join(lines).strip()
    if not 1 <= len(body) <= MAX_BODY:
        raise InvalidInput(f"A message needs 1 to {MAX_BODY} characters ({len(body)} now).")
    return body


async def open_thread(uow: UnitOfWork, a: int, b: int) -> DirectThread:
    """The pair's thread, made on first use; two first messages at once make one thread."""
    low, high = sorted((a, b))
    now = uow.clock.now()
    await uow.session.execute(uow.insert(DirectThread).values(
        low_id=low, high_id=high, created_at=now, last_at=now).on_conflict_do_nothing())
    thread = (await uow.session.scalars(select(DirectThread).where(
        DirectThread.low_id == low, DirectThread.high_id == high))).one()
    thread.last_at = now
    return thread


async def _sent_last_hour(uow: UnitOfWork, sender_id: int) -> int:
    return int(await uow.session.scalar(select(func.count()).select_from(DirectMessage).where(
        DirectMessage.sender_id == sender_id, DirectMessage.broadcast_id.is_(None),
        DirectMessage.created_at > uow.clock.now() - timedelta(hours=1))) or 0)


async def send_message(uow: UnitOfWork, sender: User, recipient_id: int, body: str, *,
                       buttons: ButtonsFor | None = None) -> DirectMessage:
    """Keep a message in the pair's thread and notify the recipient; ``buttons`` makes the
    notification's buttons (the chat layer knows the payloads)."""
    text = clean_body(body)
    recipient = await get_recipient(uow, sender, recipient_id)
    if not is_admin(sender) and await _sent_last_hour(uow, sender.id) >= PER_HOUR:
        raise InvalidInput(f"You've sent {PER_HOUR} messages in the last hour. Please wait a "
                           "little before sending more.")
    thread = await open_thread(uow, sender.id, recipient.id)
    now = uow.clock.now()
    message = DirectMessage(thread_id=thread.id, sender_id=sender.id,
                            recipient_id=recipient.id, body=text, created_at=now)
    uow.session.add(message)
    # Answering means what they wrote was read.
    await uow.session.execute(sql_update(DirectMessage).where(
        DirectMessage.thread_id == thread.id, DirectMessage.recipient_id == sender.id,
        DirectMessage.read_at.is_(None)).values(read_at=now),
        execution_options={"synchronize_session": False})
    await uow.session.flush()
    await notify(uow, recipient, "direct_message",
                 f"💬 {sender.display_name} (#{sender.id}):\n{text}",
                 buttons(message) if buttons else ())
    return message


@dataclass(frozen=True)
class ThreadSummary:
    thread_id: int
    other: User
    last: DirectMessage
    unread: int


async def list_threads(uow: UnitOfWork, user: User, *, limit: int = 6, offset: int = 0
                       ) -> tuple[list[ThreadSummary], int]:
    """A page of the inbox, latest first, and how many threads there are (five statements,
    whatever the page size)."""
    mine = or_(DirectThread.low_id == user.id, DirectThread.high_id == user.id)
    total = int(await uow.session.scalar(
        select(func.count()).select_from(DirectThread).where(mine)) or 0)
    threads = (await uow.session.scalars(select(DirectThread).where(mine).order_by(
        DirectThread.last_at.desc(), DirectThread.id.desc()).offset(offset).limit(limit))).all()
    ids = [t.id for t in threads]
    if not ids:
        return [], total
    newest = (select(func.max(DirectMessage.id)).where(DirectMessage.thread_id.in_(ids))
              .group_by(DirectMessage.thread_id))
    last = {m.thread_id: m for m in (await uow.session.scalars(
        select(DirectMessage).where(DirectMessage.id.in_(newest)))).all()}
    unread = dict((await uow.session.execute(select(
        DirectMessage.thread_id, func.count()).where(
        DirectMessage.thread_id.in_(ids), DirectMessage.recipient_id == user.id,
        DirectMessage.read_at.is_(None)).group_by(DirectMessage.thread_id))).all())
    other_of = {t.id: t.high_id if t.low_id == user.id else t.low_id for t in threads}
    people = {u.id: u for u in (await uow.session.scalars(
        select(User).where(User.id.in_(other_of.values())))).all()}
    return [ThreadSummary(t.id, people[other_of[t.id]], last[t.id], int(unread.get(t.id, 0)))
            for t in threads if t.id in last and other_of[t.id] in people], total


async def unread_count(uow: UnitOfWork, user_id: int) -> int:
    """Messages waiting for ``user_id`` to read them (one statement)."""
    return int(await uow.session.scalar(select(func.count()).select_from(DirectMessage).where(
        DirectMessage.recipient_id == user_id, DirectMessage.read_at.is_(None))) or 0)


@dataclass(frozen=True)
class ThreadPage:
    thread_id: int
    other: User
    messages: list[DirectMessage]  # oldest first
    older: int | None  # pass as ``before`` for the previous page; None: this is the start


async def get_thread(uow: UnitOfWork, viewer: User, thread_id: int) -> tuple[DirectThread, User]:
    """One of the viewer's own threads and the other person; any other id reads as unknown."""
    thread = await uow.session.get(DirectThread, thread_id) if is_valid_id(thread_id) else None
    if thread is None or viewer.id not in (thread.low_id, thread.high_id):
        raise NotFound("conversation")
    other = await uow.session.get(User, thread.high_id if thread.low_id == viewer.id
                                  else thread.low_id)
    if other is None:  # pragma: no cover - a deleted account takes its threads with it
        raise NotFound("conversation")
    return thread, other


async def history(uow: UnitOfWork, viewer: User, thread_id: int, *, before: int | None = None,
                  limit: int = PAGE) -> ThreadPage:
    """A page of a conversation, newest last; what the viewer received on it is now read."""
    thread, other = await get_thread(uow, viewer, thread_id)
    query = select(DirectMessage).where(DirectMessage.thread_id == thread.id)
    if before is not None:
        query = query.where(DirectMessage.id < before)
    rows = list((await uow.session.scalars(
        query.order_by(DirectMessage.id.desc()).limit(limit + 1))).all())
    shown = rows[:limit][::-1]
    if shown:
        await uow.session.execute(sql_update(DirectMessage).where(
            DirectMessage.thread_id == thread.id, DirectMessage.recipient_id == viewer.id,
            DirectMessage.read_at.is_(None), DirectMessage.id.in_([m.id for m in shown]))
            .values(read_at=uow.clock.now()), execution_options={"synchronize_session": False})
    return ThreadPage(thread.id, other, shown, shown[0].id if len(rows) > limit else None)


def set_peer_messages(user: User, on: bool) -> None:
    """Let other students write to this person (both sides must have it on)."""
    user.peer_messages = on
