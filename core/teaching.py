"""From student to teacher: a certified student applies to teach a course, its creator
endorses, the admin vets; then they teach it (a Teaching certificate on their profile).
The creator or the admin monitors a course's teachers and may suspend one, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from core.account import grant_role
from core.catalogue import forget_course_teachers
from core.certificates import issue_teaching_certificate
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import (
    Booking,
    Certificate,
    Course,
    CourseTeacher,
    TeacherSettings,
    TeachingApplication,
    User,
    UserRole,
)
from core.outbox import notify
from core.review import Reputation, teacher_reputations
from core.text import clean_line, clean_reason
from core.uow import UnitOfWork


async def holds_certificate(uow: UnitOfWork, user_id: int, course_id: int,
                            kind: str = "completion") -> bool:
    return await uow.session.scalar(select(Certificate.id).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id,
        Certificate.kind == kind, Certificate.revoked_at.is_(None))) is not None


async def _teacher_row(uow: UnitOfWork, course_id: int, user_id: int) -> CourseTeacher | None:
    return await uow.session.scalar(select(CourseTeacher).where(
        CourseTeacher.course_id == course_id, CourseTeacher.teacher_id == user_id))


async def _admins(uow: UnitOfWork) -> list[User]:
    return list((await uow.session.scalars(select(User).join(
        UserRole, UserRole.user_id == User.id).where(UserRole.role == "admin"))).all())


async def apply_to_teach(uow: UnitOfWork, user: User, course_id: int,
                         motivation: str = "") -> TeachingApplication:
    """An application (the open one again on a repeat); needs the Completion certificate."""
    course = await uow.session.get(Course, course_id) if is_valid_id(course_id) else None
    if course is None or course.status == "draft":
        raise NotFound("course")
    if course.status == "retired":
        raise InvalidInput("That course is retired: it takes no new teachers.")
    row = await _teacher_row(uow, course.id, user.id)
    if row is not None and row.status == "active":
        raise InvalidInput(f"You already teach {course.title}.")
    if row is not None and row.status == "suspended":
        raise InvalidInput(f"Your teaching of {course.title} is suspended "
                           f"({row.suspended_reason}). Ask the creator to reinstate you.")
    if not await holds_certificate(uow, user.id, course.id):
        raise InvalidInput(f"Teaching {course.title} needs its Completion certificate first. "
                           "Finish the course (/learn shows what's left) and ask your "
                           "teacher to recommend you.")
    existing = await uow.session.scalar(select(TeachingApplication).where(
        TeachingApplication.course_id == course.id, TeachingApplication.user_id == user.id,
        TeachingApplication.status.in_(("pending", "endorsed"))))
    if existing is not None:
        return existing
    application = TeachingApplication(
        course_id=course.id, user_id=user.id, status="pending",
        motivation=clean_line(motivation, what="note", least=0, most=500) if motivation
        else "", created_at=uow.clock.now())
    async with uow.session.begin_nested():
        uow.session.add(application)
        await uow.session.flush()
    creator = await uow.session.get(User, course.creator_id)
    assert creator is not None
    await notify(uow, creator, "teach_application",
                 f"🧑‍🏫 {user.display_name} applied to teach {course.title}. "
                 "See /applications.")
    return application


@dataclass(frozen=True)
class ApplicationView:
    application: TeachingApplication
    course: Course
    applicant: User


async def open_applications(uow: UnitOfWork, user: User) -> list[ApplicationView]:
    """What waits for this person: pending ones of their courses (creator), endorsed ones of
    every course (admin)."""
    conditions = []
    if "admin" in user.role_names:
        conditions.append(TeachingApplication.status == "endorsed")
    conditions.append((TeachingApplication.status == "pending") & (
        Course.creator_id == user.id))
    rows = await uow.session.execute(
        select(TeachingApplication, Course, User).join(
            Course, Course.id == TeachingApplication.course_id).join(
            User, User.id == TeachingApplication.user_id).where(or_(*conditions))
        .order_by(TeachingApplication.created_at).limit(20))
    return [ApplicationView(a, c, u) for a, c, u in rows.all()]


async def _application(uow: UnitOfWork, application_id: int) -> ApplicationView:
    row = (await uow.session.execute(
        select(TeachingApplication, Course, User).join(
            Course, Course.id == TeachingApplication.course_id).join(
            User, User.id == TeachingApplication.user_id).where(
            TeachingApplication.id == application_id).with_for_update(
            of=TeachingApplication))).one_or_none() if is_valid_id(
        application_id) else None
    if row is None:
        raise NotFound("application")
    return ApplicationView(*row)


async def decide_application(uow: UnitOfWork, decider: User, application_id: int, *,
                             approve: bool, reason: str | None = None) -> ApplicationView:
    """The creator endorses (or declines) a pending application; the admin approves (or
    declines) an endorsed one. A repeated click reports what was already decided."""
    view = await _application(uow, application_id)
    app, course = view.application, view.course
    admin = "admin" in decider.role_names
    if app.status == "pending" and course.creator_id == decider.id:
        stage = "endorse"
    elif app.status == "endorsed" and admin:
        stage = "vet"
    elif course.creator_id == decider.id or admin:
        raise InvalidInput(f"That application is already {app.status}.")
    else:
        raise NotFound("application")
    why = None if approve else clean_reason(reason)
    now = uow.clock.now()
    applicant = await uow.session.get(User, app.user_id, options=[selectinload(User.roles)])
    assert applicant is not None
    if not approve:
        app.status, app.reason, app.decided_by, app.decided_at = "declined", why, decider.id, now
        await notify(uow, applicant, "teach_declined",
                     f"Your application to teach {course.title} was declined: {why}")
        return view
    if stage == "endorse":
        app.status, app.endorsed_by = "endorsed", decider.id
        for admin_user in await _admins(uow):
            await notify(uow, admin_user, "teach_endorsed",
                         f"🧑‍🏫 {course.title}: the creator endorsed {applicant.display_name} "
                         "to teach. Vet it in /applications.")
        await notify(uow, applicant, "teach_endorsed",
                     f"The creator of {course.title} endorsed your application; the admin "
                     "vets it next.")
        return view
    app.status, app.decided_by, app.decided_at = "approved", decider.id, now
    row = await _teacher_row(uow, course.id, applicant.id)
    if row is None:
        uow.session.add(CourseTeacher(course_id=course.id, teacher_id=applicant.id,
                                      status="active", approved_at=now))
    else:
        row.status, row.approved_at, row.suspended_at = "active", now, None
    forget_course_teachers(uow, course.id)
    grant_role(uow, applicant, "teacher")
    await issue_teaching_certificate(uow, applicant.id, course.id, decider.id)
    await notify(uow, applicant, "teach_approved",
                 f"🎉 You now teach {course.title}! You earn 70% of every session. Set your "
                 "hours with /availability; students find you in the course's teachers.")
    return view


@dataclass(frozen=True)
class TeacherRecord:
    teacher: User
    status: str
    reason: str | None
    sessions: int
    students: int
    reputation: Reputation
    listed: bool


async def course_teachers(uow: UnitOfWork, course_id: int, *, listed_only: bool = False,
                          active_only: bool = False) -> list[TeacherRecord]:
    """Every teacher of a course with what they did in it (the directory shows the active,
    listed ones; the creator and admin see everyone)."""
    rows = (await uow.session.execute(
        select(CourseTeacher, User, func.coalesce(TeacherSettings.listed, True)).join(
            User, User.id == CourseTeacher.teacher_id).outerjoin(
            TeacherSettings, TeacherSettings.user_id == User.id).where(
            CourseTeacher.course_id == course_id).order_by(User.display_name))).all()
    ids = [u.id for _, u, _ in rows]
    done = dict((await uow.session.execute(
        select(Booking.teacher_id, func.count()).where(
            Booking.course_id == course_id, Booking.kind == "lesson",
            Booking.status == "completed", Booking.teacher_id.in_(ids))
        .group_by(Booking.teacher_id))).all()) if ids else {}
    taught = dict((await uow.session.execute(
        select(Booking.teacher_id, func.count(func.distinct(Booking.student_id))).where(
            Booking.course_id == course_id, Booking.kind == "lesson",
            Booking.status == "completed", Booking.teacher_id.in_(ids))
        .group_by(Booking.teacher_id))).all()) if ids else {}
    reps = await teacher_reputations(uow, ids)
    records = [TeacherRecord(u, ct.status, ct.suspended_reason, int(done.get(u.id, 0)),
                             int(taught.get(u.id, 0)), reps[u.id], bool(listed))
               for ct, u, listed in rows]
    if active_only:
        records = [r for r in records if r.status == "active"]
    if listed_only:
        records = [r for r in records if r.listed]
    return records


async def set_suspended(uow: UnitOfWork, actor: User, course_id: int, teacher_id: int, *,
                        suspended: bool, reason: str | None = None) -> CourseTeacher:
    """The creator or the admin suspends a teacher of a course (a reason is needed and sent
    to them) or reinstates them; existing bookings stand."""
    course = await uow.session.get(Course, course_id) if is_valid_id(course_id) else None
    if course is None or (course.creator_id != actor.id and "admin" not in actor.role_names):
        raise NotFound("course")
    row = await _teacher_row(uow, course.id, teacher_id) if is_valid_id(teacher_id) else None
    if row is None:
        raise NotFound("teacher")
    teacher = await uow.session.get(User, teacher_id)
    assert teacher is not None
    if suspended:
        why = clean_reason(reason)
        if row.status == "suspended":
            return row
        row.status, row.suspended_at = "suspended", uow.clock.now()
        forget_course_teachers(uow, course.id)
        row.suspended_reason, row.suspended_by = why, actor.id
        await notify(uow, teacher, "teacher_suspended",
                     f"Your teaching of {course.title} is suspended: {why}. Students can't "
                     "book you for it until you are reinstated.")
    elif row.status == "suspended":
        row.status, row.suspended_at, row.suspended_reason = "active", None, None
        forget_course_teachers(uow, course.id)
        await notify(uow, teacher, "teacher_reinstated",
                     f"You teach {course.title} again: students can book you.")
    return row
