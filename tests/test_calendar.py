"""Calendar invites in chat (REQUEST, then CANCEL with the same UID and a later SEQUENCE)
and the private calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar
from sqlalchemy import select

from core.booking import confirm_booking, hold_slot
from core.models import OutboxMessage
from core.uow import Database
from tests.fakechat import FakeChat
from tests.world import World
from web_callbacks.app import create_app

THURSDAY_10_BERLIN = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _event(ics: bytes | str) -> tuple[str, dict[str, object]]:
    cal = Calendar.from_ical(ics)
    [event] = [c for c in cal.walk("VEVENT")]
    return str(cal.get("method", "")), {
        "uid": str(event["uid"]), "sequence": int(event["sequence"]),
        "start": event.decoded("dtstart"), "status": str(event["status"]),
        "summary": str(event["summary"])}


async def test_free_intro_comes_with_a_calendar_invite_for_both_people(
        db: Database, world: World, chat: FakeChat) -> None:
    await chat.send("/intro python")
    await chat.click("Maya · next")
    await chat.click("Tue 24 Nov")
    await chat.click("10:15")
    await chat.click("Book free intro")
    [confirmation, attachment] = chat.last
    assert "Booked your free intro" in confirmation.text
    assert attachment.file_name and attachment.file_name.endswith(".ics")
    method, event = _event(attachment.file or b"")
    assert method == "REQUEST" and event["sequence"] == 0 and event["status"] == "CONFIRMED"
    assert event["start"] == datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    assert event["summary"] == "Free intro: Sam with Maya"
    async with db.uow() as uow:
        [note] = (await uow.session.scalars(select(OutboxMessage))).all()
    assert note.file_body is not None and _event(note.file_body)[1]["uid"] == event["uid"]


async def test_cancelling_sends_a_cancel_with_the_same_uid_and_a_later_sequence(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                  THURSDAY_10_BERLIN)
        await confirm_booking(uow, booking.id)
    await chat.send(f"/cancel {booking.id}")
    await chat.click("Yes, cancel it")
    files = [r for r in chat.last if r.file]
    assert len(files) == 1
    method, event = _event(files[0].file or b"")
    assert (method, event["uid"], event["sequence"], event["status"]) == (
        "CANCEL", f"booking-{booking.id}@alphapeer", 1, "CANCELLED")
    async with db.uow() as uow:
        [note] = (await uow.session.scalars(select(OutboxMessage))).all()
    assert note.file_body is not None and _event(note.file_body)[0] == "CANCEL"


async def test_unpaid_hold_cancelled_sends_no_calendar_file(
        db: Database, world: World, chat: FakeChat) -> None:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                                  THURSDAY_10_BERLIN)
    await chat.send(f"/cancel {booking.id}")
    await chat.click("Yes, cancel it")
    assert not any(r.file for r in chat.last)


async def test_calendar_feed_lists_only_that_persons_sessions(
        db: Database, world: World, chat: FakeChat, chat_as) -> None:  # type: ignore[no-untyped-def]
    async with db.uow() as uow:
        mine = await hold_slot(uow, world.sam, world.python.id, world.maya.id,
                               THURSDAY_10_BERLIN)
        await confirm_booking(uow, mine.id)
        theirs = await hold_slot(uow, world.lee, world.spanish.id, world.ken.id,
                                 datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
        await confirm_booking(uow, theirs.id)
    await chat.send("/calendar")
    url = chat.url("Open the feed")
    assert url.endswith(".ics") and chat.last[0].private
    async with TestClient(TestServer(create_app(db))) as http:
        resp = await http.get(url.split("127.0.0.1:8080", 1)[1])
        assert resp.status == 200 and resp.content_type == "text/calendar"
        cal = Calendar.from_ical(await resp.read())
        uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
        assert uids == {f"booking-{mine.id}@alphapeer"}
        forged = await http.get("/calendar/WyJjYWxlbmRhciIsIjEiLDk5OTk5OTk5OTldXQ.AAAA.ics")
        assert forged.status == 404
