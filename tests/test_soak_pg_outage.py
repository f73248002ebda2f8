"""PostgreSQL stopped for 10 seconds while people chat with ``alphapeer run`` on Telegram:
nothing is lost, every update is answered once, and the process recovers by itself.

The machine's shared PostgreSQL is left alone: the test starts a private cluster of its own
(``initdb`` into a temporary folder, ``pg_ctl`` on a free port, trust authentication; as
root, the server binaries run as the ``postgres`` user) and stops it with
``pg_ctl stop -m fast`` — live connections are cut, as in a failover or a restart.

What the people do: three chat (/help every two seconds, answered or not), one is in the
middle of booking (a tap during the outage, then "Hold & pay" after it), and one sends a burst
of /help just before the stop — the bot answers a chat about once a second, so the later turns
of that burst run while the database is away.

What must hold: an update sent during the outage cannot be stored, so it is not acknowledged
and Telegram (the stand-in) delivers it again; it is stored and answered once the database is
back. A turn that meets the outage (the burst) is answered with the "try again in a moment"
text (``texts.DB_UNAVAILABLE``), and that counts as its answer: it is marked handled once the
database is back and never answered a second time. Every update is stored once and handled;
each chat gets exactly one answer per update; the booking carries on; answers after the
outage are real ones again; the process never exits and logs no traceback. It runs in
``make test`` (about 40 s) whenever PostgreSQL's server binaries are installed, and skips
otherwise.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from alphapeer import migrate
from core.availability import set_weekly_availability
from core.clock import SystemClock
from core.db import create_engine
from core.models import InboundUpdate, User
from core.uow import Database, UnitOfWork
from core.windows import Window
from handlers import texts
from tests.conftest import make_settings
from tests.soak_process import (
    BotProcess,
    Sent,
    SoakTelegram,
    TelegramUser,
    free_port,
    process_env,
)
from tests.world import add_course, add_person

OUTAGE = 10.0  # seconds the database is away
CHATTERS = 3
BURST = 6  # messages one impatient person sends at once, just before the outage
pytestmark = pytest.mark.timeout(180)


def _bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: pg_config's answer, else the Debian layout."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


class PrivateCluster:
    """A PostgreSQL server of this test's own, in a temporary folder."""

    def __init__(self, bindir: Path, folder: Path, prefix: list[str]) -> None:
        self.bindir = bindir
        self.folder = folder
        self.prefix = prefix  # run as the postgres user when we are root (initdb refuses root)
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def prepare(cls) -> PrivateCluster:
        bindir = _bindir()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries not found (pg_config --bindir, "
                        "/usr/lib/postgresql/*/bin)")
        prefix: list[str] = []
        folder = Path(tempfile.mkdtemp(prefix="alphapeer-pg-"))
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                owner = None
            if runuser is None or owner is None:
                shutil.rmtree(folder)
                pytest.skip("running as root, and no runuser or postgres user to run "
                            "initdb as (initdb refuses root)")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            prefix = [runuser, "-u", "postgres", "--"]
        return cls(bindir, folder, prefix)

    async def _run(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self.prefix, *args, cwd=self.folder, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, f"{args[0]} failed: {out.decode()}"

    async def init(self) -> None:
        await self._run(str(self.bindir / "initdb"), "-D", str(self.folder / "data"),
                        "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    async def start(self) -> None:
        options = (f"-k {self.folder} -c listen_addresses=127.0.0.1 -p {self.port} "
                   "-c fsync=off")
        await self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-l", str(self.folder / "server.log"), "-w", "-t", "30",
                        "-o", options, "start")

    async def stop(self, mode: str = "fast") -> None:
        await self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", mode, "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
async def cluster() -> AsyncIterator[PrivateCluster]:
    server = PrivateCluster.prepare()
    try:
        await server.init()
        await server.start()
        yield server
    finally:
        if (server.folder / "data" / "postmaster.pid").exists():
            await server.stop("immediate")
        server.remove()


@pytest.fixture
async def fake() -> AsyncIterator[SoakTelegram]:
    server = SoakTelegram()
    await server.start()
    yield server
    await server.stop()


async def _person(uow: UnitOfWork, tg: int, name: str, *roles: str) -> User:
    return await add_person(uow, str(tg), name, "UTC", *roles, platform="telegram")


async def _seed(db: Database) -> None:
    async with db.uow() as uow:
        ada = await _person(uow, 1000, "Ada", "creator")
        maya = await _person(uow, 1001, "Maya", "teacher")
        for n in range(1 + CHATTERS):
            await _person(uow, 2000 + n, f"Student{n}", "student")
        await add_course(uow, "python", "Python from Zero", ada, 4000, 60, [maya])
        await set_weekly_availability(uow, maya, [Window(d, 0, 24 * 60) for d in range(7)])


async def _chat(u: TelegramUser, until: asyncio.Event) -> None:
    """Someone who keeps asking, whether or not the last question was answered yet (every
    two seconds or so: the bot answers a chat at most once a second, so a backlog drains)."""
    while not until.is_set():
        u.send("/help")
        await asyncio.sleep(2.0)


def _is_help(text: str) -> bool:
    return text.startswith("Here's what I can do")


def _answers(messages: list[str]) -> list[str]:
    """A chat's messages as answers: "try again", or the /help text (sent in pieces: it is
    longer than a Telegram message), every copy of it the same."""
    answers: list[str] = []
    for text in messages:
        if text == texts.DB_UNAVAILABLE or _is_help(text):
            answers.append(text)
        else:
            assert answers and answers[-1] != texts.DB_UNAVAILABLE, f"not an answer: {text}"
            answers[-1] += "\n" + text
    assert len({a for a in answers if a != texts.DB_UNAVAILABLE}) <= 1, "/help answered oddly"
    return answers


async def test_users_chatting_through_a_postgres_outage_are_answered_once_and_lose_nothing(
        cluster: PrivateCluster, fake: SoakTelegram, tmp_path: Path) -> None:
    started = time.monotonic()
    engine = create_engine(cluster.url, pool_size=2)
    db = Database(engine, SystemClock(), make_settings(cluster.url, tmp_path))
    await migrate.upgrade(engine)
    await _seed(db)
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = BotProcess(process_env(cluster.url, tmp_path, fake, free_port(),
                                 ALPHAPEER_SCHEDULER_SWEEP_SECONDS="1"), logs, fake)
    booker = TelegramUser(fake, 2000, "Student0")
    chatters = [TelegramUser(fake, 2001 + n, f"Student{n + 1}") for n in range(CHATTERS)]
    hasty = TelegramUser(fake, 2001 + CHATTERS, f"Student{CHATTERS + 1}")
    quiet = asyncio.Event()
    await bot.start()
    try:
        await bot.ready()
        # A booking begun before the outage ...
        sent = booker.send("/book")
        courses = await booker.answer(sent, "Which course", within=20)
        assert courses is not None, bot.stderr()
        sent = booker.click(courses, "Python from Zero")
        teachers = await booker.answer(sent, "Who would you like", within=20)
        assert teachers is not None, bot.stderr()
        chatting = [asyncio.create_task(_chat(u, quiet)) for u in chatters]
        await asyncio.sleep(2.0)
        # Someone impatient sends a burst just before: the bot answers a chat about once a
        # second, so the later turns of the burst run while the database is away.
        burst = [hasty.send("/help") for _ in range(BURST)]
        await fake.wait_acknowledged()
        assert await hasty.answer(burst[0], "Here's what I can do", within=20), bot.stderr()
        await engine.dispose()  # the test's own connections too: they are cut as well
        await cluster.stop("fast")
        down = time.time()
        await asyncio.sleep(OUTAGE / 3)
        clicked: Sent = booker.click(teachers, "First available")  # ... a tap during it ...
        await asyncio.sleep(OUTAGE * 2 / 3)
        unacknowledged = {u["update_id"] for u in fake.updates}
        restart = time.time()
        await cluster.start()
        up = time.time()
        # ... carries on once the database is back.
        check = await booker.answer(clicked, "Please check your session", within=30)
        assert check is not None, f"the tap was lost: {bot.stderr()}"
        sent = booker.click(check, "Hold & pay")
        held = await booker.answer(sent, "Held!", within=20)
        assert held is not None and held.button("Pay $40.00"), bot.stderr()
        await asyncio.sleep(4.0)
        quiet.set()
        await asyncio.gather(*chatting)
        everyone = [booker, *chatters, hasty]
        pushed = {s.update_id: s for u in everyone for s in u.sent}
        deadline = time.monotonic() + 45
        while True:  # every update stored and handled
            async with db.uow() as uow:
                rows = list((await uow.session.scalars(select(InboundUpdate))).all())
            if sorted(r.update_id for r in rows if r.handled_at) == sorted(pushed):
                break
            assert time.monotonic() < deadline, (
                f"{len(pushed) - len(rows)} updates not stored, "
                f"{sum(r.handled_at is None for r in rows)} not handled: {bot.stderr()}")
            await asyncio.sleep(0.3)
        await fake.settle(quiet=1.0)
        assert bot.running and bot.lives == 1, f"the process exited: {bot.stderr()}"
    finally:
        quiet.set()
        code = await bot.stop()
        await engine.dispose()
    assert code == 0, bot.stderr()
    log = bot.all_stderr()
    assert "Traceback" not in log, log[-6000:]
    # Nothing stored twice or left out: each update once, each handled.
    assert sorted(r.update_id for r in rows) == sorted(pushed)
    # What was sent while the database was down could not be stored, so it was not
    # acknowledged: Telegram kept it, and it was stored once the database was back.
    during = [s for s in pushed.values() if down <= s.at < restart]
    assert during, "nobody chatted during the outage"
    assert {s.update_id for s in during} <= unacknowledged, "an unstored update was acknowledged"
    stored = {r.update_id: r.received_at for r in rows}
    assert all(stored[s.update_id] >= datetime.fromtimestamp(up - 1, UTC) for s in during)
    # Each question answered exactly once: the answer, or "try again in a moment". The chats
    # hold nothing else, so counting a chat's messages counts the answers to its updates.
    unavailable = Counter[str]()
    for u in (*chatters, hasty):
        answers = _answers([a.text for a in fake.chat(u.user_id)])
        assert len(answers) == len(u.sent), (u.name, [a[:40] for a in answers])
        unavailable[u.name] = answers.count(texts.DB_UNAVAILABLE)
        # Once the database is back, the answers are real ones again: it recovered by itself.
        after = [a for a, s in zip(answers, u.sent, strict=True) if s.at > up + 5]
        assert u is hasty or (after and all(_is_help(a) for a in after)), (u.name, after)
    assert unavailable[hasty.name] >= 1, "no turn met the outage: the burst came too late"
    # The booker's presses: each callback query answered exactly once.
    queries = Counter(c.query_id for c in fake.answers if c.method == "answerCallbackQuery")
    assert all(queries[s.query_id] == 1 for s in booker.sent if s.query_id), queries
    assert fake.refused == [] and fake.open_queries == {}
    print(f"\npg outage: {len(pushed)} updates, {len(during)} sent during the {OUTAGE:.0f} s "
          f"outage (delivered again after it), {sum(unavailable.values())} answered "
          f"'try again' ({dict(unavailable)}), {time.monotonic() - started:.0f} s")
