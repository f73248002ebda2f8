"""A catalogue for the load run, made through the core services: the course the simulated
users book ("Bench Course", many teachers open around the clock, so thousands of journeys
find free times) and other courses with their own teachers; the large catalogue has ten
times as many of everything, to show statements per update don't grow with it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import select

from alphapeer import migrate
from bench.common import settings
from core.account import grant_role
from core.availability import set_weekly_availability
from core.clock import SystemClock
from core.db import create_engine
from core.models import Course, CourseModule, CourseTeacher, User
from core.uow import Database, UnitOfWork
from core.windows import Window

AROUND_THE_CLOCK = [Window(d, 0, 24 * 60) for d in range(7)]
BENCH = "bench-course"


async def _teachers(uow: UnitOfWork, course: Course, title: str, first: int, count: int) -> None:
    now = uow.clock.now()
    for n in range(first, first + count):
        teacher = User(display_name=f"{title[:20]} teacher {n + 1}", timezone="UTC",
                       created_at=now, onboarded_at=now, roles=[])
        uow.session.add(teacher)
        grant_role(uow, teacher, "teacher")
        await uow.session.flush()
        uow.session.add(CourseTeacher(course_id=course.id, teacher_id=teacher.id,
                                      approved_at=now))
        await set_weekly_availability(uow, teacher, AROUND_THE_CLOCK)


async def _course(uow: UnitOfWork, title: str, slug: str, teachers: int) -> None:
    now = uow.clock.now()
    creator = User(display_name=f"Creator of {title}", timezone="UTC", created_at=now,
                   onboarded_at=now, roles=[])
    uow.session.add(creator)
    grant_role(uow, creator, "creator")
    await uow.session.flush()
    course = Course(slug=slug, title=title, level="beginner", price_minor=4000,
                    currency="USD", session_minutes=60, status="published",
                    creator_id=creator.id, description=f"{title} for the load run.",
                    created_at=now, complete_sessions=1)
    uow.session.add(course)
    await uow.session.flush()
    uow.session.add_all(CourseModule(course_id=course.id, position=i + 1,
                                     title=f"Module {i + 1}") for i in range(4))
    await _teachers(uow, course, title, 0, teachers)


@contextlib.asynccontextmanager
async def _database(url: str, folder: Path) -> AsyncIterator[Database]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        yield Database(engine, SystemClock(), settings(url, folder))
    finally:
        await engine.dispose()


async def seed_catalogue(url: str, folder: Path) -> None:
    """The small catalogue: Bench Course with 24 teachers, two more courses with 5 each."""
    async with _database(url, folder) as db, db.uow() as uow:
        await _course(uow, "Bench Course", BENCH, 24)
        for n in range(2):
            await _course(uow, f"Zeta Topic {n + 1:02d}", f"zeta-{n + 1}", 5)


async def grow_catalogue(url: str, folder: Path) -> None:
    """Ten times as much (while the bot runs): 240 teachers of Bench Course, 21 courses."""
    async with _database(url, folder) as db, db.uow() as uow:
        bench = (await uow.session.scalars(select(Course).where(Course.slug == BENCH))).one()
        await _teachers(uow, bench, bench.title, 24, 216)
        for n in range(2, 20):
            await _course(uow, f"Zeta Topic {n + 1:02d}", f"zeta-{n + 1}", 5)
