"""Referrals: personal invite codes and links, invitations by email, the admin's outreach
about a course, and who joined through whom."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from core.catalogue import get_published_course
from core.config import Settings
from core.db import is_valid_id
from core.errors import DomainError, InvalidInput, NotFound
from core.mail import clean_address, queue_email
from core.models import AccountEmail, Course, Referral, User
from core.outbox import notify
from core.rate_limit import hit
from core.uow import UnitOfWork

# Letters and digits only: "-" separates the parts of a deep-link payload.
_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10
_PAYLOAD = re.compile(r"^ref-([A-Za-z0-9]{4,16})(?:-c(\d{1,10}))?(?:-e(\d{1,10}))?$")
DAY = timedelta(days=1)
DAILY_INVITES = 10  # per referrer: enough for friends, too few for spam
DAILY_PER_ADDRESS = 3  # per recipient, whoever invites: nobody gets flooded
MAX_OUTREACH = 50
JOINED = "referral_joined"


class TooManyInvitations(DomainError):
    code = "too_many_invitations"
    template = ("You've sent {limit} invitations in the last 24 hours, which is the limit. "
                "Try again tomorrow — or share your personal link (/refer) instead.")


@dataclass(frozen=True)
class RefPayload:
    code: str
    course_id: int | None = None
    referral_id: int | None = None  # the emailed invitation this link came in

    def __str__(self) -> str:
        return (f"ref-{self.code}" + (f"-c{self.course_id}" if self.course_id else "")
                + (f"-e{self.referral_id}" if self.referral_id else ""))


def parse_payload(text: str | None) -> RefPayload | None:
    """A ``ref-<code>[-c<course>][-e<invitation>]`` deep-link payload, or None."""
    found = _PAYLOAD.match(text or "")
    if found is None:
        return None
    course, invitation = (int(g) if g else None for g in found.group(2, 3))
    if (course is not None and not is_valid_id(course)) or (
            invitation is not None and not is_valid_id(invitation)):
        return None
    return RefPayload(found.group(1), course, invitation)


@dataclass(frozen=True)
class InviteLinks:
    payload: str  # what to type after /start on Discord or in the terminal
    page: str  # our own landing page, which works from any browser
    telegram: str | None  # opens the bot with the payload, when the bot's username is known


def invite_links(settings: Settings, ref: RefPayload) -> InviteLinks:
    payload = str(ref)
    bot = settings.telegram.bot_username.strip().lstrip("@")
    return InviteLinks(payload, f"{settings.web.public_url.rstrip('/')}/r/{payload}",
                       f"https://t.me/{bot}?start={payload}" if bot else None)


async def ensure_ref_code(uow: UnitOfWork, user: User) -> str:
    """The person's referral code, made on first use (the unique constraint decides)."""
    for _ in range(5):
        if user.ref_code:
            return user.ref_code
        code = new_code()
        try:
            async with uow.session.begin_nested():
                user.ref_code = code
                await uow.session.flush()
            return code
        except IntegrityError:
            await uow.session.refresh(user)  # the savepoint's rollback expired the row
    raise RuntimeError("could not make a unique referral code")


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


async def find_referrer(uow: UnitOfWork, code: str) -> User | None:
    if not code.isascii() or not code.isalnum() or len(code) > 16:
        return None
    return await uow.session.scalar(select(User).where(User.ref_code == code))


def course_card_text(course: Course) -> str:
    """A course in a few lines, for an email (``course.modules`` must be loaded)."""
    lines = [f"📘 {course.title}", f"{course.level.capitalize()} · {course.price} per "
             f"{course.session_minutes}-minute session, one to one with a peer teacher"]
    if course.description:
        lines.append(course.description[:400])
    if course.modules:
        lines.append("Modules: " + ", ".join(m.title for m in course.modules[:8]))
    return "\n".join(lines)


