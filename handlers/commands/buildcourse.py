"""Creators build courses in chat: /newcourse (a draft in five answers), /editcourse (the
course's card: details, publish, retire), /addmodule, /addquiz, /addmaterial, /criteria,
and the admin's /creators to grant or revoke creator permission."""

from __future__ import annotations

import re

from core.course_builder import (
    EDITABLE,
    LENGTHS,
    add_material,
    add_module,
    add_question,
    add_quiz,
    create_course,
    edit_course,
    grant_creator,
    list_owned_courses,
    materials_of,
    modules_of,
    owned_course,
    owned_quiz,
    parse_price,
    parse_question,
    publish,
    quizzes_of,
    retire,
    revoke_creator,
    set_criteria,
)
from core.errors import DomainError, InvalidInput
from core.models import Course
from core.models.catalogue import LEVELS
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Input, Next, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

SKIP = "skip"
DONE = "done"


def _yes(word: str) -> bool:
    if word in {"yes", "y", "on", "true", "1"}:
        return True
    if word in {"no", "n", "off", "false", "0"}:
        return False
    raise InvalidInput(f"“{word}” should be yes or no.")


async def card(ctx: Ctx, course: Course, note: str | None = None) -> Reply:
    """The creator's view of one course, with what can be done next."""
    modules = await modules_of(ctx.uow, course.id)
    quizzes = await quizzes_of(ctx.uow, course.id)
    materials = await materials_of(ctx.uow, course.id)
    status = {"draft": "📝 draft", "published": "🟢 published", "retired": "🛑 retired"}
    lines = [f"{note}\n" if note else "",
             f"📚 {course.title} (#{course.id}) · {status[course.status]}",
             f"{course.level} · {course.price} per {course.session_minutes}-min session",
             clip(course.description or "(no description yet)", 300)]
    lines.append("\nModules:" if modules else "\nNo modules yet.")
    lines += [f"{m.position}. {m.title}{' 🎬' if m.video_url else ''}" for m in modules]
    if quizzes:
        lines.append("Quizzes: " + ", ".join(f"{q.title} ({n} q, pass {q.pass_pct}%)"
                                             for q, n in quizzes))
    lines.append(f"Materials: {len(materials)}")
    lines.append(f"Completion: {course.complete_sessions} session(s)"
                 f"{', every module done' if course.complete_modules else ''}"
                 f"{', every quiz passed' if course.complete_quizzes else ''} · Mastery: "
                 f"{course.mastery_sessions} sessions, {course.mastery_quiz_pct}% in quizzes")
    cid = str(course.id)
    rows: list[tuple[Button, ...]] = []
    if course.status != "retired":
        rows.append((Button("➕ Module", action=payload.command("addmodule", cid)),
                     Button("📝 Quiz", action=payload.command("addquiz", cid)),
                     Button("📎 Material", action=payload.command("addmaterial", cid)),
                     Button("🎯 Criteria", action=payload.command("criteria", cid))))
    action = {"draft": ("🚀 Publish", "publish"), "published": ("🛑 Retire", "retire")}
    if course.status in action:
        label, verb = action[course.status]
        rows.append((Button(label, action=payload.command("editcourse", f"{cid} {verb}")),
                     Button("📊 Students", action=payload.command("students", cid)),
                     Button("🧑‍🏫 Teachers", action=payload.command("teachers", cid))))
    text = "\n".join(x for x in lines if x) + (
        f"\n\nChange a detail by typing /editcourse {cid} <{'|'.join(EDITABLE)}> <new value>")
    return Reply(clip(text), tuple(rows), replace=ctx.clicked)


