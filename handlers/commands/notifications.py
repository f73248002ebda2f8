"""/notifications: which kinds of notification reach you on which channels (your chat apps,
a verified email), the app they normally go to, and quiet hours in your own time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from core.account import list_identities, set_notify_via
from core.errors import InvalidInput
from core.linking import platform_name
from core.models import AccountEmail, User
from core.notification import CATEGORIES, CHAT_PLATFORMS, EMAIL, channels, set_quiet_hours
from core.notification import toggle_channel as switch
from core.outbox import notify_platform
from handlers import payload
from handlers.context import Ctx
from handlers.flow import Choice, Finish, Flow, Goto, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Button, Reply, clip, rows_of

USAGE = ("Send /notifications to choose with buttons, or for example /notifications bookings "
         "email, or /notifications quiet 22:00-07:00.")
BAD_QUIET = ("I couldn't read “{text}” as quiet hours. Type when they start and end in your "
             "time ({zone}), like 22:00-07:00, 22-7 or 10pm-7am — or “off” for none. "
             "Nothing was changed.")
OFF_WORDS = frozenset({"off", "none", "no", "never", "stop", "disable"})
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2})?)?(?:\s*([ap])\.?\s*m\.?)?", re.ASCII)
# The category a typed word means: its key, or the first word of its label.
_CATEGORY_WORDS = {**{k: k for k in CATEGORIES},
                   **{c.label.split()[1].casefold(): k for k, c in CATEGORIES.items()}}
PRESETS = ((22 * 60, 7 * 60), (23 * 60, 8 * 60))


@dataclass(frozen=True)
class Facts:
    """What the person has: linked apps, where notifications normally go, a verified email."""

    platforms: tuple[str, ...]
    default: str | None
    email: str | None


async def _facts(ctx: Ctx) -> Facts:
    identities = await list_identities(ctx.uow, ctx.user)
    target = await notify_platform(ctx.uow, ctx.user)
    email = await ctx.uow.session.scalar(select(AccountEmail.address).where(
        AccountEmail.user_id == ctx.user.id, AccountEmail.verified_at.is_not(None)))
    return Facts(tuple(i.platform for i in identities), target.platform if target else None,
                 email)


def channel_name(channel: str) -> str:
    return "📧 email" if channel == EMAIL else platform_name(channel)


def in_use(user: User, category: str, f: Facts) -> list[str]:
    """The channels a category really reaches now (as core.notification.route sends it)."""
    found = channels(user, category, f.platforms, f.default)
    if f.email is None:
        found = [c for c in found if c != EMAIL]
        if not found and (user.notify_prefs or {}).get(category) and f.default:
            found = [f.default]  # only email was picked and there is none: chat stands in
    return found


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def quiet_text(user: User) -> str:
    if user.quiet_from is None or user.quiet_to is None:
        return "off"
    return f"{hhmm(user.quiet_from)}–{hhmm(user.quiet_to)} your time ({user.timezone})"


def _minute(part: str) -> int | None:
    found = _TIME.fullmatch(part.strip())
    if found is None:
        return None
    hour, minute, half = int(found[1]), int(found[2] or 0), found[3]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour == 24 and minute == 0:
        hour = 0
    return hour * 60 + minute if hour < 24 and minute < 60 else None


def parse_quiet(text: str, zone: str) -> tuple[int, int] | None:
    """``22:00-07:00``, ``22-7``, ``10pm to 7am`` → minutes after local midnight; "off" →
    None; anything else raises with an example."""
    raw = " ".join(text.casefold().split())
    if raw in OFF_WORDS:
        return None
    for dash in ("–", "—", " to ", " until ", " till "):
        raw = raw.replace(dash, "-")
    parts = raw.removeprefix("from ").split("-")
    start, end = [_minute(p) for p in parts] if len(parts) == 2 else [None, None]
    if start is None or end is None:
        raise InvalidInput(BAD_QUIET.format(text=clip(text.strip(), 40), zone=zone))
    return start, end


def _set_quiet(user: User, hours: tuple[int, int] | None) -> str:
    set_quiet_hours(user, *(hours or (None, None)))
    if hours is None:
        return "🌙 Quiet hours off: chat notifications come at any time."
    return f"🌙 Quiet hours set: {quiet_text(user)}."


def _channel(word: str, f: Facts) -> str:
    """The channel a typed word names, refused politely when the person can't use it."""
    wanted = word.strip().casefold().removeprefix("📧").strip()
    if wanted in ("email", "e-mail", "mail"):
        if f.email is None:
            raise InvalidInput("You have no verified email yet: add one with /email, then "
                               "choose it here.")
        return EMAIL
    known = {p: p for p in CHAT_PLATFORMS} | {
        platform_name(p).casefold(): p for p in CHAT_PLATFORMS}
    platform = known.get(wanted)
    if platform is None:
        raise InvalidInput("Tap one of the channels shown (or type its name).")
    if platform not in f.platforms:
        raise InvalidInput(f"You haven't linked {platform_name(platform)} to this account: "
                           "send /link there first, then choose it here.")
    return platform


