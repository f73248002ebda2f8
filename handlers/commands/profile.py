"""/profile: see and edit your name, timezone and where notifications go."""

from __future__ import annotations

from core.account import list_identities, rename, set_notify_via, set_timezone
from core.booking import count_sessions_taught, teacher_records, toggle_teacher_records
from core.errors import InvalidInput
from core.linking import platform_name
from core.models.schedule import REMINDER_KINDS
from core.outbox import notify_platform
from core.reminder import LABELS, toggle_reminder
from core.review import teacher_reputations
from core.timezone import format_local, zone_label
from handlers import payload
from handlers.commands.start import ZONE_CHOICES
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply

FIELDS = {"name", "timezone", "notify", "reminders"}


async def card(ctx: Ctx, note: str | None = None) -> Reply:
    user = ctx.user
    roles = ", ".join(sorted(user.role_names)) or "none yet"
    now = format_local(ctx.uow.clock.now(), user.timezone, with_date=False)
    apps = [platform_name(i.platform) for i in await list_identities(ctx.uow, user)]
    target = await notify_platform(ctx.uow, user)
    lines = [
        f"👤 {user.display_name}",
        f"Roles: {roles}",
        f"Timezone: {zone_label(user.timezone)} (it's {now} there)",
        f"Apps: {', '.join(apps)} · notifications go to "
        f"{platform_name(target.platform) if target else 'nowhere yet'}",
        f"Member since {user.created_at.strftime('%d %b %Y')}",
    ]
    if "teacher" in user.role_names:
        rated = (await teacher_reputations(ctx.uow, [user.id]))[user.id]
        taught = (await count_sessions_taught(ctx.uow, [user.id]))[user.id]
        lines.insert(2, f"As a teacher: {rated} from students · {taught} sessions taught")
        records = await teacher_records(ctx.uow, user.id)
        lines.insert(3, "Recording: " + ("you agree to sessions being recorded when the "
                                         "student agrees too" if records else
                                         "your sessions are not recorded"))
    if note:
        lines.insert(0, note + "\n")
    return Reply(
        "\n".join(lines),
        (
            (
                Button("✏️ Change name", action=payload.command("profile", "name")),
                Button("🌍 Change timezone", action=payload.command("profile", "timezone")),
                Button("🔔 Notifications", action=payload.command("profile", "notify")),
            ),
            (
                Button("⏰ Reminders", action=payload.command("profile", "reminders")),
                Button("🔗 Link another app", action=payload.command("link")),
                *((Button("🎥 Recording on/off", action=payload.command("profile", "recording")),)
                  if "teacher" in user.role_names else ()),
            ),
        ),
        replace=ctx.clicked,
        tone="success" if note else "info",
    )


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    field = args.strip().lower()
    if field == "recording" and "teacher" in ctx.user.role_names:
        on = await toggle_teacher_records(ctx.uow, ctx.user)
        return Finish((await card(ctx, "🎥 Recording " + (
            "on: sessions are recorded when the student agrees too (for a transcript and an "
            "AI summary)." if on else "off: your sessions are not recorded.")),))
    if field in FIELDS:
        ctx.data["field"] = field
        return None
    return Finish((await card(ctx),))


async def ask_value(ctx: Ctx) -> Prompt:
    field = ctx.data["field"]
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
    if field == "reminders":
        if inp.value == "done":
            return Finish((await card(ctx, "✅ Saved."),))
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
    return Finish((await card(ctx, "✅ Saved."),))


FLOW = Flow(
    "profile",
    (Step("value", ask_value, on_value, free_text=True),),
    start=on_start,
    title="editing your profile",
)
COMMAND = Command("profile", "See and edit your profile", flow=FLOW)
