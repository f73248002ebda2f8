"""Accounts with email, messaging, notifications and email, referrals and inquiries:
email addresses and web passwords, one-time email tokens, web sessions, rate-limit events,
the email outbox, direct threads and messages, blocks, reports, broadcasts, referrals,
inquiries; per-person notification channels, quiet hours, the student-to-student opt-in and
a referral code. The unused ``user_account.bio`` goes (profiles hold bios since 0013).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_event'))
    )
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.create_index('ix_rate_event_bucket_key_at', ['bucket', 'key', 'at'], unique=False)

    op.create_table('account_email',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('added_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('password_changed_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_email_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_account_email')),
    sa.UniqueConstraint('address', name=op.f('uq_account_email_address'))
    )
    op.create_table('block',
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocker_id <> blocked_id', name=op.f('ck_block_not_self')),
    sa.ForeignKeyConstraint(['blocked_id'], ['user_account.id'], name=op.f('fk_block_blocked_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['user_account.id'], name=op.f('fk_block_blocker_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_block'))
    )
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_broadcast_sender_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast'))
    )
    op.create_table('direct_thread',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('low_id', sa.Integer(), nullable=False),
    sa.Column('high_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('low_id < high_id', name=op.f('ck_direct_thread_ordered_pair')),
    sa.ForeignKeyConstraint(['high_id'], ['user_account.id'], name=op.f('fk_direct_thread_high_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['low_id'], ['user_account.id'], name=op.f('fk_direct_thread_low_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_direct_thread')),
    sa.UniqueConstraint('low_id', 'high_id', name=op.f('uq_direct_thread_low_id_high_id'))
    )
    with op.batch_alter_table('direct_thread', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_thread_high_id'), ['high_id'], unique=False)

    op.create_table('email_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('reply_to', sa.String(length=254), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_email_message_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_message'))
    )
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.create_index('ix_email_message_due', ['sent_at', 'failed_at', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_message_user_id'), ['user_id'], unique=False)

    op.create_table('email_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint("purpose IN ('verify', 'reset', 'set_password')", name=op.f('ck_email_token_known_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_email_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_token')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_email_token_link_hash'))
    )
    with op.batch_alter_table('email_token', schema=None) as batch_op:
        batch_op.create_index('ix_email_token_user_purpose', ['user_id', 'purpose'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    op.create_table('direct_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_direct_message_broadcast_id_broadcast'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['user_account.id'], name=op.f('fk_direct_message_recipient_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_direct_message_sender_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['direct_thread.id'], name=op.f('fk_direct_message_thread_id_direct_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_direct_message'))
    )
    with op.batch_alter_table('direct_message', schema=None) as batch_op:
        batch_op.create_index('ix_direct_message_thread', ['thread_id', 'id'], unique=False)
        batch_op.create_index('ix_direct_message_unread', ['recipient_id', 'read_at'], unique=False)
        batch_op.create_index('ix_direct_message_sender', ['sender_id', 'created_at'], unique=False)

    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_user_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'link', 'outreach')", name=op.f('ck_referral_known_channel')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_referral_course_id_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['joined_user_id'], ['user_account.id'], name=op.f('fk_referral_joined_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referrer_id'], ['user_account.id'], name=op.f('fk_referral_referrer_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_email', ['email'], unique=False)
        batch_op.create_index('uq_referral_email_once', ['referrer_id', 'email'], unique=True,
                              sqlite_where=sa.text("channel = 'email'"),
                              postgresql_where=sa.text("channel = 'email'"))
        batch_op.create_index('uq_referral_outreach_once', ['course_id', 'email'], unique=True,
                              sqlite_where=sa.text("channel = 'outreach'"),
                              postgresql_where=sa.text("channel = 'outreach'"))
        batch_op.create_index(batch_op.f('ix_referral_referrer_id'), ['referrer_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reported_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['direct_message.id'], name=op.f('fk_report_message_id_direct_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reported_id'], ['user_account.id'], name=op.f('fk_report_reported_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_report_reporter_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report')),
    sa.UniqueConstraint('reporter_id', 'message_id', name=op.f('uq_report_reporter_id_message_id'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_reported_id'), ['reported_id'], unique=False)

    op.create_table('inquiry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('converted_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_inquiry_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_inquiry_enrolment_id_enrolment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_inquiry_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry'))
    )
    with op.batch_alter_table('inquiry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inquiry_email'), ['email'], unique=False)

    # Plain ADD COLUMN on both databases; defaults fill the rows already there.
    op.add_column('user_account', sa.Column('notify_prefs', sa.JSON(), nullable=False,
                                            server_default='{}'))
    op.add_column('user_account', sa.Column('quiet_from', sa.Integer(), nullable=True))
    op.add_column('user_account', sa.Column('quiet_to', sa.Integer(), nullable=True))
    op.add_column('user_account', sa.Column('peer_messages', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column('user_account', sa.Column('ref_code', sa.String(length=16), nullable=True))
    op.create_index(op.f('ix_user_account_ref_code'), 'user_account', ['ref_code'],
                    unique=True)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('bio')



def downgrade() -> None:
    op.add_column('user_account', sa.Column('bio', sa.String(length=500), nullable=True))
    op.drop_index(op.f('ix_user_account_ref_code'), table_name='user_account')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('ref_code')
        batch_op.drop_column('peer_messages')
        batch_op.drop_column('quiet_to')
        batch_op.drop_column('quiet_from')
        batch_op.drop_column('notify_prefs')

    with op.batch_alter_table('inquiry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_email'))
        batch_op.drop_index(batch_op.f('ix_inquiry_course_id'))

    op.drop_table('inquiry')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reported_id'))

    op.drop_table('report')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_referrer_id'))
        batch_op.drop_index('uq_referral_outreach_once')
        batch_op.drop_index('uq_referral_email_once')
        batch_op.drop_index('ix_referral_email')

    op.drop_table('referral')
    with op.batch_alter_table('direct_message', schema=None) as batch_op:
        batch_op.drop_index('ix_direct_message_sender')
        batch_op.drop_index('ix_direct_message_unread')
        batch_op.drop_index('ix_direct_message_thread')

    op.drop_table('direct_message')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))

    op.drop_table('web_session')
    with op.batch_alter_table('email_token', schema=None) as batch_op:
        batch_op.drop_index('ix_email_token_user_purpose')

    op.drop_table('email_token')
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_message_user_id'))
        batch_op.drop_index('ix_email_message_due')

    op.drop_table('email_message')
    with op.batch_alter_table('direct_thread', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_direct_thread_high_id'))

    op.drop_table('direct_thread')
    op.drop_table('broadcast')
    op.drop_table('block')
    op.drop_table('account_email')
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_event_bucket_key_at')

    op.drop_table('rate_event')
