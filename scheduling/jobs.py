"""Sweep jobs: each opens its own unit of work and is safe to run in several processes."""

from __future__ import annotations

import logging

from core.booking import expire_holds
from core.followup import claim_followups
from core.models import Course, User
from core.outbox import notify
from core.reminder import claim_due_reminders
from core.uow import Database
from handlers.announce import followup_message, reminder_message

log = logging.getLogger("alphapeer.jobs")


async def sweep_expired_holds(db: Database) -> int:
    """Release slots whose unpaid holds lapsed (an UPDATE; concurrent runs cannot clash)."""
    async with db.uow() as uow:
        freed = await expire_holds(uow)
    if freed:
        log.info("released %d lapsed holds", freed)
    return freed


async def send_due_reminders(db: Database) -> int:
    """Claim due reminders and queue their messages in the same transaction."""
    async with db.uow() as uow:
        due = await claim_due_reminders(uow)
        for reminder in due:
            text, buttons = reminder_message(reminder, db.settings)
            await notify(uow, reminder.recipient, f"reminder_{reminder.kind}", text, buttons)
    return len(due)


async def send_followups(db: Database) -> int:
    """Ask both people of each session that just ended whether it happened."""
    async with db.uow() as uow:
        ended = await claim_followups(uow)
        for booking in ended:
            course = await uow.session.get(Course, booking.course_id)
            student = await uow.session.get(User, booking.student_id)
            teacher = await uow.session.get(User, booking.teacher_id)
            assert course and student and teacher
            for recipient, other in ((student, teacher), (teacher, student)):
                text, buttons = followup_message(booking, recipient, other, course.title)
                await notify(uow, recipient, "followup", text, buttons)
    return len(ended)
