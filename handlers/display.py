"""Small, shared ways of showing things to people (times, bookings, menus)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.booking import BookingView
from core.models import Booking, User
from core.timezone import format_local, zone_label
from handlers import payload
from handlers.reply import Button, clip


def when(moment: datetime, user: User) -> str:
    """``Tue 24 Nov 18:00`` in the viewer's timezone."""
    return format_local(moment, user.timezone)


def zone_note(user: User) -> str:
    return f"times in your zone, {zone_label(user.timezone)}"


def status_label(booking: Booking, viewer: User) -> str:
    if booking.status == "held" and booking.hold_expires_at is not None:
        until = format_local(booking.hold_expires_at, viewer.timezone, with_date=False)
        return f"⏳ held until {until}, awaiting payment"
    return {
        "confirmed": "✅ confirmed",
        "cancelled": "✖ cancelled",
        "expired": "⌛ expired",
        "completed": "🏁 completed",
    }.get(booking.status, booking.status)


def booking_line(view: BookingView, viewer: User) -> str:
    b = view.booking
    other = (
        f"with {view.teacher_name}"
        if viewer.id == b.student_id
        else f"teaching {view.student_name}"
    )
    return (
        f"#{b.id} · {clip(view.course_title, 40)} {other}\n"
        f"    {when(b.starts_at, viewer)} · {status_label(b, viewer)}"
    )


def menu_buttons() -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button("📚 Courses", action=payload.command("courses")),
            Button("🗓 Book a session", action=payload.command("book")),
        ),
        (
            Button("📋 My bookings", action=payload.command("mybookings")),
            Button("👤 Profile", action=payload.command("profile")),
        ),
    )


def month_grid(first: date, open_days: set[date], weeks: int = 5) -> str:
    """A compact calendar from ``first``'s week: open days by number, the rest as dots.

    ```
    Mo Tu We Th Fr Sa Su
     ·  · 25 26 27  ·  ·
    30  1  2  3  4  ·  ·
    ```
    """
    start = first - timedelta(days=first.weekday())
    lines = ["Mo Tu We Th Fr Sa Su"]
    for week in range(weeks):
        cells = []
        for offset in range(7):
            day = start + timedelta(days=week * 7 + offset)
            cells.append(f"{day.day:>2}" if day in open_days else " ·")
        lines.append(" ".join(cells))
    return "\n".join(lines)


def percent_bar(pct: int, cells: int = 10, *, label: bool = True) -> str:
    """``▓▓▓░░ 60%``: a share shown as filled cells (progress, scores, profile strength)."""
    pct = max(0, min(pct, 100))
    filled = round(cells * pct / 100)
    return "▓" * filled + "░" * (cells - filled) + (f" {pct}%" if label else "")
