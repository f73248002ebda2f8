"""/profile: see and edit your name, timezone, where notifications go, and what others see
about you (bio, links, interests, picture, documents, privacy), under a strength bar."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.account import list_identities, rename, set_notify_via, set_timezone
from core.booking import count_sessions_taught, teacher_records, toggle_teacher_records
from core.errors import InvalidInput
from core.linking import platform_name
from core.models import Profile
from core.models.schedule import REMINDER_KINDS
from core.outbox import notify_platform
from core.profile import (
    SECTION_NAMES,
    SECTIONS,
    find_profile,
    interest_names,
    is_listed,
    profile_strength,
    set_listed,
)
from core.reminder import LABELS, toggle_reminder
from core.review import teacher_reputations
from core.social import follower_counts, following_count
from core.timezone import format_local, zone_label
from handlers import payload
from handlers.commands.profile_about import (
    ABOUT_FIELDS,
    ask_about,
    ask_privacy,
    on_about,
    on_privacy,
)
from handlers.commands.start import ZONE_CHOICES
from handlers.context import Ctx
from handlers.display import percent_bar
from handlers.flow import Choice, Finish, Flow, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip

FIELDS = {"name", "timezone", "notify", "reminders", "privacy", *ABOUT_FIELDS}
SAVED = "✅ Saved."


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def strength_line(pct: int, missing: list[str]) -> str:
    """``Profile 60% ▓▓▓░░ — add a picture and a bio``."""
    todo = f"add {and_list(missing)}" if missing else "complete!"
    return f"Profile {pct}% {percent_bar(pct, 5, label=False)} — {todo}"


def short_link(link: str) -> str:
    """``https://github.com/ada`` → ``github.com/ada`` (the scheme is noise in a list)."""
    parts = urlsplit(link)
    return clip((parts.netloc + parts.path).rstrip("/") or link, 50)


def _about(profile: Profile | None) -> list[str]:
    if profile is None:
        return ["📝 Nothing about you yet: add a bio, links and interests below."]
    docs = [clip(str(d.get("name")), 40) for d in profile.documents or []]
    hidden = [SECTION_NAMES[s] for s in SECTIONS if s in (profile.private or [])]
    return [
        f"📝 Bio: {clip(profile.bio, 300) if profile.bio else '—'}",
        f"🌐 Links: {', '.join(short_link(x) for x in profile.links or []) or '—'}",
        f"🎯 Interests: {', '.join(interest_names(profile.interests or [])) or '—'}",
        f"🖼 Picture: {'yes' if profile.picture_ref else '—'} · 📄 Documents: "
        f"{', '.join(docs) or '—'}",
        f"🔒 Only you see: {', '.join(hidden)}" if hidden else "🌐 Everything is public",
    ]


async def card(ctx: Ctx, note: str | None = None) -> Reply:
    user = ctx.user
    teacher = "teacher" in user.role_names
    roles = ", ".join(sorted(user.role_names)) or "none yet"
    now = format_local(ctx.uow.clock.now(), user.timezone, with_date=False)
    apps = [platform_name(i.platform) for i in await list_identities(ctx.uow, user)]
    target = await notify_platform(ctx.uow, user)
    profile = await find_profile(ctx.uow, user.id)
    pct, missing = profile_strength(user, profile, teacher=teacher)
    followers = (await follower_counts(ctx.uow, [user.id]))[user.id]
    following = await following_count(ctx.uow, user.id)
    listed = await is_listed(ctx.uow, user.id) if teacher else False
    lines = [
        f"👤 {user.display_name}",
        f"Roles: {roles}",
        f"Timezone: {zone_label(user.timezone)} (it's {now} there)",
        f"Apps: {', '.join(apps)} · notifications go to "
        f"{platform_name(target.platform) if target else 'nowhere yet'}",
        f"Member since {user.created_at.strftime('%d %b %Y')}",
        f"👥 {followers} follower{'s' if followers != 1 else ''} · following {following}",
        *_about(profile),
    ]
    if teacher:
        rated = (await teacher_reputations(ctx.uow, [user.id]))[user.id]
        taught = (await count_sessions_taught(ctx.uow, [user.id]))[user.id]
        lines.insert(2, f"As a teacher: {rated} from students · {taught} sessions taught")
        records = await teacher_records(ctx.uow, user.id)
        lines.insert(3, "Recording: " + ("you agree to sessions being recorded when the "
                                         "student agrees too" if records else
                                         "your sessions are not recorded"))
        lines.insert(4, "📇 Course directories: " + (
            "listed — students find you on course cards" if listed else "hidden"))
    lines.insert(0, strength_line(pct, missing) + "\n")
    if note:
        lines.insert(0, note + "\n")
    return Reply("\n".join(lines), _buttons(ctx, teacher, listed), replace=ctx.clicked,
                 tone="success" if note else "info")


def _edit(label: str, field: str) -> Button:
    return Button(label, action=payload.command("profile", field))


