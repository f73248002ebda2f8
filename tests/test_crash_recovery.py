"""The process killed (SIGKILL) inside the payment, release and payout paths, then restarted:
the books check clean, nothing is paid twice, nothing is lost.

``tests/crash_worker.py`` plays a fixed scenario (webhooks redelivered, a cancellation, an
admin's partial refund, completions, releases, the money-out sweep against a provider stand-in
that deduplicates by idempotency key) and kills itself before a chosen SQL statement or around
a chosen provider call. After a kill, a fresh process replays the scenario from the start, as
a restarted worker and a redelivering provider would.

Which kill points: the database after a kill is fully described by which transactions
committed and which provider calls were made, so the test kills once inside every transaction
that writes (at a seeded random statement of it, which rolls it back: the state "every earlier
transaction committed") and before and after every provider call (the windows between a
claim, the call and its completion), plus a few chains of kills in successive restarts.
``CRASH_EXHAUSTIVE=1`` kills at every single statement instead (minutes, for a deep check).
Kill points run in two lanes side by side (each its own database and fork server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alphapeer import migrate
from alphapeer.scratchdb import scratch_database
from core import ledger
from core.clock import FrozenClock
from core.db import create_engine
from core.ledger_check import check_ledger
from core.models import (
    Booking,
    LedgerEntry,
    LedgerTxn,
    MoneyOut,
    OutboxMessage,
    Payment,
    ProviderEvent,
    User,
)
from core.uow import Database
from tests import crash_scenario as w
from tests.conftest import PG_URL, _wipe, make_settings
from tests.crash_provider import read_calls

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261123
KILLED = -signal.SIGKILL
LANES = min(2, os.cpu_count() or 1)
EXHAUSTIVE = bool(os.environ.get("CRASH_EXHAUSTIVE"))
pytestmark = pytest.mark.timeout(3600 if EXHAUSTIVE else 300)

# What the scenario must end with, whatever happened on the way.
STATUS = {"b1": "completed", "b2": "completed", "b3": "cancelled", "b4": "completed",
          "b5": "expired"}
# (kind, session, recipient, amount): b2 released $30 after its $10 refund; Ada teaches b4.
MONEY_OUT = Counter([
    ("refund", "b2", "Lee", 1000), ("refund", "b3", "Sam", 4000), ("refund", "b5", "Sam", 4000),
    ("payout", "b1", "Maya", 2800), ("payout", "b1", "Ada", 600),
    ("payout", "b2", "Maya", 2100), ("payout", "b2", "Ada", 450),
    ("payout", "b4", "Ada", 3400)])
MONEY_OUT_TOTAL = sum(amount * n for (_kind, _s, _to, amount), n in MONEY_OUT.items())
RELEASED = 4000 + 3000 + 4000  # b1, b2 (after the refund), b4
FEES = RELEASED * 15 // 100
# Messages that must each be sent exactly once per event, however often the steps ran.
MESSAGES = {"receipt": 4, "booking_confirmed": 4, "refund_receipt": 3, "payout_receipt": 5,
            "released": 5}


class Worker:
    """The fork server of ``tests.crash_worker``: one fresh child process per run."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self._proc = proc
        self.log = log

    @classmethod
    async def start(cls, folder: Path) -> Worker:
        log = folder / "worker.log"
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.crash_worker", "--serve", cwd=ROOT,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err)
        return cls(proc, log)

    async def run(self, **kwargs: Any) -> int:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write((json.dumps(kwargs) + "\n").encode())
        await self._proc.stdin.drain()
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout=90)
        assert line, f"the fork server died: {self.log.read_text()[-3000:]}"
        return int(json.loads(line)["exit"])

    async def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), timeout=30)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()


@dataclass
class Lane:
    """A database and a fork server of its own: lanes run kill points side by side."""

    db: Database
    url: str
    worker: Worker
    folder: Path


