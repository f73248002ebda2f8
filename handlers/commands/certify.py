"""/certify: a creator's queue of certificate recommendations for their courses, with
Approve and Decline per request; declining asks for a reason the student will read."""

from __future__ import annotations

from core.certificates import TITLES, Decision, RequestView, creator_queue, decide, get_request_for
from core.errors import DomainError, InvalidInput
from core.learning import standing
from core.timezone import format_local
from handlers import payload
from handlers.commands.recommend import bar
from handlers.context import Ctx
from handlers.flow import Finish, Flow, Input, Outcome, Prompt, Reject, Step
from handlers.links import verify_url
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

PAGE = 4  # two buttons per request, one row each; the fifth row pages
USAGE = "Use the Approve and Decline buttons under /certify."


def _what(view: RequestView) -> str:
    return f"{view.student.display_name}'s {TITLES[view.request.kind]} certificate of " \
           f"{view.course.title}"


async def queue_reply(ctx: Ctx, page: int = 1) -> Reply:
    views = await creator_queue(ctx.uow, ctx.user)
    if not views:
        return Reply("No certificate requests are waiting for you. When a teacher "
                     "recommends a student of one of your courses, it shows up here.",
                     replace=ctx.clicked)
    pages = (len(views) + PAGE - 1) // PAGE
    page = max(1, min(page, pages))
    lines = [f"🎓 Certificate requests waiting for you ({len(views)}"
             f"{f', page {page} of {pages}' if pages > 1 else ''}):"]
    rows: list[tuple[Button, ...]] = []
    for view in views[(page - 1) * PAGE: page * PAGE]:
        r = view.request
        s = await standing(ctx.uow, view.course, view.student.id)
        said = f"\n   “{clip(r.note, 200)}”" if r.note else ""
        lines.append(
            f"\n#{r.id} {view.student.display_name} · {TITLES[r.kind]} · {view.course.title}"
            f"\n   recommended by {view.teacher.display_name}, "
            f"{format_local(r.created_at, ctx.user.timezone)}{said}"
            f"\n   {s.sessions_done} session(s) · modules {bar(s.module_pct)}")
        name = clip(view.student.display_name, 40)
        rows.append((Button(f"✅ Approve #{r.id} {name}",
                            action=payload.command("certify", f"approve {r.id}")),
                     Button(f"✖ Decline #{r.id}",
                            action=payload.command("certify", f"decline {r.id}"))))
    nav = []
    if page > 1:
        nav.append(Button("‹ Previous", action=payload.command("certify", str(page - 1))))
    if page < pages:
        nav.append(Button("More ›", action=payload.command("certify", str(page + 1))))
    if nav:
        rows.append(tuple(nav))
    return Reply(clip("\n".join(lines)), tuple(rows), replace=ctx.clicked)


async def decision_reply(ctx: Ctx, decision: Decision) -> Reply:
    view = await get_request_for(ctx.uow, ctx.user, decision.request.id)
    r, cert = decision.request, decision.certificate
    link = (Button("🔎 View certificate", url=verify_url(ctx.settings, cert.code)),) \
        if cert is not None else ()
    if decision.already:
        said = f" ({r.reason})" if r.status == "declined" and r.reason else ""
        note = f"This request was already {r.status}{said}: {_what(view)}. Nothing changed."
    elif cert is not None:
        note = (f"✅ Approved {_what(view)} (id {cert.code}). "
                f"{view.student.display_name} and {view.teacher.display_name} have been told.")
    else:
        note = (f"Declined {_what(view)}. {view.student.display_name} and "
                f"{view.teacher.display_name} have been told why.")
    waiting = len(await creator_queue(ctx.uow, ctx.user))
    rows: list[tuple[Button, ...]] = [link] if link else []
    if waiting:
        note += f"\n\n{waiting} more request(s) waiting for you."
        rows.append((Button("📋 Show them", action=payload.command("certify")),))
    return Reply(note, tuple(rows), replace=ctx.clicked,
                 tone="warning" if decision.already else "success")


async def _decide(ctx: Ctx, request_id: int, approve: bool, reason: str | None) -> Finish:
    decision = await decide(ctx.uow, ctx.user, request_id, approve, reason,
                            verify_link=lambda code: verify_url(ctx.settings, code))
    return Finish((await decision_reply(ctx, decision),))


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    words = args.split()
    page = parse_id(words[0]) if len(words) == 1 else None
    if not words or page is not None:
        return Finish((await queue_reply(ctx, page or 1),))
    verb = words[0].lower()
    request_id = parse_id(words[1]) if len(words) > 1 else None
    if verb not in ("approve", "decline") or request_id is None:
        raise InvalidInput(USAGE)
    if verb == "approve":
        return await _decide(ctx, request_id, True, None)
    reason = " ".join(words[2:])
    if reason:
        return await _decide(ctx, request_id, False, reason)
    view = await get_request_for(ctx.uow, ctx.user, request_id)
    if view.request.status != "pending":
        return await _decide(ctx, request_id, False, None)  # says it was already decided
    ctx.data["request_id"] = request_id
    return None


async def ask_reason(ctx: Ctx) -> Prompt:
    view = await get_request_for(ctx.uow, ctx.user, int(ctx.data["request_id"]))
    return Prompt(f"Why are you declining {_what(view)}? Type a short reason: "
                  f"{view.student.display_name} and {view.teacher.display_name} will read it "
                  "(for example: “Module 2 needs another session”).")


async def on_reason(ctx: Ctx, inp: Input) -> Outcome:
    try:
        return await _decide(ctx, int(ctx.data["request_id"]), False, inp.text)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    except DomainError as exc:
        return Finish((Reply(exc.user_message, tone="warning"),))


FLOW = Flow("certify", (Step("reason", ask_reason, on_reason, free_text=True),),
            start=on_start, title="reviewing certificate requests")
# Open to everyone: a creator whose role was withdrawn still manages the courses they made.
COMMAND = Command("certify", "Approve or decline certificates for your courses", flow=FLOW,
                  args_hint="[approve|decline <request>]")
