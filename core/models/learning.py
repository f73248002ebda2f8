"""Learning a course: enrolments, module progress, quizzes and attempts, certification
requests, certificates, applications to teach, and who follows whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime

ENROLMENT_STATUSES = ("active", "completed", "left")
CERTIFICATE_KINDS = ("completion", "mastery", "teaching")
REQUEST_STATUSES = ("pending", "approved", "declined")
APPLICATION_STATUSES = ("pending", "endorsed", "approved", "declined")


class Enrolment(Base):
    """A student taking a course; made when their first paid session of it is confirmed.
    ``funder_id``: who pays, if someone else does (they receive progress and certificates)."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("course_id", "student_id"),
        CheckConstraint(f"status IN {ENROLMENT_STATUSES!r}", name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    funder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    status: Mapped[str] = mapped_column(String(12), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The free intro it followed, if any: intro → enrolment conversion.
    intro_booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None)


class SessionModule(Base):
    """The course module a session is for: the next one the student had not done when it
    was booked (its own table: the booking table's overlap triggers rule out a rebuild)."""

    __tablename__ = "session_module"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("course_module.id", ondelete="CASCADE"), index=True)


class ModuleProgress(Base):
    """A module the student marked done, and the completed session that allowed it."""

    __tablename__ = "module_progress"

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("course_module.id", ondelete="CASCADE"), primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Quiz(Base):
    __tablename__ = "quiz"
    __table_args__ = (CheckConstraint("pass_pct BETWEEN 1 AND 100", name="pass_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"),
                                           index=True)
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_module.id", ondelete="SET NULL"), default=None)
    title: Mapped[str] = mapped_column(String(80))
    pass_pct: Mapped[int] = mapped_column(default=70)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    questions: Mapped[list[QuizQuestion]] = relationship(
        lazy="raise_on_sql", order_by="QuizQuestion.position", cascade="all, delete-orphan")


class QuizQuestion(Base):
    """One multiple-choice question: 2-6 options, ``answer`` is the right one's index."""

    __tablename__ = "quiz_question"
    __table_args__ = (UniqueConstraint("quiz_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    position: Mapped[int]
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[int]


class QuizAttempt(Base):
    """A finished attempt, graded at once."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (Index("ix_quiz_attempt_user_quiz", "user_id", "quiz_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    answers: Mapped[list[int]] = mapped_column(JSON)
    score_pct: Mapped[int]
    passed: Mapped[bool]
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CertificationRequest(Base):
    """A student-teacher recommends a student; the course's creator approves or declines."""

    __tablename__ = "certification_request"
    __table_args__ = (
        CheckConstraint(f"status IN {REQUEST_STATUSES!r}", name="known_status"),
        CheckConstraint("kind IN ('completion', 'mastery')", name="known_kind"),
        # One open request per student, course and kind.
        Index("uq_certification_request_pending", "course_id", "student_id", "kind",
              unique=True, sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(12), default="completion")
    recommended_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Certificate(Base):
    """Completion, Mastery or Teaching certificate; ``code`` is its public verification id."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint(f"kind IN {CERTIFICATE_KINDS!r}", name="known_kind"),
        Index("uq_certificate_live", "user_id", "course_id", "kind", unique=True,
              sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification_request.id"), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(Text, default=None)


class TeachingApplication(Base):
    """A certified student applies to teach a course: the creator endorses, the admin vets."""

    __tablename__ = "teaching_application"
    __table_args__ = (
        CheckConstraint(f"status IN {APPLICATION_STATUSES!r}", name="known_status"),
        Index("uq_teaching_application_open", "course_id", "user_id", unique=True,
              sqlite_where=text("status IN ('pending', 'endorsed')"),
              postgresql_where=text("status IN ('pending', 'endorsed')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    motivation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    endorsed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follow(Base):
    __tablename__ = "follow"
    __table_args__ = (
        CheckConstraint("follower_id <> followee_id", name="not_self"),
        Index("ix_follow_followee", "followee_id"),
    )

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


PROFILE_SECTIONS = ("bio", "links", "documents", "interests", "courses")


class Profile(Base):
    """What a person tells others about themselves; ``private`` lists the sections only
    they see (a funder may keep all of it private)."""

    __tablename__ = "profile"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    private: Mapped[list[str]] = mapped_column(JSON, default=list)
    picture_ref: Mapped[str | None] = mapped_column(String(300), default=None)
    picture_platform: Mapped[str | None] = mapped_column(String(16), default=None)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
