"""Reading the course catalogue and who teaches what."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.db import is_valid_id
from core.errors import NotFound
from core.models import Course, CourseTeacher, User
from core.uow import UnitOfWork


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
    stmt = select(Course).where(Course.id == course_id, Course.status == "published")
    if with_modules:
        stmt = stmt.options(selectinload(Course.modules))
    course = (await uow.session.scalars(stmt)).one_or_none()
    if course is None:
        raise NotFound("course")
    return course


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


async def find_course_by_slug(uow: UnitOfWork, slug: str) -> Course | None:
    """A published course by its slug; anything that cannot be a slug never reaches SQL
    (PostgreSQL refuses NUL bytes outright)."""
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        return None
    stmt = select(Course).where(Course.slug == slug, Course.status == "published")
    return (await uow.session.scalars(stmt)).one_or_none()


async def list_course_teachers(uow: UnitOfWork, course_id: int) -> list[User]:
    stmt = (
        select(User)
        .join(CourseTeacher, CourseTeacher.teacher_id == User.id)
        .where(CourseTeacher.course_id == course_id, CourseTeacher.status == "active")
        .order_by(User.display_name)
    )
    return list((await uow.session.scalars(stmt)).all())


async def is_active_teacher(uow: UnitOfWork, course_id: int, teacher_id: int) -> bool:
    stmt = select(CourseTeacher.id).where(
        CourseTeacher.course_id == course_id,
        CourseTeacher.teacher_id == teacher_id,
        CourseTeacher.status == "active",
    )
    return (await uow.session.scalar(stmt)) is not None
