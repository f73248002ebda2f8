"""``alphapeer`` command line: run, chat, db, demo, grant, ledger, tax."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from core.config import Settings, load_settings
from core.errors import ConfigError
from core.models.account import ROLES

log = logging.getLogger("alphapeer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alphapeer", description="Alpha Peer marketplace")
    parser.add_argument(
        "--config", help="path to config.toml (default: ALPHAPEER_CONFIG or ./config.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="web server, scheduler and every configured chat surface")
    run.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    run.add_argument("--as", dest="user", default=None, help="terminal user name")
    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--as", dest="user", default=None, help="who you are (default: you)")
    chat.add_argument("--demo", action="store_true", help="seed demo data first")
    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="revert migrations to a revision")
    down.add_argument("revision")
    db_sub.add_parser("current", help="show the applied revision")
    sub.add_parser("demo", help="seed demo data (idempotent)")
    ledger = sub.add_parser("ledger", help="verify the books or print balances")
    ledger.add_argument("action", choices=("check", "report"))
    tax = sub.add_parser("tax", help="yearly earnings reports per payee (1099-style)")
    tax.add_argument("action", choices=("report",))
    tax.add_argument("--year", type=int, default=None, help="UTC year (default: last year)")
    tax.add_argument("--out", required=True, help="folder for the CSV and PDF files")
    grant = sub.add_parser("grant", help="give someone a role, e.g. grant admin telegram:12345")
    grant.add_argument("role", choices=sorted(ROLES))
    grant.add_argument("identity", help="PLATFORM:ID as the person is known there")
    return parser


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "you"
    return name if name.isalnum() and name != "root" else "you"


async def _db_command(settings: Settings, args: argparse.Namespace) -> int:
    from alphapeer import migrate
    from core.db import create_engine

    engine = create_engine(settings.database_url)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(engine, args.revision)
        elif args.db_command == "downgrade":
            await migrate.downgrade(engine, args.revision)
        print(f"database at revision {await migrate.current_revision(engine) or 'base'}")
        return 0
    finally:
        await engine.dispose()


async def _demo(settings: Settings) -> int:
    from alphapeer.bootstrap import build
    from alphapeer.demo import seed_demo
    from alphapeer.runner import ensure_migrated

    app = build(settings)
    try:
        await ensure_migrated(app.db)
        print("demo data seeded" if await seed_demo(app.db) else "demo data already present")
        return 0
    finally:
        await app.db.dispose()


async def _grant(settings: Settings, role: str, identity: str) -> int:
    from alphapeer.bootstrap import build
    from alphapeer.runner import ensure_migrated
    from core.account import find_user_by_identity, grant_role

    platform, _, external_id = identity.partition(":")
    if not platform or not external_id:
        print("Give the person as PLATFORM:ID, e.g. telegram:12345", file=sys.stderr)
        return 2
    app = build(settings)
    try:
        await ensure_migrated(app.db)
        async with app.db.uow() as uow:
            user = await find_user_by_identity(uow, platform, external_id)
            if user is None:
                print(
                    f"Nobody is known as {identity}; they must message the bot first.",
                    file=sys.stderr,
                )
                return 1
            grant_role(uow, user, role)
            print(f"{user.display_name} is now {role}.")
        return 0
    finally:
        await app.db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.app.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from alphapeer.runner import StartupError, run, run_chat

    try:
        if args.command == "db":
            return asyncio.run(_db_command(settings, args))
        if args.command == "demo":
            return asyncio.run(_demo(settings))
        if args.command == "ledger":
            from alphapeer.ledger_cli import ledger_command

            return asyncio.run(ledger_command(settings, args.action))
        if args.command == "tax":
            from pathlib import Path

            from alphapeer.tax_cli import tax_command

            return asyncio.run(tax_command(settings, args.year, Path(args.out)))
        if args.command == "grant":
            return asyncio.run(_grant(settings, args.role, args.identity))
        user = args.user or _default_user()
        if args.command == "chat":
            return asyncio.run(run_chat(settings, user, demo=args.demo))
        return asyncio.run(run(settings, user, demo=args.demo))
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
