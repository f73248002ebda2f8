"""Where each notification goes: every kind belongs to a category; per category a person
picks channels (their chat apps, email) or keeps the default; quiet hours in their own
timezone hold chat notifications until the quiet time ends."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import InvalidInput
from core.models import User

EMAIL = "email"
CHAT_PLATFORMS = ("telegram", "discord", "terminal", "test")


@dataclass(frozen=True)
class Category:
    label: str
    email_by_default: bool


CATEGORIES: dict[str, Category] = {
    "messages": Category("💬 Messages", False),
    "bookings": Category("🗓 Bookings and changes", True),
    "reminders": Category("⏰ Reminders", True),
    "payments": Category("💳 Payments and earnings", True),
    "certificates": Category("🎓 Certificates and teaching", True),
    "community": Category("👥 Followers", False),
}

_PREFIXES = (
    ("reminder_", "reminders"),
    ("booking_", "bookings"),
    ("certificate_", "certificates"),
    ("teach", "certificates"),
    ("refund", "payments"),
    ("payout", "payments"),
)
_KINDS = {
    "direct_message": "messages", "thread_message": "messages", "broadcast": "messages",
    "session_done": "bookings", "followup": "bookings", "recording_ready": "bookings",
    "session_summary": "bookings", "intro_booked": "bookings",
    "receipt": "payments", "payment_declined": "payments", "released": "payments",
    "clawback": "payments", "late_cancel_charge": "payments",
    "new_follower": "community", "referral_joined": "community",
    "inquiry": "messages",
}
# Chat pings by nature: too close to the session, or an answer someone is waiting for.
CHAT_ONLY = frozenset({"reminder_1h", "reminder_15m", "ai_answer"})
# Sent at once even in quiet hours: the person asked for them for right now.
URGENT = frozenset({"reminder_1h", "reminder_15m", "ai_answer"})


def category_of(kind: str) -> str | None:
    """The category a kind belongs to; None for operational ones (admin alerts, AI answers),
    which always go to chat."""
    if kind in _KINDS:
        return _KINDS[kind]
    return next((category for prefix, category in _PREFIXES if kind.startswith(prefix)), None)


@dataclass(frozen=True)
class Route:
    chat: tuple[str, ...]  # platforms to message; () means none
    email: bool


def route(user: User, kind: str, platforms: Collection[str], default_platform: str | None,
          has_email: bool) -> Route:
    """The channels of one notification to ``user``, who has identities on ``platforms``
    (``default_platform`` is where they normally hear from us) and maybe a verified email."""
    default_chat: tuple[str, ...] = (default_platform,) if default_platform else ()
    category = category_of(kind)
    if category is None:
        return Route(default_chat, False)
    chosen = (user.notify_prefs or {}).get(category)
    if chosen is None:
        chat, email = default_chat, CATEGORIES[category].email_by_default
    else:
        chat = tuple(p for p in CHAT_PLATFORMS if p in chosen and p in platforms)
        email = EMAIL in chosen
        if not chat and not (email and has_email) and chosen:
            chat = default_chat  # what they picked is gone (an unlinked app): still reach them
    return Route(chat, email and has_email and kind not in CHAT_ONLY)


def channels(user: User, category: str, platforms: Collection[str],
             default_platform: str | None) -> list[str]:
    """The channels a category uses now, for showing the person their settings."""
    chosen = (user.notify_prefs or {}).get(category)
    if chosen is None:
        return ([default_platform] if default_platform else []) + (
            [EMAIL] if CATEGORIES[category].email_by_default else [])
    return [c for c in (*CHAT_PLATFORMS, EMAIL) if c in chosen and (c == EMAIL or c in platforms)]


def toggle_channel(user: User, category: str, channel: str, platforms: Collection[str],
                   default_platform: str | None) -> list[str]:
    """Switch one channel of one category on or off; returns the category's channels."""
    if category not in CATEGORIES or channel not in (*CHAT_PLATFORMS, EMAIL):
        raise InvalidInput("Tap one of the options shown.")
    if channel != EMAIL and channel not in platforms:
        raise InvalidInput("Link that app first with /link.")
    now = channels(user, category, platforms, default_platform)
    wanted = [c for c in now if c != channel] if channel in now else [*now, channel]
    prefs = dict(user.notify_prefs or {})
    prefs[category] = wanted
    user.notify_prefs = prefs  # a new dict, so the JSON column sees the change
    return wanted


def set_quiet_hours(user: User, start: int | None, end: int | None) -> None:
    """Quiet from ``start`` to ``end`` (minutes after local midnight; may wrap past it);
    None for both switches quiet hours off."""
    if (start is None) != (end is None):
        raise InvalidInput("Give both the start and the end of your quiet hours.")
    if start is not None and end is not None and (
            not (0 <= start < 1440 and 0 <= end < 1440) or start == end):
        raise InvalidInput("Quiet hours need a start and a different end, like 22:00-07:00.")
    user.quiet_from, user.quiet_to = start, end


def quiet_until(user: User, now: datetime) -> datetime | None:
    """When quiet hours end, if ``now`` falls in them (computed on the local date, so a
    daylight-saving change never shifts them); else None."""
    if user.quiet_from is None or user.quiet_to is None:
        return None
    zone = ZoneInfo(user.timezone)
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    start, end = user.quiet_from, user.quiet_to
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    wake = datetime.combine(day, time(end // 60, end % 60), tzinfo=zone)
    return wake.astimezone(now.tzinfo)
