"""Flow state: one row per (platform, chat, user), saved in the turn's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Conversation(Base):
    __tablename__ = "conversation"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The labels and values offered by the last prompt, so typing "2" or a label counts.
    choices: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
