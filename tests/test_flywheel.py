"""Issue 7's flywheel as one dialog: the admin makes Cleo a creator → she builds and
publishes a course in chat → Sam enrols by paying, completes the session, marks the module
done and passes the quiz → Cleo (his teacher) recommends him → Cleo (the creator) approves →
/verify shows the certificate → Sam applies to teach → Cleo endorses, the admin approves →
Sam is in the course's teacher directory → Lee books and pays Sam → after the session and
the release Sam has earned 70% of the price. Then the refusal paths."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.availability import set_weekly_availability
from core.clock import FrozenClock
from core.models import Booking, Certificate, Course, Enrolment, User
from core.money import Money
from core.teaching import course_teachers
from core.uow import Database
from core.windows import Window
from handlers import payload
from handlers.dispatcher import Dispatcher
from payments.sandbox import SandboxProvider
from scheduling.jobs import send_money_out
from tests.fakechat import FakeChat
from tests.world import World, add_person
from web_callbacks.app import create_app

EVERY_DAY = range(7)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def _people(db: Database) -> tuple[User, User]:
    async with db.uow() as uow:
        brian = await add_person(uow, "brian", "Brian", "Europe/London", "admin")
        cleo = await add_person(uow, "cleo", "Cleo", "Europe/Berlin", "teacher")
        await set_weekly_availability(uow, cleo, [Window(d, 9 * 60, 17 * 60)
                                                  for d in EVERY_DAY])
    return brian, cleo


async def _build_course(cleo: FakeChat) -> int:
    await cleo.send("/newcourse")
    await cleo.send("Rust Basics")
    await cleo.send("Ownership and borrowing for people who know one other language.")
    await cleo.click("Beginner")
    await cleo.send("50")
    await cleo.click("60 min")
    assert "Draft created" in cleo.text
    course_id = int(re.search(r"Rust Basics \(#(\d+)\)", cleo.text).group(1))  # type: ignore[union-attr]
    await cleo.click("➕ Module")
    await cleo.send("Ownership")
    await cleo.click("Skip")
    await cleo.send("https://video.example.com/ownership")
    assert "Module 1 added" in cleo.text
    await cleo.click("📝 Quiz")
    await cleo.send("Ownership check")
    await cleo.click("60%")
    await cleo.send("What happens to a String assigned to another variable? | copied | "
                    "*moved | cloned")
    assert "Question 1 added" in cleo.text
    await cleo.click("✓ Done")
    assert "1 question(s)" in cleo.text
    await cleo.send(f"/criteria {course_id} sessions=1 modules=yes quizzes=yes mastery=3")
    assert "Criteria saved" in cleo.text
    await cleo.click("🚀 Publish")
    assert "Published!" in cleo.text
    return course_id


async def _book_and_pay(student: FakeChat, http: TestClient[object, object], course_id: int,
                        teacher: str) -> Booking:
    await student.send(f"/book {course_id}")
    await student.click(teacher)
    await student.send("1")  # the first day with free times
    await student.send("1")  # its first time
    await student.click("Hold & pay")
    assert "Held!" in student.text, student.text
    link = next(b.url for b in student.buttons if b.url and "/pay/" in b.url)
    resp = await http.get(_path(link), allow_redirects=False)
    resp = await http.post(_path(resp.headers["Location"]), data={"action": "pay"})
    assert "Thank you" in await resp.text()
    async with student.dispatcher.db.uow() as uow:
        booking = await uow.session.scalar(select(Booking).order_by(Booking.id.desc()))
        assert booking is not None and booking.status == "confirmed"
        return booking


async def _complete(clock: FrozenClock, booking: Booking, *chats: FakeChat) -> None:
    clock.set(booking.ends_at + timedelta(minutes=30))
    for chat in chats:
        await chat.press(payload.command("attended", f"{booking.id} held"))
    async with chats[0].dispatcher.db.uow() as uow:
        done = await uow.session.get(Booking, booking.id)
        assert done is not None and done.status == "completed"


async def test_the_flywheel_from_new_creator_to_a_paid_student_teacher(
        db: Database, world: World, dispatcher: Dispatcher, clock: FrozenClock) -> None:
    brian_user, cleo_user = await _people(db)
    brian, cleo = FakeChat(dispatcher, "brian"), FakeChat(dispatcher, "cleo")
    sam, lee = FakeChat(dispatcher, "sam"), FakeChat(dispatcher, "lee")

    await cleo.send("/newcourse")
    assert "needs creator permission" in cleo.text
    await brian.send(f"/creators grant {cleo_user.id}")
    assert "can create courses now" in brian.text
    course_id = await _build_course(cleo)

    sandbox = SandboxProvider(db.settings.web.public_url)
    async with TestClient(TestServer(create_app(db))) as http:
        first = await _book_and_pay(sam, http, course_id, "Cleo")
        async with db.uow() as uow:
            assert await uow.session.scalar(select(Enrolment.id).where(
                Enrolment.course_id == course_id, Enrolment.student_id == world.sam.id))
        await sam.send(f"/learn {course_id}")
        await sam.click("Ownership done")
        assert "can be marked done once its session has taken place" in sam.text
        await _complete(clock, first, sam, cleo)

        await sam.send(f"/learn {course_id}")
        await sam.click("Ownership done")
        assert "✅ “Ownership” done" in sam.text and "1 quiz(zes) to pass" in sam.text
        await sam.click("📝 Ownership check")
        await sam.click("copied")
        assert "❌ 0%" in sam.text and "moved" in sam.text  # graded at once, answer shown
        await sam.click("↻ Try again")
        await sam.click("moved")
        assert "✅ Passed with 100%" in sam.text
        await sam.send(f"/learn {course_id}")
        assert "Ready for your Completion certificate" in sam.text

        await cleo.send(f"/recommend {world.sam.id} {course_id}")
        await cleo.click("Completion")
        await cleo.click("Skip")
        await cleo.send("/certify")
        await cleo.click("Approve")
        async with db.uow() as uow:
            cert = await uow.session.scalar(select(Certificate).where(
                Certificate.user_id == world.sam.id, Certificate.kind == "completion"))
            assert cert is not None
        page = await http.get(f"/verify/{cert.code}")
        body = await page.text()
        assert page.status == 200 and "Sam" in body and "Rust Basics" in body

        await sam.send(f"/teach {course_id} I loved this course")
        assert "is pending" in sam.text
        await cleo.send("/applications")
        await cleo.click("Endorse Sam")
        await brian.send("/applications")
        await brian.click("Approve Sam")
        assert "Sam approved for Rust Basics" in brian.text
        async with db.uow() as uow:
            directory = await course_teachers(uow, course_id, listed_only=True,
                                              active_only=True)
            assert "Sam" in [r.teacher.display_name for r in directory]
            sam_user = await uow.session.get(User, world.sam.id)
            assert sam_user is not None
            await set_weekly_availability(uow, sam_user, [Window(d, 9 * 60, 17 * 60)
                                                          for d in EVERY_DAY])
            teaching = await uow.session.scalar(select(Certificate).where(
                Certificate.user_id == world.sam.id, Certificate.kind == "teaching"))
            assert teaching is not None

        second = await _book_and_pay(lee, http, course_id, "Sam")
        assert second.teacher_id == world.sam.id
        await _complete(clock, second, lee, sam)
        clock.advance(hours=db.settings.payments.cooling_off_hours)
        await brian.send("/releases")
        await brian.click(f"✅ Approve #{second.id} ({second.price})")
        assert await send_money_out(db, sandbox) >= 1
        await sam.send("/earnings")
        seventy = Money(second.price_minor * 70 // 100, second.currency)
        assert f"Paid out:                     {seventy}" in sam.text
    del brian_user


async def test_a_retired_course_refuses_new_students_but_keeps_enrolled_ones(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    ada, lee = FakeChat(dispatcher, "ada"), FakeChat(dispatcher, "lee")
    async with db.uow() as uow:
        from core.booking import confirm_booking, hold_slot

        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                  datetime(2026, 11, 26, 9, tzinfo=UTC))
        await confirm_booking(uow, booking.id)
    await ada.send(f"/editcourse {world.python.id} retire")
    assert "Retired" in ada.text
    async with db.uow() as uow:
        course = await uow.session.get(Course, world.python.id)
        assert course is not None and course.status == "retired"
        from core.booking import hold_slot
        from core.errors import CourseRetired

        try:
            await hold_slot(uow, world.lee, world.python.id, world.maya.id,
                            datetime(2026, 11, 27, 9, tzinfo=UTC))
            raise AssertionError("a retired course took a new student")
        except CourseRetired:
            pass
        kept = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                               datetime(2026, 11, 27, 10, tzinfo=UTC))
        assert kept.status == "held"
    await lee.send(f"/teach {world.python.id}")
    assert "retired" in lee.text


async def test_refusals_apply_without_certificate_strangers_approving_and_editing(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    sam, lee, maya = (FakeChat(dispatcher, k) for k in ("sam", "lee", "maya"))
    await sam.send(f"/teach {world.python.id}")
    assert "needs its Completion certificate first" in sam.text
    await maya.send(f"/editcourse {world.python.id} price 1")
    assert "couldn't find" in maya.text  # not her course: reads as not found
    async with db.uow() as uow:
        course = await uow.session.get(Course, world.python.id)
        assert course is not None and course.price_minor == 4000
    await lee.send("/applications")
    assert "isn't available to you" in lee.text
    await maya.send("/newcourse")
    assert "needs creator permission" in maya.text
    await lee.send(f"/learn {world.python.id}")
    assert "couldn't find" in lee.text
    await lee.send("/quiz 99999")
    assert "couldn't find" in lee.text
