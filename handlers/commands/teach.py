"""Student → teacher: /teach (apply to teach a course you are certified in), /applications
(the creator endorses, the admin vets), /teachers (a course's teachers with their sessions
and ratings; suspend or reinstate), /students (the creator's progress dashboard)."""

from __future__ import annotations

from sqlalchemy import select

from core.course_builder import owned_course
from core.errors import DomainError, InvalidInput
from core.learning import course_students, standings
from core.models import User
from core.teaching import (
    apply_to_teach,
    course_teachers,
    decide_application,
    open_applications,
    set_suspended,
)
from core.text import clean_reason
from handlers import payload
from handlers.charts import progress_chart
from handlers.context import Ctx
from handlers.flow import Finish, Flow, Input, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id


async def teach(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split(maxsplit=1)
    course_id = parse_id(words[0]) if words else None
    if course_id is None:
        raise InvalidInput("Which course? Type /teach <course number> [why you'd like to "
                           "teach it] — you need its Completion certificate.")
    application = await apply_to_teach(ctx.uow, ctx.user, course_id,
                                       words[1] if len(words) > 1 else "")
    return [Reply(f"🧑‍🏫 Application #{application.id} is {application.status}: the course's "
                  "creator reviews it, then the admin. You'll hear back here.",
                  tone="success")]


TEACH = Command("teach", "Apply to teach a course you are certified in", handler=teach,
                args_hint="<course> [note]")


async def applications(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    note = None
    if len(words) == 2 and words[0] == "approve":
        application_id = parse_id(words[1])
        if application_id is None:
            raise InvalidInput("Use the buttons under each application.")
        view = await decide_application(ctx.uow, ctx.user, application_id, approve=True)
        note = (f"✓ {view.applicant.display_name} {view.application.status} for "
                f"{view.course.title}.")
    elif words:
        raise InvalidInput("Use the buttons under each application.")
    waiting = await open_applications(ctx.uow, ctx.user)
    if not waiting:
        return [Reply((note + "\n\n" if note else "") + "No applications are waiting for you.",
                      replace=ctx.clicked)]
    lines = [note + "\n" if note else "", "🧑‍🏫 Applications to teach:"]
    rows: list[tuple[Button, ...]] = []
    for v in waiting[:5]:
        step = "endorse" if v.application.status == "pending" else "approve"
        why = f": {clip(v.application.motivation, 100)}" if v.application.motivation else ""
        lines.append(f"#{v.application.id} {v.applicant.display_name} → {v.course.title} "
                     f"({v.application.status}){why}")
        rows.append((Button(clip(f"✓ {step.capitalize()} {v.applicant.display_name}", 40),
                            action=payload.command("applications",
                                                   f"approve {v.application.id}")),
                     Button("✗ Decline", action=payload.command(
                         "declineapp", str(v.application.id)))))
    return [Reply("\n".join(x for x in lines if x), tuple(rows), replace=ctx.clicked)]


APPLICATIONS = Command("applications", "Applications to teach waiting for you",
                       handler=applications, roles=frozenset({"creator", "admin"}))


async def decline_start(ctx: Ctx, args: str) -> Finish | None:
    application_id = parse_id(args)
    if application_id is None:
        raise InvalidInput("Use the Decline button under the application.")
    ctx.data["application_id"] = application_id
    return None


async def ask_reason(ctx: Ctx) -> Prompt:
    return Prompt("Why are you declining? (sent to the applicant)")


async def on_reason(ctx: Ctx, inp: Input) -> Outcome:
    try:
        reason = clean_reason(inp.text)
    except DomainError as exc:
        return Reject(exc.user_message)  # ask again
    try:
        view = await decide_application(ctx.uow, ctx.user, int(ctx.data["application_id"]),
                                        approve=False, reason=reason)
    except DomainError as exc:  # decided meanwhile, or not theirs: nothing to ask again
        return Finish((Reply(exc.user_message, tone="warning"),))
    return Finish((Reply(f"✓ Declined; {view.applicant.display_name} has been told why."),))


DECLINE_FLOW = Flow("declineapp", (Step("reason", ask_reason, on_reason, free_text=True),),
                    start=decline_start, title="declining the application")
DECLINE = Command("declineapp", "Decline an application to teach", flow=DECLINE_FLOW,
                  roles=frozenset({"creator", "admin"}), args_hint="<application>",
                  hidden=True)


async def teachers(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    course_id = parse_id(words[0]) if words else None
    if course_id is None:
        raise InvalidInput("Which course? /teachers <course>")
    course = await owned_course(ctx.uow, ctx.user, course_id)
    note = None
    if len(words) == 3 and words[1] == "reinstate":
        teacher_id = parse_id(words[2])
        if teacher_id is None:
            raise InvalidInput("Use the buttons.")
        await set_suspended(ctx.uow, ctx.user, course.id, teacher_id, suspended=False)
        note = "✓ Reinstated."
    records = await course_teachers(ctx.uow, course.id)
    table = [f"{'teacher':<14}{'status':<11}{'sess':>5}{'stud':>5}{'rating':>8}"]
    rows: list[tuple[Button, ...]] = []
    for r in records:
        stars = f"{r.reputation.average:.1f}★{r.reputation.count}" if r.reputation.count else "—"
        table.append(f"{r.teacher.display_name[:13]:<14}{r.status:<11}{r.sessions:>5}"
                     f"{r.students:>5}{stars:>8}")
        verb, label = (("suspendteacher", "⏸ Suspend") if r.status == "active"
                       else ("teachers", "▶ Reinstate"))
        args_for = (f"{course.id} {r.teacher.id}" if verb == "suspendteacher"
                    else f"{course.id} reinstate {r.teacher.id}")
        if len(rows) < 5 and r.teacher.id != course.creator_id:
            rows.append((Button(clip(f"{label} {r.teacher.display_name}", 40),
                                action=payload.command(verb, args_for)),))
    text = (f"{note}\n\n" if note else "") + f"🧑‍🏫 Teachers of {course.title}:"
    return [Reply(text, tuple(rows), pre="\n".join(table), replace=ctx.clicked)]


TEACHERS = Command("teachers", "Monitor a course's teachers (creators, admin)",
                   handler=teachers, args_hint="<course>")


async def suspend_start(ctx: Ctx, args: str) -> Finish | None:
    words = args.split()
    ids = [parse_id(w) for w in words]
    if len(ids) != 2 or None in ids:
        raise InvalidInput("Use the Suspend button in /teachers.")
    course = await owned_course(ctx.uow, ctx.user, ids[0] or 0)
    teacher = await ctx.uow.session.get(User, ids[1])
    ctx.data.update(course_id=course.id, teacher_id=ids[1],
                    name=teacher.display_name if teacher else "them")
    return None


async def ask_suspend_reason(ctx: Ctx) -> Prompt:
    return Prompt(f"Why suspend {ctx.data['name']}? (sent to them)")


async def on_suspend_reason(ctx: Ctx, inp: Input) -> Outcome:
    try:
        reason = clean_reason(inp.text)
    except DomainError as exc:
        return Reject(exc.user_message)
    try:
        await set_suspended(ctx.uow, ctx.user, int(ctx.data["course_id"]),
                            int(ctx.data["teacher_id"]), suspended=True, reason=reason)
    except DomainError as exc:
        return Finish((Reply(exc.user_message, tone="warning"),))
    return Finish((Reply(f"⏸ {ctx.data['name']} is suspended from this course and has been "
                         "told why. Reinstate them from /teachers.", tone="success"),))


SUSPEND_FLOW = Flow("suspendteacher", (Step("reason", ask_suspend_reason, on_suspend_reason,
                                            free_text=True),),
                    start=suspend_start, title="suspending a teacher")
SUSPEND = Command("suspendteacher", "Suspend a teacher of your course", flow=SUSPEND_FLOW,
                  args_hint="<course> <teacher>", hidden=True)


async def students(ctx: Ctx, args: str) -> list[Reply]:
    course_id = parse_id(args)
    if course_id is None:
        raise InvalidInput("Which course? /students <course>")
    course = await owned_course(ctx.uow, ctx.user, course_id)
    ids = await course_students(ctx.uow, course.id)
    if not ids:
        return [Reply(f"No students in {course.title} yet.", replace=ctx.clicked)]
    ranks = await standings(ctx.uow, course, ids)
    names = {u.id: u.display_name for u in (await ctx.uow.session.scalars(
        select(User).where(User.id.in_(ids)))).all()}
    table = [f"{'student':<14}{'sess':>5}{'modules':>9}{'quiz':>6}  status"]
    bars: list[tuple[str, int]] = []
    for student_id in ids[:40]:
        s = ranks[student_id]
        state = "mastery" if s.mastered else "complete" if s.complete else "learning"
        table.append(f"{names.get(student_id, '?')[:13]:<14}{s.sessions_done:>5}"
                     f"{len(s.modules_done):>4}/{len(s.modules):<4}"
                     f"{len(s.quizzes_passed):>3}/{len(s.quizzes):<2}  {state}")
        bars.append((names.get(student_id, "?"), s.module_pct))
    return [Reply(f"📊 {course.title}: {len(ids)} student(s)", pre="\n".join(table[:25]),
                  replace=ctx.clicked),
            Reply(f"Module progress per student — {course.title}",
                  image=progress_chart(course.title, bars))]


STUDENTS = Command("students", "Your course's students and their progress (creators)",
                   handler=students, args_hint="<course>")

COMMANDS = (TEACH, APPLICATIONS, DECLINE, TEACHERS, SUSPEND, STUDENTS)
