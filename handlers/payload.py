"""Button payloads: ``v1:<kind>:<tag>:<data>``, built and parsed only here.

Payloads come back from the client and are untrusted: parsing never raises, and every
handler re-checks that the clicker may act on whatever the payload names.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from handlers.reply import MAX_PAYLOAD_BYTES

VERSION = "v1"
FLOW = "f"  # a choice in a running flow; tag = that prompt's nonce
COMMAND = "c"  # run a command with arguments; tag = command name
KINDS = (FLOW, COMMAND)


@dataclass(frozen=True)
class Payload:
    kind: str
    tag: str
    data: str


def new_nonce() -> str:
    return secrets.token_urlsafe(6)[:6]


def encode(kind: str, tag: str, data: str = "") -> str:
    if kind not in KINDS or not tag or ":" in tag:
        raise ValueError(f"bad payload parts {kind!r} {tag!r}")
    raw = f"{VERSION}:{kind}:{tag}:{data}"
    if len(raw.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload over {MAX_PAYLOAD_BYTES} bytes: {raw!r}")
    return raw


def flow_choice(nonce: str, value: str) -> str:
    return encode(FLOW, nonce, value)


def command(name: str, args: str = "") -> str:
    return encode(COMMAND, name, args)


def decode(raw: str | None) -> Payload | None:
    """The payload, or None for anything malformed, oversized or from another version."""
    if not raw or len(raw.encode(errors="replace")) > MAX_PAYLOAD_BYTES:
        return None
    parts = raw.split(":", 3)
    if len(parts) != 4 or parts[0] != VERSION or parts[1] not in KINDS or not parts[2]:
        return None
    return Payload(parts[1], parts[2], parts[3])
