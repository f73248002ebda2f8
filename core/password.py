"""Web passwords: a policy people can read, and argon2id hashing that never runs on the
event loop (a hash costs ~100 ms of CPU and 64 MiB; on the loop it would stall every chat)."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 takes any length; a cap keeps one request from costing more
PREFIX = "$argon2id$"
# A few passwords every guessing list starts with; the length rule already stops most.
_COMMON = frozenset({
    "1234567890", "0123456789", "12345678910", "qwertyuiop", "password12", "password123",
    "password1234", "iloveyou12", "1q2w3e4r5t", "qwerty1234", "abcdefghij", "alphapeer1",
})


@cache
def _hasher() -> PasswordHasher:
    """argon2-cffi's defaults (RFC 9106 "low memory": id, t=3, m=64 MiB, p=4); made on first
    use, not at import time."""
    return PasswordHasher()


def check_password(password: str, address: str | None = None) -> str:
    """The password if the policy allows it; InvalidInput naming the rule otherwise."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Choose a password of at least {MIN_LENGTH} characters "
                           "(a few words together are easy to remember).")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"A password can be at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if len(set(folded)) == 1:
        raise InvalidInput("A password can't be one character repeated.")
    if address and (folded == address.casefold()
                    or folded == address.partition("@")[0].casefold()):
        raise InvalidInput("Your password can't be your email address.")
    if folded in _COMMON:
        raise InvalidInput("That password is on every guessing list; choose another.")
    return password


async def hash_password(password: str) -> str:
    """An argon2id PHC string (``$argon2id$v=19$m=…``), computed in a worker thread."""
    return await asyncio.to_thread(_hasher().hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no stored hash it checks a dummy one anyway, so
    an unknown address costs the same time as a wrong password."""
    return await asyncio.to_thread(_verify, stored, password)


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, with the current parameters (made once, in a thread)."""
    return _hasher().hash("not a password: the timing twin of an unknown address")


def needs_rehash(stored: str) -> bool:
    """The hash was made with older parameters: store a fresh one after a good login."""
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True
