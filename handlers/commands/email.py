"""/email: add an address, prove it with the emailed code (or its link), set a web password,
change or remove it, sign out of the web. Replies never say whose an address is."""

from __future__ import annotations

import math
from collections.abc import Callable

from core.email_identity import (
    CodeSent,
    add_email,
    email_status,
    remove_email,
    resend_code,
    verify_code,
)
from core.email_token import issue_password_link
from core.errors import DomainError, InvalidInput
from core.web_session import list_sessions, revoke_all
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Goto, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply

RESEND, CHANGE, REMOVE_YES = "resend", "change", "yes"
DEAD = ("That code has expired, was already used or had too many wrong tries. "
        "Tap ↻ Send a new code.")


def _button(label: str, args: str) -> Button:
    return Button(label, action=payload.command("email", args))


async def card(ctx: Ctx, note: str | None = None, tone: str = "info") -> Reply:
    """The person's address, whether it is verified, and what they can do with it."""
    status = await email_status(ctx.uow, ctx.user.id)
    lines = [note + "\n"] if note else []
    rows: list[tuple[Button, ...]] = []
    if status.address is not None:
        sessions = len(await list_sessions(ctx.uow, ctx.user.id))
        lines += [f"📧 {status.address} — ✅ verified",
                  "🔑 Web password: set" if status.has_password else
                  "🔑 No web password yet: set one to sign in on the web pages.",
                  f"🌐 Signed in on the web: {sessions} browser{'s' if sessions != 1 else ''}"]
        link = await issue_password_link(ctx.uow, ctx.user.id)
        if link is not None:
            rows.append((Button("🔑 Set a web password", url=link),))
        rows.append((_button("✏️ Change", "change"), _button("🗑 Remove", "remove")))
        if status.has_password or sessions:
            rows.append((_button("🚪 Sign out of the web everywhere", "signout"),))
    else:
        lines.append("📧 No email address yet. Add one to get receipts, reminders and "
                     "certificates by email, and to sign in on the web pages.")
        rows.append((_button("✏️ Add an email address", "change"),))
    if status.pending is not None:
        lines.append(f"⏳ Waiting for the code sent to {status.pending}.")
        rows.append((_button("🔢 Type the code", "code"),))
    return Reply("\n".join(lines), tuple(rows), replace=ctx.clicked, private=True,
                 tone="success" if note and tone == "info" else tone)


async def _send(ctx: Ctx, text: str) -> Outcome:
    try:
        sent = await add_email(ctx.uow, ctx.user, text)
    except DomainError as exc:
        return Reject(exc.user_message)
    ctx.data["fresh"] = sent.address
    return Goto("code")


def _sent_text(sent: CodeSent) -> str:
    return (f"📨 We sent a 6-digit code to {sent.address} (valid {sent.minutes} minutes). "
            "Type it here, or tap the link in the email.")


async def ask_address(ctx: Ctx) -> Prompt:
    return Prompt("📧 Type your email address (like name@example.org). We'll send it a "
                  "6-digit code to check it's yours.")


async def on_address(ctx: Ctx, inp: Input) -> Outcome:
    if not inp.text:
        return Reject("Type your email address, like name@example.org.")
    return await _send(ctx, inp.text)


async def ask_code(ctx: Ctx) -> Prompt:
    choices = ((Choice("↻ Send a new code", RESEND), Choice("✏️ Change", CHANGE)),)
    status = await email_status(ctx.uow, ctx.user.id)
    if status.pending is None or status.pending_until is None:
        return Prompt("No address is waiting for a code. Tap ✏️ Change to add one.",
                      ((Choice("✏️ Change", CHANGE),),))
    left = math.ceil((status.pending_until - ctx.uow.clock.now()).total_seconds() / 60)
    if left <= 0:
        return Prompt(f"The code sent to {status.pending} has expired. Tap ↻ Send a new code.",
                      choices)
    if ctx.data.pop("fresh", None) == status.pending:
        return Prompt(_sent_text(CodeSent(status.pending, left)), choices)
    return Prompt(f"⏳ Waiting for the code sent to {status.pending} (valid {left} more "
                  f"minute{'s' if left != 1 else ''}). Type it here, or tap the link in the "
                  "email.", choices)


