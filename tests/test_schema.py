"""Migrations: they build exactly the schema the models describe, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from alphapeer import migrate, revision
from alphapeer.demo import seed_demo
from core.availability import booking_window, list_free_slots
from core.db import Base
from core.models import Course, CourseModule, User
from core.uow import Database


async def test_migrations_match_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(
                sync, opts={"include_name": migrate.include_name}), Base.metadata))
    assert diffs == []


async def test_migrations_downgrade_to_base_and_upgrade_again(db: Database) -> None:
    await migrate.downgrade(db.engine, "base")
    assert await migrate.current_revision(db.engine) is None
    assert await revision.current_revision(db.engine) is None  # what `alphapeer run` reads
    await migrate.upgrade(db.engine)
    assert await migrate.current_revision(db.engine) == migrate.head_revision()
    assert await revision.current_revision(db.engine) == revision.head_revision() \
        == migrate.head_revision()


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.uow() as uow:
        users = await uow.session.scalar(select(func.count()).select_from(User))
        courses = await uow.session.scalar(select(func.count()).select_from(Course))
        modules = await uow.session.scalar(select(func.count()).select_from(CourseModule))
    return int(users or 0), int(courses or 0), int(modules or 0)


async def test_demo_seed_gives_courses_teachers_and_is_idempotent(db: Database) -> None:
    assert await seed_demo(db) is True
    first = await _counts(db)
    assert await seed_demo(db) is False
    assert await _counts(db) == first
    users, courses, modules = first
    assert courses >= 2 and modules >= 2 * courses and users >= 5
    async with db.uow() as uow:
        teachers = list((await uow.session.scalars(
            select(User).where(User.roles.any(role="teacher")))).all())
        zones = {t.timezone for t in teachers}
        start, end = booking_window(uow)
        fortnight = start + (end - start) / 2
        free = await list_free_slots(uow, teachers, 60, student_id=None, start=start,
                                     end=min(end, fortnight))
    assert len(zones) >= 2
    assert {s.teacher_id for s in free} == {t.id for t in teachers}


async def test_upgrading_a_populated_database_keeps_its_rows(db: Database) -> None:
    from datetime import timedelta

    from sqlalchemy import text

    from core.booking import confirm_booking, hold_slot
    from tests.world import build_world

    world = await build_world(db)
    async with db.uow() as uow:
        start = uow.clock.now().replace(hour=9, minute=0) + timedelta(days=2)
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, start)
        await confirm_booking(uow, booking.id)
    await migrate.downgrade(db.engine, "0002")
    await migrate.upgrade(db.engine)
    async with db.engine.connect() as conn:
        users = (await conn.execute(text("SELECT count(*) FROM user_account"))).scalar()
        row = (await conn.execute(text(
            "SELECT status, ends_at = teacher_until FROM booking"))).one()
    assert users == 5
    assert tuple(row) == ("confirmed", True)
