"""Visitors' questions about a course: kept, delivered to its creator in chat and by email,
and counted as converted when the person who asked enrols."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import func, or_, select, update

from core.catalogue import get_published_course
from core.errors import DomainError, InvalidInput
from core.mail import clean_address, queue_email
from core.models import AccountEmail, Course, Inquiry, User
from core.outbox import notify
from core.rate_limit import hit
from core.text import clean_block, clean_line
from core.uow import UnitOfWork

KIND = "inquiry"
SOURCES = ("web", "chat")
DAY = timedelta(days=1)
PER_ADDRESS = 3  # per visitor's email address a day
PER_SENDER = 5  # per IP address (web) or account (chat) a day
MIN_MESSAGE = 10
# The question, the names and the reply line must fit one chat message (2,000 characters).
MAX_MESSAGE = 1200


class TooManyInquiries(DomainError):
    code = "too_many_inquiries"
    template = ("Too many inquiries — please try again later. Nothing was sent this time; "
                "you can send a few questions a day.")


def clean_question(text: str | None) -> str:
    body = clean_block(text, what="question", most=MAX_MESSAGE)
    if len(body) < MIN_MESSAGE:
        raise InvalidInput(f"Please write your question (at least {MIN_MESSAGE} characters).")
    return body


async def verified_address(uow: UnitOfWork, user_id: int) -> str | None:
    return await uow.session.scalar(select(AccountEmail.address).where(
        AccountEmail.user_id == user_id, AccountEmail.verified_at.is_not(None)))


def _text(course: Course, name: str, address: str, message: str, source: str) -> str:
    where = "on the course's web page" if source == "web" else "in the chat"
    return (f"❓ Question about {course.title} from {name}\n\n"
            f"{name} <{address}> asked {where}:\n\n{message}\n\n"
            "Answer them by email (reply to the address above) — they are waiting to hear "
            "from you.")


async def submit_inquiry(uow: UnitOfWork, course_id: int, name: str | None, email: str | None,
                         message: str | None, source: str, user: User | None = None, *,
                         ip: str | None = None) -> Inquiry:
    """Store a question and deliver it to the course's creator (chat, and email when they
    have a verified address). Limited per address and per sender (``ip`` on the web)."""
    if source not in SOURCES:
        raise ValueError(f"unknown inquiry source {source!r}")
    course = await get_published_course(uow, course_id)
    name = clean_line(name, what="name", least=1, most=80)
    address = clean_address(email)
    body = clean_question(message)
    sender = f"user:{user.id}" if user is not None else f"ip:{ip or 'unknown'}"
    if not (await hit(uow, "inquiry_address", address, limit=PER_ADDRESS, window=DAY)
            and await hit(uow, "inquiry_sender", sender, limit=PER_SENDER, window=DAY)):
        raise TooManyInquiries()
    row = Inquiry(course_id=course.id, user_id=user.id if user else None, name=name,
                  email=address, message=body, source=source, created_at=uow.clock.now())
    uow.session.add(row)
    await uow.session.flush()
    creator = await uow.session.get(User, course.creator_id)
    assert creator is not None  # course.creator_id is a non-null foreign key
    text = _text(course, name, address, body, source)
    await notify(uow, creator, KIND, text, email=False)  # the email below has Reply-To
    to = await verified_address(uow, creator.id)
    if to is not None:
        subject = f"Question about {course.title} from {name}"
        reply = f"mailto:{address}?subject={quote('Re: ' + subject)}"
        await queue_email(uow, to, KIND, subject, text, links=[(f"Reply to {name}", reply)],
                          user_id=creator.id, reply_to=address)  # answering reaches them
    return row


async def mark_inquiry_conversion(uow: UnitOfWork, student_id: int, course_id: int,
                                  enrolment_id: int) -> int:
    """The student enrolled: their open inquiries about the course (asked from their account
    or from their verified address) count as converted. Returns how many."""
    address = await verified_address(uow, student_id)
    asked_by = Inquiry.user_id == student_id
    if address is not None:
        asked_by = or_(asked_by, Inquiry.email == address)
    result = await uow.session.execute(
        update(Inquiry).where(Inquiry.course_id == course_id, Inquiry.enrolment_id.is_(None),
                              asked_by)
        .values(enrolment_id=enrolment_id, converted_at=uow.clock.now()),
        execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class InquiryStats:
    total: int
    converted: int
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)  # (asked, enrolled)

    @property
    def pct(self) -> int:
        return round(100 * self.converted / self.total) if self.total else 0


async def inquiry_stats(uow: UnitOfWork, course_id: int | None = None) -> InquiryStats:
    """Inquiries and how many led to an enrolment, overall and per source."""
    stmt = select(Inquiry.source, func.count(), func.count(Inquiry.enrolment_id)).group_by(
        Inquiry.source)
    if course_id is not None:
        stmt = stmt.where(Inquiry.course_id == course_id)
    by = {source: (int(n), int(done)) for source, n, done in
          (await uow.session.execute(stmt)).all()}
    return InquiryStats(sum(n for n, _ in by.values()), sum(d for _, d in by.values()), by)
