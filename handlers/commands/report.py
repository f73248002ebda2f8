"""/report <message>: tell the admin about a message you received (with a reason or
without); reached from the ⚠️ Report button under a relayed message."""

from __future__ import annotations

from core.errors import DomainError, InvalidInput
from core.moderation import get_received, report
from core.text import clean_reason
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Input, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

SKIP = "skip"


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    message_id = parse_id(args)
    if message_id is None:
        raise InvalidInput("Tap ⚠️ Report under the message you want to report.")
    message, sender = await get_received(ctx.uow, ctx.user, message_id)
    ctx.data.update(message_id=message.id, sender_id=sender.id, name=sender.display_name,
                    quote=clip(" ".join(message.body.split()), 200))
    return None


async def ask_reason(ctx: Ctx) -> Prompt:
    return Prompt(f"⚠️ Report this message from {ctx.data['name']} to the Alpha Peer admin?\n"
                  f"“{ctx.data['quote']}”\n\nType what is wrong in a few words, or send it "
                  "without a reason.", ((Choice("Report without a reason", SKIP),),))


async def on_reason(ctx: Ctx, inp: Input) -> Outcome:
    reason = ""
    if inp.value != SKIP:
        try:
            reason = clean_reason(inp.text)
        except DomainError as exc:
            return Reject(exc.user_message)
    try:
        await report(ctx.uow, ctx.user, int(ctx.data["message_id"]), reason)
    except DomainError as exc:
        return Finish((Reply(exc.user_message, tone="warning", replace=ctx.clicked),))
    sender_id = int(ctx.data["sender_id"])
    return Finish((Reply(
        f"⚠️ Reported to the Alpha Peer admin, who will look into it. {ctx.data['name']} "
        "isn't told who reported them.",
        ((Button(clip(f"🚫 Block {ctx.data['name']} too", 40),
                 action=payload.command("block", str(sender_id))),),),
        tone="success", replace=ctx.clicked),))


FLOW = Flow("report", (Step("reason", ask_reason, on_reason, free_text=True),),
            start=on_start, title="reporting a message")
COMMAND = Command("report", "Report a message you received to the admin", flow=FLOW,
                  args_hint="<message>", hidden=True)
COMMANDS = (COMMAND,)
