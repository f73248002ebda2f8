"""Signed-in browsers: the cookie is ``<id>.<secret>``, only the secret's SHA-256 is stored,
sessions expire after ``[accounts] web_session_days`` and are revoked by logout or a new
password. Login limits live here too, counted in the database (core.rate_limit)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from core.db import is_valid_id
from core.errors import NotFound
from core.mail import queue_email
from core.models import AccountEmail, WebSession
from core.rate_limit import attempts, hit
from core.uow import UnitOfWork

TOUCH_EVERY = timedelta(minutes=5)  # last_seen is for the session list, not worth a write a click
PRUNE_AFTER = timedelta(days=30)  # gone sessions stay listed a while, then go
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_PER_ADDRESS = 5
LOGIN_FAILURES_PER_IP = 20
_ADDRESS_BUCKET, _IP_BUCKET = "login_address", "login_ip"


def _digest(secret: str) -> str:
    # The secret is 256 random bits: a plain hash suffices (nothing to brute-force), and a
    # stolen table still cannot be turned back into cookies.
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_session(uow: UnitOfWork, user_id: int, user_agent: str = ""
                         ) -> tuple[WebSession, str]:
    """A new session and the cookie value that proves it (shown once, never stored)."""
    now = uow.clock.now()
    secret = secrets.token_urlsafe(32)
    row = WebSession(user_id=user_id, secret_hash=_digest(secret), created_at=now,
                     expires_at=now + timedelta(days=uow.settings.accounts.web_session_days),
                     last_seen_at=now, user_agent=user_agent[:200])
    uow.session.add(row)
    await uow.session.flush()
    return row, f"{row.id}.{secret}"


async def find_session(uow: UnitOfWork, cookie: str | None) -> WebSession | None:
    """The live session a cookie proves; None if malformed, forged, expired or revoked."""
    head, _, secret = (cookie or "").partition(".")
    if not head.isdigit() or len(head) > 12 or not is_valid_id(int(head)) or not secret \
            or len(secret) > 100:
        return None
    row = await uow.session.get(WebSession, int(head))
    # Compared in constant time even though the id is public: no timing oracle on the hash.
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    if row.revoked_at is not None or row.expires_at <= uow.clock.now():
        return None
    return row


def touch_session(uow: UnitOfWork, row: WebSession) -> None:
    """Note the session was used, at most every few minutes."""
    now = uow.clock.now()
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now


async def list_sessions(uow: UnitOfWork, user_id: int) -> list[WebSession]:
    """The person's live sessions, most recently used first."""
    rows = await uow.session.scalars(select(WebSession).where(
        WebSession.user_id == user_id, WebSession.revoked_at.is_(None),
        WebSession.expires_at > uow.clock.now()).order_by(WebSession.last_seen_at.desc(),
                                                          WebSession.id.desc()))
    return list(rows.all())


async def revoke_session(uow: UnitOfWork, user_id: int, session_id: int) -> bool:
    """Sign one of the person's own sessions out; False if it isn't theirs or already gone."""
    if not is_valid_id(session_id):
        return False
    result = await uow.session.execute(
        update(WebSession).where(WebSession.id == session_id, WebSession.user_id == user_id,
                                 WebSession.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now()), execution_options={"synchronize_session": False})
    return bool(getattr(result, "rowcount", 0))


async def revoke_all(uow: UnitOfWork, user_id: int, keep: int | None = None) -> int:
    """Sign the person out everywhere (but ``keep``); returns how many sessions ended."""
    stmt = update(WebSession).where(WebSession.user_id == user_id,
                                    WebSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    result = await uow.session.execute(stmt.values(revoked_at=uow.clock.now()),
                                       execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


async def login_blocked(uow: UnitOfWork, address: str, ip: str) -> bool:
    """Too many recent failures for this address or from this IP. Unknown addresses count
    the same as known ones, so the limit reveals nothing."""
    return (await attempts(uow, _ADDRESS_BUCKET, address, LOGIN_WINDOW)
            >= LOGIN_FAILURES_PER_ADDRESS
            or await attempts(uow, _IP_BUCKET, ip, LOGIN_WINDOW) >= LOGIN_FAILURES_PER_IP)


async def count_login_failure(uow: UnitOfWork, address: str, ip: str) -> None:
    """Count one failed password (a login, or a wrong current password on the web)."""
    await hit(uow, _ADDRESS_BUCKET, address, limit=LOGIN_FAILURES_PER_ADDRESS,
              window=LOGIN_WINDOW)
    await hit(uow, _IP_BUCKET, ip, limit=LOGIN_FAILURES_PER_IP, window=LOGIN_WINDOW)


async def find_login(uow: UnitOfWork, address: str) -> tuple[int, str | None]:
    """(user id, password hash) for a verified address; (0, None) when there is none."""
    row = (await uow.session.execute(select(AccountEmail.user_id, AccountEmail.password_hash)
                                     .where(AccountEmail.address == address,
                                            AccountEmail.verified_at.is_not(None)))).first()
    return (int(row[0]), row[1]) if row is not None else (0, None)


async def set_password_hash(uow: UnitOfWork, user_id: int, new_hash: str,
                            keep: int | None = None) -> None:
    """Store a new password hash (argon2id, made by core.password); every web session but
    ``keep`` ends, so a thief's cookie dies with the old password."""
    row = await uow.session.get(AccountEmail, user_id)
    if row is None or row.verified_at is None:
        raise NotFound("email address")
    changed = row.password_hash is not None
    row.password_hash, row.password_changed_at = new_hash, uow.clock.now()
    await revoke_all(uow, user_id, keep)
    if changed:
        public = uow.settings.web.public_url.rstrip("/")
        await queue_email(
            uow, row.address, "password_changed", "Your Alpha Peer password was changed",
            "The web password of your Alpha Peer account was just changed, and other web "
            "sign-ins were ended.\n\nIf that wasn't you, choose a new one at once: "
            f"{public}/account/reset", user_id=user_id)


async def upgrade_hash(uow: UnitOfWork, user_id: int, old_hash: str, new_hash: str) -> None:
    """After a good login with outdated parameters: the same password, hashed anew (only if
    nothing changed it meanwhile)."""
    await uow.session.execute(
        update(AccountEmail).where(AccountEmail.user_id == user_id,
                                   AccountEmail.password_hash == old_hash)
        .values(password_hash=new_hash), execution_options={"synchronize_session": False})


async def prune_sessions(uow: UnitOfWork) -> int:
    """Delete sessions that expired or were revoked long ago; returns how many went."""
    old = uow.clock.now() - PRUNE_AFTER
    result = await uow.session.execute(
        delete(WebSession).where(or_(WebSession.expires_at < old, WebSession.revoked_at < old)),
        execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)
