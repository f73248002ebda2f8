"""/coursecard <course>: everything needed to choose a course — what it covers, its modules,
who teaches it (rating, sessions taught, next free time) and who made it — with buttons to
book a free intro, enrol, or meet the creator."""

from __future__ import annotations

from core.booking import count_sessions_taught
from core.catalogue import (
    DIRECTORY_DAYS,
    find_course_by_slug,
    get_course_for_card,
    list_directory,
    next_free_times,
)
from core.errors import NotFound
from core.models import Course, User
from core.review import teacher_reputations
from core.social import follower_counts, get_person
from core.timezone import format_local
from handlers import payload
from handlers.commands.people import plural
from handlers.context import Ctx
from handlers.display import zone_note
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

SHOWN_MODULES = 8
SHOWN_TEACHERS = 5
USAGE = "Which course? Use /coursecard <number>, or browse them with /courses."


async def _course(ctx: Ctx, args: str) -> Course:
    wanted = args.strip().lower()[:48]
    number = parse_id(wanted)
    if number is None:
        found = await find_course_by_slug(ctx.uow, wanted) if wanted else None
        if found is None:
            raise NotFound("course")
        number = found.id
    return await get_course_for_card(ctx.uow, number, ctx.user.id)


async def _directory(ctx: Ctx, course: Course) -> tuple[list[str], list[User]]:
    teachers = await list_directory(ctx.uow, course.id)
    ids = [t.id for t in teachers]
    free = await next_free_times(ctx.uow, teachers, course.session_minutes,
                                 student_id=ctx.user.id)
    rated = await teacher_reputations(ctx.uow, ids)
    taught = await count_sessions_taught(ctx.uow, ids)
    # Who can be met soonest first, then the best rated.
    teachers.sort(key=lambda t: (t.id not in free, free.get(t.id) or course.created_at,
                                 -rated[t.id].average, t.display_name))
    shown = teachers[:SHOWN_TEACHERS]
    lines = [
        f"• {t.display_name} — {rated[t.id]} · {plural(taught[t.id], 'session')} taught · "
        + (f"next free {format_local(free[t.id], ctx.user.timezone)}" if t.id in free
           else f"no free time in the next {DIRECTORY_DAYS} days")
        for t in shown]
    if len(teachers) > len(shown):
        lines.append(f"… and {len(teachers) - len(shown)} more")
    return lines, shown


async def show_card(ctx: Ctx, args: str) -> list[Reply]:
    if not args.strip():
        return [Reply(USAGE, tone="warning")]
    course = await _course(ctx, args)
    creator = await get_person(ctx.uow, course.creator_id)
    open_ = course.status == "published"
    lines = [f"📘 {course.title}"]
    if course.status == "retired":
        lines.append("⛔ This course has been retired: it takes no new students.")
    elif course.status == "draft":
        lines.append("📝 Draft: only you can see this card until you publish the course.")
    lines.append(f"{course.level.capitalize()} · {course.price} per "
                 f"{course.session_minutes}-min session")
    if course.description:
        lines.append(clip(course.description, 400))
    if course.syllabus:
        lines.append(f"\n📋 Syllabus: {clip(course.syllabus, 400)}")
    if course.modules:
        lines.append("\n🧩 Modules:")
        lines += [f"{m.position}. {clip(m.title, 60)}" for m in course.modules[:SHOWN_MODULES]]
        if len(course.modules) > SHOWN_MODULES:
            lines.append(f"… and {len(course.modules) - SHOWN_MODULES} more")
    rows: list[tuple[Button, ...]] = []
    if open_:
        directory, teachers = await _directory(ctx, course)
        lines.append(f"\n👩‍🏫 Teachers ({zone_note(ctx.user)}):")
        lines += directory or ["No teacher is taking students right now — check back soon."]
        rows.append((Button("🎁 Book free intro", action=payload.command("intro", str(course.id))),
                     Button("🎓 Enrol", action=payload.command("book", str(course.id))),
                     Button("❓ Ask the creator",
                            action=payload.command("inquire", str(course.id)))))
        if teachers:
            rows.append(tuple(Button(clip(f"👩‍🏫 {t.display_name}", 40),
                                     action=payload.command("people", str(t.id)))
                              for t in teachers))
    followers = (await follower_counts(ctx.uow, [creator.id]))[creator.id]
    lines.append(f"\n🧑‍🎨 Created by {creator.display_name} · "
                 f"{plural(followers, 'follower')}")
    rows.append((Button(clip(f"👤 {creator.display_name}", 40),
                        action=payload.command("creator", str(creator.id))),
                 Button("‹ All courses", action=payload.command("courses"))))
    return [Reply(clip("\n".join(lines), 2000), tuple(rows), replace=ctx.clicked)]


COMMAND = Command("coursecard", "One course in full: syllabus, modules, teachers, free times",
                  handler=show_card, args_hint="<course>", needs_onboarding=False,
                  hidden=True)  # the ℹ️ buttons of /courses lead here
