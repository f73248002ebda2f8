"""/book: course → teacher → day → time → confirm → held, with a pay link."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from core.availability import Slot, booking_window, list_free_slots
from core.booking import (
    INTRO_MINUTES,
    count_sessions_taught,
    get_booking_for,
    hold_slot,
    list_intro_partners,
    reschedule_booking,
    teacher_records,
)
from core.catalogue import find_course_by_slug, get_published_course, list_course_teachers
from core.catalogue import list_courses as list_published
from core.errors import DomainError, NotFound, ReasonRequired
from core.models import Course, User
from core.review import teacher_reputations
from core.timezone import format_local, local
from handlers import payload
from handlers.announce import booked_reply, rebooked_note, rescheduled_replies
from handlers.context import Ctx
from handlers.display import month_grid, zone_note
from handlers.flow import (
    Cancel,
    Choice,
    Finish,
    Flow,
    Goto,
    Input,
    Next,
    Outcome,
    Prompt,
    Reject,
    Stay,
    Step,
)
from handlers.links import pay_url
from handlers.registry import Command
from handlers.reply import Button, Reply, clip, rows_of
from handlers.turn import parse_id

COURSES_PER_PAGE = 4
TEACHERS_PER_PAGE = 3
DAYS_PER_PAGE = 12  # four rows of three, leaving a row for navigation
TIMES_PER_PAGE = 16
BACK = "back"
RECORD = "rec"
ANY = "any"


def slot_key(moment: datetime) -> str:
    return str(int(moment.timestamp()) // 60)


def _from_minute(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) * 60, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _page_nav(ctx: Ctx, total: int, per_page: int) -> tuple[int, list[Choice]]:
    pages = max(1, (total + per_page - 1) // per_page)
    page = min(max(int(ctx.data.get("page", 1)), 1), pages)
    nav = []
    if page > 1:
        nav.append(Choice("‹ Earlier", f"p:{page - 1}"))
    if page < pages:
        nav.append(Choice("Later ›", f"p:{page + 1}"))
    return page, nav


def _turn_page(ctx: Ctx, value: str | None) -> bool:
    page = parse_id(value[2:]) if value and value.startswith("p:") else None
    if page is not None:
        ctx.data["page"] = page
        return True
    return False


async def _course(ctx: Ctx) -> Course:
    return await get_published_course(ctx.uow, int(ctx.data["course_id"]))


def _minutes(ctx: Ctx, course: Course) -> int:
    if "minutes" in ctx.data:  # moving a booking keeps its length
        return int(ctx.data["minutes"])
    return INTRO_MINUTES if ctx.data.get("intro") else course.session_minutes


async def _slots(ctx: Ctx, course: Course, teachers: list[User],
                 days: int | None = None) -> list[Slot]:
    """Free slots for the student of this booking (the teacher may be the one moving it),
    in the whole booking window or its first ``days``."""
    start, end = booking_window(ctx.uow)
    if days is not None:
        end = min(end, start + timedelta(days=days))
    student_id = int(ctx.data.get("student_id", ctx.user.id))
    teachers = [t for t in teachers if t.id != student_id]
    return await list_free_slots(
        ctx.uow, teachers, _minutes(ctx, course), student_id=student_id, start=start, end=end,
        ignoring=ctx.data.get("moving"),
    )


async def _first_free(ctx: Ctx, course: Course, teachers: list[User]) -> dict[int, Slot]:
    """Each teacher's soonest free slot. Looked for in the next two days, then two weeks,
    then the whole window, each time only for the teachers still without one: most have a
    time soon, and expanding a year of times for every teacher was most of a step's work."""
    first: dict[int, Slot] = {}
    left = teachers
    for days in (2, 14, None):
        for slot in await _slots(ctx, course, left, days):
            first.setdefault(slot.teacher_id, slot)
        left = [t for t in left if t.id not in first]
        if not left:
            break
    return first


async def _course_and_teacher(ctx: Ctx) -> tuple[Course, User]:
    course = await _course(ctx)
    wanted = int(ctx.data["teacher_id"])
    teacher = next(
        (t for t in await list_course_teachers(ctx.uow, course.id) if t.id == wanted), None
    )
    if teacher is None:
        raise NotFound("teacher")
    return course, teacher


