"""One-time secrets sent by email: verification codes and links, and the links that set or
reset a web password. Only keyed hashes (HMAC-SHA256 with the secret key) are stored, and
using a token is a conditional UPDATE, so two concurrent uses cannot both succeed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from core.config import Settings
from core.errors import InvalidInput
from core.mail import clean_address, queue_email
from core.models import AccountEmail, EmailToken
from core.rate_limit import hit
from core.uow import UnitOfWork
from core.web_session import set_password_hash

VERIFY, RESET, SET_PASSWORD = "verify", "reset", "set_password"
CODE_ATTEMPTS = 5  # wrong codes per token: 5 in a million is no guessing game
PRUNE_AFTER = timedelta(days=1)
RESETS_PER_ADDRESS, RESETS_PER_IP = 3, 10  # per hour
_HOUR = timedelta(hours=1)


def _keyed(settings: Settings, *parts: str) -> str:
    # Keyed, not a plain hash: a six-digit code has only a million values, so a leaked
    # table without the key must not be enough to find it.
    message = "\x1f".join(parts).encode()
    return hmac.new(settings.secrets.secret_key.encode(), message, hashlib.sha256).hexdigest()


def code_hash(settings: Settings, user_id: int, code: str) -> str:
    return _keyed(settings, "code", str(user_id), code)


def link_url(settings: Settings, path: str, link: str) -> str:
    return f"{settings.web.public_url.rstrip('/')}/{path}/{link}"


async def issue_token(uow: UnitOfWork, user_id: int, purpose: str, address: str,
                      minutes: int, code_digest: str | None = None) -> tuple[EmailToken, str]:
    """A new token and its link secret (shown once: only its keyed hash is kept)."""
    now = uow.clock.now()
    link = secrets.token_urlsafe(32)
    row = EmailToken(user_id=user_id, purpose=purpose, address=address,
                     link_hash=_keyed(uow.settings, "link", purpose, link),
                     code_hash=code_digest, created_at=now,
                     expires_at=now + timedelta(minutes=minutes), attempts=0)
    uow.session.add(row)
    await uow.session.flush()
    return row, link


async def token_by_link(uow: UnitOfWork, purpose: str, link: str) -> EmailToken | None:
    if not 20 <= len(link) <= 100:
        return None
    return await uow.session.scalar(select(EmailToken).where(
        EmailToken.link_hash == _keyed(uow.settings, "link", purpose, link),
        EmailToken.purpose == purpose))


async def consume_token(uow: UnitOfWork, token_id: int, now: datetime, *,
                        code_locks: bool = True) -> bool:
    """Mark a token used; True only for the one caller that won it."""
    stmt = update(EmailToken).where(EmailToken.id == token_id, EmailToken.used_at.is_(None),
                                    EmailToken.expires_at > now)
    if code_locks:
        stmt = stmt.where(EmailToken.attempts < CODE_ATTEMPTS)
    result = await uow.session.execute(stmt.values(used_at=now))
    return bool(getattr(result, "rowcount", 0))


async def count_wrong_code(uow: UnitOfWork, token_id: int) -> bool:
    """Count a wrong code; False once the token has had all its tries (also when two
    guesses race for the last one)."""
    result = await uow.session.execute(
        update(EmailToken).where(EmailToken.id == token_id, EmailToken.used_at.is_(None),
                                 EmailToken.attempts < CODE_ATTEMPTS)
        .values(attempts=EmailToken.attempts + 1))
    return bool(getattr(result, "rowcount", 0))


async def drop_tokens(uow: UnitOfWork, user_id: int, *purposes: str) -> int:
    """Delete the person's unused tokens (of these purposes, or all): old links stop working."""
    stmt = delete(EmailToken).where(EmailToken.user_id == user_id, EmailToken.used_at.is_(None))
    if purposes:
        stmt = stmt.where(EmailToken.purpose.in_(purposes))
    # Synchronised with the session: SQLite reuses a deleted row's id, and a stale object
    # left under that id would clash with the next token.
    result = await uow.session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def issue_password_link(uow: UnitOfWork, user_id: int) -> str | None:
    """A link to set (or change) the web password, for someone with a verified address:
    the chat identity is the proof, so it needs no old password."""
    row = await uow.session.get(AccountEmail, user_id)
    if row is None or row.verified_at is None:
        return None
    _token, link = await issue_token(uow, user_id, SET_PASSWORD, row.address,
                                     uow.settings.accounts.reset_minutes)
    return link_url(uow.settings, "account/password", link)


async def request_reset(uow: UnitOfWork, text: str, ip: str) -> None:
    """Email a reset link if ``text`` is a verified address; the caller always answers the
    same, whatever happened here (unknown address, unverified, rate-limited)."""
    try:
        address = clean_address(text)
    except InvalidInput:
        address = ""
    if not await hit(uow, "reset_ip", ip, limit=RESETS_PER_IP, window=_HOUR) or not address:
        return
    if not await hit(uow, "reset_address", address, limit=RESETS_PER_ADDRESS, window=_HOUR):
        return
    row = await uow.session.scalar(select(AccountEmail).where(
        AccountEmail.address == address, AccountEmail.verified_at.is_not(None)))
    if row is None:
        return
    minutes = uow.settings.accounts.reset_minutes
    _token, link = await issue_token(uow, row.user_id, RESET, address, minutes)
    await queue_email(
        uow, address, "password_reset", "Reset your Alpha Peer password",
        "Someone, hopefully you, asked to reset the web password of your Alpha Peer "
        f"account. Open the link below within {minutes} minutes to choose a new one; it "
        "works once.\n\nIf you didn't ask, ignore this email: your password stays as it is.",
        links=[("Choose a new password", link_url(uow.settings, "account/reset", link))],
        user_id=row.user_id)


async def find_password_token(uow: UnitOfWork, purpose: str, link: str) -> EmailToken | None:
    """A live set-password or reset token whose address is still the account's, verified."""
    token = await token_by_link(uow, purpose, link)
    if token is None or token.used_at is not None or token.expires_at <= uow.clock.now():
        return None
    row = await uow.session.get(AccountEmail, token.user_id)
    if row is None or row.verified_at is None or row.address != token.address:
        return None
    return token


async def use_password_token(uow: UnitOfWork, purpose: str, link: str, new_hash: str
                             ) -> int | None:
    """Set the password a token allows, once; every web session ends. The person's id, or
    None if the token was dead (or used meanwhile, by another request)."""
    token = await find_password_token(uow, purpose, link)
    if token is None or not await consume_token(uow, token.id, uow.clock.now(),
                                                code_locks=False):
        return None
    await drop_tokens(uow, token.user_id, RESET, SET_PASSWORD)
    await set_password_hash(uow, token.user_id, new_hash)
    return token.user_id


async def prune_email_tokens(uow: UnitOfWork) -> int:
    """Delete tokens used or expired more than a day ago; returns how many went."""
    old = uow.clock.now() - PRUNE_AFTER
    result = await uow.session.execute(
        delete(EmailToken).where(or_(EmailToken.used_at < old, EmailToken.expires_at < old)),
        execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)
