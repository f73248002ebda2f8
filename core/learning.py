"""Taking a course: enrolment (made when the first paid session is confirmed), the module
each session is for, module progress (markable only after that module's session was
completed), and where a student stands against the course's completion and mastery criteria."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.inquiry import mark_inquiry_conversion
from core.models import (
    Booking,
    Course,
    CourseModule,
    Enrolment,
    ModuleProgress,
    Quiz,
    QuizAttempt,
    SessionModule,
)
from core.uow import UnitOfWork


async def enrolment_of(uow: UnitOfWork, course_id: int, student_id: int) -> Enrolment | None:
    return await uow.session.scalar(select(Enrolment).where(
        Enrolment.course_id == course_id, Enrolment.student_id == student_id))


async def enrol(uow: UnitOfWork, booking: Booking) -> Enrolment | None:
    """Enrol the student of a paid lesson in its course (once; intros never enrol). The
    latest intro with a teacher of the course is recorded as the conversion source."""
    if booking.kind != "lesson":
        return None
    existing = await enrolment_of(uow, booking.course_id, booking.student_id)
    if existing is not None:
        return existing
    intro = await uow.session.scalar(select(Booking.id).where(
        Booking.student_id == booking.student_id, Booking.course_id == booking.course_id,
        Booking.kind == "intro", Booking.status.in_(("confirmed", "completed")),
    ).order_by(Booking.starts_at.desc()).limit(1))
    await uow.session.execute(uow.insert(Enrolment).values(
        course_id=booking.course_id, student_id=booking.student_id, status="active",
        enrolled_at=uow.clock.now(), intro_booking_id=intro).on_conflict_do_nothing())
    enrolment = await enrolment_of(uow, booking.course_id, booking.student_id)
    if enrolment is not None:
        await mark_inquiry_conversion(uow, booking.student_id, booking.course_id, enrolment.id)
    return enrolment


async def assign_module(uow: UnitOfWork, booking: Booking) -> int | None:
    """The session is for the first module the student has neither done nor booked."""
    if booking.kind != "lesson":
        return None
    done = exists().where(
        ModuleProgress.module_id == CourseModule.id,
        ModuleProgress.enrolment_id == Enrolment.id,
        Enrolment.course_id == booking.course_id,
        Enrolment.student_id == booking.student_id)
    other = aliased(Booking)
    planned = exists().where(
        SessionModule.module_id == CourseModule.id, SessionModule.booking_id == other.id,
        other.student_id == booking.student_id, other.course_id == booking.course_id,
        other.id != booking.id, other.status.in_(("held", "confirmed", "completed")))
    rows = (await uow.session.execute(  # each module, whether done, whether booked: one read
        select(CourseModule.id, done, planned).where(
            CourseModule.course_id == booking.course_id).order_by(CourseModule.position))).all()
    if not rows:
        return None
    modules = [m for m, _, _ in rows]
    done_ids = {m for m, is_done, _ in rows if is_done}
    free = [m for m, is_done, is_planned in rows if not is_done and not is_planned]
    module_id = free[0] if free else next((m for m in modules if m not in done_ids),
                                          modules[-1])
    await uow.session.execute(uow.insert(SessionModule).values(
        booking_id=booking.id, module_id=module_id).on_conflict_do_nothing())
    return module_id


async def module_of_session(uow: UnitOfWork, booking_id: int) -> CourseModule | None:
    return await uow.session.scalar(select(CourseModule).join(
        SessionModule, SessionModule.module_id == CourseModule.id).where(
        SessionModule.booking_id == booking_id))


async def mark_module_done(uow: UnitOfWork, student_id: int, module_id: int) -> ModuleProgress:
    """Tick a module off; refused until a session for it has been completed."""
    module = await uow.session.get(CourseModule, module_id) if is_valid_id(module_id) else None
    if module is None:
        raise NotFound("module")
    enrolment = await enrolment_of(uow, module.course_id, student_id)
    if enrolment is None:
        raise NotFound("module")
    existing = await uow.session.get(ModuleProgress, (enrolment.id, module.id))
    if existing is not None:
        return existing  # a double click: already done
    session = await uow.session.scalar(select(Booking.id).join(
        SessionModule, SessionModule.booking_id == Booking.id).where(
        SessionModule.module_id == module.id, Booking.student_id == student_id,
        Booking.status == "completed").order_by(Booking.starts_at).limit(1))
    if session is None:
        raise InvalidInput(f"“{module.title}” can be marked done once its session has "
                           "taken place. Book it with /book.")
    await uow.session.execute(uow.insert(ModuleProgress).values(
        enrolment_id=enrolment.id, module_id=module.id, booking_id=session,
        done_at=uow.clock.now()).on_conflict_do_nothing())
    progress = await uow.session.get(ModuleProgress, (enrolment.id, module.id))
    assert progress is not None
    return progress


@dataclass(frozen=True)
class Standing:
    """Where one student is in one course, against its completion and mastery criteria."""

    course: Course
    sessions_done: int
    modules_done: frozenset[int]
    modules: tuple[CourseModule, ...]
    quizzes_passed: frozenset[int]
    quizzes: tuple[Quiz, ...]
    best_pct: dict[int, int] = field(default_factory=dict)  # quiz id → best score

    @property
    def module_pct(self) -> int:
        return round(100 * len(self.modules_done) / len(self.modules)) if self.modules else 0

    def missing_for_completion(self) -> list[str]:
        c = self.course
        missing = []
        if self.sessions_done < c.complete_sessions:
            missing.append(f"{c.complete_sessions - self.sessions_done} more session(s)")
        if c.complete_modules and len(self.modules_done) < len(self.modules):
            missing.append(f"{len(self.modules) - len(self.modules_done)} module(s) to mark "
                           "done")
        if c.complete_quizzes and len(self.quizzes_passed) < len(self.quizzes):
            missing.append(f"{len(self.quizzes) - len(self.quizzes_passed)} quiz(zes) to pass")
        return missing

    def missing_for_mastery(self) -> list[str]:
        c = self.course
        missing = self.missing_for_completion()
        if self.sessions_done < c.mastery_sessions:
            missing.append(f"{c.mastery_sessions} sessions in all (you have "
                           f"{self.sessions_done})")
        low = [q.title for q in self.quizzes if self.best_pct.get(q.id, 0) < c.mastery_quiz_pct]
        if low:
            missing.append(f"{c.mastery_quiz_pct}% or more in: {', '.join(low)}")
        return missing

    @property
    def complete(self) -> bool:
        return not self.missing_for_completion()

    @property
    def mastered(self) -> bool:
        return not self.missing_for_mastery()


async def standings(uow: UnitOfWork, course: Course, student_ids: list[int]
                    ) -> dict[int, Standing]:
    """Standing of several students in one course, in five statements whatever their number
    (the creator's dashboard shows every student at once)."""
    modules = tuple((await uow.session.scalars(select(CourseModule).where(
        CourseModule.course_id == course.id).order_by(CourseModule.position))).all())
    quizzes = tuple((await uow.session.scalars(select(Quiz).where(
        Quiz.course_id == course.id).order_by(Quiz.id))).all())
    sessions = dict((await uow.session.execute(
        select(Booking.student_id, func.count()).where(
            Booking.course_id == course.id, Booking.kind == "lesson",
            Booking.status == "completed", Booking.student_id.in_(student_ids))
        .group_by(Booking.student_id))).all())
    done: dict[int, set[int]] = {s: set() for s in student_ids}
    for student_id, module_id in (await uow.session.execute(
            select(Enrolment.student_id, ModuleProgress.module_id).join(
                ModuleProgress, ModuleProgress.enrolment_id == Enrolment.id).where(
                Enrolment.course_id == course.id,
                Enrolment.student_id.in_(student_ids)))).all():
        done[student_id].add(module_id)
    best: dict[int, dict[int, int]] = {s: {} for s in student_ids}
    passed: dict[int, set[int]] = {s: set() for s in student_ids}
    if quizzes:
        for user_id, quiz_id, top, any_pass in (await uow.session.execute(
                select(QuizAttempt.user_id, QuizAttempt.quiz_id,
                       func.max(QuizAttempt.score_pct),
                       func.max(case((QuizAttempt.passed, 1), else_=0)))
                .where(QuizAttempt.quiz_id.in_([q.id for q in quizzes]),
                       QuizAttempt.user_id.in_(student_ids))
                .group_by(QuizAttempt.user_id, QuizAttempt.quiz_id))).all():
            best[user_id][quiz_id] = int(top)
            if any_pass:
                passed[user_id].add(quiz_id)
    return {s: Standing(course, int(sessions.get(s, 0)), frozenset(done[s]), modules,
                        frozenset(passed[s]), quizzes, best[s]) for s in student_ids}


async def standing(uow: UnitOfWork, course: Course, student_id: int) -> Standing:
    return (await standings(uow, course, [student_id]))[student_id]


async def list_enrolments(uow: UnitOfWork, student_id: int) -> list[tuple[Enrolment, Course]]:
    rows = await uow.session.execute(select(Enrolment, Course).join(
        Course, Course.id == Enrolment.course_id).where(
        Enrolment.student_id == student_id).order_by(Enrolment.enrolled_at))
    return [(e, c) for e, c in rows.all()]


async def course_students(uow: UnitOfWork, course_id: int) -> list[int]:
    return list((await uow.session.scalars(select(Enrolment.student_id).where(
        Enrolment.course_id == course_id).order_by(Enrolment.enrolled_at))).all())
