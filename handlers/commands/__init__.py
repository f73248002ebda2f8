"""The commands Alpha Peer understands, assembled into one registry."""

from __future__ import annotations

from handlers.commands import (
    ask,
    attended,
    availability,
    book,
    buildcourse,
    calendar,
    cancel,
    certificates,
    certify,
    coursecard,
    courses,
    creator,
    earnings,
    follow,
    help,
    interests,
    learn,
    link,
    mybookings,
    outbox,
    payouts,
    people,
    profile,
    recommend,
    refund,
    releases,
    reschedule,
    review,
    start,
    taxreport,
    teach,
    thread,
    transcripts,
    unfollow,
)
from handlers.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (start, help, courses, book, mybookings, reschedule, cancel, calendar,
                   profile, availability, link, outbox, attended, review,
                   earnings, payouts, releases, refund, taxreport, thread, ask,
                   transcripts, recommend, certify, certificates,
                   interests, people, follow, unfollow, creator, coursecard):
        registry.add(module.COMMAND)
    registry.add(book.INTRO_COMMAND)
    for group in (buildcourse, learn, teach):
        for command in group.COMMANDS:
            registry.add(command)
    return registry
