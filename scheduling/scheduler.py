"""APScheduler 3 wiring (in-memory job store: the jobs themselves keep no state)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.ai_port import Assistant
from core.outage import log_failure
from core.payment_port import PaymentProvider
from core.uow import Database
from core.video_port import VideoProvider
from scheduling.calendar_fetch import refresh_external_calendars
from scheduling.jobs import (
    apply_provider_events,
    prune_access,
    send_due_reminders,
    send_followups,
    send_money_out,
    sweep_expired_holds,
)
from scheduling.session_jobs import (
    answer_questions,
    poll_attendance,
    reconcile_recordings,
    transcribe_recordings,
)

log = logging.getLogger("alphapeer.scheduler")


async def _guarded(job: Any, db: Database) -> None:
    try:
        await job(db)
    except asyncio.CancelledError:
        # The process is stopping: APScheduler cancels the jobs in flight (and would log each
        # as an ERROR with a traceback). Each job's transaction rolled back; the next start
        # runs it again.
        log.info("scheduled job %s stopped by shutdown", getattr(job, "__name__", job))
    except Exception as exc:  # a failed sweep is retried at the next tick; never kill it
        log_failure(log, f"scheduled job {getattr(job, '__name__', job)} failed", exc)


def build_scheduler(
    db: Database, sweep_seconds: int, wake_courier: Callable[[], None] | None = None,
    provider: PaymentProvider | None = None, video: VideoProvider | None = None,
    assistant: Assistant | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    def wake(count: int) -> None:
        if count and wake_courier is not None:
            wake_courier()

    async def money(db: Database) -> None:
        """Webhook events still to apply (a crash, or waiting for an earlier one), then
        refunds and payouts decided in chat or by the admin, sent to the provider."""
        if provider is None:
            return
        parse = getattr(provider, "parse_event", None)
        applied = await apply_provider_events(db, provider.name, parse) if parse else 0
        if (await send_money_out(db, provider) or applied) and wake_courier:
            wake_courier()

    async def messages(db: Database) -> None:
        """Reminders and after-session results or questions: queued, then delivered."""
        wake(await send_due_reminders(db) + await send_followups(db, video))

    async def attendance(db: Database) -> None:
        """Who is in each running room (the evidence that a session happened)."""
        if video is not None:
            await poll_attendance(db, video)

    async def recordings(db: Database) -> None:
        """Recordings whose callback was lost, then transcripts and summaries."""
        if video is not None:
            wake(await reconcile_recordings(db, video)
                 + await transcribe_recordings(db, video, assistant))

    async def questions(db: Database) -> None:
        """/ask questions left over (a retry, or a process that stopped mid-way)."""
        wake(await answer_questions(db, assistant))

    jobs = ((messages, sweep_seconds, "send_messages"),
            (sweep_expired_holds, sweep_seconds, "sweep_expired_holds"),
            (money, sweep_seconds, "send_money_out"),
            (refresh_external_calendars, db.settings.calendars.refresh_seconds,
             "refresh_external_calendars"),
            (attendance, db.settings.video.attendance_poll_seconds, "poll_attendance"),
            (recordings, max(sweep_seconds, 60), "recordings"),
            (questions, sweep_seconds, "answer_questions"),
            (prune_access, 3600, "prune_access"))
    for job, seconds, name in jobs:
        # One run at a time per process; a late tick is merged, never queued up.
        scheduler.add_job(_guarded, "interval", seconds=seconds, args=(job, db), id=name,
                          max_instances=1, coalesce=True)
    return scheduler
