"""Sweep jobs: each opens its own unit of work and is safe to run in several processes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.booking import expire_holds
from core.email_token import prune_email_tokens
from core.followup import claim_followups
from core.models import Course, User
from core.outbox import Outgoing, queue
from core.payment import apply_recorded, pending_events
from core.payment_port import INSUFFICIENT_FUNDS, PaymentEvent, PaymentProvider, ProviderError
from core.payout import (
    DueOut,
    claim_money_out,
    complete_money_out,
    complete_reversal,
    defer_money_out,
    fail_reversal,
    wait_for_payout_account,
)
from core.rate_limit import prune_rate_events
from core.reminder import claim_due_reminders
from core.uow import Database
from core.video import close_room
from core.video_port import VideoProvider
from core.web_session import prune_sessions
from handlers.announce import followup_message, reminder_message
from scheduling.session_jobs import announce_closed

log = logging.getLogger("alphapeer.jobs")


async def prune_access(db: Database) -> int:
    """Forget what only mattered for a while: rate-limit attempts past every window, email
    tokens used or expired over a day ago, web sessions long expired or revoked."""
    async with db.uow() as uow:
        return (await prune_rate_events(uow) + await prune_email_tokens(uow)
                + await prune_sessions(uow))


async def sweep_expired_holds(db: Database) -> int:
    """Release slots whose unpaid holds lapsed (an UPDATE; concurrent runs cannot clash)."""
    async with db.uow() as uow:
        freed = await expire_holds(uow)
    if freed:
        log.info("released %d lapsed holds", freed)
    return freed


async def send_due_reminders(db: Database) -> int:
    """Claim due reminders and queue their messages in the same transaction."""
    async with db.uow() as uow:
        due = await claim_due_reminders(uow)
        await queue(uow, [Outgoing(r.recipient, f"reminder_{r.kind}",
                                   *reminder_message(r, db.settings)) for r in due])
    return len(due)


async def send_followups(db: Database, video: VideoProvider | None = None) -> int:
    """Sessions that just ended: decided from attendance where the video provider measures
    it (a rating prompt, or the question if it is unclear); otherwise ask both people."""
    async with db.uow() as uow:
        ended = await claim_followups(uow)
        if not ended:
            return 0
        if video is not None and video.tracks_attendance:
            for booking in ended:
                closed = await close_room(uow, booking.id)
                if closed is not None:
                    await announce_closed(uow, closed)
            return len(ended)
        people = {u.id: u for u in (await uow.session.scalars(select(User).where(
            User.id.in_({b.student_id for b in ended} | {b.teacher_id for b in ended})))).all()}
        titles = dict((await uow.session.execute(select(Course.id, Course.title).where(
            Course.id.in_({b.course_id for b in ended})))).all())
        questions = []
        for b in ended:
            student, teacher = people[b.student_id], people[b.teacher_id]
            for recipient, other in ((student, teacher), (teacher, student)):
                questions.append(Outgoing(recipient, "followup", *followup_message(
                    b, recipient, other, titles[b.course_id])))
        await queue(uow, questions)
    return len(ended)


async def send_money_out(db: Database, provider: PaymentProvider) -> int:
    """Send claimed refunds and payouts to the provider, each recorded in its own unit of
    work after the call (a crash in between is retried with the same idempotency key)."""
    async with db.uow() as uow:
        due = await claim_money_out(uow, provider.name)
    sent = 0
    for item in due:
        if item.waiting_for_account:
            async with db.uow() as uow:
                await wait_for_payout_account(uow, item.id)
            continue
        if item.reversals and not await _reverse_first(db, provider, item):
            continue
        try:
            call = provider.refund if item.kind == "refund" else provider.transfer
            ref = await call(item.request)
        except ProviderError as exc:
            log.warning("%s %s not sent: %s", item.kind, item.request.key, exc)
            async with db.uow() as uow:
                await defer_money_out(uow, item.id, str(exc), retryable=exc.retryable,
                                      answered=exc.answered)
            continue
        async with db.uow() as uow:
            sent += await complete_money_out(uow, item.id, ref)
    return sent


async def _reverse_first(db: Database, provider: PaymentProvider, item: DueOut) -> bool:
    """Take paid-out shares back before refunding them; False: try the refund later."""
    for reversal_id, request in item.reversals:
        try:
            ref = await provider.reverse(request)
        except ProviderError as exc:
            log.warning("reversal %s not made: %s", request.key, exc)
            async with db.uow() as uow:
                if exc.retryable and exc.code != INSUFFICIENT_FUNDS:
                    await defer_money_out(uow, item.id, f"reversal first: {exc}",
                                          retryable=True)
                    return False
                await fail_reversal(uow, reversal_id, str(exc))
            continue
        async with db.uow() as uow:
            await complete_reversal(uow, reversal_id, ref)
    return True


async def apply_provider_events(db: Database, provider: str,
                                parse: Callable[[dict[str, Any]], PaymentEvent]) -> int:
    """Apply recorded webhook events, oldest first, each in its own transaction; returns
    how many took effect (those waiting for an earlier event stay for the next round)."""
    applied = 0
    while True:  # passes over what is pending; another only if the last one made progress
        progress, after = 0, 0
        while True:
            async with db.uow() as uow:
                ids = await pending_events(uow, provider, after=after)
            if not ids:
                break
            for event_row in ids:
                async with db.uow() as uow:
                    outcome = await apply_recorded(uow, event_row, parse)
                if outcome is not None:
                    progress += 1
                    log.info("%s event %s: %s", provider, event_row, outcome)
            after = ids[-1]
        applied += progress
        if not progress:
            break
    return applied
