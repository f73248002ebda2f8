"""/courses: what can be learned, with a book button per course."""

from __future__ import annotations

from core.catalogue import list_courses
from handlers import payload
from handlers.context import Ctx
from handlers.registry import Command
from handlers.reply import Button, Reply, clip
from handlers.turn import parse_id

PAGE = 4


def _page(args: str) -> tuple[str, int]:
    """``"python 2"`` → search "python", page 2."""
    words = args.split()
    page = parse_id(words[-1]) if words else None
    if page is not None:
        return " ".join(words[:-1]), min(page, 999)
    return " ".join(words), 1


async def show_courses(ctx: Ctx, args: str) -> list[Reply]:
    search, page = _page(args[:100])
    courses = await list_courses(ctx.uow)
    if search:
        wanted = search.casefold()
        courses = [
            (c, n)
            for c, n in courses
            if wanted in c.title.casefold() or wanted in c.description.casefold()
        ]
    if not courses:
        text = (
            f"No course matches “{clip(search, 40)}”. Try /courses to see them all."
            if search
            else "No courses are open yet — check back soon."
        )
        return [Reply(text, replace=ctx.clicked)]
    pages = (len(courses) + PAGE - 1) // PAGE
    page = min(page, pages)
    shown = courses[(page - 1) * PAGE : page * PAGE]
    lines = [
        f"📚 Courses{f' matching “{clip(search, 40)}”' if search else ''}"
        f"{f' (page {page} of {pages})' if pages > 1 else ''}:"
    ]
    rows: list[tuple[Button, ...]] = []
    for course, teachers in shown:
        blurb = clip(course.description.split("\n", 1)[0], 120)
        lines.append(
            f"\n{course.title} · {course.level} · {course.price} per "
            f"{course.session_minutes}-min session · "
            f"{teachers} teacher{'s' if teachers != 1 else ''}\n{blurb}"
        )
        rows.append(
            (
                Button(
                    clip(f"🗓 Book {course.title}", 80),
                    action=payload.command("book", str(course.id)),
                ),
                Button("🎁 Free intro", action=payload.command("intro", str(course.id))),
            )
        )
    nav = []
    if page > 1:
        nav.append(
            Button("‹ Previous", action=payload.command("courses", f"{search} {page - 1}".strip()))
        )
    if page < pages:
        nav.append(
            Button("More ›", action=payload.command("courses", f"{search} {page + 1}".strip()))
        )
    if nav:
        rows.append(tuple(nav))
    return [Reply("\n".join(lines), tuple(rows), replace=ctx.clicked)]


COMMAND = Command(
    "courses",
    "Browse the courses you can learn",
    handler=show_courses,
    args_hint="[search]",
    needs_onboarding=False,  # visitors may look before they sign up
)