@contextlib.asynccontextmanager
async def _lanes(db: Database, url: str, backend: str, folder: Path
                 ) -> AsyncIterator[list[Lane]]:
    async with contextlib.AsyncExitStack() as stack:
        lanes = []
        for n in range(LANES):
            here = folder / f"lane{n}"
            here.mkdir()
            lane_db = db
            if n:  # the test's own database is lane 0; the others get a scratch database
                url = await stack.enter_async_context(scratch_database(backend, here, PG_URL))
                engine = create_engine(url, pool_size=4)
                stack.push_async_callback(engine.dispose)
                await migrate.upgrade(engine)
                lane_db = Database(engine, FrozenClock(w.T0), make_settings(url, here))
            worker = await Worker.start(here)
            stack.push_async_callback(worker.close)
            lanes.append(Lane(lane_db, url, worker, here))
        yield lanes


@dataclass
class Scenario:
    """One fresh copy of the scenario's database and its provider record."""

    db: Database
    url: str
    worker: Worker
    record: Path
    ids: dict[str, int]
    attempt: int = 0

    async def run(self, **crash: Any) -> int:
        code = await self.worker.run(url=self.url, record=str(self.record),
                                     attempt=self.attempt, **crash)
        self.attempt += 1
        return code


async def _fresh(lane: Lane, label: str) -> Scenario:
    """A wiped database and an empty record of provider calls (two kill points may share
    a label: the same statement drawn twice must not read the other run's calls)."""
    await _wipe(lane.db)
    ids = await w.prepare(lane.db)
    record = lane.folder / f"{label}.jsonl"
    record.unlink(missing_ok=True)
    return Scenario(lane.db, lane.url, lane.worker, record, ids)


async def _finish(s: Scenario, label: str) -> None:
    code = await s.run()
    assert code == 0, f"{label}: the restart exited {code}: {s.worker.log.read_text()[-3000:]}"


# --- what must hold -------------------------------------------------------------------------


@dataclass
class Books:
    problems: list[str]
    bookings: dict[str, Booking]
    payments: list[Payment]
    events: list[str]
    outs: list[MoneyOut]
    names: dict[int, str]
    balances: dict[str, int]
    released_to: dict[str, int]
    messages: Counter[str]


async def _books(s: Scenario) -> Books:
    by_id = {v: k for k, v in s.ids.items()}
    async with s.db.uow() as uow:
        q = uow.session
        rows = (await q.execute(select(LedgerEntry.account, LedgerEntry.amount_minor)
                                .join(LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id)
                                .where(LedgerTxn.kind == "release"))).all()
        released: Counter[str] = Counter()
        for account, minor in rows:
            released[account] -= minor  # credits are negative; what someone got is positive
        return Books(
            problems=await check_ledger(uow),
            bookings={by_id[b.id]: b for b in (await q.scalars(select(Booking))).all()},
            payments=list((await q.scalars(select(Payment))).all()),
            events=list((await q.scalars(select(ProviderEvent.event_id))).all()),
            outs=list((await q.scalars(select(MoneyOut).order_by(MoneyOut.id))).all()),
            names=dict((await q.execute(select(User.id, User.display_name))).all()),
            balances={a: m for a, c, m in await ledger.all_balances(uow) if m},
            released_to=dict(released),
            messages=Counter((await q.scalars(select(OutboxMessage.kind))).all()))


def _row_key(provider_key: str) -> str:
    """The money-out row a provider call was for: after the provider answered "no", a retry
    goes under ``<key>:r<round>`` (nothing moved under the old key)."""
    key, _, round_ = provider_key.rpartition(":r")
    return key if key and round_.isdigit() else provider_key


def _moves(record: Path, outs: dict[str, MoneyOut], label: str) -> dict[str, dict[str, Any]]:
    """Money that really moved at the provider, by money-out row; at most once per row."""
    calls = read_calls(record)
    assert [c for c in calls if c["op"] == "conflict"] == [], f"{label}: a key was reused"
    moved: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        if call["op"] == "move":
            moved.setdefault(_row_key(call["key"]), []).append(call)
    assert set(moved) <= set(outs), f"{label}: the provider moved money we have no row for"
    twice = {k: [c["key"] for c in v] for k, v in moved.items() if len(v) > 1}
    assert twice == {}, f"{label}: the provider moved money twice for one row: {twice}"
    return {k: v[0] for k, v in moved.items()}


