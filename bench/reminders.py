"""10,000 reminders due within one minute, claimed by several workers: each exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from bench.common import Market
from core.models import Booking, OutboxMessage, Reminder
from core.uow import Database
from scheduling.jobs import send_due_reminders


async def _seed(db: Database, m: Market, total: int) -> None:
    now = db.clock.now()
    per_booking = 6  # two people × three kinds
    bookings = []
    for i in range(-(-total // per_booking)):
        start = now + timedelta(hours=30 + i)  # far enough that all kinds are still useful
        bookings.append({"course_id": m.course.id, "teacher_id": m.teacher.id,
                         "student_id": m.students[i % len(m.students)].id, "kind": "lesson",
                         "status": "confirmed", "starts_at": start,
                         "ends_at": start + timedelta(hours=1),
                         "teacher_until": start + timedelta(hours=1), "price_minor": 4000,
                         "currency": "USD", "created_at": now, "late_cancel": False,
                         "sequence": 0})
    async with db.uow() as uow:
        ids = (await uow.session.execute(insert(Booking).returning(Booking.id), bookings))
        booking_rows = [(bid, b) for bid, b in zip(ids.scalars().all(), bookings, strict=True)]
        reminders = [{"booking_id": bid, "user_id": person, "kind": kind,
                      "due_at": now - timedelta(seconds=(n % 60))}
                     for bid, b in booking_rows for person in (b["student_id"], b["teacher_id"])
                     for n, kind in enumerate(("24h", "1h", "15m"))]
        await uow.session.execute(insert(Reminder), reminders[:total])


async def run(db: Database, m: Market, total: int, workers: int) -> dict[str, float]:
    await _seed(db, m, total)
    started = time.perf_counter()
    sent = 0
    while True:
        batch = await asyncio.gather(*(send_due_reminders(db) for _ in range(workers)))
        sent += sum(batch)
        if not any(batch):
            break
    ours = time.perf_counter() - started
    async with db.uow() as uow:
        claimed = await uow.session.scalar(
            select(func.count()).where(Reminder.sent_at.is_not(None)))
        messages = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
        distinct = await uow.session.scalar(
            select(func.count()).select_from(
                select(OutboxMessage.user_id, OutboxMessage.text).distinct().subquery()))
    # Baseline: one statement marking every due row, the least work any claim can do.
    async with db.uow() as uow:
        await uow.session.execute(update(Reminder).values(sent_at=None))
    started = time.perf_counter()
    async with db.uow() as uow:
        await uow.session.execute(update(Reminder).where(Reminder.sent_at.is_(None))
                                  .values(sent_at=db.clock.now()))
    base = time.perf_counter() - started
    print(f"  reminders, {total} due within a minute, {workers} workers: claimed {claimed}, "
          f"messages queued {messages} (distinct {distinct}) in {ours:.2f} s "
          f"({total / ours:.0f}/s)")
    print(f"    baseline (one bulk UPDATE, no messages): {base * 1000:.0f} ms · "
          f"ours/baseline ×{ours / max(base, 1e-9):.0f}")
    return {"claimed": float(claimed or 0), "messages": float(messages or 0), "seconds": ours}
