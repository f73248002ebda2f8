"""Authorisation matrix (issue 9): every command and web route, tried by every role and by a
stranger; only the allowed ones succeed.

Chat: each command of the registry (EXPECTED must classify every one) is sent by a stranger,
a student, a student-teacher, the course's creator, another creator, a funder and the admin,
followed by the steps that perform its privileged action (approve, release, refund, grant,
broadcast...). Refused means a refusal message and no row changed in any table but flow state
and counters; allowed means the normal screen, and the first allowed person's action really
changes what it should. Privileged buttons taken from their owner's screen are pressed by
everyone else. Web: every route of the server, with no credentials, forged ones, and each
role's session and links: allowed ones answer 2xx/3xx, the rest 4xx, nothing 5xx.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy import text as sql

from core import password
from core.booking import hold_slot
from core.certificates import recommend
from core.clock import FrozenClock
from core.db import Base
from core.email_token import RESET, SET_PASSWORD, VERIFY, issue_token
from core.errors import NotFound
from core.followup import record_report
from core.learning import mark_module_done
from core.messaging import REFUSED as REFUSED_MESSAGE
from core.messaging import send_message
from core.metrics import Metrics
from core.models import (
    AccountEmail,
    Booking,
    Certificate,
    CourseMaterial,
    CourseModule,
    Enrolment,
    OutboxMessage,
    Profile,
    Quiz,
    QuizQuestion,
    RateEvent,
    Recording,
    SessionMessage,
    TeachingApplication,
    Transcript,
    User,
    WebSession,
)
from core.payment import handle_event, record_checkout
from core.payment_port import CHECKOUT_PAID, PaymentEvent
from core.profile import SECTIONS
from core.referral import ensure_ref_code
from core.signing import sign_token
from core.uow import Database, UnitOfWork
from core.video import end_token, meeting_id_for
from core.web_session import create_session
from handlers import payload, texts
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.links import calendar_url, pay_url, payouts_url
from handlers.registry import Command
from handlers.reply import Reply
from payments.stripe_provider import StripeProvider
from tests.bbb_standin import BBBStandin, sign_recording_callback
from tests.conftest import T0, _wipe
from tests.fakechat import FakeChat
from tests.world import World, add_course, add_person, build_world
from video.bbb import BBBProvider
from web_callbacks.account import COOKIE
from web_callbacks.account_pages import FORM_COOKIE
from web_callbacks.app import APPLIER_KEY, Webhook, create_app
from web_callbacks.stripe_webhook import PATH as STRIPE_PATH

# --- the scene --------------------------------------------------------------------------------

TUE_A = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, Maya's hours
TUE_B = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
SUN = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # the upcoming session
MON = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the held, unpaid one
SAT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # "now": past the Tuesday cooling-off


@dataclass
class Scene:
    world: World
    ids: dict[str, int]


async def _paid(uow: UnitOfWork, student: User, course_id: int, teacher: User,
                at: datetime) -> int:
    booking = await hold_slot(uow, student, course_id, teacher.id, at)
    checkout = await record_checkout(uow, booking, "sandbox", f"cs_m{booking.id}", "")
    await handle_event(uow, PaymentEvent(
        "sandbox", f"evt_m{booking.id}", CHECKOUT_PAID, checkout_ref=checkout.checkout_ref,
        charge_ref=f"ch_m{booking.id}", amount=booking.price, booking_id=booking.id), {})
    return booking.id


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.session.get(User, user_id)
    assert user is not None
    return user


async def build_scene(db: Database) -> Scene:
    world = await build_world(db)
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        now = uow.clock.now()
        brian = await add_person(uow, "brian", "Brian", "Europe/London", "admin")
        fran = await add_person(uow, "fran", "Fran", "Europe/Paris", "funder")
        olga = await add_person(uow, "olga", "Olga", "Europe/Oslo", "creator")
        go = await add_course(uow, "go", "Go Basics", olga, 3500, 60, [olga])
        draft = await add_course(uow, "rust", "Rust Draft", olga, 3500, 60, [olga],
                                 status="draft")
        await uow.session.flush()
        ids.update(brian=brian.id, fran=fran.id, olga=olga.id, go=go.id, draft=draft.id,
                   python=world.python.id, spanish=world.spanish.id, sam=world.sam.id,
                   maya=world.maya.id, ken=world.ken.id, lee=world.lee.id,
                   ada=world.creator.id)
        # Sam may apply to teach Spanish: he holds its Completion certificate.
        uow.session.add(Certificate(code="sam-spanish-1", kind="completion",
                                    course_id=world.spanish.id, user_id=world.sam.id,
                                    issued_at=now, issued_by=world.creator.id))
        # Fran keeps her whole profile private (PRODUCT.md: a funder may).
        uow.session.add(Profile(user_id=fran.id, bio="Head of learning at Acme.",
                                private=list(SECTIONS), documents=[
                                    {"name": "budget.pdf", "ref": "doc-1", "platform": "test",
                                     "kind": "document"}]))
        for person in (world.sam, world.maya, world.creator, brian, fran, olga):
            uow.session.add(AccountEmail(user_id=person.id, added_at=now, verified_at=now,
                                         address=f"{person.display_name.lower()}@example.org"))
        sam, maya = await _user(uow, world.sam.id), await _user(uow, world.maya.id)
        ids["done_a"] = await _paid(uow, sam, world.python.id, maya, TUE_A)
        ids["done_b"] = await _paid(uow, sam, world.python.id, maya, TUE_B)
        ids["upcoming"] = await _paid(uow, sam, world.python.id, maya, SUN)
    assert isinstance(db.clock, FrozenClock)
    db.clock.set(SAT)
    async with db.uow() as uow:
        now = uow.clock.now()
        sam, maya = await _user(uow, world.sam.id), await _user(uow, world.maya.id)
        for booking_id in (ids["done_a"], ids["done_b"]):
            for who in (sam, maya):
                await record_report(uow, who, booking_id, "held")
        modules = (await uow.session.scalars(select(CourseModule).where(
            CourseModule.course_id == world.python.id).order_by(CourseModule.position))).all()
        for module in modules:
            await mark_module_done(uow, sam.id, module.id)
        ids["module"] = modules[0].id
        enrolment = await uow.session.scalar(select(Enrolment).where(
            Enrolment.course_id == world.python.id, Enrolment.student_id == sam.id))
        assert enrolment is not None
        enrolment.funder_id = ids["fran"]
        ids["request"] = (await recommend(uow, maya, sam.id, world.python.id)).id
        pending = TeachingApplication(course_id=world.python.id, user_id=world.lee.id,
                                      created_at=now)
        endorsed = TeachingApplication(course_id=world.spanish.id, user_id=world.lee.id,
                                       status="endorsed", endorsed_by=world.creator.id,
                                       created_at=now)
        failed = OutboxMessage(user_id=world.lee.id, kind="test", text="lost", created_at=now,
                               next_attempt_at=now, failed_at=now, platform="test",
                               attempts=8, last_error="gone")
        quiz = Quiz(course_id=world.python.id, title="Basics check", pass_pct=50,
                    created_at=now)
        uow.session.add_all([pending, endorsed, failed, quiz])
        await uow.session.flush()
        uow.session.add(QuizQuestion(quiz_id=quiz.id, position=1, prompt="1 + 1?",
                                     options=["1", "2"], answer=1))
        recording = Recording(booking_id=ids["done_a"], provider="jitsi", record_id="rec-a",
                              playback_url="https://video.example/rec-a",
                              media_url="https://video.example/rec-a.mp4", created_at=now,
                              next_attempt_at=now)
        shared = SessionMessage(booking_id=ids["upcoming"], sender_id=maya.id,
                                file_name="notes.pdf", file_ref="https://files.example/n.pdf",
                                file_kind="document", platform="discord", created_at=now)
        note = CourseMaterial(course_id=world.python.id, kind="note", title="Variables",
                              body="A variable is a name for a value.", created_at=now)
        uow.session.add_all([recording, shared, note])
        await uow.session.flush()
        uow.session.add(Transcript(recording_id=recording.id, booking_id=ids["done_a"],
                                   body="Today we practised variables and loops.",
                                   created_at=now))
        dm = await send_message(uow, maya, sam.id, "See you on Sunday!")
        held = await hold_slot(uow, sam, world.python.id, maya.id, MON)
        await uow.session.flush()
        ids.update(app_pending=pending.id, app_endorsed=endorsed.id, outbox=failed.id,
                   quiz=quiz.id, recording=recording.id, file=shared.id, dm=dm.id,
                   thread=dm.thread_id, held=held.id)
    return Scene(world, ids)


# --- who is who -----------------------------------------------------------------------------

# Each role, played by one person of the scene (chat key). "creator2" is a creator who owns
# other courses: the one who must not act on Ada's.
PERSONAS: dict[str, str] = {
    "stranger": "zed",  # never seen: not onboarded
    "student": "sam",  # enrolled in Python (funded by Fran), taught by Maya
    "teacher": "maya",  # student-teacher of Python (teacher + student roles)
    "creator": "ada",  # created Python and Spanish (creator + teacher roles)
    "creator2": "olga",  # creator of Go and a draft, nothing to do with Ada's courses
    "funder": "fran",  # pays for Sam's Python
    "admin": "brian",
}
EVERYONE = frozenset(PERSONAS)
MEMBERS = EVERYONE - {"stranger"}  # anyone onboarded
NOBODY: frozenset[str] = frozenset()
ADMIN = frozenset({"admin"})
CREATORS = frozenset({"creator", "creator2"})
PAYEES = frozenset({"teacher", "creator", "creator2"})  # teacher or creator role: earn money
OWNER = frozenset({"creator", "admin"})  # who manages Python: its creator and the admin
PARTIES = frozenset({"student", "teacher"})  # Sam and Maya: the people of the sessions


@dataclass(frozen=True)
class Try:
    """One attempt: the command (and the steps that perform its privileged action), who may
    do it, what the first allowed person's run must change, and a line of its normal screen;
    ``denied`` is what the others see instead, where the command is open but its content is
    not (someone else's sessions, messages, requests, materials).

    Steps: ``/command args``, ``press:args`` (a button payload of this command, as a forged
    button would send it), ``type:text`` and ``click:label``. ``{name}`` is a scene id."""

    steps: tuple[str, ...]
    who: frozenset[str]
    changes: tuple[str, ...] = ()
    ok: str = ""
    denied: str = ""  # for commands open to all whose content is scoped: "none of it for you"


def t(*steps: str, who: frozenset[str], changes: tuple[str, ...] = (), ok: str = "",
      denied: str = "") -> Try:
    return Try(steps, who, changes, ok, denied)


# Every command of the registry, with who may use it (PRODUCT.md's roles and the code's
# ownership rules). A new command fails test_every_command_is_classified until it is here.
EXPECTED: dict[str, tuple[Try, ...]] = {
    # Open to everyone, even before onboarding.
    "start": (t("/start", who=EVERYONE),),
    "help": (t("/help", who=EVERYONE),),
    "courses": (t("/courses", who=EVERYONE),),
    "link": (t("/link", who=EVERYONE),),
    "people": (t("/people", who=EVERYONE),
               t("/people {fran}", who=frozenset({"funder"}), ok="Acme",  # private sections
                 denied="keeps their profile private"),
               t("/people {fran} doc 1", who=frozenset({"funder"}), ok="budget.pdf",
                 denied="isn't on this profile")),
    "creator": (t("/creator", who=EVERYONE), t("/creator {ada}", who=EVERYONE)),
    "coursecard": (t("/coursecard {python}", who=EVERYONE),
                   t("/coursecard {draft}", who=frozenset({"creator2"}))),  # a draft: its creator
    "inquire": (t("/inquire {python}", who=EVERYONE),),
    # Anyone onboarded: their own things.
    "book": (t("/book", who=MEMBERS), t("/book {draft}", who=NOBODY)),
    "intro": (t("/intro", who=MEMBERS),),
    "mybookings": (t("/mybookings", who=PARTIES, ok="#{upcoming} · Python",
                     denied="You have no upcoming sessions"),),
    "calendar": (t("/calendar", who=MEMBERS),),
    "profile": (t("/profile", who=MEMBERS),),
    "email": (t("/email", who=MEMBERS),),
    "notifications": (t("/notifications", who=MEMBERS),),
    "dashboard": (t("/dashboard", who=MEMBERS),),
    "interests": (t("/interests", who=MEMBERS),),
    # The course in focus (next session's, else one's own course): its materials only.
    "ask": (t("/ask what is a variable", who=frozenset({"student", "teacher", "creator"}),
              ok="Variables", denied="nothing in the course materials"),),
    "transcripts": (t("/transcripts variables", who=PARTIES | ADMIN, ok="#{done_a}",
                      denied="No transcript mentions"),),  # the admin searches them all
    "certificates": (t("/certificates", who=MEMBERS),
                     t("/certificates sam-spanish-1", who=frozenset({"student"}))),
    "follow": (t("/follow {ken}", who=MEMBERS, changes=("follow",)),),
    "unfollow": (t("/unfollow {ken}", who=MEMBERS),),
    "messages": (t("/messages", who=PARTIES, ok="See you on Sunday!",
                   denied="No conversations yet"),
                 t("/messages t{thread}", who=PARTIES)),
    "block": (t("/block {lee}", who=MEMBERS, changes=("block",)),),
    "unblock": (t("/unblock", who=MEMBERS),),
    "learn": (t("/learn", who=frozenset({"student"}), ok="Python from Zero",
                denied="You're not enrolled"),
              t("/learn {python}", who=frozenset({"student"}))),
    # Only the people of a session.
    "reschedule": (t("/reschedule {upcoming}", who=PARTIES),),
    "cancel": (t("/cancel {upcoming}", "type:Family emergency", "click:Yes, cancel it",
                 who=PARTIES, changes=("booking",)),),
    "thread": (t("/thread {upcoming}", "type:See you soon", who=PARTIES,
                 changes=("session_message",)),),
    "attended": (t("/attended {done_a} held", who=PARTIES),),
    "review": (t("/review {done_a} 5", who=PARTIES),),
    "report": (t("/report {dm}", "click:Report without a reason", who=frozenset({"student"}),
                 changes=("report",)),),  # only the recipient of a message reports it
    # Messaging: only people with a reason to talk (PRODUCT.md: the admin messages anyone).
    "message": (t("/message {sam}", "type:Hello Sam", who=frozenset(
                    {"teacher", "creator", "funder", "admin"}), changes=("direct_message",)),
                t("/message {lee}", who=ADMIN)),
    # A course's learning material: its students, teachers (quizzes) and creator.
    "module": (t("/module {module}", who=frozenset({"student", "creator"})),),
    "quiz": (t("/quiz {quiz}", "click:2", who=frozenset({"student", "teacher", "creator"}),
               changes=("quiz_attempt",)),),
    # Teachers and creators (they earn).
    "availability": (t("/availability", who=PAYEES),),
    "earnings": (t("/earnings", who=PAYEES),),
    "payouts": (t("/payouts", who=PAYEES),),
    "taxreport": (t("/taxreport", who=PAYEES | ADMIN), t("/taxreport all", who=ADMIN)),
    "refer": (t("/refer", who=MEMBERS - {"funder"}),),
    # Certification: teachers recommend students they taught; the course's creator decides.
    "recommend": (t("/recommend", who=frozenset({"teacher", "creator"})),
                  t("/recommend {sam} {python} completion", who=frozenset({"teacher"}))),
    "certify": (t("/certify", who=frozenset({"creator"}), ok="#{request} Sam",  # open to all:
                  denied="No certificate requests are waiting"),  # one's own courses' queue
                t("press:approve {request}", who=frozenset({"creator"}),
                  changes=("certificate",))),
    "teach": (t("/teach {spanish}", who=frozenset({"student"}),
                changes=("teaching_application",)),),  # needs the Completion certificate
    "applications": (t("/applications", who=CREATORS | ADMIN),
                     t("/applications", who=OWNER, ok="Lee", denied="No applications are"),
                     t("press:approve {app_pending}", who=frozenset({"creator"}),
                       changes=("teaching_application",)),  # the course's creator endorses
                     t("press:approve {app_endorsed}", who=ADMIN,
                       changes=("teaching_application", "user_role"))),  # the admin vets
    "declineapp": (t("/declineapp {app_pending}", "type:Not enough sessions yet",
                     who=frozenset({"creator"}), changes=("teaching_application",)),),
    # Course building: creators create; the course's creator and the admin manage it.
    "newcourse": (t("/newcourse", "type:Rust for All",
                    "type:A friendly start in Rust for everyone.", "click:Beginner",
                    "type:40", "click:60 min", who=CREATORS, changes=("course",)),),
    "editcourse": (t("/editcourse", who=MEMBERS),
                   t("/editcourse {python}", who=OWNER),
                   t("/editcourse {go}", who=frozenset({"creator2", "admin"})),
                   t("press:{python} retire", who=OWNER, changes=("course",))),
    "addmodule": (t("/addmodule {python}", "type:Decorators", "click:Skip", "click:Skip",
                    who=OWNER, changes=("course_module",)),),
    "addquiz": (t("/addquiz {python}", "type:Loops", "click:50%", "type:2 + 2? | 3 | *4",
                  "click:Done", who=OWNER, changes=("quiz", "quiz_question")),),
    "addmaterial": (t("/addmaterial {python}", "type:Cheat sheet",
                      "type:https://example.org/cheat", who=OWNER,
                      changes=("course_material",)),),
    "criteria": (t("/criteria {python} sessions=3", who=OWNER, changes=("course",)),),
    "teachers": (t("/teachers {python}", who=OWNER),),
    "suspendteacher": (t("/suspendteacher {python} {ken}", "type:Missed three sessions",
                         who=OWNER, changes=("course_teacher",)),),
    "students": (t("/students {python}", who=OWNER),),
    # The admin only.
    "outbox": (t("/outbox", who=ADMIN),
               t("press:retry {outbox}", who=ADMIN, changes=("outbox_message",))),
    "releases": (t("/releases", who=ADMIN),
                 t("press:approve {done_a}", who=ADMIN, changes=("ledger_txn", "money_out")),
                 t("press:all", who=ADMIN, changes=("ledger_txn",))),
    "refund": (t("/refund {done_b} 5.00 checking", who=ADMIN, changes=("ledger_txn",)),),
    "growth": (t("/growth", who=ADMIN),),
    "invite": (t("/invite {python} newcomer@example.org", who=ADMIN, changes=("referral",)),),
    "creators": (t("/creators grant {lee}", who=ADMIN, changes=("user_role",)),),
    "broadcast": (t("/broadcast", "click:Students", "type:Hello everyone", "click:Send to",
                    who=ADMIN, changes=("broadcast", "direct_message")),),
}

NOT_FOUND = NotFound().user_message.split(" that ")[0]  # "I couldn't find"
REFUSALS = (
    texts.NOT_FOR_YOU.split("}", 1)[1].strip(),  # the registry's role check
    NOT_FOUND,  # missing and not-yours read the same
    texts.MENU_EXPIRED.split("(")[0].strip(),  # someone else's flow button
    REFUSED_MESSAGE.split(".")[0],  # nobody links these two people
    "You can't message yourself",
    "needs creator permission",
    "Only the admin sees everyone's totals",
    "Only active teachers of",
    "needs its Completion certificate first",
    "That application is already",  # a creator or admin, but not their stage
)
ONBOARDING = "What brings you here?"  # a stranger is sent to onboarding first
BROKEN = ("incident", "Traceback")
# Bookkeeping every turn may write (flow state, delivery receipts, rate counters).
UNWATCHED = frozenset({"conversation", "inbound_update", "rate_event", "web_session"})
NEWCOMER_ROWS = frozenset({"user_account", "identity"})  # a stranger's first contact


def refusal(command: Command, replies: list[Reply], denied: str = "") -> str | None:
    markers = (*REFUSALS, denied) if denied else REFUSALS
    for reply in replies:
        if any(marker in reply.text for marker in markers):
            return reply.text
        if command.needs_onboarding and ONBOARDING in reply.text:
            return reply.text
    return None


Fingerprint = dict[str, frozenset[str]]
ROW_END = "\x1f"  # between rows in the fingerprint (no text column holds it)


def _fingerprint_sql(dialect: str) -> str:
    """One statement: every watched table's rows as text (one round trip, not fifty)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        if table.name in UNWATCHED:
            continue
        name = f'"{table.name}"'
        if dialect == "postgresql":
            rows = (f"(SELECT coalesce(string_agg(t::text, chr(31)), '') FROM {name} t)")
        else:
            row = "||','||".join(f'quote("{c.name}")' for c in table.columns)
            rows = (f"(SELECT coalesce(group_concat(r, char(31)), '') FROM "
                    f"(SELECT {row} AS r FROM {name}))")
        parts.append(f"SELECT '{table.name}', {rows}")
    return " UNION ALL ".join(parts)


async def fingerprint(db: Database) -> Fingerprint:
    """Every watched table's rows: any insert, update or delete shows."""
    async with db.engine.connect() as conn:
        found = (await conn.execute(sql(_fingerprint_sql(db.engine.dialect.name)))).all()
    return {name: frozenset(rows.split(ROW_END)) if rows else frozenset()
            for name, rows in found}


def changed(before: Fingerprint, after: Fingerprint, *, newcomer: bool = False) -> set[str]:
    tables = {name for name in before if before[name] != after[name]}
    if newcomer:  # first contact creates the stranger's account: nothing else may change
        tables -= {name for name in tables & NEWCOMER_ROWS if before[name] <= after[name]}
    return tables


async def run_steps(chat: FakeChat, command: Command, attempt: Try, steps: tuple[str, ...],
                    ids: dict[str, int]) -> list[Reply]:
    """The steps, as far as they go: a refusal ends the attempt."""
    seen: list[Reply] = []
    for raw in steps:
        step = raw.format(**ids)
        kind, _, rest = step.partition(":")
        if step.startswith("/"):
            replies = await chat.send(step)
        elif kind == "press":
            replies = await chat.press(payload.command(command.name, rest))
        elif kind == "type":
            replies = await chat.send(rest)
        else:
            assert kind == "click", f"unknown step {raw!r}"
            replies = await chat.click(rest)
        seen += replies
        if refusal(command, replies, attempt.denied) is not None:
            break
    return seen


def ordered(who: frozenset[str]) -> list[str]:
    """Those refused first (they must find the scene untouched), then those allowed."""
    return [p for p in PERSONAS if p not in who] + [p for p in PERSONAS if p in who]


def chat_key(persona: str, tag: str) -> str:
    """Each attempt meets a stranger never seen before."""
    return f"zed-{tag}" if persona == "stranger" else PERSONAS[persona]


async def check_attempt(db: Database, dispatcher: Dispatcher, command: Command, attempt: Try,
                        ids: dict[str, int], tag: str) -> list[str]:
    problems: list[str] = []
    allowed = [p for p in PERSONAS if p in attempt.who]
    before = await fingerprint(db)
    for persona in ordered(attempt.who):
        chat = FakeChat(dispatcher, chat_key(persona, tag))
        # The first allowed person performs the privileged action; the others only need to
        # reach the command's screen (the action may be done by then).
        leads = persona not in attempt.who or persona == allowed[0]
        replies = await run_steps(chat, command, attempt,
                                  attempt.steps if leads else attempt.steps[:1], ids)
        await chat.send("/cancel")  # leave whatever flow the attempt opened
        after = await fingerprint(db)
        text = " | ".join(r.text for r in replies)[:400]
        where = f"{' → '.join(attempt.steps)} as {persona}"
        if any(word in text for word in BROKEN):
            problems.append(f"{where}: broke: {text}")
        why = refusal(command, replies, attempt.denied)
        if persona in attempt.who:
            if why is not None:
                problems.append(f"{where}: refused but allowed: {why[:200]}")
            elif attempt.ok and attempt.ok.format(**ids) not in text:
                problems.append(f"{where}: expected {attempt.ok!r}, got: {text}")
            elif leads and not set(attempt.changes) <= changed(before, after):
                problems.append(f"{where}: allowed but changed only "
                                f"{sorted(changed(before, after))}, not {attempt.changes}")
        else:
            if why is None:
                problems.append(f"{where}: allowed but must be refused: {text}")
            moved = changed(before, after, newcomer=persona == "stranger")
            if moved:
                problems.append(f"{where}: refused yet changed {sorted(moved)}")
        before = after
    return problems


@dataclass
class Matrix:
    db: Database
    dispatcher: Dispatcher
    scene: Scene


# The scene costs more to build than most commands cost to try, and most tries change
# nothing: a test reuses the scene its predecessor left when it is still exactly as built.
_BUILT: dict[int, tuple[Scene, Fingerprint]] = {}


@pytest.fixture
async def matrix(migrated_db: Database) -> Matrix:
    db = migrated_db
    clock = db.clock
    assert isinstance(clock, FrozenClock)
    built = _BUILT.get(id(db))
    if built is None or changed(built[1], await fingerprint(db), newcomer=True):
        clock.set(T0)
        await _wipe(db)
        scene = await build_scene(db)
        built = _BUILT[id(db)] = (scene, await fingerprint(db))
    clock.set(SAT)
    return Matrix(db, Dispatcher(db, build_registry()), built[0])


def test_every_command_is_classified() -> None:
    names = {c.name for c in build_registry().all()}
    assert not names - EXPECTED.keys(), \
        f"classify these commands in EXPECTED: {sorted(names - EXPECTED.keys())}"
    assert not EXPECTED.keys() - names, f"no such commands: {sorted(EXPECTED.keys() - names)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_command_is_used_only_by_the_roles_allowed(matrix: Matrix, name: str) -> None:
    command = matrix.dispatcher.registry.get(name)
    assert command is not None
    problems: list[str] = []
    for n, attempt in enumerate(EXPECTED[name]):
        problems += await check_attempt(matrix.db, matrix.dispatcher, command, attempt,
                                        matrix.scene.ids, f"{name}-{n}")
    assert not problems, "\n".join(problems)


# --- buttons pressed by the wrong person ------------------------------------------------------

@dataclass(frozen=True)
class Forgery:
    """A privileged button, taken from its owner's screen and pressed by everyone else."""

    command: str
    owner: str
    steps: tuple[str, ...]  # what the owner does to be shown the button
    label: str
    changes: tuple[str, ...]
    also: frozenset[str] = NOBODY  # others who may press it too (not tried: they would act)


FORGERIES = {
    # Command buttons: the payload names the object; the handler re-checks the presser.
    "release": Forgery("releases", "admin", ("/releases",), "Approve #{done_a}",
                       ("ledger_txn",)),
    "retry-outbox": Forgery("outbox", "admin", ("/outbox",), "Retry #{outbox}",
                            ("outbox_message",)),
    "approve-certificate": Forgery("certify", "creator", ("/certify",), "Approve #{request}",
                                   ("certificate",)),
    "endorse-teacher": Forgery("applications", "creator", ("/applications",), "Endorse Lee",
                               ("teaching_application",)),
    "approve-teacher": Forgery("applications", "admin", ("/applications",), "Approve Lee",
                               ("teaching_application", "user_role")),
    "retire-course": Forgery("editcourse", "creator", ("/editcourse {python}",), "Retire",
                             ("course",), also=ADMIN),
    # Flow buttons: the payload is a choice in its owner's own conversation.
    "broadcast": Forgery("broadcast", "admin", ("/broadcast", "click:Students",
                                                "type:Hello everyone"), "Send to",
                         ("broadcast", "direct_message")),
    "create-course": Forgery("newcourse", "creator2", (
        "/newcourse", "type:Rust for All", "type:A friendly start in Rust for everyone.",
        "click:Beginner", "type:40"), "60 min", ("course",)),
    "cancel-session": Forgery("cancel", "student", ("/cancel {upcoming}",
                                                    "type:Family emergency"),
                              "Yes, cancel it", ("booking",)),
    "report-message": Forgery("report", "student", ("/report {dm}",),
                              "Report without a reason", ("report",)),
    "grade-quiz": Forgery("quiz", "student", ("/quiz {quiz}",), "2", ("quiz_attempt",)),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
async def test_privileged_button_pressed_by_anyone_else_is_refused(
        matrix: Matrix, case: str) -> None:
    forgery = FORGERIES[case]
    db, dispatcher, scene = matrix.db, matrix.dispatcher, matrix.scene
    command = dispatcher.registry.get(forgery.command)
    assert command is not None
    owner = FakeChat(dispatcher, PERSONAS[forgery.owner])
    for raw in forgery.steps:
        step = raw.format(**scene.ids)
        kind, _, rest = step.partition(":")
        await (owner.click(rest) if kind == "click" else
               owner.send(rest if kind == "type" else step))
    action = owner.button(forgery.label.format(**scene.ids)).action
    assert action is not None
    problems: list[str] = []
    for persona in PERSONAS:
        if persona == forgery.owner or persona in forgery.also:
            continue
        before = await fingerprint(db)
        replies = await FakeChat(dispatcher, chat_key(persona, f"forgery-{case}")).press(action)
        moved = changed(before, await fingerprint(db), newcomer=persona == "stranger")
        if refusal(command, replies) is None:
            problems.append(f"{persona} pressed it: {' | '.join(r.text for r in replies)}")
        if moved:
            problems.append(f"{persona} pressed it and changed {sorted(moved)}")
    before = await fingerprint(db)
    replies = await owner.press(action)
    assert refusal(command, replies) is None, replies
    assert set(forgery.changes) <= changed(before, await fingerprint(db)), replies
    assert not problems, "\n".join(problems)


# --- the web routes ---------------------------------------------------------------------------

WEB_ROLES = tuple(p for p in PERSONAS if p != "stranger")  # a stranger has no web account
# anon: nothing (no cookie, no valid link, an unsigned body); forged: a tampered link or
# signature (or, on session forms, a real session with a forged CSRF token); a role: that
# person's session cookie and the link the product gives them (a link minted for them where
# the route re-checks who may use it); signed: the provider's genuine call (machine routes).
WEB_IDENTITIES = ("anon", "forged", *WEB_ROLES, "signed")
PUBLIC = frozenset({"anon", "forged", *WEB_ROLES})  # nothing to forge: open to all
HOLDERS = frozenset({"anon", *WEB_ROLES})  # a public code everyone may hold (not a forged one)
SIGNED = frozenset({"signed"})
TELEGRAM_HEADER, TELEGRAM_SECRET = "X-Telegram-Bot-Api-Secret-Token", "telegram-hook-secret"
BBB_SECRET = "bbb-shared-secret-for-the-matrix-0123"
STRIPE_KEY, STRIPE_WHSEC = "sk_test_matrix", "whsec_matrix_secret"
PASSWORD, NEW_PASSWORD = "correct horse battery", "staple another one please"
JOIN_AT = SUN - timedelta(minutes=10)  # the upcoming session's room is open
REFUSED_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 425})
LOGIN = "/account/login"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    cookies: dict[str, str]
    data: dict[str, str] | bytes | None = None
    headers: dict[str, str] | None = None


