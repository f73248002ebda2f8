"""Issue 9's reliability test: random turns by several people in one marketplace.

Each hypothesis example seeds the demo marketplace (``alphapeer.demo``: a creator, teachers,
students with paid and past sessions, an admin) plus private data, then plays
``TURNS_PER_EXAMPLE`` turns through the real dispatcher by a cast of two to four of seven
people (students, teachers, the creator, the admin, and a stranger who was never onboarded and
whose app gives an odd name). Each turn is drawn against what is on screen (``st.data``):
clicking, or typing the label of, a button just shown to them (replies and notifications);
replaying an older one; pressing a button shown to someone else; a command with random
arguments or free text; a command or payload aimed at a real record (a booking, a person, a
thread, a course...), someone else's as often as not; a payload someone was shown with its
numbers swapped; hand-forged payloads. Strings are huge (up to 10,000 characters of what
renderers escape), empty or odd (RTL override, NUL, combining marks, astral emoji, a control
character inside an ordinary word). Sometimes the clock moves on.

After every turn:

- no reply is an incident apology or shows a traceback, and nothing is logged at ERROR (nor
  "database unavailable", which would hide a bad query);
- every reply, and every notification the turn queued, is within the platform limits, checked
  on what the Telegram and Discord renderers would send (``tests.platform_limits``), and a
  queued notification can be turned into a ``Reply`` at all (the courier does that later);
- no cross-user writes. Every tracked row has owners: a booking (and its payments and session
  messages) belongs to its student, its teacher and the course's creator; a conversation to
  the chat it is keyed by; a profile, an email address, a user row to that person; a direct
  message to its sender and recipient; a follow or a block to the one who made it; the admin
  owns everything but conversations. A turn may create, change or delete only rows the acting
  person owns, before or after the change. This is sound because every legitimate change in
  the product is made by someone with a stake in the row; the one change made by nobody, a
  lapsed hold turning ``expired`` (done lazily by whichever turn books next), is allowed.
  So a forged or foreign button that acted on someone else's booking, profile, messages or
  menu fails the test, whatever the reply said;
- no reply or notification to someone shows private data that is not theirs to see: email
  addresses (owner and admin), private bios (owner and admin), a direct message (its two
  people and admin), a session-thread message and a cancellation reason (the session's two
  people and admin). People may pass on their own: a notification their own turn queued may
  carry it (an inquiry gives the creator the asker's address to answer, and says so).

``RANDOM_TURNS`` (environment) sets the total number of turns; the default keeps ``make test``
to under a minute per backend, ``RANDOM_TURNS=10000`` (``make soak``) is the full soak. The
draws are derandomized, so every run tries the same things in the same order.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from alphapeer.demo import DEMO_DOMAIN, PLATFORM, seed_demo
from core.availability import list_free_slots
from core.booking import cancel_booking, confirm_booking, hold_slot
from core.clock import FrozenClock
from core.messaging import send_message
from core.models import Booking, Course, Identity, OutboxMessage, User
from core.models.booking import ACTIVE_STATUSES
from core.outbox import Delivery, OutButton
from core.profile import set_bio, set_private
from core.session_thread import open_thread, post_message
from core.uow import Database, UnitOfWork
from handlers import payload
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.reply import Button, Reply
from scheduling.courier import as_reply
from tests.conftest import T0, _wipe
from tests.fakechat import FakeChat
from tests.ownership import Owners, Rows, cross_user_writes, snapshot
from tests.platform_limits import platform_problems

RANDOM_TURNS = int(os.environ.get("RANDOM_TURNS", "1200"))
TURNS_PER_EXAMPLE = 50
EXAMPLES = max(1, math.ceil(RANDOM_TURNS / TURNS_PER_EXAMPLE))
PEOPLE = ("sam", "priya", "maya", "ken", "ada", "brian", "eve")  # eve: a stranger
FORBIDDEN = ("incident", "Traceback")
# Bare commands that answer with buttons: what someone does when nothing is on screen.
OPENERS = ("book", "mybookings", "courses", "profile", "notifications", "messages", "certify",
           "releases", "availability", "interests", "help", "intro", "dashboard", "outbox",
           "applications", "newcourse", "editcourse", "learn", "certificates", "message",
           "recommend", "broadcast", "reschedule", "cancel", "start", "creator", "people")
# /help, then openers first: hypothesis leans towards (and shrinks to) the first entries.
NAMES = sorted((c.name for c in build_registry().all()),
               key=lambda n: (n != "help", n not in OPENERS, n))

# ---- what people do ------------------------------------------------------------------------

IDS = st.one_of(st.integers(0, 40), st.sampled_from([-1, 2**31, 2**63, 10**30]))
WORDS = st.sampled_from([
    "", " ", "\n", "0", "1", "2", "3", "4", "5", "9", "yes", "no", "done", "all", "cancel",
    "✖ Cancel", "back", "next", "approve", "decline", "retry", "held", "peer on", "+code",
    "-data", "sam", "maya", "@maya", "Ada Lovelace", "python", "python-from-zero", "spanish",
    "sql-data-analysis", "mon-fri 18:00-21:00", "sat 10-12", "dec 24", "extra dec 27 10-12",
    "tomorrow 10:00", "2026-11-25", "18:00", "Europe/Berlin", "Mars/Olympus", "5★", "t1",
    "p2", "t1 o3", "1 doc 0", "3 held", "3 5", "1 done 1", "title New title", "grant 2",
    "revoke 2", "a@b.co", "not-an-email", "https://example.com", "http://x", "<b>x</b>",
    "&amp;", "**bold** _it_ `code` ||spoiler|| > quote @everyone", "level:beginner max:30",
    "by:ada", "course-python-from-zero", "ref-XYZ", "What is a decorator?",
])
ODD = st.sampled_from([
    "\u202eevil\u202c", "\u0000", "nul\u0000in the middle", "e\u0301\u0301\u0301\u0301",
    "👩‍👩‍👧‍👦🏳️‍🌈", "𝕏𓀀🀄", "\u200b\u200d\ufeff", "\u2066iso\u2069", "ﷺ", "\t\t", "\r\n",
    "١٢٣", "Ⅻ", "²", "𝟗", "İstanbul", "ß" * 20, "\x1b[31mred",
])
# Long texts made of what renderers escape (markdown, HTML) and what counts double (astral).
HUGE = st.builds(lambda piece, n: (piece * n)[:n], st.sampled_from(
    ["x", "* ", "&", "<", "_x", "`", "|", "🙂", "e\u0301", "a\n", "\\", "- x\n", "word ",
     "@everyone "]),
    st.sampled_from([300, 500, 1000, 1500, 1999, 2001, 4097, 10_000]))
RANDOM_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
TEMPLATE = st.sampled_from(["{}", "#{}", "approve {}", "decline {}", "retry {}", "{} held",
                            "{} 5", "t{}", "p{}", "{} doc 0", "{} done {}", "{} creator",
                            "grant {}", "{} {}", "{} title"])
WITH_ID = st.builds(lambda t, a, b: t.format(a, b), TEMPLATE, IDS, IDS)
# One odd character slipped into an ordinary word ("a\0@b.co", "py\u202ethon").
SPLICED = st.builds(lambda w, c, i: w[:i] + c + w[i:], WORDS, st.sampled_from(
    ["\u0000", "\u202e", "\u200b", "\u0301", "🙂", "\x1b", "\ufeff", "\u2066", "\n", "\x7f"]),
    st.integers(0, 12))
PIECE = st.one_of(WORDS, WORDS, ODD, SPLICED, WITH_ID, WITH_ID, RANDOM_TEXT)
ARGS = st.one_of(PIECE, PIECE, PIECE, st.lists(PIECE, min_size=2, max_size=3).map(" ".join),
                 HUGE)
COMMAND = st.one_of(st.sampled_from(NAMES),
                    st.sampled_from(["nosuch", "HELP", "start@AlphaPeerBot", "книга", "x" * 40]))
WAIT = st.sampled_from([0] * 20 + [20, 90, 60 * 25, 60 * 24 * 4])


def _command_payload(name: str, args: str) -> str:
    try:
        return payload.command(name, args)
    except ValueError:  # too long for a real button: sent raw, as a forging client would
        return f"v1:c:{name}:{args}"


FORGED = st.one_of(
    st.builds(_command_payload, st.sampled_from(NAMES), PIECE),
    st.builds(_command_payload, st.sampled_from(NAMES), PIECE),
    st.builds(lambda n, v: f"v1:f:{n}:{v}", st.text("abcXYZ019-_", max_size=8), PIECE),
    st.sampled_from(["", "v1", "v1:", "v1:c::", "v1:c:help", "v2:c:help:", "v1:x:help:",
                     "v1:c:HELP:", "v1:f::x", "v1:c:help:" + "é" * 40, "v1:c:cancel:1",
                     "v1:c:../../etc:", "v1:f:aaaaaa:x"]),
    HUGE, ODD,
)
BARE = st.sampled_from(NAMES).map(lambda c: f"/{c}")
COMMAND_LINE = st.builds(lambda c, a: f"/{c} {a}".rstrip(), COMMAND, ARGS)
CAST = st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=4, unique=True)
# Commands that act on a record named by its number, in the shapes their buttons use
# (handlers' payload.command calls), with the tables the numbers come from: aimed at real
# records, someone else's as often as not.
B, U, C, T, M = "booking", "user_account", "course", "direct_thread", "direct_message"
SHAPES = (
    ("cancel", "{}", B), ("reschedule", "{}", B), ("thread", "{}", B), ("review", "{} 5", B),
    ("attended", "{} held", B), ("refund", "{} 100 test", B), ("releases", "approve {}", B),
    ("certify", "approve {}", "certification_request"),
    ("certify", "decline {}", "certification_request"),
    ("declineapp", "{}", "teaching_application"), ("outbox", "retry {}", ""),
    ("messages", "t{}", T), ("messages", "t{} o{}", T, M), ("report", "{}", M),
    ("message", "{}", U), ("block", "{}", U), ("unblock", "{}", U), ("follow", "{}", U),
    ("unfollow", "{}", U), ("people", "{}", U), ("people", "{} doc 0", U),
    ("creator", "{}", U), ("creators", "grant {}", U), ("coursecard", "{}", C),
    ("book", "{}", C), ("intro", "{}", C), ("learn", "{}", C),
    ("learn", "{} done {}", C, "course_module"), ("module", "{}", "course_module"),
    ("quiz", "{}", "quiz"), ("editcourse", "{}", C), ("editcourse", "{} title", C),
    ("addmodule", "{}", C), ("addquiz", "{}", C), ("addmaterial", "{}", C),
    ("criteria", "{}", C), ("students", "{}", C), ("teachers", "{}", C), ("teach", "{}", C),
    ("suspendteacher", "{} {}", C, U), ("recommend", "{} {}", U, C), ("inquire", "{}", C),
    ("invite", "{} a@b.co", C), ("certificates", "{}", ""),
)
AIMS = SHAPES + tuple(s for s in SHAPES if s[2] == B) * 2  # bookings matter most
_NUMBER = re.compile(r"\d+")
# Columns naming the people a row belongs to.
_PARTIES = ("student_id", "teacher_id", "sender_id", "recipient_id", "low_id", "high_id",
            "user_id", "creator_id")
# What the stranger's app calls them: platforms pass on whatever people type as their name.
STRANGER_NAME = st.one_of(st.just("Eve"), ODD, SPLICED, RANDOM_TEXT, HUGE.map(lambda t: t[:300]))


@dataclass(frozen=True)
class Say:
    """Type a line: a command when it starts with '/'."""

    who: str
    line: str
    wait: int = 0


@dataclass(frozen=True)
class Press:
    """Send a button payload: one shown to ``who`` now (``mine``) or before (``stale``), one
    shown to someone else (their key), or a hand-made one (``forged``)."""

    who: str
    raw: str
    origin: str
    wait: int = 0


# ---- the marketplace and its secrets -------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    text: str
    allowed: frozenset[int]  # user ids who may see it (the admin always may)


async def _user(uow: UnitOfWork, key: str) -> User:
    user = await uow.session.scalar(select(User).join(Identity).where(
        Identity.platform == PLATFORM, Identity.external_id == key))
    assert user is not None, key
    return user


async def _plant_secrets(db: Database) -> list[Secret]:
    """Private data beside the demo's: bios, a direct message, a thread, a cancel reason."""
    async with db.uow() as uow:
        people = {key: await _user(uow, key) for key in PEOPLE if key != "eve"}
        sam, priya, maya, ken = (people[k] for k in ("sam", "priya", "maya", "ken"))
        secrets = [Secret(f"{key}@{DEMO_DOMAIN}", frozenset({u.id})) for key, u in people.items()]
        for who in (sam, priya):
            bio = f"SECRET-BIO-{who.id} my private story"
            await set_bio(uow, who, bio)
            await set_private(uow, who, "bio", True)
            secrets.append(Secret(bio, frozenset({who.id})))
        dm = f"SECRET-DM-{priya.id} for Maya only"
        await send_message(uow, priya, maya.id, dm)
        secrets.append(Secret(dm, frozenset({priya.id, maya.id})))
        booking = await uow.session.scalar(select(Booking).where(
            Booking.student_id == sam.id, Booking.status == "confirmed"))
        assert booking is not None, "the demo gives Sam a paid session"
        note = f"SECRET-THREAD-{booking.id} between Sam and Maya"
        await post_message(uow, await open_thread(uow, sam, booking.id), text=note)
        secrets.append(Secret(note, frozenset({sam.id, maya.id})))
        spanish = await uow.session.scalar(select(Course).where(
            Course.slug == "conversational-spanish"))
        assert spanish is not None
        now = uow.clock.now()
        slots = await list_free_slots(uow, [ken], spanish.session_minutes, student_id=priya.id,
                                      start=now + timedelta(days=3), end=now + timedelta(days=9))
        held = await hold_slot(uow, priya, spanish.id, ken.id, slots[0].starts_at)
        reason = f"SECRET-REASON-{held.id} family matters"
        await cancel_booking(uow, priya, held.id, reason)
        secrets.append(Secret(reason, frozenset({priya.id, ken.id})))
        # And an upcoming paid session of Priya's with Ken: one more booking to aim at.
        await confirm_booking(uow, (await hold_slot(uow, priya, spanish.id, ken.id,
                                                    slots[-1].starts_at)).id)
    return secrets


