"""Public links to our web server (pay, and later join and verify), signed and expiring."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.config import Settings
from core.models import Booking
from core.signing import sign_token

PAY = "pay"
JOIN = "join"


def pay_url(settings: Settings, booking: Booking) -> str:
    """The checkout link for a held booking; it lapses with the hold."""
    expires = booking.hold_expires_at or (
        booking.created_at + timedelta(minutes=settings.booking.pay_link_minutes)
    )
    token = sign_token(settings.secrets.secret_key, PAY, str(booking.id), expires)
    return f"{settings.web.public_url.rstrip('/')}/pay/{token}"


def join_url(settings: Settings, booking: Booking, user_id: int) -> str:
    """The participant's own link to the video room; valid until the session ends."""
    token = sign_token(settings.secrets.secret_key, JOIN, f"{booking.id}:{user_id}",
                       booking.ends_at)
    return f"{settings.web.public_url.rstrip('/')}/join/{token}"


CALENDAR = "calendar"
CALENDAR_YEARS = 5


def calendar_url(settings: Settings, user_id: int, now: datetime) -> str:
    """A private, long-lived feed of the person's sessions for their calendar app."""
    token = sign_token(settings.secrets.secret_key, CALENDAR, str(user_id),
                       now + timedelta(days=365 * CALENDAR_YEARS))
    return f"{settings.web.public_url.rstrip('/')}/calendar/{token}.ics"


PAYOUTS = "payouts"
PAYOUTS_LINK_HOURS = 24


def payouts_url(settings: Settings, user_id: int, now: datetime) -> str:
    """The payee's own link to connect (or finish connecting) a payout account."""
    token = sign_token(settings.secrets.secret_key, PAYOUTS, str(user_id),
                       now + timedelta(hours=PAYOUTS_LINK_HOURS))
    return f"{settings.web.public_url.rstrip('/')}/payouts/{token}"


RECORDING = "recording"
RECORDING_LINK_DAYS = 30


def _personal(settings: Settings, purpose: str, record_id: int, user_id: int,
              expires_at: datetime) -> str:
    """One person's link to one record at ``/<purpose>/<token>`` (core.signing.verify_pair
    reads it back); the route re-checks that person may still see the record."""
    token = sign_token(settings.secrets.secret_key, purpose, f"{record_id}:{user_id}",
                       expires_at)
    return f"{settings.web.public_url.rstrip('/')}/{purpose}/{token}"


def recording_url(settings: Settings, recording_id: int, user_id: int, now: datetime) -> str:
    """One person's private link to a recording."""
    return _personal(settings, RECORDING, recording_id, user_id,
                     now + timedelta(days=RECORDING_LINK_DAYS))


FILE = "file"
FILE_LINK_DAYS = 30


def file_url(settings: Settings, message_id: int, user_id: int, now: datetime) -> str:
    """One recipient's link to a file sent in a session thread (fetched from its platform)."""
    return _personal(settings, FILE, message_id, user_id, now + timedelta(days=FILE_LINK_DAYS))


VERIFY = "verify"


def verify_url(settings: Settings, code: str) -> str:
    """The public page of a certificate: its code is the unguessable part, so no signature."""
    return f"{settings.web.public_url.rstrip('/')}/{VERIFY}/{code}"