def tamper(token: str) -> str:
    """The same token with its last character changed: the signature no longer matches."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


class Web:
    """The scene seen from the web: credentials for each identity, made on demand."""

    def __init__(self, db: Database, scene: Scene) -> None:
        self.db, self.ids, self.secret = db, scene.ids, db.settings.secrets.secret_key
        self.checkout = ""  # the sandbox checkout the student's pay link opened

    def uid(self, who: str) -> int:
        return self.ids[PERSONAS[who]]

    async def session(self, who: str) -> tuple[str, WebSession]:
        """A fresh web session per request (logging out must not spoil the next one)."""
        async with self.db.uow() as uow:
            row, cookie = await create_session(uow, self.uid(who))
        return cookie, row

    async def cookies(self, who: str) -> dict[str, str]:
        """A role's session cookie; forged: a real one with its secret changed."""
        if who in WEB_ROLES:
            return {COOKIE: (await self.session(who))[0]}
        if who == "forged":
            return {COOKIE: tamper((await self.session("student"))[0])}
        return {}

    async def session_form(self, who: str, **fields: str) -> tuple[dict[str, str],
                                                                   dict[str, str]]:
        """Cookies and a form for a signed-in POST (forged: a real session, forged CSRF)."""
        if who not in WEB_ROLES and who != "forged":
            return {}, {"csrf": "none", **fields}
        cookie, row = await self.session("student" if who == "forged" else who)
        csrf = sign_token(self.secret, "csrf", str(row.id), row.expires_at)
        return {COOKIE: cookie}, {"csrf": tamper(csrf) if who == "forged" else csrf, **fields}

    def anon_form(self, who: str, **fields: str) -> tuple[dict[str, str], dict[str, str]]:
        """The double-submit cookie and token of an anonymous form (forged: a bad token)."""
        nonce = f"form-nonce-{who}"
        csrf = sign_token(self.secret, "form", nonce, self.db.clock.now() + timedelta(hours=1))
        return {FORM_COOKIE: nonce}, {"csrf": tamper(csrf) if who == "forged" else csrf,
                                      **fields}

    def pair(self, purpose: str, record: int, who: str, hours: int = 24) -> str:
        """A personal link token (record, person): minted for any role, so the route's own
        check of who may use it is what is tested."""
        return sign_token(self.secret, purpose, f"{record}:{self.uid(who)}",
                          self.db.clock.now() + timedelta(hours=hours))

    async def email_link(self, purpose: str, who: str) -> str:
        if who not in WEB_ROLES and who != "forged":
            return "x" * 43  # the shape of a link secret, known to nobody
        person = self.uid("student" if who == "forged" else who)
        async with self.db.uow() as uow:
            row = await uow.session.get(AccountEmail, person)
            assert row is not None
            _token, link = await issue_token(uow, person, purpose, row.address, 60)
        return tamper(link) if who == "forged" else link


