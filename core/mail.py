"""Transactional email: queued in the same transaction as its cause (a verification code, a
receipt, a certificate), sent after commit by the mailer, retried with back-off, never sent
twice by two workers. Every email has a plain-text part and a simple HTML part."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select, update

from core.errors import InvalidInput
from core.lease import backoff, lease, lease_free
from core.models import EmailMessage
from core.uow import UnitOfWork

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=120)
MAX_ADDRESS = 254
# Deliberately simple: one @, no spaces, a dot in the domain. Anything stricter belongs to
# the verification step, which proves the address works.
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_URL = re.compile(r"https?://[^\s<>\"]+")
_LEAD_SYMBOLS = re.compile(r"^[^\w(]+", re.UNICODE)
FOOTER = ("You get this email because of your Alpha Peer account. Choose which emails you get "
          "in the bot: /notifications.")


@dataclass(frozen=True)
class Attachment:
    name: str
    mime: str  # "text/calendar; method=REQUEST", "application/pdf"
    data: bytes


def clean_address(text: str | None) -> str:
    """An address as stored: trimmed and lower-cased; InvalidInput if it isn't one."""
    address = (text or "").strip().lower()
    # isprintable: no NUL (PostgreSQL can't store it), no invisible or bidi characters.
    if len(address) > MAX_ADDRESS or not address.isprintable() or not _ADDRESS.match(address):
        raise InvalidInput("That doesn't look like an email address (like name@example.org).")
    return address


def text_to_html(text: str, links: Sequence[tuple[str, str]] = (), footer: str = FOOTER) -> str:
    """Escaped paragraphs with clickable links, then the buttons as links."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    for label, url in links:
        paragraphs.append(f'<p><a href="{html.escape(url, quote=True)}">'
                          f"{html.escape(label)}</a></p>")
    body = "\n".join(paragraphs)
    return ("<!doctype html><html><body style=\"font-family:sans-serif;max-width:36em\">\n"
            f"{body}\n<hr><p style=\"color:#666;font-size:small\">{html.escape(footer)}</p>"
            "\n</body></html>")


def subject_of(text: str) -> str:
    """The first line without its leading emoji, clipped for an inbox."""
    first = next((line for line in text.splitlines() if line.strip()), "Alpha Peer")
    plain = _LEAD_SYMBOLS.sub("", first).strip() or "Alpha Peer"
    return plain if len(plain) <= 90 else plain[:89].rstrip() + "…"


def calendar_attachment(name: str, body: str) -> Attachment:
    method = "CANCEL" if "METHOD:CANCEL" in body else "REQUEST"
    return Attachment(name, f"text/calendar; method={method}", body.encode())


async def queue_email(uow: UnitOfWork, to: str, kind: str, subject: str, text: str, *,
                      html_body: str | None = None, attachments: Sequence[Attachment] = (),
                      links: Sequence[tuple[str, str]] = (), user_id: int | None = None,
                      reply_to: str | None = None, footer: str = FOOTER) -> EmailMessage:
    """Queue one email; it goes out only if this transaction commits. ``footer`` says why
    the recipient gets it (people without an account get another reason)."""
    now = uow.clock.now()
    plain = text.strip()
    urls = [f"{label}: {url}" for label, url in links]
    if urls:
        plain += "\n\n" + "\n".join(urls)
    row = EmailMessage(
        user_id=user_id, to_address=to, reply_to=reply_to, kind=kind[:32],
        subject=subject[:200], text_body=f"{plain}\n\n--\n{footer}\n",
        html_body=html_body or text_to_html(text, links, footer),
        attachments=[{"name": a.name, "mime": a.mime,
                      "data": base64.b64encode(a.data).decode()} for a in attachments],
        created_at=now, next_attempt_at=now, attempts=0)
    uow.session.add(row)
    uow.notifications += 1
    return row


def build_mime(row: EmailMessage, sender: str) -> MimeMessage:
    """The message as sent: text and HTML alternatives, then the attachments."""
    msg = MimeMessage()
    name, address = parseaddr(sender)
    msg["From"] = str(Address(name, addr_spec=address)) if name else address
    msg["To"] = row.to_address
    if row.reply_to:
        msg["Reply-To"] = row.reply_to
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id or make_msgid(
        f"ap{row.id}", domain=address.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    for item in row.attachments or []:
        maintype, _, rest = str(item["mime"]).partition("/")
        subtype, _, params = rest.partition(";")
        extra = dict(p.strip().split("=", 1) for p in params.split(";") if "=" in p)
        msg.add_attachment(base64.b64decode(item["data"]), maintype=maintype,
                           subtype=subtype.strip(), filename=str(item["name"]), params=extra)
    return msg


async def claim_due_emails(uow: UnitOfWork, *, limit: int = 20) -> list[EmailMessage]:
    """Claim due emails with a lease, so two workers never send the same one."""
    now = uow.clock.now()
    due = (select(EmailMessage.id).where(
        EmailMessage.sent_at.is_(None), EmailMessage.failed_at.is_(None),
        EmailMessage.next_attempt_at <= now, lease_free(EmailMessage.claimed_until, now))
        .order_by(EmailMessage.id).limit(limit))
    won = await lease(uow, EmailMessage, due, EmailMessage.sent_at.is_(None), LEASE)
    if not won:
        return []
    rows = await uow.session.scalars(select(EmailMessage).where(EmailMessage.id.in_(won))
                                     .order_by(EmailMessage.id))
    claimed = list(rows.all())
    domain = parseaddr(uow.settings.email.sender)[1].rpartition("@")[2] or None
    for row in claimed:
        if row.message_id is None:  # fixed before the first try: a retry is the same email
            row.message_id = make_msgid(f"ap{row.id}", domain=domain)
    return claimed


async def mark_email_sent(uow: UnitOfWork, email_id: int) -> None:
    await uow.session.execute(
        update(EmailMessage).where(EmailMessage.id == email_id)
        .values(sent_at=uow.clock.now(), claimed_until=None, last_error=None),
        execution_options={"synchronize_session": False})


async def mark_email_failed(uow: UnitOfWork, email_id: int, attempts: int, error: str,
                            *, permanent: bool = False) -> None:
    """Retry later with back-off, or give up (a refused address, or too many tries)."""
    now = uow.clock.now()
    values: dict[str, object] = {"claimed_until": None, "last_error": error[:300]}
    if permanent or attempts >= MAX_ATTEMPTS:
        values["failed_at"] = now
    else:
        values["next_attempt_at"] = now + backoff(attempts)
    await uow.session.execute(
        update(EmailMessage).where(EmailMessage.id == email_id).values(**values),
        execution_options={"synchronize_session": False})
