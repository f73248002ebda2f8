"""What a person did in a chat, independent of the platform."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import is_valid_id


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" | "document"
    file_ref: str  # platform file id; fetched through the surface when needed
    name: str = ""
    mime: str = ""
    size: int = 0


@dataclass(frozen=True)
class Turn:
    """One incoming event: exactly one of command, text, action or attachment."""

    platform: str
    chat_key: str
    user_key: str
    display_name: str = ""
    command: str | None = None
    args: str = ""
    text: str | None = None
    action: str | None = None
    attachment: Attachment | None = None
    direct: bool = True
    receipt: int | None = None  # the stored inbound update this turn handles, if any
    room: str | None = None  # written in a session room (a Discord private thread)

    def __post_init__(self) -> None:
        given = [
            x for x in (self.command, self.text, self.action, self.attachment) if x is not None
        ]
        if len(given) != 1:
            raise ValueError("a Turn carries exactly one of command, text, action, attachment")

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.chat_key, self.user_key)


def parse_command_line(line: str) -> tuple[str, str] | None:
    """``/book python-101`` → ("book", "python-101"); ``/start@MyBot x`` → ("start", "x")."""
    if not line.startswith("/") or len(line) < 2:
        return None
    head, _, args = line[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name or not name.replace("_", "").isalnum() or len(name) > 32:
        return None
    return name, args.strip()


def parse_id(text: str) -> int | None:
    """A record number typed or carried by a button (``12`` or ``#12``), if it can be one."""
    raw = text.strip().removeprefix("#")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if is_valid_id(value) else None
