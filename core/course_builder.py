"""Creators build courses: the admin grants (or revokes) creator permission; a creator writes
a course as a draft, adds modules, materials and quizzes, sets completion and mastery
criteria, publishes it and may retire it. Revoking the permission blocks new courses only:
a creator keeps managing the courses they own."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from core.account import get_user, grant_role
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import (
    Course,
    CourseMaterial,
    CourseModule,
    CourseTeacher,
    Quiz,
    QuizQuestion,
    User,
    UserRole,
)
from core.models.catalogue import LEVELS
from core.money import Money
from core.text import clean_block, clean_line, clean_link
from core.uow import UnitOfWork

LENGTHS = (30, 45, 60, 90, 120)
MAX_PRICE_MINOR = 1_000_000
MAX_MODULES = 40
MAX_QUESTIONS = 30
MAX_TEXT = 1500


class NotACreator(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Creating courses needs creator permission — ask the admin for it.")


async def grant_creator(uow: UnitOfWork, user_id: int) -> User:
    user = await get_user(uow, user_id)
    grant_role(uow, user, "creator")
    return user


async def revoke_creator(uow: UnitOfWork, user_id: int) -> User:
    user = await get_user(uow, user_id)
    await uow.session.execute(delete(UserRole).where(
        UserRole.user_id == user.id, UserRole.role == "creator"))
    await uow.session.refresh(user, ["roles"])
    return user


def parse_price(text: str, currency: str = "USD") -> int:
    try:
        price = Money.parse(text, currency)
    except ValueError:
        raise InvalidInput("Type the price of one session, like 40 or 39.50 (0 for free)."
                           ) from None
    if price.minor > MAX_PRICE_MINOR:
        raise InvalidInput(f"The most a session can cost is {Money(MAX_PRICE_MINOR, currency)}.")
    return price.minor


async def _slug(uow: UnitOfWork, title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40] or "course"
    taken = set((await uow.session.scalars(
        select(Course.slug).where(Course.slug.like(f"{base}%")))).all())
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


async def create_course(uow: UnitOfWork, creator: User, *, title: str, description: str,
                        level: str, price_minor: int, minutes: int,
                        currency: str = "USD") -> Course:
    """A draft course owned by ``creator``, who may also teach it."""
    if "creator" not in creator.role_names:
        raise NotACreator()
    if level not in LEVELS:
        raise InvalidInput(f"Pick a level: {', '.join(LEVELS)}.")
    if minutes not in LENGTHS:
        raise InvalidInput(f"Sessions last {', '.join(map(str, LENGTHS))} minutes.")
    if not 0 <= price_minor <= MAX_PRICE_MINOR:
        raise InvalidInput("That price is out of range.")
    title = clean_line(title, what="course title", least=3, most=80)
    now = uow.clock.now()
    course = Course(slug=await _slug(uow, title), title=title, level=level,
                    description=clean_block(description, what="description", most=MAX_TEXT),
                    price_minor=price_minor, currency=currency, session_minutes=minutes,
                    status="draft", creator_id=creator.id, created_at=now)
    uow.session.add(course)
    await uow.session.flush()
    uow.session.add(CourseTeacher(course_id=course.id, teacher_id=creator.id, approved_at=now))
    return course


async def owned_course(uow: UnitOfWork, user: User, course_id: int, *,
                       lock: bool = False) -> Course:
    """A course this person manages: its creator (permission or not), or the admin."""
    course = await uow.session.get(Course, course_id, with_for_update=lock) if is_valid_id(
        course_id) else None
    if course is None or (course.creator_id != user.id and "admin" not in user.role_names):
        raise NotFound("course")
    return course


async def list_owned_courses(uow: UnitOfWork, user: User) -> list[Course]:
    return list((await uow.session.scalars(select(Course).where(
        Course.creator_id == user.id).order_by(Course.created_at))).all())


EDITABLE = ("title", "description", "syllabus", "level", "price", "length")


def edit_course(course: Course, field: str, text: str) -> str:
    """Change one detail from what the creator typed; returns how it reads now."""
    if course.status == "retired":
        raise InvalidInput("This course is retired; its details are frozen.")
    if field == "title":
        course.title = clean_line(text, what="course title", least=3, most=80)
        return course.title
    if field == "description":
        course.description = clean_block(text, what="description", most=MAX_TEXT)
        return course.description[:80]
    if field == "syllabus":
        course.syllabus = clean_block(text, what="syllabus", most=MAX_TEXT)
        return course.syllabus[:80]
    if field == "level":
        if text not in LEVELS:
            raise InvalidInput(f"Pick a level: {', '.join(LEVELS)}.")
        course.level = text
        return text
    if field == "price":
        course.price_minor = parse_price(text, course.currency)
        return str(course.price)
    if field == "length":
        if not text.isdigit() or int(text) not in LENGTHS:
            raise InvalidInput(f"Sessions last {', '.join(map(str, LENGTHS))} minutes.")
        course.session_minutes = int(text)
        return f"{text} min"
    raise InvalidInput(f"You can change: {', '.join(EDITABLE)}.")


async def modules_of(uow: UnitOfWork, course_id: int) -> list[CourseModule]:
    return list((await uow.session.scalars(select(CourseModule).where(
        CourseModule.course_id == course_id).order_by(CourseModule.position))).all())


async def _count_and_last(uow: UnitOfWork, position: InstrumentedAttribute[int],
                          where: ColumnElement[bool]) -> tuple[int, int]:
    """How many rows a list has and its last position (0 when empty)."""
    count, last = (await uow.session.execute(
        select(func.count(), func.coalesce(func.max(position), 0)).where(where))).one()
    return int(count), int(last)


async def add_module(uow: UnitOfWork, course: Course, *, title: str, summary: str = "",
                     video_url: str | None = None) -> CourseModule:
    if course.status == "retired":
        raise InvalidInput("This course is retired; its modules are frozen.")
    count, last = await _count_and_last(uow, CourseModule.position,
                                        CourseModule.course_id == course.id)
    if count >= MAX_MODULES:
        raise InvalidInput(f"A course can have at most {MAX_MODULES} modules.")
    module = CourseModule(course_id=course.id, position=last + 1,
                          title=clean_line(title, what="module title", least=2, most=80),
                          summary=clean_block(summary, what="module summary", most=MAX_TEXT),
                          video_url=clean_link(video_url) if video_url else None)
    uow.session.add(module)
    await uow.session.flush()
    return module


async def owned_module(uow: UnitOfWork, user: User, module_id: int) -> CourseModule:
    module = await uow.session.get(CourseModule, module_id) if is_valid_id(module_id) else None
    if module is None:
        raise NotFound("module")
    await owned_course(uow, user, module.course_id)
    return module


async def remove_module(uow: UnitOfWork, user: User, module_id: int) -> Course:
    """Drop a module of a draft; later modules move up (published courses keep theirs:
    students' progress points at them)."""
    module = await owned_module(uow, user, module_id)
    course = await owned_course(uow, user, module.course_id)
    if course.status != "draft":
        raise InvalidInput("Modules of a published course stay (students' progress refers "
                           "to them); edit its title or summary instead.")
    position = module.position
    await uow.session.delete(module)
    await uow.session.flush()
    # Two steps so no two modules ever share a position (a unique constraint).
    later = (CourseModule.course_id == course.id) & (CourseModule.position > position)
    await uow.session.execute(update(CourseModule).where(later).values(
        position=-CourseModule.position), execution_options={"synchronize_session": False})
    await uow.session.execute(update(CourseModule).where(
        CourseModule.course_id == course.id, CourseModule.position < 0).values(
        position=-CourseModule.position - 1), execution_options={"synchronize_session": False})
    return course


async def add_material(uow: UnitOfWork, course: Course, *, title: str, url: str | None = None,
                       body: str = "", file_ref: str | None = None,
                       platform: str | None = None, module_id: int | None = None
                       ) -> CourseMaterial:
    """A link, an uploaded document (a chat file reference) or a note."""
    if module_id is not None:
        module = await uow.session.get(CourseModule, module_id) if is_valid_id(
            module_id) else None
        if module is None or module.course_id != course.id:
            raise NotFound("module")
    kind = "document" if file_ref else "link" if url else "note"
    if kind == "note" and not body.strip():
        raise InvalidInput("Send a link, a file, or type the note's text.")
    material = CourseMaterial(
        course_id=course.id, module_id=module_id, kind=kind,
        title=clean_line(title, what="title", least=2, most=120),
        url=clean_link(url) if url else None, body=clean_block(body, what="note", most=4000),
        file_ref=file_ref, platform=platform if file_ref else None,
        created_at=uow.clock.now())
    uow.session.add(material)
    await uow.session.flush()
    return material


async def materials_of(uow: UnitOfWork, course_id: int) -> list[CourseMaterial]:
    return list((await uow.session.scalars(select(CourseMaterial).where(
        CourseMaterial.course_id == course_id).order_by(CourseMaterial.id))).all())


@dataclass(frozen=True)
class QuestionDraft:
    prompt: str
    options: tuple[str, ...]
    answer: int


def parse_question(text: str) -> QuestionDraft:
    """``What is 2+2? | 3 | *4 | 5``: the question, then the options; ``*`` marks the right
    one (lines work as well as bars)."""
    parts = [p.strip() for p in re.split(r"\s*\|\s*|\n", text or "") if p.strip()]
    example = "Type it like: What does len('abc') return? | 2 | *3 | 4  (* marks the answer)"
    if len(parts) < 3:
        raise InvalidInput(example)
    prompt, options = parts[0], parts[1:]
    marked = [i for i, o in enumerate(options) if o.startswith("*")]
    if len(marked) != 1 or not 2 <= len(options) <= 6:
        raise InvalidInput("Give 2 to 6 options with exactly one marked by *. " + example)
    cleaned = tuple(clean_line(o.lstrip("*"), what="option", least=1, most=60)
                    for o in options)
    return QuestionDraft(clean_line(prompt, what="question", least=3, most=300), cleaned,
                         marked[0])


async def add_quiz(uow: UnitOfWork, course: Course, *, title: str, pass_pct: int,
                   module_id: int | None = None) -> Quiz:
    if course.status == "retired":
        raise InvalidInput("This course is retired; its quizzes are frozen.")
    if not 1 <= pass_pct <= 100:
        raise InvalidInput("The pass mark is a percentage from 1 to 100.")
    quiz = Quiz(course_id=course.id, module_id=module_id, pass_pct=pass_pct,
                title=clean_line(title, what="quiz title", least=2, most=80),
                created_at=uow.clock.now())
    uow.session.add(quiz)
    await uow.session.flush()
    return quiz


async def owned_quiz(uow: UnitOfWork, user: User, quiz_id: int) -> Quiz:
    quiz = await uow.session.get(Quiz, quiz_id) if is_valid_id(quiz_id) else None
    if quiz is None:
        raise NotFound("quiz")
    await owned_course(uow, user, quiz.course_id)
    return quiz


async def add_question(uow: UnitOfWork, quiz: Quiz, draft: QuestionDraft) -> int:
    """Append a question; returns how many the quiz has now."""
    count, last = await _count_and_last(uow, QuizQuestion.position,
                                        QuizQuestion.quiz_id == quiz.id)
    if count >= MAX_QUESTIONS:
        raise InvalidInput(f"A quiz can have at most {MAX_QUESTIONS} questions.")
    uow.session.add(QuizQuestion(quiz_id=quiz.id, position=last + 1, prompt=draft.prompt,
                                 options=list(draft.options), answer=draft.answer))
    await uow.session.flush()
    return count + 1


async def quizzes_of(uow: UnitOfWork, course_id: int) -> list[tuple[Quiz, int]]:
    """The course's quizzes with their number of questions."""
    rows = await uow.session.execute(
        select(Quiz, func.count(QuizQuestion.id)).outerjoin(
            QuizQuestion, QuizQuestion.quiz_id == Quiz.id).where(Quiz.course_id == course_id)
        .group_by(Quiz.id).order_by(Quiz.id))
    return [(q, int(n)) for q, n in rows.all()]


def set_criteria(course: Course, *, complete_sessions: int | None = None,
                 complete_modules: bool | None = None, complete_quizzes: bool | None = None,
                 mastery_sessions: int | None = None, mastery_quiz_pct: int | None = None
                 ) -> None:
    if complete_sessions is not None:
        if not 0 <= complete_sessions <= 100:
            raise InvalidInput("Sessions for completion: a number from 0 to 100.")
        course.complete_sessions = complete_sessions
    if complete_modules is not None:
        course.complete_modules = complete_modules
    if complete_quizzes is not None:
        course.complete_quizzes = complete_quizzes
    if mastery_sessions is not None:
        if not 0 <= mastery_sessions <= 200:
            raise InvalidInput("Sessions for mastery: a number from 0 to 200.")
        course.mastery_sessions = mastery_sessions
    if mastery_quiz_pct is not None:
        if not 1 <= mastery_quiz_pct <= 100:
            raise InvalidInput("The mastery quiz score is a percentage from 1 to 100.")
        course.mastery_quiz_pct = mastery_quiz_pct
    if course.mastery_sessions < course.complete_sessions:
        raise InvalidInput("Mastery needs at least as many sessions as completion.")


async def publish(uow: UnitOfWork, course: Course) -> list[str]:
    """Open a draft for enrolment; returns what is missing instead, if anything."""
    if course.status == "published":
        return []
    if course.status == "retired":
        raise InvalidInput("A retired course stays retired; create a new edition instead.")
    missing = []
    if not course.description.strip():
        missing.append("a description")
    if not await modules_of(uow, course.id):
        missing.append("at least one module")
    empty = [q.title for q, n in await quizzes_of(uow, course.id) if n == 0]
    if empty:
        missing.append(f"questions in quiz {', '.join(empty)}")
    if missing:
        return missing
    course.status, course.published_at = "published", uow.clock.now()
    return []


async def retire(uow: UnitOfWork, course: Course) -> bool:
    """No new enrolments from now on; enrolled students carry on. False if it already was."""
    if course.status == "retired":
        return False
    if course.status == "draft":
        raise InvalidInput("A draft has no students; just leave it unpublished.")
    course.status, course.retired_at = "retired", uow.clock.now()
    return True
