"""/people <number>: someone's public profile card — name, bio, links, interests, their
picture, teaching record, certificates, followers — with Follow. Alone: who you follow."""

from __future__ import annotations

from core.booking import count_sessions_taught
from core.certificates import TITLES
from core.linking import platform_name
from core.profile import HeldCertificate, ProfileView, public_view
from core.review import teacher_reputations
from core.social import follower_counts, following_count, is_following, list_following
from handlers import payload
from handlers.context import Ctx
from handlers.links import verify_url
from handlers.registry import Command
from handlers.reply import Button, Reply, SharedFile, clip, rows_of
from handlers.turn import parse_id

MAX_CERTIFICATES = 5
USAGE = ("Whose profile? Use /people <number> — tap a teacher or creator on a course card "
         "(/courses) to open theirs.")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _lock(view: ProfileView, section: str) -> str:
    """The owner sees which sections others can't."""
    return " 🔒" if view.own and section in view.private else ""


def certificate_line(cert: HeldCertificate, verify: str) -> str:
    """``🧑‍🏫 Teaching · Python from Zero · 3 students taught · <verify link>``."""
    icon = {"completion": "🎓", "mastery": "🏅", "teaching": "🧑‍🏫"}.get(cert.kind, "🎓")
    taught = (f" · {plural(cert.students_taught, 'student')} taught"
              if cert.kind == "teaching" else "")
    return (f"{icon} {TITLES.get(cert.kind, cert.kind)} · {clip(cert.course_title, 60)}"
            f"{taught} · {verify}")


async def _lines(ctx: Ctx, view: ProfileView) -> list[str]:
    user = view.user
    lines = [f"👤 {user.display_name}"]
    if view.own:
        lines[0] += " — this is you" + (": 🔒 marks what only you see" if view.private else "")
    if "teacher" in user.role_names:
        rated = (await teacher_reputations(ctx.uow, [user.id]))[user.id]
        taught = (await count_sessions_taught(ctx.uow, [user.id]))[user.id]
        lines.append(f"👩‍🏫 Teacher · {rated} · {plural(taught, 'session')} taught")
    if "creator" in user.role_names:
        lines.append("🧑‍🎨 Course creator")
    followers = (await follower_counts(ctx.uow, [user.id]))[user.id]
    following = await following_count(ctx.uow, user.id)
    lines.append(f"👥 {plural(followers, 'follower')} · following {following}")
    lock = _lock(view, "courses")
    if view.teaches:
        lines.append(f"📚 Teaches: {clip(', '.join(view.teaches), 200)}{lock}")
    if view.learning:
        lines.append(f"📖 Learning: {clip(', '.join(view.learning), 200)}{lock}")
    for cert in view.certificates[:MAX_CERTIFICATES]:
        lines.append(certificate_line(cert, verify_url(ctx.settings, cert.code)) + lock)
    if len(view.certificates) > MAX_CERTIFICATES:
        lines.append(f"🎓 … and {len(view.certificates) - MAX_CERTIFICATES} more")
    if view.bio:
        lines.append(f"\n📝 {view.bio}{_lock(view, 'bio')}")
    if view.interests:
        lines.append(f"🎯 Interests: {', '.join(view.interests)}{_lock(view, 'interests')}")
    if view.links:
        lines.append(f"🌐 Links: {' '.join(clip(x, 80) for x in view.links)}"
                     f"{_lock(view, 'links')}")
    if view.documents:
        names = ", ".join(clip(str(d.get("name")), 40) for d in view.documents)
        lines.append(f"📄 Documents: {names}{_lock(view, 'documents')}")
    if not view.own and not (view.bio or view.interests or view.links or view.documents
                             or view.teaches or view.learning or view.certificates):
        lines.append(f"\n🔒 {user.display_name} keeps their profile private." if view.private
                     else "\nThere's nothing more to see here yet.")
    return lines


