"""The core loop under load, the way users load it: simulated Telegram users doing the whole
booking journey against a real ``alphapeer run`` process (Telegram surface polling a
stand-in Bot API on loopback, web server, scheduler, courier) over real HTTP; and, in the
same run against the same stand-in, a bare python-telegram-bot echo bot as the baseline.

Figures: updates/s at saturation (and as a ratio to the echo bot), p50/p99 update→reply
latency at half that rate, SQL statements per update (the turn's, and the share of storing
it) for a small catalogue and for ten times it, RSS after many distinct users, event-loop
lag (the process measures its own; ``GET /metrics``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.bot_api import LoadTelegram
from bench.common import percentile
from bench.journey import Tally, User, book, echo, start_only
from bench.load_seed import grow_catalogue, seed_catalogue

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://bench.alphapeer.example"
Journey = Callable[[User], Awaitable[None]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    port: int  # the web server's (0 for the echo bot)
    log: Path  # its stdout and stderr

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else float("nan")

    async def metrics(self) -> dict[str, list[tuple[float, float]]]:
        """Histogram buckets (upper bound, cumulative count) by metric name."""
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{self.port}/metrics") as resp:
            text = await resp.text()
        found: dict[str, list[tuple[float, float]]] = {}
        for name, bound, count in re.findall(r'^(\w+)_bucket\{le="([^"]+)"\} (\S+)$', text,
                                             re.M):
            found.setdefault(name, []).append((float(bound), float(count)))
        for name, value in re.findall(r"^(\w+)_max (\S+)$", text, re.M):
            found.setdefault(name + "_max", []).append((float(value), 0.0))
        return found

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def _quantile(buckets: list[tuple[float, float]], q: float) -> float:
    total = buckets[-1][1]
    return next((bound for bound, count in buckets if count >= q * total), float("nan"))


@contextlib.asynccontextmanager
async def alphapeer(url: str, api: LoadTelegram, folder: Path) -> AsyncIterator[Process]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPEER_")}
    env.update(ALPHAPEER_DATABASE_URL=url, ALPHAPEER_APP_DATA_DIR=str(folder),
               ALPHAPEER_SECRET_KEY="l" * 48, ALPHAPEER_WEB_PORT=str(port),
               ALPHAPEER_WEB_PUBLIC_URL=PUBLIC, ALPHAPEER_TELEGRAM_BASE_URL=api.base_url,
               ALPHAPEER_APP_LOG_LEVEL="WARNING", ALPHAPEER_DATABASE_POOL_SIZE="10",
               # The stand-in has no sending limits; the echo bot keeps none either.
               ALPHAPEER_TELEGRAM_RATE_LIMIT="false",
               TELEGRAM_BOT_TOKEN=api.token)
    env.pop("DISCORD_BOT_TOKEN", None)
    async with _spawn(api, folder / "alphapeer.log", ["-m", "alphapeer", "run"], env,
                      port) as running:
        yield running


@contextlib.asynccontextmanager
async def echo_bot(api: LoadTelegram, concurrency: int,
                   folder: Path) -> AsyncIterator[Process]:
    args = ["-m", "bench.echo_bot", api.base_url, api.token, str(concurrency)]
    async with _spawn(api, folder / "echo.log", args, None, 0) as running:
        yield running


@contextlib.asynccontextmanager
async def _spawn(api: LoadTelegram, log_path: Path, args: list[str],
                 env: dict[str, str] | None, port: int) -> AsyncIterator[Process]:
    """A bot process, ready once it long-polls the stand-in; its output goes to a file (a
    pipe nobody reads would stall it)."""
    log = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=log, stderr=log)
    running = Process(proc, port, log_path)
    try:
        await _ready(api, running)
        yield running
    finally:
        await running.stop()
        log.close()


async def _ready(api: LoadTelegram, running: Process) -> None:
    """Started once the bot long-polls the stand-in."""
    for _ in range(600):
        if "getUpdates" in api.calls:
            return
        if running.proc.returncode is not None:
            raise RuntimeError(f"the bot exited: {running.log.read_text()[-2000:]}")
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not start polling within 30 s")


_USER_IDS = itertools.count(1_000_001)  # every simulated user is new to the bot


class Crowd:
    """Simulated users with fresh Telegram ids, each running a journey."""

    def __init__(self, api: LoadTelegram, journey: Journey) -> None:
        self.api, self.journey = api, journey

    def new(self, tally: Tally) -> User:
        return User(self.api, next(_USER_IDS), tally)

    async def closed(self, users: int, concurrency: int) -> tuple[Tally, float]:
        """``users`` journeys, ``concurrency`` at a time; (tally, seconds)."""
        tally, gate = Tally(), asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await self._guarded(self.new(tally), tally)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(users)))
        return tally, time.perf_counter() - started

    async def paced(self, journeys_per_s: float, seconds: float) -> Tally:
        """Open loop: a new user every 1/rate seconds for ``seconds``, whatever the replies."""
        tally, tasks = Tally(), []
        started = time.perf_counter()
        n = 0
        while (due := started + n / journeys_per_s) < started + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(self._guarded(self.new(tally), tally)))
            n += 1
        await asyncio.gather(*tasks)
        return tally

    async def _guarded(self, user: User, tally: Tally) -> None:
        try:
            await self.journey(user)
        except (TimeoutError, StopIteration, KeyError, AssertionError) as exc:
            tally.failures.append(f"user {user.id}: {exc}")


@dataclass
class Figures:
    updates_per_s: float
    p50_ms: float
    p99_ms: float
    half_rate: float = 0.0
    half_p50_ms: float = 0.0
    half_p99_ms: float = 0.0
    failures: int = 0
    retries: int = 0


def _ms(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000 if values else float("nan")


async def measure(crowd: Crowd, users: int, concurrency: int, half_seconds: float,
                  steps: int) -> Figures:
    """Saturation with ``concurrency`` users at once, then latency at half that rate."""
    tally, seconds = await crowd.closed(users, concurrency)
    rate = tally.updates / seconds
    figures = Figures(rate, _ms(tally.latencies, 50), _ms(tally.latencies, 99),
                      failures=len(tally.failures), retries=tally.retries)
    if half_seconds <= 0:
        return figures
    half = await crowd.paced(rate / 2 / steps, half_seconds)
    figures.half_rate = half.updates / half_seconds
    figures.half_p50_ms, figures.half_p99_ms = _ms(half.latencies, 50), _ms(half.latencies, 99)
    figures.failures += len(half.failures)
    for failure in (tally.failures + half.failures)[:3]:
        print(f"    ! {failure}")
    return figures


def _statements(before: dict[str, list[tuple[float, float]]],
                after: dict[str, list[tuple[float, float]]]) -> tuple[float, float]:
    """Median and max statements per turn of the turns between two scrapes (the buckets
    are whole numbers, so the first bucket holding every turn is the max)."""
    name = "alphapeer_turn_statements"
    old = dict(before.get(name, []))
    buckets = [(bound, count - old.get(bound, 0.0)) for bound, count in after[name]]
    top = next(bound for bound, count in buckets if count >= buckets[-1][1])
    return _quantile(buckets, 0.5), top


async def run_alphapeer(url: str, folder: Path, sizes: Sizes) -> dict[str, object]:
    """One database: every figure with the small catalogue; then ten times the catalogue,
    added while the bot runs, and the statements of the same journey again."""
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the run
    await seed_catalogue(url, folder)
    api = LoadTelegram()
    await api.start()
    try:
        async with alphapeer(url, api, folder) as bot, aiohttp.ClientSession() as http:
            web = (PUBLIC, f"http://127.0.0.1:{bot.port}")
            crowd = Crowd(api, lambda user: book(user, http, web))
            await crowd.closed(8, 4)  # warm up: imports, caches, connections
            started_rss = bot.rss_mb()
            warm = await bot.metrics()
            figures = await measure(crowd, sizes.users, sizes.concurrency, sizes.half_seconds,
                                    steps=8)
            seen = await bot.metrics()
            result: dict[str, object] = {"figures": figures}
            result["statements"] = _statements(warm, seen)
            result["inbox_share_max"] = seen["alphapeer_inbox_statements_per_update_max"][0][0]
            result["loop_lag_p99_ms"] = _quantile(seen["alphapeer_loop_lag_seconds"], 0.99) * 1000
            result["loop_lag_max_ms"] = seen["alphapeer_loop_lag_seconds_max"][0][0] * 1000
            many = Crowd(api, start_only)
            tally, seconds = await many.closed(sizes.distinct, 32)
            for failure in tally.failures[:3]:
                print(f"    ! {failure}")
            result["distinct"] = (sizes.distinct, started_rss, bot.rss_mb(),
                                  sizes.distinct / seconds, len(tally.failures))
            await grow_catalogue(url, folder)
            before = await bot.metrics()
            await crowd.closed(sizes.large_users, sizes.concurrency)
            result["large_statements"] = _statements(before, await bot.metrics())
            return result
    finally:
        await api.stop()


async def run_echo(folder: Path, *, users: int, concurrency: int, half_seconds: float,
                   bot_concurrency: int) -> Figures:
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the run
    api = LoadTelegram()
    await api.start()
    try:
        async with echo_bot(api, bot_concurrency, folder):
            crowd = Crowd(api, echo)
            await crowd.closed(8, 4)
            return await measure(crowd, users, concurrency, half_seconds, steps=8)
    finally:
        await api.stop()


def report(name: str, result: dict[str, object], baseline: Figures) -> None:
    f = result["figures"]
    assert isinstance(f, Figures)
    print(f"  {name}: {f.updates_per_s:.0f} updates/s at saturation "
          f"(echo ×{f.updates_per_s / baseline.updates_per_s:.2f}), p50 {f.p50_ms:.0f} ms, "
          f"p99 {f.p99_ms:.0f} ms; at half rate ({f.half_rate:.0f}/s) p50 {f.half_p50_ms:.0f} "
          f"ms, p99 {f.half_p99_ms:.0f} ms; {f.retries} slot races retried, "
          f"{f.failures} failed journeys")
    small, large = result["statements"], result["large_statements"]
    print(f"    statements per update: median {small[0]:.0f}, max {small[1]:.0f} with 3 courses "
          f"/ 34 teachers; median {large[0]:.0f}, max {large[1]:.0f} with 21 courses / 340 "
          f"teachers (storing the update: ≤ {result['inbox_share_max']:.2f} more)")
    print(f"    event-loop lag p99 ≤ {result['loop_lag_p99_ms']:.0f} ms (max "
          f"{result['loop_lag_max_ms']:.0f} ms)")
    if "distinct" in result:
        n, before, rss, rate, failed = result["distinct"]  # type: ignore[misc]
        print(f"    RSS after {n:,} more distinct users: {rss:.0f} MB (was {before:.0f} MB "
              f"after warming up; {rate:.0f} first contacts/s, {failed} failed)")


@dataclass
class Sizes:
    users: int  # booking journeys at saturation
    concurrency: int
    half_seconds: float
    distinct: int  # first contacts for the memory figure
    large_users: int  # journeys against the large catalogue (statements only)


SHORT = Sizes(users=48, concurrency=16, half_seconds=4, distinct=1_000, large_users=12)
LONG = Sizes(users=1000, concurrency=32, half_seconds=30, distinct=10_000, large_users=200)


async def baseline(folder: Path, sizes: Sizes) -> Figures:
    """The echo bot's figures, printed; run once, before the databases."""
    echo_figures = await run_echo(folder, users=sizes.users, concurrency=sizes.concurrency,
                                  half_seconds=sizes.half_seconds,
                                  bot_concurrency=sizes.concurrency)
    print(f"  baseline, bare python-telegram-bot echo bot: {echo_figures.updates_per_s:.0f} "
          f"updates/s at saturation, p50 {echo_figures.p50_ms:.0f} ms, p99 "
          f"{echo_figures.p99_ms:.0f} ms; at half rate p99 {echo_figures.half_p99_ms:.0f} ms")
    return echo_figures


async def run(url: str, folder: Path, sizes: Sizes, echo_figures: Figures, label: str) -> None:
    """Alpha Peer on one database, printed."""
    report(label, await run_alphapeer(url, folder, sizes), echo_figures)
