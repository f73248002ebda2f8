"""A teacher's outside calendar: its busy times block slots. The web fetch happens in a
scheduled job, never inside a chat turn; this module validates, parses and stores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import delete, insert, or_, select

from core.errors import InvalidInput
from core.models import ExternalBusy, ExternalCalendar, User
from core.uow import UnitOfWork

REFRESH_EVERY = timedelta(minutes=15)
LOOK_AHEAD = timedelta(days=400)
MAX_EVENTS = 5000


def clean_url(text: str) -> str:
    """An http(s) calendar address; ``webcal://`` (what calendar apps share) means https."""
    url = (text or "").strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://"):]
    parts = urlsplit(url)
    printable = url.isprintable() and " " not in url
    if (not printable or parts.scheme not in ("http", "https") or not parts.hostname
            or len(url) > 500):
        raise InvalidInput("That doesn't look like a calendar link. Paste the address that "
                           "ends in .ics (in Google Calendar: Settings → your calendar → "
                           "Secret address in iCal format).")
    return url


async def set_external_calendar(uow: UnitOfWork, teacher: User, url: str | None) -> None:
    """Connect (or, with None, disconnect) the teacher's outside calendar."""
    row = await uow.session.get(ExternalCalendar, teacher.id)
    if url is None:
        if row is not None:
            await uow.session.delete(row)
        await uow.session.execute(
            delete(ExternalBusy).where(ExternalBusy.teacher_id == teacher.id))
        return
    if row is None:
        row = ExternalCalendar(teacher_id=teacher.id, url=url)
        uow.session.add(row)
    row.url, row.refreshed_at, row.last_error = clean_url(url), None, None


async def find_external_calendar(uow: UnitOfWork, teacher: User) -> ExternalCalendar | None:
    return await uow.session.get(ExternalCalendar, teacher.id)


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):  # an all-day event: the whole local day
        value = datetime.combine(value, time(0, 0), tzinfo=zone)
    elif value.tzinfo is None:  # "floating" time: the teacher's own clock
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def busy_from_ics(raw: bytes | str, start: datetime, end: datetime,
                  zone_name: str) -> list[tuple[datetime, datetime]]:
    """Busy intervals between ``start`` and ``end``, recurring events expanded.

    Free ("transparent") and cancelled events do not block. Raises ValueError when the
    document is not a calendar.
    """
    zone = ZoneInfo(zone_name)
    try:
        calendar = Calendar.from_ical(raw)
    except Exception as exc:  # icalendar raises several kinds for malformed input
        raise ValueError(f"not an iCalendar document ({exc})") from None
    intervals: list[tuple[datetime, datetime]] = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        begin = event.get("DTSTART")
        if begin is None:
            continue
        first = _as_utc(begin.dt, zone)
        finish = event.get("DTEND")
        if finish is not None:
            last = _as_utc(finish.dt, zone)
        elif event.get("DURATION") is not None:
            last = first + event.get("DURATION").dt
        else:
            last = first + (timedelta(days=1) if not isinstance(begin.dt, datetime)
                            else timedelta(0))
        if last > first:
            intervals.append((first, last))
        if len(intervals) >= MAX_EVENTS:
            break
    return sorted(intervals)


async def list_due_calendars(uow: UnitOfWork) -> list[tuple[int, str, str]]:
    """(teacher id, URL, timezone) of outside calendars not read for a while."""
    cutoff = uow.clock.now() - REFRESH_EVERY
    rows = (await uow.session.execute(
        select(ExternalCalendar.teacher_id, ExternalCalendar.url, User.timezone)
        .join(User, User.id == ExternalCalendar.teacher_id)
        .where(or_(ExternalCalendar.refreshed_at.is_(None),
                   ExternalCalendar.refreshed_at < cutoff)))).all()
    return [(int(t), str(u), str(z)) for t, u, z in rows]


async def store_busy(uow: UnitOfWork, teacher_id: int,
                     intervals: Sequence[tuple[datetime, datetime]] | None,
                     error: str | None = None) -> None:
    """Replace the teacher's outside busy times; on an error keep the last good ones."""
    row = await uow.session.get(ExternalCalendar, teacher_id)
    if row is None:  # disconnected while we were reading it
        return
    row.refreshed_at, row.last_error = uow.clock.now(), (error[:300] if error else None)
    if intervals is None:
        return
    await uow.session.execute(delete(ExternalBusy).where(ExternalBusy.teacher_id == teacher_id))
    if intervals:
        await uow.session.execute(insert(ExternalBusy), [
            {"teacher_id": teacher_id, "starts_at": s, "ends_at": e} for s, e in intervals])
