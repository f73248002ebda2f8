"""Availability as people type it: ``mon-fri 18:00-21:00, sat 10-12``; and back to words."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.errors import InvalidInput
from core.windows import Override, Window, merge_windows

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAMES = {**{d: i for i, d in enumerate(DAYS)},
          **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday",
                                               "friday", "saturday", "sunday"))},
          "tues": 1, "thur": 3, "thurs": 3}
_GROUPS = {"weekdays": range(5), "weekday": range(5), "weekends": (5, 6), "weekend": (5, 6),
           "daily": range(7), "everyday": range(7), "all": range(7)}
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"^{_TIME}\s*(?:-|–|to)\s*{_TIME}$", re.IGNORECASE)
EXAMPLE = "Try: mon-fri 18:00-21:00, sat 10-12"
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                           "aug", "sep", "oct", "nov", "dec"))}

PRESETS: dict[str, tuple[str, str]] = {
    "evenings": ("🌙 Weekday evenings", "mon-fri 18:00-21:00"),
    "daytime": ("☀️ Weekday daytime", "mon-fri 09:00-17:00"),
    "mornings": ("🌅 Weekday mornings", "mon-fri 07:00-10:00"),
    "weekends": ("🏖 Weekends", "sat-sun 10:00-16:00"),
    "every": ("📆 Every evening", "daily 18:00-21:00"),
}


def _minute(hour: str, minute: str | None, meridiem: str | None, *, end: bool) -> int:
    h, m = int(hour), int(minute or 0)
    if meridiem:
        if not 1 <= h <= 12:
            raise ValueError
        h = h % 12 + (12 if meridiem.lower() == "pm" else 0)
    if m > 59 or h > 24 or (h == 24 and m) or (h == 24 and not end):
        raise ValueError
    return h * 60 + m


def parse_range(text: str) -> tuple[int, int]:
    """``18:00-21:00``, ``18-21``, ``9am-1pm`` → minutes since midnight."""
    m = _RANGE.match(text.strip())
    if m is None:
        raise ValueError
    stop = _minute(m.group(4), m.group(5), m.group(6), end=True)
    start = _minute(m.group(1), m.group(2), m.group(3) or m.group(6), end=False)
    if start >= stop and not m.group(3) and m.group(6):  # "9-1pm" means 9am to 1pm
        start = _minute(m.group(1), m.group(2), "am", end=False)
    if stop <= start:
        raise ValueError
    return start, stop


def _days(token: str) -> list[int]:
    token = token.lower().strip(".,")
    if token in _GROUPS:
        return list(_GROUPS[token])
    if "-" in token:
        first, _, last = token.partition("-")
        a, b = _NAMES[first], _NAMES[last]
        return list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(0, b + 1))
    return [_NAMES[part] for part in token.split("/") if part]


def parse_windows(text: str) -> list[Window]:
    """Weekly windows from text; InvalidInput with an example when it can't be read."""
    raw = " ".join((text or "").split())
    if not raw or len(raw) > 500:
        raise InvalidInput(f"I couldn't read that. {EXAMPLE}")
    fragments = [f.strip() for f in re.split(r"[;,\n]", raw) if f.strip()]
    windows: list[Window] = []
    pending_days: list[int] = []
    for fragment in fragments:
        days: list[int] = list(pending_days)
        ranges: list[tuple[int, int]] = []
        for token in fragment.split(" "):
            try:
                if any(ch.isdigit() for ch in token):
                    ranges.append(parse_range(token))
                else:
                    days += _days(token)
            except (KeyError, ValueError):
                raise InvalidInput(f"I couldn't read “{token[:20]}”. {EXAMPLE}") from None
        if not ranges:  # "mon, wed 10-12": the days carry on to the next part
            pending_days = days
            continue
        if not days:
            raise InvalidInput(f"Which days is “{fragment[:30]}” for? {EXAMPLE}")
        windows += [Window(d, a, b) for d in sorted(set(days)) for a, b in ranges]
        pending_days = []
    if pending_days or not windows:
        raise InvalidInput(f"Please add the hours too. {EXAMPLE}")
    return merge_windows(windows)


def parse_date(text: str, today: date) -> date:
    """``2026-12-24``, ``24/12``, ``dec 24``, ``24 dec``, ``today``, ``tomorrow``."""
    t = text.strip().lower()
    if t in ("today", "tomorrow"):
        return today + timedelta(days=1 if t == "tomorrow" else 0)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return date.fromisoformat(t)
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", t)
        if m:
            day, month = int(m.group(1)), int(m.group(2))
        else:
            m = re.fullmatch(r"([a-z]{3})[a-z]*\s+(\d{1,2})|(\d{1,2})\s+([a-z]{3})[a-z]*", t)
            if m is None:
                raise ValueError
            month = _MONTHS[m.group(1) or m.group(4)]
            day = int(m.group(2) or m.group(3))
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except (KeyError, ValueError):
        raise InvalidInput("I couldn't read that date. Try dec 24, 24/12 or 2026-12-24.") from None


def parse_override(text: str, today: date) -> Override:
    """``dec 24`` (day off), ``dec 24 14-18`` (those hours off), ``extra dec 27 10-12``."""
    words = " ".join((text or "").split()).lower()
    extra = words.startswith(("extra ", "add ", "open "))
    if extra:
        words = words.split(" ", 1)[1]
    words = words.removeprefix("off ").removeprefix("block ")
    parts = words.rsplit(" ", 1)
    hours: tuple[int, int] | None = None
    if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]) and "-" in parts[1]:
        try:
            hours = parse_range(parts[1])
        except ValueError:
            raise InvalidInput("I couldn't read those hours. Try dec 24 14-18.") from None
        words = parts[0]
    day = parse_date(words, today)
    if extra and hours is None:
        raise InvalidInput("Extra hours need times too. Try: extra dec 27 10-12.")
    if hours is None:
        return Override(day, "blocked")
    return Override(day, "extra" if extra else "blocked", hours[0], hours[1])


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_windows(windows: list[Window]) -> list[str]:
    """``Mon–Fri 18:00–21:00`` lines, grouping days that share the same hours."""
    by_day: dict[int, tuple[tuple[int, int], ...]] = {}
    for w in merge_windows(windows):
        by_day[w.weekday] = (*by_day.get(w.weekday, ()), (w.start_minute, w.end_minute))
    lines: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == by_day[day]:
            last += 1
        names = DAYS[day].capitalize() + ("" if last == day else f"–{DAYS[last].capitalize()}")
        hours = ", ".join(f"{hhmm(a)}–{hhmm(b)}" for a, b in by_day[day])
        lines.append(f"{names} {hours}")
        day = last + 1
    return lines
