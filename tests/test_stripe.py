"""The Stripe adapter against a stand-in Stripe API over real HTTP: checkout, signed webhooks,
Connect onboarding, transfers tied to the charge, refunds, reversals before refunding
released money, idempotency keys, insufficient funds and provider outages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import ledger
from core.booking import hold_slot
from core.clock import FrozenClock
from core.models import MoneyOut, OutboxMessage, Payment, PayoutAccount, ProviderEvent, User
from core.uow import Database
from handlers import payload
from handlers.links import pay_url, payouts_url
from tests.fakechat import FakeChat
from tests.stripe_env import KEY, SLOT, Env, balance, ledger_clean, local_path
from tests.world import World, fetch_booking


async def _checkout(env: Env, world: World, at: datetime = SLOT) -> tuple[int, str]:
    """Hold a slot and open its pay link: returns the booking and the Stripe session id."""
    async with env.db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at)
        link = pay_url(env.db.settings, booking)
    resp = await env.web.get(local_path(link), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith(env.stripe.base_url + "/c/pay/cs_test_")
    return booking.id, location.rsplit("/", 1)[1]


async def _paid(env: Env, world: World, at: datetime = SLOT) -> tuple[int, str]:
    booking_id, session_id = await _checkout(env, world, at)
    assert await env.deliver(env.stripe.pay(session_id)) == 200
    assert (await fetch_booking(env.db, booking_id)).status == "confirmed"
    return booking_id, env.stripe.sessions[session_id]["payment_intent"]


async def _messages(db: Database, user: User, kind: str) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == kind))).all())


async def _complete_and_release(env: Env, clock: FrozenClock, chat: FakeChat, maya: FakeChat,
                                brian: FakeChat, booking_id: int) -> None:
    clock.set(SLOT + timedelta(hours=2))
    await chat.press(payload.command("attended", f"{booking_id} held"))
    await maya.press(payload.command("attended", f"{booking_id} held"))
    clock.set(SLOT + timedelta(hours=1 + env.db.settings.payments.cooling_off_hours, minutes=1))
    await brian.send(f"/releases approve {booking_id}")
    assert "Released" in brian.text, brian.text


async def _connect(env: Env, user: User) -> str:
    """The payee opens /payouts' link, onboards at Stripe and comes back."""
    link = payouts_url(env.db.settings, user.id, env.db.clock.now())
    resp = await env.web.get(local_path(link), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    account = resp.headers["Location"].rsplit("/", 1)[1]
    assert account in env.stripe.accounts
    back = await env.web.get(local_path(link) + "/back")
    assert "Almost there" in await back.text()  # not onboarded yet
    assert await env.deliver(env.stripe.onboard(account)) == 200
    return account


async def test_checkout_session_carries_transfer_group_and_metadata_and_pays_once(
        env: Env, world: World) -> None:
    booking_id, session_id = await _checkout(env, world)
    session = env.stripe.sessions[session_id]
    assert session["amount_total"] == 4000 and session["currency"] == "usd"
    assert session["metadata"] == {"booking_id": str(booking_id)}
    assert session["_intent_data"]["transfer_group"] == f"booking-{booking_id}"
    # Stripe refuses sessions expiring sooner than 30 minutes; the hold is shorter.
    assert session["expires_at"] >= env.db.clock.now().timestamp() + 30 * 60
    again = await env.web.get(local_path(pay_url(env.db.settings, await fetch_booking(
        env.db, booking_id))), allow_redirects=False)
    assert again.headers["Location"].endswith(session_id)  # reopened, not a second session
    assert len(env.stripe.sessions) == 1

    event = env.stripe.pay(session_id)
    for _ in range(3):  # Stripe retries until it sees a 200; each repeat changes nothing
        assert await env.deliver(event) == 200
    assert (await fetch_booking(env.db, booking_id)).status == "confirmed"
    assert len(await _messages(env.db, world.sam, "receipt")) == 1
    assert await balance(env.db, "cash:stripe") == 4000
    assert await balance(env.db, ledger.held(booking_id)) == 4000
    async with env.db.uow() as uow:
        [payment] = (await uow.session.scalars(select(Payment))).all()
        assert payment.charge_ref == env.stripe.sessions[session_id]["payment_intent"]
    await ledger_clean(env.db)


async def test_payout_waits_for_connect_onboarding_then_transfers_from_the_charge(
        env: Env, world: World, admin: User, clock: FrozenClock, chat: FakeChat,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    booking_id, intent = await _paid(env, world)
    maya: FakeChat = chat_as("maya")
    brian: FakeChat = chat_as("brian")
    await _complete_and_release(env, clock, chat, maya, brian, booking_id)
    assert await env.sweep() == 0  # nobody has a payout account yet
    async with env.db.uow() as uow:
        outs = (await uow.session.scalars(select(MoneyOut).order_by(MoneyOut.id))).all()
        assert {o.status for o in outs} == {"pending"}
        assert all("/payouts" in (o.last_error or "") for o in outs)
    assert not [c for c in env.stripe.calls if c[1] == "/v1/transfers"]

    await maya.send("/payouts")
    assert "Connect a payout account" in maya.text
    [button] = maya.buttons
    assert button.url and "/payouts/" in button.url
    account = await _connect(env, world.maya)
    [ready] = await _messages(env.db, world.maya, "payout_account_ready")
    assert "1 payout of $28.00 waiting for it is on the way now" in ready.text
    assert await env.sweep() == 1
    [transfer] = env.stripe.transfers.values()
    charge = env.stripe.intents[intent]["latest_charge"]
    assert (transfer["amount"], transfer["destination"]) == (2800, account)
    assert transfer["source_transaction"] == charge
    assert transfer["transfer_group"] == f"booking-{booking_id}"
    assert env.stripe.account_balance(account) == 2800
    assert env.stripe.idempotent[f"transfer:{booking_id}:{world.maya.id}"]
    await maya.send("/payouts")
    assert "✅ Your payout account is connected" in maya.text
    again = await env.web.get(local_path(button.url), allow_redirects=False)
    assert again.headers["Location"].endswith("/back")  # nothing left to set up at Stripe
    assert "On their way" not in maya.text
    await maya.send("/earnings")
    assert "Paid out:                     $28.00" in maya.text
    assert env.stripe.platform_balance() == 1200  # Ada's $6 waits for her account; $6 fee
    await ledger_clean(env.db)


async def test_cancel_before_release_refunds_in_full_at_stripe(
        env: Env, world: World, admin: User, chat: FakeChat) -> None:
    booking_id, intent = await _paid(env, world)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel")
    assert (await fetch_booking(env.db, booking_id)).status == "cancelled"
    assert await env.sweep() == 1
    [refund] = env.stripe.refunds.values()
    assert (refund["amount"], refund["payment_intent"]) == (4000, intent)
    assert env.stripe.platform_balance() == 0
    [receipt] = await _messages(env.db, world.sam, "refund_receipt")
    assert "$40.00" in receipt.text and refund["id"] in receipt.text
    await ledger_clean(env.db)


async def test_outages_retry_with_the_same_idempotency_key_and_move_money_once(
        env: Env, world: World, chat: FakeChat) -> None:
    booking_id, _intent = await _paid(env, world)
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel")
    env.stripe.fail_next(500, 500, 500)  # the client retries twice itself, then gives up
    assert await env.sweep() == 0
    async with env.db.uow() as uow:
        [out] = (await uow.session.scalars(select(MoneyOut))).all()
        assert out.status == "pending" and "stand-in failure" in (out.last_error or "")
        out.next_attempt_at = env.db.clock.now()
    # The provider got it but our process died before recording it: the retry replays.
    async with env.db.uow() as uow:
        from core.payout import claim_money_out
        [due] = await claim_money_out(uow, "stripe")
        out.claimed_until = None
    first = await env.provider.refund(due.request)
    async with env.db.uow() as uow:
        row = await uow.session.get(MoneyOut, out.id)
        assert row is not None
        row.claimed_until = None
    assert await env.sweep() == 1
    assert len(env.stripe.refunds) == 1
    async with env.db.uow() as uow:
        row = await uow.session.get(MoneyOut, out.id)
        assert row is not None and row.status == "sent" and row.provider_ref == first
    assert env.stripe.platform_balance() == 0
    await ledger_clean(env.db)


async def test_insufficient_platform_balance_defers_the_refund_until_funds_arrive(
        env: Env, world: World, chat: FakeChat) -> None:
    booking_id, _intent = await _paid(env, world)
    env.stripe.balance["usd"] = 1000  # e.g. other refunds drained the available balance
    await chat.send(f"/cancel {booking_id}")
    await chat.click("Yes, cancel")
    assert await env.sweep() == 0
    async with env.db.uow() as uow:
        [out] = (await uow.session.scalars(select(MoneyOut))).all()
        assert out.status == "pending" and "balance_insufficient" in (out.last_error or "")
        assert out.next_attempt_at > env.db.clock.now()
        out.next_attempt_at = env.db.clock.now()
    env.stripe.balance["usd"] = 4000
    assert await env.sweep() == 1
    assert [r["amount"] for r in env.stripe.refunds.values()] == [4000]
    await ledger_clean(env.db)


async def _paid_out(env: Env, world: World, clock: FrozenClock, chat: FakeChat,
                    chat_as) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A paid session, completed and released; Maya's $28 transferred to her new account
    (Ada's $6 waits for hers)."""
    booking_id, _intent = await _paid(env, world)
    await _complete_and_release(env, clock, chat, chat_as("maya"), chat_as("brian"),
                                booking_id)
    account = await _connect(env, world.maya)
    assert await env.sweep() == 1
    return booking_id, account


async def test_admin_refund_of_released_money_reverses_the_transfer_first(
        env: Env, world: World, admin: User, clock: FrozenClock, chat: FakeChat,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    brian: FakeChat = chat_as("brian")
    booking_id, account = await _paid_out(env, world, clock, chat, chat_as)
    await brian.send(f"/refund {booking_id}")
    assert "already released" in brian.text and f"/refund {booking_id} $40.00" in brian.text
    await brian.send(f"/refund {booking_id} 50")
    assert "At most $40.00" in brian.text
    await brian.send(f"/refund {booking_id} 20 teacher never showed the second half")
    assert "Refunding $20.00" in brian.text and "reversed first" in brian.text
    assert await env.sweep() == 1
    [transfer] = env.stripe.transfers.values()
    [reversal] = transfer["reversals"]
    assert reversal["amount"] == 1400  # Maya's 70% of the $20 comes back from her account
    assert env.stripe.account_balance(account) == 1400
    assert [r["amount"] for r in env.stripe.refunds.values()] == [2000]
    assert await balance(env.db, ledger.earned(world.maya.id)) == 0
    # Ada's $6 payout still waits for her account: her $3 share is owed from future earnings.
    assert await balance(env.db, ledger.earned(world.creator.id)) == -300
    [note] = await _messages(env.db, world.maya, "clawback")
    assert "$14.00" in note.text and "taken back from your payout account" in note.text
    await ledger_clean(env.db)


async def test_a_reversal_the_payee_cannot_cover_is_owed_and_the_refund_still_goes(
        env: Env, world: World, admin: User, clock: FrozenClock, chat: FakeChat,
        chat_as) -> None:  # type: ignore[no-untyped-def]
    brian: FakeChat = chat_as("brian")
    booking_id, account = await _paid_out(env, world, clock, chat, chat_as)
    env.stripe.accounts[account].balance["usd"] = 0  # Maya withdrew it to her bank
    async with env.db.uow() as uow:  # Lee pays for another session meanwhile
        other = await hold_slot(uow, world.lee, world.python.id, world.maya.id,
                                SLOT + timedelta(days=3))
        link = pay_url(env.db.settings, other)
    resp = await env.web.get(local_path(link), allow_redirects=False)
    assert await env.deliver(env.stripe.pay(resp.headers["Location"].rsplit("/", 1)[1])) == 200
    await brian.send(f"/refund {booking_id} 40 never happened")
    assert await env.sweep() == 1
    assert [r["amount"] for r in env.stripe.refunds.values()] == [4000]
    assert await balance(env.db, ledger.earned(world.maya.id)) == -2800  # owed
    assert await _messages(env.db, admin, "reversal_failed")
    await ledger_clean(env.db)


async def test_disputes_freeze_then_charge_back_and_alert_the_admin(
        env: Env, world: World, admin: User) -> None:
    booking_id, intent = await _paid(env, world)
    assert await env.deliver(env.stripe.dispute(intent)) == 200
    assert await balance(env.db, ledger.frozen(booking_id)) == 4000
    [alert] = await _messages(env.db, admin, "dispute")
    assert "$40.00 frozen" in alert.text
    assert await env.deliver(env.stripe.dispute(intent, "lost")) == 200
    assert await balance(env.db, ledger.frozen(booking_id)) == 0
    assert await balance(env.db, "cash:stripe") == 0
    await ledger_clean(env.db)


async def test_an_expired_checkout_is_replaced_by_a_fresh_one(env: Env, world: World) -> None:
    booking_id, session_id = await _checkout(env, world)
    assert await env.deliver(env.stripe.expire(session_id)) == 200
    resp = await env.web.get(local_path(pay_url(env.db.settings, await fetch_booking(
        env.db, booking_id))), allow_redirects=False)
    assert resp.status == 303 and not resp.headers["Location"].endswith(session_id)
    assert len(env.stripe.sessions) == 2


async def test_webhooks_without_a_genuine_fresh_signature_are_refused(
        env: Env, world: World) -> None:
    booking_id, session_id = await _checkout(env, world)
    event = env.stripe.pay(session_id)
    now = int(datetime.now(UTC).timestamp())
    assert await env.deliver(event, secret="whsec_forged") == 400
    assert await env.deliver(event, timestamp=now - 301) == 400  # a replayed old delivery
    body, header = env.stripe.signed(event)
    tampered = body.replace(b'"amount_total": 4000', b'"amount_total": 1')
    resp = await env.web.post("/webhooks/stripe", data=tampered,
                              headers={"Stripe-Signature": header})
    assert resp.status == 400
    for headers in ({}, {"Stripe-Signature": "t=1,v1=00"}, {"Stripe-Signature": "garbage"}):
        resp = await env.web.post("/webhooks/stripe", data=body, headers=headers)
        assert resp.status == 400
    resp = await env.web.post("/webhooks/stripe", data=b"\xff\xfe", headers={
        "Stripe-Signature": env.stripe.signed({"id": "x"})[1]})
    assert resp.status == 400
    assert (await fetch_booking(env.db, booking_id)).status == "held"
    async with env.db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ProviderEvent)) == 0
    assert await env.deliver(event) == 200
    assert (await fetch_booking(env.db, booking_id)).status == "confirmed"


async def test_the_stand_in_enforces_idempotency_keys_and_auth(env: Env) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_wrong", base_addresses={"api": env.stripe.base_url},
                                 http_client=stripe.AIOHTTPClient())
    with pytest.raises(stripe.AuthenticationError):
        await client.v1.accounts.create_async({})
    good = stripe.StripeClient(KEY, base_addresses={"api": env.stripe.base_url},
                               http_client=stripe.AIOHTTPClient())
    first = await good.v1.accounts.create_async({"metadata": {"a": "1"}},
                                                {"idempotency_key": "k1"})
    again = await good.v1.accounts.create_async({"metadata": {"a": "1"}},
                                                {"idempotency_key": "k1"})
    assert first.id == again.id and len(env.stripe.accounts) == 1
    with pytest.raises(stripe.IdempotencyError):
        await good.v1.accounts.create_async({"metadata": {"a": "2"}},
                                            {"idempotency_key": "k1"})
    await client._requestor._client.close_async()  # type: ignore[attr-defined]
    await good._requestor._client.close_async()  # type: ignore[attr-defined]


def test_unknown_stripe_events_are_recorded_but_ignored() -> None:
    from payments.stripe_provider import event_from

    event = event_from({"id": "evt_1", "type": "customer.created", "data": {"object": {}}})
    assert event.type == "customer.created" and event.checkout_ref is None
    paid = event_from(json.loads(json.dumps({
        "id": "evt_2", "type": "checkout.session.completed", "data": {"object": {
            "id": "cs_1", "payment_status": "paid", "payment_intent": "pi_1",
            "amount_total": 4000, "currency": "usd", "metadata": {"booking_id": "7"}}}})))
    assert (paid.type, paid.booking_id, str(paid.amount)) == ("checkout.paid", 7, "$40.00")
    unpaid = event_from({"id": "evt_3", "type": "checkout.session.completed",
                         "data": {"object": {"id": "cs_2", "payment_status": "unpaid"}}})
    assert unpaid.type == "checkout.session.completed"  # async methods: wait for the result


async def test_connect_accounts_are_created_once_per_payee(env: Env, world: World) -> None:
    link = payouts_url(env.db.settings, world.maya.id, env.db.clock.now())
    for _ in range(2):
        resp = await env.web.get(local_path(link), allow_redirects=False)
        assert resp.status == 303
    assert len(env.stripe.accounts) == 1
    async with env.db.uow() as uow:
        [acct] = (await uow.session.scalars(select(PayoutAccount))).all()
        assert acct.provider == "stripe" and not acct.ready
    resp = await env.web.get("/payouts/forged-token", allow_redirects=False)
    assert resp.status == 404
