"""/availability (teachers): weekly hours in a few taps or typed, days off, buffer, notice."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.availability import (
    add_override,
    list_free_slots,
    list_windows,
    load_terms,
    set_terms,
    set_weekly_availability,
)
from core.availability_text import PRESETS, describe_windows, hhmm, parse_override, parse_windows
from core.errors import InvalidInput
from core.external_calendar import clean_url, find_external_calendar, set_external_calendar
from core.models import AvailabilityOverride
from core.timezone import format_local, zone_label
from handlers.context import Ctx
from handlers.display import month_grid
from handlers.flow import Choice, Finish, Flow, Goto, Input, Outcome, Prompt, Reject, Stay, Step
from handlers.registry import Command
from handlers.reply import Reply, rows_of

BUFFERS = (0, 10, 15, 30)
NOTICES = (60, 12 * 60, 24 * 60, 48 * 60)
PREVIEW_DAYS = 14
SLOT_MINUTES = 60


async def _summary(ctx: Ctx) -> tuple[str, str]:
    """Weekly hours, settings, upcoming days off, and a two-week calendar of open days."""
    windows = await list_windows(ctx.uow, ctx.user)
    terms = (await load_terms(ctx.uow, [ctx.user.id]))[ctx.user.id]
    now = ctx.uow.clock.now()
    slots = await list_free_slots(ctx.uow, [ctx.user], SLOT_MINUTES, student_id=None,
                                  start=now, end=now + timedelta(days=PREVIEW_DAYS))
    zone = ZoneInfo(ctx.user.timezone)
    today = now.astimezone(zone).date()
    offs = (await ctx.uow.session.scalars(
        select(AvailabilityOverride).where(AvailabilityOverride.teacher_id == ctx.user.id,
                                           AvailabilityOverride.day >= today)
        .order_by(AvailabilityOverride.day).limit(5))).all()
    lines = [f"🗓 Your weekly hours ({zone_label(ctx.user.timezone)} time):"]
    lines += [f"  {line}" for line in describe_windows(windows)] or ["  none yet"]
    for o in offs:
        hours = (f" {hhmm(o.start_minute)}–{hhmm(o.end_minute or 1440)}"
                 if o.start_minute is not None else "")
        verb = "extra hours" if o.kind == "extra" else "off"
        lines.append(f"  {o.day.strftime('%a %d %b')}{hours}: {verb}")
    notice = terms.min_notice_minutes
    lines.append(f"Buffer {terms.buffer_minutes} min after each session · bookable from "
                 f"{notice // 60} h ahead · {len(slots)} free hour slots in the next "
                 f"{PREVIEW_DAYS} days:")
    open_days = {s.starts_at.astimezone(zone).date() for s in slots}
    return "\n".join(lines), month_grid(today, open_days, weeks=3)


async def ask_menu(ctx: Ctx) -> Prompt:
    text, grid = await _summary(ctx)
    presets = [Choice(label, f"p:{key}") for key, (label, _) in PRESETS.items()]
    rows = list(rows_of(presets, 2))
    rows.append((Choice("✏️ Type hours", "type"), Choice("🚫 Day off / extra", "date")))
    rows.append((Choice("⚙️ Buffer & notice", "terms"), Choice("🔗 Outside calendar", "ics"),
                 Choice("✅ Done", "done")))
    return Prompt(text + "\n\nTap a preset to replace your weekly hours, or type your own.",
                  tuple(rows), pre=grid)


async def on_menu(ctx: Ctx, inp: Input) -> Outcome:
    value = inp.value or ""
    if value.startswith("p:") and value[2:] in PRESETS:
        ctx.data["pending"] = PRESETS[value[2:]][1]
        return Goto("confirm")
    if value in {"type", "date", "terms", "ics"}:
        return Goto({"type": "typed", "date": "override", "terms": "terms",
                     "ics": "external"}[value])
    if value == "done":
        text, grid = await _summary(ctx)
        return Finish((Reply(text, pre=grid, tone="success", replace=ctx.clicked),))
    if inp.text:  # typed hours straight away count as "type hours"
        return await on_typed(ctx, inp)
    return Reject("Tap one of the options, or type hours such as mon-fri 18:00-21:00.")


async def ask_typed(ctx: Ctx) -> Prompt:
    return Prompt("Type your weekly hours, for example:\n"
                  "mon-fri 18:00-21:00, sat 10-12\nweekdays 9am-1pm; sun 14-16",
                  ((Choice("‹ Back", "back"),),))


async def on_typed(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == "back":
        return Goto("menu")
    try:
        parse_windows(inp.text or "")
    except InvalidInput as exc:
        return Reject(exc.user_message)
    ctx.data["pending"] = inp.text
    return Goto("confirm")


async def ask_confirm(ctx: Ctx) -> Prompt:
    lines = describe_windows(parse_windows(ctx.data["pending"]))
    return Prompt(f"Publish these weekly hours ({zone_label(ctx.user.timezone)} time)?\n"
                  + "\n".join(f"  {line}" for line in lines)
                  + "\n\nThey replace your current weekly hours; booked sessions stay.",
                  ((Choice("✅ Publish", "ok"), Choice("‹ Back", "back")),))


async def on_confirm(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == "back":
        return Goto("menu")
    if inp.value != "ok":
        return Reject("Tap “Publish” or “Back”.")
    await set_weekly_availability(ctx.uow, ctx.user, parse_windows(ctx.data.pop("pending")))
    return Goto("menu", note="✅ Published — students can book these hours now.")


async def ask_override(ctx: Ctx) -> Prompt:
    today = ctx.uow.clock.now().astimezone(ZoneInfo(ctx.user.timezone)).date()
    days = [today + timedelta(days=i) for i in range(1, 10)]
    choices = [Choice(f"🚫 {d.strftime('%a %d')}", f"off:{d.isoformat()}") for d in days]
    rows = list(rows_of(choices, 3))
    rows.append((Choice("‹ Back", "back"),))
    return Prompt("Tap a day to take it off, or type:\n"
                  "  dec 24 — the whole day off\n  dec 24 14-18 — those hours off\n"
                  "  extra dec 27 10-12 — extra hours that day", tuple(rows))


async def on_override(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == "back":
        return Goto("menu")
    today = ctx.uow.clock.now().astimezone(ZoneInfo(ctx.user.timezone)).date()
    text = inp.value[4:] if inp.value and inp.value.startswith("off:") else inp.text or ""
    try:
        override = parse_override(text, today)
        await add_override(ctx.uow, ctx.user, override)
    except InvalidInput as exc:
        return Reject(exc.user_message)
    what = "extra hours added" if override.kind == "extra" else "marked off"
    return Goto("menu", note=f"✅ {override.day.strftime('%a %d %b')} {what}.")


async def ask_terms(ctx: Ctx) -> Prompt:
    terms = (await load_terms(ctx.uow, [ctx.user.id]))[ctx.user.id]
    buffers = tuple(Choice(f"⏸ {b} min", f"b:{b}") for b in BUFFERS)
    notices = tuple(Choice(f"⏰ {n // 60} h", f"n:{n}") for n in NOTICES)
    return Prompt(f"Buffer after each session: {terms.buffer_minutes} min (time to breathe "
                  f"between students).\nStudents can book from "
                  f"{terms.min_notice_minutes // 60} h ahead.",
                  (buffers, notices, (Choice("‹ Back", "back"),)))


async def on_terms(ctx: Ctx, inp: Input) -> Outcome:
    value = inp.value or ""
    if value == "back":
        return Goto("menu")
    kind, _, amount = value.partition(":")
    if kind == "b" and amount.isdecimal():
        await set_terms(ctx.uow, ctx.user, buffer_minutes=int(amount))
    elif kind == "n" and amount.isdecimal():
        await set_terms(ctx.uow, ctx.user, min_notice_minutes=int(amount))
    else:
        return Reject("Tap a buffer or a notice time.")
    return Stay(note="✅ Saved.")


async def ask_external(ctx: Ctx) -> Prompt:
    row = await find_external_calendar(ctx.uow, ctx.user)
    if row is None:
        state = "No outside calendar is connected."
    elif row.last_error:
        state = f"Connected, but the last read failed: {row.last_error}."
    elif row.refreshed_at is None:
        state = "Connected; I'll read it within a few minutes."
    else:
        state = (f"Connected; last read "
                 f"{format_local(row.refreshed_at, ctx.user.timezone)} (your time).")
    return Prompt(f"🔗 {state}\nBusy times in your own calendar (work, other lessons) then "
                  "block bookings here. Paste its private iCal link — in Google Calendar: "
                  "Settings → your calendar → Secret address in iCal format.",
                  ((Choice("🗑 Disconnect", "remove"), Choice("‹ Back", "back")),))


async def on_external(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == "back":
        return Goto("menu")
    if inp.value == "remove":
        await set_external_calendar(ctx.uow, ctx.user, None)
        return Goto("menu", note="✅ Outside calendar disconnected.")
    try:
        await set_external_calendar(ctx.uow, ctx.user, clean_url(inp.text or ""))
    except InvalidInput as exc:
        return Reject(exc.user_message)
    return Goto("menu", note="✅ Connected — I'll read it within a few minutes and keep it "
                             "in sync; its busy times will block bookings.")


FLOW = Flow(
    "availability",
    (
        Step("menu", ask_menu, on_menu, free_text=True),
        Step("typed", ask_typed, on_typed, free_text=True),
        Step("confirm", ask_confirm, on_confirm),
        Step("override", ask_override, on_override, free_text=True),
        Step("terms", ask_terms, on_terms),
        Step("external", ask_external, on_external, free_text=True),
    ),
    title="setting your availability",
)
COMMAND = Command("availability", "Set the hours students can book you", flow=FLOW,
                  roles=frozenset({"teacher", "creator"}))
