"""Lines typed at the terminal → Turns (or local commands such as ``:as NAME``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.reply import Button
from handlers.turn import Turn, parse_command_line

PLATFORM = "terminal"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class SwitchUser:
    name: str


@dataclass(frozen=True)
class OpenUrl:
    url: str


@dataclass(frozen=True)
class Notice:
    text: str


Event = Turn | SwitchUser | OpenUrl | Notice | None


def user_key(name: str) -> str:
    return name.lower()


def _pressed(text: str, buttons: list[Button], takes_text: bool) -> Button | Notice | None:
    """The button a line presses: its number, or its exact label (any case). A prompt that
    reads typed text takes a number as text (a price step reads "50" as the price, never as
    "button 50", nor "1" as "button 1 = Cancel"); only its link buttons open by label."""
    if not buttons:
        return None
    if text.isdigit() and not takes_text:
        index = int(text)
        if not 1 <= index <= len(buttons):
            return Notice(f"There's no button {index}; pick 1 to {len(buttons)}.")
        return buttons[index - 1]
    same = [b for b in buttons if b.label.strip().casefold() == text.casefold()]
    if len(same) != 1 or (takes_text and same[0].url is None):
        return None  # the flow matches typed labels of its own choices
    return same[0]


def ingest(line: str, user: str, buttons: list[Button], takes_text: bool = False) -> Event:
    """What a line means: a command, a button press (by number or label), a user switch,
    or text."""
    text = line.strip()
    if not text:
        return None
    base = {
        "platform": PLATFORM,
        "chat_key": user_key(user),
        "user_key": user_key(user),
        "display_name": user.capitalize(),
    }
    if text.startswith(":as"):
        name = text[3:].strip()
        if not _NAME.match(name):
            return Notice("Usage: :as NAME (letters, digits, . _ -; up to 32 characters)")
        return SwitchUser(name)
    button = _pressed(text, buttons, takes_text)
    if isinstance(button, Notice):
        return button
    if button is not None:
        if button.url is not None:
            return OpenUrl(button.url)
        return Turn(**base, action=button.action)
    command = parse_command_line(text)
    if command is not None:
        return Turn(**base, command=command[0], args=command[1])
    return Turn(**base, text=text)