def _invitation_text(inviter: str, links: InviteLinks, course: Course | None,
                     outreach: bool) -> str:
    lead = (f"📘 {course.title} — learn it with a peer on Alpha Peer" if outreach and course
            else f"👋 {inviter} invited you to "
            + (f"learn {course.title} on Alpha Peer" if course else "Alpha Peer"))
    parts = [lead, "Alpha Peer is where you learn a course from a peer who just mastered it, "
             "in live one-to-one sessions — and then teach it yourself and earn."]
    if course is not None:
        parts.append(course_card_text(course))
    how = f"Start here: {links.page}"
    if links.telegram:
        how += f"\nOr open the bot in Telegram: {links.telegram}"
    parts.append(how + f"\nOn Discord, send the bot: /start {links.payload}")
    why = (f"{inviter} from the Alpha Peer team sent you this once about this course"
           if outreach else f"{inviter} typed your address into Alpha Peer to invite you")
    parts.append(f"You get this email because {why}. Nothing else will follow unless you "
                 "join; just ignore it if you're not interested.")
    return "\n\n".join(parts)


async def _send(uow: UnitOfWork, referrer: User, address: str, course: Course | None,
                channel: str) -> Referral | None:
    """Record and email one invitation; None when a racing request recorded it first (the
    partial unique indexes allow one per referrer and address, one outreach per course)."""
    row = Referral(referrer_id=referrer.id, channel=channel, email=address,
                   course_id=course.id if course else None, created_at=uow.clock.now())
    try:
        async with uow.session.begin_nested():
            uow.session.add(row)
            await uow.session.flush()
    except IntegrityError:
        return None
    ref = RefPayload(await ensure_ref_code(uow, referrer), row.course_id, row.id)
    links = invite_links(uow.settings, ref)
    outreach = channel == "outreach"
    text = _invitation_text(referrer.display_name, links, course, outreach)
    subject = (f"{course.title} on Alpha Peer" if outreach and course
               else f"{referrer.display_name} invited you to Alpha Peer")
    buttons = [("Join Alpha Peer", links.page)]
    if links.telegram:
        buttons.append(("Open in Telegram", links.telegram))
    why = ("You get this email because the Alpha Peer team thought this course could be for "
           "you. We won't write again about it." if outreach else
           f"You get this email because {referrer.display_name} invited you. We won't email "
           "you again unless someone invites you.")
    await queue_email(uow, address, "referral", subject, text, links=buttons, footer=why)
    return row


@dataclass(frozen=True)
class Invitation:
    referral: Referral
    new: bool  # False: this person had already invited that address (nothing sent again)


async def refer_by_email(uow: UnitOfWork, referrer: User, address: str,
                         course_id: int | None = None) -> Invitation:
    """Email a friend an invitation (about a course, if given); once per address."""
    address = clean_address(address)
    course = (await get_published_course(uow, course_id, with_modules=True)
              if course_id is not None else None)
    own = await uow.session.scalar(select(AccountEmail.address).where(
        AccountEmail.user_id == referrer.id))
    if own == address:
        raise InvalidInput("That's your own address — invite a friend's instead.")
    existing = await uow.session.scalar(select(Referral).where(
        Referral.referrer_id == referrer.id, Referral.channel == "email",
        Referral.email == address).order_by(Referral.id).limit(1))
    if existing is not None:
        return Invitation(existing, new=False)
    if not await hit(uow, "referral", str(referrer.id), limit=DAILY_INVITES, window=DAY):
        raise TooManyInvitations(limit=DAILY_INVITES)
    if not await hit(uow, "referral_to", address, limit=DAILY_PER_ADDRESS, window=DAY):
        raise InvalidInput("That address has had several invitations today already. "
                           "Try again tomorrow.")
    sent = await _send(uow, referrer, address, course, "email")
    if sent is None:  # the same invitation, sent by a double click a moment ago
        again = await uow.session.scalar(select(Referral).where(
            Referral.referrer_id == referrer.id, Referral.channel == "email",
            Referral.email == address))
        assert again is not None
        return Invitation(again, new=False)
    return Invitation(sent, new=True)


@dataclass(frozen=True)
class Outreach:
    course: Course
    sent: list[str]
    already: list[str]  # invited about this course before, or already a member
    invalid: list[str]