async def _check_consistent(s: Scenario, label: str) -> Books:
    """What must hold after any kill: every committed state is a sound one."""
    b = await _books(s)
    assert b.problems == [], f"{label}: ledger check after the kill: {b.problems}"
    outs = {o.key: o for o in b.outs}
    moves = _moves(s.record, outs, label)
    names = {v: k for k, v in s.ids.items()}
    for key, move in moves.items():
        o = outs[key]
        plan = w.PLANS[[p.name for p in w.PLANS].index(names[o.booking_id])]
        assert (move["amount"], move["currency"]) == (o.amount_minor, o.currency), label
        if o.kind == "refund":
            assert move["kind"] == "refund" and move["charge"] == w.charge_ref(plan), label
        else:
            assert move["destination"] == w.account_ref(b.names[o.user_id]), label
        if o.status == "sent":
            assert o.provider_ref == move["ref"], f"{label}: {key} recorded another reference"
    for o in b.outs:
        assert o.status != "sent" or o.key in moves, f"{label}: {o.key} sent but never moved"
        assert o.status != "failed", f"{label}: {o.key} failed: {o.last_error}"
    paid = Counter(p.booking_id for p in b.payments if p.status == "paid")
    for name, booking in b.bookings.items():
        assert paid[booking.id] <= 1, f"{label}: {name} paid {paid[booking.id]} times"
        if booking.status in ("confirmed", "completed"):  # never confirmed without the money
            assert paid[booking.id] == 1, f"{label}: {name} is {booking.status} but unpaid"
    return b


async def _check_final(s: Scenario, label: str) -> None:
    """What must hold once the restarted worker finished."""
    b = await _check_consistent(s, label)
    assert {n: bk.status for n, bk in b.bookings.items()} == STATUS, label
    paid = [p for p in b.payments if p.status == "paid"]
    assert sorted(p.checkout_ref for p in paid) == sorted(w.checkout_ref(p) for p in w.PLANS)
    assert all(p.amount_minor == w.PRICE.minor for p in paid), label
    expected_events = [e.event_id for e in w.events(s.ids)]
    assert sorted(b.events) == sorted(expected_events), f"{label}: events {b.events}"
    names = {v: k for k, v in s.ids.items()}
    got = Counter((o.kind, names[o.booking_id], b.names[o.user_id], o.amount_minor)
                  for o in b.outs)
    assert got == MONEY_OUT, f"{label}: money out {got}"
    assert [o.key for o in b.outs if o.status != "sent"] == [], f"{label}: left pending"
    moved = _moves(s.record, {o.key: o for o in b.outs}, label)
    assert set(moved) == {o.key for o in b.outs}, f"{label}: provider moves {sorted(moved)}"
    assert sum(m["amount"] for m in moved.values()) == MONEY_OUT_TOTAL, label
    assert b.balances == {ledger.cash(w.PROVIDER): FEES, ledger.PLATFORM_FEES: FEES}, (
        f"{label}: balances {b.balances}")
    maya, ada = (next(i for i, n in b.names.items() if n == name) for name in ("Maya", "Ada"))
    assert b.released_to[ledger.earned(maya)] == (4000 + 3000) * 70 // 100, label
    assert b.released_to[ledger.earned(ada)] == (4000 + 3000) * 15 // 100 + 4000 * 85 // 100
    assert b.released_to[ledger.PLATFORM_FEES] == FEES, label
    assert {k: b.messages[k] for k in MESSAGES} == MESSAGES, f"{label}: {b.messages}"


# --- the test --------------------------------------------------------------------------------

Job = Callable[[Lane], Awaitable[None]]


