"""The one command registry every surface reads (menus, slash commands, /help)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Ctx
from handlers.flow import Flow
from handlers.reply import Reply

Handler = Callable[[Ctx, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # ≤ 100 chars: Discord's limit for slash command descriptions
    handler: Handler | None = None
    flow: Flow | None = None
    roles: frozenset[str] | None = None  # None: everyone
    needs_onboarding: bool = True
    args_hint: str = ""
    hidden: bool = False  # reached by buttons only: not in menus, /help or slash commands

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.flow is None):
            raise ValueError(f"/{self.name} needs exactly one of handler or flow")
        if not 1 <= len(self.description) <= 100:
            raise ValueError(f"/{self.name}: description must be 1-100 characters")
        if (
            not self.name.isascii()
            or not self.name.replace("_", "").isalnum()
            or self.name != self.name.lower()
            or len(self.name) > 32
        ):
            raise ValueError(f"/{self.name}: names are lower-case ascii, at most 32 characters")

    def allowed(self, roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & roles)


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"/{command.name} registered twice")
        self._commands[command.name] = command

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def all(self) -> list[Command]:
        return list(self._commands.values())

    def for_roles(self, roles: frozenset[str]) -> list[Command]:
        """Commands to show someone with these roles (menus, /help)."""
        return [c for c in self._commands.values() if c.allowed(roles) and not c.hidden]

    def visible(self) -> list[Command]:
        return [c for c in self._commands.values() if not c.hidden]

    def flows(self) -> dict[str, Flow]:
        found: dict[str, Flow] = {}
        for c in self._commands.values():
            if c.flow is not None:
                found[c.flow.name] = c.flow
        return found
