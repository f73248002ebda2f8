"""What a handler gets for one turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.config import Settings
from core.models import User
from core.uow import UnitOfWork
from handlers.turn import Turn

if TYPE_CHECKING:
    from handlers.registry import Registry


@dataclass
class Ctx:
    uow: UnitOfWork
    user: User
    turn: Turn
    data: dict[str, Any] = field(default_factory=dict)
    registry: Registry | None = None

    @property
    def settings(self) -> Settings:
        return self.uow.settings

    @property
    def clicked(self) -> bool:
        """The turn is a button press (replies should edit the menu in place)."""
        return self.turn.action is not None