Builder = Callable[[Web, str], Awaitable[Req | None]]


async def _plain(w: Web, who: str, path: str, method: str = "GET") -> Req | None:
    return None if who == "signed" else Req(method, path, await w.cookies(who))


def plain(path: str) -> Builder:
    async def build(w: Web, who: str) -> Req | None:
        return await _plain(w, who, path)
    return build


MADE_UP = "bm90LWEtdG9rZW4.bm90LWEtc2lnbmF0dXJl"  # a token's shape, signed by nobody


def own_link(prefix: str, make: Callable[[Web, str], str], owners: frozenset[str],
             suffix: str = "") -> Builder:
    """The link the product gives ``owners``; forged: the student's, tampered; anyone else
    has only a made-up one."""
    async def build(w: Web, who: str) -> Req | None:
        if who == "signed":
            return None
        token = (make(w, who) if who in owners else tamper(make(w, "student"))
                 if who == "forged" else MADE_UP)
        return Req("GET", f"{prefix}/{token}{suffix}", await w.cookies(who))
    return build


async def pay(w: Web, who: str) -> Req | None:
    if who == "signed":
        return None
    async with w.db.uow() as uow:
        held = await uow.session.get(Booking, w.ids["held"])
        assert held is not None
        link = "/" + pay_url(w.db.settings, held).split("/", 3)[3]
    path = (link if who == "student" else tamper(link) if who == "forged"
            else f"/pay/{MADE_UP}")
    return Req("GET", path, await w.cookies(who))