def _buttons(ctx: Ctx, teacher: bool, listed: bool) -> tuple[tuple[Button, ...], ...]:
    teaching = (
        _edit("🎥 Recording on/off", "recording"),
        _edit("📇 Hide from directories", "unlist") if listed
        else _edit("📇 Show in directories", "list"),
    ) if teacher else ()
    return (
        (_edit("✏️ Change name", "name"), _edit("🌍 Change timezone", "timezone"),
         Button("🔔 Notifications", action=payload.command("notifications"))),
        (_edit("📝 Bio", "bio"), _edit("🌐 Links", "links"),
         Button("🎯 Interests", action=payload.command("interests")),
         _edit("🖼 Picture", "picture")),
        (_edit("📄 Documents", "documents"), _edit("🔒 Privacy", "privacy"),
         Button("👁 My public card", action=payload.command("people", str(ctx.user.id)))),
        (_edit("⏰ Reminders", "reminders"),
         Button("🔗 Link another app", action=payload.command("link")), *teaching),
    )


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    field = args.strip().lower()
    if field == "recording" and "teacher" in ctx.user.role_names:
        on = await toggle_teacher_records(ctx.uow, ctx.user)
        return Finish((await card(ctx, "🎥 Recording " + (
            "on: sessions are recorded when the student agrees too (for a transcript and an "
            "AI summary)." if on else "off: your sessions are not recorded.")),))
    if field in ("list", "unlist") and "teacher" in ctx.user.role_names:
        on = await set_listed(ctx.uow, ctx.user, field == "list")
        return Finish((await card(ctx, "📇 " + (
            "You're listed again: students see you on your courses' cards." if on else
            "You're hidden from course directories. Students you already teach can still "
            "book you.")),))
    if field == "interests":
        return Finish((), then="interests")
    if field in FIELDS:
        ctx.data["field"] = field
        return None
    return Finish((await card(ctx),))


async def ask_value(ctx: Ctx) -> Prompt:
    field = ctx.data["field"]
    if field in ABOUT_FIELDS:
        return await ask_about(ctx, field)
    if field == "name":
        return Prompt(
            f"What should people call you? (now: {ctx.user.display_name})\n"
            "Type a name of up to 64 characters."
        )
    if field == "reminders":
        off = set(ctx.user.reminders_off or [])
        toggles = tuple(
            (Choice(f"{'❌' if kind in off else '✅'} {LABELS[kind]}", kind),)
            for kind in REMINDER_KINDS
        )
        return Prompt("Which reminders do you want before your sessions? Tap to switch.",
                      (*toggles, (Choice("✔️ Done", "done"),)))
    if field == "notify":
        apps = [i.platform for i in await list_identities(ctx.uow, ctx.user)]
        return Prompt(
            "Where should messages from teachers, students and reminders reach you?"
            + ("" if len(apps) > 1 else "\n(Link another app with /link to choose it here.)"),
            tuple((Choice(platform_name(p), p),) for p in apps),
        )
    rows = ZONE_CHOICES
    return Prompt(
        f"Your timezone is {zone_label(ctx.user.timezone)}. Tap a new one, or type "
        "your city (e.g. Berlin) or an offset such as UTC+2.",
        rows,
    )


async def on_value(ctx: Ctx, inp: Input) -> Outcome:
    field = ctx.data["field"]
    if field in ABOUT_FIELDS:
        outcome = await on_about(ctx, field, inp)
        return Finish((await card(ctx, SAVED),)) if outcome is None else outcome
    if field == "reminders":
        if inp.value == "done":
            return Finish((await card(ctx, SAVED),))
        if inp.value not in REMINDER_KINDS:
            return Reject("Tap a reminder to switch it on or off.")
        on = toggle_reminder(ctx.user, inp.value)
        return Stay(note=f"{LABELS[inp.value].capitalize()}: {'on' if on else 'off'}.")
    try:
        if field == "name":
            rename(ctx.user, inp.text or "")
        elif field == "notify":
            await set_notify_via(ctx.uow, ctx.user, inp.value or "")
        else:
            set_timezone(ctx.user, inp.value or inp.text or "")
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Finish((await card(ctx, SAVED),))


async def on_privacy_step(ctx: Ctx, inp: Input) -> Outcome:
    outcome = await on_privacy(ctx, inp)
    return Finish((await card(ctx, SAVED),)) if outcome is None else outcome


def _is_privacy(ctx: Ctx) -> bool:
    return bool(ctx.data.get("field") == "privacy")


FLOW = Flow(
    "profile",
    (Step("value", ask_value, on_value, skip=_is_privacy, free_text=True),
     # Only buttons here, so a typed number counts as one (the terminal, Discord DMs).
     Step("privacy", ask_privacy, on_privacy_step, skip=lambda ctx: not _is_privacy(ctx))),
    start=on_start,
    title="editing your profile",
)
COMMAND = Command("profile", "See and edit your profile", flow=FLOW)
