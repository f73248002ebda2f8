"""Learning in chat: /learn (your courses with progress bars; a course's modules, quizzes
and what is left for the certificate), /module (its page: video, materials), /quiz (taken
question by question, graded at once)."""

from __future__ import annotations

from core.course_builder import materials_of
from core.errors import DomainError, InvalidInput, NotFound
from core.learning import (
    enrolment_of,
    list_enrolments,
    mark_module_done,
    standing,
)
from core.models import Course, CourseModule
from core.quizzes import open_quiz, submit
from handlers import payload
from handlers.context import Ctx
from handlers.display import percent_bar
from handlers.flow import Choice, Finish, Flow, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, SharedFile, clip
from handlers.turn import parse_id


async def _course_page(ctx: Ctx, course: Course, note: str | None = None) -> Reply:
    me = await standing(ctx.uow, course, ctx.user.id)
    lines = [f"{note}\n" if note else "", f"📘 {course.title}",
             f"Modules {percent_bar(me.module_pct)} · sessions done: {me.sessions_done}"]
    rows: list[tuple[Button, ...]] = []
    for m in me.modules:
        done = m.id in me.modules_done
        lines.append(f"{'✅' if done else '⬜'} {m.position}. {m.title}")
    todo = [m for m in me.modules if m.id not in me.modules_done]
    cid = str(course.id)
    pages = [Button(clip(f"📖 {m.position}. {m.title}", 40),
                    action=payload.command("module", str(m.id))) for m in me.modules[:5]]
    if pages:
        rows.append(tuple(pages[:3]))
    if todo:
        rows.append(tuple(Button(clip(f"✓ {m.position}. {m.title} done", 40),
                                 action=payload.command("learn", f"{cid} done {m.id}"))
                          for m in todo[:3]))
    for quiz in me.quizzes:
        best = me.best_pct.get(quiz.id)
        mark = "✅" if quiz.id in me.quizzes_passed else "📝"
        lines.append(f"{mark} Quiz “{quiz.title}”: " + (
            f"best {best}% (pass {quiz.pass_pct}%)" if best is not None else "not taken yet"))
    if me.quizzes:
        rows.append(tuple(Button(clip(f"📝 {q.title}", 40), action=payload.command(
            "quiz", str(q.id))) for q in me.quizzes[:3]))
    missing = me.missing_for_completion()
    lines.append("\n🎓 Ready for your Completion certificate: ask your teacher to recommend "
                 "you." if not missing else "\nFor the Completion certificate: " +
                 "; ".join(missing) + ".")
    rows.append((Button("🗓 Book a session", action=payload.command("book", cid)),))
    return Reply(clip("\n".join(x for x in lines if x)), tuple(rows[:5]), replace=ctx.clicked)


