"""A stateful property test: random sequences of pay, cancel, complete, refund, dispute,
release and payout never break a ledger invariant, and cash always equals what is owed."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ledger
from core.booking import cancel_booking, hold_slot
from core.clock import FrozenClock
from core.errors import DomainError
from core.escrow import paid_payment, refund_unreleased, release_booking
from core.ledger_check import check_ledger
from core.models import Booking, TeacherSettings
from core.money import Money
from core.payment import handle_event, record_checkout
from core.payment_port import (
    CHECKOUT_PAID,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PaymentEvent,
)
from core.uow import Database
from payments.sandbox import SandboxProvider
from scheduling.jobs import send_money_out
from tests.conftest import T0, _wipe
from tests.world import build_world

SLOTS = [datetime(2026, 11, 24 + i, 9, 0, tzinfo=UTC) for i in range(3)]  # Maya, 10:00 Berlin
OPS = st.tuples(st.sampled_from(["pay", "cancel_student", "cancel_teacher", "complete",
                                 "refund", "dispute", "won", "lost", "release", "send",
                                 "later"]),
                st.integers(0, len(SLOTS) - 1), st.integers(1, 4000))


async def _step(db: Database, world, bookings: dict[int, int], op: str, i: int,  # type: ignore[no-untyped-def]
                n: int, events: list[int]) -> None:
    events[0] += 1
    event_id = f"evt_{events[0]}"
    booking_id = bookings.get(i)
    async with db.uow() as uow:
        booking = await uow.session.get(Booking, booking_id) if booking_id else None
        payment = await paid_payment(uow, booking_id) if booking_id else None
        if op == "pay" and (booking is None or booking.status in ("cancelled", "expired")):
            booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOTS[i])
            bookings[i] = booking.id
            pay = await record_checkout(uow, booking, "sandbox", f"cs_{booking.id}", "")
            await handle_event(uow, PaymentEvent(
                "sandbox", event_id, CHECKOUT_PAID, checkout_ref=pay.checkout_ref,
                charge_ref=f"ch_{booking.id}", amount=booking.price, booking_id=booking.id), {})
        elif booking is None:
            return
        elif op in ("cancel_student", "cancel_teacher"):
            who = world.sam if op == "cancel_student" else world.maya
            await cancel_booking(uow, who, booking.id, "changed plans")
        elif op == "complete" and booking.status == "confirmed":
            booking.status = "completed"
        elif op == "refund" and payment is not None:
            await refund_unreleased(uow, booking, payment, reason="property test",
                                    amount=Money(n, booking.currency))
        elif op in ("dispute", "won", "lost") and payment is not None:
            kind = {"dispute": DISPUTE_OPENED, "won": DISPUTE_WON, "lost": DISPUTE_LOST}[op]
            await handle_event(uow, PaymentEvent("sandbox", event_id, kind,
                                                 charge_ref=f"ch_{booking.id}"), {})
        elif op == "release":
            await release_booking(uow, booking.id)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(OPS, min_size=3, max_size=20))
async def test_random_money_operations_keep_every_ledger_invariant(
        db: Database, clock: FrozenClock, ops: list[tuple[str, int, int]]) -> None:
    await _wipe(db)
    clock.set(T0)
    world = await build_world(db)
    async with db.uow() as uow:
        uow.session.add(TeacherSettings(user_id=world.maya.id, buffer_minutes=0,
                                        horizon_days=60))
    bookings: dict[int, int] = {}
    events = [0]
    sandbox = SandboxProvider("http://127.0.0.1:8080")
    for i in range(len(SLOTS)):  # every example starts with three paid sessions
        await _step(db, world, bookings, "pay", i, 0, events)
    for op, i, n in ops:
        if op == "send":
            await send_money_out(db, sandbox)
        elif op == "later":
            clock.advance(days=4)
        else:
            # A refusal is a message; its transaction rolled back, nothing half-done.
            with contextlib.suppress(DomainError):
                await _step(db, world, bookings, op, i, n, events)
        async with db.uow() as uow:
            assert await check_ledger(uow) == [], (op, i, n)
            rows = await ledger.all_balances(uow)
        cash = sum(m for a, _c, m in rows if ledger.is_asset(a))
        owed = sum(m for a, _c, m in rows if not ledger.is_asset(a))
        assert cash == owed, (op, rows)

