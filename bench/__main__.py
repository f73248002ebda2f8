"""make bench: the core loop under load (simulated Telegram users against ``alphapeer run``,
with a bare python-telegram-bot echo bot as the baseline), then scheduling and money
benchmarks; on SQLite, and PostgreSQL when a server is given."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
from pathlib import Path

from alphapeer.scratchdb import scratch_database
from bench import load, race, reminders, slots, webhooks
from bench.common import database, market


async def one_backend(backend: str, folder: Path, pg_url: str, long: bool) -> None:
    print(f"\n== {backend} ==")
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200, zone="Europe/London")
        await slots.run(db, m, repeats=200 if long else 30)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await race.run(db, m, clients=200, rounds=100 if long else 5)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await reminders.run(db, m, total=10_000 if long else 2_000, workers=4)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await webhooks.run(db, m, total=5000 if long else 500)


async def load_suite(backends: list[str], folder: Path, pg_url: str, long: bool) -> None:
    sizes = load.LONG if long else load.SHORT
    print(f"\n== load: simulated Telegram users doing the booking journey against `alphapeer "
          f"run` (stand-in Bot API on loopback; {sizes.users} journeys, {sizes.concurrency} at "
          "once) ==")
    echo = await load.baseline(folder / "echo", sizes)
    for backend in backends:
        async with scratch_database(backend, folder, pg_url) as url:
            await load.run(url, folder / backend, sizes, echo, backend)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--long", action="store_true", help="full-size runs")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="a PostgreSQL server URL (default: TEST_DATABASE_URL)")
    parser.add_argument("--only", choices=("load", "core"), default=None,
                        help="just the load run, or just the scheduling and money benchmarks")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · {'long' if args.long else 'short'} mode")
    backends = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    with tempfile.TemporaryDirectory() as folder:
        if args.only != "core":
            await load_suite(backends, Path(folder), args.pg, args.long)
        if args.only != "load":
            for backend in backends:
                await one_backend(backend, Path(folder), args.pg, args.long)


if __name__ == "__main__":
    asyncio.run(main())
