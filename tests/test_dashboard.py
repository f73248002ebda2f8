"""/dashboard: one screen per person with a section for each role they hold — next
sessions, course progress, teaching, creator and admin queues, earnings, unread messages —
with real numbers, buttons to the right commands, and a bounded number of SQL statements
however much data there is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from core.account import grant_role
from core.booking import hold_slot
from core.clock import FrozenClock
from core.followup import record_report
from core.learning import mark_module_done
from core.models import (
    CertificationRequest,
    Course,
    CourseModule,
    DirectMessage,
    DirectThread,
    Enrolment,
    ModuleProgress,
    OutboxMessage,
    Report,
    TeachingApplication,
    User,
)
from core.payment import handle_event, record_checkout
from core.payment_port import CHECKOUT_PAID, PaymentEvent
from core.uow import Database, UnitOfWork
from handlers import payload
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.world import World, add_course, add_person

TUESDAY = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin: Maya's first hour
SATURDAY = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # past the 48 h cooling-off of Tuesday
SUNDAY = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def _paid(db: Database, student: User, course: Course, teacher: User,
                at: datetime) -> int:
    """A lesson held and paid through the payment events, as the sandbox page does."""
    async with db.uow() as uow:
        person = await uow.session.get(User, student.id)
        assert person is not None
        booking = await hold_slot(uow, person, course.id, teacher.id, at)
        checkout = await record_checkout(uow, booking, "sandbox", f"cs_{booking.id}", "")
        await handle_event(uow, PaymentEvent(
            "sandbox", f"evt_{booking.id}", CHECKOUT_PAID, checkout_ref=checkout.checkout_ref,
            charge_ref=f"ch_{booking.id}", amount=booking.price, booking_id=booking.id), {})
        return booking.id


async def _complete(db: Database, clock: FrozenClock, booking_ids: list[int],
                    student: User, teacher: User) -> None:
    """Both say the sessions happened (once they are over)."""
    back = clock.now()
    clock.set(SATURDAY)
    async with db.uow() as uow:
        for booking_id in booking_ids:
            for who in (student, teacher):
                person = await uow.session.get(User, who.id)
                assert person is not None
                await record_report(uow, person, booking_id, "held")
    clock.set(back)


async def _roles(db: Database, user: User, *roles: str) -> None:
    async with db.uow() as uow:
        person = await uow.session.get(User, user.id)
        assert person is not None
        for role in roles:
            grant_role(uow, person, role)


async def _queues(db: Database, world: World, maya_course: Course, tag: str, n: int) -> None:
    """``n`` of each thing that waits for Maya as creator and admin: certificate requests
    and applications for her course, an application endorsed for the admin, unread
    messages, open reports, undelivered notifications."""
    async with db.uow() as uow:
        now = uow.clock.now()
        for i in range(n):
            someone = await add_person(uow, f"{tag}{i}", f"Pat {tag}{i}", "UTC", "student")
            uow.session.add_all([
                CertificationRequest(course_id=maya_course.id, student_id=someone.id,
                                     recommended_by=world.ken.id, created_at=now),
                TeachingApplication(course_id=maya_course.id, user_id=someone.id,
                                    created_at=now),
                TeachingApplication(course_id=world.spanish.id, user_id=someone.id,
                                    status="endorsed", created_at=now),
                Report(reporter_id=someone.id, reported_id=world.lee.id, created_at=now),
                OutboxMessage(user_id=someone.id, kind="test", text="lost", created_at=now,
                              next_attempt_at=now, failed_at=now, platform="test"),
            ])
            thread = DirectThread(low_id=min(world.maya.id, someone.id),
                                  high_id=max(world.maya.id, someone.id),
                                  created_at=now, last_at=now)
            uow.session.add(thread)
            await uow.session.flush()
            uow.session.add_all([
                DirectMessage(thread_id=thread.id, sender_id=someone.id,
                              recipient_id=world.maya.id, body="hi", created_at=now),
                DirectMessage(thread_id=thread.id, sender_id=someone.id,  # read: not counted
                              recipient_id=world.maya.id, body="old", created_at=now,
                              read_at=now),
                DirectMessage(thread_id=thread.id, sender_id=world.maya.id,  # hers: not counted
                              recipient_id=someone.id, body="hello", created_at=now)])
        uow.session.add(Report(reporter_id=world.sam.id, reported_id=world.lee.id,
                               created_at=now, resolved_at=now))  # resolved: not counted


async def _maya_everything(db: Database, world: World, clock: FrozenClock) -> dict[str, int]:
    """Maya (teacher, student) also made a creator and the admin: two completed sessions
    of Sam's, one upcoming, her own Spanish lessons with Ken, her German course's queues."""
    await _roles(db, world.maya, "creator", "admin")
    async with db.uow() as uow:
        german = await add_course(uow, "german", "German Now", world.maya, 3500, 60, [])
    done = [await _paid(db, world.sam, world.python, world.maya, TUESDAY + timedelta(hours=h))
            for h in (2, 4)]
    spanish = await _paid(db, world.maya, world.spanish, world.ken, TUESDAY + timedelta(hours=1))
    await _complete(db, clock, done, world.sam, world.maya)
    await _complete(db, clock, [spanish], world.maya, world.ken)
    clock.set(SATURDAY)
    async with db.uow() as uow:
        for position in (1, 2):  # Sam ticks off both modules: ready for Completion
            module_id = await _module(uow, world.python.id, position)
            await mark_module_done(uow, world.sam.id, module_id)
        await mark_module_done(uow, world.maya.id, await _module(uow, world.spanish.id, 1))
    await _queues(db, world, german, "q", 2)
    teaching = await _paid(db, world.sam, world.python, world.maya, SUNDAY + timedelta(hours=2))
    learning = await _paid(db, world.maya, world.spanish, world.ken, SUNDAY + timedelta(hours=1))
    return {"teaching": teaching, "learning": learning}


async def _module(uow: UnitOfWork, course_id: int, position: int) -> int:
    found = await uow.session.scalar(select(CourseModule.id).where(
        CourseModule.course_id == course_id, CourseModule.position == position))
    assert found is not None
    return int(found)


async def test_maya_with_every_role_sees_each_section_with_real_numbers(
        db: Database, world: World, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    ids = await _maya_everything(db, world, clock)
    maya = FakeChat(dispatcher, "maya")
    await maya.send("/dashboard")
    text = maya.text
    assert "times in your zone, Berlin" in text
    assert (f"Next: Sun 29 Nov 10:00 · Spanish Basics with Ken (#{ids['learning']})" in text)
    assert "Spanish Basics: ▓▓▓▓▓░░░░░ 50%" in text
    assert (f"Next: Sun 29 Nov 11:00 · Python from Zero teaching Sam (#{ids['teaching']})"
            in text)
    assert "1 upcoming session · 1 student ready to recommend" in text
    assert "2 certificate requests to decide · 2 teaching applications to endorse" in text
    assert "🧾 3 sessions to release ($110.00)" in text  # two $40 lessons and a $30 one
    assert "🧑‍🏫 2 teaching applications to approve" in text
    assert "📤 2 messages undelivered" in text and "🚩 2 open reports" in text
    assert "held $84.00" in text  # 70% of three $40 lessons, none released yet
    assert "2 unread messages" in text
    assert maya.labels == ["📚 Learn", "🗓 My bookings", "💬 Messages (2)",
                           "✍️ Recommend (1)", "🎓 Certify (2)", "🧑‍🏫 Applications (4)",
                           "💰 Earnings", "🧾 Releases (3)", "📤 Outbox (2)"]


async def test_maya_dashboard_buttons_lead_to_their_commands(
        db: Database, world: World, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    await _maya_everything(db, world, clock)
    maya = FakeChat(dispatcher, "maya")
    expected = {"📚 Learn": "Your courses", "🗓 My bookings": "Your upcoming sessions",
                "✍️ Recommend": "Sam", "🎓 Certify": "Pat q0", "🧑‍🏫 Applications": "Pat q1",
                "💰 Earnings": "Your earnings", "🧾 Releases": "3 session(s) ready",
                "📤 Outbox": "2 gave up"}
    for label, shows in expected.items():
        await maya.send("/dashboard")
        await maya.click(label)
        assert shows in maya.text, (label, maya.text)
        await maya.send("/cancel")
    await maya.send("/dashboard")
    assert maya.button("💬 Messages").action == payload.command("messages")


async def test_newcomer_sees_a_friendly_next_step(
        db: Database, world: World, chat_as: Any) -> None:
    async with db.uow() as uow:
        await add_person(uow, "nia", "Nia", "Europe/Paris", "student")
    nia: FakeChat = chat_as("nia")
    await nia.send("/dashboard")
    assert "Hi Nia! Nothing is waiting for you yet" in nia.text
    assert "/courses" in nia.text and "/intro" in nia.text
    assert nia.labels == ["📚 Courses", "🎁 Free intro", "🗓 Book a session"]
    await nia.click("Courses")
    assert "Python from Zero" in nia.text


async def test_student_with_a_session_sees_only_the_student_sections(
        db: Database, world: World, chat: FakeChat) -> None:
    booking = await _paid(db, world.sam, world.python, world.maya, SUNDAY)
    await chat.send("/dashboard")
    assert f"Next: Sun 29 Nov 09:00 · Python from Zero with Maya (#{booking})" in chat.text
    assert "Python from Zero: ░░░░░░░░░░ 0%" in chat.text
    for other in ("Teaching", "Admin", "Earnings", "Your courses"):
        assert other not in chat.text
    assert chat.labels == ["📚 Learn", "🗓 My bookings", "💬 Messages"]


@contextmanager
def _counting(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    target = db.engine.sync_engine
    event.listen(target, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", count)


async def _grow(db: Database, world: World, clock: FrozenClock, german: Course, tag: str,
                n: int, day: int) -> None:
    """``n`` more of everything Maya's dashboard counts: students she taught (completed,
    paid, releasable) and teaches next, courses she takes, and her queues."""
    completed, students = [], []
    for i in range(n):
        async with db.uow() as uow:
            student = await add_person(uow, f"{tag}s{i}", f"Stu {tag}{i}", "UTC", "student")
            course = await add_course(uow, f"{tag}c{i}", f"Course {tag}{i}", world.creator,
                                      2000, 60, [world.ken])
        students.append(student)
        at = TUESDAY + timedelta(days=day, hours=i)
        completed.append(await _paid(db, student, world.python, world.maya, at))
        await _paid(db, student, world.python, world.maya, SUNDAY + timedelta(days=day, hours=i))
        async with db.uow() as uow:  # Maya takes that course, one module of two done
            uow.session.add(Enrolment(course_id=course.id, student_id=world.maya.id,
                                      enrolled_at=uow.clock.now()))
            await uow.session.flush()
            enrolment = await uow.session.scalar(select(Enrolment.id).where(
                Enrolment.course_id == course.id))
            uow.session.add(ModuleProgress(
                enrolment_id=enrolment, module_id=await _module(uow, course.id, 1),
                booking_id=completed[-1], done_at=uow.clock.now()))
    for booking_id, student in zip(completed, students, strict=True):
        await _complete(db, clock, [booking_id], student, world.maya)
    await _queues(db, world, german, tag, n)


async def test_dashboard_statements_do_not_grow_with_the_data(
        db: Database, world: World, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    await _roles(db, world.maya, "creator", "admin")
    async with db.uow() as uow:
        german = await add_course(uow, "german", "German Now", world.maya, 3500, 60, [])
        python = await uow.session.get(Course, world.python.id)
        assert python is not None
        python.complete_modules = False  # one completed session makes a student ready
    await _grow(db, world, clock, german, "a", 1, day=0)
    maya = FakeChat(dispatcher, "maya")
    clock.set(SATURDAY)
    with _counting(db) as small:
        await maya.send("/dashboard")
    assert "1 student ready to recommend" in maya.text and "🧾 1 session to release" in maya.text
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    await _grow(db, world, clock, german, "b", 8, day=1)
    clock.set(SATURDAY)
    with _counting(db) as large:
        await maya.send("/dashboard")
    text = maya.text
    assert "9 students ready to recommend" in text and "🧾 9 sessions to release" in text
    assert "9 certificate requests" in text and "9 unread messages" in text
    assert "…and 4 more in /learn" in text
    print(f"statements: small world {len(small)}, large world {len(large)}")
    assert len(large) == len(small), "\n".join(large)
