"""Certificates: a student-teacher recommends a student who met a course's criteria, the
course's creator approves or declines; approved requests become Completion or Mastery
certificates, and teaching a course earns a Teaching certificate. Each has an unguessable
public code anyone can verify, and prints as a one-page PDF."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.catalogue import is_active_teacher
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.learning import Standing, enrolment_of, standing
from core.mail import Attachment
from core.models import Booking, Certificate, CertificationRequest, Course, User
from core.outbox import OutButton, notify
from core.uow import UnitOfWork

if TYPE_CHECKING:  # fpdf is loaded when a PDF is made, not with the bot (35 MB)
    from fpdf import FPDF

RECOMMENDABLE = ("completion", "mastery")
TITLES = {"completion": "Completion", "mastery": "Mastery", "teaching": "Teaching"}
MAX_NOTE = 500
# token_urlsafe(9): 12 characters, 72 random bits; codes are public, so they must not be
# guessable, and anything else never reaches SQL.
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,24}$")
Buttons = tuple[tuple[OutButton, ...], ...]


@dataclass(frozen=True)
class Candidate:
    """A student a teacher may recommend, with where they stand."""

    course: Course
    student: User
    standing: Standing


@dataclass(frozen=True)
class RequestView:
    request: CertificationRequest
    course: Course
    student: User
    teacher: User


@dataclass(frozen=True)
class Decision:
    request: CertificationRequest
    certificate: Certificate | None
    already: bool  # decided before this call (a double click): nothing changed


@dataclass(frozen=True)
class CertificateView:
    """Everything a certificate shows: the page, the PDF and the chat list."""

    certificate: Certificate
    holder: str
    course_title: str
    creator: str
    issuer: str
    students_taught: int  # teaching certificates only; 0 otherwise

    @property
    def title(self) -> str:
        return f"Certificate of {TITLES[self.certificate.kind]}"

    @property
    def revoked(self) -> bool:
        return self.certificate.revoked_at is not None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked else "valid"


def clean_text(text: str | None, most: int) -> str:
    """One tidy line: control characters out, whitespace collapsed, length capped."""
    kept = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text or "")
    return " ".join(kept.split())[:most]


async def _live(uow: UnitOfWork, user_id: int, course_id: int, kind: str) -> Certificate | None:
    return await uow.session.scalar(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id,
        Certificate.kind == kind, Certificate.revoked_at.is_(None)))


async def has_taught(uow: UnitOfWork, teacher_id: int, student_id: int, course_id: int) -> bool:
    found = await uow.session.scalar(select(Booking.id).where(
        Booking.teacher_id == teacher_id, Booking.student_id == student_id,
        Booking.course_id == course_id, Booking.kind == "lesson",
        Booking.status == "completed").limit(1))
    return found is not None


async def candidate_for(uow: UnitOfWork, teacher: User, student_id: int,
                        course_id: int) -> Candidate:
    """A student this teacher may recommend in this course, whatever the kind."""
    course = await uow.session.get(Course, course_id) if is_valid_id(course_id) else None
    if course is None or course.status == "draft":
        raise NotFound("course")
    if not await is_active_teacher(uow, course.id, teacher.id):
        raise InvalidInput(f"Only active teachers of {course.title} can recommend its "
                           "students for a certificate.")
    student = await uow.session.get(User, student_id) if is_valid_id(student_id) else None
    if student is None or not await has_taught(uow, teacher.id, student.id, course.id):
        # Strangers and students taught by others read the same: ids cannot be probed.
        raise NotFound("student", template=(
            "I couldn't find that student among yours in {course}. You can recommend "
            "students once you have taught them a completed session."), course=course.title)
    if await enrolment_of(uow, course.id, student.id) is None:
        raise InvalidInput(f"{student.display_name} isn't enrolled in {course.title}.")
    return Candidate(course, student, await standing(uow, course, student.id))


async def check_candidate(uow: UnitOfWork, teacher: User, student_id: int, course_id: int,
                          kind: str = "completion") -> Candidate:
    """Everything ``recommend`` requires, so a menu can refuse early with the same words."""
    if kind not in RECOMMENDABLE:
        raise InvalidInput("Choose Completion or Mastery.")
    found = await candidate_for(uow, teacher, student_id, course_id)
    course, student, where = found.course, found.student, found.standing
    if await _live(uow, student.id, course.id, kind) is not None:
        raise InvalidInput(f"{student.display_name} already holds the {TITLES[kind]} "
                           f"certificate of {course.title}.")
    name = student.display_name
    if kind == "completion" and not where.complete:
        raise InvalidInput(f"{name} hasn't met the completion criteria of {course.title} "
                           f"yet. Still to do: {', '.join(where.missing_for_completion())}.")
    if kind == "mastery":
        if await _live(uow, student.id, course.id, "completion") is None:
            raise InvalidInput(f"{name} needs the Completion certificate of {course.title} "
                               "before Mastery: recommend them for Completion first.")
        if not where.mastered:
            raise InvalidInput(f"{name} hasn't met the mastery criteria of {course.title} "
                               f"yet. Still to do: {', '.join(where.missing_for_mastery())}.")
    return found


async def list_candidates(uow: UnitOfWork, teacher: User) -> list[Candidate]:
    """Students this teacher has taught a completed lesson, in courses they still teach."""
    pairs = (await uow.session.execute(
        select(Booking.course_id, Booking.student_id).where(
            Booking.teacher_id == teacher.id, Booking.kind == "lesson",
            Booking.status == "completed").distinct()
        .order_by(Booking.course_id, Booking.student_id))).all()
    found = []
    for course_id, student_id in pairs:
        course = await uow.session.get(Course, course_id)
        student = await uow.session.get(User, student_id)
        if (course is None or student is None
                or not await is_active_teacher(uow, course_id, teacher.id)
                or await enrolment_of(uow, course_id, student_id) is None):
            continue
        found.append(Candidate(course, student, await standing(uow, course, student_id)))
    return found


async def recommend(uow: UnitOfWork, teacher: User, student_id: int, course_id: int,
                    kind: str = "completion", note: str = "", *,
                    review: Callable[[CertificationRequest], Buttons] | None = None
                    ) -> CertificationRequest:
    """Ask the course's creator to certify a student; a repeat returns the pending request.
    ``review`` makes the creator's buttons (the chat layer knows the payloads)."""
    c = await check_candidate(uow, teacher, student_id, course_id, kind)
    note = clean_text(note, MAX_NOTE)
    new_id = await uow.session.scalar(uow.insert(CertificationRequest).values(
        course_id=c.course.id, student_id=c.student.id, kind=kind, recommended_by=teacher.id,
        note=note, status="pending", created_at=uow.clock.now(),
    ).on_conflict_do_nothing().returning(CertificationRequest.id))
    request = await uow.session.scalar(select(CertificationRequest).where(
        CertificationRequest.course_id == c.course.id,
        CertificationRequest.student_id == c.student.id, CertificationRequest.kind == kind,
        CertificationRequest.status == "pending"))
    assert request is not None
    if new_id is None:
        return request  # already recommended (a double click): nobody is told twice
    creator = await uow.session.get(User, c.course.creator_id)
    if creator is not None:
        said = f"\n“{note}”" if note else ""
        await notify(uow, creator, "certificate_requested",
                     f"🎓 {teacher.display_name} recommends {c.student.display_name} for the "
                     f"{TITLES[kind]} certificate of {c.course.title} "
                     f"({c.standing.sessions_done} sessions, modules "
                     f"{c.standing.module_pct}% done).{said}",
                     review(request) if review else ())
    return request


