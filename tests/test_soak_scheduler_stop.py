"""A stop while a scheduled job runs (SIGTERM after a soak, a deploy) logs no traceback:
APScheduler cancels the jobs in flight at shutdown, and ``_guarded`` takes that quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduling.scheduler import _guarded


async def test_shutdown_cancels_a_running_job_without_an_error(
        caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()

    async def slow_sweep(_db: object) -> None:
        started.set()
        await asyncio.sleep(30)

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(_guarded, "interval", seconds=0.05, args=(slow_sweep, None),
                      max_instances=1, coalesce=True)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.wait_for(started.wait(), timeout=10)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.1)  # the cancelled job runs to its end
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "slow_sweep stopped by shutdown" in caplog.text