async def send_outreach(uow: UnitOfWork, admin: User, course_id: int,
                        addresses: Sequence[str]) -> Outreach:
    """The admin emails prospective students about a course; each address recorded once."""
    if "admin" not in admin.role_names:
        raise NotFound("course")
    course = await get_published_course(uow, course_id, with_modules=True)
    if len(addresses) > MAX_OUTREACH:
        raise InvalidInput(f"At most {MAX_OUTREACH} addresses at a time "
                           f"({len(addresses)} given).")
    clean: list[str] = []
    invalid: list[str] = []
    for text in addresses:
        try:
            address = clean_address(text)
        except InvalidInput:
            invalid.append(text[:60])
            continue
        if address not in clean:
            clean.append(address)
    if not clean:
        raise InvalidInput("Give at least one email address after the course, separated by "
                           "commas.")
    known = set((await uow.session.scalars(select(Referral.email).where(
        Referral.channel == "outreach", Referral.course_id == course.id,
        Referral.email.in_(clean)))).all())
    known |= set((await uow.session.scalars(select(AccountEmail.address).where(
        AccountEmail.address.in_(clean)))).all())
    sent = [a for a in clean if a not in known
            and await _send(uow, admin, a, course, "outreach") is not None]
    return Outreach(course, sent, [a for a in clean if a not in sent], invalid)


def _origin(referral: Referral, code: str) -> str:
    return "outreach" if referral.channel == "outreach" else f"ref:{code}"


async def record_arrival(uow: UnitOfWork, user: User, payload: str | None) -> Referral | None:
    """A newcomer onboarding with a ``ref-`` payload: where they came from, the referral
    joined (the emailed invitation the link came in, else a new ``link`` one), and the
    referrer told. Anything unknown or self-made is ignored."""
    ref = parse_payload(payload)
    referrer = await find_referrer(uow, ref.code) if ref else None
    if ref is None or referrer is None or referrer.id == user.id:
        return None
    if await uow.session.scalar(select(Referral.id).where(
            Referral.joined_user_id == user.id).limit(1)) is not None:
        return None  # joined once already (say, by an emailed invitation)
    now = uow.clock.now()
    row = await uow.session.get(Referral, ref.referral_id) if ref.referral_id else None
    if row is None or row.referrer_id != referrer.id or row.joined_user_id is not None:
        course = await uow.session.get(Course, ref.course_id) if ref.course_id else None
        row = Referral(referrer_id=referrer.id, channel="link", created_at=now,
                       course_id=course.id if course else None)
        uow.session.add(row)
    row.joined_user_id, row.joined_at = user.id, now
    if not user.origin or user.origin == (payload or "")[:64]:
        user.origin = _origin(row, ref.code)
    await uow.session.flush()
    how = "your invitation" if row.channel == "email" else "your link"
    await notify(uow, referrer, JOINED, f"🤝 {user.display_name} joined Alpha Peer through "
                 f"{how}. Thank you for spreading the word!")
    return row


async def claim_email_referrals(uow: UnitOfWork, user: User, address: str) -> int:
    """Someone proved they own ``address``: invitations sent to it count as joined by them
    (call when an address is verified). Returns how many were claimed."""
    address = address.strip().lower()
    rows = list((await uow.session.scalars(select(Referral).where(
        Referral.email == address, Referral.joined_user_id.is_(None),
        Referral.channel.in_(("email", "outreach")), Referral.referrer_id != user.id)
        .order_by(Referral.id))).all())
    now = uow.clock.now()
    told: set[int] = set()
    for row in rows:
        row.joined_user_id, row.joined_at = user.id, now
        referrer = await uow.session.get(User, row.referrer_id)
        if referrer is None:
            continue
        if not user.origin:
            user.origin = _origin(row, await ensure_ref_code(uow, referrer))
        if row.channel == "email" and referrer.id not in told:
            told.add(referrer.id)
            await notify(uow, referrer, JOINED, f"🤝 {user.display_name}, whom you invited "
                         "by email, is on Alpha Peer now. Thank you for spreading the word!")
    return len(rows)


async def referral_counts(uow: UnitOfWork, user: User) -> tuple[int, int]:
    """(invitations this person emailed, people who joined through them)."""
    emailed, joined = (await uow.session.execute(select(
        func.count(case((Referral.channel == "email", 1))),
        func.count(Referral.joined_user_id)).where(Referral.referrer_id == user.id))).one()
    return int(emailed or 0), int(joined or 0)
