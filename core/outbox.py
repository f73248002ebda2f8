"""Messages to other people: written in the same transaction as the change that causes
them, delivered after commit, retried with back-off, and given up on visibly."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from core.lease import backoff, changed_one, lease, lease_free
from core.mail import Attachment, calendar_attachment, queue_email, subject_of
from core.models import AccountEmail, Identity, OutboxMessage, User
from core.notification import URGENT, quiet_until, route
from core.uow import UnitOfWork

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
# A terminal identity only exists in development; real platforms come first.
_PLATFORM_ORDER = ("telegram", "discord", "test", "terminal")


@dataclass(frozen=True)
class OutButton:
    label: str
    action: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Forward:
    """A file someone sent, passed on by reference: ``ref`` is a file id (or URL) of
    ``platform``; ``link`` is our signed download link for recipients elsewhere."""

    platform: str
    ref: str
    name: str
    kind: str  # "photo" | "document"
    link: str


@dataclass(frozen=True)
class Delivery:
    """A claimed message and where to send it."""

    message_id: int
    platform: str
    external_id: str
    text: str
    buttons: tuple[tuple[OutButton, ...], ...]
    attempts: int
    file_name: str | None = None
    file_body: str | None = None
    file_ref: str | None = None  # a file id of ``platform``, sent as that file
    file_kind: str | None = None
    room: str | None = None  # post in this room of ``platform`` instead of a direct message


def _rank(platform: str) -> int:
    return _PLATFORM_ORDER.index(platform) if platform in _PLATFORM_ORDER else len(_PLATFORM_ORDER)


def _choose(identities: Sequence[Identity], notify_via: str | None) -> Identity | None:
    """The chosen platform, else the first real one joined."""
    chosen = [i for i in identities if i.platform == notify_via]
    if chosen:
        return chosen[0]
    return min(identities, key=lambda i: (_rank(i.platform), i.id), default=None)


async def _identities(uow: UnitOfWork, user_ids: Collection[int]) -> dict[int, list[Identity]]:
    found: dict[int, list[Identity]] = {user_id: [] for user_id in user_ids}
    rows = await uow.session.scalars(
        select(Identity).where(Identity.user_id.in_(found)).order_by(Identity.id))
    for identity in rows.all():
        found[identity.user_id].append(identity)
    return found


async def notify_platform(uow: UnitOfWork, user: User) -> Identity | None:
    """The identity that notifications reach: the chosen platform, else the first one joined."""
    return _choose((await _identities(uow, [user.id]))[user.id], user.notify_via)


@dataclass(frozen=True)
class Outgoing:
    """One message to queue; ``attachment`` is a small text file as (name, body);
    ``forward`` a file passed on; ``room`` a (platform, room) to post in instead of a DM."""

    user: User
    kind: str
    text: str
    buttons: tuple[tuple[OutButton, ...], ...] = ()
    attachment: tuple[str, str] | None = None
    forward: Forward | None = None
    room: tuple[str, str] | None = None
    email_files: tuple[Attachment, ...] = ()  # for the email copy only (a certificate PDF)
    chat: bool = True  # False: only the email copy (the person just saw it in chat)
    email: bool = True  # False: no email copy (the caller sends a richer email itself)


def _with_forward(m: Outgoing, platform: str | None) -> tuple[tuple[OutButton, ...], ...]:
    """A file from another platform can't be sent by its id: a download link goes instead."""
    if m.forward is None or m.forward.platform == platform:
        return m.buttons
    link = OutButton(f"📎 {m.forward.name}"[:60], url=m.forward.link)
    return ((link,), *m.buttons)


async def _emails(uow: UnitOfWork, user_ids: Collection[int]) -> dict[int, str]:
    """Verified addresses of these people (one statement)."""
    rows = await uow.session.execute(select(AccountEmail.user_id, AccountEmail.address).where(
        AccountEmail.user_id.in_(user_ids), AccountEmail.verified_at.is_not(None)))
    return {user_id: address for user_id, address in rows.all()}


def _chat_row(m: Outgoing, platform: str | None, now: datetime, due: datetime
              ) -> OutboxMessage:
    native = m.forward if m.forward and m.forward.platform == platform else None
    return OutboxMessage(
        user_id=m.user.id, kind=m.kind, text=m.text, created_at=now, next_attempt_at=due,
        platform=platform, attempts=0, room=m.room[1] if m.room else None,
        file_name=m.attachment[0] if m.attachment else (native.name if native else None),
        file_body=m.attachment[1] if m.attachment else None,
        file_ref=native.ref if native else None,
        file_kind=native.kind if native else None,
        buttons=[[{k: v for k, v in vars(b).items() if v is not None} for b in row]
                 for row in _with_forward(m, platform)])


async def _email_copy(uow: UnitOfWork, m: Outgoing, address: str) -> None:
    files = list(m.email_files)
    if m.attachment is not None:
        name, body = m.attachment
        files.insert(0, calendar_attachment(name, body) if name.endswith(".ics")
                     else Attachment(name, "text/plain", body.encode()))
    links = [(b.label, b.url) for row in m.buttons for b in row if b.url]
    if m.forward is not None:
        links.insert(0, (m.forward.name, m.forward.link))
    text = m.text
    if any(b.action for row in m.buttons for b in row):
        text += "\n\nOpen the chat with the Alpha Peer bot to answer."
    await queue_email(uow, address, m.kind, subject_of(m.text), text, attachments=files,
                      links=links, user_id=m.user.id)


