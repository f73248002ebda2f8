"""Web sign-in: log in with the verified email and a password, the account page (sessions,
password change, sign out), password reset by email, set-password links from the chat, and
email verification links.

Every POST carries a CSRF token: bound to the session when signed in, otherwise signed over
a random cookie (double submit). argon2 runs between two short units of work, never inside
one, so a slow hash never holds SQLite's single writer. Rate limits key on the client's
address (``web_callbacks.client``: a proxy's X-Forwarded-For only from ``[web]
trusted_proxies``).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from aiohttp import web

from core.email_identity import find_email, verify_link
from core.email_token import (
    RESET,
    SET_PASSWORD,
    find_password_token,
    request_reset,
    use_password_token,
)
from core.errors import InvalidInput
from core.mail import clean_address
from core.models import User, WebSession
from core.password import check_password, hash_password, needs_rehash, verify_password
from core.uow import Database
from core.web_session import (
    count_login_failure,
    create_session,
    find_login,
    find_session,
    list_sessions,
    login_blocked,
    revoke_all,
    revoke_session,
    set_password_hash,
    touch_session,
    upgrade_hash,
)
from web_callbacks import account_pages as pages
from web_callbacks.client import client_ip

COOKIE = "ap_session"


def account_routes(db: Database, after_commit: Callable[[], None] | None = None
                   ) -> list[web.RouteDef]:
    secure = db.settings.web.public_url.startswith("https://")
    guard = pages.Guard(db.settings.secrets.secret_key, db.clock, secure)

    def _wake() -> None:
        if after_commit is not None:
            after_commit()  # an email was queued: the mailer sends it now, not at its next poll

    def _ip(request: web.Request) -> str:
        return client_ip(request, db.settings.web.proxies)

    async def _form(request: web.Request) -> dict[str, str]:
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    def _forbidden() -> web.Response:
        return pages.respond("Form expired", "<p>This form expired or didn't come from our "
                             "page. Go back, reload the page and try again.</p>", 403)

    def _signed_out(resp: web.Response) -> web.Response:
        resp.del_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        return resp

    async def login_form(request: web.Request) -> web.Response:
        async with db.uow() as uow:
            if await find_session(uow, request.cookies.get(COOKIE)) is not None:
                return pages.redirect("/account")
        return guard.page(request, lambda t: pages.login_page(t, request.query.get("n")))

    async def login(request: web.Request) -> web.Response:
        form = await _form(request)
        if not guard.anon_ok(request, form):
            return _forbidden()
        typed, password = form.get("email", "").strip()[:254], form.get("password", "")
        try:
            address = clean_address(typed)
        except InvalidInput:
            address = typed.lower()
        async with db.uow() as uow:
            blocked = await login_blocked(uow, address, _ip(request))
            user_id, stored = await find_login(uow, address) if not blocked else (0, None)
        if blocked:
            return guard.page(request, lambda t: pages.login_page(
                t, error=pages.TOO_MANY, address=typed, status=429))
        ok = await verify_password(stored, password)  # a dummy hash when there is none
        fresh = await hash_password(password) if ok and stored and needs_rehash(stored) \
            else None
        async with db.uow() as uow:
            if not ok or await uow.session.get(User, user_id) is None:
                await count_login_failure(uow, address, _ip(request))
                return guard.page(request, lambda t: pages.login_page(
                    t, error=pages.WRONG, address=typed))
            if fresh is not None and stored is not None:
                await upgrade_hash(uow, user_id, stored, fresh)
            _row, cookie = await create_session(uow, user_id,
                                                request.headers.get("User-Agent", ""))
        resp = pages.redirect("/account")
        resp.set_cookie(COOKIE, cookie, path="/", httponly=True, samesite="Lax", secure=secure,
                        max_age=db.settings.accounts.web_session_days * 86400)
        return resp

    async def overview(request: web.Request, notice: str | None = None,
                       error: str | None = None, status: int = 200) -> web.Response:
        async with db.uow() as uow:
            row = await find_session(uow, request.cookies.get(COOKIE))
            user = await uow.session.get(User, row.user_id) if row else None
            email = await find_email(uow, row.user_id) if row else None
            if row is None or user is None or email is None:
                return pages.redirect("/account/login")
            touch_session(uow, row)
            sessions = await list_sessions(uow, user.id)
        return pages.account_page(user, email.address, sessions, row.id, guard.for_session(row),
                                  notice or request.query.get("n"), error, status)

    async def account(request: web.Request) -> web.Response:
        return await overview(request)

    async def _signed_in(request: web.Request) -> tuple[WebSession | None, dict[str, str]]:
        form = await _form(request)
        async with db.uow() as uow:
            row = await find_session(uow, request.cookies.get(COOKIE))
        return row, form

    async def logout(request: web.Request) -> web.Response:
        row, form = await _signed_in(request)
        if row is None:
            return _signed_out(pages.redirect("/account/login"))
        if not guard.session_ok(row, form):
            return _forbidden()
        other = form.get("session", "")
        async with db.uow() as uow:
            if other.isdigit() and len(other) <= 12 and int(other) != row.id:
                await revoke_session(uow, row.user_id, int(other))
                return pages.redirect("/account?n=one")
            await revoke_session(uow, row.user_id, row.id)
        return _signed_out(pages.redirect("/account/login?n=out"))

    async def logout_all(request: web.Request) -> web.Response:
        row, form = await _signed_in(request)
        if row is None:
            return _signed_out(pages.redirect("/account/login"))
        if not guard.session_ok(row, form):
            return _forbidden()
        async with db.uow() as uow:
            await revoke_all(uow, row.user_id)
        return _signed_out(pages.redirect("/account/login?n=everywhere"))

    async def change_password(request: web.Request) -> web.Response:
        row, form = await _signed_in(request)
        if row is None:
            return pages.redirect("/account/login")
        if not guard.session_ok(row, form):
            return _forbidden()
        async with db.uow() as uow:
            email = await find_email(uow, row.user_id)
            blocked = email is None or await login_blocked(uow, email.address, _ip(request))
        if email is None or blocked:
            return await overview(request, error=pages.TOO_MANY, status=429)
        new = form.get("new", "")
        try:
            check_password(new, email.address)
            if new != form.get("confirm"):
                raise InvalidInput("The two new passwords don't match.")
        except InvalidInput as exc:
            return await overview(request, error=exc.user_message, status=400)
        if not await verify_password(email.password_hash, form.get("current", "")):
            async with db.uow() as uow:
                await count_login_failure(uow, email.address, _ip(request))
            return await overview(request, error="Your current password isn't right.",
                                  status=400)
        fresh = await hash_password(new)
        async with db.uow() as uow:
            await set_password_hash(uow, row.user_id, fresh, keep=row.id)
        _wake()
        return pages.redirect("/account?n=changed")

    async def reset_form(request: web.Request) -> web.Response:
        return guard.page(request, pages.reset_request_page)

    async def reset_ask(request: web.Request) -> web.Response:
        form = await _form(request)
        if not guard.anon_ok(request, form):
            return _forbidden()
        async with db.uow() as uow:
            await request_reset(uow, form.get("email", "")[:300], _ip(request))
        _wake()  # also when nothing was queued: no timing difference worth having
        return guard.page(request, lambda t: pages.reset_request_page(
            t, db.settings.accounts.reset_minutes))

    def token_routes(purpose: str, path: str, done: str) -> list[web.RouteDef]:
        async def show(request: web.Request) -> web.Response:
            token = request.match_info["token"]
            async with db.uow() as uow:
                found = await find_password_token(uow, purpose, token)
            if found is None:
                return pages.respond("Link expired", pages.DEAD_LINK, 404)
            return guard.page(request, lambda t: pages.new_password_page(
                f"{path}/{token}", t, found.address))

        async def save(request: web.Request) -> web.Response:
            token = request.match_info["token"]
            form = await _form(request)
            if not guard.anon_ok(request, form):
                return _forbidden()
            async with db.uow() as uow:
                found = await find_password_token(uow, purpose, token)
            if found is None:
                return pages.respond("Link expired", pages.DEAD_LINK, 404)
            new = form.get("new", "")
            try:
                check_password(new, found.address)
                if new != form.get("confirm"):
                    raise InvalidInput("The two passwords don't match.")
            except InvalidInput as exc:
                error = exc.user_message
                return guard.page(request, lambda t: pages.new_password_page(
                    f"{path}/{token}", t, found.address, error, 400))
            fresh = await hash_password(new)
            async with db.uow() as uow:  # the token is won here, by one request only
                user_id = await use_password_token(uow, purpose, token, fresh)
            if user_id is None:
                return pages.respond("Link expired", pages.DEAD_LINK, 404)
            _wake()
            return _signed_out(pages.redirect(f"/account/login?n={done}"))

        return [web.get(f"{path}/{{token}}", show), web.post(f"{path}/{{token}}", save)]

    async def verify_email(request: web.Request) -> web.Response:
        # Verified on GET: a mail scanner opening the link proves the mailbox got it, which
        # is all verification claims. Password links, unlike this, only act on a POST.
        async with db.uow() as uow:
            address = await verify_link(uow, request.match_info["token"])
        if address is None:
            return pages.respond("Link expired", "<p>This link is invalid, was already used "
                                 "or has expired. Send /email in the chat for a new code.</p>",
                                 404)
        _wake()
        return pages.respond("Email verified", f"<p>✅ {escape(address)} is verified. "
                             "You can close this page and carry on in the chat.</p>")

    return [web.get("/account/login", login_form), web.post("/account/login", login),
            web.get("/account", account), web.post("/account/logout", logout),
            web.post("/account/logout-all", logout_all),
            web.post("/account/password", change_password),
            web.get("/account/reset", reset_form), web.post("/account/reset", reset_ask),
            *token_routes(RESET, "/account/reset", "reset"),
            *token_routes(SET_PASSWORD, "/account/password", "set"),
            web.get("/email/verify/{token}", verify_email)]
