"""What core needs from an OpenAI-compatible server: transcripts and chat completions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class AIError(Exception):
    """The AI server failed or refused; ``retryable`` when trying later may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ChatMessage:
    role: str   # "system" | "user" | "assistant"
    content: str


class Assistant(Protocol):
    async def transcribe(self, audio: bytes, filename: str) -> str: ...

    async def complete(self, messages: list[ChatMessage], *, max_tokens: int = 600) -> str: ...

    async def close(self) -> None: ...
