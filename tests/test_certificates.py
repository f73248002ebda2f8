"""Certificates: a teacher recommends, the creator approves or declines, the student gets a
PDF and a public verification page; every refusal says why and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, func, select

from core.certificates import (
    certificate_by_code,
    certificate_pdf,
    decide,
    issue_teaching_certificate,
    recommend,
    students_taught,
)
from core.errors import InvalidInput, NotFound
from core.learning import enrolment_of, mark_module_done, module_of_session
from core.models import (
    Booking,
    Certificate,
    CertificationRequest,
    Course,
    CourseTeacher,
    OutboxMessage,
    User,
    UserRole,
)
from core.uow import Database
from handlers import payload
from handlers.dispatcher import Dispatcher
from handlers.links import verify_url
from tests.fakechat import FakeChat
from tests.world import World, paid_session
from web_callbacks.app import create_app

MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
NEXT_DAY = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


async def _complete(db: Database, booking_id: int, *, mark_module: bool = True) -> None:
    """The session took place; the student ticks its module off."""
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, booking_id)
        assert booking is not None
        booking.status = "completed"
        module = await module_of_session(uow, booking_id)
        assert module is not None
        if mark_module:
            await mark_module_done(uow, booking.student_id, module.id)


async def ready_for_completion(db: Database, world: World) -> None:
    """Sam has had both Python sessions (Basics, Practice) with Maya and ticked both off."""
    for at in (MORNING, LATER):
        await _complete(db, await paid_session(db, world, at))


async def _messages(db: Database, user: User, kind: str) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))).all())


async def _count(db: Database, model: type[object]) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def _certificates(db: Database) -> list[Certificate]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Certificate))).all())


async def _request(db: Database, world: World, kind: str = "completion") -> int:
    async with db.uow() as uow:
        request = await recommend(uow, world.maya, world.sam.id, world.python.id, kind)
        return request.id


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def test_recommended_student_is_approved_notified_and_verifiable(
        db: Database, world: World, dispatcher: Dispatcher, chat: FakeChat,
        client: TestClient[object, object]) -> None:
    await ready_for_completion(db, world)
    maya = FakeChat(dispatcher, "maya")
    await maya.send("/recommend")
    assert "Sam (#" in maya.text and "▓▓▓▓▓ 100%" in maya.text
    await maya.click("Sam · Python from Zero")
    assert "ready for Completion ✓" in maya.text
    await maya.click("Completion")
    assert "note for Ada" in maya.text
    await maya.send("Solid work on every module")
    assert "Recommended Sam for the Completion certificate of Python from Zero" in maya.text

    [asked] = await _messages(db, world.creator, "certificate_requested")
    assert "Maya recommends Sam" in asked.text and "Solid work on every module" in asked.text
    assert [b["label"] for row in asked.buttons for b in row][:2] == ["✅ Approve", "✖ Decline"]

    ada = FakeChat(dispatcher, "ada")
    await ada.send("/certify")
    assert "Sam · Completion · Python from Zero" in ada.text and "recommended by Maya" in ada.text
    await ada.click("Approve")
    assert "Approved Sam's Completion certificate of Python from Zero" in ada.text
    [cert] = await _certificates(db)
    assert cert.user_id == world.sam.id and cert.kind == "completion" and len(cert.code) >= 12
    link = verify_url(db.settings, cert.code)
    assert ada.url("View certificate") == link

    [told] = await _messages(db, world.sam, "certificate_issued")
    assert "Congratulations" in told.text and link in told.text
    assert await _messages(db, world.maya, "certificate_issued")
    async with db.uow() as uow:
        enrolment = await enrolment_of(uow, world.python.id, world.sam.id)
        assert enrolment is not None and enrolment.status == "completed"

    page = await client.get(_path(link))
    body = await page.text()
    assert page.status == 200
    for shown in ("Certificate of Completion", "Sam", "Python from Zero", "23 November 2026",
                  "Ada", "Valid"):
        assert shown in body, shown
    pdf = await client.get(_path(link) + ".pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")

    await chat.send("/certificates")
    assert "Certificate of Completion · Python from Zero" in chat.text and "✓ valid" in chat.text
    [document] = [r for r in chat.last if r.file is not None]
    assert document.file_name == f"certificate-{cert.code}.pdf"
    assert document.file is not None and document.file.startswith(b"%PDF")
    assert chat.url("Verify online") == link


async def test_recommending_before_the_criteria_are_met_says_what_is_missing(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await _complete(db, await paid_session(db, world, MORNING), mark_module=False)
    maya = FakeChat(dispatcher, "maya")
    await maya.send(f"/recommend sam {world.python.id}")
    await maya.click("Completion")
    assert "Sam hasn't met the completion criteria of Python from Zero yet" in maya.text
    assert "2 module(s) to mark done" in maya.text
    await maya.send(f"/recommend {world.sam.id} {world.python.id} completion")
    assert "2 module(s) to mark done" in maya.text
    assert await _count(db, CertificationRequest) == 0
    assert await _messages(db, world.creator, "certificate_requested") == []


async def test_mastery_needs_the_completion_certificate_first(
        db: Database, world: World) -> None:
    await ready_for_completion(db, world)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="needs the Completion certificate"):
            await recommend(uow, world.maya, world.sam.id, world.python.id, "mastery")


async def test_only_a_teacher_who_taught_the_student_may_recommend(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await ready_for_completion(db, world)
    lee = FakeChat(dispatcher, "lee")
    await lee.send(f"/recommend sam {world.python.id}")
    assert "isn't available to you" in lee.text
    ken = FakeChat(dispatcher, "ken")  # teaches Python, but never taught Sam
    await ken.send(f"/recommend {world.sam.id} {world.python.id}")
    assert "couldn't find that student among yours" in ken.text
    ada = FakeChat(dispatcher, "ada")  # a teacher, but not of Python
    await ada.send(f"/recommend {world.sam.id} {world.python.id}")
    assert "Only active teachers of Python from Zero" in ada.text
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="Only active teachers"):
            await recommend(uow, world.lee, world.sam.id, world.python.id)
        link = (await uow.session.scalars(select(CourseTeacher).where(
            CourseTeacher.teacher_id == world.maya.id))).one()
        link.status = "suspended"
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="Only active teachers"):
            await recommend(uow, world.maya, world.sam.id, world.python.id)
    assert await _count(db, CertificationRequest) == 0


async def test_recommending_twice_keeps_one_request_and_tells_the_creator_once(
        db: Database, world: World) -> None:
    await ready_for_completion(db, world)
    first, second = await _request(db, world), await _request(db, world)
    assert first == second
    assert await _count(db, CertificationRequest) == 1
    assert len(await _messages(db, world.creator, "certificate_requested")) == 1


async def test_someone_other_than_the_creator_cannot_approve(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await ready_for_completion(db, world)
    request_id = await _request(db, world)
    ken = FakeChat(dispatcher, "ken")
    await ken.press(payload.command("certify", f"approve {request_id}"))
    assert "couldn't find that certificate request" in ken.text
    await ken.send("/certify")
    assert "No certificate requests are waiting for you" in ken.text
    async with db.uow() as uow:
        with pytest.raises(NotFound):
            await decide(uow, world.maya, request_id, True, None, verify_link=str)
        request = await uow.session.get(CertificationRequest, request_id)
        assert request is not None and request.status == "pending"
    assert await _certificates(db) == []


async def test_declining_needs_a_reason_which_the_student_reads(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await ready_for_completion(db, world)
    request_id = await _request(db, world)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput, match="say why"):
            await decide(uow, world.creator, request_id, False, "  ", verify_link=str)
    ada = FakeChat(dispatcher, "ada")
    await ada.send("/certify")
    await ada.click("Decline")
    assert "Why are you declining Sam's Completion certificate" in ada.text
    await ada.send("   ")
    assert "Please say why you are declining" in ada.text
    await ada.send("Module 2 needs another session")
    assert "Declined Sam's Completion certificate" in ada.text
    [told] = await _messages(db, world.sam, "certificate_declined")
    assert "Module 2 needs another session" in told.text
    assert await _certificates(db) == []
    await ada.press(payload.command("certify", f"approve {request_id}"))
    assert "already declined (Module 2 needs another session)" in ada.text
    assert await _certificates(db) == []


async def test_approving_twice_issues_one_certificate(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await ready_for_completion(db, world)
    request_id = await _request(db, world)
    ada = FakeChat(dispatcher, "ada")
    approve = payload.command("certify", f"approve {request_id}")
    await ada.press(approve)
    assert "✅ Approved" in ada.text
    await ada.press(approve)
    assert "already approved" in ada.text and "Nothing changed" in ada.text
    assert len(await _certificates(db)) == 1
    assert len(await _messages(db, world.sam, "certificate_issued")) == 1


async def test_creator_without_the_creator_role_still_decides_for_their_courses(
        db: Database, world: World, dispatcher: Dispatcher) -> None:
    await ready_for_completion(db, world)
    await _request(db, world)
    async with db.uow() as uow:
        await uow.session.execute(delete(UserRole).where(
            UserRole.user_id == world.creator.id, UserRole.role == "creator"))
    ada = FakeChat(dispatcher, "ada")
    await ada.send("/certify")
    await ada.click("Approve")
    assert "✅ Approved" in ada.text


async def test_funder_receives_the_certificate_link(db: Database, world: World) -> None:
    await ready_for_completion(db, world)
    request_id = await _request(db, world)
    async with db.uow() as uow:
        enrolment = await enrolment_of(uow, world.python.id, world.sam.id)
        assert enrolment is not None
        enrolment.funder_id = world.lee.id
    async with db.uow() as uow:
        decision = await decide(uow, world.creator, request_id, True, None,
                                verify_link=lambda code: f"https://ap.example/verify/{code}")
        assert decision.certificate is not None
        code = decision.certificate.code
    [copy] = await _messages(db, world.lee, "certificate_issued")
    assert "Sam earned the Completion certificate" in copy.text
    assert f"https://ap.example/verify/{code}" in copy.text


async def test_unknown_or_malformed_verification_ids_are_not_found(
        client: TestClient[object, object], db: Database, world: World) -> None:
    for code in ("NoSuchCert1234", "%3Cscript%3Ex", "a" * 40, "NoSuchCert1234.pdf", "%00"):
        resp = await client.get(f"/verify/{code}")
        body = await resp.text()
        assert resp.status == 404, code
        assert "No certificate with this id" in body and "<script>x" not in body


async def test_revoked_certificate_page_says_revoked(
        db: Database, world: World, client: TestClient[object, object]) -> None:
    async with db.uow() as uow:
        cert = await issue_teaching_certificate(uow, world.maya.id, world.python.id,
                                                world.creator.id)
        cert.revoked_at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        cert.revoked_reason = "Issued <b>by mistake</b>"
        code = cert.code
    body = await (await client.get(f"/verify/{code}")).text()
    assert "Revoked on 23 November 2026" in body and "Issued &lt;b&gt;by mistake" in body
    assert "no longer valid" in body and "Valid</strong>" not in body
    assert (await client.get(f"/verify/{code}.pdf")).status == 410


async def test_teaching_certificate_shows_students_taught(
        db: Database, world: World, dispatcher: Dispatcher,
        client: TestClient[object, object]) -> None:
    for at in (MORNING, LATER):
        await _complete(db, await paid_session(db, world, at), mark_module=False)
    async with db.uow() as uow:  # Lee too, so two distinct students
        from core.booking import confirm_booking, hold_slot
        lee = await hold_slot(uow, world.lee, world.python.id, world.maya.id, NEXT_DAY)
        await confirm_booking(uow, lee.id)
        lee.status = "completed"
    async with db.uow() as uow:
        first = await issue_teaching_certificate(uow, world.maya.id, world.python.id,
                                                 world.creator.id)
        again = await issue_teaching_certificate(uow, world.maya.id, world.python.id,
                                                 world.creator.id)
        assert first.id == again.id
        assert await students_taught(uow, world.maya.id, world.python.id) == 2
        assert await students_taught(uow, world.ken.id, world.python.id) == 0
        code = first.code
    body = await (await client.get(f"/verify/{code}")).text()
    assert "Certificate of Teaching" in body and "Maya" in body
    assert "Students taught:</span> 2" in body
    async with db.uow() as uow:
        view = await certificate_by_code(uow, code)
    assert view is not None
    printed = certificate_pdf(view, verify_url(db.settings, code), compress=False)
    for shown in (b"Certificate of Teaching", b"Students taught: 2", b"Python from Zero",
                  f"/verify/{code}".encode()):
        assert shown in printed, shown
    maya = FakeChat(dispatcher, "maya")
    await maya.send("/certificates")
    assert "2 student(s) taught" in maya.text
    assert [r.file_name for r in maya.last if r.file] == [f"certificate-{code}.pdf"]


async def test_certificates_of_others_and_none_yet_read_clearly(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/certificates")
    assert "You have no certificates yet" in chat.text
    async with db.uow() as uow:
        cert = await issue_teaching_certificate(uow, world.maya.id, world.python.id, None)
        code = cert.code
    await chat.send(f"/certificates {code}")  # Maya's, not Sam's
    assert "couldn't find that certificate" in chat.text


async def test_retired_course_certificates_stay_verifiable(
        db: Database, world: World, client: TestClient[object, object]) -> None:
    async with db.uow() as uow:
        cert = await issue_teaching_certificate(uow, world.maya.id, world.python.id,
                                                world.creator.id)
        course = await uow.session.get(Course, world.python.id)
        assert course is not None
        course.status = "retired"
        code = cert.code
    resp = await client.get(f"/verify/{code}")
    assert resp.status == 200 and "Valid" in await resp.text()
