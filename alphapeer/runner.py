"""Starting and stopping the long-running pieces: web server, scheduler, courier, surfaces."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from typing import Protocol

from aiohttp import web

from alphapeer import revision
from alphapeer.bootstrap import Container, build
from alphapeer.demo import seed_demo
from bots.terminal.app import run_terminal, terminal_sender
from core.config import Settings
from core.metrics import Metrics
from core.uow import Database
from handlers.reply import Reply
from scheduling.courier import Courier, Sender
from scheduling.mailer import Mailer
from scheduling.scheduler import build_scheduler
from scheduling.session_jobs import QuestionWorker
from web_callbacks.app import Webhook, create_app

log = logging.getLogger("alphapeer.run")


class StartupError(Exception):
    """Start-up cannot go on (schema behind the code, port taken, surface missing)."""


class Surface(Protocol):
    platform: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, external_id: str, reply: Reply) -> None: ...


async def ensure_migrated(db: Database) -> None:
    current, head = await revision.current_revision(db.engine), revision.head_revision()
    if current != head:
        raise StartupError(
            f"The database is at revision {current or 'none'}, the code needs "
            f"{head}. Run `alphapeer db upgrade` (make run does it for you)."
        )


async def _start_web(app: Container, webhooks: tuple[Webhook, ...]) -> web.AppRunner:
    def wake() -> None:  # the courier starts after the web server; look it up when needed
        if app.dispatcher.after_commit is not None:
            app.dispatcher.after_commit()

    runner = web.AppRunner(create_app(app.db, webhooks, app.payments, wake, app.video,
                                      app.dispatcher.metrics), access_log=None)
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


def _surfaces(app: Container) -> tuple[list[Surface], tuple[Webhook, ...]]:
    """The chat surfaces whose tokens are configured, and the webhooks they need."""
    settings = app.settings
    surfaces: list[Surface] = []
    webhooks: list[Webhook] = []
    if settings.telegram.enabled and settings.secrets.telegram_token:
        from bots.telegram.app import TelegramSurface

        telegram = TelegramSurface(settings, app.db, app.dispatcher, app.registry)
        surfaces.append(telegram)
        if settings.telegram.mode == "webhook":
            webhooks.append(
                Webhook(
                    settings.telegram.webhook_path,
                    "X-Telegram-Bot-Api-Secret-Token",
                    telegram.secret,
                    telegram.receive,
                )
            )
    if settings.discord.enabled and settings.secrets.discord_token:
        from bots.discord.app import DiscordSurface

        surfaces.append(DiscordSurface(settings, app.db, app.dispatcher, app.registry))
    return surfaces, tuple(webhooks)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _watch_loop(metrics: Metrics, every: float = 0.1) -> None:
    """How late the event loop wakes a timer: the time a handler blocked everyone else."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(every)
        metrics.loop_lag.observe(max(0.0, time.perf_counter() - started - every))


async def run(settings: Settings, user: str, *, demo: bool = False) -> int:
    """Web server, scheduler, courier and chat surfaces; the terminal chat when no token is set."""
    app = build(settings)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(app.db.dispose)
        stack.push_async_callback(app.close)
        await ensure_migrated(app.db)
        if demo and await seed_demo(app.db):
            log.info("demo data seeded")
        surfaces, webhooks = _surfaces(app)
        runner = await _start_web(app, webhooks)
        stack.push_async_callback(runner.cleanup)
        senders: dict[str, Sender] = {s.platform: s.send for s in surfaces}
        if not surfaces:
            senders["terminal"] = terminal_sender(sys.stdout)
        courier = _start_courier(app, senders, stack)
        if settings.scheduler.enabled:
            scheduler = build_scheduler(app.db, settings.scheduler.sweep_seconds,
                                        app.dispatcher.after_commit, app.payments, app.video,
                                        app.assistant)
            scheduler.start()
            stack.callback(scheduler.shutdown, wait=False)
        for surface in surfaces:
            await surface.start()
            stack.push_async_callback(surface.stop)
        watch = asyncio.create_task(_watch_loop(app.dispatcher.metrics), name="loop-lag")
        stack.callback(watch.cancel)
        # Everything built so far lives as long as the process: keep it out of the
        # collector's full scans, which otherwise stall requests for tens of milliseconds.
        gc.collect()
        gc.freeze()
        if surfaces:
            names = ", ".join(s.platform for s in surfaces)
            print(
                f"Alpha Peer is running on {names}; web server on {settings.web.public_url}. "
                "Ctrl-C stops it.",
                file=sys.stderr,
            )
            await _until_signalled()
            return 0
        print(f"Web server on {settings.web.public_url} (pay links open there).", file=sys.stderr)
        return await run_terminal(app.dispatcher.handle, user, settle=courier.deliver_due)
    return 0  # pragma: no cover - the stack re-raises or returns above


def _start_courier(
    app: Container, senders: dict[str, Sender], stack: contextlib.AsyncExitStack
) -> Courier:
    """The courier (chat messages), the mailer (email) and, with AI on, the /ask worker:
    each woken as soon as a turn commits something for it."""
    courier = Courier(app.db, senders)
    mailer = Mailer(app.db, app.mail, app.settings.email.sender)
    tasks = [asyncio.create_task(courier.run(), name="courier"),
             asyncio.create_task(mailer.run(), name="mailer")]
    wakers = [courier.wake, mailer.wake]
    if app.assistant is not None:  # /ask answers as soon as the question is committed
        worker = QuestionWorker(app.db, app.assistant, courier.wake)
        tasks.append(asyncio.create_task(worker.run(), name="questions"))
        wakers.append(worker.wake)

    def wake_all() -> None:
        for wake in wakers:
            wake()

    app.dispatcher.after_commit = wake_all

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await courier.deliver_due()  # last round: what was queued just before stopping
        await mailer.deliver_due()

    stack.push_async_callback(stop)
    return courier


async def run_chat(settings: Settings, user: str, *, demo: bool = False) -> int:
    """Only the terminal chat (no web server, no scheduler); notifications print inline."""
    app = build(settings)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(app.db.dispose)
        stack.push_async_callback(app.close)
        await ensure_migrated(app.db)
        if demo:
            await seed_demo(app.db)
        courier = _start_courier(app, {"terminal": terminal_sender(sys.stdout)}, stack)
        return await run_terminal(app.dispatcher.handle, user, settle=courier.deliver_due)
    return 0  # pragma: no cover
