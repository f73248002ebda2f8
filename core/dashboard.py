"""What matters now for each role one person holds, gathered for /dashboard in a bounded
number of statements however much data there is (counts in SQL, never a query per row)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from core.earnings import Earnings, get_earnings
from core.escrow import list_releasable
from core.learning import list_enrolments
from core.messaging import unread_count
from core.models import (
    ACTIVE_STATUSES,
    Booking,
    Certificate,
    CertificationRequest,
    Course,
    CourseModule,
    CourseTeacher,
    Enrolment,
    ModuleProgress,
    Quiz,
    QuizAttempt,
    Report,
    TeachingApplication,
    User,
)
from core.money import Money
from core.outbox import outbox_health
from core.uow import UnitOfWork

RELEASES_COUNTED = 500  # the admin's queue is counted up to here; beyond, "500+"


@dataclass(frozen=True)
class NextSession:
    booking_id: int
    starts_at: datetime
    status: str
    course_title: str
    other_name: str


@dataclass(frozen=True)
class CourseProgress:
    course_id: int
    title: str
    modules: int
    modules_done: int

    @property
    def pct(self) -> int:
        return round(100 * self.modules_done / self.modules) if self.modules else 0


@dataclass(frozen=True)
class AdminQueues:
    releases: int
    releases_more: bool  # more than RELEASES_COUNTED wait
    releases_total: tuple[Money, ...]  # one amount per currency
    applications: int  # endorsed by the creator, waiting for the admin
    failed_messages: int
    open_reports: int


@dataclass
class Dashboard:
    next_as_student: NextSession | None = None
    next_as_teacher: NextSession | None = None
    teaching_upcoming: int = 0
    courses: list[CourseProgress] = field(default_factory=list)
    ready_to_recommend: int = 0
    certificate_requests: int = 0  # pending for courses this person created
    creator_applications: int = 0  # pending for courses this person created
    admin: AdminQueues | None = None
    earnings: Earnings | None = None
    unread: int = 0


def _upcoming(uow: UnitOfWork, mine: ColumnElement[bool]) -> ColumnElement[bool]:
    """Active and not over yet, as /mybookings lists them (a lapsed hold is gone)."""
    now = uow.clock.now()
    return and_(mine, Booking.status.in_(ACTIVE_STATUSES), Booking.ends_at > now,
                or_(Booking.status != "held", Booking.hold_expires_at > now))


async def _next(uow: UnitOfWork, user: User, *, teaching: bool) -> tuple[NextSession | None, int]:
    """The soonest active session on one side, and how many there are (one statement:
    the window count is taken before LIMIT)."""
    mine, theirs = ((Booking.teacher_id, Booking.student_id) if teaching
                    else (Booking.student_id, Booking.teacher_id))
    other = aliased(User)
    row = (await uow.session.execute(
        select(Booking.id, Booking.starts_at, Booking.status, Course.title, other.display_name,
               func.count().over())
        .join(Course, Course.id == Booking.course_id).join(other, other.id == theirs)
        .where(_upcoming(uow, mine == user.id))
        .order_by(Booking.starts_at).limit(1))).first()
    if row is None:
        return None, 0
    booking_id, starts_at, status, title, name, total = row
    return NextSession(booking_id, starts_at, status, title, name), int(total)


async def _progress(uow: UnitOfWork, user: User) -> list[CourseProgress]:
    """Module progress in every enrolled course: the enrolments, then one aggregate."""
    enrolments = await list_enrolments(uow, user.id)
    if not enrolments:
        return []
    modules = select(func.count(CourseModule.id)).where(
        CourseModule.course_id == Enrolment.course_id).scalar_subquery()
    done = select(func.count()).select_from(ModuleProgress).where(
        ModuleProgress.enrolment_id == Enrolment.id).scalar_subquery()
    counts = {enrolment_id: (int(m), int(d)) for enrolment_id, m, d in (
        await uow.session.execute(select(Enrolment.id, modules, done).where(
            Enrolment.student_id == user.id))).all()}
    return [CourseProgress(c.id, c.title, *counts.get(e.id, (0, 0))) for e, c in enrolments]


async def _ready_to_recommend(uow: UnitOfWork, teacher: User) -> int:
    """Students this teacher taught who meet their course's completion criteria and are
    neither certified nor recommended yet — the test of core.certificates, in SQL."""
    taught = select(Booking.course_id, Booking.student_id).where(
        Booking.teacher_id == teacher.id, Booking.kind == "lesson",
        Booking.status == "completed").distinct().subquery()
    done = aliased(Booking)
    sessions = select(func.count(done.id)).where(
        done.course_id == taught.c.course_id, done.student_id == taught.c.student_id,
        done.kind == "lesson", done.status == "completed").scalar_subquery()
    modules = select(func.count(CourseModule.id)).where(
        CourseModule.course_id == Course.id).scalar_subquery()
    modules_done = select(func.count()).select_from(ModuleProgress).where(
        ModuleProgress.enrolment_id == Enrolment.id).scalar_subquery()
    quizzes = select(func.count(Quiz.id)).where(Quiz.course_id == Course.id).scalar_subquery()
    passed = select(func.count(func.distinct(QuizAttempt.quiz_id))).join(
        Quiz, Quiz.id == QuizAttempt.quiz_id).where(
        Quiz.course_id == Course.id, QuizAttempt.user_id == taught.c.student_id,
        QuizAttempt.passed.is_(True)).scalar_subquery()
    certified = select(Certificate.id).where(
        Certificate.user_id == taught.c.student_id, Certificate.course_id == Course.id,
        Certificate.kind == "completion", Certificate.revoked_at.is_(None)).exists()
    asked = select(CertificationRequest.id).where(
        CertificationRequest.student_id == taught.c.student_id,
        CertificationRequest.course_id == Course.id, CertificationRequest.kind == "completion",
        CertificationRequest.status == "pending").exists()
    count = await uow.session.scalar(
        select(func.count()).select_from(taught)
        .join(Course, Course.id == taught.c.course_id)
        .join(CourseTeacher, (CourseTeacher.course_id == Course.id)
              & (CourseTeacher.teacher_id == teacher.id) & (CourseTeacher.status == "active"))
        .join(Enrolment, (Enrolment.course_id == Course.id)
              & (Enrolment.student_id == taught.c.student_id))
        .where(Course.status != "draft", ~certified, ~asked,
               sessions >= Course.complete_sessions,
               or_(Course.complete_modules.is_(False), modules_done >= modules),
               or_(Course.complete_quizzes.is_(False), passed >= quizzes)))
    return int(count or 0)


async def _applications(uow: UnitOfWork, user: User, admin: bool) -> tuple[int, int]:
    """Applications to teach waiting for this person: (as creator, as admin)."""
    mine = and_(TeachingApplication.status == "pending", Course.creator_id == user.id)
    endorsed = TeachingApplication.status == "endorsed"
    as_creator, as_admin = (await uow.session.execute(
        select(func.count(case((mine, 1))), func.count(case((endorsed, 1))))
        .join(Course, Course.id == TeachingApplication.course_id)
        .where(or_(mine, endorsed) if admin else mine))).one()
    return int(as_creator), int(as_admin)


async def _admin(uow: UnitOfWork, applications: int) -> AdminQueues:
    releasable = await list_releasable(uow, limit=RELEASES_COUNTED)
    totals: dict[str, int] = defaultdict(int)
    for item in releasable:
        totals[item.amount.currency] += item.amount.minor
    health = await outbox_health(uow, show=0)
    reports = await uow.session.scalar(
        select(func.count(Report.id)).where(Report.resolved_at.is_(None)))
    return AdminQueues(len(releasable), len(releasable) >= RELEASES_COUNTED,
                       tuple(Money(m, c) for c, m in sorted(totals.items())), applications,
                       health.failed, int(reports or 0))


async def get_dashboard(uow: UnitOfWork, user: User) -> Dashboard:
    """Everything /dashboard shows for this person; sections of roles they don't hold stay
    empty (and cost no statement)."""
    roles = user.role_names
    board = Dashboard(unread=await unread_count(uow, user.id))
    board.next_as_student, _ = await _next(uow, user, teaching=False)
    board.courses = await _progress(uow, user)
    if "teacher" in roles:
        board.next_as_teacher, board.teaching_upcoming = await _next(uow, user, teaching=True)
        board.ready_to_recommend = await _ready_to_recommend(uow, user)
    admin = "admin" in roles
    if "creator" in roles or admin:
        board.creator_applications, endorsed = await _applications(uow, user, admin)
        if "creator" in roles:
            board.certificate_requests = int(await uow.session.scalar(
                select(func.count(CertificationRequest.id)).join(
                    Course, Course.id == CertificationRequest.course_id).where(
                    Course.creator_id == user.id, CertificationRequest.status == "pending"))
                or 0)
        if admin:
            board.admin = await _admin(uow, endorsed)
    if roles & {"teacher", "creator"}:
        board.earnings = await get_earnings(uow, user)
    return board
