"""A person's email address: added in chat, proven by a six-digit code or a link, then used
for email notifications and web sign-in. No answer ever reveals whose an address is."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.email_token import (
    CODE_ATTEMPTS,
    VERIFY,
    code_hash,
    consume_token,
    count_wrong_code,
    drop_tokens,
    issue_token,
    link_url,
    token_by_link,
)
from core.errors import DomainError, InvalidInput
from core.mail import clean_address, queue_email
from core.models import AccountEmail, EmailToken, User
from core.rate_limit import attempts, hit
from core.referral import claim_email_referrals
from core.uow import UnitOfWork
from core.web_session import revoke_all

HOUR = timedelta(hours=1)
CODES_PER_USER = 5  # per hour: enough to fix a typo or two, too few to spam anyone
CODES_PER_ADDRESS = 3  # per hour, whoever asks: an address can't be flooded with codes
# The address isn't proven yet: the usual "because of your account" footer would be wrong.
ASKED = ("You get this email because someone asked to add this address to an Alpha Peer "
         "account. If it wasn't you, ignore it: nothing happens without the code.")


class TooManyCodes(DomainError):
    code = "too_many_codes"
    template = ("That's a lot of codes in one hour. Wait a while, then tap ↻ Send a new code "
                "(check your spam folder in the meantime).")


@dataclass(frozen=True)
class EmailStatus:
    address: str | None  # the verified address on the account
    has_password: bool
    pending: str | None  # an address waiting for its code (its newest unused token)
    pending_until: datetime | None


@dataclass(frozen=True)
class CodeSent:
    address: str
    minutes: int


@dataclass(frozen=True)
class CodeCheck:
    status: str  # "verified" | "wrong" | "dead" (expired, used, locked or never sent)
    tries_left: int = 0
    address: str = ""


async def find_email(uow: UnitOfWork, user_id: int) -> AccountEmail | None:
    return await uow.session.get(AccountEmail, user_id)


async def _newest_verify(uow: UnitOfWork, user_id: int) -> EmailToken | None:
    return await uow.session.scalar(select(EmailToken).where(
        EmailToken.user_id == user_id, EmailToken.purpose == VERIFY,
        EmailToken.used_at.is_(None)).order_by(EmailToken.id.desc()).limit(1))


async def email_status(uow: UnitOfWork, user_id: int) -> EmailStatus:
    """What /email shows. "Pending" comes from tokens, not from the unverified row, so it
    reads the same when the address turned out to be someone else's."""
    row = await find_email(uow, user_id)
    verified = row is not None and row.verified_at is not None
    token = await _newest_verify(uow, user_id)
    pending = token if token is not None and not (verified and row and
                                                  row.address == token.address) else None
    return EmailStatus(row.address if row and verified else None,
                       bool(row and verified and row.password_hash),
                       pending.address if pending else None,
                       pending.expires_at if pending else None)


async def _limit_codes(uow: UnitOfWork, user_id: int, address: str) -> None:
    mine, theirs = f"u{user_id}", address
    if (await attempts(uow, "code_user", mine, HOUR) >= CODES_PER_USER
            or await attempts(uow, "code_address", theirs, HOUR) >= CODES_PER_ADDRESS):
        raise TooManyCodes()
    await hit(uow, "code_user", mine, limit=CODES_PER_USER, window=HOUR)
    await hit(uow, "code_address", theirs, limit=CODES_PER_ADDRESS, window=HOUR)


async def add_email(uow: UnitOfWork, user: User, text: str) -> CodeSent:
    """Start proving ``text`` is the person's address: a code and a link go to it. A
    verified address stays in use until the new one is proven."""
    address = clean_address(text)
    minutes = uow.settings.accounts.code_minutes
    mine = await find_email(uow, user.id)
    if mine is not None and mine.verified_at is not None and mine.address == address:
        raise InvalidInput(f"{address} is already your verified address.")
    await _limit_codes(uow, user.id, address)
    await drop_tokens(uow, user.id, VERIFY)  # earlier codes stop working
    other = await uow.session.scalar(select(AccountEmail).where(
        AccountEmail.address == address, AccountEmail.user_id != user.id))
    if other is not None and other.verified_at is not None:
        await _decoy(uow, user, mine, other, minutes)
        return CodeSent(address, minutes)
    if other is not None:  # an unproven claim never blocks the real owner
        await uow.session.delete(other)
        await uow.session.flush()
    if mine is None:
        uow.session.add(AccountEmail(user_id=user.id, address=address,
                                     added_at=uow.clock.now()))
    elif mine.verified_at is None:
        mine.address, mine.added_at = address, uow.clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    _token, link = await issue_token(uow, user.id, VERIFY, address, minutes,
                                     code_hash(uow.settings, user.id, code))
    await queue_email(
        uow, address, "email_verify", "Confirm your email address for Alpha Peer",
        f"Your Alpha Peer code is {code}.\n\nType it in your chat with the bot, or open the "
        f"link below. It works once, for {minutes} minutes.\n\nIf you didn't ask for this, "
        "ignore this email: nothing changes without the code.",
        links=[("Confirm this address", link_url(uow.settings, "email/verify", link))],
        user_id=user.id, footer=ASKED)
    return CodeSent(address, minutes)


