"""/ask: with an AI endpoint the answer arrives after the turn (course context in the
prompt); without one the course materials are searched and AI is said to be off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import FrozenClock
from core.models import AIQuestion, CourseMaterial
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from scheduling.session_jobs import answer_questions
from tests.fakechat import FakeChat
from tests.video_env import VideoEnv, venv  # noqa: F401  (the "venv" fixture)
from tests.world import World

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _materials(db: Database, world: World) -> None:
    async with db.uow() as uow:
        now = uow.clock.now()
        uow.session.add_all([
            CourseMaterial(course_id=world.python.id, kind="link", title="Reading files",
                           url="https://docs.python.org/3/tutorial/inputoutput.html",
                           body="Open a file with open(); iterate over it to read lines one "
                                "by one. Close it, or better use a with statement.",
                           created_at=now),
            CourseMaterial(course_id=world.python.id, kind="note", title="Decorators",
                           body="A decorator wraps a function to add behaviour.",
                           created_at=now),
            CourseMaterial(course_id=world.spanish.id, kind="note", title="Verbs",
                           body="Reading Spanish verbs: leer means to read.", created_at=now)])


async def test_ask_without_ai_answers_from_the_course_materials_and_says_ai_is_off(
        db: Database, world: World, chat: FakeChat) -> None:
    await _materials(db, world)
    async with db.uow() as uow:  # Sam has a Python session: that is the course in focus
        from core.booking import confirm_booking, hold_slot
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, START)
        await confirm_booking(uow, booking.id)
    await chat.send("/ask how do I read lines from a file?")
    assert "AI is off" in chat.text and "Python from Zero" in chat.text
    assert "Reading files" in chat.text and "Verbs" not in chat.text  # other course's notes
    assert chat.url("📄 Reading files").startswith("https://docs.python.org/")
    await chat.send("/ask quantum chromodynamics")
    assert "nothing in the course materials" in chat.text
    await chat.send("/ask")
    assert "Ask a question after the command" in chat.text
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(AIQuestion))).first() is None


async def test_ask_with_ai_queues_the_question_and_delivers_the_answer_once(
        venv: VideoEnv, world: World, clock: FrozenClock) -> None:  # noqa: F811
    await _materials(venv.db, world)
    booking = await venv.book(world, START)
    sam = FakeChat(Dispatcher(venv.db, build_registry()), "sam")
    await sam.send(f"/thread {booking.id}")
    await sam.send("/ask how do decorators work?")
    assert "Thinking about your question about Python from Zero" in sam.text
    venv.ai.replies.append("A decorator takes a function and returns a wrapped one.")
    assert await answer_questions(venv.db, venv.assistant) == 1
    assert await answer_questions(venv.db, venv.assistant) == 0
    prompt = venv.ai.chats()[-1]["messages"]
    assert "Python from Zero" in prompt[0]["content"] and "Decorators" in prompt[0]["content"]
    assert prompt[1]["content"] == "how do decorators work?"
    answer = (await venv.outbox(world.sam))[-1]
    assert answer.kind == "ai_answer" and "wrapped one" in answer.text

    venv.ai.fail_next(5, status=503)  # retried later, then the asker is told
    await sam.send("/ask what is a closure?")
    for _ in range(3):
        await answer_questions(venv.db, venv.assistant)
        clock.set(clock.now() + timedelta(minutes=10))
    last = (await venv.outbox(world.sam))[-1]
    assert "couldn't answer" in last.text


async def test_session_thread_relays_messages_to_the_other_participant_only(
        venv: VideoEnv, world: World) -> None:  # noqa: F811
    booking = await venv.book(world, START)
    dispatcher = Dispatcher(venv.db, build_registry())
    sam, lee = FakeChat(dispatcher, "sam"), FakeChat(dispatcher, "lee")
    await lee.send(f"/thread {booking.id}")
    assert "couldn't find" in lee.text
    await sam.send(f"/thread {booking.id}")
    assert f"Session #{booking.id} with Maya" in sam.text
    await sam.send("I'll bring my homework about decorators")
    assert "Sent to Maya" in sam.text
    relayed = (await venv.outbox(world.maya))[-1]
    assert relayed.kind == "thread_message" and "homework about decorators" in relayed.text
    maya = FakeChat(dispatcher, "maya")
    await maya.press(relayed.buttons[0][0]["action"])
    assert "I'll bring my homework" in maya.text  # the history, then her reply
    await maya.send("Great, see you then")
    assert "see you then" in (await venv.outbox(world.sam))[-1].text
    assert not [m for m in await venv.outbox(world.lee) if m.kind == "thread_message"]
