"""Shared set-up for benchmarks: a migrated scratch database with a teacher and students."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alphapeer import migrate
from alphapeer.scratchdb import scratch_database
from core.account import grant_role
from core.availability import set_weekly_availability
from core.clock import FrozenClock
from core.config import Settings, load_settings
from core.db import create_engine
from core.models import Course, CourseTeacher, TeacherSettings, User
from core.uow import Database
from core.windows import Window

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday


def settings(url: str, folder: Path) -> Settings:
    return load_settings(ROOT / "config.toml", env={
        "ALPHAPEER_APP_ENV": "test", "ALPHAPEER_SECRET_KEY": "b" * 48,
        "ALPHAPEER_DATABASE_URL": url, "ALPHAPEER_APP_DATA_DIR": str(folder),
        "ALPHAPEER_DATABASE_POOL_SIZE": "20"})


@asynccontextmanager
async def database(backend: str, folder: Path, pg_url: str) -> AsyncIterator[Database]:
    async with scratch_database(backend, folder, pg_url) as url:
        engine = create_engine(url, pool_size=20)
        await migrate.upgrade(engine)
        try:
            yield Database(engine, FrozenClock(NOW), settings(url, folder))
        finally:
            await engine.dispose()


@dataclass
class Market:
    teacher: User
    course: Course
    students: list[User]


async def market(db: Database, students: int, zone: str = "Europe/London") -> Market:
    """One teacher open every day 06:00-22:00 local for a year, and some students."""
    async with db.uow() as uow:
        now = uow.clock.now()
        creator = User(display_name="Creator", timezone=zone, created_at=now, roles=[])
        teacher = User(display_name="Teacher", timezone=zone, created_at=now, roles=[])
        people = [User(display_name=f"Student {i}", timezone=zone, created_at=now,
                       onboarded_at=now, roles=[]) for i in range(students)]
        uow.session.add_all([creator, teacher, *people])
        grant_role(uow, teacher, "teacher")
        await uow.session.flush()
        course = Course(slug="bench", title="Bench", price_minor=4000, currency="USD",
                        session_minutes=60, status="published", creator_id=creator.id,
                        created_at=now)
        uow.session.add(course)
        await uow.session.flush()
        uow.session.add(CourseTeacher(course_id=course.id, teacher_id=teacher.id,
                                      approved_at=now))
        uow.session.add(TeacherSettings(user_id=teacher.id, buffer_minutes=0,
                                        min_notice_minutes=0, horizon_days=365))
        await set_weekly_availability(uow, teacher, [Window(d, 6 * 60, 22 * 60)
                                                     for d in range(7)])
    return Market(teacher, course, people)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):.2f} ms · p99 {percentile(values, 99):.2f} ms · "
            f"max {max(values):.2f} ms")
