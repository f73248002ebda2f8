"""The commands Alpha Peer understands, assembled into one registry."""

from __future__ import annotations

from handlers.commands import (
    ask,
    attended,
    availability,
    book,
    broadcast,
    buildcourse,
    calendar,
    cancel,
    certificates,
    certify,
    coursecard,
    courses,
    creator,
    dashboard,
    earnings,
    email,
    follow,
    growth,
    help,
    inquire,
    interests,
    invite,
    learn,
    link,
    message,
    messages,
    mybookings,
    notifications,
    outbox,
    payouts,
    people,
    profile,
    recommend,
    refer,
    refund,
    releases,
    report,
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
                   profile, availability, link, email, outbox, attended, review,
                   earnings, payouts, releases, refund, taxreport, thread, ask,
                   transcripts, recommend, certify, certificates,
                   interests, people, follow, unfollow, creator, coursecard,
                   dashboard, notifications):
        registry.add(module.COMMAND)
    registry.add(book.INTRO_COMMAND)
    for module in (refer, invite, inquire, growth):  # issue 8: referrals and inquiries
        registry.add(module.COMMAND)
    for group in (buildcourse, learn, teach, message, messages, report, broadcast):
        for command in group.COMMANDS:
            registry.add(command)
    return registry
