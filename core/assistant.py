"""The course assistant: /ask questions and session summaries.

With an AI server configured, a question is stored and answered after the turn commits
(no network call inside a chat turn). Without one, the course materials are searched and
the person is told that AI is off. Context comes from the course (its modules and
materials), never from private conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.ai_port import ChatMessage
from core.lease import lease, lease_free
from core.models import AIQuestion, Booking, Course, CourseMaterial, CourseModule, User
from core.search import matching_ids, search_words
from core.text import clean_line
from core.uow import UnitOfWork

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3
MAX_QUESTION = 1000
MAX_TRANSCRIPT_CHARS = 24000  # what fits comfortably in a small model's context


@dataclass(frozen=True)
class MaterialHit:
    title: str
    url: str | None
    excerpt: str


@dataclass(frozen=True)
class Asked:
    """Either a question queued for the AI, or an answer found in the materials."""

    course: Course | None
    question_id: int | None
    hits: list[MaterialHit]


async def course_in_focus(uow: UnitOfWork, user: User, booking_id: int | None) -> Course | None:
    """The session thread's course, else the person's nearest session's course."""
    if booking_id is not None:
        booking = await uow.session.get(Booking, booking_id)
        if booking is not None and user.id in (booking.student_id, booking.teacher_id):
            return await uow.session.get(Course, booking.course_id)
    now = uow.clock.now()
    mine = (Booking.student_id == user.id) | (Booking.teacher_id == user.id)
    booked = select(Booking.course_id).where(
        mine, Booking.status.in_(("confirmed", "completed"))).limit(1)
    nearest = (await uow.session.scalars(booked.where(Booking.starts_at >= now).order_by(
        Booking.starts_at))).first()  # the next session, else the latest one
    if nearest is None:
        nearest = (await uow.session.scalars(booked.order_by(Booking.starts_at.desc()))).first()
    if nearest is None:
        nearest = (await uow.session.scalars(select(Course.id).where(
            Course.creator_id == user.id).order_by(Course.id).limit(1))).first()
    return await uow.session.get(Course, nearest) if nearest is not None else None


async def search_materials(uow: UnitOfWork, course_id: int, text: str, *,
                           limit: int = 3) -> list[MaterialHit]:
    """One course's materials matching ``text`` (never every course's: materials are for
    that course's people)."""
    words = search_words(text)
    if not words:
        return []
    hits = matching_ids(uow, "course_material", words).subquery()
    stmt = (select(CourseMaterial).join(hits, hits.c.id == CourseMaterial.id)
            .where(CourseMaterial.course_id == course_id)
            .order_by(hits.c.rank.desc() if uow.dialect == "postgresql" else hits.c.rank)
            .limit(limit))
    found = list((await uow.session.scalars(stmt)).all())
    if not found and len(words) > 1:  # every word is required; try the most telling one
        longest = max(words, key=len)
        return await search_materials(uow, course_id, longest, limit=limit)
    return [MaterialHit(m.title, m.url, " ".join(m.body.split())[:300]) for m in found]


async def ask(uow: UnitOfWork, user: User, question: str, *, booking_id: int | None = None
              ) -> Asked:
    """Queue the question for the AI, or answer it from the course materials (AI off)."""
    text = clean_line(question, what="question", least=3, most=MAX_QUESTION)
    course = await course_in_focus(uow, user, booking_id)
    if not uow.settings.ai.base_url:
        # Without a course of their own, nobody searches every course's materials.
        return Asked(course, None, await search_materials(uow, course.id, text)
                     if course else [])
    now = uow.clock.now()
    row = AIQuestion(user_id=user.id, course_id=course.id if course else None,
                     booking_id=booking_id, question=text, created_at=now, next_attempt_at=now)
    uow.session.add(row)
    await uow.session.flush()
    uow.notifications += 1  # wakes the workers after commit
    return Asked(course, row.id, [])


async def course_context(uow: UnitOfWork, course: Course | None, question: str) -> str:
    """What the model is told about the course: title, level, modules, matching materials."""
    if course is None:
        return "The person has no course yet; answer generally and suggest /courses."
    modules = list((await uow.session.scalars(select(CourseModule).where(
        CourseModule.course_id == course.id).order_by(CourseModule.position))).all())
    lines = [f"Course: {course.title} ({course.level})", course.description.strip()]
    lines += [f"Module {m.position}: {m.title} — {m.summary}".strip(" —") for m in modules]
    for hit in await search_materials(uow, course.id, question):
        lines.append(f"Material «{hit.title}»: {hit.excerpt}")
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class PendingQuestion:
    id: int
    user_id: int
    messages: list[ChatMessage]


async def claim_questions(uow: UnitOfWork, *, limit: int = 10) -> list[PendingQuestion]:
    """Questions waiting for the AI, each leased to one worker, with their prompts."""
    now = uow.clock.now()
    ready = AIQuestion.status == "pending"
    won = await lease(uow, AIQuestion, select(AIQuestion.id).where(
        ready, AIQuestion.next_attempt_at <= now, lease_free(AIQuestion.claimed_until, now))
        .order_by(AIQuestion.id).limit(limit), ready, LEASE)
    claimed: list[PendingQuestion] = []
    for question_id in won:
        row = await uow.session.get(AIQuestion, question_id, populate_existing=True)
        assert row is not None
        course = await uow.session.get(Course, row.course_id) if row.course_id else None
        context = await course_context(uow, course, row.question)
        system = ("You are Alpha Peer's course assistant for a student or teacher who is stuck. "
                  "Answer briefly and concretely, in the language of the question, using the "
                  "course context when it helps. Suggest asking their teacher for anything "
                  f"you cannot answer.\n\n{context}")
        claimed.append(PendingQuestion(row.id, row.user_id, [
            ChatMessage("system", system), ChatMessage("user", row.question)]))
    return claimed


async def save_answer(uow: UnitOfWork, question_id: int, answer: str | None, *,
                      error: str = "", retryable: bool = False) -> AIQuestion | None:
    """Record the answer (or a failure: retried later, or given up); None if settled already."""
    row = await uow.session.get(AIQuestion, question_id, with_for_update=True)
    if row is None or row.status != "pending":
        return None
    row.claimed_until = None
    if answer is not None:
        row.status, row.answer = "answered", answer
        return row
    if retryable and row.attempts < MAX_ATTEMPTS:
        row.next_attempt_at = uow.clock.now() + timedelta(seconds=30 * 2 ** row.attempts)
        return None
    row.status, row.answer = "failed", error[:500]
    return row


def summary_prompt(course_title: str, module_title: str | None, transcript: str
                   ) -> list[ChatMessage]:
    """Key points and action items, tied to the course module the session covered."""
    module = f", module «{module_title}»" if module_title else ""
    system = (f"You summarise a recorded tutoring session of the course «{course_title}»"
              f"{module} for both participants. Write two short sections titled exactly "
              "'Key points' and 'Action items', each a list of at most five lines starting "
              "with '- '. Use only what the transcript says.")
    return [ChatMessage("system", system),
            ChatMessage("user", f"Transcript:\n{transcript[:MAX_TRANSCRIPT_CHARS]}")]

