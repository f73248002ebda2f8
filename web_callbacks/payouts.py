"""Connecting a payout account: the payee's signed link creates (or reuses) their account at
the provider and sends them to its onboarding; coming back checks whether it is ready."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape

from aiohttp import web

from core.errors import NotFound
from core.models import PayoutAccount, User
from core.payment_port import PaymentProvider, ProviderError
from core.payout import connect_account, mark_account_ready
from core.signing import verify_token
from core.uow import Database
from handlers.links import PAYOUTS
from web_callbacks.pages import html_page

log = logging.getLogger("alphapeer.web.payouts")
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _expired() -> web.Response:
    return html_page("Link expired", "<p>This link is invalid or has expired. Send /payouts in "
                 "the chat for a fresh one.</p>", 404)


def _unavailable() -> web.Response:
    return html_page("Try again in a moment", "<p>The payment service did not answer. Nothing "
                 "changed — reload this page in a moment.</p>", 503)


def payout_routes(db: Database, provider: PaymentProvider,
                  after_commit: Callable[[], None] | None) -> list[web.RouteDef]:
    def _user_id(request: web.Request) -> int | None:
        try:
            return int(verify_token(db.settings.secrets.secret_key, PAYOUTS,
                                    request.match_info["token"], db.clock.now()))
        except (NotFound, ValueError):
            return None

    async def connect(request: web.Request) -> web.Response:
        user_id = _user_id(request)
        if user_id is None:
            return _expired()
        async with db.uow() as uow:
            user = await uow.session.get(User, user_id)
            account = await uow.session.get(PayoutAccount, user_id)
        if user is None:
            return _expired()
        known = account.account_ref if account and account.provider == provider.name else None
        public = db.settings.web.public_url.rstrip("/")
        back = f"{public}/payouts/{request.match_info['token']}/back"
        if known and account is not None and account.ready:  # nothing left to set up
            raise web.HTTPSeeOther(back)
        try:
            ref, url = await provider.connect_link(user_id, known, back)
        except ProviderError as exc:
            log.warning("payout onboarding for user %s failed: %s", user_id, exc)
            return _unavailable()
        async with db.uow() as uow:
            await connect_account(uow, user_id, provider.name, ref)
        raise web.HTTPSeeOther(url)

    async def back(request: web.Request) -> web.Response:
        user_id = _user_id(request)
        if user_id is None:
            return _expired()
        async with db.uow() as uow:
            account = await uow.session.get(PayoutAccount, user_id)
        if account is None or account.provider != provider.name:
            return html_page("Not connected", "<p>No payout account is connected yet. Send "
                         "/payouts in the chat to start.</p>", 404)
        if not account.ready:
            try:
                ready = await provider.account_ready(account.account_ref)
            except ProviderError as exc:
                log.warning("payout account %s check failed: %s", account.account_ref, exc)
                return _unavailable()
            if not ready:
                again = escape(f"/payouts/{request.match_info['token']}")
                return html_page("Almost there", "<p>The payout account still needs some "
                             f"details. <a href='{again}'>Continue setting it up</a>.</p>")
            async with db.uow() as uow:
                await mark_account_ready(uow, provider.name, account.account_ref)
            if after_commit is not None:
                after_commit()
        return html_page("Payout account connected", "<p>✅ Your payouts go to this account "
                     "from now on. The chat has the details; /earnings shows what is on its "
                     "way.</p>")

    return [web.get("/payouts/{token}", connect), web.get("/payouts/{token}/back", back)]
