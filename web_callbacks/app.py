"""aiohttp application: one unit of work per request, nothing created at import time."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text

from core.booking import list_calendar_bookings
from core.errors import NotFound
from core.invite import InviteFacts, feed
from core.metrics import Metrics
from core.models import User
from core.payment_port import PaymentProvider
from core.signing import verify_token
from core.uow import Database
from core.video_port import VideoProvider
from handlers.links import CALENDAR
from payments.sandbox import SandboxProvider
from video.jitsi import JitsiProvider
from web_callbacks.account import account_routes
from web_callbacks.checkout import paid_page, pay_handler, sandbox_routes
from web_callbacks.files import file_routes
from web_callbacks.growth import growth_routes
from web_callbacks.payouts import payout_routes
from web_callbacks.verify import verify_routes
from web_callbacks.video import video_routes

if TYPE_CHECKING:
    from web_callbacks.stripe_webhook import EventApplier

log = logging.getLogger("alphapeer.web")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
DB_KEY: web.AppKey[Database] = web.AppKey("db", Database)
APPLIER_KEY: web.AppKey[EventApplier] = web.AppKey("stripe_events")


async def healthz(request: web.Request) -> web.Response:
    db = request.app[DB_KEY]
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def calendar_feed(request: web.Request) -> web.Response:
    """The person's sessions as ICS, for calendar apps that subscribe to a URL."""
    db = request.app[DB_KEY]
    token = request.match_info["token"].removesuffix(".ics")
    try:
        user_id = int(
            verify_token(db.settings.secrets.secret_key, CALENDAR, token, db.clock.now())
        )
    except (NotFound, ValueError):
        return web.Response(status=404, text="unknown calendar")
    async with db.uow() as uow:
        user = await uow.session.get(User, user_id)
        views = await list_calendar_bookings(uow, user_id) if user else []
    if user is None:
        return web.Response(status=404, text="unknown calendar")
    body = feed(
        [InviteFacts(v.booking, v.course_title, v.teacher_name, v.student_name) for v in views],
        db.clock.now(),
        f"Alpha Peer · {user.display_name}",
    )
    return web.Response(
        body=body.encode(),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


@dataclass(frozen=True)
class Webhook:
    """A chat platform pushing updates to us, authenticated by a shared secret header."""

    path: str
    header: str
    secret: str
    receive: Callable[[list[dict[str, Any]]], Awaitable[None]]


def webhook_handler(hook: Webhook) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(hook.header, "")
        if not hmac.compare_digest(given.encode(), hook.secret.encode()):
            return web.Response(status=401, text="unauthorized")
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="expected an object")
        await hook.receive([payload])  # stored (committed) before we say 200
        return web.Response(text="ok")

    return handle


def metrics_route(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def show(request: web.Request) -> web.Response:
        # Loopback only: figures about load are for the operator, not the public internet.
        if request.remote not in LOOPBACK:
            return web.Response(status=404, text="not found")
        return web.Response(text=metrics.render(), content_type="text/plain",
                            charset="utf-8")

    return show


def create_app(
    db: Database,
    webhooks: tuple[Webhook, ...] = (),
    payments: PaymentProvider | None = None,
    after_commit: Callable[[], None] | None = None,
    video: VideoProvider | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """``payments`` defaults to the sandbox and ``video`` to Jitsi links; ``after_commit``
    wakes the outbox courier."""
    app = web.Application(client_max_size=1024**2)
    app[DB_KEY] = db
    provider = payments or SandboxProvider(db.settings.web.public_url)
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_route(metrics))
    app.router.add_get("/pay/{token}", pay_handler(db, provider))
    app.router.add_get("/paid", paid_page)
    app.router.add_routes(payout_routes(db, provider, after_commit))
    if provider.name == "sandbox":
        app.router.add_routes(sandbox_routes(db, after_commit))
    if provider.name == "stripe":  # imported only then: the stripe library is 23 MB
        from payments.stripe_provider import StripeProvider
        from web_callbacks import stripe_webhook

        assert isinstance(provider, StripeProvider)
        applier = stripe_webhook.EventApplier(db, provider, after_commit)
        app[APPLIER_KEY] = applier
        app.router.add_post(stripe_webhook.PATH,
                            stripe_webhook.stripe_webhook(db, provider, applier))

        async def finish(_app: web.Application) -> None:
            await applier.idle()

        app.on_shutdown.append(finish)
    app.router.add_routes(video_routes(
        db, video or JitsiProvider(db.settings.video.jitsi_url, db.settings.secrets.secret_key),
        after_commit))
    app.router.add_get("/calendar/{token}", calendar_feed)
    app.router.add_routes(file_routes(db))
    app.router.add_routes(verify_routes(db))
    app.router.add_routes(account_routes(db, after_commit))
    app.router.add_routes(growth_routes(db, after_commit))
    for hook in webhooks:
        app.router.add_post(hook.path, webhook_handler(hook))
    return app
