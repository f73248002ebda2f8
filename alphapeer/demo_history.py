"""The demo's past, made through the real services with the clock set back: so every step of
the learn → certify → teach loop can be tried at once in the terminal chat.

Priya has had four paid sessions of Python from Zero with Maya (a student-teacher), has ticked
off three modules and has one module and the quiz to go; the first three sessions are past
their cooling-off and wait in Brian's /releases. The demo's teachers hold the Teaching
certificate of each course they teach."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.availability import list_free_slots
from core.booking import hold_slot
from core.certificates import issue_teaching_certificate
from core.clock import FrozenClock
from core.course_builder import add_question, add_quiz, parse_question, set_criteria
from core.followup import record_report
from core.learning import mark_module_done, module_of_session
from core.models import Course, CourseTeacher, OutboxMessage, Reminder, User
from core.payment import handle_event, record_checkout
from core.payment_port import CHECKOUT_PAID, PaymentEvent
from core.review import record_review
from core.uow import Database

QUIZ_TITLE = "Python basics check"
QUIZ_PASS_PCT = 60
QUESTIONS = (
    "What does len('abc') return? | 2 | *3 | 4",
    "Which keyword defines a function? | func | *def | lambda",
    "What does list(range(3)) give? | [1, 2, 3] | *[0, 1, 2] | [0, 1, 2, 3]",
)
# Completion: four sessions, every module ticked, the quiz passed. Mastery asks for more.
CRITERIA = {"complete_sessions": 4, "complete_modules": True, "complete_quizzes": True,
            "mastery_sessions": 6, "mastery_quiz_pct": 100}
# Priya's sessions: the last free time with Maya in each of these weeks (days before now).
WEEKS = ((29, 22), (22, 15), (15, 8), (8, 1))
MODULES_TICKED = 3
STARS = (5, 4, 5, 5)


async def _python_quiz(db: Database, course_id: int) -> None:
    async with db.uow() as uow:
        course = await uow.session.get(Course, course_id)
        assert course is not None
        quiz = await add_quiz(uow, course, title=QUIZ_TITLE, pass_pct=QUIZ_PASS_PCT)
        for text in QUESTIONS:
            await add_question(uow, quiz, parse_question(text))
        set_criteria(course, **CRITERIA)  # type: ignore[arg-type]


async def _past_session(db: Database, student_id: int, teacher_id: int, course_id: int,
                        after: datetime, before: datetime, stars: int) -> int:
    """Book, pay (through the sandbox's event path) and complete one session in the past."""
    booked_at = FrozenClock(after - timedelta(days=1))
    async with db.uow(booked_at) as uow:
        student = await uow.session.get(User, student_id)
        teacher = await uow.session.get(User, teacher_id)
        course = await uow.session.get(Course, course_id)
        assert student is not None and teacher is not None and course is not None
        slots = await list_free_slots(uow, [teacher], course.session_minutes,
                                      student_id=student.id, start=after, end=before)
        booking = await hold_slot(uow, student, course.id, teacher.id, slots[-1].starts_at)
        ref = f"demo_{booking.id}"
        payment = await record_checkout(uow, booking, "sandbox", ref, "")
        await handle_event(uow, PaymentEvent(
            "sandbox", f"evt_{ref}", CHECKOUT_PAID, checkout_ref=payment.checkout_ref,
            charge_ref=f"ch_{ref}", amount=booking.price, booking_id=booking.id), {})
        booking_id, ends_at = booking.id, booking.ends_at
    async with db.uow(FrozenClock(ends_at + timedelta(minutes=10))) as uow:
        for who in (student_id, teacher_id):
            person = await uow.session.get(User, who)
            assert person is not None
            await record_report(uow, person, booking_id, "held")
        student = await uow.session.get(User, student_id)
        assert student is not None
        await record_review(uow, student, booking_id, stars=stars,
                            covered="Worked through the module's exercises together.")
    return booking_id


async def _tick(db: Database, student_id: int, booking_ids: list[int]) -> None:
    async with db.uow() as uow:
        for booking_id in booking_ids:
            module = await module_of_session(uow, booking_id)
            assert module is not None
            await mark_module_done(uow, student_id, module.id)


async def _teaching_certificates(db: Database, creator_id: int) -> None:
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(CourseTeacher.teacher_id,
                                                 CourseTeacher.course_id))).all()
        for teacher_id, course_id in rows:
            if teacher_id != creator_id:
                await issue_teaching_certificate(uow, teacher_id, course_id, creator_id)


async def _delivered_back_then(db: Database, booking_ids: list[int]) -> None:
    """What those past sessions sent (receipts, reminders) was delivered at the time; the
    demo must not replay it into the terminal now."""
    async with db.uow() as uow:
        await uow.session.execute(update(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None)).values(sent_at=OutboxMessage.created_at))
        await uow.session.execute(update(Reminder).where(
            Reminder.booking_id.in_(booking_ids), Reminder.sent_at.is_(None))
            .values(sent_at=Reminder.due_at))


async def seed_history(db: Database, users: dict[str, User], python_id: int) -> None:
    """Priya's past with Python from Zero; call once, on a freshly seeded catalogue."""
    await _python_quiz(db, python_id)
    now = db.clock.now()
    priya, maya = users["priya"].id, users["maya"].id
    booking_ids = [
        await _past_session(db, priya, maya, python_id, now - timedelta(days=early),
                            now - timedelta(days=late), stars)
        for (early, late), stars in zip(WEEKS, STARS, strict=True)
    ]
    await _tick(db, priya, booking_ids[:MODULES_TICKED])
    await _teaching_certificates(db, users["ada"].id)
    await _delivered_back_then(db, booking_ids)
