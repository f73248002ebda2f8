"""make bench: scheduling and money benchmarks on SQLite, and PostgreSQL when a server is
given."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
from pathlib import Path

from bench import race, reminders, slots, webhooks
from bench.common import database, market


async def one_backend(backend: str, folder: Path, pg_url: str, long: bool) -> None:
    print(f"\n== {backend} ==")
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200, zone="Europe/London")
        await slots.run(db, m, repeats=200 if long else 50)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await race.run(db, m, clients=200, rounds=100 if long else 10)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await reminders.run(db, m, total=10_000, workers=4)
    async with database(backend, folder, pg_url) as db:
        m = await market(db, students=200)
        await webhooks.run(db, m, total=5000 if long else 1000)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--long", action="store_true", help="full-size runs")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="a PostgreSQL server URL (default: TEST_DATABASE_URL)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · {'long' if args.long else 'short'} mode")
    with tempfile.TemporaryDirectory() as folder:
        await one_backend("sqlite", Path(folder), "", args.long)
        if args.pg:
            await one_backend("postgresql", Path(folder), args.pg, args.long)


if __name__ == "__main__":
    asyncio.run(main())
