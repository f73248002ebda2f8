"""`alphapeer chat` and `alphapeer run` as a person would use them, over pipes."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import aiohttp

from core.uow import Database

ROOT = Path(__file__).resolve().parent.parent


def _env(db: Database, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPEER_")}
    env.update(ALPHAPEER_DATABASE_URL=db.settings.database_url,
               ALPHAPEER_APP_DATA_DIR=str(tmp_path), ALPHAPEER_APP_LOG_LEVEL="WARNING",
               ALPHAPEER_SECRET_KEY="k" * 40, **extra)
    return env


async def _alphapeer(args: list[str], stdin: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphapeer", *args, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=90)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_new_user_holds_a_slot_within_six_presses_after_book(
        db: Database, tmp_path: Path) -> None:
    presses_after_book = ["1", "2", "1", "1", "1"]  # course, teacher, day, time, hold
    script = "\n".join(["/start", "1", "London", "/book", *presses_after_book]) + "\n"
    code, out, err = await _alphapeer(["chat", "--as", "newbie", "--demo"], script,
                                      _env(db, tmp_path))
    assert code == 0, err
    assert len(presses_after_book) <= 6
    assert "Held!" in out
    assert re.search(r"\[\d+\] 💳 Pay \$\d+\.\d\d -> http://127\.0\.0\.1:8080/pay/\S+", out)
    assert "Traceback" not in out + err


async def test_terminal_switches_users_and_explains_bad_numbers(
        db: Database, tmp_path: Path) -> None:
    script = "/start\n7\n:as sam\n/mybookings\n:as !!\n"
    code, out, _err = await _alphapeer(["chat", "--as", "newbie", "--demo"], script,
                                       _env(db, tmp_path))
    assert code == 0
    assert "There's no button 7" in out
    assert "(you are now sam)" in out
    assert "Your upcoming sessions" in out and "with Maya Schmidt" in out
    assert "Usage: :as NAME" in out


async def test_chat_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPEER_")}
    env.update(ALPHAPEER_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
               ALPHAPEER_APP_DATA_DIR=str(tmp_path))
    code, _out, err = await _alphapeer(["chat"], "/start\n", env)
    assert code == 2
    assert "alphapeer db upgrade" in err


async def test_bad_configuration_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPEER_")}
    env.update(ALPHAPEER_WEB_PORT="eighty", ALPHAPEER_APP_DATA_DIR=str(tmp_path))
    code, _out, err = await _alphapeer(["chat"], "", env)
    assert code == 2
    assert "ALPHAPEER_WEB_PORT" in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_serves_health_and_the_terminal_chat_until_input_ends(
        db: Database, tmp_path: Path) -> None:
    port = _free_port()
    env = _env(db, tmp_path, ALPHAPEER_WEB_PORT=str(port),
               ALPHAPEER_WEB_PUBLIC_URL=f"http://127.0.0.1:{port}")
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("DISCORD_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alphapeer", "run", "--demo", "--as", "visitor", cwd=ROOT,
        env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    try:
        health = None
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        health = (resp.status, await resp.json())
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert health == (200, {"status": "ok", "database": "ok"})
        proc.stdin.write(b"/courses\n")
        proc.stdin.close()
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert "Python from Zero" in out.decode()


async def test_grant_makes_someone_admin_and_refuses_strangers(
        db: Database, tmp_path: Path) -> None:
    env = _env(db, tmp_path)
    code, _out, err = await _alphapeer(["grant", "admin", "terminal:nobody"], "", env)
    assert code == 1 and "must message the bot first" in err
    code, _out, _err = await _alphapeer(["chat", "--as", "sam", "--demo"], "", env)
    code, out, _err = await _alphapeer(["grant", "admin", "terminal:sam"], "", env)
    assert code == 0 and "Sam Carter is now admin" in out
    code, out, _err = await _alphapeer(["chat", "--as", "sam"], "/outbox\n", env)
    assert "Outbox: 0 waiting" in out
