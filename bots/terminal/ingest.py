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


def ingest(line: str, user: str, buttons: list[Button]) -> Event:
    """What a line means: a command, a button press by number, a user switch, or text."""
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
    if text.isdigit() and buttons:
        index = int(text)
        if not 1 <= index <= len(buttons):
            return Notice(f"There's no button {index}; pick 1 to {len(buttons)}.")
        button = buttons[index - 1]
        if button.url is not None:
            return OpenUrl(button.url)
        return Turn(**base, action=button.action)
    command = parse_command_line(text)
    if command is not None:
        return Turn(**base, command=command[0], args=command[1])
    return Turn(**base, text=text)