async def learn(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    course_id = parse_id(words[0]) if words else None
    if course_id is None:
        enrolments = await list_enrolments(ctx.uow, ctx.user.id)
        if not enrolments:
            return [Reply("You're not enrolled in a course yet. Browse /courses — paying your "
                          "first session enrols you.")]
        lines = ["📚 Your courses:"]
        for _enrolment, course in enrolments:
            me = await standing(ctx.uow, course, ctx.user.id)
            state = "🎓 complete" if me.complete else percent_bar(me.module_pct)
            lines.append(f"{course.title}: {state}")
        return [Reply("\n".join(lines), tuple(
            (Button(clip(f"📘 {c.title}", 80), action=payload.command("learn", str(c.id))),)
            for _e, c in enrolments[:5]), replace=ctx.clicked)]
    found = await ctx.uow.session.get(Course, course_id)
    if found is None or await enrolment_of(ctx.uow, course_id, ctx.user.id) is None:
        raise NotFound("course")
    note = None
    if len(words) == 3 and words[1] == "done":
        module_id = parse_id(words[2])
        if module_id is None:
            raise NotFound("module")
        progress = await mark_module_done(ctx.uow, ctx.user.id, module_id)
        module = await ctx.uow.session.get(CourseModule, progress.module_id)
        note = f"✅ “{module.title if module else 'Module'}” done."
    elif len(words) > 1:
        raise InvalidInput("Use the buttons under your course to mark modules done.")
    return [await _course_page(ctx, found, note)]


LEARN = Command("learn", "Your courses: progress, modules, quizzes", handler=learn,
                args_hint="[course]")


async def module_page(ctx: Ctx, args: str) -> list[Reply]:
    module_id = parse_id(args)
    module = await ctx.uow.session.get(CourseModule, module_id) if module_id else None
    course = await ctx.uow.session.get(Course, module.course_id) if module else None
    if module is None or course is None:
        raise NotFound("module")
    allowed = course.creator_id == ctx.user.id or await enrolment_of(
        ctx.uow, course.id, ctx.user.id) is not None
    if not allowed:
        raise NotFound("module")
    materials = [m for m in await materials_of(ctx.uow, course.id)
                 if m.module_id in (None, module.id)]
    lines = [f"📖 {course.title} · module {module.position}: {module.title}",
             clip(module.summary, 800) if module.summary else ""]
    links: list[Button] = []
    if module.video_url:
        links.append(Button("🎬 Video", url=module.video_url))
    replies: list[Reply] = []
    for m in materials[:10]:
        if m.kind == "link" and m.url and len(links) < 5:
            links.append(Button(clip(f"🔗 {m.title}", 40), url=m.url))
        elif m.kind == "note":
            lines.append(f"📝 {m.title}: {clip(m.body, 300)}")
        elif m.kind == "document" and m.file_ref:
            if m.platform == ctx.turn.platform:
                replies.append(Reply(f"📎 {m.title}", shared=SharedFile(m.file_ref, m.title)))
            else:
                lines.append(f"📎 {m.title} (uploaded on another app: ask your teacher)")
    back = Button("‹ Course", action=payload.command("learn", str(course.id)))
    rows = ((*links[:4], back),) if links else ((back,),)
    return [Reply(clip("\n".join(x for x in lines if x)), rows, replace=ctx.clicked), *replies]


MODULE = Command("module", "A module's page: summary, video and materials",
                 handler=module_page, args_hint="<module>", hidden=True)


# --- /quiz ----------------------------------------------------------------------------------

async def quiz_start(ctx: Ctx, args: str) -> Finish | None:
    quiz_id = parse_id(args)
    if quiz_id is None:
        raise InvalidInput("Which quiz? Open your course with /learn and tap a quiz.")
    paper = await open_quiz(ctx.uow, ctx.user, quiz_id)
    ctx.data.update(quiz_id=paper.quiz.id, answers=[])
    return None


async def ask_answer(ctx: Ctx) -> Prompt:
    paper = await open_quiz(ctx.uow, ctx.user, int(ctx.data["quiz_id"]))
    n = len(ctx.data["answers"])
    question = paper.questions[n]
    return Prompt(f"📝 {paper.quiz.title} · question {n + 1} of {len(paper.questions)}\n"
                  f"{question.prompt}",
                  tuple((Choice(clip(option, 60), str(i)),)
                        for i, option in enumerate(question.options)))


async def on_answer(ctx: Ctx, inp: Input) -> Outcome:
    paper = await open_quiz(ctx.uow, ctx.user, int(ctx.data["quiz_id"]))
    answers: list[int] = list(ctx.data["answers"])
    question = paper.questions[len(answers)]
    if inp.value is None or not inp.value.isdigit() or int(inp.value) >= len(question.options):
        return Reject("Tap one of the answers (or type its number).")
    answers.append(int(inp.value))
    ctx.data["answers"] = answers
    if len(answers) < len(paper.questions):
        return Stay()
    try:
        graded = await submit(ctx.uow, ctx.user, paper, answers)
    except DomainError as exc:
        return Reject(exc.user_message)
    verdict = (f"✅ Passed with {graded.score_pct}%" if graded.passed else
               f"❌ {graded.score_pct}% — the pass mark is {paper.quiz.pass_pct}%")
    lines = [f"{verdict} ({graded.right} of {len(paper.questions)} right).", percent_bar(
        graded.score_pct)]
    for q, _given in graded.wrong[:5]:
        lines.append(f"• {clip(q.prompt, 80)} → {q.options[q.answer]}")
    rows = ((Button("↻ Try again", action=payload.command("quiz", str(paper.quiz.id))),
             Button("‹ Course", action=payload.command("learn", str(paper.course.id)))),)
    return Finish((Reply(clip("\n".join(lines)), rows,
                         tone="success" if graded.passed else "info"),))


QUIZ_FLOW = Flow("quiz", (Step("answer", ask_answer, on_answer),), start=quiz_start,
                 title="the quiz")
QUIZ = Command("quiz", "Take a quiz of your course", flow=QUIZ_FLOW, args_hint="<quiz>",
               hidden=True)

COMMANDS = (LEARN, MODULE, QUIZ)
