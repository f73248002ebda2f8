"""Taking a quiz in chat: the questions, instant grading, attempts kept (best one counts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.catalogue import is_active_teacher
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.learning import enrolment_of
from core.models import Course, Quiz, QuizAttempt, QuizQuestion, User
from core.uow import UnitOfWork


@dataclass(frozen=True)
class Paper:
    quiz: Quiz
    course: Course
    questions: tuple[QuizQuestion, ...]


async def open_quiz(uow: UnitOfWork, user: User, quiz_id: int) -> Paper:
    """A quiz its course's students, teachers and creator may take (others: not found)."""
    quiz = await uow.session.get(Quiz, quiz_id) if is_valid_id(quiz_id) else None
    course = await uow.session.get(Course, quiz.course_id) if quiz else None
    if quiz is None or course is None:
        raise NotFound("quiz")
    allowed = (course.creator_id == user.id
               or await enrolment_of(uow, course.id, user.id) is not None
               or await is_active_teacher(uow, course.id, user.id))
    if not allowed:
        raise NotFound("quiz")
    questions = tuple((await uow.session.scalars(select(QuizQuestion).where(
        QuizQuestion.quiz_id == quiz.id).order_by(QuizQuestion.position))).all())
    if not questions:
        raise InvalidInput("This quiz has no questions yet.")
    return Paper(quiz, course, questions)


@dataclass(frozen=True)
class Graded:
    score_pct: int
    passed: bool
    right: int
    wrong: tuple[tuple[QuizQuestion, int], ...]  # (question, the answer given)
    attempt: QuizAttempt


async def submit(uow: UnitOfWork, user: User, paper: Paper, answers: list[int]) -> Graded:
    """Grade every answer at once and keep the attempt."""
    if len(answers) != len(paper.questions) or any(
            not 0 <= a < len(q.options) for a, q in zip(answers, paper.questions, strict=True)):
        raise InvalidInput("Answer every question once, then the quiz is graded.")
    wrong = tuple((q, a) for q, a in zip(paper.questions, answers, strict=True)
                  if a != q.answer)
    right = len(answers) - len(wrong)
    score = round(100 * right / len(answers))
    attempt = QuizAttempt(quiz_id=paper.quiz.id, user_id=user.id, answers=list(answers),
                          score_pct=score, passed=score >= paper.quiz.pass_pct,
                          finished_at=uow.clock.now())
    uow.session.add(attempt)
    await uow.session.flush()
    return Graded(score, attempt.passed, right, wrong, attempt)


async def best_scores(uow: UnitOfWork, user_id: int, quiz_ids: list[int]) -> dict[int, int]:
    rows = await uow.session.execute(select(QuizAttempt.quiz_id, QuizAttempt.score_pct).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id.in_(quiz_ids)))
    best: dict[int, int] = {}
    for quiz_id, score in rows.all():
        best[quiz_id] = max(best.get(quiz_id, 0), score)
    return best