async def creator_queue(uow: UnitOfWork, creator: User) -> list[RequestView]:
    """Pending requests for the courses this person created (even if the creator role was
    taken away since: their courses stay theirs to manage)."""
    rows = await uow.session.execute(
        select(CertificationRequest, Course).join(
            Course, Course.id == CertificationRequest.course_id).where(
            Course.creator_id == creator.id, CertificationRequest.status == "pending")
        .order_by(CertificationRequest.created_at, CertificationRequest.id))
    views = []
    for request, course in rows.all():
        student = await uow.session.get(User, request.student_id)
        teacher = await uow.session.get(User, request.recommended_by)
        assert student is not None and teacher is not None
        views.append(RequestView(request, course, student, teacher))
    return views


async def get_request_for(uow: UnitOfWork, creator: User, request_id: int) -> RequestView:
    """A request for one of this creator's courses; anyone else's reads as not found."""
    request = (await uow.session.get(CertificationRequest, request_id, with_for_update=True)
               if is_valid_id(request_id) else None)
    course = await uow.session.get(Course, request.course_id) if request else None
    if request is None or course is None or course.creator_id != creator.id:
        raise NotFound("certificate request")
    student = await uow.session.get(User, request.student_id)
    teacher = await uow.session.get(User, request.recommended_by)
    assert student is not None and teacher is not None
    return RequestView(request, course, student, teacher)


