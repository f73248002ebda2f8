"""/dashboard: one screen with what matters now for each role the person holds — next
sessions, course progress, teaching and creator queues, the admin's queues, earnings and
unread messages — each with a button to the command that handles it."""

from __future__ import annotations

from core.dashboard import Dashboard, NextSession, get_dashboard
from core.earnings import Earnings
from core.models import User
from handlers import payload
from handlers.commands.earnings import bar as earnings_bar
from handlers.context import Ctx
from handlers.display import percent_bar, when, zone_note
from handlers.registry import Command
from handlers.reply import MAX_PER_ROW, MAX_ROWS, Button, Reply, clip

COURSES_SHOWN = 5


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _next_line(s: NextSession, user: User, other: str) -> str:
    held = " · ⏳ awaiting payment" if s.status == "held" else ""
    return (f"Next: {when(s.starts_at, user)} · {clip(s.course_title, 40)} {other} "
            f"{clip(s.other_name, 30)} (#{s.booking_id}){held}")


def _learning(b: Dashboard, user: User) -> list[str]:
    lines = [_next_line(b.next_as_student, user, "with")] if b.next_as_student else []
    for course in b.courses[:COURSES_SHOWN]:
        lines.append(f"{clip(course.title, 40)}: {percent_bar(course.pct)}")
    if len(b.courses) > COURSES_SHOWN:
        lines.append(f"…and {len(b.courses) - COURSES_SHOWN} more in /learn")
    return lines


def _teaching(b: Dashboard, user: User) -> list[str]:
    lines = [_next_line(b.next_as_teacher, user, "teaching")] if b.next_as_teacher else []
    counts = []
    if b.teaching_upcoming:
        counts.append(plural(b.teaching_upcoming, "upcoming session"))
    if b.ready_to_recommend:
        counts.append(plural(b.ready_to_recommend, "student") + " ready to recommend")
    return lines + ([" · ".join(counts)] if counts else [])


def _creating(b: Dashboard) -> list[str]:
    found = []
    if b.certificate_requests:
        found.append(plural(b.certificate_requests, "certificate request") + " to decide")
    if b.creator_applications:
        found.append(plural(b.creator_applications, "teaching application") + " to endorse")
    return [" · ".join(found)] if found else []


def _admin(b: Dashboard) -> list[str]:
    a = b.admin
    if a is None:
        return []
    found = []
    if a.releases:
        total = " + ".join(str(m) for m in a.releases_total)
        count = f"{a.releases}+" if a.releases_more else str(a.releases)
        found.append(f"🧾 {count} session{'s' if a.releases != 1 else ''} to release ({total})")
    if a.applications:
        found.append(f"🧑‍🏫 {plural(a.applications, 'teaching application')} to approve")
    if a.failed_messages:
        found.append(f"📤 {plural(a.failed_messages, 'message')} undelivered")
    if a.open_reports:
        found.append(f"🚩 {plural(a.open_reports, 'open report')}")
    return found


def _earnings(e: Earnings | None) -> list[str]:
    if e is None or (not e.total.minor and not e.statement):
        return []
    return [f"{earnings_bar(e)} {e.total}",
            f"held {e.held} · released {e.released} · on its way {e.on_its_way} · "
            f"paid out {e.paid_out}"]


def _go(label: str, command: str) -> Button:
    return Button(label, action=payload.command(command))


def _counted(label: str, n: int) -> str:
    """``🎓 Certify (2)``; no count when nothing waits."""
    return f"{label} ({n})" if n else label


def _buttons(b: Dashboard, roles: frozenset[str]) -> tuple[tuple[Button, ...], ...]:
    rows: list[list[Button]] = []
    rows.append([_go("📚 Learn", "learn")] if b.courses else [_go("📚 Courses", "courses")])
    rows[0] += [_go("🗓 My bookings", "mybookings"),
                _go(_counted("💬 Messages", b.unread), "messages")]
    work: list[Button] = []
    if b.ready_to_recommend:
        work.append(_go(f"✍️ Recommend ({b.ready_to_recommend})", "recommend"))
    if "creator" in roles:
        work.append(_go(_counted("🎓 Certify", b.certificate_requests), "certify"))
    if roles & {"creator", "admin"}:
        waiting = b.creator_applications + (b.admin.applications if b.admin else 0)
        work.append(_go(_counted("🧑‍🏫 Applications", waiting), "applications"))
    if b.earnings is not None:
        work.append(_go("💰 Earnings", "earnings"))
    rows.append(work)
    if b.admin is not None:
        rows.append([_go(_counted("🧾 Releases", b.admin.releases), "releases")]
                    + ([_go(f"📤 Outbox ({b.admin.failed_messages})", "outbox")]
                       if b.admin.failed_messages else []))
    laid = [tuple(row[i:i + MAX_PER_ROW]) for row in rows for i in range(0, len(row),
                                                                         MAX_PER_ROW)]
    return tuple(row for row in laid if row)[:MAX_ROWS]


def _welcome(user: User) -> Reply:
    return Reply(
        f"👋 Hi {clip(user.display_name, 40)}! Nothing is waiting for you yet.\n\n"
        "Next step: find a course with /courses and meet one of its teachers free for "
        "15 minutes with /intro — or /book a session straight away. Paying your first "
        "session enrols you, and your progress shows here.",
        ((_go("📚 Courses", "courses"), _go("🎁 Free intro", "intro"),
          _go("🗓 Book a session", "book")),))


async def show_dashboard(ctx: Ctx, _args: str) -> list[Reply]:
    user, roles = ctx.user, ctx.user.role_names
    b = await get_dashboard(ctx.uow, user)
    sections = [
        ("🎒 Learning", _learning(b, user)),
        ("🧑‍🏫 Teaching", _teaching(b, user) if "teacher" in roles else []),
        ("🛠 Your courses", _creating(b) if "creator" in roles else []),
        ("🛡 Admin", _admin(b)),
        ("💰 Earnings", _earnings(b.earnings)),
        ("💬 Messages", [plural(b.unread, 'unread message')] if b.unread else []),
    ]
    shown = [f"{title}\n" + "\n".join(lines) for title, lines in sections if lines]
    if not shown and not roles - {"student"}:
        return [_welcome(user)]
    head = f"🏠 Your dashboard ({zone_note(user)})"
    body = "\n\n".join(shown) if shown else "✅ All clear: nothing waits for you right now."
    return [Reply(clip(f"{head}\n\n{body}"), _buttons(b, roles), replace=ctx.clicked)]


COMMAND = Command("dashboard", "Everything waiting for you, role by role",
                  handler=show_dashboard)
