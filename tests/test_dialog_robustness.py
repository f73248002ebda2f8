"""Dialogs under abuse: garbage typed at every step, stale, foreign and forged buttons.

Every reply in this module also passes ``_check_reply`` (an autouse fixture wraps the
dispatcher), so no test here can meet a traceback, an incident apology or an over-limit reply
without failing. "Nothing changed" is checked against the database, never against replies.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.account import find_user_by_identity
from core.booking import confirm_booking, hold_slot
from core.models import Booking, Conversation, Course, User
from core.uow import Database
from handlers import texts
from handlers.commands import book
from handlers.dispatcher import Dispatcher
from handlers.reply import MAX_PAYLOAD_BYTES, MAX_PER_ROW, MAX_ROWS, MAX_TEXT, Reply
from handlers.turn import Turn
from tests.fakechat import PLATFORM, FakeChat
from tests.world import World

LONG = "x" * 5000
ODD = "\u202e\u0000🙂"  # right-to-left override, NUL, emoji
GARBAGE = {"word": "asdf", "empty": "", "spaces": "   ", "5000-chars": LONG,
           "odd-unicode": ODD, "99": "99", "minus-1": "-1"}
FORBIDDEN = ("Traceback", "Error", "Exception", "incident", "went wrong")
# Mon 23 Nov 11:00 Berlin: inside the 24-hour late-cancel window. Wed 25 Nov: outside it.
SOON = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NOT_FOUND = "couldn't find that booking"


def garbage(step: str, *valid_here: str) -> list[Any]:
    """(step, text) cases; ``valid_here``: inputs that are fair answers at a free-text step."""
    return [pytest.param(step, v, id=f"{step}-{k}") for k, v in GARBAGE.items()
            if k not in valid_here]


def _check_reply(reply: Reply) -> None:
    assert reply.text.strip(), "an empty reply"
    assert len(reply.text) <= MAX_TEXT
    assert len(reply.buttons) <= MAX_ROWS
    for row in reply.buttons:
        assert 1 <= len(row) <= MAX_PER_ROW
        for button in row:
            assert button.action is None or len(button.action.encode()) <= MAX_PAYLOAD_BYTES
    for word in FORBIDDEN:
        assert word not in reply.text, f"a reply shows {word!r}: {reply.text[:300]!r}"


@pytest.fixture(autouse=True)
def _every_reply_checked(dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    real = dispatcher.handle

    async def handle(turn: Turn) -> list[Reply]:
        replies = await real(turn)
        assert replies, "the bot said nothing"
        for reply in replies:
            _check_reply(reply)
        return replies

    monkeypatch.setattr(dispatcher, "handle", handle)


# --- what the database says -------------------------------------------------------------


async def _bookings(db: Database) -> list[tuple[Any, ...]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(select(Booking).order_by(Booking.id))
        return [(b.id, b.status, b.teacher_id, b.student_id, b.starts_at, b.hold_expires_at,
                 b.cancelled_at, b.cancel_reason, b.late_cancel) for b in rows]


async def _flow(db: Database, user_key: str) -> tuple[str, str, dict[str, Any]] | None:
    """(flow, step, data) of the user's running flow, or None."""
    async with db.uow() as uow:
        conv = await uow.session.get(Conversation, (PLATFORM, user_key, user_key))
        return None if conv is None else (conv.flow, conv.step, dict(conv.data or {}))


async def _nonce(db: Database, user_key: str) -> str | None:
    async with db.uow() as uow:
        conv = await uow.session.get(Conversation, (PLATFORM, user_key, user_key))
        return None if conv is None else conv.nonce


async def _person(db: Database, user_key: str) -> tuple[Any, ...] | None:
    async with db.uow() as uow:
        user = await find_user_by_identity(uow, PLATFORM, user_key)
        if user is None:
            return None
        return (user.display_name, user.timezone, user.onboarded_at, sorted(user.role_names))


async def _state(db: Database, user_key: str) -> tuple[Any, ...]:
    return (await _bookings(db), await _flow(db, user_key), await _person(db, user_key))


async def _hold(db: Database, world: World, starts_at: datetime, *, paid: bool = False) -> int:
    """A booking of Sam's with Maya, made through the core services."""
    async with db.uow() as uow:
        sam = await uow.session.get(User, world.sam.id)
        assert sam is not None
        booking = await hold_slot(uow, sam, world.python.id, world.maya.id, starts_at)
        if paid:
            await confirm_booking(uow, booking.id)
        return booking.id


