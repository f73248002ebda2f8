"""What the bot says back. Limits are the stricter of Telegram and Discord, checked here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

MAX_TEXT = 2000  # Discord message content; Telegram allows 4096
MAX_ROWS = 5  # Discord action rows
MAX_PER_ROW = 5  # Discord buttons per row
MAX_LABEL = 80  # Discord button label
MAX_PAYLOAD_BYTES = 64  # Telegram callback_data
TONES = ("info", "success", "warning", "error")
T = TypeVar("T")


@dataclass(frozen=True)
class Button:
    """Either an action (a payload string sent back to us) or a URL to open."""

    label: str
    action: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.action is None) == (self.url is None):
            raise ValueError(f"button {self.label!r} needs exactly one of action or url")
        if not 1 <= len(self.label) <= MAX_LABEL:
            raise ValueError(f"button label must be 1-{MAX_LABEL} characters: {self.label!r}")
        if self.action is not None and len(self.action.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.action!r}")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"button URL must be http(s): {self.url!r}")


@dataclass(frozen=True)
class SharedFile:
    """A file already on the recipient's platform, sent again by its id (no download)."""

    ref: str
    name: str
    kind: str = "document"  # "photo" | "document"


@dataclass(frozen=True)
class RoomRequest:
    """Open (or reuse) a private room for a session on platforms that have them — a private
    Discord thread — with these members (the platform's user keys), greeting them there."""

    booking_id: int
    title: str
    members: tuple[str, ...]
    greeting: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    pre: str = ""  # a monospaced block shown after the text (calendars, tables)
    replace: bool = False  # edit the message whose button was pressed
    private: bool = False  # only the asker sees it (Discord ephemeral)
    tone: str = "info"
    image: bytes | None = field(default=None, repr=False)
    file_name: str | None = None
    file: bytes | None = field(default=None, repr=False)
    shared: SharedFile | None = None
    room: str | None = None  # post in this room (a Discord thread id), not in a DM
    open_room: RoomRequest | None = None
    # The prompt reads typed text, so a typed number is text (a price), not a button number.
    takes_text: bool = False

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a reply needs text")
        if len(self.text) + (len(self.pre) + 8 if self.pre else 0) > MAX_TEXT:  # 8: fences
            raise ValueError(f"reply text over {MAX_TEXT} characters ({len(self.text)})")
        if len(self.buttons) > MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} button rows")
        for row in self.buttons:
            if not 1 <= len(row) <= MAX_PER_ROW:
                raise ValueError(f"a button row needs 1-{MAX_PER_ROW} buttons")
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}")

    @property
    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


def rows_of(items: Sequence[T], per_row: int) -> tuple[tuple[T, ...], ...]:
    """Lay buttons (or flow choices) out ``per_row`` to a row."""
    return tuple(tuple(items[i : i + per_row]) for i in range(0, len(items), per_row))


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Shorten user-supplied text to fit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
