"""The commands Alpha Peer understands, assembled into one registry."""

from __future__ import annotations

from handlers.commands import (
    ask,
    attended,
    availability,
    book,
    calendar,
    cancel,
    courses,
    earnings,
    help,
    link,
    mybookings,
    outbox,
    payouts,
    profile,
    refund,
    releases,
    reschedule,
    review,
    start,
    taxreport,
    thread,
    transcripts,
)
from handlers.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (start, help, courses, book, mybookings, reschedule, cancel, calendar,
                   profile, availability, link, outbox, attended, review,
                   earnings, payouts, releases, refund, taxreport, thread, ask,
                   transcripts):
        registry.add(module.COMMAND)
    registry.add(book.INTRO_COMMAND)
    return registry