def _asked_again(chat: FakeChat, question: str) -> None:
    assert chat.text.startswith("⚠️"), f"no warning in {chat.text[:200]!r}"
    assert question in chat.text, f"{question!r} not asked again in {chat.text[:300]!r}"


# --- reaching each step ------------------------------------------------------------------

BOOK_STEPS = {
    "course": ((), "Which course would you like a session for?"),
    "teacher": (("Python from Zero",), "Who would you like to learn with?"),
    "day": (("Python from Zero", "Maya · next"), "Days when Maya is free"),
    "time": (("Python from Zero", "Maya · next", "Tue 24 Nov"), "pick a start time"),
    "confirm": (("Python from Zero", "Maya · next", "Tue 24 Nov", "10:00"),
                "Please check your session"),
}


async def _book_until(chat: FakeChat, step: str) -> str:
    clicks, question = BOOK_STEPS[step]
    await chat.send("/book")
    for label in clicks:
        await chat.click(label)
    assert question in chat.text
    return question


async def _cancel_until(db: Database, world: World, chat: FakeChat, step: str) -> str:
    if step == "pick":
        await _hold(db, world, LATER)
        await chat.send("/cancel")
        question = "Which session do you want to cancel?"
    elif step == "reason":  # only a paid session inside the window asks for a reason
        await chat.send(f"/cancel {await _hold(db, world, SOON, paid=True)}")
        question = "Please type a short reason"
    else:
        await chat.send(f"/cancel {await _hold(db, world, LATER)}")
        question = "Cancel this session?"
    assert question in chat.text
    return question


async def _profile_until(chat: FakeChat, step: str) -> str:
    await chat.send(f"/profile {step}")
    question = "What should people call you?" if step == "name" else "Your timezone is Berlin"
    assert question in chat.text
    return question


async def _onboard_until(chat: FakeChat, step: str) -> str:
    await chat.send("/start")
    question = "What brings you here?"
    if step == "timezone":
        await chat.click("I want to learn")
        question = "Which timezone are you in?"
    assert question in chat.text
    return question


# --- 1. garbage typed at every step --------------------------------------------------------


@pytest.mark.parametrize(("step", "typed"), [c for s in BOOK_STEPS for c in garbage(s)])
async def test_student_typing_garbage_at_each_book_step_is_asked_again(
        db: Database, world: World, chat: FakeChat, step: str, typed: str) -> None:
    question = await _book_until(chat, step)
    before = await _state(db, "sam")
    assert before[1] is not None and before[1][:2] == ("book", step)
    await chat.send(typed)
    _asked_again(chat, question)
    assert await _state(db, "sam") == before


# "asdf" is a fair reason; ODD as a reason has its own test below (it is accepted).
CANCEL_CASES = garbage("pick") + garbage("reason", "word", "odd-unicode") + garbage("confirm")


@pytest.mark.parametrize(("step", "typed"), CANCEL_CASES)
async def test_student_typing_garbage_at_each_cancel_step_is_asked_again(
        db: Database, world: World, chat: FakeChat, step: str, typed: str) -> None:
    question = await _cancel_until(db, world, chat, step)
    before = await _state(db, "sam")
    assert before[1] is not None and before[1][:2] == ("cancel", step)
    await chat.send(typed)
    _asked_again(chat, question)
    assert await _state(db, "sam") == before
    assert all(b[1] in ("held", "confirmed") for b in before[0])


# "asdf", "99" and "-1" are fair names, ODD as a name has its own test below (it is accepted);
# "-1" is the timezone UTC-1 (see the free-text tests).
PROFILE_CASES = (garbage("name", "word", "99", "minus-1", "odd-unicode")
                 + garbage("timezone", "minus-1"))


@pytest.mark.parametrize(("step", "typed"), PROFILE_CASES)
async def test_student_typing_garbage_at_profile_edit_is_asked_again(
        db: Database, world: World, chat: FakeChat, step: str, typed: str) -> None:
    question = await _profile_until(chat, step)
    before = await _state(db, "sam")
    await chat.send(typed)
    _asked_again(chat, question)
    assert await _state(db, "sam") == before
    assert before[2][:2] == ("Sam", "Europe/Berlin")


