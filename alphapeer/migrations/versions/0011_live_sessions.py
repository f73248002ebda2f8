"""Live sessions: video rooms, attendance, recordings, transcripts (full-text searchable),
session thread messages, course materials (searched by /ask), recording consent

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime
from core.search import SEARCHED

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NEW_FLAGS = (("booking", "student_records"), ("booking", "teacher_records"),
             ("teacher_settings", "records_sessions"))


def _create_search() -> None:
    """SQLite: an FTS5 index kept in step by triggers; PostgreSQL: a GIN index on tsvector."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in SEARCHED.items():
        if postgres:
            document = " || ' ' || ".join(columns)
            op.execute(f"CREATE INDEX ix_{table}_search ON {table} "
                       f"USING gin (to_tsvector('english', {document}))")
            continue
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        fts = f"{table}_fts"
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
                   f"content_rowid='id', tokenize='porter unicode61')")
        remove = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
        add = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {add} END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {remove} END")
        op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} BEGIN {remove} {add} END")


def _drop_search() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in SEARCHED:
        if postgres:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
            continue
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {table}_fts")


def upgrade() -> None:
    op.create_table('attendance',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_attendance_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_attendance_user_id_user_account')),
    sa.PrimaryKeyConstraint('booking_id', 'user_id', name=op.f('pk_attendance'))
    )
    op.create_table('course_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('link', 'document', 'note')", name=op.f('ck_course_material_known_kind')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_material_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['course_module.id'], name=op.f('fk_course_material_module_id_course_module'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_material'))
    )
    with op.batch_alter_table('course_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_material_course_id'), ['course_id'], unique=False)

    op.create_table('recording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=8), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('playback_url', sa.String(length=500), nullable=False),
    sa.Column('media_url', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("status IN ('ready', 'transcribed', 'failed')", name=op.f('ck_recording_known_status')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_recording_booking_id_booking'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording')),
    sa.UniqueConstraint('provider', 'record_id', name=op.f('uq_recording_provider_record_id'))
    )
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_recording_pending', ['status', 'next_attempt_at'], unique=False)

    op.create_table('session_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_ref', sa.String(length=300), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_session_message_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_session_message_sender_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_message'))
    )
    with op.batch_alter_table('session_message', schema=None) as batch_op:
        batch_op.create_index('ix_session_message_booking', ['booking_id', 'id'], unique=False)

    op.create_table('video_room',
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=8), nullable=False),
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('record', sa.Boolean(), nullable=False),
    sa.Column('create_time', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('polled_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('completed', 'partial', 'student_no_show', 'teacher_no_show', 'no_show')", name=op.f('ck_video_room_known_outcome')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_video_room_booking_id_booking'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_video_room')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_video_room_meeting_id'))
    )
    with op.batch_alter_table('video_room', schema=None) as batch_op:
        batch_op.create_index('ix_video_room_open', ['closed_at', 'provider'], unique=False)

    op.create_table('transcript',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_transcript_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recording_id'], ['recording.id'], name=op.f('fk_transcript_recording_id_recording'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript')),
    sa.UniqueConstraint('recording_id', name=op.f('uq_transcript_recording_id'))
    )
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_booking_id'), ['booking_id'], unique=False)

    # Plain ALTER TABLE on both databases: a SQLite batch rebuild of ``booking`` would drop
    # its overlap triggers.
    for table, column in NEW_FLAGS:
        op.add_column(table, sa.Column(column, sa.Boolean(), nullable=False,
                                       server_default=sa.false()))

    op.create_table('ai_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'answered', 'failed')", name=op.f('ck_ai_question_known_status')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_ai_question_booking_id_booking')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_ai_question_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ai_question_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_question'))
    )
    with op.batch_alter_table('ai_question', schema=None) as batch_op:
        batch_op.create_index('ix_ai_question_pending', ['status', 'next_attempt_at'], unique=False)

    _create_search()


def downgrade() -> None:
    _drop_search()
    for table, column in NEW_FLAGS:  # SQLite ≥ 3.35 drops a column in place
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_booking_id'))

    op.drop_table('transcript')
    with op.batch_alter_table('video_room', schema=None) as batch_op:
        batch_op.drop_index('ix_video_room_open')

    op.drop_table('video_room')
    with op.batch_alter_table('session_message', schema=None) as batch_op:
        batch_op.drop_index('ix_session_message_booking')

    op.drop_table('session_message')
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_pending')
        batch_op.drop_index(batch_op.f('ix_recording_booking_id'))

    op.drop_table('recording')
    with op.batch_alter_table('course_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_material_course_id'))

    op.drop_table('course_material')
    op.drop_table('attendance')
    with op.batch_alter_table('ai_question', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_question_pending')

    op.drop_table('ai_question')
