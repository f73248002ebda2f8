"""A small, known marketplace for tests, built through the core services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.account import grant_role
from core.availability import set_weekly_availability
from core.models import Booking, Course, CourseModule, CourseTeacher, Identity, User
from core.uow import Database, UnitOfWork
from core.windows import Window
from tests.fakechat import PLATFORM

EVERY_DAY = range(7)


@dataclass
class World:
    creator: User
    maya: User  # teacher, Europe/Berlin, 09:00-17:00 local every day
    ken: User  # teacher, Asia/Tokyo, 18:00-20:00 local every day
    sam: User  # student, Europe/Berlin
    lee: User  # student, America/New_York
    python: Course  # 60 min, $40, taught by Maya and Ken
    spanish: Course  # 45 min, $30, taught by Ken


async def add_person(uow: UnitOfWork, key: str, name: str, zone: str, *roles: str,
                     onboarded: bool = True, platform: str = PLATFORM) -> User:
    now = uow.clock.now()
    user = User(display_name=name, timezone=zone, created_at=now,
                onboarded_at=now if onboarded else None, roles=[])
    uow.session.add(user)
    for role in roles:
        grant_role(uow, user, role)
    await uow.session.flush()
    uow.session.add(Identity(user_id=user.id, platform=platform, external_id=key,
                             created_at=now))
    return user


async def add_course(uow: UnitOfWork, slug: str, title: str, creator: User, price: int,
                     minutes: int, teachers: list[User], status: str = "published") -> Course:
    now: datetime = uow.clock.now()
    course = Course(slug=slug, title=title, level="beginner", price_minor=price, currency="USD",
                    session_minutes=minutes, status=status, creator_id=creator.id,
                    description=f"Learn {title}.", created_at=now)
    uow.session.add(course)
    await uow.session.flush()
    uow.session.add_all([CourseModule(course_id=course.id, position=1, title="Basics"),
                         CourseModule(course_id=course.id, position=2, title="Practice")])
    uow.session.add_all(CourseTeacher(course_id=course.id, teacher_id=t.id, approved_at=now)
                        for t in teachers)
    return course


async def build_world(db: Database) -> World:
    async with db.uow() as uow:
        creator = await add_person(uow, "ada", "Ada", "Europe/London", "creator", "teacher")
        maya = await add_person(uow, "maya", "Maya", "Europe/Berlin", "teacher", "student")
        ken = await add_person(uow, "ken", "Ken", "Asia/Tokyo", "teacher", "student")
        sam = await add_person(uow, "sam", "Sam", "Europe/Berlin", "student")
        lee = await add_person(uow, "lee", "Lee", "America/New_York", "student")
        python = await add_course(uow, "python", "Python from Zero", creator, 4000, 60,
                                  [maya, ken])
        spanish = await add_course(uow, "spanish", "Spanish Basics", creator, 3000, 45, [ken])
        await set_weekly_availability(uow, maya, [Window(d, 9 * 60, 17 * 60) for d in EVERY_DAY])
        await set_weekly_availability(uow, ken, [Window(d, 18 * 60, 20 * 60) for d in EVERY_DAY])
    return World(creator, maya, ken, sam, lee, python, spanish)


async def paid_session(db: Database, world: World, at: datetime) -> int:
    """Sam's confirmed Python session with Maya at ``at``; returns its id."""
    from core.booking import confirm_booking, hold_slot

    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at)
        await confirm_booking(uow, booking.id)
        return booking.id


async def fetch_booking(db: Database, booking_id: int) -> Booking:
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        return booking
