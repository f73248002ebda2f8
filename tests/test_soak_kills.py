"""``alphapeer run`` SIGKILLed at random moments while people book, pay and release on
Telegram, restarted after every kill: the books check clean, no update is lost or handled
twice, no booking is half-made, and everyone's journey finishes.

A real process serves the Telegram stand-in (long polling), the web server (pay links) and
the scheduler (1-second sweeps: followups, expired holds, payouts). The driver plays four
students (onboard, then book and pay rounds: /book with button clicks, the pay link over
real HTTP through the sandbox's pay form, and "did it happen?" for a past session), two
teachers (answering for their past sessions) and the admin (/releases, one or all). A killer
with a seeded RNG SIGKILLs the process — sometimes while it starts, mostly 0.2–3 s after it
polls — and starts it again, ``SOAK_KILLS`` times (default 6; ``make soak``: 200).

Time: the process runs on the real clock, so sessions cannot be made to end. The sessions to
complete and release are seeded before the start, through the core services with a frozen
clock three days back (held and paid through the sandbox then, ending hours before now);
everything after that — the followups, both people's answers, the release, the payouts —
happens in the killed process. With ``[payments] cooling_off_hours = 0`` they reach
/releases as soon as both said the session happened.

The driver acts as a person would: it waits for the answer to what it sent; when the answer
never comes (the process died between committing a turn and sending its answer) it looks
at where things stand and starts that step again (/mybookings for a hold it was not told
about). It reads the database only to know when a step is done.

What must hold at the end: the real ``alphapeer ledger check`` command reports the books
clean; every update the users sent is stored once and handled once (the inbox); every update
is answered exactly once, counted at the stand-in (``soak_process.account``: a button press
by its callback query, a text by the inbox claim it follows) — the one answer that may be
missing is that of a turn that committed just before a SIGKILL, which no design without an
answer outbox can send, and each of those must be the last turn its chat had in a killed
life; no booking is half-made (a hold has its expiry and no money, a confirmed session one
paid payment, its ledger posting and all its money held, a completed one both reports, one
release and two payouts sent; no payment without its posting, no posting twice); every
state change messaged once; every journey finished; no traceback or incident in any life.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from core import ledger
from core.availability import set_weekly_availability
from core.booking import hold_slot
from core.clock import FrozenClock
from core.models import (
    Booking,
    Identity,
    InboundUpdate,
    LedgerTxn,
    MoneyOut,
    OutboxMessage,
    Payment,
    PayoutAccount,
    User,
)
from core.payment import handle_event, record_checkout
from core.payment_port import CHECKOUT_PAID, PaymentEvent
from core.uow import Database, UnitOfWork
from core.windows import Window
from handlers import texts
from tests.fake_telegram import BotMessage
from tests.soak_process import (
    PUBLIC_URL,
    ROOT,
    BotProcess,
    SoakTelegram,
    TelegramUser,
    account,
    free_port,
    inbox_and_outbox,
    process_env,
)
from tests.world import add_course, add_person

KILLS = int(os.environ.get("SOAK_KILLS", "6"))
SEED = 20261202
STUDENTS = 4
PAST_EACH = max(1, math.ceil(KILLS / 25))  # sessions to complete and release per student
STEP = 10.0  # an answer may wait for a restart (~2.5 s), replays and one message/s per chat
PRICE = 4000
# People read before they tap; and a bot answering faster than one message a second per chat
# waits in its rate limiter, which only widens the window in which a kill loses an answer.
THINK = (0.3, 1.2)
FAILED = ("This menu has expired", "Sorry — something went wrong", texts.DB_UNAVAILABLE)
pytestmark = pytest.mark.timeout(300 + KILLS * 15)


@pytest.fixture
async def fake() -> SoakTelegram:
    server = SoakTelegram()
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


# --- the marketplace, seeded before the first start ----------------------------------------


@dataclass
class Seeded:
    students: list[int]  # Telegram user ids
    teachers: dict[int, str]  # Telegram user id → name
    admin: int
    creator_id: int
    past: dict[int, tuple[int, int]]  # booking id → (student, teacher) Telegram ids


async def _person(uow: UnitOfWork, tg: int, name: str, *roles: str,
                  onboarded: bool = True) -> User:
    return await add_person(uow, str(tg), name, "UTC", *roles, onboarded=onboarded,
                            platform="telegram")


async def _seed(db: Database, now: datetime) -> Seeded:
    """People on Telegram, one course, payout accounts, and paid sessions that ended."""
    clock = FrozenClock(now - timedelta(days=3))
    then = Database(db.engine, clock, db.settings)
    everywhere = [Window(d, 0, 24 * 60) for d in range(7)]
    async with then.uow() as uow:
        ada = await _person(uow, 1000, "Ada", "creator")
        teachers = [await _person(uow, 1001, "Maya", "teacher"),
                    await _person(uow, 1002, "Ken", "teacher")]
        await _person(uow, 1009, "Brian", "admin")
        students = [await _person(uow, 2000 + n, f"Student{n}", "student", onboarded=False)
                    for n in range(STUDENTS)]
        course = await add_course(uow, "python", "Python from Zero", ada, PRICE, 60, teachers)
        for payee in (ada, *teachers):
            uow.session.add(PayoutAccount(user_id=payee.id, provider="sandbox",
                                          account_ref=f"acct_soak_{payee.id}", ready=True,
                                          created_at=clock.now()))
        for teacher in teachers:
            await set_weekly_availability(uow, teacher, everywhere)
    tg = {u.id: 1000 + n for n, u in enumerate([ada, *teachers])}
    tg |= {u.id: 2000 + n for n, u in enumerate(students)}
    last_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    past: dict[int, tuple[int, int]] = {}
    for k in range(PAST_EACH * STUDENTS):
        student, teacher = students[k % STUDENTS], teachers[k % 2]
        async with then.uow() as uow:
            booking = await hold_slot(uow, student, course.id, teacher.id,
                                      last_start - timedelta(hours=k))
            ref = f"cs_sandbox_seed{booking.id}"
            await record_checkout(uow, booking, "sandbox", ref, f"{PUBLIC_URL}/sandbox/{ref}")
            await handle_event(uow, PaymentEvent(
                "sandbox", f"evt_{ref}_pay", CHECKOUT_PAID, checkout_ref=ref,
                charge_ref=f"ch_sandbox_seed{booking.id}", amount=booking.price,
                booking_id=booking.id), {"seed": ref})
            past[booking.id] = (tg[student.id], tg[teacher.id])
    return Seeded([2000 + n for n in range(STUDENTS)],
                  {1001: "Maya", 1002: "Ken"}, 1009, ada.id, past)


# --- what the driver may look up: whether a step is done ----------------------------------


class Truth:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _user_id(self, uow: UnitOfWork, tg: int) -> int:
        found = await uow.session.scalar(select(Identity.user_id).where(
            Identity.platform == "telegram", Identity.external_id == str(tg)))
        assert found is not None
        return int(found)

    async def onboarded(self, tg: int) -> bool:
        async with self.db.uow() as uow:
            user = await uow.session.get(User, await self._user_id(uow, tg))
            return user is not None and user.onboarded_at is not None

    async def live_hold(self, tg: int) -> int | None:
        """The student's newest hold that can still be paid."""
        async with self.db.uow() as uow:
            student = await self._user_id(uow, tg)
            return await uow.session.scalar(
                select(Booking.id).where(Booking.student_id == student,
                                         Booking.status == "held",
                                         Booking.hold_expires_at > datetime.now(UTC))
                .order_by(Booking.id.desc()).limit(1))

    async def booking(self, booking_id: int) -> Booking:
        async with self.db.uow() as uow:
            found = await uow.session.get(Booking, booking_id)
            assert found is not None
            return found

    async def all_bookings(self) -> list[str]:
        """Each booking's status."""
        async with self.db.uow() as uow:
            return list((await uow.session.scalars(select(Booking.status))).all())

    async def released(self) -> set[int]:
        async with self.db.uow() as uow:
            keys = (await uow.session.scalars(
                select(LedgerTxn.key).where(LedgerTxn.kind == "release"))).all()
        return {int(k.split(":")[1]) for k in keys}


