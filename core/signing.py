"""Signed, expiring tokens for links we hand out (pay, join, verify)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from core.errors import NotFound


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, purpose: str, subject: str, expires_at: datetime) -> str:
    """A URL-safe token binding a purpose and subject until ``expires_at``."""
    body = _b64(
        json.dumps([purpose, subject, int(expires_at.timestamp())], separators=(",", ":")).encode()
    )
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:20]
    return f"{body}.{_b64(mac)}"


def verify_token(secret: str, purpose: str, token: str, now: datetime) -> str:
    """The subject of a valid token; forged, expired or misused tokens read as not found."""
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:20]
        if not hmac.compare_digest(_unb64(mac), expected):
            raise ValueError("bad signature")
        got_purpose, subject, expires = json.loads(_unb64(body))
    except (ValueError, TypeError) as exc:
        raise NotFound("link") from exc
    if got_purpose != purpose or not isinstance(subject, str) or expires < now.timestamp():
        raise NotFound("link")
    return subject


def verify_pair(secret: str, purpose: str, token: str, now: datetime) -> tuple[int, int]:
    """(record id, user id) from a per-person link signed with subject ``"<id>:<user>"``."""
    first, _, second = verify_token(secret, purpose, token, now).partition(":")
    try:
        return int(first), int(second)
    except ValueError:
        raise NotFound("link") from None
