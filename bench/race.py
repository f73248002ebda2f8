"""Many students racing for one slot, round after round: exactly one winner each time."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from bench.common import Market
from core.booking import hold_slot
from core.errors import DomainError
from core.uow import Database


async def _attempt(db: Database, m: Market, student_index: int, start: object) -> str:
    try:
        async with db.uow() as uow:
            await hold_slot(uow, m.students[student_index], m.course.id, m.teacher.id,
                            start)  # type: ignore[arg-type]
        return "won"
    except DomainError:
        return "lost"
    except Exception as exc:  # anything else is an error the benchmark must report
        return f"error: {type(exc).__name__}: {exc}"


async def run(db: Database, m: Market, clients: int, rounds: int) -> dict[str, float]:
    base_start = db.clock.now().replace(hour=10) + timedelta(days=1)
    # Baseline: the same hold with nobody competing.
    solo: list[float] = []
    for r in range(min(rounds, 20)):
        slot = base_start + timedelta(days=200 + r)
        started = time.perf_counter()
        await _attempt(db, m, r % len(m.students), slot)
        solo.append((time.perf_counter() - started) * 1000)
    winners_ok = 0
    errors: list[str] = []
    round_ms: list[float] = []
    for r in range(rounds):
        slot = base_start + timedelta(days=r // 12, hours=r % 12)
        started = time.perf_counter()
        results = await asyncio.gather(*(_attempt(db, m, c, slot) for c in range(clients)))
        round_ms.append((time.perf_counter() - started) * 1000)
        winners_ok += results.count("won") == 1
        errors += [x for x in results if x.startswith("error")]
    per_attempt = sum(round_ms) / (rounds * clients)
    solo_p50 = sorted(solo)[len(solo) // 2]
    print(f"  race, {clients} clients × {rounds} rounds: rounds with exactly one winner "
          f"{winners_ok}/{rounds} · errors {len(errors)} · "
          f"{per_attempt:.2f} ms per attempt under contention")
    print(f"    baseline (one uncontended hold): p50 {solo_p50:.2f} ms · "
          f"contended/uncontended ×{per_attempt / max(solo_p50, 1e-9):.2f}")
    for line in errors[:3]:
        print(f"    {line}")
    return {"rounds_ok": winners_ok, "errors": len(errors)}
