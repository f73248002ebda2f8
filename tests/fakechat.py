"""A recording chat that drives the real dispatcher; buttons are clicked by label."""

from __future__ import annotations

from handlers.dispatcher import Dispatcher
from handlers.reply import Button, Reply
from handlers.turn import Turn, parse_command_line

PLATFORM = "test"


class FakeChat:
    def __init__(self, dispatcher: Dispatcher, user_key: str, name: str | None = None,
                 platform: str = PLATFORM) -> None:
        self.dispatcher = dispatcher
        self.platform = platform
        self.user_key = user_key
        self.name = name or user_key.capitalize()
        self.last: list[Reply] = []
        self.history: list[Reply] = []

    def _turn(self, **kind: str) -> Turn:
        return Turn(platform=self.platform, chat_key=self.user_key, user_key=self.user_key,
                    display_name=self.name, **kind)

    async def _run(self, turn: Turn) -> list[Reply]:
        self.last = await self.dispatcher.handle(turn)
        self.history += self.last
        return self.last

    async def send(self, text: str) -> list[Reply]:
        """A command if it starts with '/', otherwise typed text."""
        parsed = parse_command_line(text)
        if parsed is not None:
            return await self._run(self._turn(command=parsed[0], args=parsed[1]))
        return await self._run(self._turn(text=text))

    async def press(self, payload: str) -> list[Reply]:
        """Send a raw button payload (stale, forged, or someone else's)."""
        return await self._run(self._turn(action=payload))

    @property
    def buttons(self) -> list[Button]:
        return [b for reply in self.last for b in reply.all_buttons]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def button(self, label: str) -> Button:
        """The one button whose label is ``label``, or contains it; fails otherwise."""
        exact = [b for b in self.buttons if b.label == label]
        found = exact or [b for b in self.buttons if label.casefold() in b.label.casefold()]
        assert found, f"no button {label!r}; buttons are {self.labels}"
        assert len(found) == 1, f"button {label!r} is ambiguous among {self.labels}"
        return found[0]

    async def click(self, label: str) -> list[Reply]:
        button = self.button(label)
        assert button.action is not None, f"{label!r} is a link button ({button.url})"
        return await self.press(button.action)

    def url(self, label: str) -> str:
        button = self.button(label)
        assert button.url is not None, f"{label!r} is not a link button"
        return button.url
