"""What the operator sees at GET /metrics: turns handled, their SQL statements and latency,
counted by the dispatcher itself; shown to loopback callers only."""

from __future__ import annotations

import re
from unittest.mock import Mock

from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from sqlalchemy import event

from core.metrics import Metrics
from core.uow import Database
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from tests.fakechat import FakeChat
from tests.world import World
from web_callbacks.app import create_app, metrics_route


def _value(text: str, line: str) -> float:
    found = re.search(rf"^{re.escape(line)} (\S+)$", text, re.M)
    assert found, f"{line} missing from:\n{text}"
    return float(found.group(1))


async def test_metrics_count_each_turn_and_its_statements_as_the_database_saw_them(
        db: Database, world: World) -> None:
    metrics = Metrics()
    chat = FakeChat(Dispatcher(db, build_registry(), metrics=metrics), "sam")
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    try:
        for text in ("/help", "/mybookings", "/book", "/cancel"):
            await chat.send(text)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _record)

    assert metrics.turns == 4
    assert metrics.turn_statements.n == 4
    assert metrics.turn_statements.total == len(seen)  # every statement, none twice
    assert 1 <= metrics.turn_statements.top < len(seen)
    assert metrics.turn_seconds.n == 4 and metrics.turn_seconds.total > 0

    async with TestClient(TestServer(create_app(db, metrics=metrics))) as http:
        resp = await http.get("/metrics")
        text = await resp.text()
    assert resp.status == 200
    assert _value(text, "alphapeer_turns_total") == 4
    assert _value(text, "alphapeer_turn_statements_count") == 4
    assert _value(text, "alphapeer_turn_statements_sum") == len(seen)
    assert _value(text, 'alphapeer_turn_statements_bucket{le="+Inf"}') == 4
    assert "alphapeer_loop_lag_seconds_bucket" in text


async def test_metrics_are_not_shown_beyond_loopback() -> None:
    show = metrics_route(Metrics())
    transport = Mock()
    transport.get_extra_info.side_effect = lambda key, default=None: (
        ("203.0.113.7", 40000) if key == "peername" else default)
    response = await show(make_mocked_request("GET", "/metrics", transport=transport))
    assert response.status == 404
    assert "alphapeer" not in (response.text or "")