@pytest.mark.parametrize(("step", "typed"),
                         garbage("role") + garbage("timezone", "minus-1"))
async def test_newcomer_typing_garbage_at_onboarding_is_asked_again(
        db: Database, world: World, chat_as: Any, step: str, typed: str) -> None:
    newt = chat_as("newt", "Newt")
    question = await _onboard_until(newt, step)
    before = await _state(db, "newt")
    assert before[1] is not None and before[1][:2] == ("start", step)
    await newt.send(typed)
    _asked_again(newt, question)
    assert await _state(db, "newt") == before
    assert before[2][2] is None, "not onboarded yet"


@pytest.mark.parametrize("typed", list(GARBAGE.values()), ids=list(GARBAGE))
async def test_newcomer_sending_garbage_first_is_asked_their_role(
        db: Database, world: World, chat_as: Any, typed: str) -> None:
    newt = chat_as("newt", "Newt")
    await newt.send(typed)
    assert "Welcome to Alpha Peer, Newt!" in newt.text and "What brings you here?" in newt.text
    assert await _flow(db, "newt") == ("start", "role", {})
    person = await _person(db, "newt")
    assert person is not None and person[2] is None and person[3] == []


# --- 2. stale buttons --------------------------------------------------------------------


async def test_student_pressing_earlier_book_menu_buttons_is_told_they_expired(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/book")
    old = [chat.button("Python from Zero").action]
    await chat.click("Python from Zero")
    old.append(chat.button("Maya · next").action)
    await chat.click("Maya · next")
    old += [chat.button("Tue 24 Nov").action, chat.button("Cancel").action]
    await chat.click("Tue 24 Nov")
    newest = chat.button("10:00").action
    before, nonce = await _state(db, "sam"), await _nonce(db, "sam")
    for action in old:
        assert action is not None
        await chat.press(action)
        assert chat.text == texts.MENU_EXPIRED
    assert await _state(db, "sam") == before and await _nonce(db, "sam") == nonce
    assert newest is not None
    await chat.press(newest)  # the newest menu still works
    assert "Please check your session" in chat.text


async def test_student_double_clicking_hold_and_pay_books_once_and_second_click_expires(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_until(chat, "confirm")
    hold = chat.button("Hold & pay").action
    assert hold is not None
    await chat.press(hold)
    assert "Held!" in chat.text
    after_first = await _bookings(db)
    await chat.press(hold)
    assert chat.text == texts.MENU_EXPIRED
    assert await _bookings(db) == after_first and len(after_first) == 1
    assert after_first[0][1] == "held" and await _flow(db, "sam") is None


async def test_student_double_clicking_hold_and_pay_at_once_books_once_and_second_expires(
        db: Database, world: World, dispatcher: Dispatcher,
        monkeypatch: pytest.MonkeyPatch) -> None:
    chat = FakeChat(dispatcher, "sam")
    await _book_until(chat, "confirm")
    hold = chat.button("Hold & pay").action
    assert hold is not None
    real, arrived, both = book.hold_slot, [], asyncio.Event()

    async def hold_together(*args: Any, **kwargs: Any) -> Booking:
        # Two workers handling two callbacks: give the second the chance to read the flow
        # state before the first commits. The flow-state row lock (PostgreSQL) and BEGIN
        # IMMEDIATE (SQLite) make it wait instead, so this wait times out.
        arrived.append(1)
        if len(arrived) == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 0.5)
        return await real(*args, **kwargs)

    monkeypatch.setattr(book, "hold_slot", hold_together)
    one, two = FakeChat(dispatcher, "sam"), FakeChat(dispatcher, "sam")
    await asyncio.gather(one.press(hold), two.press(hold))
    answers = sorted([one.text, two.text])
    assert answers[0] == texts.MENU_EXPIRED and "Held!" in answers[1], answers
    assert len(await _bookings(db)) == 1


# --- 3. someone else's buttons -------------------------------------------------------------


async def test_other_student_pressing_sams_menu_button_is_told_it_expired(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    await chat.send("/book")
    sams = chat.button("Python from Zero").action
    assert sams is not None
    sam_before, sam_nonce = await _state(db, "sam"), await _nonce(db, "sam")
    lee = chat_as("lee", "Lee")
    await lee.press(sams)  # Lee has no flow running
    assert lee.text == texts.MENU_EXPIRED and await _flow(db, "lee") is None
    await lee.send("/book")
    lee_before = await _state(db, "lee")
    await lee.press(sams)  # Lee is at the same step of his own flow
    assert lee.text == texts.MENU_EXPIRED
    assert await _state(db, "lee") == lee_before
    assert await _state(db, "sam") == sam_before and await _nonce(db, "sam") == sam_nonce
    await chat.click("Python from Zero")
    assert "Who would you like to learn with?" in chat.text


async def test_other_student_cancelling_sams_booking_is_told_it_was_not_found(
        db: Database, world: World, chat: FakeChat, chat_as: Any) -> None:
    booking_id = await _hold(db, world, LATER)
    await chat.send(f"/cancel {booking_id}")
    sams_yes = chat.button("Yes, cancel it").action
    assert sams_yes is not None
    before = await _bookings(db)
    lee = chat_as("lee", "Lee")
    await lee.send(f"/cancel {booking_id}")
    assert NOT_FOUND in lee.text
    await lee.press(f"v1:c:cancel:{booking_id}")
    assert NOT_FOUND in lee.text
    await lee.press(sams_yes)
    assert lee.text == texts.MENU_EXPIRED
    assert await _bookings(db) == before and before[0][1] == "held"
    assert await _flow(db, "lee") is None
    await chat.click("No, keep it")  # Sam's own menu is untouched
    assert f"Kept session #{booking_id}" in chat.text


# --- 4. forged and malformed payloads -------------------------------------------------------

FORGED = [
    pytest.param("", texts.BUTTON_INVALID, id="empty"),
    pytest.param("v2:f:abc:1", texts.BUTTON_INVALID, id="other-version"),
    pytest.param("v1:zz:a:b", texts.BUTTON_INVALID, id="unknown-kind"),
    pytest.param("v1:f::", texts.BUTTON_INVALID, id="no-nonce"),
    pytest.param("v1:f", texts.BUTTON_INVALID, id="truncated"),
    pytest.param("v1:c:book:" + "a" * 55, texts.BUTTON_INVALID, id="65-bytes"),
    pytest.param("v1:f:abcdef:" + "é" * 30, texts.BUTTON_INVALID, id="72-bytes-multibyte"),
    pytest.param("v1:f:abcdef:1", texts.MENU_EXPIRED, id="unknown-nonce"),
    pytest.param("v1:c:nonexistent:", "I don't know /nonexistent", id="unknown-command"),
    pytest.param("v1:c:cancel:abc", "Booking numbers look like 12", id="cancel-not-a-number"),
    pytest.param("v1:c:cancel:999999", NOT_FOUND, id="cancel-unknown-booking"),
]


@pytest.mark.parametrize(("raw", "answer"), FORGED)
async def test_student_pressing_forged_payload_mid_booking_gets_clear_reply(
        db: Database, world: World, chat: FakeChat, raw: str, answer: str) -> None:
    await _book_until(chat, "teacher")
    maya = chat.button("Maya · next").action
    before, nonce = await _state(db, "sam"), await _nonce(db, "sam")
    await chat.press(raw)
    assert answer in chat.text
    assert await _state(db, "sam") == before and await _nonce(db, "sam") == nonce
    assert maya is not None
    await chat.press(maya)  # the flow carries on as if nothing happened
    assert "Days when Maya is free" in chat.text


async def test_student_pressing_book_button_for_unknown_course_is_shown_all_courses(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.press("v1:c:book:999999")
    assert "I couldn't find that course, so here are all of them." in chat.text
    assert "Which course would you like a session for?" in chat.text
    assert {"Python from Zero · $40.00", "Spanish Basics · $30.00"} <= set(chat.labels)
    assert await _bookings(db) == []
    assert await _flow(db, "sam") == ("book", "course", {})


@pytest.mark.parametrize(("how", "raw", "answer"), [
    pytest.param("press", "v1:c:book:" + "9" * 20, "couldn't find that course",
                 id="book-20-digits"),
    pytest.param("send", "/book 99999999999", "couldn't find that course", id="book-11-digits"),
    pytest.param("send", "/book 2147483648", "couldn't find that course", id="book-int32-max+1"),
    pytest.param("press", "v1:c:cancel:999999999999", NOT_FOUND, id="cancel-12-digits"),
    pytest.param("send", "/cancel 999999999999", NOT_FOUND, id="cancel-typed-12-digits"),
])
async def test_student_asking_for_an_oversized_id_is_told_it_was_not_found(
        db: Database, world: World, chat: FakeChat, how: str, raw: str, answer: str) -> None:
    await (chat.press(raw) if how == "press" else chat.send(raw))
    assert answer in chat.text
    assert await _bookings(db) == []


# --- 5. /cancel in the middle of /book ------------------------------------------------------


@pytest.mark.parametrize("step", list(BOOK_STEPS))
async def test_student_sending_cancel_mid_booking_is_stopped_and_later_text_is_no_answer(
        db: Database, world: World, chat: FakeChat, step: str) -> None:
    await _book_until(chat, step)
    menu = [b.action for b in chat.buttons]
    await chat.send("/cancel")
    assert chat.text.startswith("Stopped") and "Nothing was changed" in chat.text
    assert await _flow(db, "sam") is None
    for typed in ("1", "Python from Zero", "Tue 24 Nov", "10:00", "Hold & pay"):
        await chat.send(typed)
        assert chat.text == texts.NOT_UNDERSTOOD
    for action in menu:
        assert action is not None
        await chat.press(action)
        assert chat.text == texts.MENU_EXPIRED
    assert await _flow(db, "sam") is None and await _bookings(db) == []


async def test_student_sending_cancel_mid_cancel_flow_keeps_the_booking(
        db: Database, world: World, chat: FakeChat) -> None:
    await _cancel_until(db, world, chat, "confirm")
    before = await _bookings(db)
    await chat.send("/cancel")
    assert chat.text.startswith("Stopped") and "Nothing was changed" in chat.text
    await chat.send("Yes, cancel it")
    assert chat.text == texts.NOT_UNDERSTOOD
    assert await _bookings(db) == before and await _flow(db, "sam") is None


# --- 6. typing a choice counts as clicking it, except at free-text steps --------------------


@pytest.mark.parametrize("typed", ["Python from Zero", "1", "python", "PYTHON FROM ZERO",
                                   "Python from Zero · $40.00"])
async def test_student_typing_course_name_or_number_moves_on_to_teachers(
        db: Database, world: World, chat: FakeChat, typed: str) -> None:
    await chat.send("/book")
    await chat.send(typed)
    assert "Python from Zero — $40.00" in chat.text
    assert "Who would you like to learn with?" in chat.text
    state = await _flow(db, "sam")
    assert state is not None and state[:2] == ("book", "teacher")
    assert state[2]["course_id"] == world.python.id


async def test_student_typing_numbers_and_labels_books_like_clicking(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/book")
    await chat.send("1")
    maya = next(i for i, label in enumerate(chat.labels, 1) if label.startswith("Maya"))
    await chat.send(str(maya))
    assert "Days when Maya is free" in chat.text
    await chat.send("tue 24 nov")
    assert "pick a start time" in chat.text
    await chat.send("10:00")
    assert "Please check your session" in chat.text
    await chat.send("Hold & pay")  # the label without its leading emoji
    assert "Held!" in chat.text
    [booking] = await _bookings(db)
    assert booking[1:4] == ("held", world.maya.id, world.sam.id)
    assert booking[4] == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_student_typing_cancel_label_mid_booking_stops_it(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_until(chat, "time")
    await chat.send("cancel")
    assert chat.text == texts.FLOW_CANCELLED
    assert await _flow(db, "sam") is None and await _bookings(db) == []


async def test_newcomer_typing_a_number_at_timezone_step_is_read_as_text(
        db: Database, world: World, chat_as: Any) -> None:
    newt = chat_as("newt", "Newt")
    await newt.send("/start")
    await newt.send("1")  # a choice step: "1" is "I want to learn"
    assert "Which timezone are you in?" in newt.text
    await newt.send("2")  # free text: not the second button (Berlin)
    _asked_again(newt, "Which timezone are you in?")
    assert "'2'" in newt.text
    person = await _person(db, "newt")
    assert person is not None and person[1] == "UTC" and person[2] is None
    await newt.send("Tokyo")
    assert "You're all set, Newt!" in newt.text
    person = await _person(db, "newt")
    assert person is not None and person[1] == "Asia/Tokyo" and person[3] == ["student"]


@pytest.mark.parametrize(("typed", "zone", "label"), [
    ("-1", "Etc/GMT+1", "UTC-1"), ("UTC+2", "Etc/GMT-2", "UTC+2")])
async def test_newcomer_typing_a_utc_offset_at_timezone_step_is_onboarded(
        db: Database, world: World, chat_as: Any, typed: str, zone: str, label: str) -> None:
    newt = chat_as("newt", "Newt")
    await _onboard_until(newt, "timezone")
    await newt.send(typed)  # text, not a button number: the prompt offers "UTC+2"
    assert "You're all set, Newt!" in newt.text and label in newt.text
    person = await _person(db, "newt")
    assert person is not None and person[1] == zone and person[2] is not None


async def test_student_typing_a_number_at_profile_timezone_step_keeps_their_zone(
        db: Database, world: World, chat: FakeChat) -> None:
    await _profile_until(chat, "timezone")
    await chat.send("4")  # the fourth button would be New York
    _asked_again(chat, "Your timezone is Berlin")
    person = await _person(db, "sam")
    assert person is not None and person[1] == "Europe/Berlin"
    await chat.send("New York")  # a label typed counts as the click
    assert "Saved" in chat.text
    person = await _person(db, "sam")
    assert person is not None and person[1] == "America/New_York"


async def test_student_typing_a_number_at_reason_step_is_read_as_text(
        db: Database, world: World, chat: FakeChat) -> None:
    await _cancel_until(db, world, chat, "reason")
    before = await _state(db, "sam")
    await chat.send("1")  # as a choice, "1" would be the only button: ✖ Cancel
    _asked_again(chat, "Please type a short reason")
    assert "3 to 300 characters" in chat.text
    assert await _state(db, "sam") == before
    await chat.send("123")
    assert "Cancel this session?" in chat.text and "Reason: 123" in chat.text
    assert await _bookings(db) == before[0]


# --- bugs found while writing the above ------------------------------------------------------


@pytest.mark.parametrize("step", ["course", "teacher", "confirm"])
async def test_student_typing_a_superscript_digit_at_a_book_step_is_asked_again(
        db: Database, world: World, chat: FakeChat, step: str) -> None:
    question = await _book_until(chat, step)
    before = await _state(db, "sam")
    await chat.send("²")
    _asked_again(chat, question)
    assert await _state(db, "sam") == before


@pytest.mark.parametrize(("line", "answer"), [
    ("/book ²", "couldn't find that course"),
    ("/cancel ²", "Booking numbers look like 12"),
    ("/courses python ²", "No course matches"),
])
async def test_student_sending_a_command_with_a_superscript_digit_gets_a_clear_reply(
        db: Database, world: World, chat: FakeChat, line: str, answer: str) -> None:
    await chat.send(line)
    assert answer in chat.text
    assert await _bookings(db) == []


async def test_student_typing_only_spaces_with_one_course_open_is_asked_again(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            update(Course).where(Course.id == world.spanish.id).values(status="retired"))
    await chat.send("/book")
    await chat.send("   ")
    _asked_again(chat, "Which course would you like a session for?")
    assert await _flow(db, "sam") == ("book", "course", {})


async def test_student_renaming_to_control_characters_is_asked_again(
        db: Database, world: World, chat: FakeChat) -> None:
    question = await _profile_until(chat, "name")
    before = await _state(db, "sam")
    await chat.send(ODD)
    _asked_again(chat, question)
    assert await _state(db, "sam") == before


async def test_student_giving_control_characters_as_cancel_reason_is_asked_again(
        db: Database, world: World, chat: FakeChat) -> None:
    question = await _cancel_until(db, world, chat, "reason")
    before = await _state(db, "sam")
    await chat.send(ODD)
    _asked_again(chat, question)
    assert await _state(db, "sam") == before


async def test_student_paging_through_days_is_offered_every_free_day(
        db: Database, world: World, chat: FakeChat) -> None:
    await _book_until(chat, "day")
    seen: list[str] = []
    for _ in range(5):
        seen += [label for label in chat.labels if label[:3] in
                 ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
        if "Later ›" not in chat.labels:
            break
        await chat.click("Later ›")
    # Maya is free every day; the 28-day horizon ends Mon 21 Dec 09:00 Berlin.
    first = date(2026, 11, 23)
    wanted = [(first + timedelta(days=i)).strftime("%a %d %b") for i in range(28)]
    assert seen == wanted, sorted(set(wanted) - set(seen))
