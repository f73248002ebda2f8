"""/payouts (teachers, creators): connect the account payouts go to, and see what waits."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import MoneyOut, PayoutAccount
from core.money import Money
from handlers.context import Ctx
from handlers.links import payouts_url
from handlers.registry import Command
from handlers.reply import Button, Reply


async def show_payouts(ctx: Ctx, args: str) -> list[Reply]:
    s = ctx.uow.session
    account = await s.get(PayoutAccount, ctx.user.id)
    rows = (await s.execute(
        select(MoneyOut.currency, func.count(), func.sum(MoneyOut.amount_minor))
        .where(MoneyOut.user_id == ctx.user.id, MoneyOut.kind == "payout",
               MoneyOut.status == "pending").group_by(MoneyOut.currency))).all()
    waiting = ", ".join(f"{n} payout{'s' if n != 1 else ''} of {Money(int(total), cur)}"
                        for cur, n, total in rows)
    link = payouts_url(ctx.settings, ctx.user.id, ctx.uow.clock.now())
    if account is not None and account.ready:
        text = "🏦 ✅ Your payout account is connected; payouts go there automatically."
        if waiting:
            text += f"\nOn their way: {waiting}."
        return [Reply(text + "\nSee /earnings for the details.", private=True)]
    lines = (["🏦 Your payout account is set up but still needs some details."]
             if account is not None else
             ["🏦 Connect a payout account to receive what you earn. It takes a few minutes "
              "on the payment provider's secure page."])
    if waiting:
        lines.append(f"Waiting for it: {waiting}.")
    label = "🏦 Continue setting up" if account is not None else "🏦 Connect payout account"
    return [Reply("\n".join(lines), buttons=((Button(label, url=link),),), private=True)]


COMMAND = Command("payouts", "Connect where your payouts go", handler=show_payouts,
                  roles=frozenset({"teacher", "creator"}))
