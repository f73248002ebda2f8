"""The Assistant port over any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

from typing import NoReturn

import openai
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)

from core.ai_port import AIError, ChatMessage

# Statuses where the same request may succeed later: request timeout, lock conflict, rate limit.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Server error texts are echoed into our message; keep logs and alerts short.
MAX_DETAIL = 200


class OpenAIAssistant:
    """Transcripts and chat completions from an OpenAI-compatible server."""

    def __init__(self, base_url: str, api_key: str, chat_model: str, transcribe_model: str, *,
                 timeout: float = 60.0, max_retries: int = 1) -> None:
        self._api_key = api_key
        self._chat_model = chat_model
        self._transcribe_model = transcribe_model
        # Local servers (Ollama, llama.cpp) need no key, but the SDK refuses an empty one and
        # would otherwise fall back to OPENAI_API_KEY from the environment.
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                          timeout=timeout, max_retries=max_retries)

    async def transcribe(self, audio: bytes, filename: str) -> str:
        """Return the text spoken in ``audio``; the filename's extension tells its format."""
        try:
            result = await self._client.audio.transcriptions.create(
                model=self._transcribe_model, file=(filename, audio))
        except openai.OpenAIError as exc:
            self._fail("transcription", exc)
        return result.text.strip()

    async def complete(self, messages: list[ChatMessage], *, max_tokens: int = 600) -> str:
        """Return the assistant's reply to ``messages``."""
        params = [_message_param(m) for m in messages]
        try:
            # max_tokens, not max_completion_tokens: Ollama and llama.cpp only know the former.
            result = await self._client.chat.completions.create(
                model=self._chat_model, messages=params, max_tokens=max_tokens)
        except openai.OpenAIError as exc:
            self._fail("chat completion", exc)
        if not result.choices:
            raise AIError(f"chat completion by {self._chat_model!r} returned no choices")
        choice = result.choices[0]
        content = (choice.message.content or "").strip()
        if not content:
            # A retry rarely helps: a filter or an exhausted token budget gives the same again.
            raise AIError(f"chat completion by {self._chat_model!r} returned no text "
                          f"(finish_reason={choice.finish_reason})")
        return content

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def _fail(self, what: str, exc: openai.OpenAIError) -> NoReturn:
        """Raise the AIError that matches an SDK error, with the API key kept out of it."""
        if isinstance(exc, openai.APITimeoutError):
            raise AIError(f"{what} timed out", retryable=True) from exc
        if isinstance(exc, openai.APIConnectionError):
            raise AIError(f"{what}: cannot reach the AI server", retryable=True) from exc
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            retryable = status in RETRYABLE_STATUSES or status >= 500
            if status in (401, 403):
                # Servers echo the presented key (sometimes unmasked) in the error text.
                detail = "the API key was rejected"
            else:
                detail = self._redact(_server_message(exc))[:MAX_DETAIL]
            # "from None": the SDK's own message carries the unredacted server text.
            raise AIError(f"{what} failed with HTTP {status}: {detail}",
                          retryable=retryable) from None
        raise AIError(f"{what} failed: {type(exc).__name__}") from None

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _server_message(exc: openai.APIStatusError) -> str:
    """The ``error.message`` of an OpenAI-style error body, or the SDK's summary."""
    body = exc.body  # the SDK has already unwrapped {"error": ...}
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    # Ollama-style {"error": "text"} unwraps to a string; an HTML error page is just noise.
    if isinstance(body, str) and body.strip() and not body.lstrip().startswith("<"):
        return body.strip()
    return exc.message


def _message_param(message: ChatMessage) -> ChatCompletionMessageParam:
    """The SDK's typed dict for one message; an unknown role is a programming error."""
    if message.role == "system":
        return ChatCompletionSystemMessageParam(role="system", content=message.content)
    if message.role == "user":
        return ChatCompletionUserMessageParam(role="user", content=message.content)
    if message.role == "assistant":
        return ChatCompletionAssistantMessageParam(role="assistant", content=message.content)
    raise ValueError(f"unknown chat role {message.role!r}")