async def _issue(uow: UnitOfWork, user_id: int, course_id: int, kind: str,
                 issued_by: int | None, request_id: int | None) -> Certificate:
    """The live certificate of this kind, made if missing (the partial unique index keeps
    one live per person, course and kind even when two approvals race)."""
    for _ in range(3):  # a new code again in the (astronomically unlikely) code collision
        existing = await _live(uow, user_id, course_id, kind)
        if existing is not None:
            return existing
        await uow.session.execute(uow.insert(Certificate).values(
            code=secrets.token_urlsafe(9), kind=kind, course_id=course_id, user_id=user_id,
            issued_at=uow.clock.now(), issued_by=issued_by, request_id=request_id,
        ).on_conflict_do_nothing())
    raise RuntimeError("could not issue a certificate code")  # pragma: no cover


async def decide(uow: UnitOfWork, creator: User, request_id: int, approve: bool,
                 reason: str | None, *, verify_link: Callable[[str], str]) -> Decision:
    """Approve (issue the certificate) or decline (with a reason) a pending request; the
    student, the funder and the recommending teacher hear about it."""
    view = await get_request_for(uow, creator, request_id)
    request, course, student = view.request, view.course, view.student
    if request.status != "pending":
        cert = await _live(uow, student.id, course.id, request.kind)
        return Decision(request, cert if request.status == "approved" else None, True)
    reason = clean_text(reason, MAX_NOTE) or None
    if not approve and reason is None:
        raise InvalidInput("Please say why you are declining, so the student knows what to "
                           "work on (for example: “Module 2 needs another session”).")
    request.status = "approved" if approve else "declined"
    request.reason = reason
    request.decided_by = creator.id
    request.decided_at = uow.clock.now()
    what = f"{TITLES[request.kind]} certificate of {course.title}"
    if not approve:
        await notify(uow, student, "certificate_declined",
                     f"{creator.display_name} didn't approve your {what} yet: {reason}\n"
                     f"Your teacher {view.teacher.display_name} can recommend you again "
                     "once that's done.")
        await notify(uow, view.teacher, "certificate_declined",
                     f"{creator.display_name} declined {student.display_name}'s {what}: "
                     f"{reason}")
        return Decision(request, None, False)
    cert = await _issue(uow, student.id, course.id, request.kind, creator.id, request.id)
    link = verify_link(cert.code)
    enrolment = await enrolment_of(uow, course.id, student.id)
    if enrolment is not None and request.kind == "completion" and enrolment.status == "active":
        enrolment.status, enrolment.completed_at = "completed", uow.clock.now()
    show = ((OutButton("🔎 View certificate", url=link),),)
    # The email copy carries the PDF itself (in chat, /certificates sends it).
    pdf = (Attachment(f"certificate-{cert.code}.pdf", "application/pdf",
                      certificate_pdf(await _view(uow, cert), link)),)
    await notify(uow, student, "certificate_issued",
                 f"🎓 Congratulations! {creator.display_name} approved your {what}. Anyone "
                 f"can check it at {link} — send /certificates for the PDF.", show,
                 email_files=pdf)
    funder_id = enrolment.funder_id if enrolment else None
    funder = await uow.session.get(User, funder_id) if funder_id else None
    if funder is not None and funder.id != student.id:
        await notify(uow, funder, "certificate_issued",
                     f"🎓 {student.display_name} earned the {what}, which you fund. "
                     f"Verify it at {link}", show, email_files=pdf)
    await notify(uow, view.teacher, "certificate_issued",
                 f"🎓 {creator.display_name} approved {student.display_name}'s {what} — "
                 "thanks for recommending them.")
    return Decision(request, cert, False)


async def issue_teaching_certificate(uow: UnitOfWork, user_id: int, course_id: int,
                                     issued_by: int | None) -> Certificate:
    """The Teaching certificate of a course (idempotent): given when someone is approved to
    teach it; its page counts the students they have taught since."""
    if not (is_valid_id(user_id) and is_valid_id(course_id)):
        raise NotFound("course")
    return await _issue(uow, user_id, course_id, "teaching", issued_by, None)


async def students_taught(uow: UnitOfWork, user_id: int, course_id: int) -> int:
    """Distinct students with at least one completed lesson taught by this person."""
    return int(await uow.session.scalar(
        select(func.count(func.distinct(Booking.student_id))).where(
            Booking.teacher_id == user_id, Booking.course_id == course_id,
            Booking.kind == "lesson", Booking.status == "completed")) or 0)