async def profile_card(ctx: Ctx, user_id: int, note: str | None = None) -> list[Reply]:
    """The card, after the person's picture when it lives on the viewer's platform (a
    platform's file id means nothing to another platform)."""
    view = await public_view(ctx.uow, ctx.user, user_id)
    user = view.user
    rows: list[tuple[Button, ...]] = []
    if view.links:
        rows.append(tuple(Button(clip(f"🌐 {x.split('://', 1)[-1]}", 40), url=x)
                          for x in view.links))
    if view.documents:
        rows.append(tuple(
            Button(clip(f"📄 {d.get('name')}", 40),
                   action=payload.command("people", f"{user.id} doc {i}"))
            for i, d in enumerate(view.documents, 1)))
    actions: list[Button] = []
    if view.own:
        actions.append(Button("✏️ Edit my profile", action=payload.command("profile")))
    elif await is_following(ctx.uow, ctx.user.id, user.id):
        actions.append(Button("✖ Unfollow", action=payload.command("unfollow", str(user.id))))
    else:
        actions.append(Button("➕ Follow", action=payload.command("follow", str(user.id))))
    if "creator" in user.role_names:
        actions.append(Button(clip(f"🧑‍🎨 Courses by {user.display_name}", 80),
                              action=payload.command("creator", str(user.id))))
    rows.append(tuple(actions))
    lines = await _lines(ctx, view)
    if note:
        lines.insert(0, note + "\n")
    replies = []
    if view.picture is not None and view.picture[1] == ctx.turn.platform:
        replies.append(Reply(f"🖼 {user.display_name}",
                             shared=SharedFile(view.picture[0], user.display_name, "photo")))
    replies.append(Reply(clip("\n".join(lines)), tuple(rows), replace=ctx.clicked))
    return replies


async def _document(ctx: Ctx, user_id: int, number: int) -> list[Reply]:
    """One of someone's documents, sent again by its file id (it is re-checked here: the
    button could be old, or forged)."""
    view = await public_view(ctx.uow, ctx.user, user_id)
    if not 1 <= number <= len(view.documents):
        return [Reply("That document isn't on this profile any more.", tone="warning")]
    doc = view.documents[number - 1]
    name, platform = str(doc.get("name") or "document"), str(doc.get("platform"))
    if platform != ctx.turn.platform:
        return [Reply(f"📄 {name} was shared on {platform_name(platform)}; open Alpha Peer "
                      "there to get it.")]
    kind = "photo" if doc.get("kind") == "photo" else "document"
    return [Reply(f"📄 {name} · from {view.user.display_name}'s profile",
                  shared=SharedFile(str(doc.get("ref")), name, kind))]


async def _following(ctx: Ctx) -> list[Reply]:
    followed = await list_following(ctx.uow, ctx.user.id, limit=30)
    followers = (await follower_counts(ctx.uow, [ctx.user.id]))[ctx.user.id]
    if not followed:
        return [Reply("You don't follow anyone yet (you have "
                      f"{plural(followers, 'follower')}). Open /courses and tap a teacher or "
                      "creator to follow them.",
                      replace=ctx.clicked)]
    shown = followed[:12]
    lines = [f"👥 You follow {people(len(followed))} · you have {plural(followers, 'follower')}:"]
    lines += [f"• {p.display_name} (#{p.id})" for p in followed]
    buttons = [Button(clip(f"👤 {p.display_name}", 40),
                      action=payload.command("people", str(p.id))) for p in shown]
    return [Reply(clip("\n".join(lines)), rows_of(buttons, 3), replace=ctx.clicked)]


async def show_people(ctx: Ctx, args: str) -> list[Reply]:
    words = args.split()
    if not words:
        return await _following(ctx)
    user_id = parse_id(words[0])
    if user_id is None:
        return [Reply(USAGE, tone="warning")]
    if len(words) == 3 and words[1] == "doc" and (number := parse_id(words[2])) is not None:
        return await _document(ctx, user_id, number)
    return await profile_card(ctx, user_id)


COMMAND = Command("people", "Someone's profile card, or who you follow", handler=show_people,
                  args_hint="[number]", needs_onboarding=False)  # visitors choose teachers
