"""Reminders before sessions: rows planned at confirmation, claimed exactly once by a sweep.

The claim is ``UPDATE reminder SET sent_at = now WHERE id = :id AND sent_at IS NULL``; only
the worker whose update changed a row sends it, so restarts and second processes neither
lose nor repeat a reminder. The message itself goes through the outbox in the same
transaction as the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from core.lease import changed_one
from core.models import ACTIVE_STATUSES, Booking, Course, Reminder, User
from core.models.schedule import REMINDER_KINDS
from core.uow import UnitOfWork

LEAD = {"24h": timedelta(hours=24), "1h": timedelta(hours=1), "15m": timedelta(minutes=15)}
LABELS = {"24h": "24 hours before", "1h": "1 hour before", "15m": "15 minutes before (join)"}


async def plan_reminders(uow: UnitOfWork, booking: Booking) -> int:
    """Plan every reminder still in the future for both participants (idempotent)."""
    await uow.session.execute(delete(Reminder).where(Reminder.booking_id == booking.id,
                                                     Reminder.sent_at.is_(None)))
    now = uow.clock.now()
    rows = [{"booking_id": booking.id, "user_id": user_id, "kind": kind,
             "due_at": booking.starts_at - LEAD[kind]}
            for user_id in (booking.student_id, booking.teacher_id) for kind in REMINDER_KINDS
            if booking.starts_at - LEAD[kind] > now]
    if rows:  # one statement for all of them
        await uow.session.execute(insert(Reminder), rows)
    return len(rows)


@dataclass(frozen=True)
class DueReminder:
    kind: str
    booking: Booking
    course_title: str
    recipient: User
    other: User


async def claim_due_reminders(uow: UnitOfWork, *, limit: int = 500) -> list[DueReminder]:
    """Claim due reminders; returns those still worth sending (active booking, kind wanted)."""
    now = uow.clock.now()
    ids = list((await uow.session.scalars(
        select(Reminder.id).where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at).limit(limit))).all())
    if not ids:
        return []
    claimed: list[int] = []
    for reminder_id in ids:
        won = await uow.session.execute(
            update(Reminder).where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
            .values(sent_at=now), execution_options={"synchronize_session": False})
        if changed_one(won):
            claimed.append(reminder_id)
    if not claimed:
        return []
    rows = (await uow.session.execute(
        select(Reminder, Booking, Course.title)
        .join(Booking, Booking.id == Reminder.booking_id)
        .join(Course, Course.id == Booking.course_id)
        .where(Reminder.id.in_(claimed)))).all()
    people_ids = {b.student_id for _, b, _ in rows} | {b.teacher_id for _, b, _ in rows}
    people = {u.id: u for u in (await uow.session.scalars(
        select(User).where(User.id.in_(people_ids)))).all()}
    due: list[DueReminder] = []
    for reminder, booking, title in rows:
        late = now - reminder.due_at > LEAD[reminder.kind] / 2
        if booking.status not in ACTIVE_STATUSES or booking.status == "held" or late:
            continue  # cancelled, unpaid or too late to be useful: claimed, not sent
        recipient = people[reminder.user_id]
        if reminder.kind in (recipient.reminders_off or []):
            continue
        other_id = booking.teacher_id if recipient.id == booking.student_id else booking.student_id
        due.append(DueReminder(reminder.kind, booking, title, recipient, people[other_id]))
    return due


def toggle_reminder(user: User, kind: str) -> bool:
    """Switch one reminder kind off or back on; returns whether it is now on."""
    if kind not in REMINDER_KINDS:
        raise ValueError(kind)
    off = set(user.reminders_off or [])
    off ^= {kind}
    user.reminders_off = sorted(off)
    return kind not in off

