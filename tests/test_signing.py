"""Signed link tokens: anything forged, expired, misused or malformed reads as not found."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import NotFound
from core.signing import sign_token, verify_token

SECRET = "k" * 40
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed_body(body: bytes) -> str:
    """A correctly signed token around an arbitrary body, as only a key holder could make."""
    text = _b64(body)
    mac = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()[:20]
    return f"{text}.{_b64(mac)}"


def test_verify_token_round_trip_returns_subject() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    assert verify_token(SECRET, "pay", token, NOW) == "booking:42"


def test_sign_token_is_url_safe_and_binds_subject() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert token != sign_token(SECRET, "pay", "booking:43", LATER)
    assert token != sign_token(SECRET, "join", "booking:42", LATER)


def test_verify_token_unicode_subject_round_trips() -> None:
    token = sign_token(SECRET, "verify", "élève:7 ✓", LATER)
    assert verify_token(SECRET, "verify", token, NOW) == "élève:7 ✓"


def test_verify_token_is_valid_through_its_last_second() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    assert verify_token(SECRET, "pay", token, LATER) == "booking:42"
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", token, LATER + timedelta(seconds=1))


def test_verify_token_expired_raises_not_found() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", token, LATER + timedelta(hours=1))


def test_verify_token_wrong_purpose_raises_not_found() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    with pytest.raises(NotFound):
        verify_token(SECRET, "join", token, NOW)


def test_verify_token_other_secret_raises_not_found() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    with pytest.raises(NotFound):
        verify_token("o" * 40, "pay", token, NOW)


def test_verify_token_rewritten_body_raises_not_found() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    _, mac = token.split(".")
    for forged in (["pay", "booking:43", int(LATER.timestamp())],
                   ["pay", "booking:42", int((LATER + timedelta(days=365)).timestamp())],
                   ["join", "booking:42", int(LATER.timestamp())]):
        body = _b64(json.dumps(forged, separators=(",", ":")).encode())
        with pytest.raises(NotFound):
            verify_token(SECRET, "pay", f"{body}.{mac}", NOW)
        with pytest.raises(NotFound):
            verify_token(SECRET, forged[0], f"{body}.{mac}", NOW)  # type: ignore[arg-type]


def test_verify_token_any_changed_body_character_raises_not_found() -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    body, mac = token.split(".")
    for i, char in enumerate(body):
        other = B64_ALPHABET[(B64_ALPHABET.index(char) + 1) % len(B64_ALPHABET)]
        with pytest.raises(NotFound):
            verify_token(SECRET, "pay", f"{body[:i]}{other}{body[i + 1:]}.{mac}", NOW)


@pytest.mark.parametrize("change", ["flip-first", "truncate", "drop", "empty", "extend"])
def test_verify_token_tampered_mac_raises_not_found(change: str) -> None:
    token = sign_token(SECRET, "pay", "booking:42", LATER)
    body, mac = token.split(".")
    flipped = B64_ALPHABET[(B64_ALPHABET.index(mac[0]) + 1) % len(B64_ALPHABET)]
    bad = {"flip-first": f"{body}.{flipped}{mac[1:]}", "truncate": f"{body}.{mac[:-4]}",
           "drop": body, "empty": f"{body}.", "extend": f"{body}.{mac}AAAA"}[change]
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", bad, NOW)


@pytest.mark.parametrize("token", ["", ".", "..", "garbage", "a.b", "a.b.c", "%%%.%%%",
                                   "é.é", "\ud800.\ud800", "=" * 10 + "." + "=" * 10])
def test_verify_token_garbage_raises_not_found(token: str) -> None:
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", token, NOW)


@pytest.mark.parametrize("body", [b"not json", b"null", b'["pay", "x"]', b'{"a": 1}',
                                  b'["pay", 42, 9999999999]', b'["pay", null, 9999999999]',
                                  b"\xff\xfe"], ids=repr)
def test_verify_token_signed_malformed_body_raises_not_found(body: bytes) -> None:
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", _signed_body(body), NOW)


@given(token=st.text(max_size=200))
def test_verify_token_arbitrary_text_raises_only_not_found(token: str) -> None:
    with pytest.raises(NotFound):
        verify_token(SECRET, "pay", token, NOW)
