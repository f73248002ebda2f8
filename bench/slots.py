"""Free slots for one teacher over 365 days with 800 bookings, in a DST zone."""

from __future__ import annotations

import gc
import time
from datetime import timedelta

from sqlalchemy import insert

from bench.common import Market, percentile, summary
from core.availability import list_free_slots
from core.models import Booking
from core.uow import Database
from core.windows import Window, expand_windows, expansions

WARM_UP = 3


async def run(db: Database, m: Market, repeats: int) -> dict[str, float]:
    now = db.clock.now()
    # 800 confirmed bookings spread over the year, a few hours apart, in the teacher's day.
    rows = []
    for i in range(800):
        start = now.replace(hour=10) + timedelta(days=i * 365 // 800, hours=(i % 3) * 3)
        student = m.students[i % len(m.students)]
        rows.append(
            {
                "course_id": m.course.id,
                "teacher_id": m.teacher.id,
                "student_id": student.id,
                "kind": "lesson",
                "status": "confirmed",
                "starts_at": start,
                "ends_at": start + timedelta(hours=1),
                "teacher_until": start + timedelta(hours=1),
                "price_minor": 4000,
                "currency": "USD",
                "created_at": now,
                "late_cancel": False,
                "sequence": 0,
            }
        )
    async with db.uow() as uow:
        await uow.session.execute(insert(Booking), rows)
    end = now + timedelta(days=365)
    ours: list[float] = []
    count = 0
    for _ in range(WARM_UP):  # statement compilation and caches: a running server is warm
        async with db.uow() as uow:
            await list_free_slots(uow, [m.teacher], 60, student_id=None, start=now, end=end)
    gc.collect()
    gc.freeze()  # as `alphapeer run` does after start-up: long-lived objects leave the scans
    for _ in range(repeats):
        async with db.uow() as uow:
            started = time.perf_counter()
            slots = await list_free_slots(
                uow, [m.teacher], 60, student_id=None, start=now, end=end
            )
            ours.append((time.perf_counter() - started) * 1000)
            count = len(slots)
    cold: list[float] = []
    for _ in range(max(repeats // 5, 5)):  # the first ask after start-up or a plan change
        expansions.clear()
        async with db.uow() as uow:
            started = time.perf_counter()
            await list_free_slots(uow, [m.teacher], 60, student_id=None, start=now, end=end)
            cold.append((time.perf_counter() - started) * 1000)
    windows = [Window(d, 6 * 60, 22 * 60) for d in range(7)]
    base: list[float] = []
    for _ in range(repeats):
        expansions.clear()
        started = time.perf_counter()
        expand_windows(windows, m.teacher.timezone, 60, now, end)
        base.append((time.perf_counter() - started) * 1000)
    ratio = sorted(ours)[len(ours) // 2] / max(sorted(base)[len(base) // 2], 1e-9)
    print(
        f"  slots, 1 teacher × 365 days × 800 bookings ({m.teacher.timezone}): "
        f"{count} free slots · {summary(ours)}"
    )
    print(f"    the same with the expansion cache emptied before each call: {summary(cold)}")
    print(
        f"    baseline (pure weekly expansion, no database): {summary(base)} · "
        f"ours/baseline p50 ×{ratio:.1f}"
    )
    return {"p99_ms": percentile(ours, 99)}