async def queue(uow: UnitOfWork, messages: Sequence[Outgoing]) -> list[OutboxMessage]:
    """Queue messages; they go out only if this transaction commits. Each goes to the
    channels its recipient chose for its kind (chat apps, email); chat waits out their
    quiet hours. Recipients' platforms and addresses are looked up in two statements,
    however many messages (reminder sweeps send thousands)."""
    ids = {m.user.id for m in messages}
    identities = await _identities(uow, ids)
    emails = await _emails(uow, ids) if messages else {}
    now = uow.clock.now()
    rows: list[OutboxMessage] = []
    for m in messages:
        if m.room is not None:  # a post in a shared room: not a personal notification
            rows.append(_chat_row(m, m.room[0], now, now))
            continue
        mine = identities[m.user.id]
        default = _choose(mine, m.user.notify_via)
        way = route(m.user, m.kind, {i.platform for i in mine},
                    default.platform if default else None, m.user.id in emails)
        held = None if m.kind in URGENT else quiet_until(m.user, now)
        for platform in way.chat if m.chat else ():
            rows.append(_chat_row(m, platform, now, held or now))
        if not mine and m.chat:  # no chat app at all yet: keep it for when one is linked
            rows.append(_chat_row(m, None, now, now))
        if way.email and m.email:
            await _email_copy(uow, m, emails[m.user.id])
    uow.session.add_all(rows)
    uow.notifications += len(rows)
    return rows


async def notify(
    uow: UnitOfWork,
    user: User,
    kind: str,
    text: str,
    buttons: tuple[tuple[OutButton, ...], ...] = (),
    attachment: tuple[str, str] | None = None,
    email_files: tuple[Attachment, ...] = (),
    chat: bool = True,
    email: bool = True,
) -> list[OutboxMessage]:
    """Queue one notification to ``user`` (see ``queue``); the chat rows it made (none when
    they chose email only, or switched that kind off, or ``chat`` is False)."""
    return await queue(uow, [Outgoing(user, kind, text, buttons, attachment,
                                      email_files=email_files, chat=chat, email=email)])


async def claim_due(
    uow: UnitOfWork, platforms: tuple[str, ...], *, limit: int = 50
) -> list[Delivery]:
    """Claim due messages for these platforms with a lease, so no two workers send one."""
    now = uow.clock.now()
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.platform.in_(platforms),
            OutboxMessage.next_attempt_at <= now,
            lease_free(OutboxMessage.claimed_until, now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    won = await lease(uow, OutboxMessage, due, OutboxMessage.sent_at.is_(None), LEASE)
    claimed: list[Delivery] = []
    for message_id in won:
        row = (
            await uow.session.execute(
                select(OutboxMessage, Identity.external_id)
                .join(
                    Identity,
                    (Identity.user_id == OutboxMessage.user_id)
                    & (Identity.platform == OutboxMessage.platform),
                )
                .where(OutboxMessage.id == message_id)
            )
        ).one_or_none()
        if row is None:  # the identity went away (unlinked): nobody to send to
            await _give_up(uow, message_id, "no identity on that platform any more")
            continue
        message, external_id = row
        claimed.append(
            Delivery(
                message.id,
                message.platform or "",
                external_id,
                message.text,
                tuple(tuple(OutButton(**b) for b in r) for r in message.buttons),
                message.attempts,
                message.file_name,
                message.file_body,
                message.file_ref,
                message.file_kind,
                message.room,
            )
        )
    return claimed


async def mark_sent(uow: UnitOfWork, message_id: int) -> None:
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(sent_at=uow.clock.now(), claimed_until=None, last_error=None),
        execution_options={"synchronize_session": False},
    )


async def mark_failed(uow: UnitOfWork, message_id: int, attempts: int, error: str) -> None:
    """Schedule a retry, or give up after MAX_ATTEMPTS (then the admin sees it)."""
    if attempts >= MAX_ATTEMPTS:
        await _give_up(uow, message_id, error)
        return
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            next_attempt_at=uow.clock.now() + backoff(attempts),
            claimed_until=None,
            last_error=error[:300],
        ),
        execution_options={"synchronize_session": False},
    )


async def _give_up(uow: UnitOfWork, message_id: int, error: str) -> None:
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(failed_at=uow.clock.now(), claimed_until=None, last_error=error[:300]),
        execution_options={"synchronize_session": False},
    )


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    failed: int
    oldest_pending: datetime | None
    recent_failures: list[OutboxMessage]


async def outbox_health(uow: UnitOfWork, *, show: int = 5) -> OutboxHealth:
    pending, oldest = (
        await uow.session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
            )
        )
    ).one()
    failed = await uow.session.scalar(
        select(func.count()).where(
            OutboxMessage.failed_at.is_not(None), OutboxMessage.sent_at.is_(None)
        )
    )
    recent = list(
        (
            await uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.failed_at.is_not(None), OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.failed_at.desc())
                .limit(show)
            )
        ).all()
    )
    return OutboxHealth(int(pending or 0), int(failed or 0), oldest, recent)


async def retry_failed(uow: UnitOfWork, message_id: int) -> bool:
    """Put a given-up message back in the queue (admin action)."""
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.failed_at.is_not(None),
            OutboxMessage.sent_at.is_(None),
        )
        .values(failed_at=None, attempts=0, next_attempt_at=uow.clock.now(), last_error=None),
        execution_options={"synchronize_session": False},
    )
    if changed_one(result):
        uow.notifications += 1
        return True
    return False