async def on_code(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == CHANGE:
        return Goto("address")
    if inp.value == RESEND:
        try:
            sent = await resend_code(ctx.uow, ctx.user)
        except DomainError as exc:
            return Reject(exc.user_message)
        return Stay(note=f"{_sent_text(sent)} The earlier code no longer works.")
    text = (inp.text or "").strip()
    if "@" in text:  # a different address typed instead of the code
        return await _send(ctx, text)
    try:
        check = await verify_code(ctx.uow, ctx.user, text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    if check.status == "verified":
        return Finish((await card(ctx, f"✅ {check.address} is verified. Receipts, reminders "
                                       "and certificates can reach you by email now (choose "
                                       "in /notifications)."),))
    if check.status == "wrong" and check.tries_left > 0:
        tries = f"{check.tries_left} tr{'ies' if check.tries_left != 1 else 'y'}"
        return Reject(f"That code isn't right — {tries} left. Check the newest email.")
    if check.status == "wrong":
        return Reject("That was the last try for this code. Tap ↻ Send a new code.")
    return Reject(DEAD)


async def ask_remove(ctx: Ctx) -> Prompt:
    status = await email_status(ctx.uow, ctx.user.id)
    what = status.address or status.pending or "your address"
    return Prompt(f"🗑 Remove {what}? You'll get no more email from us, your web password "
                  "goes and every web sign-in ends.", ((Choice("🗑 Remove it", REMOVE_YES),),))


async def on_remove(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value != REMOVE_YES:
        return Reject("Tap 🗑 Remove it, or ✖ Cancel to keep it.")
    removed = await remove_email(ctx.uow, ctx.user)
    return Finish((await card(ctx, "🗑 Removed. You can add an address again any time."
                              if removed else "There was no address to remove."),))


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    arg = " ".join(args.split())
    word = arg.lower()
    status = await email_status(ctx.uow, ctx.user.id)
    if word in ("", "code"):
        if status.pending is None:
            return Finish((await card(ctx),))
        ctx.data["go"] = "code"
    elif word in ("change", "add"):
        ctx.data["go"] = "address"
    elif word == "remove":
        if status.address is None and status.pending is None:
            return Finish((await card(ctx, "There is no address to remove.", "warning"),))
        ctx.data["go"] = "remove"
    elif word == "signout":
        ended = await revoke_all(ctx.uow, ctx.user.id)
        return Finish((await card(ctx, f"🚪 Signed out of the web everywhere ({ended} "
                                       f"browser{'s' if ended != 1 else ''})." if ended else
                                  "🚪 You weren't signed in on the web anywhere."),))
    elif "@" in arg:
        try:
            sent = await add_email(ctx.uow, ctx.user, arg)
        except DomainError as exc:
            return Finish((Reply(exc.user_message, tone="warning", private=True),))
        ctx.data.update(go="code", fresh=sent.address)
    else:
        return Finish((await card(ctx, "Send /email name@example.org to add an address, or "
                                       "tap a button below.", "warning"),))
    return None


def _not(step: str) -> Callable[[Ctx], bool]:
    return lambda ctx: ctx.data.get("go") != step


FLOW = Flow(
    "email",
    (Step("address", ask_address, on_address, skip=_not("address"), free_text=True),
     Step("code", ask_code, on_code, skip=_not("code"), free_text=True),
     Step("remove", ask_remove, on_remove, skip=_not("remove"))),
    start=on_start,
    title="setting up your email",
)
COMMAND = Command("email", "Add and verify your email; set a web password", flow=FLOW,
                  args_hint="[address]")