def checkout(method: str) -> Builder:
    async def build(w: Web, who: str) -> Req | None:
        if who == "signed":
            return None
        ref = w.checkout if who == "student" else "cs_sandbox_" + "x" * 24
        data = {"action": "pay"} if method == "POST" else None
        return Req(method, f"/sandbox/checkout/{ref}", await w.cookies(who), data)
    return build


def join(w: Web, who: str) -> str:
    return w.pair("join", w.ids["upcoming"], who)


def recording(w: Web, who: str) -> str:
    return w.pair("recording", w.ids["recording"], who)


def shared_file(w: Web, who: str) -> str:
    return w.pair("file", w.ids["file"], who)


def calendar(w: Web, who: str) -> str:
    return calendar_url(w.db.settings, w.uid(who), w.db.clock.now()).rsplit("/", 1)[1]


def payouts(w: Web, who: str) -> str:
    return payouts_url(w.db.settings, w.uid(who), w.db.clock.now()).rsplit("/", 1)[1]


def verify(suffix: str) -> Builder:
    async def build(w: Web, who: str) -> Req | None:
        code = "forged-code-000" if who == "forged" else "sam-spanish-1"
        return await _plain(w, who, f"/verify/{code}{suffix}")
    return build


async def video_end(w: Web, who: str) -> Req | None:
    booking = w.ids["done_a"]
    token = {"signed": end_token(w.secret, booking),
             "forged": end_token("not-our-secret", booking)}.get(who, "0" * 40)
    return Req("GET", f"/video/end/{booking}/{token}", await w.cookies(who))


