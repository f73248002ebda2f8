"""The account pages' HTML: sign-in, the account overview, password forms. Everything shown
is escaped here; every response forbids caching, referrers and framing."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape

from aiohttp import web

from core.clock import Clock
from core.errors import NotFound
from core.models import User, WebSession
from core.password import MAX_LENGTH, MIN_LENGTH
from core.signing import sign_token, verify_token
from web_callbacks.pages import page, rows

# Token pages must not leak their URL (Referer) or stay in a shared browser's cache; no
# page here may be framed (clickjacking a "sign out everywhere" or password form).
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff"}
NOTICES = {
    "out": "You are signed out.",
    "everywhere": "You are signed out everywhere.",
    "set": "Your web password is set. Sign in with it.",
    "reset": "Your password is changed and every web sign-in has ended. Sign in with the new "
             "password.",
    "changed": "Password changed. Your other browsers were signed out.",
    "one": "That browser is signed out.",
}
WRONG = "Wrong email or password."
TOO_MANY = "Too many attempts; try again in a few minutes."
DEAD_LINK = ("<p>This link is invalid, was already used or has expired. "
             "<a href='/account/reset'>Ask for a new one</a>, or send /email in the chat.</p>")


FORM_COOKIE = "ap_form"
FORM_TTL = timedelta(hours=2)


class Guard:
    """CSRF tokens for every form: signed over the session id when signed in; otherwise
    signed over a random cookie (double submit), so another site can neither read nor forge
    one for this browser (that would allow login CSRF)."""

    def __init__(self, secret: str, clock: Clock, secure: bool) -> None:
        self.secret, self.clock, self.secure = secret, clock, secure

    def page(self, request: web.Request, build: Callable[[str], web.Response]) -> web.Response:
        """A page with an anonymous form, its token bound to this browser's cookie."""
        had = request.cookies.get(FORM_COOKIE, "")[:64]
        nonce = had or secrets.token_urlsafe(24)
        resp = build(sign_token(self.secret, "form", nonce, self.clock.now() + FORM_TTL))
        if nonce != had:
            resp.set_cookie(FORM_COOKIE, nonce, path="/account", httponly=True, samesite="Lax",
                            secure=self.secure)
        return resp

    def anon_ok(self, request: web.Request, form: dict[str, str]) -> bool:
        nonce = request.cookies.get(FORM_COOKIE, "")[:64]
        try:
            signed = verify_token(self.secret, "form", form.get("csrf", ""), self.clock.now())
        except NotFound:
            return False
        return bool(nonce) and hmac.compare_digest(signed.encode(), nonce.encode())

    def for_session(self, row: WebSession) -> str:
        return sign_token(self.secret, "csrf", str(row.id), row.expires_at)

    def session_ok(self, row: WebSession, form: dict[str, str]) -> bool:
        try:
            subject = verify_token(self.secret, "csrf", form.get("csrf", ""), self.clock.now())
        except NotFound:
            return False
        return hmac.compare_digest(subject.encode(), str(row.id).encode())


def respond(title: str, body_html: str, status: int = 200) -> web.Response:
    return web.Response(text=page(title, body_html), content_type="text/html", status=status,
                        headers=HEADERS)


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={**HEADERS, "Location": location})


def _csrf(token: str) -> str:
    return f"<input type=hidden name=csrf value='{escape(token, quote=True)}'>"


def _notice(key: str | None) -> str:
    text = NOTICES.get(key or "")
    return f"<p class=tag>{escape(text)}</p>" if text else ""


def _error(text: str | None) -> str:
    return f"<p class=tag role=alert>⚠ {escape(text)}</p>" if text else ""


