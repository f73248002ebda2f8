"""A teacher's outside calendar: its busy times block bookings, read by a periodic job
from a real HTTP server (a stand-in on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from core.availability import list_free_slots
from core.external_calendar import busy_from_ics, clean_url
from core.models import ExternalCalendar, User
from core.uow import Database
from scheduling.calendar_fetch import refresh_external_calendars
from tests.conftest import make_settings
from tests.fakechat import FakeChat
from tests.world import World

SPAN = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:once@test
DTSTART:20261124T090000Z
DTEND:20261124T103000Z
SUMMARY:Dentist
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
DTSTART;TZID=Europe/Berlin:20261125T130000
DTEND;TZID=Europe/Berlin:20261125T140000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Team meeting
END:VEVENT
BEGIN:VEVENT
UID:allday@test
DTSTART;VALUE=DATE:20261128
DTEND;VALUE=DATE:20261129
SUMMARY:Trip
END:VEVENT
BEGIN:VEVENT
UID:free@test
DTSTART:20261126T090000Z
DTEND:20261126T100000Z
TRANSP:TRANSPARENT
SUMMARY:Reminder only
END:VEVENT
BEGIN:VEVENT
UID:off@test
DTSTART:20261127T090000Z
DTEND:20261127T100000Z
STATUS:CANCELLED
SUMMARY:Called off
END:VEVENT
BEGIN:VEVENT
UID:floating@test
DTSTART:20261130T100000
DTEND:20261130T110000
SUMMARY:Local time
END:VEVENT
END:VCALENDAR
"""


def test_busy_times_cover_single_recurring_all_day_and_floating_events() -> None:
    busy = busy_from_ics(ICS, *SPAN, "Europe/Berlin")
    assert busy == [
        (datetime(2026, 11, 24, 9, tzinfo=UTC), datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        (datetime(2026, 11, 25, 12, tzinfo=UTC), datetime(2026, 11, 25, 13, tzinfo=UTC)),
        (datetime(2026, 11, 27, 23, tzinfo=UTC), datetime(2026, 11, 28, 23, tzinfo=UTC)),
        (datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 11, 30, 10, tzinfo=UTC)),
        (datetime(2026, 12, 2, 12, tzinfo=UTC), datetime(2026, 12, 2, 13, tzinfo=UTC)),
    ]


@pytest.mark.parametrize("raw", ["", "hello", "BEGIN:VCALENDAR\nBROKEN"])
def test_a_document_that_is_not_a_calendar_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        busy_from_ics(raw, *SPAN, "UTC")


@pytest.fixture
async def ics_server() -> AsyncIterator[dict[str, object]]:
    state: dict[str, object] = {"body": ICS, "status": 200, "hits": 0}

    async def serve(request: web.Request) -> web.Response:
        state["hits"] = int(state["hits"]) + 1  # type: ignore[call-overload]
        return web.Response(text=str(state["body"]), status=int(state["status"]),  # type: ignore[call-overload]
                            content_type="text/calendar")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/maya.ics")

    app = web.Application()
    app.router.add_get("/maya.ics", serve)
    app.router.add_get("/moved.ics", hop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state["url"] = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def _trusting(db: Database, tmp_path: Path) -> Database:
    settings = make_settings(db.settings.database_url, tmp_path,
                             ALPHAPEER_CALENDARS_ALLOW_PRIVATE_HOSTS="true")
    return Database(db.engine, db.clock, settings)


async def _maya_starts(db: Database, world: World) -> set[datetime]:
    async with db.uow() as uow:
        maya = await uow.session.get(User, world.maya.id)
        assert maya is not None
        slots = await list_free_slots(uow, [maya], 60, student_id=None, start=SPAN[0],
                                      end=SPAN[1])
    return {s.starts_at for s in slots}


async def test_teacher_connects_a_calendar_and_its_busy_times_block_bookings(
        db: Database, world: World, chat_as, ics_server: dict[str, object],  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    before = await _maya_starts(db, world)
    assert datetime(2026, 11, 24, 9, tzinfo=UTC) in before
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    await maya.click("Outside calendar")
    await maya.send("not a link")
    assert "doesn't look like a calendar link" in maya.text
    await maya.send(f"{ics_server['url']}/moved.ics")  # redirects to the calendar
    assert "Connected" in maya.text
    assert await refresh_external_calendars(_trusting(db, tmp_path)) == 1
    assert await refresh_external_calendars(_trusting(db, tmp_path)) == 0  # not due again yet
    after = await _maya_starts(db, world)
    blocked = before - after
    assert datetime(2026, 11, 24, 9, tzinfo=UTC) in blocked  # the dentist, 09:00-10:30 UTC
    assert datetime(2026, 11, 24, 10, tzinfo=UTC) in blocked
    assert datetime(2026, 11, 25, 12, tzinfo=UTC) in blocked  # the weekly meeting
    assert not any(s.date() == datetime(2026, 11, 28).date() for s in after)  # the trip
    assert datetime(2026, 11, 26, 9, tzinfo=UTC) in after  # a "free" event blocks nothing
    await maya.send("/availability")
    await maya.click("Outside calendar")
    assert "last read" in maya.text
    await maya.click("Disconnect")
    assert await _maya_starts(db, world) == before


async def test_a_failed_read_keeps_the_last_busy_times_and_tells_the_teacher(
        db: Database, world: World, chat_as, ics_server: dict[str, object],  # type: ignore[no-untyped-def]
        tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    await maya.click("Outside calendar")
    await maya.send(f"{ics_server['url']}/maya.ics")
    await refresh_external_calendars(_trusting(db, tmp_path))
    tomorrow_on = datetime(2026, 11, 24, tzinfo=UTC)  # beyond the moving notice window
    blocked = {s for s in await _maya_starts(db, world) if s >= tomorrow_on}
    assert datetime(2026, 11, 24, 9, tzinfo=UTC) not in blocked
    ics_server["status"] = 500
    clock.advance(minutes=16)
    await refresh_external_calendars(_trusting(db, tmp_path))
    assert {s for s in await _maya_starts(db, world) if s >= tomorrow_on} == blocked
    await maya.send("/availability")
    await maya.click("Outside calendar")
    assert "the last read failed: the server answered 500" in maya.text


async def test_internal_addresses_are_not_fetched(
        db: Database, world: World, chat_as, ics_server: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    maya: FakeChat = chat_as("maya")
    await maya.send("/availability")
    await maya.click("Outside calendar")
    await maya.send(f"{ics_server['url']}/maya.ics")
    assert await refresh_external_calendars(db) == 1  # default settings: public hosts only
    assert ics_server["hits"] == 0
    async with db.uow() as uow:
        row = await uow.session.get(ExternalCalendar, world.maya.id)
        assert row is not None and "not a public address" in (row.last_error or "")


def test_webcal_links_are_read_over_https() -> None:
    assert clean_url(" webcal://cal.example.com/a.ics ") == "https://cal.example.com/a.ics"


@pytest.mark.parametrize("text", ["https://cal.example.com/\x00.ics", "https://a b.example/x",
                                  "ftp://cal.example.com/a.ics", "https://"])
def test_unusable_calendar_links_are_refused(text: str) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        clean_url(text)
