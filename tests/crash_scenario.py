"""A fixed money scenario that can be stopped anywhere and played again from the start,
picking up wherever it stopped (tests/crash_worker.py runs it in processes it kills).

``prepare`` (in the test process) builds the marketplace and five held bookings with open
checkouts. ``play`` (in a fresh process per "restart") then plays every step idempotently,
each in its own unit of work as production does: the provider's webhook events (the same
event ids every run, as a provider redelivers until it gets a 200), a student cancelling,
both people confirming three sessions happened, an admin's partial refund, the admin approving
releases, and the money-out sweep against ``RecordingProvider`` (tests/crash_provider.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core.availability import set_weekly_availability
from core.booking import cancel_booking, expire_holds, hold_slot
from core.clock import FrozenClock
from core.config import Settings, load_settings
from core.escrow import list_releasable, paid_payment, refund_unreleased, release_booking
from core.followup import record_report
from core.models import Booking, MoneyOut, PayoutAccount, User
from core.money import Money
from core.payment import handle_event, record_checkout
from core.payment_port import (
    CHECKOUT_DECLINED,
    CHECKOUT_PAID,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PaymentEvent,
)
from core.uow import Database
from core.windows import Window
from scheduling.jobs import send_money_out
from tests.crash_provider import RecordingProvider
from tests.world import add_course, add_person

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = "crashpay"
PRICE = Money(4000, "USD")
PARTIAL_REFUND = Money(1000, "USD")

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday; every session is on Tuesday
DAY = datetime(2026, 11, 24, tzinfo=UTC)
PAY_AT = T0 + timedelta(minutes=5)  # inside the 15-minute holds
CANCEL_AT = T0 + timedelta(minutes=10)  # more than 24 h ahead: not a late cancellation
DONE_AT = DAY + timedelta(hours=18)  # every session has ended
REFUND_AT = DONE_AT + timedelta(hours=1)
RELEASE_AT = DONE_AT + timedelta(hours=49)  # past the 48 h cooling-off of every session
# A restart happens later than the run it follows: leases (120 s) and retry back-off lapse.
ATTEMPT_STEP = timedelta(hours=2)
ROUND_STEP = timedelta(minutes=10)
SWEEP_ROUNDS = 6


@dataclass(frozen=True)
class Plan:
    name: str
    student: str
    teacher: str
    hour: int  # UTC start on DAY
    story: str


PLANS = (
    Plan("b1", "Sam", "Maya", 9, "declined once, paid, completed, released"),
    Plan("b2", "Lee", "Maya", 11, "paid, completed, $10 refunded by the admin, rest released"),
    Plan("b3", "Sam", "Maya", 13, "paid, cancelled by the student: refunded in full"),
    Plan("b4", "Lee", "Ada", 14, "paid, disputed and won, completed, released (creator 85%)"),
    Plan("b5", "Sam", "Maya", 15, "hold lapsed before the payment arrived: refunded in full"),
)
COMPLETED = ("b1", "b2", "b4")
CANCEL = "b3"
LATE = "b5"
PARTIAL = "b2"
DECLINED_FIRST = "b1"
DISPUTED = "b4"
# The first transfer to Maya of b2's share moves the money, then times out (retryable).
AMBIGUOUS = ("transfer", "acct_crash_maya", 2100)  # (kind, destination, amount)


def starts(plan: Plan) -> datetime:
    return DAY + timedelta(hours=plan.hour)


def checkout_ref(plan: Plan) -> str:
    return f"cs_crash_{plan.name}"


def charge_ref(plan: Plan) -> str:
    return f"ch_crash_{plan.name}"


def account_ref(name: str) -> str:
    return f"acct_crash_{name.lower()}"


def events(booking_ids: dict[str, int]) -> list[PaymentEvent]:
    """Every webhook event of the scenario, in delivery order (redelivered on each run)."""
    out: list[PaymentEvent] = []
    for plan in PLANS:
        bid = booking_ids[plan.name]
        if plan.name == DECLINED_FIRST:
            out.append(PaymentEvent(PROVIDER, f"evt_{plan.name}_declined", CHECKOUT_DECLINED,
                                    checkout_ref=f"{checkout_ref(plan)}_first",
                                    amount=PRICE, booking_id=bid))
        out.append(PaymentEvent(PROVIDER, f"evt_{plan.name}_paid", CHECKOUT_PAID,
                                checkout_ref=checkout_ref(plan), charge_ref=charge_ref(plan),
                                amount=PRICE, booking_id=bid))
    disputed = next(p for p in PLANS if p.name == DISPUTED)
    for kind, suffix in ((DISPUTE_OPENED, "dispute"), (DISPUTE_WON, "won")):
        out.append(PaymentEvent(PROVIDER, f"evt_{disputed.name}_{suffix}", kind,
                                charge_ref=charge_ref(disputed)))
    return out


def settings_for(url: str, data_dir: Path) -> Settings:
    env = {"ALPHAPEER_APP_ENV": "test", "ALPHAPEER_SECRET_KEY": "c" * 48,
           "ALPHAPEER_DATABASE_URL": url, "ALPHAPEER_APP_DATA_DIR": str(data_dir)}
    return load_settings(ROOT / "config.toml", env=env)


# --- set-up (in the test process) -----------------------------------------------------------


async def prepare(db: Database) -> dict[str, int]:
    """People, a $40 course, payout accounts, five held bookings with open checkouts (one of
    them lapsed). Returns booking ids by plan name."""
    clock = FrozenClock(T0 - timedelta(hours=1))
    at = Database(db.engine, clock, db.settings)
    everywhere = [Window(d, 0, 24 * 60) for d in range(7)]
    async with at.uow() as uow:
        ada = await add_person(uow, "ada", "Ada", "UTC", "creator", "teacher")
        maya = await add_person(uow, "maya", "Maya", "UTC", "teacher")
        people = {"Ada": ada, "Maya": maya,
                  "Sam": await add_person(uow, "sam", "Sam", "UTC", "student"),
                  "Lee": await add_person(uow, "lee", "Lee", "UTC", "student")}
        course = await add_course(uow, "crash", "Crash Course", ada, PRICE.minor, 60,
                                  [maya, ada])
        for teacher in (ada, maya):
            await set_weekly_availability(uow, teacher, everywhere)
            uow.session.add(PayoutAccount(user_id=teacher.id, provider=PROVIDER,
                                          account_ref=account_ref(teacher.display_name),
                                          ready=True, created_at=clock.now()))
    ids: dict[str, int] = {}
    for plan in sorted(PLANS, key=lambda p: p.name != LATE):  # the lapsed hold first
        clock.set(T0 - timedelta(hours=1) if plan.name == LATE else T0)
        async with at.uow() as uow:
            student = await uow.session.get(User, people[plan.student].id)
            assert student is not None
            booking = await hold_slot(uow, student, course.id, people[plan.teacher].id,
                                      starts(plan))
            refs = [checkout_ref(plan)]
            if plan.name == DECLINED_FIRST:
                refs.insert(0, f"{checkout_ref(plan)}_first")
            for ref in refs:
                await record_checkout(uow, booking, PROVIDER, ref, f"https://pay.example/{ref}")
            ids[plan.name] = booking.id
    async with at.uow() as uow:  # the payment for b5 comes after its hold ended
        await expire_holds(uow)
        late = await uow.session.get(Booking, ids[LATE])
        assert late is not None and late.status == "expired"
    return ids


# --- the scenario (in a process that may be killed) ------------------------------------------


async def _booking_ids(db: Database) -> dict[str, int]:
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(Booking.starts_at, Booking.id))).all()
    by_start = {s: i for s, i in rows}
    return {p.name: by_start[starts(p)] for p in PLANS}


async def _deliver_events(db: Database, clock: FrozenClock, ids: dict[str, int]) -> None:
    clock.set(PAY_AT)
    for ev in events(ids):
        async with db.uow() as uow:
            await handle_event(uow, ev, {"event": ev.event_id})


async def _cancel(db: Database, clock: FrozenClock, ids: dict[str, int]) -> None:
    clock.set(CANCEL_AT)
    plan = next(p for p in PLANS if p.name == CANCEL)
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, ids[CANCEL])
        student = await uow.session.scalar(select(User).where(User.display_name == plan.student))
        assert booking is not None and student is not None
        if booking.status == "confirmed":
            await cancel_booking(uow, student, booking.id)


async def _complete(db: Database, clock: FrozenClock, ids: dict[str, int]) -> None:
    clock.set(DONE_AT)
    for plan in PLANS:
        if plan.name not in COMPLETED:
            continue
        for who in (plan.student, plan.teacher):
            async with db.uow() as uow:  # each person answers in their own chat turn
                user = await uow.session.scalar(select(User).where(User.display_name == who))
                assert user is not None
                await record_report(uow, user, ids[plan.name], "held")


async def _partial_refund(db: Database, clock: FrozenClock, ids: dict[str, int]) -> None:
    clock.set(REFUND_AT)
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, ids[PARTIAL], with_for_update=True)
        assert booking is not None
        done = await uow.session.scalar(select(MoneyOut.id).where(
            MoneyOut.booking_id == booking.id, MoneyOut.kind == "refund"))
        if done is None:  # the admin sees the refund in the session's history and stops
            payment = await paid_payment(uow, booking.id)
            assert payment is not None
            await refund_unreleased(uow, booking, payment, reason="half the lesson lost",
                                    amount=PARTIAL_REFUND)


async def _release(db: Database, clock: FrozenClock) -> None:
    clock.set(RELEASE_AT)
    async with db.uow() as uow:
        queue = [item.booking.id for item in await list_releasable(uow)]
    for booking_id in queue:  # the admin approves them one by one
        async with db.uow() as uow:
            await release_booking(uow, booking_id)


async def _pending(db: Database) -> int:
    async with db.uow() as uow:
        return len((await uow.session.scalars(
            select(MoneyOut.id).where(MoneyOut.status == "pending"))).all())


async def _sweep(db: Database, clock: FrozenClock, provider: RecordingProvider,
                 start: datetime, rounds: int) -> None:
    for n in range(rounds):
        clock.set(start + n * ROUND_STEP)
        await send_money_out(db, provider)
        if not await _pending(db):
            return


async def play(db: Database, clock: FrozenClock, record: Path, attempt: int,
               crash_call: str = "") -> int:
    """The whole scenario from wherever it stands; returns how many provider calls it made."""
    ids = await _booking_ids(db)
    later = attempt * ATTEMPT_STEP
    # Each run's clock starts at the scenario's times again (plus ``later`` for the sweeps):
    # an earlier clock only makes leases look longer and retries look less due, so it can
    # delay money going out, never duplicate it; the last sweep is the latest time of all.
    provider = RecordingProvider(PROVIDER, record, ambiguous=AMBIGUOUS, crash=crash_call)
    await _deliver_events(db, clock, ids)
    await _cancel(db, clock, ids)
    await _sweep(db, clock, provider, CANCEL_AT + timedelta(minutes=1) + later, 1)
    await _complete(db, clock, ids)
    await _partial_refund(db, clock, ids)
    await _release(db, clock)
    await _sweep(db, clock, provider, RELEASE_AT + later, SWEEP_ROUNDS)
    return provider.calls


