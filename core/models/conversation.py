"""Flow state: one row per (platform, chat, user), saved in the turn's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Conversation(Base):
    """Each prompt gets a fresh nonce, so the nonce is the row's version: an UPDATE or DELETE
    says ``WHERE nonce = <the one read>``, and a concurrent turn that changed the row first
    makes this one fail (StaleDataError) and roll back — two clicks on one menu can't both
    act, without locking the row while the turn runs."""

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

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy's declarative attribute
        "version_id_col": nonce, "version_id_generator": False}
