"""Courses, their modules, and who may teach them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from core.money import Money

COURSE_STATUSES = ("draft", "published", "retired")
LEVELS = ("beginner", "intermediate", "advanced")


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("session_minutes BETWEEN 15 AND 240", name="session_length"),
        CheckConstraint(f"status IN {COURSE_STATUSES!r}", name="known_status"),
        CheckConstraint(f"level IN {LEVELS!r}", name="known_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(16), default="beginner")
    # Price of one session; the same whoever teaches.
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    session_minutes: Mapped[int] = mapped_column(default=60)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    creator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    syllabus: Mapped[str] = mapped_column(Text, default="")
    # Completion: sessions attended, every module done, every quiz passed.
    complete_sessions: Mapped[int] = mapped_column(default=1)
    complete_modules: Mapped[bool] = mapped_column(default=True)
    complete_quizzes: Mapped[bool] = mapped_column(default=True)
    # Level-up (Mastery): more sessions and a higher quiz score than the pass mark.
    mastery_sessions: Mapped[int] = mapped_column(default=3)
    mastery_quiz_pct: Mapped[int] = mapped_column(default=90)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    modules: Mapped[list[CourseModule]] = relationship(
        lazy="raise_on_sql", order_by="CourseModule.position", cascade="all, delete-orphan"
    )

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)


class CourseModule(Base):
    __tablename__ = "course_module"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str | None] = mapped_column(String(500), default=None)


class CourseTeacher(Base):
    """A person approved to teach a course."""

    __tablename__ = "course_teacher"
    __table_args__ = (
        UniqueConstraint("course_id", "teacher_id"),
        CheckConstraint("status IN ('active', 'suspended')", name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_reason: Mapped[str | None] = mapped_column(Text, default=None)
    suspended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"),
                                                     default=None)


MATERIAL_KINDS = ("link", "document", "note")


class CourseMaterial(Base):
    """Reference material of a course (or one module): searched by /ask and the AI."""

    __tablename__ = "course_material"
    __table_args__ = (CheckConstraint(f"kind IN {MATERIAL_KINDS!r}", name="known_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"),
                                           index=True)
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_module.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(12), default="note")
    title: Mapped[str] = mapped_column(String(120))
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # An uploaded document: the chat platform's file id (sent again by it) and its platform.
    file_ref: Mapped[str | None] = mapped_column(String(300), default=None)
    platform: Mapped[str | None] = mapped_column(String(16), default=None)