def _local_day(slot: Slot, user: User) -> date:
    return local(slot.starts_at, user.timezone).date()


# --- start -------------------------------------------------------------------------------


async def on_start(ctx: Ctx, args: str) -> Finish | None:
    wanted = args.strip().lower()[:48]
    if not wanted:
        return None
    course = None
    number = parse_id(wanted)
    if number is not None:
        try:
            course = await get_published_course(ctx.uow, number)
        except NotFound:
            course = None
    elif not wanted.isdigit():
        course = await find_course_by_slug(ctx.uow, wanted)
    if course is None:
        ctx.data["notice"] = "I couldn't find that course, so here are all of them."
    else:
        ctx.data["course_id"] = course.id
    return None


# --- course ------------------------------------------------------------------------------


async def ask_course(ctx: Ctx) -> Prompt:
    courses = await list_published(ctx.uow)
    notice = ctx.data.pop("notice", None)
    lead = f"{notice}\n\n" if notice else ""
    if not courses:
        return Prompt(lead + "No courses are open for booking yet — check back soon.")
    page, nav = _page_nav(ctx, len(courses), COURSES_PER_PAGE)
    shown = courses[(page - 1) * COURSES_PER_PAGE : page * COURSES_PER_PAGE]
    rows: list[tuple[Choice, ...]] = [
        (Choice(clip(f"{c.title} · {c.price}", 80), str(c.id)),) for c, _ in shown
    ]
    if nav:
        rows.append(tuple(nav))
    return Prompt(
        lead + "🗓 Which course would you like a session for? (Tap one, or type part of its name.)",
        tuple(rows),
    )


async def on_course(ctx: Ctx, inp: Input) -> Outcome:
    if _turn_page(ctx, inp.value):
        return Stay()
    chosen = parse_id(inp.value) if inp.value else None
    wanted = (inp.text or "").strip().casefold()
    if chosen is None and wanted:
        found = [c for c, _ in await list_published(ctx.uow) if wanted in c.title.casefold()]
        if len(found) > 1:
            return Reject(f"{len(found)} courses match “{clip(wanted, 40)}”. Tap one below.")
        if not found:
            return Reject(f"No course matches “{clip(wanted, 40)}”. Tap one below.")
        chosen = found[0].id
    if chosen is None:
        return Reject("Please tap a course below.")
    course = await get_published_course(ctx.uow, chosen)
    ctx.data.pop("page", None)
    ctx.data["course_id"] = course.id
    return Next()


# --- teacher -----------------------------------------------------------------------------


async def _teachers(ctx: Ctx, course: Course) -> list[User]:
    """Who can be booked: not yourself, and for intros only teachers you haven't met yet."""
    met = await list_intro_partners(ctx.uow, ctx.user.id) if ctx.data.get("intro") else set()
    return [t for t in await list_course_teachers(ctx.uow, course.id)
            if t.id != ctx.user.id and t.id not in met]


async def ask_teacher(ctx: Ctx) -> Prompt:
    course = await _course(ctx)
    teachers = await _teachers(ctx, course)
    first = await _first_free(ctx, course, teachers)
    back = (Choice("‹ Other course", BACK),)
    if not first:
        return Prompt(
            f"Sorry — nobody teaching {course.title} has a free time in the next "
            f"{ctx.settings.booking.horizon_days} days. Try another course.",
            (back,),
        )
    ranked = sorted((t for t in teachers if t.id in first), key=lambda t: first[t.id])
    page, nav = _page_nav(ctx, len(ranked), TEACHERS_PER_PAGE)
    shown = ranked[(page - 1) * TEACHERS_PER_PAGE : page * TEACHERS_PER_PAGE]
    soonest = format_local(min(first.values()).starts_at, ctx.user.timezone)
    rows: list[tuple[Choice, ...]] = [(Choice(f"⚡ First available · {soonest}", ANY),)]
    rows += [
        (
            Choice(
                clip(
                    f"{t.display_name} · next "
                    f"{format_local(first[t.id].starts_at, ctx.user.timezone)}",
                    80,
                ),
                str(t.id),
            ),
        )
        for t in shown
    ]
    rows.append(back + tuple(nav))
    taught = await count_sessions_taught(ctx.uow, [t.id for t in shown])
    rated = await teacher_reputations(ctx.uow, [t.id for t in shown])
    profiles = "\n".join(
        f"• {t.display_name} — {rated[t.id]} · {taught[t.id]} "
        f"session{'s' if taught[t.id] != 1 else ''} taught · next free "
        f"{format_local(first[t.id].starts_at, ctx.user.timezone)}"
        for t in shown)
    lead = (f"🎁 A free 15-minute intro for {course.title}: meet a teacher before you enrol."
            if ctx.data.get("intro")
            else f"👩‍🏫 {course.title} — {course.price} per {course.session_minutes} min.")
    question = "Who would you like to meet?" if ctx.data.get("intro") else \
        "Who would you like to learn with?"
    return Prompt(f"{lead}\n{profiles}\n\n{question} ({zone_note(ctx.user)}; ⚡ picks one "
                  "of the soonest at random)", tuple(rows))