async def _view(uow: UnitOfWork, cert: Certificate) -> CertificateView:
    holder = await uow.session.get(User, cert.user_id)
    course = await uow.session.get(Course, cert.course_id)
    assert holder is not None and course is not None
    creator = await uow.session.get(User, course.creator_id)
    issuer = await uow.session.get(User, cert.issued_by) if cert.issued_by else None
    creator_name = creator.display_name if creator else "the course creator"
    taught = (await students_taught(uow, cert.user_id, cert.course_id)
              if cert.kind == "teaching" else 0)
    return CertificateView(cert, holder.display_name, course.title, creator_name,
                           issuer.display_name if issuer else creator_name, taught)


async def certificate_by_code(uow: UnitOfWork, code: str) -> CertificateView | None:
    """A certificate by its public code, revoked ones included (they say so)."""
    if not _CODE.match(code):
        return None
    cert = await uow.session.scalar(select(Certificate).where(Certificate.code == code))
    return await _view(uow, cert) if cert is not None else None


async def list_certificates(uow: UnitOfWork, user_id: int) -> list[CertificateView]:
    certs = (await uow.session.scalars(select(Certificate).where(
        Certificate.user_id == user_id).order_by(Certificate.issued_at.desc(),
                                                 Certificate.id.desc()))).all()
    return [await _view(uow, c) for c in certs]


# The PDF's built-in fonts cover Windows-1252: enough for most Latin names.
_PDF_ENCODING = "windows-1252"


def _pdf_text(text: str) -> str:
    """What the built-in fonts can draw: others lose their accents, or become ``?``."""
    out = []
    for char in text:
        try:
            char.encode(_PDF_ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            bare = "".join(c for c in unicodedata.normalize("NFKD", char)
                           if not unicodedata.combining(c))
            out.append(bare.encode(_PDF_ENCODING, "replace").decode(_PDF_ENCODING))
    return "".join(out)


def _centred(pdf: FPDF, text: str, size: float, style: str = "", height: float = 10,
             colour: tuple[int, int, int] = (31, 41, 51)) -> None:
    text = _pdf_text(text)
    pdf.set_font("Helvetica", style, size)
    while size > 8 and pdf.get_string_width(text) > pdf.epw:  # long names shrink, not spill
        size -= 1
        pdf.set_font("Helvetica", style, size)
    pdf.set_text_color(*colour)
    pdf.cell(0, height, text, align="C", new_x="LMARGIN", new_y="NEXT")


def issued_on(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def certificate_pdf(view: CertificateView, verify_url: str, *, compress: bool = True) -> bytes:
    """One A4 landscape page: kind, holder, course, date, creator and the verification link
    (``verify_url`` comes from the caller: core does not know the web routes)."""
    cert = view.certificate
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.core_fonts_encoding = _PDF_ENCODING
    pdf.set_compression(compress)
    pdf.set_creation_date(cert.issued_at)
    pdf.set_title(_pdf_text(f"{view.title}: {view.holder}, {view.course_title}"))
    pdf.set_author("Alpha Peer")
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 22, 25)
    pdf.add_page()
    pdf.set_draw_color(180, 140, 40)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, 269, 182)
    _centred(pdf, "ALPHA PEER", 14, "B", colour=(180, 140, 40))
    pdf.ln(6)
    _centred(pdf, view.title, 32, "B", height=16)
    pdf.ln(6)
    _centred(pdf, "This certifies that", 13, "I")
    _centred(pdf, view.holder, 28, "B", height=16)
    doing = {"completion": "has completed the course", "mastery": "has mastered the course",
             "teaching": "is certified to teach the course"}[cert.kind]
    _centred(pdf, doing, 13, "I")
    _centred(pdf, view.course_title, 20, "B", height=12)
    if cert.kind == "teaching":
        _centred(pdf, f"Students taught: {view.students_taught}", 13)
    pdf.ln(8)
    _centred(pdf, f"Issued on {issued_on(cert.issued_at)} · Course creator: {view.creator}",
             12)
    if view.revoked:
        _centred(pdf, "REVOKED", 16, "B", colour=(180, 30, 30))
    pdf.set_y(172)
    _centred(pdf, f"Certificate id {cert.code} · verify at", 10, colour=(97, 110, 124),
             height=6)
    pdf.set_font("Helvetica", "U", 11)
    pdf.set_text_color(30, 80, 160)
    pdf.cell(0, 7, _pdf_text(verify_url), align="C", link=verify_url,
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
