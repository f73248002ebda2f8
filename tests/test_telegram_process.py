"""`alphapeer run --demo` with a Telegram token, as deployed: a real process, polling a
Bot API server (the stand-in), killed mid-flow and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.uow import Database
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
USER = 31337


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def _start(db: Database, fake: FakeTelegram, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPEER_")}
    env.update(ALPHAPEER_DATABASE_URL=db.settings.database_url,
               ALPHAPEER_APP_DATA_DIR=str(tmp_path), ALPHAPEER_SECRET_KEY="k" * 40,
               ALPHAPEER_WEB_PORT=str(_free_port()),
               ALPHAPEER_WEB_PUBLIC_URL="https://alphapeer.example.com",
               ALPHAPEER_TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_BOT_TOKEN=fake.token)
    env.pop("DISCORD_BOT_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphapeer", "run", "--demo", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)


async def _click(fake: FakeTelegram, label: str, expect: str) -> None:
    fake.user_clicks(USER, fake.last(USER), label)
    await fake.wait_for(USER, expect)


async def test_run_with_a_token_books_on_telegram_and_survives_a_kill(
        db: Database, fake: FakeTelegram, tmp_path: Path) -> None:
    proc = await _start(db, fake, tmp_path)
    try:
        fake.user_sends(USER, "/start")
        await fake.wait_for(USER, "Welcome to Alpha Peer")
        await _click(fake, "I want to learn", "Which timezone")
        await _click(fake, "New York", "You're all set")
        fake.user_sends(USER, "/book")
        await fake.wait_for(USER, "Which course")
        await _click(fake, "Python from Zero", "Who would you like to learn with?")
        proc.send_signal(signal.SIGKILL)  # mid-flow, no goodbye
        await proc.wait()
        proc = await _start(db, fake, tmp_path)
        await _click(fake, "First available", "Please check your session")
        await _click(fake, "Hold & pay", "Held!")
        assert fake.last(USER).button("Pay $40.00")["url"].startswith(
            "https://alphapeer.example.com/pay/")
        assert fake.refused == []
        assert fake.open_queries == {}
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
    assert proc.returncode == 0, (await proc.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]