def _kill_and_restart(crash: dict[str, Any]) -> Job:
    async def job(lane: Lane) -> None:
        label = f"kill at {crash}"
        s = await _fresh(lane, "_".join(map(str, crash.values())).replace(":", ""))
        code = await s.run(**crash)
        assert code == KILLED, f"{label}: expected a SIGKILL, got exit {code}"
        await _check_consistent(s, label)
        await _finish(s, label)
        await _check_final(s, label)
    return job


def _chain(kills: list[int]) -> Job:
    """Killed again while recovering (each number counts the statements of that run)."""
    async def job(lane: Lane) -> None:
        label = f"kills at {kills} in successive runs"
        s = await _fresh(lane, "chain_" + "_".join(map(str, kills)))
        for crash_at in kills:
            assert await s.run(crash_at=crash_at) in (KILLED, 0), label
            await _check_consistent(s, label)
        await _finish(s, label)
        await _check_final(s, label)
    return job


def _real_processes(crash_at: int) -> Job:
    """The same without the fork server: ``python -m tests.crash_worker`` killed and run
    again, then ``alphapeer ledger check`` on the result."""
    async def job(lane: Lane) -> None:
        s = await _fresh(lane, "exec")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPHAPEER_", "CRASH_"))}
        env.update(CRASH_DB_URL=s.url, CRASH_RECORD=str(s.record))
        for extra, expected in (({"CRASH_AT": str(crash_at)}, KILLED),
                                ({"CRASH_ATTEMPT": "1"}, 0)):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.crash_worker", cwd=ROOT, env={**env, **extra},
                stderr=asyncio.subprocess.PIPE)
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
            assert proc.returncode == expected, err.decode()[-3000:]
        await _check_final(s, f"separate processes, killed at statement {crash_at}")
        env.update(ALPHAPEER_DATABASE_URL=s.url, ALPHAPEER_APP_DATA_DIR=str(lane.folder),
                   ALPHAPEER_SECRET_KEY="k" * 40)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alphapeer", "ledger", "check", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
        assert proc.returncode == 0, (out + err).decode()
        assert out.decode().strip().endswith("ledger check: ok"), out.decode()
    return job


def _jobs(trace: dict[str, Any], rng: random.Random) -> list[Job]:
    writing = [(first, last) for first, last, wrote in trace["txns"] if wrote]
    if EXHAUSTIVE:
        points = list(range(1, trace["statements"] + 1))
    else:
        points = [rng.randint(first, last) for first, last in writing]
        points += [rng.randint(1, trace["statements"])]
    crashes = [{"crash_at": n} for n in points]
    for n in range(1, trace["calls"] + 1):
        crashes += [{"crash_call": f"before:{n}"}, {"crash_call": f"after:{n}"}]
    jobs = [_kill_and_restart(c) for c in crashes]
    jobs += [_chain([rng.randint(1, trace["statements"]) for _ in range(3)]) for _ in range(2)]
    jobs.append(_real_processes(rng.randint(*writing[len(writing) // 2])))
    return jobs


async def _drain(lanes: list[Lane], jobs: list[Job]) -> None:
    queue = list(reversed(jobs))

    async def work(lane: Lane) -> None:
        while queue:
            await queue.pop()(lane)

    async with asyncio.TaskGroup() as group:
        for lane in lanes:
            group.create_task(work(lane))


async def test_worker_killed_anywhere_in_the_money_paths_recovers_with_nothing_paid_twice(
        db: Database, database_url: str, backend: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    async with _lanes(db, database_url, backend, tmp_path) as lanes:
        clean = await _fresh(lanes[0], "clean")
        stats = tmp_path / "clean.json"
        assert await clean.run(stats=str(stats)) == 0, lanes[0].worker.log.read_text()
        await _check_final(clean, "clean run")
        calls = read_calls(clean.record)
        assert any(c.get("timed_out") for c in calls), "the provider timeout never happened"
        await _finish(clean, "a second run")
        await _check_final(clean, "a second run")
        assert read_calls(clean.record) == calls, "a finished scenario called the provider"
        trace = json.loads(stats.read_text())
        await _drain(lanes, _jobs(trace, rng))