# --- the people ----------------------------------------------------------------------------


def _has_button(message: BotMessage, label: str) -> bool:
    """Whether ``message.button(label)`` finds exactly one button."""
    exact = [b for b in message.buttons if b["text"] == label]
    return len(exact or [b for b in message.buttons
                         if label.casefold() in b["text"].casefold()]) == 1


@dataclass
class Soak:
    fake: SoakTelegram
    bot: BotProcess
    truth: Truth
    seeded: Seeded
    web: str  # the web server's local address (links in chat name the public one)
    rng: random.Random
    users: dict[int, TelegramUser] = field(default_factory=dict)
    kills_done: asyncio.Event = field(default_factory=asyncio.Event)
    stats: Counter[str] = field(default_factory=Counter)

    def user(self, tg: int, name: str) -> TelegramUser:
        return self.users.setdefault(tg, TelegramUser(self.fake, tg, name))

    async def ask(self, u: TelegramUser, sent_of: str | BotMessage, *expect: str,
                  label: str = "") -> BotMessage | None:
        """Send a text (or click ``label`` on a message) and wait for the answer."""
        await asyncio.sleep(self.rng.uniform(*THINK))
        if not isinstance(sent_of, str) and not _has_button(sent_of, label):
            # A late answer (replayed after a restart) changed the menu while they read it.
            self.stats["menus changed before the tap"] += 1
            return None
        sent = (u.send(sent_of) if isinstance(sent_of, str) else u.click(sent_of, label))
        got = await u.answer(sent, *expect, *FAILED, within=STEP)
        if got is None:
            self.stats[f"no answer to {sent_of if isinstance(sent_of, str) else label!r}"] += 1
            return None
        failed = next((f for f in FAILED if f in got.text), None)
        if failed is not None and not any(e in got.text for e in expect):
            self.stats[f"answered {failed[:30]!r}"] += 1
            return None
        return got

    # students ----------------------------------------------------------------------------

    async def onboard(self, u: TelegramUser) -> None:
        while not await self.truth.onboarded(u.user_id):
            hello = await self.ask(u, "/start", "Welcome to Alpha Peer")
            role = hello and await self.ask(u, hello, "Which timezone", label="I want to learn")
            if role:
                await self.ask(u, role, "You're all set", label="UTC")

    async def hold(self, u: TelegramUser) -> str | None:
        """/book → course → first available → Hold & pay; the pay link."""
        courses = await self.ask(u, "/book", "Which course")
        teachers = courses and await self.ask(u, courses, "Who would you like",
                                              label="Python from Zero")
        check = teachers and await self.ask(u, teachers, "Please check your session",
                                            label="First available")
        held = check and await self.ask(u, check, "Held!", "⚠️", label="Hold & pay")
        if held and "Held!" not in held.text:
            self.stats["times just taken by someone else"] += 1
            return None
        return held.button("Pay $40.00")["url"] if held else None

    async def pay_link(self, u: TelegramUser, booking_id: int) -> str | None:
        """The hold's pay button in /mybookings (after its "Held!" answer was lost)."""
        mine = await self.ask(u, "/mybookings", f"#{booking_id}")
        buttons = [b for b in (mine.buttons if mine else []) if "url" in b
                   and b["text"].startswith(f"💳 Pay #{booking_id} ")]
        return buttons[0]["url"] if buttons else None

    async def pay(self, url: str) -> None:
        """Open the pay link and press the sandbox's Pay, until an answer says it is done."""
        local = url.replace(PUBLIC_URL, self.web)
        timeout = aiohttp.ClientTimeout(total=STEP)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    async with http.get(local, allow_redirects=False) as opened:
                        if opened.status == 410:  # "nothing to pay": it went through already
                            return
                        assert opened.status == 303, (opened.status, await opened.text())
                        page_url = opened.headers["Location"].replace(PUBLIC_URL, self.web)
                    async with http.get(page_url) as page:
                        html = await page.text()
                    if "Already paid" in html:
                        return
                    form = re.search(r"<form method=post action='([^']+)'>", html)
                    assert form and "name=action value=pay" in html, html
                    async with http.post(self.web + form.group(1),
                                         data={"action": "pay"}) as done:
                        if done.status == 200:
                            assert "Paid (sandbox)" in await done.text()
                            return
                except (aiohttp.ClientError, TimeoutError):
                    self.stats["pay requests refused or cut (process down)"] += 1
                    await asyncio.sleep(0.3)

    async def book_and_pay(self, u: TelegramUser) -> None:
        while True:
            booking_id = await self.truth.live_hold(u.user_id)
            url = None if booking_id is None else await self.pay_link(u, booking_id)
            if url is None:
                # No hold; or its pay button is not shown (/mybookings has buttons for the
                # first four upcoming sessions only, and paid ones come first): hold another
                # time, as a person would, and let that hold lapse.
                if booking_id is not None:
                    self.stats["pay link not found in /mybookings: held anew"] += 1
                url = await self.hold(u)
            if url is None:
                continue
            await self.pay(url)
            self.stats["sessions paid"] += 1
            return

    async def attend(self, u: TelegramUser, booking_id: int, side: str) -> None:
        """Say the session happened: the followup's button if it came, else typed."""
        while getattr(await self.truth.booking(booking_id), f"{side}_report") != "held":
            asked = u.find(f"How did session #{booking_id} go")
            if asked is not None:
                await self.ask(u, asked, "Thanks", label="It happened")
            else:
                await self.ask(u, f"/attended {booking_id} held", "Thanks")

    async def student(self, tg: int, past: list[int]) -> None:
        u = self.user(tg, f"Student{tg - 2000}")
        await self.onboard(u)
        rounds = 0
        while rounds == 0 or past or not self.kills_done.is_set():
            await self.book_and_pay(u)
            rounds += 1
            if past:
                await self.attend(u, past.pop(0), "student")

    async def teacher(self, tg: int, past: list[int]) -> None:
        u = self.user(tg, self.seeded.teachers[tg])
        for booking_id in past:
            await self.attend(u, booking_id, "teacher")
            await asyncio.sleep(self.rng.uniform(0.5, 3.0))

    # the admin ---------------------------------------------------------------------------

    async def admin(self) -> None:
        u = self.user(self.seeded.admin, "Brian")
        while set(self.seeded.past) - await self.truth.released():
            queue = await self.ask(u, "/releases", "ready for release", "Nothing waiting")
            ids = [int(m.group(1)) for b in (queue.buttons if queue else [])
                   if (m := re.match(r"✅ Approve #(\d+) \(", b["text"]))]
            if queue is None or not ids:
                await asyncio.sleep(1.0)
                continue
            every = len(ids) > 1 and self.rng.random() < 0.3
            label = "Approve all" if every else f"Approve #{ids[0]} ("
            if await self.ask(u, queue, "Released", label=label):
                self.stats["release approvals answered"] += 1
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))

    # the killer --------------------------------------------------------------------------

    async def killer(self) -> None:
        for _ in range(KILLS):
            if self.rng.random() < 0.15:  # while it starts (replaying what it had stored)
                await asyncio.sleep(self.rng.uniform(0.0, 2.5))
            else:
                await self.bot.ready()
                await asyncio.sleep(self.rng.uniform(0.2, 3.0))
            await self.bot.kill()
            self.stats["kills"] += 1
            await self.bot.start()
        self.kills_done.set()


