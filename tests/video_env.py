"""The live-session test environment: the stand-in BigBlueButton and OpenAI servers on
loopback, our web app on a known port (the stand-in calls it back), and settings that
select BBB and the AI endpoint."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import select

from ai.openai_assistant import OpenAIAssistant
from core.booking import confirm_booking, hold_slot, toggle_teacher_records
from core.booking import teacher_records as teacher_records_now
from core.clock import FrozenClock
from core.models import Booking, OutboxMessage, User
from core.uow import Database
from core.video import meeting_id_for
from handlers.links import join_url
from tests.bbb_standin import BBBStandin
from tests.openai_standin import OpenAIStandin
from tests.world import World
from video.bbb import BBBProvider
from web_callbacks.app import create_app

BBB_SECRET = "bbb-shared-secret-for-tests-0123456789"
AI_KEY = "sk-test-ai"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class VideoEnv:
    db: Database
    bbb: BBBStandin
    ai: OpenAIStandin
    video: BBBProvider
    assistant: OpenAIAssistant
    base: str
    http: ClientSession

    async def get(self, url: str, **kw: Any) -> tuple[int, str, str]:
        """(status, final URL, body) following redirects, like a browser."""
        async with self.http.get(url, **kw) as resp:
            return resp.status, str(resp.url), await resp.text()

    async def first_hop(self, url: str) -> tuple[int, str]:
        async with self.http.get(url, allow_redirects=False) as resp:
            return resp.status, resp.headers.get("Location", await resp.text())

    def join(self, booking: Booking, user: User) -> str:
        return join_url(self.db.settings, booking, user.id)

    def meeting(self, booking: Booking) -> str:
        return meeting_id_for(self.db.settings.secrets.secret_key, booking.id)

    async def outbox(self, user: User) -> list[OutboxMessage]:
        async with self.db.uow() as uow:
            return list((await uow.session.scalars(select(OutboxMessage).where(
                OutboxMessage.user_id == user.id).order_by(OutboxMessage.id))).all())

    async def book(self, world: World, at: Any, *, student_records: bool = True,
                   teacher_records: bool = True) -> Booking:
        async with self.db.uow() as uow:
            if await teacher_records_now(uow, world.maya.id) != teacher_records:
                maya = await uow.session.get(User, world.maya.id)
                assert maya is not None
                await toggle_teacher_records(uow, maya)
            booking = await hold_slot(uow, world.sam, world.python.id, world.maya.id, at,
                                      record=student_records)
            await confirm_booking(uow, booking.id)
            return booking


@pytest.fixture
async def venv(db: Database, clock: FrozenClock) -> AsyncIterator[VideoEnv]:
    bbb, ai = BBBStandin(BBB_SECRET), OpenAIStandin(AI_KEY)
    await bbb.start()
    await ai.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(
        db.settings,
        web=replace(db.settings.web, public_url=base),
        video=replace(db.settings.video, provider="bbb", bbb_url=bbb.api_url),
        ai=replace(db.settings.ai, base_url=ai.base_url),
        secrets=replace(db.settings.secrets, bbb_secret=BBB_SECRET, openai_api_key=AI_KEY))
    vdb = Database(db.engine, db.clock, settings)
    video = BBBProvider(bbb.api_url, BBB_SECRET)
    assistant = OpenAIAssistant(ai.base_url, AI_KEY, "chat-model", "whisper-model",
                                max_retries=0)
    runner = web.AppRunner(create_app(vdb, video=video))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with ClientSession() as http:
        yield VideoEnv(vdb, bbb, ai, video, assistant, base, http)
    await runner.cleanup()
    await video.close()
    await assistant.close()
    await bbb.stop()
    await ai.stop()