async def show_editor(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split(maxsplit=2)
    course_id = parse_id(words[0]) if words else None
    if course_id is None:
        owned = await list_owned_courses(ctx.uow, ctx.user)
        if not owned:
            return [Reply("You have no courses yet. Start one with /newcourse.")]
        return [Reply("Your courses:", tuple(
            (Button(clip(f"{c.title} · {c.status}", 80),
                    action=payload.command("editcourse", str(c.id))),) for c in owned[:5]))]
    course = await owned_course(ctx.uow, ctx.user, course_id, lock=len(words) > 1)
    if len(words) == 1:
        return [await card(ctx, course)]
    verb = words[1].lower()
    if verb == "publish":
        missing = await publish(ctx.uow, course)
        note = (f"Not yet: it still needs {', '.join(missing)}." if missing
                else "🚀 Published! Students can find it in /courses and enrol.")
        return [await card(ctx, course, note)]
    if verb == "retire":
        changed = await retire(ctx.uow, course)
        return [await card(ctx, course, "🛑 Retired: no new enrolments; enrolled students "
                           "carry on." if changed else "It was already retired.")]
    if verb not in EDITABLE or len(words) < 3:
        raise InvalidInput(f"Type /editcourse {course.id} <{'|'.join(EDITABLE)}> <new value>, "
                           f"e.g. /editcourse {course.id} price 45")
    shown = edit_course(course, verb, words[2])
    return [await card(ctx, course, f"✓ {verb.capitalize()} is now: {shown}")]


EDITOR = Command("editcourse", "Your courses: details, publish, retire (creators)",
                 handler=show_editor, args_hint="[course] [field value]")


# --- /newcourse ---------------------------------------------------------------------------

async def new_start(ctx: Ctx, args: str) -> Finish | None:
    if "creator" not in ctx.user.role_names:
        raise InvalidInput("Creating courses needs creator permission — ask the admin for it.")
    return None


async def ask_title(ctx: Ctx) -> Prompt:
    return Prompt("📚 New course. What is it called? (3-80 characters)")


async def on_title(ctx: Ctx, inp: Input) -> Outcome:
    title = " ".join((inp.text or "").split())
    if not 3 <= len(title) <= 80:
        return Reject("A title needs 3 to 80 characters.")
    ctx.data["title"] = title
    return Next()


async def ask_description(ctx: Ctx) -> Prompt:
    return Prompt("Describe it in a few sentences: who it is for and what they will be able "
                  "to do.")


async def on_description(ctx: Ctx, inp: Input) -> Outcome:
    text = (inp.text or "").strip()
    if len(text) < 10:
        return Reject("A description needs at least 10 characters.")
    ctx.data["description"] = text[:1500]
    return Next()


async def ask_level(ctx: Ctx) -> Prompt:
    return Prompt("Which level?", (tuple(Choice(level.capitalize(), level) for level in LEVELS),))


async def on_level(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value not in LEVELS:
        return Reject("Pick a level with the buttons.")
    ctx.data["level"] = inp.value
    return Next()


async def ask_price(ctx: Ctx) -> Prompt:
    return Prompt("What does one session cost, in USD? (e.g. 40 or 39.50 — the same whoever "
                  "teaches; teachers get 70%, you 15%, the platform 15%)")


async def on_price(ctx: Ctx, inp: Input) -> Outcome:
    try:
        ctx.data["price"] = parse_price(inp.text or "")
    except DomainError as exc:
        return Reject(exc.user_message)
    return Next()


async def ask_length(ctx: Ctx) -> Prompt:
    return Prompt("How long is a session?",
                  (tuple(Choice(f"{m} min", str(m)) for m in LENGTHS),))


async def on_length(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value is None or not inp.value.isdigit():
        return Reject("Pick a length with the buttons.")
    course = await create_course(
        ctx.uow, ctx.user, title=ctx.data["title"], description=ctx.data["description"],
        level=ctx.data["level"], price_minor=int(ctx.data["price"]), minutes=int(inp.value))
    return Finish((await card(ctx, course, "✓ Draft created. Add modules, then publish."),))


NEW_FLOW = Flow("newcourse", (Step("title", ask_title, on_title, free_text=True),
                              Step("description", ask_description, on_description,
                                   free_text=True),
                              Step("level", ask_level, on_level),
                              Step("price", ask_price, on_price, free_text=True),
                              Step("length", ask_length, on_length)),
                start=new_start, title="the new course")
NEW = Command("newcourse", "Create a course (creators)", flow=NEW_FLOW)


# --- /addmodule -----------------------------------------------------------------------------

async def course_start(ctx: Ctx, args: str) -> Finish | None:
    course_id = parse_id(args.split()[0]) if args.split() else None
    if course_id is None:
        raise InvalidInput("Which course? Open it with /editcourse and use its buttons.")
    course = await owned_course(ctx.uow, ctx.user, course_id)
    if course.status == "retired":
        raise InvalidInput("This course is retired; it can't be changed.")
    ctx.data["course_id"] = course.id
    return None


async def ask_module_title(ctx: Ctx) -> Prompt:
    return Prompt("➕ New module. Its title?")


async def on_module_title(ctx: Ctx, inp: Input) -> Outcome:
    title = " ".join((inp.text or "").split())
    if not 2 <= len(title) <= 80:
        return Reject("A module title needs 2 to 80 characters.")
    ctx.data["module_title"] = title
    return Next()


async def ask_module_summary(ctx: Ctx) -> Prompt:
    return Prompt("What does it cover? (a few lines, or Skip)", ((Choice("Skip", SKIP),),))


async def on_module_summary(ctx: Ctx, inp: Input) -> Outcome:
    ctx.data["summary"] = "" if inp.value == SKIP else (inp.text or "")[:1500]
    return Next()


async def ask_video(ctx: Ctx) -> Prompt:
    return Prompt("A video link for it? (https://…, or Skip)", ((Choice("Skip", SKIP),),))


async def on_video(ctx: Ctx, inp: Input) -> Outcome:
    course = await owned_course(ctx.uow, ctx.user, int(ctx.data["course_id"]))
    try:
        module = await add_module(ctx.uow, course, title=ctx.data["module_title"],
                                  summary=ctx.data.get("summary", ""),
                                  video_url=None if inp.value == SKIP else inp.text)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Finish((await card(ctx, course, f"✓ Module {module.position} added."),))


MODULE_FLOW = Flow("addmodule", (Step("title", ask_module_title, on_module_title,
                                      free_text=True),
                                 Step("summary", ask_module_summary, on_module_summary,
                                      free_text=True),
                                 Step("video", ask_video, on_video, free_text=True)),
                   start=course_start, title="the new module")
MODULE = Command("addmodule", "Add a module to your course", flow=MODULE_FLOW,
                 args_hint="<course>", hidden=True)


# --- /addquiz -------------------------------------------------------------------------------

async def ask_quiz_title(ctx: Ctx) -> Prompt:
    return Prompt("📝 New quiz. Its title?")


async def on_quiz_title(ctx: Ctx, inp: Input) -> Outcome:
    title = " ".join((inp.text or "").split())
    if not 2 <= len(title) <= 80:
        return Reject("A quiz title needs 2 to 80 characters.")
    ctx.data["quiz_title"] = title
    return Next()


async def ask_pass(ctx: Ctx) -> Prompt:
    return Prompt("Pass mark?", (tuple(Choice(f"{p}%", str(p)) for p in (50, 60, 70, 80, 90)),))


async def on_pass(ctx: Ctx, inp: Input) -> Outcome:
    raw = (inp.value or inp.text or "").strip().rstrip("%")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        return Reject("Pick a pass mark, or type a percentage from 1 to 100.")
    course = await owned_course(ctx.uow, ctx.user, int(ctx.data["course_id"]))
    quiz = await add_quiz(ctx.uow, course, title=ctx.data["quiz_title"], pass_pct=int(raw))
    ctx.data.update(quiz_id=quiz.id, questions=0)
    return Next()


async def ask_question(ctx: Ctx) -> Prompt:
    n = int(ctx.data["questions"])
    done = ((Choice("✓ Done", DONE),),) if n else ()
    return Prompt(f"Question {n + 1}: type it, then its options, separated by | — put * "
                  "before the right one.\nExample: What does len('abc') return? | 2 | *3 | 4",
                  done)


async def on_question(ctx: Ctx, inp: Input) -> Outcome:
    quiz = await owned_quiz(ctx.uow, ctx.user, int(ctx.data["quiz_id"]))
    if inp.value == DONE:
        course = await owned_course(ctx.uow, ctx.user, quiz.course_id)
        return Finish((await card(ctx, course, f"✓ Quiz “{quiz.title}” saved with "
                                  f"{ctx.data['questions']} question(s)."),))
    try:
        ctx.data["questions"] = await add_question(ctx.uow, quiz, parse_question(inp.text or ""))
    except DomainError as exc:
        return Reject(exc.user_message)
    return Stay(note=f"✓ Question {ctx.data['questions']} added.")


QUIZ_FLOW = Flow("addquiz", (Step("title", ask_quiz_title, on_quiz_title, free_text=True),
                             Step("pass", ask_pass, on_pass),
                             Step("question", ask_question, on_question, free_text=True)),
                 start=course_start, title="the new quiz")
QUIZ = Command("addquiz", "Add a quiz to your course", flow=QUIZ_FLOW, args_hint="<course>",
               hidden=True)


# --- /addmaterial ---------------------------------------------------------------------------

async def ask_material_title(ctx: Ctx) -> Prompt:
    return Prompt("📎 New reference material. Its title?")


async def on_material_title(ctx: Ctx, inp: Input) -> Outcome:
    title = " ".join((inp.text or "").split())
    if not 2 <= len(title) <= 120:
        return Reject("A title needs 2 to 120 characters.")
    ctx.data["material_title"] = title
    return Next()


async def ask_material(ctx: Ctx) -> Prompt:
    return Prompt("Send the file, a link (https://…), or type the note itself.")


async def on_material(ctx: Ctx, inp: Input) -> Outcome:
    course = await owned_course(ctx.uow, ctx.user, int(ctx.data["course_id"]))
    text = (inp.text or "").strip()
    attachment = inp.attachment
    try:
        await add_material(
            ctx.uow, course, title=ctx.data["material_title"],
            url=text if re.match(r"^https?://", text) else None,
            body="" if re.match(r"^https?://", text) else text,
            file_ref=attachment.file_ref if attachment else None,
            platform=ctx.turn.platform if attachment else None)
    except DomainError as exc:
        return Reject(exc.user_message)
    return Finish((await card(ctx, course, "✓ Material added: /ask uses it to answer "
                              "students."),))


MATERIAL_FLOW = Flow("addmaterial", (Step("title", ask_material_title, on_material_title,
                                          free_text=True),
                                     Step("material", ask_material, on_material,
                                          free_text=True)),
                     start=course_start, title="the new material")
MATERIAL = Command("addmaterial", "Add reference material to your course", flow=MATERIAL_FLOW,
                   args_hint="<course>", hidden=True)


# --- /criteria ------------------------------------------------------------------------------

CRITERIA_HELP = ("Type the criteria to change, e.g.\n/criteria {id} sessions=2 modules=yes "
                 "quizzes=yes mastery=4 mastery_pct=90\n(sessions: completed sessions for the "
                 "Completion certificate; modules/quizzes: every module done / every quiz "
                 "passed; mastery and mastery_pct: the stricter Mastery certificate)")


async def criteria(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    course_id = parse_id(words[0]) if words else None
    if course_id is None:
        raise InvalidInput("Which course? /criteria <course> sessions=2 …")
    course = await owned_course(ctx.uow, ctx.user, course_id, lock=len(words) > 1)
    if len(words) == 1:
        return [await card(ctx, course, CRITERIA_HELP.format(id=course.id))]
    given: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or key not in {"sessions", "modules", "quizzes", "mastery", "mastery_pct"}:
            raise InvalidInput(CRITERIA_HELP.format(id=course.id))
        given[key] = value.lower().rstrip("%")
    numbers = {k: v for k, v in given.items() if k in {"sessions", "mastery", "mastery_pct"}}
    if any(not v.isdigit() for v in numbers.values()):
        raise InvalidInput("sessions, mastery and mastery_pct take whole numbers.")
    set_criteria(
        course,
        complete_sessions=int(given["sessions"]) if "sessions" in given else None,
        complete_modules=_yes(given["modules"]) if "modules" in given else None,
        complete_quizzes=_yes(given["quizzes"]) if "quizzes" in given else None,
        mastery_sessions=int(given["mastery"]) if "mastery" in given else None,
        mastery_quiz_pct=int(given["mastery_pct"]) if "mastery_pct" in given else None)
    return [await card(ctx, course, "✓ Criteria saved.")]


CRITERIA = Command("criteria", "Completion and mastery criteria of your course",
                   handler=criteria, args_hint="<course> [key=value ...]", hidden=True)


# --- /creators (admin) ----------------------------------------------------------------------

async def creators(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    if len(words) != 2 or words[0] not in {"grant", "revoke"} or parse_id(words[1]) is None:
        raise InvalidInput("Type /creators grant <user id> or /creators revoke <user id>.")
    user_id = parse_id(words[1])
    assert user_id is not None
    if words[0] == "grant":
        user = await grant_creator(ctx.uow, user_id)
        return [Reply(f"✓ {user.display_name} can create courses now.", tone="success")]
    user = await revoke_creator(ctx.uow, user_id)
    return [Reply(f"✓ {user.display_name} can't create new courses any more; their existing "
                  "courses stay theirs to manage.", tone="success")]


CREATORS = Command("creators", "Grant or revoke creator permission (admin)", handler=creators,
                   roles=frozenset({"admin"}), args_hint="<grant|revoke> <user>")

COMMANDS = (NEW, EDITOR, MODULE, QUIZ, MATERIAL, CRITERIA, CREATORS)

