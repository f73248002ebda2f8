"""/creator <number>: a creator's page — their published courses, followers and a Follow
button. Alone: the creators whose courses are open."""

from __future__ import annotations

from core.catalogue import CourseQuery, list_creators, search_courses
from core.errors import NotFound
from core.profile import public_view
from core.social import follower_counts, is_following
from handlers import payload
from handlers.commands.people import plural
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip, rows_of
from handlers.turn import parse_id

MAX_COURSE_BUTTONS = 6


async def _creators(ctx: Ctx) -> list[Reply]:
    creators = await list_creators(ctx.uow, limit=12)
    if not creators:
        return [Reply("No creator has published a course yet — check back soon.",
                      replace=ctx.clicked)]
    buttons = [Button(clip(f"🧑‍🎨 {name}", 40), action=payload.command("creator", str(i)))
               for i, name in creators]
    return [Reply("🧑‍🎨 Course creators — tap one to see their courses:",
                  rows_of(buttons, 3), replace=ctx.clicked)]


async def creator_page(ctx: Ctx, user_id: int, note: str | None = None) -> list[Reply]:
    view = await public_view(ctx.uow, ctx.user, user_id)
    creator = view.user
    listings = await search_courses(ctx.uow, CourseQuery(creator_id=creator.id))
    if "creator" not in creator.role_names and not listings:
        raise NotFound("creator")
    followers = (await follower_counts(ctx.uow, [creator.id]))[creator.id]
    follows = await is_following(ctx.uow, ctx.user.id, creator.id)
    lines = [f"🧑‍🎨 {creator.display_name} — course creator",
             f"👥 {plural(followers, 'follower')}" + (" · ✅ you follow them" if follows else "")]
    if view.bio:
        lines.append(f"\n📝 {clip(view.bio, 400)}")
    if listings:
        lines.append(f"\n📚 {plural(len(listings), 'published course')}:")
        lines += [f"• {clip(x.course.title, 60)} · {x.course.level} · {x.course.price} per "
                  f"{x.course.session_minutes}-min session · {plural(x.teachers, 'teacher')}"
                  for x in listings]
    else:
        lines.append(f"\n{creator.display_name} has no published course yet.")
    if note:
        lines.insert(0, note + "\n")
    courses = [Button(clip(f"ℹ️ {x.course.title}", 80),
                      action=payload.command("coursecard", str(x.course.id)))
               for x in listings[:MAX_COURSE_BUTTONS]]
    profile = Button("👤 Profile", action=payload.command("people", str(creator.id)))
    actions: list[Button] = [profile]
    if ctx.user.id != creator.id:
        verb = "unfollow" if follows else "follow"
        actions.insert(0, Button("✖ Unfollow" if follows else "➕ Follow",
                                 action=payload.command(verb, f"{creator.id} creator")))
    return [Reply(clip("\n".join(lines)), (*rows_of(courses, 2), tuple(actions)),
                  replace=ctx.clicked)]


async def show_creator(ctx: Ctx, args: str) -> list[Reply]:
    if not args.strip():
        return await _creators(ctx)
    user_id = parse_id(args.split()[0])
    if user_id is None:
        return [Reply("Which creator? Use /creator <number>, or /creator to see them all.",
                      tone="warning")]
    return await creator_page(ctx, user_id)


COMMAND = Command("creator", "A course creator's courses and followers",
                  handler=show_creator, args_hint="[number]", needs_onboarding=False)
