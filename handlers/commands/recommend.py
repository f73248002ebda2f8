"""/recommend [<student> <course> [mastery]]: a teacher asks the course's creator to
certify a student they taught: pick the student, the certificate, add a note."""

from __future__ import annotations

from core.certificates import (
    RECOMMENDABLE,
    TITLES,
    Candidate,
    candidate_for,
    check_candidate,
    list_candidates,
    recommend,
)
from core.errors import DomainError, InvalidInput, NotFound
from core.learning import Standing
from core.models import CertificationRequest, User
from core.outbox import OutButton
from handlers import payload
from handlers.context import Ctx
from handlers.display import percent_bar
from handlers.flow import Choice, Finish, Flow, Input, Next, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Reply, clip, rows_of
from handlers.turn import parse_id

USAGE = ("Use /recommend on its own to pick from your students, or /recommend <student "
         "number or name> <course number>.")
SKIP = "skip"
MAX_LISTED = 8  # four rows of two: the fifth row is Cancel
KIND_CHOICES = (Choice("🎓 Completion", "completion"), Choice("🏅 Mastery", "mastery"))


def bar(pct: int) -> str:
    return percent_bar(pct, 5)


def standing_line(s: Standing) -> str:
    ready = ("ready for Completion ✓" if s.complete
             else "still to do: " + ", ".join(s.missing_for_completion()))
    return f"modules {bar(s.module_pct)} · {s.sessions_done} session(s) · {ready}"


def review_buttons(request: CertificationRequest) -> tuple[tuple[OutButton, ...], ...]:
    """The creator's buttons on the notification: decide right there, or see the queue."""
    return ((OutButton("✅ Approve", action=payload.command("certify", f"approve {request.id}")),
             OutButton("✖ Decline", action=payload.command("certify", f"decline {request.id}"))),
            (OutButton("📋 All requests", action=payload.command("certify")),))


async def _student_by_name(ctx: Ctx, name: str, course_id: int) -> int:
    wanted = name.casefold()
    found = [c.student for c in await list_candidates(ctx.uow, ctx.user)
             if c.course.id == course_id and c.student.display_name.casefold() == wanted]
    if not found:
        raise NotFound("student", template="I couldn't find a student of yours called "
                       "“{name}” in that course. Send /recommend to pick from a list.",
                       name=clip(name, 40))
    if len(found) > 1:
        raise InvalidInput("Several of your students have that name: use their number "
                           f"({', '.join(f'#{u.id}' for u in found)}).")
    return found[0].id


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    words = args.split()
    if not words:
        if not await list_candidates(ctx.uow, ctx.user):
            return Finish((Reply("You can recommend a student for a certificate once you "
                                 "have taught them a completed session.", replace=ctx.clicked),))
        return None
    if words[-1].lower() in RECOMMENDABLE:
        ctx.data["kind"] = words.pop().lower()
    course_id = parse_id(words[-1]) if len(words) >= 2 else None
    if course_id is None:
        raise InvalidInput(USAGE)
    who = " ".join(words[:-1])
    student_id = parse_id(who) or await _student_by_name(ctx, who[:64], course_id)
    found = await candidate_for(ctx.uow, ctx.user, student_id, course_id)
    ctx.data.update(course_id=found.course.id, student_id=found.student.id)
    if "kind" in ctx.data:
        await check_candidate(ctx.uow, ctx.user, student_id, course_id, ctx.data["kind"])
    return None


def _label(c: Candidate) -> str:
    return clip(f"{'✓ ' if c.standing.complete else ''}{c.student.display_name} · "
                f"{c.course.title}", 60)


async def ask_student(ctx: Ctx) -> Prompt:
    found = await list_candidates(ctx.uow, ctx.user)
    shown = found[:MAX_LISTED]
    lines = ["Whom do you recommend for a certificate? Your students:"]
    lines += [f"• {c.student.display_name} (#{c.student.id}) · {c.course.title}: "
              f"{standing_line(c.standing)}" for c in shown]
    if len(found) > len(shown):
        lines.append(f"…and {len(found) - len(shown)} more: {USAGE}")
    choices = [Choice(_label(c), f"{c.course.id}:{c.student.id}") for c in shown]
    return Prompt(clip("\n".join(lines), 1900), rows_of(choices, 2))


async def on_student(ctx: Ctx, inp: Input) -> Outcome:
    course, _, student = (inp.value or "").partition(":")
    course_id, student_id = parse_id(course), parse_id(student)
    if course_id is None or student_id is None:
        return Reject("Tap one of your students.")
    try:
        await candidate_for(ctx.uow, ctx.user, student_id, course_id)
    except DomainError as exc:
        return Reject(exc.user_message)
    ctx.data.update(course_id=course_id, student_id=student_id)
    return Next()


async def _candidate(ctx: Ctx) -> Candidate:
    return await candidate_for(ctx.uow, ctx.user, int(ctx.data["student_id"]),
                               int(ctx.data["course_id"]))


async def ask_kind(ctx: Ctx) -> Prompt:
    c = await _candidate(ctx)
    return Prompt(f"{c.student.display_name} in {c.course.title}:\n{standing_line(c.standing)}"
                  "\n\nWhich certificate? Completion first; Mastery is the deeper one, after "
                  "Completion.", (KIND_CHOICES,))


async def on_kind(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value not in RECOMMENDABLE:
        return Reject("Tap Completion or Mastery.")
    try:
        await check_candidate(ctx.uow, ctx.user, int(ctx.data["student_id"]),
                              int(ctx.data["course_id"]), inp.value)
    except DomainError as exc:
        return Reject(exc.user_message)
    ctx.data["kind"] = inp.value
    return Next()


async def ask_note(ctx: Ctx) -> Prompt:
    c = await _candidate(ctx)
    creator = await ctx.uow.session.get(User, c.course.creator_id)
    whom = creator.display_name if creator else "the course creator"
    return Prompt(f"Add a note for {whom} about {c.student.display_name}'s work? Type a line, "
                  "or skip.", ((Choice("Skip", SKIP),),))


async def on_note(ctx: Ctx, inp: Input) -> Outcome:
    kind = str(ctx.data["kind"])
    try:
        request = await recommend(
            ctx.uow, ctx.user, int(ctx.data["student_id"]), int(ctx.data["course_id"]), kind,
            "" if inp.value == SKIP else (inp.text or ""), review=review_buttons)
    except DomainError as exc:
        return Finish((Reply(exc.user_message, tone="warning", replace=ctx.clicked),))
    c = await _candidate(ctx)
    return Finish((Reply(
        f"✅ Recommended {c.student.display_name} for the {TITLES[kind]} certificate of "
        f"{c.course.title} (request #{request.id}). The course's creator approves or "
        f"declines it; {c.student.display_name} hears either way.", tone="success",
        replace=ctx.clicked),))


FLOW = Flow(
    "recommend",
    (
        Step("student", ask_student, on_student, skip=lambda ctx: "student_id" in ctx.data),
        Step("kind", ask_kind, on_kind, skip=lambda ctx: "kind" in ctx.data),
        Step("note", ask_note, on_note, free_text=True),
    ),
    start=on_start,
    title="recommending a student",
)
COMMAND = Command("recommend", "Recommend a student you taught for a certificate", flow=FLOW,
                  roles=frozenset({"teacher"}), args_hint="[student] [course]")