def _toggle(user: User, category: str, channel: str, f: Facts) -> str:
    if f.email is None and category not in (user.notify_prefs or {}):
        # Without an address the default's email part reaches nobody: pin what really
        # arrives first, so switching the chat app off means off.
        user.notify_prefs = {**(user.notify_prefs or {}), category: in_use(user, category, f)}
    now = switch(user, category, channel, f.platforms, f.default)
    return (f"{channel_name(channel).capitalize()} {'on' if channel in now else 'off'} for "
            f"{CATEGORIES[category].label}.")


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    words = args.split()
    if not words:
        return None
    head, rest = words[0].casefold(), " ".join(words[1:])
    if head in ("quiet", "quiethours"):
        if rest:
            ctx.data["note"] = _set_quiet(ctx.user, parse_quiet(rest, ctx.user.timezone))
        else:
            ctx.data["open"] = "quiet"
        return None
    category = _CATEGORY_WORDS.get(head)
    if category is None or len(words) > 2:
        raise InvalidInput(USAGE)
    ctx.data.update(open="category", category=category)
    if rest:
        f = await _facts(ctx)
        ctx.data["note"] = _toggle(ctx.user, category, _channel(rest, f), f)
    return None


def _with_note(ctx: Ctx, text: str) -> str:
    note = ctx.data.pop("note", None)
    return f"{note}\n\n{text}" if note else text


async def ask_menu(ctx: Ctx) -> Prompt:
    f, user = await _facts(ctx), ctx.user
    where = platform_name(f.default) if f.default else "nowhere yet (link an app with /link)"
    lines = ["🔔 Notifications: what reaches you, and where.",
             f"📍 Unless you choose otherwise below, notifications go to {where}.",
             f"📧 Email: {f.email}" if f.email else
             "📧 No verified email: add one with /email to get notifications by email too.", ""]
    for key, category in CATEGORIES.items():
        using = in_use(user, key, f)
        lines.append(f"{category.label}: "
                     f"{', '.join(channel_name(c) for c in using) if using else '🔕 off'}")
    lines += [f"🌙 Quiet hours: {quiet_text(user)}", "",
              "Tap a kind to choose its channels."]
    kinds = rows_of([Choice(c.label, f"cat:{k}") for k, c in CATEGORIES.items()], 3)
    apps = tuple(Choice(clip(f"📍 Use {platform_name(p)}", 80), f"via:{p}")
                 for p in f.platforms if p != f.default)[:5]
    return Prompt(_with_note(ctx, "\n".join(lines)),
                  (*kinds, (Choice("🌙 Quiet hours", "quiet"), Choice("✔️ Done", "done")), apps),
                  links=(Button("⏰ Reminder switches",
                                action=payload.command("profile", "reminders")),),
                  cancel=False)


def _done(ctx: Ctx) -> Finish:
    return Finish((Reply("🔔 All set: your choices apply from now on. Send /notifications to "
                         "change them any time.", tone="success", replace=ctx.clicked),))


async def on_menu(ctx: Ctx, inp: Input) -> Outcome:
    value = inp.value or ""
    if value == "done":
        return _done(ctx)
    if value == "quiet":
        return Goto("quiet")
    if value.startswith("cat:") and value[4:] in CATEGORIES:
        ctx.data["category"] = value[4:]
        return Goto("category")
    if value.startswith("via:"):
        try:
            await set_notify_via(ctx.uow, ctx.user, value[4:])
        except InvalidInput as exc:
            return Reject(exc.user_message)
        return Stay(f"✅ From now on notifications go to {platform_name(value[4:])}.")
    return Reject("Tap a kind of notification, 🌙 Quiet hours, or ✔️ Done.")


