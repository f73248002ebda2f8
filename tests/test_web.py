"""The web server over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.booking import hold_slot
from core.clock import FrozenClock
from core.models import Course
from core.uow import Database
from handlers.links import pay_url
from tests.world import World
from web_callbacks.app import create_app

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(create_app(db))) as http:
        yield http


async def _held_link(db: Database, world: World) -> str:
    async with db.uow() as uow:
        booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, SLOT)
        return pay_url(db.settings, booking)


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def test_health_reports_database_ok(client: TestClient[object, object]) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": "ok"}


async def test_pay_link_opens_the_sandbox_checkout_with_names_escaped(
        db: Database, world: World, client: TestClient[object, object]) -> None:
    async with db.uow() as uow:
        course = await uow.session.get(Course, world.python.id)
        assert course is not None
        course.title = "<script>alert(1)</script> Python"
    link = _path(await _held_link(db, world))
    resp = await client.get(link, allow_redirects=False)
    assert resp.status == 303
    checkout = _path(resp.headers["Location"])
    assert checkout.startswith("/sandbox/checkout/cs_sandbox_")
    again = await client.get(link, allow_redirects=False)  # reopening reuses the checkout
    assert _path(again.headers["Location"]) == checkout
    body = await (await client.get(checkout)).text()
    assert "SANDBOX" in body and "$40.00" in body and "Maya" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


async def test_forged_pay_link_is_refused(db: Database, world: World,
                                          client: TestClient[object, object]) -> None:
    path = _path(await _held_link(db, world))
    resp = await client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert resp.status == 404
    assert "invalid or has expired" in await resp.text()


async def test_pay_link_after_the_hold_lapses_says_nothing_to_pay(
        db: Database, world: World, client: TestClient[object, object],
        clock: FrozenClock) -> None:
    path = _path(await _held_link(db, world))
    clock.advance(minutes=db.settings.booking.hold_minutes + 1)
    resp = await client.get(path)
    assert resp.status in (404, 410)
    assert "Pay for session" not in await resp.text()
    clock.set(clock.now() - timedelta(minutes=1))
