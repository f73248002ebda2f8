"""Reading the course catalogue and who teaches what: search with filters, one course's
card (its teacher directory with next free times), a creator's published courses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.availability import list_free_slots
from core.db import is_valid_id
from core.errors import NotFound
from core.models import Course, CourseTeacher, TeacherSettings, User
from core.models.catalogue import LEVELS
from core.money import CURRENCIES, Money
from core.uow import UnitOfWork

DIRECTORY_DAYS = 14  # how far ahead a course card looks for each teacher's next free time


async def list_courses(uow: UnitOfWork, *, limit: int = 50) -> list[tuple[Course, int]]:
    """Published courses with their count of active teachers, alphabetical."""
    teachers = (
        select(CourseTeacher.course_id, func.count().label("n"))
        .where(CourseTeacher.status == "active")
        .group_by(CourseTeacher.course_id)
        .subquery()
    )
    stmt = (
        select(Course, func.coalesce(teachers.c.n, 0))
        .outerjoin(teachers, teachers.c.course_id == Course.id)
        .where(Course.status == "published")
        .order_by(Course.title)
        .limit(limit)
    )
    return [(course, int(n)) for course, n in (await uow.session.execute(stmt)).all()]


async def get_published_course(
    uow: UnitOfWork, course_id: int, *, with_modules: bool = False
) -> Course:
    if not is_valid_id(course_id):
        raise NotFound("course")
    if with_modules:
        stmt = select(Course).where(Course.id == course_id).options(selectinload(Course.modules))
        course = (await uow.session.scalars(stmt)).one_or_none()
    else:
        course = await course_by_id(uow, course_id)
    if course is None or course.status != "published":
        raise NotFound("course")
    uow.memo[("course", course_id)] = course
    return course


async def course_by_id(uow: UnitOfWork, course_id: int) -> Course | None:
    """Any course by a valid id, read once per transaction: a flow step asks for its course
    several times (held here: the session's identity map keeps only weak references)."""
    course = uow.memo.get(("course", course_id)) or await uow.session.get(Course, course_id)
    if course is not None:
        uow.memo[("course", course_id)] = course
    return course


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


async def find_course_by_slug(uow: UnitOfWork, slug: str) -> Course | None:
    """A published course by its slug; anything that cannot be a slug never reaches SQL
    (PostgreSQL refuses NUL bytes outright)."""
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        return None
    stmt = select(Course).where(Course.slug == slug, Course.status == "published")
    course = (await uow.session.scalars(stmt)).one_or_none()
    if course is not None:
        uow.memo[("course", course.id)] = course
    return course


def _teachers_key(course_id: int) -> tuple[str, int]:
    return ("course_teachers", course_id)


def forget_course_teachers(uow: UnitOfWork, course_id: int) -> None:
    """Who teaches the course changed in this transaction: read it afresh next time."""
    uow.memo.pop(_teachers_key(course_id), None)


async def list_course_teachers(uow: UnitOfWork, course_id: int) -> list[User]:
    """The course's active teachers by name (read once per transaction: a booking step
    asks for them while offering times and again while showing the choice)."""
    key = _teachers_key(course_id)
    if key not in uow.memo:
        stmt = (
            select(User)
            .join(CourseTeacher, CourseTeacher.teacher_id == User.id)
            .where(CourseTeacher.course_id == course_id, CourseTeacher.status == "active")
            .order_by(User.display_name)
            .options(joinedload(User.roles))  # with them, not in a second statement
        )
        uow.memo[key] = list((await uow.session.scalars(stmt)).unique().all())
    return list(uow.memo[key])


async def find_course_teacher(uow: UnitOfWork, course_id: int, teacher_id: int) -> User | None:
    """The course's active teacher with this id, with their roles (one statement, or none
    when this transaction already listed the course's teachers)."""
    known = uow.memo.get(_teachers_key(course_id))
    if known is not None:
        return next((t for t in known if t.id == teacher_id), None)
    stmt = (
        select(User)
        .join(CourseTeacher, CourseTeacher.teacher_id == User.id)
        .where(CourseTeacher.course_id == course_id, CourseTeacher.teacher_id == teacher_id,
               CourseTeacher.status == "active")
        .options(joinedload(User.roles))
    )
    return (await uow.session.scalars(stmt)).unique().one_or_none()


async def is_active_teacher(uow: UnitOfWork, course_id: int, teacher_id: int) -> bool:
    stmt = select(CourseTeacher.id).where(
        CourseTeacher.course_id == course_id,
        CourseTeacher.teacher_id == teacher_id,
        CourseTeacher.status == "active",
    )
    return (await uow.session.scalar(stmt)) is not None


@dataclass(frozen=True)
class CourseQuery:
    """What someone browsing asked for: words (title, description or creator name), a
    level, a top price in major units of each course's own currency, a creator."""

    words: tuple[str, ...] = ()
    level: str | None = None
    max_price: Decimal | None = None
    creator: str | None = None  # part of the creator's name
    creator_id: int | None = None

    @property
    def filtered(self) -> bool:
        return any(x is not None for x in (self.level, self.max_price, self.creator,
                                           self.creator_id))


@dataclass(frozen=True)
class Listing:
    course: Course
    teachers: int  # active teachers
    creator_name: str


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _price_at_most(most: Decimal) -> ColumnElement[bool]:
    """Price ≤ ``most`` major units, compared in minor units per currency (no floats)."""
    most = min(most, Decimal(10**9))  # beyond any price; keeps the bound inside BIGINT
    limits = []
    for currency in sorted(CURRENCIES):
        unit = Money.parse("1", currency).minor
        limits.append(and_(Course.currency == currency,
                           Course.price_minor <= int(most * unit)))
    return or_(*limits)


def _matches(query: CourseQuery) -> list[ColumnElement[bool]]:
    """Case-insensitive (ILIKE; lower() on SQLite folds ASCII letters only)."""
    conditions: list[ColumnElement[bool]] = [Course.status == "published"]
    for word in query.words:
        pattern = _like(word)
        conditions.append(or_(Course.title.ilike(pattern, escape="\\"),
                              Course.description.ilike(pattern, escape="\\"),
                              User.display_name.ilike(pattern, escape="\\")))
    if query.level is not None:
        conditions.append(Course.level == query.level if query.level in LEVELS else false())
    if query.max_price is not None:
        conditions.append(_price_at_most(query.max_price) if query.max_price >= 0 else false())
    if query.creator is not None:
        conditions.append(User.display_name.ilike(_like(query.creator), escape="\\"))
    if query.creator_id is not None:
        conditions.append(Course.creator_id == query.creator_id
                          if is_valid_id(query.creator_id) else false())
    return conditions


async def search_courses(uow: UnitOfWork, query: CourseQuery, *,
                         limit: int = 200) -> list[Listing]:
    """Published courses matching every word and filter, alphabetical (retired ones are
    not offered to newcomers)."""
    teachers = (
        select(CourseTeacher.course_id, func.count().label("n"))
        .where(CourseTeacher.status == "active")
        .group_by(CourseTeacher.course_id)
        .subquery()
    )
    stmt = (
        select(Course, func.coalesce(teachers.c.n, 0), User.display_name)
        .join(User, User.id == Course.creator_id)
        .outerjoin(teachers, teachers.c.course_id == Course.id)
        .where(*_matches(query))
        .order_by(Course.title, Course.id)
        .limit(limit)
    )
    return [Listing(course, int(n), str(name))
            for course, n, name in (await uow.session.execute(stmt)).all()]


async def list_creators(uow: UnitOfWork, *, limit: int = 4) -> list[tuple[int, str]]:
    """Creators with published courses, those with the most courses first (filter buttons)."""
    stmt = (select(User.id, User.display_name)
            .join(Course, Course.creator_id == User.id)
            .where(Course.status == "published")
            .group_by(User.id, User.display_name)
            .order_by(func.count().desc(), User.display_name).limit(limit))
    return [(int(i), str(n)) for i, n in (await uow.session.execute(stmt)).all()]


async def get_course_for_card(uow: UnitOfWork, course_id: int, viewer_id: int) -> Course:
    """A course anyone may look at: published or retired (its card says it is closed); a
    draft only for its creator."""
    course = (await uow.session.scalars(
        select(Course).where(Course.id == course_id).options(selectinload(Course.modules))
    )).one_or_none() if is_valid_id(course_id) else None
    if course is None or (course.status == "draft" and course.creator_id != viewer_id):
        raise NotFound("course")
    return course


async def list_directory(uow: UnitOfWork, course_id: int) -> list[User]:
    """The course's teacher directory: active teachers who have not opted out of listing."""
    stmt = (
        select(User)
        .join(CourseTeacher, CourseTeacher.teacher_id == User.id)
        .outerjoin(TeacherSettings, TeacherSettings.user_id == User.id)
        .where(CourseTeacher.course_id == course_id, CourseTeacher.status == "active",
               or_(TeacherSettings.listed.is_(None), TeacherSettings.listed.is_(True)))
        .order_by(User.display_name)
    )
    return list((await uow.session.scalars(stmt)).all())


async def next_free_times(uow: UnitOfWork, teachers: list[User], minutes: int, *,
                          student_id: int | None) -> dict[int, datetime]:
    """Each teacher's next free slot of ``minutes`` within two weeks (one slot query for
    all of them); teachers with none are left out."""
    now = uow.clock.now()
    slots = await list_free_slots(uow, teachers, minutes, student_id=student_id, start=now,
                                  end=now + timedelta(days=DIRECTORY_DAYS))
    first: dict[int, datetime] = {}
    for slot in slots:
        if slot.teacher_id not in first or slot.starts_at < first[slot.teacher_id]:
            first[slot.teacher_id] = slot.starts_at
    return first
