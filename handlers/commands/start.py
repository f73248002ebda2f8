"""/start: onboarding (role, timezone) and deep links such as ``/start course-python``."""

from __future__ import annotations

import re
from datetime import datetime

from core.account import complete_onboarding
from core.errors import InvalidInput
from core.models import User
from core.referral import parse_payload, record_arrival
from core.timezone import format_local, parse_timezone, zone_label
from handlers.commands.interests import topic_rows
from handlers.context import Ctx
from handlers.display import menu_buttons
from handlers.flow import Choice, Finish, Flow, Input, Next, Outcome, Prompt, Reject, Step
from handlers.registry import Command
from handlers.reply import Reply, rows_of

ROLES = (Choice("🎓 I want to learn", "student"), Choice("💼 I fund someone's learning", "funder"))
ZONES = (
    ("London", "Europe/London"),
    ("Berlin", "Europe/Berlin"),
    ("Lagos", "Africa/Lagos"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Los Angeles", "America/Los_Angeles"),
    ("Mexico City", "America/Mexico_City"),
    ("São Paulo", "America/Sao_Paulo"),
    ("Kolkata", "Asia/Kolkata"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
    ("UTC", "UTC"),
)
INTERESTS_ASK = ("\n\n🎯 One optional last step: what are you curious about? Tap any topics "
                 "below and we'll suggest courses and teachers to match (never from your "
                 "private chats).")
_ORIGIN = re.compile(r"[^A-Za-z0-9_-]")


def _next_command(origin: str | None) -> str | None:
    """Deep links that lead somewhere: ``course-<slug>`` opens booking for that course, an
    invitation about a course (``ref-<code>-c<id>``) its card."""
    if origin and origin.startswith("course-") and len(origin) > len("course-"):
        return f"book {origin[len('course-') :]}"
    ref = parse_payload(origin)
    return f"coursecard {ref.course_id}" if ref and ref.course_id else None


def welcome(user: User, now: datetime, *, first: bool, replace: bool = False,
            interests: bool = False) -> Reply:
    """The menu; a newcomer's also offers interest topics, an optional last step that needs
    no answer (nothing waits for it, so the menu and any deep link work straight away)."""
    lead = "You're all set" if first else "Welcome back"
    clock = format_local(now, user.timezone, with_date=False)
    ask = INTERESTS_ASK if interests else ""
    return Reply(
        f"{lead}, {user.display_name}! Times show in {zone_label(user.timezone)} time "
        f"(it's {clock} there).\nWhat would you like to do?{ask}",
        (*menu_buttons(), *(topic_rows([]) if interests else ())),
        tone="success",
        replace=replace,
    )


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    origin = _ORIGIN.sub("", args)[:64] or None
    if origin:
        ctx.data["origin"] = origin
        ctx.data.setdefault("then", _next_command(origin) or "")
    if ctx.user.onboarded_at is not None:
        if origin and not ctx.user.origin:
            ctx.user.origin = origin
        reply = welcome(ctx.user, ctx.uow.clock.now(), first=False, replace=ctx.clicked)
        return Finish((reply,), then=ctx.data.get("then") or None)
    return None


async def ask_role(ctx: Ctx) -> Prompt:
    return Prompt(
        f"👋 Welcome to Alpha Peer, {ctx.user.display_name}!\n"
        "Learn a course from a peer who just mastered it — then teach it yourself and earn.\n\n"
        "What brings you here?",
        tuple((c,) for c in ROLES),
    )


async def on_role(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value not in {c.value for c in ROLES}:
        return Reject("Please tap one of the options below.")
    ctx.data["role"] = inp.value
    return Next()


ZONE_CHOICES = rows_of([Choice(label, zone) for label, zone in ZONES], 3)


async def ask_timezone(ctx: Ctx) -> Prompt:
    rows = ZONE_CHOICES
    return Prompt(
        "🌍 Which timezone are you in? All times will show in it.\n"
        "Tap one, or type your city (e.g. Berlin) or an offset such as UTC+2.",
        rows,
    )


async def on_timezone(ctx: Ctx, inp: Input) -> Outcome:
    try:
        zone = parse_timezone(inp.value or inp.text or "")
    except InvalidInput as exc:
        return Reject(exc.user_message)
    complete_onboarding(
        ctx.uow,
        ctx.user,
        role=ctx.data.get("role", "student"),
        timezone=zone,
        origin=ctx.data.get("origin"),
    )
    await record_arrival(ctx.uow, ctx.user, ctx.data.get("origin"))
    then = ctx.data.get("then") or None
    # Someone on their way somewhere (a deep link, a command) goes on without the detour.
    reply = welcome(ctx.user, ctx.uow.clock.now(), first=True, replace=ctx.clicked,
                    interests=then is None)
    return Finish((reply,), then=then)


FLOW = Flow(
    "start",
    (
        Step("role", ask_role, on_role),
        Step("timezone", ask_timezone, on_timezone, free_text=True),
    ),
    start=on_start,
    title="setting up",
)

COMMAND = Command(
    "start", "Get started: pick your role and timezone", flow=FLOW, needs_onboarding=False
)