async def recording_ready(w: Web, who: str) -> Req | None:
    meeting = meeting_id_for(w.secret, w.ids["done_a"])
    signed = {"signed": sign_recording_callback(BBB_SECRET, meeting, "rec-new"),
              "forged": sign_recording_callback("not-the-shared-bbb-secret-at-all-!!", meeting,
                                              "rec-new")}
    return Req("POST", "/video/recording-ready", await w.cookies(who),
               {"signed_parameters": signed.get(who, "")})


async def telegram_hook(w: Web, who: str) -> Req | None:
    secret = {"signed": TELEGRAM_SECRET, "forged": "guessed-secret"}.get(who)
    headers = {TELEGRAM_HEADER: secret} if secret else {}
    return Req("POST", "/telegram/webhook", await w.cookies(who), b'{"update_id": 1}',
               {"Content-Type": "application/json", **headers})


async def stripe_hook(w: Web, who: str) -> Req | None:
    body = json.dumps({"id": f"evt_matrix_{who}", "object": "event",
                       "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    secret = {"signed": STRIPE_WHSEC, "forged": "whsec_guessed"}.get(who)
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body, secret, int(time.time()))
    return Req("POST", STRIPE_PATH, await w.cookies(who), body.encode(), headers)


async def login(w: Web, who: str) -> Req | None:
    if who == "signed":
        return None
    person = "student" if who in ("anon", "forged") else who
    cookies, form = w.anon_form("real" if who == "forged" else who,
                                email=f"{PERSONAS[person]}@example.org",
                                password="a wrong guess!" if who == "forged" else PASSWORD)
    if who == "anon":
        cookies = {}  # no form cookie: the token is bound to nothing
    return Req("POST", LOGIN, cookies, form)


def session_post(path: str, **fields: str) -> Builder:
    async def build(w: Web, who: str) -> Req | None:
        if who == "signed":
            return None
        cookies, form = await w.session_form(who, **fields)
        return Req("POST", path, cookies, form)
    return build


async def reset_ask(w: Web, who: str) -> Req | None:
    if who == "signed":
        return None
    person = "student" if who in ("anon", "forged") else who
    cookies, form = w.anon_form(who, email=f"{PERSONAS[person]}@example.org")
    return Req("POST", "/account/reset", cookies, form)


def password_link(purpose: str, path: str, method: str) -> Builder:
    async def build(w: Web, who: str) -> Req | None:
        if who == "signed":
            return None
        link = await w.email_link(purpose, "student" if who == "forged" else who)
        if method == "GET":
            return Req("GET", f"{path}/{link if who != 'forged' else tamper(link)}",
                       await w.cookies(who))
        cookies, form = w.anon_form(who, new=NEW_PASSWORD, confirm=NEW_PASSWORD)
        return Req("POST", f"{path}/{link}", cookies, form)  # forged: a bad CSRF token
    return build


async def verify_email(w: Web, who: str) -> Req | None:
    if who == "signed":
        return None
    link = await w.email_link(VERIFY, who)
    return Req("GET", f"/email/verify/{link}", await w.cookies(who))


async def referral(w: Web, who: str) -> Req | None:
    async with w.db.uow() as uow:
        code = await ensure_ref_code(uow, await _user(uow, w.ids["sam"]))
    return await _plain(w, who, f"/r/ref-{'forged0000' if who == 'forged' else code}")


async def inquiry_form(w: Web, who: str) -> Req | None:
    slug = "rust" if who == "forged" else "python"  # a draft is no open course
    return await _plain(w, who, f"/courses/{slug}/inquire")


async def inquiry_send(w: Web, who: str) -> Req | None:
    if who == "signed":
        return None
    async with w.db.uow() as uow:  # a new day for the per-address limit (one IP for all)
        await uow.session.execute(delete(RateEvent))
    token = sign_token(w.secret, "inquiry", "python", w.db.clock.now() + timedelta(hours=1))
    return Req("POST", "/courses/python/inquire", await w.cookies(who),
               {"token": tamper(token) if who == "forged" else token, "name": "Visitor",
                "email": "visitor@example.org", "message": "Is it for complete beginners?"})


@dataclass(frozen=True)
class Route:
    allowed: frozenset[str]
    build: Builder
    refused_when: str = ""  # a 200 body or redirect target that is a refusal here


PARTIES_WEB = frozenset({"student", "teacher"})
PAYEES_WEB = frozenset({"teacher", "creator", "creator2"})
# Every route the server answers, in the order tried (a pay link opens the checkout that
# the sandbox routes then use; payout accounts are connected before coming back).
WEB: dict[tuple[str, str], Route] = {
    ("GET", "/healthz"): Route(PUBLIC, plain("/healthz")),
    ("GET", "/metrics"): Route(PUBLIC, plain("/metrics")),  # loopback; see the test below
    ("GET", "/paid"): Route(PUBLIC, plain("/paid")),
    ("GET", "/video/left"): Route(PUBLIC, plain("/video/left")),
    ("GET", "/pay/{token}"): Route(frozenset({"student"}), pay),
    ("GET", "/sandbox/checkout/{ref}"): Route(frozenset({"student"}), checkout("GET")),
    ("POST", "/sandbox/checkout/{ref}"): Route(frozenset({"student"}), checkout("POST")),
    ("GET", "/payouts/{token}"): Route(PAYEES_WEB, own_link("/payouts", payouts, PAYEES_WEB)),
    ("GET", "/payouts/{token}/back"): Route(PAYEES_WEB, own_link("/payouts", payouts,
                                                                 PAYEES_WEB, "/back")),
    ("GET", "/calendar/{token}"): Route(frozenset(WEB_ROLES), own_link(
        "/calendar", calendar, frozenset(WEB_ROLES))),
    # Minted for every role: the route's own check of who may use it is what counts.
    ("GET", "/join/{token}"): Route(PARTIES_WEB, own_link("/join", join,
                                                          frozenset(WEB_ROLES))),
    ("GET", "/recording/{token}"): Route(PARTIES_WEB | {"admin"}, own_link(
        "/recording", recording, frozenset(WEB_ROLES))),
    ("GET", "/file/{token}"): Route(PARTIES_WEB, own_link("/file", shared_file,
                                                          frozenset(WEB_ROLES))),
    ("GET", "/verify/{code}.pdf"): Route(HOLDERS, verify(".pdf")),
    ("GET", "/verify/{code}"): Route(HOLDERS, verify("")),
    ("GET", "/video/end/{booking_id}/{token}"): Route(SIGNED, video_end),
    ("POST", "/video/recording-ready"): Route(SIGNED, recording_ready),
    ("POST", "/telegram/webhook"): Route(SIGNED, telegram_hook),
    ("POST", STRIPE_PATH): Route(SIGNED, stripe_hook),
    ("GET", "/r/{payload}"): Route(HOLDERS, referral),
    ("GET", "/courses/{slug}/inquire"): Route(HOLDERS, inquiry_form),
    ("POST", "/courses/{slug}/inquire"): Route(HOLDERS, inquiry_send),
    ("GET", LOGIN): Route(PUBLIC, plain(LOGIN)),
    ("POST", LOGIN): Route(frozenset(WEB_ROLES), login,
                           refused_when="Wrong email or password"),
    ("GET", "/account"): Route(frozenset(WEB_ROLES), plain("/account"), refused_when=LOGIN),
    ("POST", "/account/password"): Route(frozenset(WEB_ROLES), session_post(
        "/account/password", current=PASSWORD, new=NEW_PASSWORD, confirm=NEW_PASSWORD),
        refused_when=LOGIN),
    ("POST", "/account/logout"): Route(frozenset(WEB_ROLES), session_post("/account/logout"),
                                       refused_when=LOGIN),
    ("POST", "/account/logout-all"): Route(frozenset(WEB_ROLES), session_post(
        "/account/logout-all"), refused_when=LOGIN),
    ("GET", "/account/reset"): Route(PUBLIC, plain("/account/reset")),
    ("POST", "/account/reset"): Route(HOLDERS, reset_ask),
    ("GET", "/account/reset/{token}"): Route(frozenset(WEB_ROLES), password_link(
        RESET, "/account/reset", "GET")),
    ("POST", "/account/reset/{token}"): Route(frozenset(WEB_ROLES), password_link(
        RESET, "/account/reset", "POST")),
    ("GET", "/account/password/{token}"): Route(frozenset(WEB_ROLES), password_link(
        SET_PASSWORD, "/account/password", "GET")),
    ("POST", "/account/password/{token}"): Route(frozenset(WEB_ROLES), password_link(
        SET_PASSWORD, "/account/password", "POST")),
    ("GET", "/email/verify/{token}"): Route(frozenset(WEB_ROLES), verify_email),
}


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route; HEAD is aiohttp's automatic twin of each GET."""
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.method != "HEAD" and r.resource is not None}