async def on_teacher(ctx: Ctx, inp: Input) -> Outcome:
    if _turn_page(ctx, inp.value):
        return Stay()
    if inp.value == BACK:
        ctx.data.clear()
        return Goto("course")
    course = await _course(ctx)
    teachers = await _teachers(ctx, course)
    if inp.value == ANY:
        slots = sorted((await _first_free(ctx, course, teachers)).values())
        if not slots:
            return Reject("Those times were just taken. Please pick a teacher.")
        soonest = [s for s in slots if s.starts_at == slots[0].starts_at]
        pick = random.choice(soonest)  # fair among equally soon teachers
        # The day too: losing the hold to someone quicker shows that day's other times.
        ctx.data.update(teacher_id=pick.teacher_id, slot=slot_key(pick.starts_at),
                        day=_local_day(pick, ctx.user).isoformat())
        ctx.data.pop("page", None)
        return Goto("confirm")
    chosen = parse_id(inp.value) if inp.value else None
    if chosen is None or chosen not in {t.id for t in teachers}:
        return Reject("Please tap a teacher below.")
    ctx.data.pop("page", None)
    ctx.data["teacher_id"] = chosen
    return Next()


# --- day ---------------------------------------------------------------------------------


async def ask_day(ctx: Ctx) -> Prompt:
    course, teacher = await _course_and_teacher(ctx)
    slots = await _slots(ctx, course, [teacher])
    days = sorted({_local_day(s, ctx.user) for s in slots})
    back = (Choice("‹ Keep it as it was" if ctx.data.get("moving") else "‹ Teachers", BACK),)
    if not days:
        return Prompt(
            f"{teacher.display_name} has no free times left. Pick someone else.", (back,)
        )
    page, nav = _page_nav(ctx, len(days), DAYS_PER_PAGE)
    shown = days[(page - 1) * DAYS_PER_PAGE : page * DAYS_PER_PAGE]
    choices = [Choice(d.strftime("%a %d %b"), f"d:{d.isoformat()}") for d in shown]
    rows = list(rows_of(choices, 3)[:4])
    rows.append(back + tuple(nav))
    weeks = min(6, (shown[-1] - shown[0]).days // 7 + 2)
    return Prompt(
        f"📅 Days when {teacher.display_name} is free ({zone_note(ctx.user)}). "
        "Tap a day, or type its number:",
        tuple(rows),
        pre=month_grid(shown[0], set(days), weeks),
    )


async def on_day(ctx: Ctx, inp: Input) -> Outcome:
    if _turn_page(ctx, inp.value):
        return Stay()
    if inp.value == BACK:
        if ctx.data.get("moving"):  # moving a booking keeps its teacher
            return Cancel(f"Kept #{ctx.data['moving']} as it was. Nothing was changed.")
        ctx.data.pop("teacher_id", None)
        ctx.data.pop("page", None)
        return Goto("teacher")
    if not inp.value and inp.text and inp.text.strip().isdecimal():
        course, teacher = await _course_and_teacher(ctx)
        wanted = int(inp.text.strip())
        match = next((d for d in sorted({_local_day(s, ctx.user)
                                         for s in await _slots(ctx, course, [teacher])})
                      if d.day == wanted), None)
        if match is None:
            return Reject(f"{teacher.display_name} has no free time on the {wanted}th. "
                          "Pick a day from the calendar.")
        inp = Input(value=f"d:{match.isoformat()}")
    if not inp.value or not inp.value.startswith("d:"):
        return Reject("Please tap a day below (or type it as shown, e.g. “Tue 24 Nov”).")
    try:
        day = date.fromisoformat(inp.value[2:])
    except ValueError:
        return Reject("Please tap a day below.")
    ctx.data.pop("page", None)
    ctx.data["day"] = day.isoformat()
    return Next()


# --- time --------------------------------------------------------------------------------


async def ask_time(ctx: Ctx) -> Prompt:
    course, teacher = await _course_and_teacher(ctx)
    slots = await _slots(ctx, course, [teacher])
    day = date.fromisoformat(ctx.data["day"])
    todays = [s for s in slots if _local_day(s, ctx.user) == day]
    back = (Choice("‹ Other day", BACK),)
    if not todays:
        return Prompt("No free times are left that day. Please pick another day.", (back,))
    page, nav = _page_nav(ctx, len(todays), TIMES_PER_PAGE)
    shown = todays[(page - 1) * TIMES_PER_PAGE : page * TIMES_PER_PAGE]
    choices = [
        Choice(
            format_local(s.starts_at, ctx.user.timezone, with_date=False),
            f"t:{slot_key(s.starts_at)}",
        )
        for s in shown
    ]
    rows = list(rows_of(choices, 4))
    rows.append(back + tuple(nav))
    return Prompt(
        f"🕒 {day.strftime('%A %d %B')} with {teacher.display_name} — pick a start "
        f"time ({zone_note(ctx.user)}):",
        tuple(rows),
    )


async def on_time(ctx: Ctx, inp: Input) -> Outcome:
    if _turn_page(ctx, inp.value):
        return Stay()
    if inp.value == BACK:
        ctx.data.pop("day", None)
        ctx.data.pop("page", None)
        return Goto("day")
    when = _from_minute(inp.value[2:]) if inp.value and inp.value.startswith("t:") else None
    if when is None:
        return Reject("Please tap a time below (or type it as shown, e.g. 18:00).")
    ctx.data.pop("page", None)
    ctx.data["slot"] = slot_key(when)
    return Next()


# --- confirm -----------------------------------------------------------------------------


async def ask_confirm(ctx: Ctx) -> Prompt:
    course, teacher = await _course_and_teacher(ctx)
    when = _from_minute(ctx.data["slot"])
    assert when is not None
    hold = ctx.settings.booking.hold_minutes
    theirs = format_local(when, teacher.timezone, with_date=False)
    if ctx.data.get("moving"):
        old = _from_minute(ctx.data["from"])
        assert old is not None
        return Prompt(
            f"Move session #{ctx.data['moving']} ({course.title})\n"
            f"from {format_local(old, ctx.user.timezone)}\n"
            f"to   {format_local(when, ctx.user.timezone)} ({zone_note(ctx.user)})?\n"
            "Both of you will be told, with an updated calendar invite.",
            ((Choice("✅ Move it", "ok"), Choice("‹ Change time", BACK)),),
        )
    record_row, record_note = await _recording_choice(ctx, teacher)
    if ctx.data.get("intro"):
        return Prompt(
            f"Your free intro:\n\n📘 {course.title}\n👩‍🏫 {teacher.display_name}\n"
            f"🗓 {format_local(when, ctx.user.timezone)} ({zone_note(ctx.user)}; "
            f"{theirs} for {teacher.display_name})\n⏱ {INTRO_MINUTES} minutes · free, "
            f"no payment{record_note}",
            ((Choice("🎁 Book free intro", "ok"), Choice("‹ Change time", BACK)), *record_row),
        )
    return Prompt(
        f"Please check your session:\n\n📘 {course.title}\n👩‍🏫 {teacher.display_name}\n"
        f"🗓 {format_local(when, ctx.user.timezone)} ({zone_note(ctx.user)}; "
        f"{theirs} for {teacher.display_name})\n⏱ {course.session_minutes} minutes\n"
        f"💳 {course.price}{record_note}\n\nI'll hold this time for {hold} minutes while "
        "you pay.",
        ((Choice("✅ Hold & pay", "ok"), Choice("‹ Change time", BACK)), *record_row),
    )


async def _recording_choice(ctx: Ctx, teacher: User
                            ) -> tuple[tuple[tuple[Choice, ...], ...], str]:
    """The recording toggle: recorded only if both agree; the teacher's choice is standing."""
    if ctx.settings.video.provider != "bbb":
        return (), ""  # Jitsi rooms are never recorded
    wanted = bool(ctx.data.get("record"))
    agrees = await teacher_records(ctx.uow, teacher.id)
    if not wanted:
        note = "\n🎥 Not recorded"
    elif agrees:
        note = "\n🎥 Recorded (you both agreed) · transcript and AI summary afterwards"
    else:
        note = f"\n🎥 Not recorded: {teacher.display_name} doesn't record sessions"
    label = "🎥 Don't record" if wanted else "🎥 Record it"
    return ((Choice(label, RECORD),),), note


async def on_confirm(ctx: Ctx, inp: Input) -> Outcome:
    if inp.value == BACK:
        for key in ("slot", "day", "page"):
            ctx.data.pop(key, None)
        return Goto("day")
    if inp.value == RECORD and not ctx.data.get("moving"):
        ctx.data["record"] = not ctx.data.get("record")
        return Stay()
    if inp.value != "ok":
        return Reject("Tap “Hold & pay” to continue, or “Change time”.")
    when = _from_minute(ctx.data["slot"])
    assert when is not None
    if ctx.data.get("moving"):
        return await _move(ctx, when)
    try:
        booking = await hold_slot(
            ctx.uow,
            ctx.user,
            int(ctx.data["course_id"]),
            int(ctx.data["teacher_id"]),
            when,
            intro=bool(ctx.data.get("intro")),
            record=bool(ctx.data.get("record")),
        )
    except DomainError as exc:
        # Lost a race or changed meanwhile: show what is still free that day.
        ctx.data.pop("slot", None)
        return Goto("time", note=f"⚠️ {exc.user_message}")
    course = await _course(ctx)
    if booking.kind == "intro":
        return Finish(tuple(await booked_reply(ctx, booking)))
    moved = await rebooked_note(ctx, booking)
    until = format_local(booking.hold_expires_at or when, ctx.user.timezone, with_date=False)
    reply = Reply(
        f"✅ Held! Session #{booking.id}: {course.title}, "
        f"{format_local(when, ctx.user.timezone)}.{moved}\n"
        f"Pay by {until} to confirm it — after that the time is released.",
        (
            (Button(f"💳 Pay {booking.price}", url=pay_url(ctx.settings, booking)),),
            (Button("📋 My bookings", action=payload.command("mybookings")),),
        ),
        tone="success",
        replace=ctx.clicked,
    )
    return Finish((reply,))


async def _move(ctx: Ctx, when: datetime) -> Outcome:
    booking_id = int(ctx.data["moving"])
    try:
        old = await reschedule_booking(ctx.uow, ctx.user, booking_id, when,
                                       reason=ctx.data.get("reason"))
    except ReasonRequired as exc:
        return Goto("reason", note=f"⚠️ {exc.user_message}")
    except DomainError as exc:
        ctx.data.pop("slot", None)
        return Goto("time", note=f"⚠️ {exc.user_message}")
    booking = await get_booking_for(ctx.uow, ctx.user, booking_id)
    return Finish(tuple(await rescheduled_replies(ctx, booking, old)))


STEPS = (
    Step("course", ask_course, on_course, skip=lambda ctx: "course_id" in ctx.data),
    Step("teacher", ask_teacher, on_teacher),
    Step("day", ask_day, on_day),
    Step("time", ask_time, on_time),
    Step("confirm", ask_confirm, on_confirm),
)


async def on_start_intro(ctx: Ctx, args: str) -> Finish | None:
    ctx.data["intro"] = True
    return await on_start(ctx, args)


FLOW = Flow("book", STEPS, start=on_start, title="booking")
INTRO_FLOW = Flow("intro", STEPS, start=on_start_intro, title="booking an intro")

COMMAND = Command("book", "Book a session with a teacher", flow=FLOW, args_hint="[course]")
INTRO_COMMAND = Command("intro", "Meet a teacher free for 15 minutes before you enrol",
                        flow=INTRO_FLOW, args_hint="[course]")
