"""The admin's broadcasts: one message to everyone with a role or in a course, kept in each
recipient's thread with the admin (so they can answer) and queued in one go."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, update

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.messaging import ENROLLED, ButtonsFor, clean_body, is_admin
from core.models import Broadcast, Course, DirectMessage, DirectThread, Enrolment, User, UserRole
from core.outbox import Outgoing, queue
from core.uow import UnitOfWork

ROLES = ("student", "teacher", "creator", "funder", "admin")
ROLE_NAMES = {"student": "students", "teacher": "teachers", "creator": "creators",
              "funder": "funders", "admin": "admins"}
CHUNK = 500  # ids per statement: far below SQLite's bound-parameter limit


def _course_id(audience: str) -> int | None:
    kind, _, value = audience.partition(":")
    if kind != "course" or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    return int(value) if is_valid_id(int(value)) else None


async def audience_ids(uow: UnitOfWork, sender: User, audience: str) -> list[int]:
    """Who an audience ("role:<role>" or "course:<id>") reaches, the sender left out."""
    kind, _, role = audience.partition(":")
    course_id = _course_id(audience)
    if kind == "role" and role in ROLES:
        query = select(UserRole.user_id).where(UserRole.role == role)
    elif course_id is not None:
        if await uow.session.get(Course, course_id) is None:
            raise NotFound("course")
        query = select(Enrolment.student_id).where(
            Enrolment.course_id == course_id, Enrolment.status.in_(ENROLLED))
    else:
        raise InvalidInput("Pick whom the broadcast is for: a role or a course.")
    return sorted(set((await uow.session.scalars(query)).all()) - {sender.id})


async def describe_audience(uow: UnitOfWork, audience: str) -> str:
    """"all students", "everyone in Python from Zero"."""
    course_id = _course_id(audience)
    course = await uow.session.get(Course, course_id) if course_id is not None else None
    if course is not None:
        return f"everyone in {course.title}"
    return f"all {ROLE_NAMES.get(audience.partition(':')[2], 'people')}"


async def list_course_audiences(uow: UnitOfWork) -> list[tuple[Course, int]]:
    """Courses with students enrolled (active or completed), and how many."""
    rows = await uow.session.execute(
        select(Course, func.count(Enrolment.id)).join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.status.in_(ENROLLED)).group_by(Course.id)
        .order_by(Course.title, Course.id))
    return [(course, int(n)) for course, n in rows.all()]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def _threads(uow: UnitOfWork, sender_id: int, ids: list[int]) -> dict[int, int]:
    """The sender's thread with each person (made where missing): person → thread id."""
    now = uow.clock.now()
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        await uow.session.execute(uow.insert(DirectThread).values([
            {"low_id": min(sender_id, p), "high_id": max(sender_id, p), "created_at": now,
             "last_at": now} for p in chunk]).on_conflict_do_nothing())
        rows = await uow.session.execute(select(
            DirectThread.id, DirectThread.low_id, DirectThread.high_id).where(or_(
                and_(DirectThread.low_id == sender_id, DirectThread.high_id.in_(chunk)),
                and_(DirectThread.high_id == sender_id, DirectThread.low_id.in_(chunk)))))
        for thread_id, low, high in rows.all():
            found[high if low == sender_id else low] = thread_id
        await uow.session.execute(
            update(DirectThread).where(DirectThread.id.in_([found[p] for p in chunk]))
            .values(last_at=now), execution_options={"synchronize_session": False})
    return found


async def broadcast(uow: UnitOfWork, sender: User, audience: str, body: str, *,
                    buttons: ButtonsFor | None = None) -> Broadcast:
    """Send ``body`` to an audience: one Broadcast row, one message per recipient in their
    thread with the admin, one queue() call; ``buttons`` makes each notification's buttons."""
    if not is_admin(sender):
        raise InvalidInput("Only the Alpha Peer admin can send broadcasts.")
    text = clean_body(body)
    ids = await audience_ids(uow, sender, audience)
    if not ids:
        raise InvalidInput("Nobody is in that audience yet, so nothing was sent.")
    now = uow.clock.now()
    row = Broadcast(sender_id=sender.id, audience=audience, body=text, recipients=len(ids),
                    created_at=now)
    uow.session.add(row)
    await uow.session.flush()
    threads = await _threads(uow, sender.id, ids)
    messages = [DirectMessage(thread_id=threads[p], sender_id=sender.id, recipient_id=p,
                              body=text, created_at=now, broadcast_id=row.id) for p in ids]
    uow.session.add_all(messages)
    await uow.session.flush()
    people: dict[int, User] = {}
    for chunk in _chunks(ids):
        people.update((u.id, u) for u in (await uow.session.scalars(
            select(User).where(User.id.in_(chunk)))).all())
    said = f"📣 Alpha Peer · {sender.display_name}:\n{text}"
    await queue(uow, [Outgoing(people[m.recipient_id], "broadcast", said,
                               buttons(m) if buttons else ()) for m in messages])
    return row