def classify(route: Route, status: int, location: str, body: str) -> str:
    if status >= 500:
        return "broken"
    if status in REFUSED_STATUSES:
        return "refused"
    if route.refused_when and (location == route.refused_when or (
            status == 200 and route.refused_when in body)):
        return "refused"
    return "allowed" if status < 400 else f"unexpected {status}"


@pytest.fixture
async def bbb() -> AsyncIterator[BBBStandin]:
    standin = BBBStandin(BBB_SECRET)
    await standin.start()
    yield standin
    await standin.stop()


def stripe_database(db: Database) -> Database:
    s = db.settings
    settings = replace(s, payments=replace(s.payments, provider="stripe"),
                       secrets=replace(s.secrets, stripe_secret_key=STRIPE_KEY,
                                       stripe_webhook_secret=STRIPE_WHSEC))
    return Database(db.engine, db.clock, settings)


async def test_every_web_route_answers_only_the_identities_allowed(
        matrix: Matrix, bbb: BBBStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(password, "_hasher", lambda: cheap)  # argon2's cost is not the point
    db = matrix.db
    w = Web(db, matrix.scene)
    async with db.uow() as uow:
        for row in (await uow.session.scalars(select(AccountEmail))).all():
            row.password_hash = cheap.hash(PASSWORD)
    updates: list[dict[str, Any]] = []

    async def receive(batch: list[dict[str, Any]]) -> None:
        updates.extend(batch)

    video = BBBProvider(bbb.api_url, BBB_SECRET)
    main = create_app(db, webhooks=(Webhook("/telegram/webhook", TELEGRAM_HEADER,
                                            TELEGRAM_SECRET, receive),),
                      video=video, metrics=Metrics())
    stripe_provider = StripeProvider(STRIPE_KEY, STRIPE_WHSEC, "http://127.0.0.1:9",
                                     db.clock.now)
    with_stripe = create_app(stripe_database(db), payments=stripe_provider)
    served = app_routes(main) | app_routes(with_stripe)
    assert not served - WEB.keys(), f"classify these routes in WEB: {served - WEB.keys()}"
    assert not WEB.keys() - served, f"no such routes: {WEB.keys() - served}"
    clock = db.clock
    assert isinstance(clock, FrozenClock)
    problems: list[str] = []
    async with TestClient(TestServer(main), cookie_jar=DummyCookieJar()) as http, \
            TestClient(TestServer(with_stripe), cookie_jar=DummyCookieJar()) as stripe_http:
        for (method, path), route in WEB.items():
            client = stripe_http if path == STRIPE_PATH else http
            for who in WEB_IDENTITIES:
                req = await route.build(w, who)
                if req is None:
                    continue
                found = await client.app.router.resolve(make_mocked_request(method,
                                                                              req.path))
                assert found.route.resource is not None, f"{req.path} matches no route"
                assert found.route.resource.canonical == path, f"{req.path} is not {path}"
                clock.set(JOIN_AT if path == "/join/{token}" else SAT)
                resp = await client.request(req.method, req.path, cookies=req.cookies,
                                            data=req.data, headers=req.headers,
                                            allow_redirects=False)
                body = (await resp.read()).decode(errors="replace")
                location = resp.headers.get("Location", "")
                clock.set(SAT)
                got = classify(route, resp.status, location, body)
                want = "allowed" if who in route.allowed else "refused"
                if got != want:
                    problems.append(f"{method} {path} as {who}: {resp.status} {location} "
                                    f"{got}, want {want}: {body[:200]}")
                if path == "/pay/{token}" and who == "student":
                    w.checkout = location.rsplit("/", 1)[-1]
        await stripe_http.server.app[APPLIER_KEY].idle()
    await video.close()
    await stripe_provider.close()
    assert updates == [{"update_id": 1}]  # only the genuine Telegram call got through
    assert not problems, "\n".join(problems)


async def test_metrics_are_for_the_loopback_only(migrated_db: Database) -> None:
    app = create_app(migrated_db, metrics=Metrics())
    [show] = [r.handler for r in app.router.routes()
              if r.method == "GET" and r.resource is not None
              and r.resource.canonical == "/metrics"]
    request = make_mocked_request("GET", "/metrics", app=app)
    outside = await show(request.clone(remote="203.0.113.7"))
    inside = await show(request.clone(remote="127.0.0.1"))
    assert (outside.status, inside.status) == (404, 200)