async def _decoy(uow: UnitOfWork, user: User, mine: AccountEmail | None, owner: AccountEmail,
                 minutes: int) -> None:
    """Someone else's verified address: the asker sees exactly what a real code looks like
    (a pending token counting wrong tries) but no code exists; the owner is told."""
    if mine is not None and mine.verified_at is None:
        await uow.session.delete(mine)
    await issue_token(uow, user.id, VERIFY, owner.address, minutes, secrets.token_hex(32))
    await queue_email(
        uow, owner.address, "email_claimed", "Someone tried to add your email address",
        f"Someone tried to add {owner.address} to another Alpha Peer account. It stays with "
        "yours, and they got no code.\n\nIf it was you, on another app: use /link in the bot "
        "to join your accounts into one instead. If not, you can ignore this email.",
        user_id=owner.user_id)


async def resend_code(uow: UnitOfWork, user: User) -> CodeSent:
    """A fresh code for the address waiting for one."""
    token = await _newest_verify(uow, user.id)
    if token is None:
        raise InvalidInput("No address is waiting for a code. Send /email to add one.")
    return await add_email(uow, user, token.address)


def _clean_code(text: str) -> str:
    code = "".join(text.split()).replace("-", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidInput("Type the 6 digits from the email (like 123456).")
    return code


async def verify_code(uow: UnitOfWork, user: User, text: str) -> CodeCheck:
    """Check a typed code against the newest one sent. Wrong tries are counted, so the
    caller must commit even when it fails (answer with a message, don't raise)."""
    code = _clean_code(text)
    token = await _newest_verify(uow, user.id)
    now = uow.clock.now()
    if token is None or token.expires_at <= now or token.attempts >= CODE_ATTEMPTS:
        return CodeCheck("dead")
    if not secrets.compare_digest(token.code_hash or "", code_hash(uow.settings, user.id, code)):
        left = CODE_ATTEMPTS - token.attempts - 1
        counted = await count_wrong_code(uow, token.id)
        return CodeCheck("wrong", tries_left=left) if counted else CodeCheck("dead")
    if not await consume_token(uow, token.id, now) or not await _claim(uow, user, token.address):
        return CodeCheck("dead")
    return CodeCheck("verified", address=token.address)


async def verify_link(uow: UnitOfWork, link: str) -> str | None:
    """The address a verification link proves (now verified), or None for a dead link."""
    token = await token_by_link(uow, VERIFY, link)
    now = uow.clock.now()
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    user = await uow.session.get(User, token.user_id)
    if user is None or not await consume_token(uow, token.id, now, code_locks=False):
        return None
    return token.address if await _claim(uow, user, token.address) else None


async def _claim(uow: UnitOfWork, user: User, address: str) -> bool:
    """Make a proven address the person's; False if meanwhile someone else verified it."""
    now = uow.clock.now()
    other = await uow.session.scalar(select(AccountEmail).where(
        AccountEmail.address == address, AccountEmail.user_id != user.id))
    if other is not None and other.verified_at is not None:
        return False
    mine = await find_email(uow, user.id)
    first = mine is None or mine.verified_at is None
    old = mine.address if mine is not None and not first and mine.address != address else None
    try:
        async with uow.session.begin_nested():  # a concurrent claim trips the unique index
            if other is not None:
                await uow.session.delete(other)
                await uow.session.flush()
            if mine is None:
                uow.session.add(AccountEmail(user_id=user.id, address=address, added_at=now,
                                             verified_at=now))
            else:
                mine.address, mine.verified_at = address, now
            await uow.session.flush()
    except IntegrityError:
        return False
    await drop_tokens(uow, user.id, VERIFY)
    await claim_email_referrals(uow, user, address)  # an invitation to it joins now
    if first:
        await queue_email(
            uow, address, "welcome", f"Welcome to Alpha Peer, {user.display_name}",
            f"👋 Welcome to Alpha Peer, {user.display_name}!\n\nYour address {address} is "
            "verified. Receipts, booking confirmations, reminders and certificates can reach "
            "you here now; choose which in the bot with /notifications.\n\nTo use "
            "the web pages, set a password: send /email in the bot.", user_id=user.id)
    elif old is not None:
        await queue_email(
            uow, old, "email_changed", "Your Alpha Peer email address was changed",
            f"The email address of your Alpha Peer account is now {address}; this one "
            "gets nothing more from us.\n\nIf that wasn't you, open the bot and send /email.",
            user_id=user.id)
    return True


async def remove_email(uow: UnitOfWork, user: User) -> bool:
    """Forget the person's address, its pending codes and links, and every web sign-in
    (they need the address); False if there was nothing to forget."""
    row = await find_email(uow, user.id)
    dropped = await drop_tokens(uow, user.id)
    await revoke_all(uow, user.id)
    if row is not None:
        await uow.session.delete(row)
    return row is not None or dropped > 0