# ---- the game ------------------------------------------------------------------------------


def _identity_ids(rows: Rows, key: str) -> set[int]:
    return {r["user_id"] for r in rows["identity"].values()
            if r["platform"] == PLATFORM and r["external_id"] == key}


def _texts(reply: Reply) -> str:
    return "\n".join([reply.text, reply.pre, *(b.label + " " + (b.url or "")
                                                for b in reply.all_buttons)])


class Game:
    def __init__(self, db: Database, caplog: pytest.LogCaptureFixture,
                 secrets: list[Secret], stranger: str) -> None:
        self.db = db
        self.caplog = caplog
        self.secrets = secrets
        dispatcher = Dispatcher(db, build_registry())
        self.chats = {k: FakeChat(dispatcher, k, stranger if k == "eve" else None, PLATFORM)
                      for k in PEOPLE}
        self.shown: dict[str, list[Button]] = {k: [] for k in PEOPLE}  # since their last turn
        self.seen: dict[str, list[Button]] = {k: [] for k in PEOPLE}  # ever
        self.typing = dict.fromkeys(PEOPLE, False)  # their last prompt reads typed text
        self.payloads: set[str] = set()  # every command payload anyone was shown
        self.last = ""  # who acted last
        self.outbox_seen = 0
        self.rows: Rows = {}

    async def start(self) -> None:
        self.rows = await snapshot(self.db)
        async with self.db.uow() as uow:
            self.outbox_seen = int(await uow.session.scalar(
                select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0)

    def next_action(self, data: st.DataObject, cast: list[str]) -> Say | Press:
        """What someone in the cast does next, given what each of them has been shown."""
        # People do several steps in a row: the last one goes on half the time, and three
        # times in four while a menu of theirs is open.
        menu = any(b.action and b.action.startswith("v1:f:")
                   for b in self.shown.get(self.last, []))
        stay = [self.last] * len(cast) * (3 if menu else 1) if self.last in cast else []
        who = data.draw(st.sampled_from(cast + stay), label="who")
        self.last = who
        mine = [b for b in self.shown[who] if b.action is not None]
        before = [b for b in self.seen[who] if b.action is not None]
        others = [k for k in PEOPLE if k != who and any(b.action for b in self.seen[k])]
        kinds = ["bare", "command", "command", "text", "forged", "forged"]
        kinds += ["mine"] * 6 + ["label"] * 2 if mine else ["opener"] * 3
        kinds += ["text"] * 4 if self.typing[who] else []
        kinds += ["stale"] if before else []
        kinds += ["theirs"] * 2 if others else []
        kinds += ["aimed"] * 4 + (["mutated"] * 2 if self.payloads else [])
        kind = data.draw(st.sampled_from(kinds), label="kind")
        wait = data.draw(WAIT, label="wait")
        if kind in ("aimed", "mutated"):
            return self._aimed(data, who, kind, wait)
        if kind in ("mine", "label", "stale", "theirs"):
            owner = data.draw(st.sampled_from(others), label="whose") if kind == "theirs" \
                else who
            pool = mine if kind in ("mine", "label") else [
                b for b in self.seen[owner] if b.action is not None]
            button = data.draw(st.sampled_from(pool), label="button")
            if kind == "label":
                return Say(who, button.label, wait)
            assert button.action is not None
            return Press(who, button.action, kind if owner == who else owner, wait)
        line = {"bare": BARE, "command": COMMAND_LINE, "text": ARGS, "forged": FORGED,
                "opener": st.sampled_from(OPENERS).map(lambda c: f"/{c}")}[kind]
        drawn = data.draw(line, label=kind)
        return Press(who, drawn, "forged", wait) if kind == "forged" else Say(who, drawn, wait)

    def _aimed(self, data: st.DataObject, who: str, kind: str, wait: int) -> Say | Press:
        """A command about a real record (a booking, a person, a thread...), typed or as a
        payload; or a payload someone was shown with its numbers swapped for others."""
        me = _identity_ids(self.rows, who)

        def ids(table: str = "") -> st.SearchStrategy[int]:
            """Numbers of real rows: often of someone else's, often of live ones (a booking
            still held or confirmed), often both."""
            found = {k[0]: r for k, r in (self.rows[table] if table else {
                k: r for rows in self.rows.values() for k, r in rows.items()}).items()
                if isinstance(k[0], int)}
            if not found:
                return st.just(1)
            every = sorted(found)
            theirs = [k for k in every if not me & {found[k].get(c) for c in _PARTIES}]
            live = [k for k in every if found[k].get("status", "confirmed") in ACTIVE_STATUSES]
            both = [k for k in theirs if k in live]
            return st.one_of(*(st.sampled_from(p) for p in (every, theirs, live, both) if p))

        if kind == "mutated":
            shown = data.draw(st.sampled_from(sorted(self.payloads)), label="payload")
            raw = _NUMBER.sub(lambda _: str(data.draw(ids(), label="id")), shown)
            return Press(who, raw, "forged", wait)
        name, shape, *tables = data.draw(st.sampled_from(AIMS), label="shape")
        args = shape.format(*(data.draw(ids(t), label=t or "id") for t in tables))
        if data.draw(st.booleans(), label="typed"):
            return Say(who, f"/{name} {args}", wait)
        return Press(who, _command_payload(name, args), "forged", wait)

    async def _act(self, action: Say | Press) -> tuple[list[Reply], bool]:
        chat = self.chats[action.who]
        if isinstance(action, Say):
            return await chat.send(action.line), False
        return await chat.press(action.raw), True

    async def turn(self, action: Say | Press) -> None:
        if action.wait:
            clock = self.db.clock
            assert isinstance(clock, FrozenClock)
            clock.set(clock.now() + timedelta(minutes=action.wait))
        self.caplog.clear()
        who = action.who
        replies, pressed = await self._act(action)
        what = f"{action!r} got {[r.text[:200] for r in replies]}"
        after = await snapshot(self.db)
        for r in self.caplog.records:
            noisy = r.levelno >= logging.ERROR or (r.name == "alphapeer.dispatch"
                                                   and r.levelno >= logging.WARNING)
            assert not noisy, f"{what}: logged {r.getMessage()}\n{r.exc_text or ''}"
        for reply in replies:
            for word in FORBIDDEN:
                assert word not in reply.text, what
        problems = await platform_problems(replies, pressed=pressed)
        assert not problems, f"{what}: {problems}"
        actor = _identity_ids(self.rows, who) | _identity_ids(after, who)
        wrong = cross_user_writes(self.rows, after, actor, (PLATFORM, who, who),
                                  self.db.clock.now())
        assert not wrong, f"{what}: {who} changed what isn't theirs: {wrong}"
        self._no_secrets(replies, actor, after, what)
        self.shown[who] = [b for r in replies for b in r.all_buttons]
        self.seen[who] += self.shown[who]
        self.typing[who] = any(r.takes_text for r in replies)
        self.payloads |= {b.action for b in self.shown[who]
                          if b.action and b.action.startswith("v1:c:")}
        await self._notifications(after, what, actor)
        self.rows = after

    def _no_secrets(self, replies: list[Reply], viewer: set[int], rows: Rows, what: str,
                    sharer: set[int] | frozenset[int] = frozenset()) -> None:
        """Nothing private reaches ``viewer`` unless it is theirs, or its owner ``sharer``
        sent it by their own turn (an inquiry gives the creator the asker's address)."""
        if viewer & Owners(rows, rows).admins:
            return
        for reply in replies:
            shown = _texts(reply)
            for s in self.secrets:
                mine = viewer & s.allowed or (sharer & s.allowed)
                assert s.text not in shown or mine, f"{what}: shows {s.text!r}"

    async def _notifications(self, rows: Rows, what: str, actor: set[int]) -> None:
        """Notifications this turn queued: deliverable, within limits, nothing private."""
        async with self.db.uow() as uow:
            queued = list((await uow.session.scalars(select(OutboxMessage).where(
                OutboxMessage.id > self.outbox_seen).order_by(OutboxMessage.id))).all())
        keys = {r["user_id"]: r["external_id"] for r in rows["identity"].values()
                if r["platform"] == PLATFORM}
        for m in queued:
            self.outbox_seen = m.id
            delivery = Delivery(
                m.id, m.platform or PLATFORM, "1", m.text,
                tuple(tuple(OutButton(**b) for b in row) for row in m.buttons or []), 0,
                m.file_name, m.file_body, m.file_ref, m.file_kind, m.room)
            try:
                reply = as_reply(delivery)
            except ValueError as exc:
                raise AssertionError(f"{what}: notification #{m.id} can't be sent: {exc}") \
                    from exc
            problems = await platform_problems([reply], pressed=False)
            assert not problems, f"{what}: notification to #{m.user_id}: {problems}"
            self._no_secrets([reply], {m.user_id}, rows, f"{what}: notification #{m.id}", actor)
            self.payloads |= {b.action for b in reply.all_buttons
                              if b.action and b.action.startswith("v1:c:")}
            key = keys.get(m.user_id)
            if key in self.shown:
                self.shown[key] += reply.all_buttons
                self.seen[key] += reply.all_buttons


@pytest.mark.timeout(600 + RANDOM_TURNS // 4)
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
async def test_random_turns_by_many_people_stay_safe_and_within_limits(
        db: Database, caplog: pytest.LogCaptureFixture, data: st.DataObject) -> None:
    await _wipe(db)
    assert isinstance(db.clock, FrozenClock)
    db.clock.set(T0)
    assert await seed_demo(db)
    cast = data.draw(CAST, label="cast")
    game = Game(db, caplog, await _plant_secrets(db), data.draw(STRANGER_NAME, label="eve"))
    await game.start()
    for _ in range(TURNS_PER_EXAMPLE):
        await game.turn(game.next_action(data, cast))
