"""Money end to end on the sandbox provider: pay, complete, release, payout; cancel and
refund; declines, repeats, late payments, disputes and late teacher cancellations — with
the ledger checked after each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text

from core import ledger
from core.booking import expire_holds, hold_slot
from core.clock import FrozenClock
from core.ledger_check import check_ledger
from core.models import Booking, CourseTeacher, LedgerTxn, OutboxMessage, Payment, User
from core.money import Money
from core.payment import handle_event
from core.payment_port import DISPUTE_LOST, DISPUTE_OPENED, DISPUTE_WON, PaymentEvent
from core.uow import Database
from handlers import payload
from handlers.links import pay_url
from payments.sandbox import SandboxProvider
from scheduling.jobs import send_money_out
from tests.fakechat import FakeChat
from tests.world import World, fetch_booking
from web_callbacks.app import create_app

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tue 10:00 Berlin, Maya teaching Python
Client = TestClient[object, object]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def _hold(db: Database, world: World, at: datetime = SLOT) -> tuple[int, str]:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at)
        return booking.id, pay_url(db.settings, booking)


async def _checkout(client: Client, link: str) -> str:
    resp = await client.get(_path(link), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return _path(resp.headers["Location"])


async def _pay(client: Client, link: str, action: str = "pay") -> str:
    checkout = await _checkout(client, link)
    resp = await client.post(checkout, data={"action": action})
    assert resp.status == 200
    return await resp.text()


async def _messages(db: Database, user: User, kind: str) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))).all())


async def _balance(db: Database, account: str) -> int:
    async with db.uow() as uow:
        return (await ledger.balance(uow, account, "USD")).minor


async def _clean(db: Database) -> None:
    async with db.uow() as uow:
        assert await check_ledger(uow) == []


async def _complete(db: Database, clock: FrozenClock, chat: FakeChat, maya: FakeChat,
                    booking_id: int) -> None:
    clock.set(SLOT + timedelta(hours=2))
    await chat.press(payload.command("attended", f"{booking_id} held"))
    await maya.press(payload.command("attended", f"{booking_id} held"))
    assert (await fetch_booking(db, booking_id)).status == "completed"


async def test_student_pays_session_completes_admin_releases_and_payees_are_paid(
        db: Database, world: World, admin: User, clock: FrozenClock, client: Client,
        chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id, link = await _hold(db, world)
    assert "Thank you" in await _pay(client, link)
    assert (await fetch_booking(db, booking_id)).status == "confirmed"
    [receipt] = await _messages(db, world.sam, "receipt")
    assert "🧾 Receipt — $40.00 paid" in receipt.text and receipt.file_name
    assert "METHOD:REQUEST" in (receipt.file_body or "")
    assert await _messages(db, world.maya, "booking_confirmed")
    assert await _balance(db, "cash:sandbox") == 4000
    assert await _balance(db, ledger.held(booking_id)) == 4000
    await _clean(db)

    maya: FakeChat = chat_as("maya")
    await maya.send("/earnings")
    assert "Held until sessions complete: $28.00" in maya.text
    ada: FakeChat = chat_as("ada")
    await ada.send("/earnings")
    assert "Held until sessions complete: $6.00" in ada.text
    await _complete(db, clock, chat, maya, booking_id)
    brian: FakeChat = chat_as("brian")
    await brian.send("/releases")
    assert "Nothing waiting" in brian.text  # still inside the cooling-off period
    clock.set(SLOT + timedelta(hours=1 + db.settings.payments.cooling_off_hours, minutes=1))
    await brian.send("/releases")
    assert "1 session(s) ready for release — $40.00" in brian.text
    await brian.click("✅ Approve all (1 · $40.00)")
    assert "Released 1 sessions, $40.00" in brian.text
    await brian.press(payload.command("releases", "all"))  # a second click finds nothing
    assert "Nothing is waiting" in brian.text
    assert await _balance(db, ledger.held(booking_id)) == 0
    assert await _balance(db, ledger.PLATFORM_FEES) == 600

    assert await send_money_out(db, SandboxProvider("http://127.0.0.1:8080")) == 2
    assert await send_money_out(db, SandboxProvider("http://127.0.0.1:8080")) == 0
    [paid] = await _messages(db, world.maya, "payout_receipt")
    assert "Payout receipt — $28.00" in paid.text
    [creator_paid] = await _messages(db, world.creator, "payout_receipt")
    assert "$6.00" in creator_paid.text
    await maya.send("/earnings")
    assert "Paid out:                     $28.00" in maya.text
    assert "released #" in maya.text and "→ $0.00" in maya.text
    assert await _balance(db, "cash:sandbox") == 600  # the platform's fee stays
    await _clean(db)


async def test_a_creator_teaching_their_own_course_gets_85_percent(
        db: Database, world: World, admin: User, clock: FrozenClock, client: Client,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    from core.availability import set_weekly_availability
    from core.escrow import release_booking
    from core.windows import Window

    async with db.uow() as uow:
        ada = await uow.session.get(User, world.creator.id)
        assert ada is not None
        await set_weekly_availability(uow, ada, [Window(d, 0, 24 * 60) for d in range(7)])
        uow.session.add(CourseTeacher(course_id=world.python.id, teacher_id=ada.id,
                                      approved_at=SLOT))
        await uow.session.flush()
        booking = await hold_slot(uow, world.sam, world.python.id, ada.id, SLOT)
        link = pay_url(db.settings, booking)
    await _pay(client, link)
    async with db.uow() as uow:
        b = await uow.session.get(Booking, booking.id)
        assert b is not None
        b.status = "completed"
    clock.set(SLOT + timedelta(days=3))
    async with db.uow() as uow:
        await release_booking(uow, booking.id)
    assert await _balance(db, ledger.on_its_way(1)) + await _balance(
        db, ledger.earned(world.creator.id)) == 3400
    assert await _balance(db, ledger.PLATFORM_FEES) == 600
    await _clean(db)


async def test_student_cancelling_a_paid_session_is_refunded_in_full(
        db: Database, world: World, admin: User, client: Client, chat: FakeChat) -> None:
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    assert "Refunding $40.00 to the card you paid with" in chat.text
    assert await _messages(db, world.sam, "refund_started") == []  # told in chat instead
    assert await _messages(db, admin, "refund")
    assert await send_money_out(db, SandboxProvider("http://127.0.0.1:8080")) == 1
    [receipt] = await _messages(db, world.sam, "refund_receipt")
    assert "Refund receipt — $40.00" in receipt.text
    assert await _balance(db, "cash:sandbox") == 0
    await _clean(db)


async def test_decline_keeps_the_hold_and_moves_no_money(
        db: Database, world: World, client: Client) -> None:
    booking_id, link = await _hold(db, world)
    assert "declined" in await _pay(client, link, "decline")
    assert (await fetch_booking(db, booking_id)).status == "held"
    [note] = await _messages(db, world.sam, "payment_declined")
    assert "nothing was charged" in note.text and "still held until" in note.text
    assert await _balance(db, "cash:sandbox") == 0
    assert "Thank you" in await _pay(client, link)  # retrying with another card works
    assert (await fetch_booking(db, booking_id)).status == "confirmed"
    await _clean(db)


async def test_double_clicked_pay_and_repeated_events_take_money_once(
        db: Database, world: World, client: Client) -> None:
    _booking_id, link = await _hold(db, world)
    checkout = await _checkout(client, link)
    for _ in range(3):
        await client.post(checkout, data={"action": "pay"})
    async with db.uow() as uow:
        txns = (await uow.session.scalars(select(LedgerTxn))).all()
        [payment] = (await uow.session.scalars(select(Payment))).all()
    assert [t.kind for t in txns] == ["payment"]
    assert payment.status == "paid"
    assert len(await _messages(db, world.sam, "receipt")) == 1
    bogus = await client.post(checkout, data={"action": "steal"})
    assert bogus.status == 404
    await _clean(db)


async def test_payment_arriving_after_the_hold_lapsed_is_refunded_automatically(
        db: Database, world: World, admin: User, client: Client, clock: FrozenClock) -> None:
    booking_id, link = await _hold(db, world)
    checkout = await _checkout(client, link)
    clock.advance(minutes=db.settings.booking.hold_minutes + 1)
    async with db.uow() as uow:
        await expire_holds(uow)
    body = await (await client.post(checkout, data={"action": "pay"})).text()
    assert "refunded in full" in body
    assert (await fetch_booking(db, booking_id)).status == "expired"
    assert await _messages(db, admin, "payment_mismatch")
    assert await _balance(db, ledger.held(booking_id)) == 0
    await _clean(db)


async def test_teacher_cancelling_late_refunds_the_student_and_charges_the_teacher(
        db: Database, world: World, admin: User, client: Client, clock: FrozenClock,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    clock.set(SLOT - timedelta(hours=3))
    maya: FakeChat = chat_as("maya")
    await maya.send(f"/cancel {booking_id}")
    await maya.send("I am ill today")
    await maya.click("Yes, cancel it")
    assert "The student gets $40.00 back" in maya.text
    [started] = await _messages(db, world.sam, "refund_started")
    assert "Refunding $40.00 in full" in started.text
    [charge] = await _messages(db, world.maya, "late_cancel_charge")
    assert "costs $4.00 (10% of the price)" in charge.text
    assert await _balance(db, ledger.earned(world.maya.id)) == -400
    assert await _balance(db, ledger.PENALTIES) == 400
    await _clean(db)


async def test_admin_refunds_part_and_the_rest_is_released(
        db: Database, world: World, admin: User, client: Client, clock: FrozenClock,
        chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    brian: FakeChat = chat_as("brian")
    await brian.send(f"/refund {booking_id} 15 audio broke for a while")
    assert "Refunding $15.00" in brian.text and "$25.00 stays held" in brian.text
    await brian.send(f"/refund {booking_id} 30")
    assert "at most that can be refunded" in brian.text
    await brian.send(f"/refund {booking_id} 1.234")
    assert "12.50" in brian.text
    assert await _messages(db, world.maya, "refund_by_admin")
    maya: FakeChat = chat_as("maya")
    await _complete(db, clock, chat, maya, booking_id)
    clock.advance(hours=db.settings.payments.cooling_off_hours)
    await brian.send("/releases")
    await brian.click(f"✅ Approve #{booking_id} ($25.00)")
    assert f"Released $25.00 for session #{booking_id}" in brian.text
    assert await _balance(db, ledger.PLATFORM_FEES) == 375  # 15% of 2500
    await _clean(db)


async def _paid_and_disputed(db: Database, world: World, client: Client, event_id: str
                             ) -> tuple[int, Payment]:
    """A session paid in the sandbox whose cardholder then opened a dispute."""
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    async with db.uow() as uow:
        [payment] = (await uow.session.scalars(select(Payment))).all()
        await handle_event(uow, PaymentEvent("sandbox", event_id, DISPUTE_OPENED,
                                             charge_ref=payment.charge_ref), {})
    return booking_id, payment


async def test_a_dispute_freezes_the_money_and_blocks_release_until_settled(
        db: Database, world: World, admin: User, client: Client, clock: FrozenClock) -> None:
    booking_id, payment = await _paid_and_disputed(db, world, client, "evt_d1")
    async with db.uow() as uow:
        b = await uow.session.get(Booking, booking_id)
        assert b is not None
        b.status = "completed"
    assert await _balance(db, ledger.frozen(booking_id)) == 4000
    assert await _messages(db, admin, "dispute")
    clock.set(SLOT + timedelta(days=5))
    from core.escrow import list_releasable
    async with db.uow() as uow:
        assert await list_releasable(uow) == []
        await handle_event(uow, PaymentEvent("sandbox", "evt_d2", DISPUTE_WON,
                                             charge_ref=payment.charge_ref), {})
        assert [r.booking.id for r in await list_releasable(uow)] == [booking_id]
        # A charge has one dispute: once it is closed, late or repeated events change nothing.
        for event_id, kind in (("evt_d3", DISPUTE_OPENED), ("evt_d4", DISPUTE_LOST)):
            outcome = await handle_event(uow, PaymentEvent(
                "sandbox", event_id, kind, charge_ref=payment.charge_ref), {})
            assert "already won" in outcome
        assert await handle_event(uow, PaymentEvent("sandbox", "evt_d4", DISPUTE_LOST,
                                                    charge_ref=payment.charge_ref),
                                  {}) == "duplicate"
    assert await _balance(db, "cash:sandbox") == 4000
    assert await _balance(db, ledger.held(booking_id)) == 4000
    assert await _balance(db, ledger.frozen(booking_id)) == 0
    await _clean(db)


async def test_a_lost_dispute_whose_opening_event_comes_last_charges_back_once(
        db: Database, world: World, admin: User, client: Client) -> None:
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    async with db.uow() as uow:
        [payment] = (await uow.session.scalars(select(Payment))).all()
        lost = await handle_event(uow, PaymentEvent(
            "sandbox", "evt_l2", DISPUTE_LOST, charge_ref=payment.charge_ref,
            amount=Money(4000, "USD")), {})
        assert "lost" in lost
        late = await handle_event(uow, PaymentEvent(
            "sandbox", "evt_l1", DISPUTE_OPENED, charge_ref=payment.charge_ref), {})
        assert "already lost" in late
    assert await _balance(db, "cash:sandbox") == 0
    assert await _balance(db, ledger.held(booking_id)) == 0
    assert await _balance(db, ledger.frozen(booking_id)) == 0
    await _clean(db)


async def test_money_commands_are_for_their_roles_only(
        db: Database, world: World, admin: User, chat: FakeChat) -> None:
    for command in ("/releases", "/refund 1 5", "/earnings"):
        await chat.send(command)
        assert "Released" not in chat.text and "Refunding" not in chat.text
        assert "💰" not in chat.text
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(LedgerTxn))).all() == []


async def test_the_ledger_refuses_edits_and_the_check_finds_tampering(
        db: Database, world: World, client: Client) -> None:
    _booking_id, link = await _hold(db, world)
    await _pay(client, link)
    for statement in ("UPDATE ledger_entry SET amount_minor = 1",
                      "DELETE FROM ledger_entry", "DELETE FROM ledger_txn"):
        with pytest.raises(Exception, match="append-only"):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
    async with db.engine.begin() as conn:  # inserting is allowed: an unbalanced one
        await conn.execute(text(
            "INSERT INTO ledger_txn (key, kind, memo, created_at) "
            "VALUES ('forged', 'payment', '', '2026-11-23 08:00:00.000000')"))
        txn_id = (await conn.execute(text(
            "SELECT id FROM ledger_txn WHERE key = 'forged'"))).scalar_one()
        await conn.execute(text(
            "INSERT INTO ledger_entry (txn_id, account, amount_minor, currency) "
            f"VALUES ({txn_id}, 'held:999', -500, 'USD')"))
    async with db.uow() as uow:
        problems = await check_ledger(uow)
    assert any("does not balance" in p for p in problems)
    assert any("has 1 entries" in p for p in problems)


async def test_refund_garbage_is_explained_and_cancelling_after_a_full_refund_still_works(
        db: Database, world: World, admin: User, client: Client, chat: FakeChat,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id, link = await _hold(db, world)
    await _pay(client, link)
    brian: FakeChat = chat_as("brian")
    for junk in (f"{booking_id} -3", f"{booking_id} +3", "abc", "", "99999 5"):
        await brian.send(f"/refund {junk}")
        assert "Refunding" not in brian.text and "Something went wrong" not in brian.text
    assert await _balance(db, ledger.held(booking_id)) == 4000
    await brian.send(f"/refund {booking_id} the student asked")
    assert "Refunding $40.00" in brian.text
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    assert f"Cancelled session #{booking_id}." in chat.text and "Refunding" not in chat.text
    await _clean(db)


async def test_a_dispute_won_after_the_session_was_cancelled_refunds_the_student(
        db: Database, world: World, admin: User, client: Client, chat: FakeChat) -> None:
    booking_id, payment = await _paid_and_disputed(db, world, client, "evt_x1")
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel it")
    assert f"Cancelled session #{booking_id}." in chat.text  # frozen money is not refunded
    async with db.uow() as uow:
        outcome = await handle_event(uow, PaymentEvent("sandbox", "evt_x2", DISPUTE_WON,
                                                       charge_ref=payment.charge_ref), {})
    assert "refunded" in outcome
    assert await _balance(db, ledger.held(booking_id)) == 0
    [started] = await _messages(db, world.sam, "refund_started")
    assert "Refunding $40.00 in full" in started.text
    await _clean(db)


async def test_a_second_checkout_paid_for_a_paid_session_is_refunded_in_full(
        db: Database, world: World, admin: User, client: Client) -> None:
    booking_id, link = await _hold(db, world)
    first = await _checkout(client, link)
    await client.post(first, data={"action": "decline"})  # the pay link then opens another
    assert "Thank you" in await _pay(client, link)
    resp = await client.post(first, data={"action": "pay"})  # the old tab is paid as well
    assert resp.status == 200 and "Refunded" in await resp.text()
    assert (await fetch_booking(db, booking_id)).status == "confirmed"
    async with db.uow() as uow:
        statuses = sorted((await uow.session.scalars(select(Payment.status))).all())
    assert statuses == ["duplicate", "paid"]
    assert await _balance(db, ledger.held(booking_id)) == 4000  # the first payment still holds
    assert await _balance(db, "cash:sandbox") == 8000
    [alert] = await _messages(db, admin, "payment_mismatch")
    assert "paid twice" in alert.text
    [refund] = await _messages(db, world.sam, "refund_started")
    assert "$40.00 in full" in refund.text
    await _clean(db)
