"""Starting and stopping the long-running pieces: web server, scheduler, chat surfaces."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from alphapeer import migrate
from alphapeer.bootstrap import Container, build
from alphapeer.demo import seed_demo
from bots.terminal.app import run_terminal
from core.config import Settings
from core.uow import Database
from scheduling.scheduler import build_scheduler
from web_callbacks.app import create_app

log = logging.getLogger("alphapeer.run")


class StartupError(Exception):
    """Start-up cannot go on (schema behind the code, port taken, surface missing)."""


async def ensure_migrated(db: Database) -> None:
    current, head = await migrate.current_revision(db.engine), migrate.head_revision()
    if current != head:
        raise StartupError(
            f"The database is at revision {current or 'none'}, the code needs "
            f"{head}. Run `alphapeer db upgrade` (make run does it for you)."
        )


async def _start_web(app: Container) -> web.AppRunner:
    runner = web.AppRunner(create_app(app.db), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, app.settings.web.host, app.settings.web.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"Can't listen on {app.settings.web.host}:{app.settings.web.port} "
            f"({exc.strerror}). Set ALPHAPEER_WEB_PORT to a free port."
        ) from None
    return runner


def _configured_surfaces(settings: Settings) -> list[str]:
    surfaces = []
    if settings.telegram.enabled and settings.secrets.telegram_token:
        surfaces.append("telegram")
    if settings.discord.enabled and settings.secrets.discord_token:
        surfaces.append("discord")
    return surfaces


async def run(settings: Settings, user: str, *, demo: bool = False) -> int:
    """Web server + scheduler + chat surfaces; the terminal chat when no token is set."""
    app = build(settings)
    runner = None
    scheduler = None
    try:
        await ensure_migrated(app.db)
        if demo and await seed_demo(app.db):
            log.info("demo data seeded")
        runner = await _start_web(app)
        if settings.scheduler.enabled:
            scheduler = build_scheduler(app.db, settings.scheduler.sweep_seconds)
            scheduler.start()
        surfaces = _configured_surfaces(settings)
        if surfaces:
            # The Telegram and Discord adapters arrive with their own release.
            raise StartupError(
                f"Chat surfaces {', '.join(surfaces)} are configured but not part "
                "of this build yet; unset their tokens to use the terminal chat."
            )
        print(f"Web server on {settings.web.public_url} (pay links open there).", file=sys.stderr)
        return await run_terminal(app.dispatcher.handle, user)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if runner is not None:
            await runner.cleanup()
        await app.db.dispose()


async def run_chat(settings: Settings, user: str, *, demo: bool = False) -> int:
    """Only the terminal chat (no web server, no scheduler)."""
    app = build(settings)
    try:
        await ensure_migrated(app.db)
        if demo:
            await seed_demo(app.db)
        return await run_terminal(app.dispatcher.handle, user)
    finally:
        await app.db.dispose()