def _password_fields(current: bool) -> str:
    rule = f"minlength={MIN_LENGTH} maxlength={MAX_LENGTH}"
    old = ("<p><label>Current password<br><input type=password name=current required "
           "autocomplete=current-password></label></p>") if current else ""
    return (f"{old}<p><label>New password ({MIN_LENGTH}–{MAX_LENGTH} characters)<br>"
            f"<input type=password name=new required {rule} autocomplete=new-password>"
            "</label></p><p><label>New password again<br><input type=password name=confirm "
            f"required {rule} autocomplete=new-password></label></p>")


def login_page(csrf: str, notice: str | None = None, error: str | None = None,
               address: str = "", status: int = 200) -> web.Response:
    body = (f"{_notice(notice)}{_error(error)}<form method=post action='/account/login'>"
            f"{_csrf(csrf)}<p><label>Email<br><input type=email name=email required "
            f"autocomplete=username value='{escape(address, quote=True)}'></label></p>"
            "<p><label>Password<br><input type=password name=password required "
            "autocomplete=current-password></label></p><p><button>Sign in</button></p></form>"
            "<p class=muted><a href='/account/reset'>Forgot your password?</a> No password "
            "yet? Send /email in the chat with the bot.</p>")
    return respond("Sign in", body, status)


def reset_request_page(csrf: str, sent_minutes: int | None = None) -> web.Response:
    if sent_minutes is not None:
        return respond("Check your email", "<p>If an account has this address verified, a "
                       "link to choose a new password is on its way. It works once, for "
                       f"{sent_minutes} minutes.</p><p class=muted>Nothing there? Check the "
                       "spam folder, or send /email in the chat with the bot.</p>")
    body = ("<p>Type the address you verified in the chat; we'll email it a link to choose "
            f"a new password.</p><form method=post action='/account/reset'>{_csrf(csrf)}"
            "<p><label>Email<br><input type=email name=email required autocomplete=username>"
            "</label></p><p><button>Email me a link</button></p></form>")
    return respond("Reset your password", body)


def new_password_page(action: str, csrf: str, address: str, error: str | None = None,
                      status: int = 200) -> web.Response:
    body = (f"{_error(error)}<p>For <strong>{escape(address)}</strong>.</p>"
            f"<form method=post action='{escape(action, quote=True)}'>{_csrf(csrf)}"
            f"{_password_fields(False)}<p><button>Save the password</button></p></form>")
    return respond("Choose a password", body, status)


def _when(at: datetime) -> str:
    return at.strftime("%d %b %Y %H:%M UTC")


def _session_row(row: WebSession, current: int, csrf: str) -> str:
    what = "This browser" if row.id == current else (row.user_agent or "A browser")
    button = ("" if row.id == current else
              f"<form method=post action='/account/logout'>{_csrf(csrf)}<input type=hidden "
              f"name=session value={row.id}><button>Sign out</button></form>")
    facts = rows([("Signed in", _when(row.created_at)), ("Last seen", _when(row.last_seen_at))])
    return f"<div class=box><strong>{escape(what)}</strong>{facts}{button}</div>"


def account_page(user: User, address: str, sessions: Sequence[WebSession], current: int,
                 csrf: str, notice: str | None = None, error: str | None = None,
                 status: int = 200) -> web.Response:
    roles = ", ".join(sorted(user.role_names)) or "none yet"
    listed = "".join(_session_row(s, current, csrf) for s in sessions)
    body = (f"{_notice(notice)}{_error(error)}<div class=box>"
            f"{rows([('Name', user.display_name), ('Email', address), ('Roles', roles)])}</div>"
            f"<h2>Signed in on the web</h2>{listed}"
            f"<form method=post action='/account/logout'>{_csrf(csrf)}"
            "<button>Sign out</button></form> "
            f"<form method=post action='/account/logout-all'>{_csrf(csrf)}"
            "<button>Sign out everywhere</button></form>"
            f"<h2>Change your password</h2><form method=post action='/account/password'>"
            f"{_csrf(csrf)}{_password_fields(True)}<p><button>Change password</button></p>"
            "</form>")
    return respond("Your account", body, status)