# --- the test ------------------------------------------------------------------------------


async def _settled(db: Database, pushed: set[int], within: float = 150.0) -> float:
    """Every update the users sent stored and handled, every payout sent. A payout whose
    life was killed while sending it is leased for two minutes (``core.payout.LEASE``)
    before the next life sends it again, hence the wait. Returns the seconds it took."""
    started = time.monotonic()
    deadline = started + within
    while True:
        async with db.uow() as uow:
            handled = set((await uow.session.scalars(select(InboundUpdate.update_id).where(
                InboundUpdate.handled_at.is_not(None)))).all())
            pending = await uow.session.scalar(select(func.count()).select_from(MoneyOut)
                                               .where(MoneyOut.status != "sent"))
        if pushed <= handled and not pending:
            return time.monotonic() - started
        assert time.monotonic() < deadline, (
            f"not settled: {len(pushed - handled)} updates unhandled, {pending} payouts")
        await asyncio.sleep(0.5)


async def _ledger_check(env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphapeer", "ledger", "check", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, out.decode()
    assert out.decode().strip().endswith("ledger check: ok"), out.decode()


async def _check_books(db: Database, s: Soak, pushed: set[int], stopped: datetime) -> None:
    now = datetime.now(UTC)
    async with db.uow() as uow:
        q = uow.session
        updates = (await q.execute(select(InboundUpdate.update_id, InboundUpdate.handled_at)
                                   .where(InboundUpdate.platform == "telegram"))).all()
        bookings = list((await q.scalars(select(Booking))).all())
        payments = list((await q.scalars(select(Payment))).all())
        outs = list((await q.scalars(select(MoneyOut))).all())
        txn_keys = list((await q.scalars(select(LedgerTxn.key))).all())
        txns = Counter(k.split(":")[0] for k in txn_keys)
        messages = Counter((await q.scalars(select(OutboxMessage.kind))).all())
        held = {a: m for a, _c, m in await ledger.all_balances(uow) if a.startswith("held:")}
        tg_of = dict((await q.execute(select(Identity.user_id, Identity.external_id))).all())
    # Every update delivered is stored once and handled; nothing else is there.
    assert sorted(u for u, _ in updates) == sorted(pushed)
    assert [u for u, at in updates if at is None] == []
    paid = Counter(p.booking_id for p in payments if p.status == "paid")
    assert [p.id for p in payments if p.status == "duplicate"] == [], "someone paid twice"
    released = {int(k) for k in (await s.truth.released())}
    for b in bookings:
        holding = held.get(ledger.held(b.id), 0)
        where = f"booking #{b.id} ({b.status})"
        assert paid[b.id] <= 1, f"{where} paid {paid[b.id]} times"
        if b.status == "held":  # a hold whose "Held!" never arrived, left to lapse
            assert paid[b.id] == 0 and holding == 0, where
            assert b.hold_expires_at is not None and b.hold_expires_at > stopped - timedelta(
                seconds=5), f"{where}: the hold lapsed but was never swept"
        elif b.status == "confirmed":
            assert paid[b.id] == 1 and holding == b.price_minor, where
            assert b.hold_expires_at is None and b.starts_at > now, where
        elif b.status == "completed":
            assert paid[b.id] == 1 and b.id in released and holding == 0, where
            assert b.student_report == b.teacher_report == "held", where
        else:
            assert b.status in ("expired", "cancelled") and holding == 0, where
    # Each state change happened once: its ledger posting and its messages are single.
    assert len(txn_keys) == len(set(txn_keys))
    assert {f"payment:{p.id}" for p in payments if p.status == "paid"} == {
        k for k in txn_keys if k.startswith("payment:")}, "a payment without its posting"
    assert txns["payment"] == sum(paid.values())
    assert messages["receipt"] == messages["booking_confirmed"] == sum(paid.values())
    assert txns["release"] == len(released) == len(s.seeded.past)
    assert messages["released"] == 2 * len(released)
    payouts = Counter((o.kind, o.booking_id, o.user_id, o.amount_minor, o.status)
                      for o in outs)
    teacher_of = {b.id: b.teacher_id for b in bookings}
    assert payouts == Counter(
        {("payout", b, teacher_of[b], PRICE * 70 // 100, "sent"): 1 for b in released}
        | {("payout", b, s.seeded.creator_id, PRICE * 15 // 100, "sent"): 1
           for b in released}), "payouts missing, repeated or not sent"
    assert messages["payout_receipt"] == len(outs)
    # Everyone's journey finished: each past session completed and released, each student
    # onboarded with at least one paid upcoming session.
    assert {b.id for b in bookings if b.status == "completed"} == set(s.seeded.past)
    confirmed_by = Counter(tg_of[b.student_id] for b in bookings if b.status == "confirmed")
    assert all(confirmed_by[str(tg)] >= 1 for tg in s.seeded.students), confirmed_by
    for tg in s.seeded.students:
        assert await s.truth.onboarded(tg)


async def test_users_booking_paying_and_releasing_through_random_kills_end_with_clean_books(
        db: Database, fake: SoakTelegram, tmp_path: Path) -> None:
    started = time.monotonic()
    seeded = await _seed(db, datetime.now(UTC))
    port = free_port()
    env = process_env(db.settings.database_url, tmp_path, fake, port,
                      ALPHAPEER_SCHEDULER_SWEEP_SECONDS="1",
                      ALPHAPEER_PAYMENTS_COOLING_OFF_HOURS="0")
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = BotProcess(env, logs, fake)
    s = Soak(fake, bot, Truth(db), seeded, f"http://127.0.0.1:{port}", random.Random(SEED))
    past_of: dict[int, list[int]] = {}
    for booking_id, (student, teacher) in sorted(seeded.past.items()):
        past_of.setdefault(student, []).append(booking_id)
        past_of.setdefault(teacher, []).append(booking_id)
    await bot.start()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(s.killer())
            group.create_task(s.admin())
            for tg in seeded.students:
                group.create_task(s.student(tg, list(past_of[tg])))
            for tg in seeded.teachers:
                group.create_task(s.teacher(tg, list(past_of[tg])))
        pushed = {sent.update_id for u in s.users.values() for sent in u.sent}
        s.stats["seconds to settle after the people finished"] = round(await _settled(db, pushed))
        assert bot.running, f"the last life exited by itself: {bot.stderr()}"
    finally:
        stopped = datetime.now(UTC)
        code = await bot.stop()
    assert code == 0, bot.stderr()
    await _ledger_check(env)
    await _check_books(db, s, pushed, stopped)
    log = bot.all_stderr()
    assert "Traceback" not in log and "incident" not in log, log[-4000:]
    assert [r for r in fake.refused if "not modified" not in r[1]] == []
    # Every update answered exactly once, counted at the stand-in; an answer may be missing
    # only where a SIGKILL came between the turn's commit and its answer.
    claims, notices = await inbox_and_outbox(db)
    sent = [sent for u in s.users.values() for sent in u.sent]
    books = account(fake, bot, sent, claims, notices)
    assert books.problems == [], "\n".join(books.problems[:20])
    assert len(books.cut) <= KILLS and books.notices_again <= KILLS
    s.stats["lives"] = bot.lives
    startups = bot.startup_seconds(fake.polls)
    s.stats["start-up seconds (median)"] = round(sorted(startups)[len(startups) // 2], 1)
    s.stats["start-up seconds (max)"] = round(max(startups), 1)
    s.stats["updates sent"] = len(pushed)
    s.stats["updates answered once"] = len(pushed) - len(books.cut)
    s.stats["answers cut by a kill (committed, not yet sent)"] = len(books.cut)
    s.stats["notices delivered"] = books.notices
    s.stats["notices delivered twice (kill between send and mark)"] = books.notices_again
    for status, n in Counter(await s.truth.all_bookings()).items():
        s.stats[f"bookings {status}"] = n
    s.stats["releases"] = len(await s.truth.released())
    s.stats["seconds"] = round(time.monotonic() - started)
    print(f"\nsoak kills ({db.engine.dialect.name}): {dict(sorted(s.stats.items()))}")
