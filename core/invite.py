"""Calendar invites (iTIP over ICS): one stable UID per booking, SEQUENCE raised on every
change, METHOD:CANCEL with the same UID when it is called off, and a per-person feed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event

from core.models import Booking

PRODID = "-//Alpha Peer//Bookings//EN"


@dataclass(frozen=True)
class InviteFacts:
    booking: Booking
    course_title: str
    teacher_name: str
    student_name: str


def uid(booking: Booking) -> str:
    return f"booking-{booking.id}@alphapeer"


def _event(facts: InviteFacts, now: datetime, *, cancelled: bool) -> Event:
    b = facts.booking
    what = "Free intro" if b.kind == "intro" else facts.course_title
    event = Event()
    event.add("uid", uid(b))
    event.add("sequence", b.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", b.starts_at)
    event.add("dtend", b.ends_at)
    event.add("summary", f"{what}: {facts.student_name} with {facts.teacher_name}")
    event.add("description", f"Alpha Peer session #{b.id} ({facts.course_title}). "
                             "The join button arrives in chat 15 minutes before the start.")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _calendar(method: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def invite(facts: InviteFacts, now: datetime, *, cancelled: bool = False) -> str:
    """METHOD:REQUEST for a booking, METHOD:CANCEL (same UID, later SEQUENCE) when off."""
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_event(facts, now, cancelled=cancelled))
    return str(cal.to_ical().decode())


def feed(items: Iterable[InviteFacts], now: datetime, name: str) -> str:
    """A subscribable calendar of someone's sessions."""
    cal = _calendar(None)
    cal.add("x-wr-calname", name)
    for facts in items:
        cal.add_component(_event(facts, now, cancelled=False))
    return str(cal.to_ical().decode())


def file_name(booking: Booking) -> str:
    return f"alphapeer-session-{booking.id}.ics"