async def ask_category(ctx: Ctx) -> Prompt:
    f, key = await _facts(ctx), str(ctx.data["category"])
    using = in_use(ctx.user, key, f)
    lines = [f"{CATEGORIES[key].label} — now: "
             f"{', '.join(channel_name(c) for c in using) if using else '🔕 off'}",
             "Tap a channel to switch it on or off."]
    if key == "reminders":
        lines.append("The 1-hour and 15-minute reminders always come by chat, so the join "
                     "button is at hand.")
    if f.email is None:
        lines.append("📧 To get these by email, add an address with /email.")
    options = [p for p in f.platforms if p in CHAT_PLATFORMS] + ([EMAIL] if f.email else [])
    toggles = tuple(Choice(f"{'✅' if c in using else '❌'} {channel_name(c)}"[:80], f"ch:{c}")
                    for c in options[:5])
    return Prompt(_with_note(ctx, "\n".join(lines)),
                  (toggles, (Choice("🔕 All off", "off"), Choice("↺ Default", "default"),
                             Choice("‹ Back", "back"), Choice("✔️ Done", "done"))),
                  cancel=False)


async def on_category(ctx: Ctx, inp: Input) -> Outcome:
    key, user = str(ctx.data["category"]), ctx.user
    label = CATEGORIES[key].label
    if inp.value == "back":
        return Goto("menu")
    if inp.value == "done":
        return _done(ctx)
    if inp.value in ("off", "default"):
        prefs = dict(user.notify_prefs or {})
        prefs.pop(key, None)
        user.notify_prefs = {**prefs, key: []} if inp.value == "off" else prefs
        return Stay(f"{label}: " + ("🔕 off — none of these will reach you."
                                    if inp.value == "off" else "back to the default."))
    f = await _facts(ctx)
    try:
        typed = inp.value[3:] if inp.value and inp.value.startswith("ch:") else inp.text
        return Stay(_toggle(user, key, _channel(typed or "", f), f))
    except InvalidInput as exc:
        return Reject(exc.user_message)


async def ask_quiet(ctx: Ctx) -> Prompt:
    user = ctx.user
    text = (f"🌙 Quiet hours: {quiet_text(user)}.\nWhile they last, chat notifications wait "
            "until they end (the 1-hour and 15-minute reminders still come).\n\n"
            f"Type yours in your time ({user.timezone}), like 22:00-07:00, 22-7 or "
            "10pm-7am — or “off”.")
    presets = tuple(Choice(f"{hhmm(a)}–{hhmm(b)}", f"q:{a}-{b}") for a, b in PRESETS)
    return Prompt(_with_note(ctx, text),
                  ((*presets, Choice("🔕 Off", "q:off")), (Choice("‹ Back", "back"),)),
                  cancel=False)


async def on_quiet(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == "back":
        return Goto("menu")
    try:
        if inp.value and inp.value.startswith("q:"):
            start, _, end = inp.value[2:].partition("-")
            hours = (int(start), int(end)) if end else None
        else:
            hours = parse_quiet(inp.text or "", ctx.user.timezone)
        return Goto("menu", _set_quiet(ctx.user, hours))
    except InvalidInput as exc:
        return Reject(exc.user_message)


def _opened(ctx: Ctx, step: str) -> bool:
    return bool(ctx.data.get("open") == step)


FLOW = Flow(
    "notifications",
    (Step("menu", ask_menu, on_menu, skip=lambda ctx: bool(ctx.data.get("open"))),
     Step("category", ask_category, on_category, skip=lambda ctx: not _opened(ctx, "category")),
     # Typed times here are text, not the numbers of the preset buttons.
     Step("quiet", ask_quiet, on_quiet, skip=lambda ctx: not _opened(ctx, "quiet"),
          free_text=True)),
    start=on_start,
    title="changing your notifications",
)
COMMAND = Command("notifications", "What notifies you, where, and quiet hours", flow=FLOW)
