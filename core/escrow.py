"""Held funds: what a paid session holds, refunds of what is unreleased, disputes, releases
approved by the admin (split between teacher, creator and platform) and the payouts they
start. Money leaves through ``MoneyOut`` rows that a sweep sends after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from core import ledger
from core.alerts import tell_admins
from core.db import is_valid_id
from core.errors import InvalidInput, NotFound
from core.models import (
    Booking,
    Course,
    LedgerEntry,
    LedgerTxn,
    MoneyOut,
    Payment,
    TransferReversal,
    User,
)
from core.money import Money, split
from core.outbox import notify
from core.uow import UnitOfWork

PLATFORM = 0  # the platform's "payee id" in a split


async def paid_payment(uow: UnitOfWork, booking_id: int) -> Payment | None:
    return await uow.session.scalar(
        select(Payment).where(Payment.booking_id == booking_id, Payment.status == "paid"))


async def held_amount(uow: UnitOfWork, booking: Booking) -> Money:
    return await ledger.balance(uow, ledger.held(booking.id), booking.currency)


async def _send_out(uow: UnitOfWork, kind: str, key: str, booking: Booking, user_id: int,
                    payment: Payment, amount: Money, source: str | None, reason: str, *,
                    take: Money | None = None) -> MoneyOut:
    """A refund or payout of ``amount``; ``take`` (default: all of it) comes from ``source``
    now, the rest is moved onto its way by the caller in the same transaction."""
    now = uow.clock.now()
    out = MoneyOut(kind=kind, key=key, booking_id=booking.id, user_id=user_id,
                   payment_id=payment.id, amount_minor=amount.minor, currency=amount.currency,
                   reason=reason[:200], next_attempt_at=now, created_at=now)
    uow.session.add(out)
    await uow.session.flush()
    if source is not None:
        await ledger.post(uow, f"{kind}_request:{out.id}", f"{kind}_request",
                          ledger.move(take or amount, source, ledger.on_its_way(out.id)),
                          booking_id=booking.id, memo=reason)
    return out


async def refund_unreleased(uow: UnitOfWork, booking: Booking, payment: Payment, *,
                            reason: str, amount: Money | None = None,
                            tell_student: bool = True) -> Money:
    """Refund what the paid session still holds (all of it, or ``amount``); the student
    (unless they asked, and are answered in chat) and the admins are told. Returns what is
    refunded: zero when nothing is held any more."""
    # Lock the session first: two refunds at once must not both take the same held money.
    await uow.session.get(Booking, booking.id, with_for_update=True)
    available = await held_amount(uow, booking)
    if amount is None and not available.minor:
        return available
    wanted = available if amount is None else amount
    if wanted.currency != available.currency or wanted.minor <= 0:
        raise InvalidInput("A refund needs a positive amount in the session's currency.")
    if available < wanted:
        raise InvalidInput(f"Only {available} of session #{booking.id} is still held, so at "
                           f"most that can be refunded.")
    await _send_out(uow, "refund", await _next_refund_key(uow, booking), booking,
                    booking.student_id, payment, wanted, ledger.held(booking.id), reason)
    student = await uow.session.get(User, booking.student_id)
    assert student is not None
    whole = " in full" if wanted == Money(payment.amount_minor, payment.currency) else ""
    if tell_student:
        await notify(uow, student, "refund_started",
                     f"↩️ Refunding {wanted}{whole} for session #{booking.id} to the card you "
                     "paid with. You'll get a receipt when it's done.")
    await tell_admins(uow, "refund", f"↩️ Refund of {wanted}{whole} started for session "
                      f"#{booking.id} ({student.display_name}): {reason}.")
    return wanted


async def _next_refund_key(uow: UnitOfWork, booking: Booking) -> str:
    done = await uow.session.scalar(select(func.count()).select_from(MoneyOut).where(
        MoneyOut.booking_id == booking.id, MoneyOut.kind == "refund"))
    return f"refund:{booking.id}:{int(done or 0) + 1}"


async def charge_late_cancel(uow: UnitOfWork, booking: Booking) -> Money:
    """A teacher's late cancellation of a paid session costs them a configured share."""
    pct = uow.settings.payments.teacher_late_cancel_charge_pct
    if not pct:
        return Money.zero(booking.currency)
    charge = Money(booking.price_minor * pct // 100, booking.currency)
    if charge.minor <= 0:
        return charge
    posted = await ledger.post(uow, f"late_charge:{booking.id}", "late_cancel_charge",
                               ledger.move(charge, ledger.earned(booking.teacher_id),
                                           ledger.PENALTIES),
                               booking_id=booking.id, memo="teacher cancelled late")
    if posted:
        teacher = await uow.session.get(User, booking.teacher_id)
        assert teacher is not None
        await notify(uow, teacher, "late_cancel_charge",
                     f"⚠️ Cancelling session #{booking.id} late costs {charge} ({pct}% of the "
                     "price); it is taken from your next earnings.")
        await tell_admins(uow, "late_cancel_charge",
                          f"Teacher {teacher.display_name} cancelled session #{booking.id} "
                          f"late: charged {charge}.")
    return charge


async def freeze(uow: UnitOfWork, payment: Payment, event_id: str) -> str:
    """A dispute opened: what the session holds stops moving until it is settled."""
    booking = await uow.session.get(Booking, payment.booking_id, with_for_update=True)
    assert booking is not None
    amount = await held_amount(uow, booking)
    if amount.minor > 0:
        await ledger.post(uow, f"freeze:{payment.id}:{event_id}", "dispute_freeze",
                          ledger.move(amount, ledger.held(booking.id),
                                      ledger.frozen(booking.id)), booking_id=booking.id)
    await tell_admins(uow, "dispute", f"🚨 The payment for session #{booking.id} is disputed "
                      f"by the cardholder: {amount} frozen. Answer the dispute at the provider.")
    return f"dispute on payment {payment.id}: {amount} frozen"


async def settle_dispute(uow: UnitOfWork, payment: Payment, event_id: str, *, won: bool,
                         disputed: Money | None = None) -> str:
    """Won: the frozen money is held again. Lost: it went back to the card. A loss whose
    "opened" event never arrived takes what the session still holds, up to the amount."""
    booking = await uow.session.get(Booking, payment.booking_id, with_for_update=True)
    assert booking is not None
    source = ledger.frozen(booking.id)
    amount = await ledger.balance(uow, source, booking.currency)
    if not won and not amount.minor:
        source, amount = ledger.held(booking.id), await held_amount(uow, booking)
        if disputed is not None and disputed.currency == amount.currency:
            amount = min(amount, disputed)
    if amount.minor > 0:
        lines = (ledger.move(amount, source, ledger.held(booking.id)) if won
                 else ledger.send(amount, source, payment.provider))
        await ledger.post(uow, f"{'unfreeze' if won else 'chargeback'}:{payment.id}:{event_id}",
                          "dispute_won" if won else "chargeback", lines, booking_id=booking.id)
    result = "won: the money is held again" if won else "lost: the money went back to the card"
    if won and amount.minor and booking.status in ("cancelled", "expired"):
        # The session was cancelled while its money was frozen: it is owed back now.
        await refund_unreleased(uow, booking, payment, reason="the session was cancelled "
                                "while its payment was disputed")
        result = "won: the session was cancelled meanwhile, so the money is refunded"
    await tell_admins(uow, "dispute", f"Dispute on session #{booking.id} {result} ({amount}).")
    return f"dispute on payment {payment.id} {result}"


@dataclass(frozen=True)
class Releasable:
    booking: Booking
    amount: Money
    course_title: str
    teacher_name: str


async def _held_bookings(uow: UnitOfWork) -> dict[int, Money]:
    """Bookings whose held balance is not zero (range scan: the account index applies)."""
    rows = await ledger.balances_between(uow, "held:", "held;")
    return {int(account.split(":")[1]): money for (account, _c), money in rows.items()
            if money.minor}


async def list_releasable(uow: UnitOfWork, *, limit: int = 100) -> list[Releasable]:
    """Completed sessions past the cooling-off period, not disputed, with money held."""
    held = await _held_bookings(uow)
    if not held:
        return []
    cutoff = uow.clock.now() - timedelta(hours=uow.settings.payments.cooling_off_hours)
    frozen = await ledger.balances_between(uow, "frozen:", "frozen;")
    disputed = {int(a.split(":")[1]) for (a, _c), m in frozen.items() if m.minor}
    rows = (await uow.session.execute(
        select(Booking, Course.title, User.display_name)
        .join(Course, Course.id == Booking.course_id)
        .join(User, User.id == Booking.teacher_id)
        .where(Booking.id.in_(list(held)), Booking.status == "completed",
               Booking.ends_at <= cutoff)
        .order_by(Booking.ends_at).limit(limit))).all()
    return [Releasable(b, held[b.id], title, name) for b, title, name in rows
            if b.id not in disputed]


def shares(amount: Money, teacher_id: int, creator_id: int, pct: tuple[int, int, int]
           ) -> dict[int, Money]:
    """platform / creator / teacher percentages; a teaching creator gets both shares."""
    platform, creator, teacher = pct
    parts = split(amount, {"platform": platform, "creator": creator, "teacher": teacher},
                  remainder_to="platform")
    out = {PLATFORM: parts["platform"], creator_id: parts["creator"]}
    out[teacher_id] = out.get(teacher_id, Money.zero(amount.currency)) + parts["teacher"]
    return out


async def _split(uow: UnitOfWork, amount: Money, booking: Booking) -> dict[int, Money]:
    """The session's configured split of ``amount``, leaving out zero shares."""
    course = await uow.session.get(Course, booking.course_id)
    assert course is not None
    cfg = uow.settings.split
    parts = shares(amount, booking.teacher_id, course.creator_id,
                   (cfg.platform_pct, cfg.creator_pct, cfg.teacher_pct))
    return {payee: part for payee, part in parts.items() if part.minor}


def _share_account(payee: int) -> str:
    return ledger.PLATFORM_FEES if payee == PLATFORM else ledger.earned(payee)


async def _releasable_amount(uow: UnitOfWork, booking: Booking) -> Money:
    """What the session holds, when it may be released now; otherwise says why not."""
    why = None
    cooling = timedelta(hours=uow.settings.payments.cooling_off_hours)
    balances = await ledger.balances(uow, [ledger.held(booking.id), ledger.frozen(booking.id)])
    zero = Money.zero(booking.currency)
    held = balances.get((ledger.held(booking.id), booking.currency), zero)
    if booking.status != "completed":
        why = f"it is {booking.status}, not completed"
    elif booking.ends_at + cooling > uow.clock.now():
        why = f"the {uow.settings.payments.cooling_off_hours} h cooling-off period is not over"
    elif balances.get((ledger.frozen(booking.id), booking.currency), zero).minor:
        why = "its payment is disputed"
    elif not held.minor:
        why = "nothing is held for it"
    if why:
        raise InvalidInput(f"Session #{booking.id} can't be released: {why}.")
    return held


async def release_booking(uow: UnitOfWork, booking_id: int) -> Money:
    """Release a session's held money to its teacher, creator and the platform, and start
    the payouts. Refuses anything not (or no longer) in the release queue."""
    booking = (await uow.session.get(Booking, booking_id, with_for_update=True)
               if is_valid_id(booking_id) else None)
    if booking is None:
        raise NotFound("session")
    amount = await _releasable_amount(uow, booking)
    course = await uow.session.get(Course, booking.course_id)
    payment = await paid_payment(uow, booking.id)
    assert course is not None and payment is not None
    cfg = uow.settings.split
    parts = await _split(uow, amount, booking)
    lines: list[ledger.Line] = []
    for payee, part in parts.items():
        lines += ledger.move(part, ledger.held(booking.id), _share_account(payee))
    await ledger.post(uow, f"release:{booking.id}", "release", lines, booking_id=booking.id,
                      memo=f"{cfg.platform_pct}/{cfg.creator_pct}/{cfg.teacher_pct}")
    for payee, part in parts.items():
        if payee == PLATFORM or not part.minor:
            continue
        available = await ledger.balance(uow, ledger.earned(payee), booking.currency)
        pay = min(part, available) if available.minor > 0 else Money.zero(booking.currency)
        user = await uow.session.get(User, payee)
        assert user is not None
        role = "teaching" if payee == booking.teacher_id else "your course"
        if pay.minor > 0:
            await _send_out(uow, "payout", f"transfer:{booking.id}:{payee}", booking, payee,
                            payment, pay, ledger.earned(payee), f"session #{booking.id}")
        note = "" if pay == part else f" ({part - pay} went to settle earlier charges)"
        await notify(uow, user, "released",
                     f"💸 {part} released to you for session #{booking.id} ({role}: "
                     f"{course.title}){note}. Payout on its way — see /earnings.")
    return amount


async def released_left(uow: UnitOfWork, booking: Booking) -> Money:
    """What was released for the session and not yet taken back for a refund."""
    rows = (await uow.session.execute(
        select(LedgerTxn.kind, func.sum(LedgerEntry.amount_minor))
        .join(LedgerEntry, LedgerEntry.txn_id == LedgerTxn.id)
        .where(LedgerTxn.booking_id == booking.id, LedgerTxn.kind.in_(("release", "clawback")),
               LedgerEntry.amount_minor > 0, LedgerEntry.currency == booking.currency)
        .group_by(LedgerTxn.kind))).all()
    sums = {kind: int(total or 0) for kind, total in rows}
    return Money(sums.get("release", 0) - sums.get("clawback", 0), booking.currency)


@dataclass(frozen=True)
class AdminRefund:
    refunded: Money
    from_held: Money  # the rest was taken back from released money
    held_left: Money


async def refund_by_admin(uow: UnitOfWork, booking: Booking, amount: Money | None, *,
                          reason: str) -> AdminRefund:
    """The admin's refund of all that is held (no amount) or of ``amount``: from what the
    session holds first, then taken back from what was released, split like the release.
    Shares already paid out are reversed from the payee's account before the refund is
    sent; what cannot be reversed is owed from future earnings."""
    await uow.session.get(Booking, booking.id, with_for_update=True)
    payment = await paid_payment(uow, booking.id)
    held = await held_amount(uow, booking)
    if amount is not None and (amount.currency != booking.currency or amount.minor <= 0):
        raise InvalidInput("A refund needs a positive amount in the session's currency.")
    if payment is not None and held.minor and (amount is None or amount <= held):
        refunded = await refund_unreleased(uow, booking, payment, reason=reason, amount=amount)
        teacher = await uow.session.get(User, booking.teacher_id)
        student = await uow.session.get(User, booking.student_id)
        assert teacher is not None and student is not None
        await notify(uow, teacher, "refund_by_admin",
                     f"↩️ The admin refunded {refunded} of session #{booking.id} to "
                     f"{student.display_name} ({reason}). It comes out of the held money, "
                     "not your released earnings.")
        return AdminRefund(refunded, refunded, held - refunded)
    back = await released_left(uow, booking) if payment else Money.zero(booking.currency)
    if payment is None or not (held.minor or back.minor):
        raise InvalidInput(f"Session #{booking.id} has no paid money left to refund.")
    if amount is None:
        plain = str(back).replace(",", "")
        raise InvalidInput(f"Session #{booking.id}'s money was already released. To take up "
                           f"to {back} back from the payees and refund it, give the amount: "
                           f"/refund {booking.id} {plain} <reason>.")
    if payment.dispute_status == "open":
        raise InvalidInput(f"Session #{booking.id}'s payment is disputed: the card issuer "
                           "decides, so it can't be refunded now.")
    if amount > held + back:
        raise InvalidInput(
            f"Only {held} of session #{booking.id} is still held, so at most that can be "
            "refunded." if not back.minor else
            f"At most {held + back} of session #{booking.id} can be refunded ({held} held "
            f"and {back} released and not yet taken back).")
    need = amount - held
    out = await _send_out(uow, "refund", await _next_refund_key(uow, booking), booking,
                          booking.student_id, payment, amount,
                          ledger.held(booking.id) if held.minor else None, reason, take=held)
    parts = await _split(uow, need, booking)
    lines: list[ledger.Line] = []
    for payee, part in parts.items():
        lines += ledger.move(part, _share_account(payee), ledger.on_its_way(out.id))
    await ledger.post(uow, f"clawback:{out.id}", "clawback", lines, booking_id=booking.id,
                      memo=reason)
    for payee, part in parts.items():
        if payee != PLATFORM:
            await _take_back(uow, booking, out, payee, part, reason)
    student = await uow.session.get(User, booking.student_id)
    assert student is not None
    await notify(uow, student, "refund_started",
                 f"↩️ Refunding {amount} for session #{booking.id} to the card you paid with. "
                 "You'll get a receipt when it's done.")
    await tell_admins(uow, "refund", f"↩️ Refund of {amount} started for session "
                      f"#{booking.id} ({student.display_name}): {held} held and {need} taken "
                      f"back from released money. {reason}.")
    return AdminRefund(amount, held, Money.zero(booking.currency))


async def _take_back(uow: UnitOfWork, booking: Booking, refund: MoneyOut, payee: int,
                     part: Money, reason: str) -> None:
    """Plan reversals of the payee's sent payouts for the session, up to ``part``."""
    payouts = (await uow.session.scalars(select(MoneyOut).where(
        MoneyOut.booking_id == booking.id, MoneyOut.user_id == payee,
        MoneyOut.kind == "payout", MoneyOut.status == "sent").order_by(MoneyOut.id))).all()
    left = part
    for payout in payouts:
        taken = await uow.session.scalar(select(func.sum(TransferReversal.amount_minor)).where(
            TransferReversal.payout_id == payout.id, TransferReversal.status != "failed"))
        can = min(left, Money(payout.amount_minor - int(taken or 0), payout.currency))
        if can.minor <= 0:
            continue
        uow.session.add(TransferReversal(
            key=f"reversal:{payout.id}:{refund.id}", refund_id=refund.id, payout_id=payout.id,
            user_id=payee, amount_minor=can.minor, currency=can.currency,
            created_at=uow.clock.now()))
        left = left - can
    user = await uow.session.get(User, payee)
    assert user is not None
    how = ("taken back from your payout account" if left != part
           else "deducted from your next earnings")
    await notify(uow, user, "clawback",
                 f"↩️ {part} of what you earned for session #{booking.id} is {how}: the admin "
                 f"refunded the student ({reason}). /earnings shows it.")
