"""Courses and the learn → certify → teach flywheel: enrolments, module progress, quizzes,
certification requests, certificates, applications to teach, follows, profiles; course
criteria, module videos, uploaded materials, teacher suspension and directory listing

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _columns() -> list[tuple[str, sa.Column[object]]]:
    """Plain ADD COLUMN on both databases (a SQLite table rebuild would drop the booking
    overlap triggers); defaults fill the rows already there."""
    return [
        ("course", sa.Column("syllabus", sa.Text(), nullable=False, server_default="")),
        ("course", sa.Column("complete_sessions", sa.Integer(), nullable=False,
                             server_default="1")),
        ("course", sa.Column("complete_modules", sa.Boolean(), nullable=False,
                             server_default=sa.true())),
        ("course", sa.Column("complete_quizzes", sa.Boolean(), nullable=False,
                             server_default=sa.true())),
        ("course", sa.Column("mastery_sessions", sa.Integer(), nullable=False,
                             server_default="3")),
        ("course", sa.Column("mastery_quiz_pct", sa.Integer(), nullable=False,
                             server_default="90")),
        ("course", sa.Column("published_at", UTCDateTime(timezone=True), nullable=True)),
        ("course", sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True)),
        ("course_material", sa.Column("file_ref", sa.String(length=300), nullable=True)),
        ("course_material", sa.Column("platform", sa.String(length=16), nullable=True)),
        ("course_module", sa.Column("video_url", sa.String(length=500), nullable=True)),
        ("course_teacher", sa.Column("suspended_at", UTCDateTime(timezone=True),
                                     nullable=True)),
        ("course_teacher", sa.Column("suspended_reason", sa.Text(), nullable=True)),
        ("teacher_settings", sa.Column("listed", sa.Boolean(), nullable=False,
                                       server_default=sa.true())),
    ]


def upgrade() -> None:
    op.create_table('follow',
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('followee_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('follower_id <> followee_id', name=op.f('ck_follow_not_self')),
    sa.ForeignKeyConstraint(['followee_id'], ['user_account.id'], name=op.f('fk_follow_followee_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follower_id'], ['user_account.id'], name=op.f('fk_follow_follower_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('follower_id', 'followee_id', name=op.f('pk_follow'))
    )
    op.create_index('ix_follow_followee', 'follow', ['followee_id'], unique=False)
    op.create_table('profile',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('interests', sa.JSON(), nullable=False),
    sa.Column('private', sa.JSON(), nullable=False),
    sa.Column('picture_ref', sa.String(length=300), nullable=True),
    sa.Column('picture_platform', sa.String(length=16), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_profile_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_profile'))
    )
    op.create_table('certification_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('recommended_by', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('completion', 'mastery')", name=op.f('ck_certification_request_known_kind')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'declined')", name=op.f('ck_certification_request_known_status')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_certification_request_course_id_course')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_certification_request_decided_by_user_account')),
    sa.ForeignKeyConstraint(['recommended_by'], ['user_account.id'], name=op.f('fk_certification_request_recommended_by_user_account')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_certification_request_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification_request'))
    )
    op.create_index(op.f('ix_certification_request_course_id'), 'certification_request', ['course_id'], unique=False)
    op.create_index('uq_certification_request_pending', 'certification_request', ['course_id', 'student_id', 'kind'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_table('teaching_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('endorsed_by', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'endorsed', 'approved', 'declined')", name=op.f('ck_teaching_application_known_status')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_teaching_application_course_id_course')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_teaching_application_decided_by_user_account')),
    sa.ForeignKeyConstraint(['endorsed_by'], ['user_account.id'], name=op.f('fk_teaching_application_endorsed_by_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_teaching_application_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teaching_application'))
    )
    op.create_index(op.f('ix_teaching_application_course_id'), 'teaching_application', ['course_id'], unique=False)
    op.create_index('uq_teaching_application_open', 'teaching_application', ['course_id', 'user_id'], unique=True, sqlite_where=sa.text("status IN ('pending', 'endorsed')"), postgresql_where=sa.text("status IN ('pending', 'endorsed')"))
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('completion', 'mastery', 'teaching')", name=op.f('ck_certificate_known_kind')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_certificate_course_id_course')),
    sa.ForeignKeyConstraint(['issued_by'], ['user_account.id'], name=op.f('fk_certificate_issued_by_user_account')),
    sa.ForeignKeyConstraint(['request_id'], ['certification_request.id'], name=op.f('fk_certificate_request_id_certification_request')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certificate_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code'))
    )
    op.create_index(op.f('ix_certificate_course_id'), 'certificate', ['course_id'], unique=False)
    op.create_index(op.f('ix_certificate_user_id'), 'certificate', ['user_id'], unique=False)
    op.create_index('uq_certificate_live', 'certificate', ['user_id', 'course_id', 'kind'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table('quiz',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('pass_pct', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('pass_pct BETWEEN 1 AND 100', name=op.f('ck_quiz_pass_range')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_quiz_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['course_module.id'], name=op.f('fk_quiz_module_id_course_module'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz'))
    )
    op.create_index(op.f('ix_quiz_course_id'), 'quiz', ['course_id'], unique=False)
    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('enrolled_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('intro_booking_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'completed', 'left')", name=op.f('ck_enrolment_known_status')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_enrolment_course_id_course')),
    sa.ForeignKeyConstraint(['funder_id'], ['user_account.id'], name=op.f('fk_enrolment_funder_id_user_account')),
    sa.ForeignKeyConstraint(['intro_booking_id'], ['booking.id'], name=op.f('fk_enrolment_intro_booking_id_booking')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_enrolment_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    sa.UniqueConstraint('course_id', 'student_id', name=op.f('uq_enrolment_course_id_student_id'))
    )
    op.create_index(op.f('ix_enrolment_course_id'), 'enrolment', ['course_id'], unique=False)
    op.create_index(op.f('ix_enrolment_student_id'), 'enrolment', ['student_id'], unique=False)
    op.create_table('quiz_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('score_pct', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('finished_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_quiz_attempt_quiz_id_quiz'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_quiz_attempt_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempt'))
    )
    op.create_index('ix_quiz_attempt_user_quiz', 'quiz_attempt', ['user_id', 'quiz_id'], unique=False)
    op.create_table('quiz_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_quiz_question_quiz_id_quiz'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_question')),
    sa.UniqueConstraint('quiz_id', 'position', name=op.f('uq_quiz_question_quiz_id_position'))
    )
    op.create_table('module_progress',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('done_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_module_progress_booking_id_booking')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_module_progress_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['course_module.id'], name=op.f('fk_module_progress_module_id_course_module'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrolment_id', 'module_id', name=op.f('pk_module_progress'))
    )
    op.create_table('session_module',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_session_module_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['course_module.id'], name=op.f('fk_session_module_module_id_course_module'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_session_module'))
    )
    op.create_index(op.f('ix_session_module_module_id'), 'session_module', ['module_id'], unique=False)
    for table, column in _columns():
        op.add_column(table, column)
    # course_teacher has no triggers: SQLite may rebuild it to add the reference.
    with op.batch_alter_table("course_teacher") as batch:
        batch.add_column(sa.Column("suspended_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_course_teacher_suspended_by_user_account",
                                 "user_account", ["suspended_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("course_teacher") as batch:
        batch.drop_constraint("fk_course_teacher_suspended_by_user_account",
                              type_="foreignkey")
        batch.drop_column("suspended_by")
    for table, column in reversed(_columns()):
        op.drop_column(table, column.name)
    op.drop_index(op.f('ix_session_module_module_id'), table_name='session_module')
    op.drop_table('session_module')
    op.drop_table('module_progress')
    op.drop_table('quiz_question')
    op.drop_index('ix_quiz_attempt_user_quiz', table_name='quiz_attempt')
    op.drop_table('quiz_attempt')
    op.drop_index(op.f('ix_enrolment_student_id'), table_name='enrolment')
    op.drop_index(op.f('ix_enrolment_course_id'), table_name='enrolment')
    op.drop_table('enrolment')
    op.drop_index(op.f('ix_quiz_course_id'), table_name='quiz')
    op.drop_table('quiz')
    op.drop_index('uq_certificate_live', table_name='certificate', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
    op.drop_index(op.f('ix_certificate_user_id'), table_name='certificate')
    op.drop_index(op.f('ix_certificate_course_id'), table_name='certificate')
    op.drop_table('certificate')
    op.drop_index('uq_teaching_application_open', table_name='teaching_application', sqlite_where=sa.text("status IN ('pending', 'endorsed')"), postgresql_where=sa.text("status IN ('pending', 'endorsed')"))
    op.drop_index(op.f('ix_teaching_application_course_id'), table_name='teaching_application')
    op.drop_table('teaching_application')
    op.drop_index('uq_certification_request_pending', table_name='certification_request', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f('ix_certification_request_course_id'), table_name='certification_request')
    op.drop_table('certification_request')
    op.drop_table('profile')
    op.drop_index('ix_follow_followee', table_name='follow')
    op.drop_table('follow')
