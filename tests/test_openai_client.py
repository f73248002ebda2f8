"""The OpenAI adapter against the stand-in server over real HTTP: the real SDK code runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ai.openai_assistant import OpenAIAssistant
from core.ai_port import AIError, Assistant, ChatMessage
from tests.openai_standin import DEFAULT_TRANSCRIPT, OpenAIStandin

KEY = "sk-standin-secret-key"
CHAT_MODEL, TRANSCRIBE_MODEL = "tutor-chat-1", "tutor-whisper-1"
QUESTION = [ChatMessage("system", "Course: Python basics, session 3."),
            ChatMessage("user", "What is a decorator?")]


@pytest.fixture
async def server() -> AsyncIterator[OpenAIStandin]:
    async with OpenAIStandin(KEY) as standin:
        yield standin


def assistant_for(server: OpenAIStandin, *, key: str = KEY, timeout: float = 5.0,
                  max_retries: int = 0) -> OpenAIAssistant:
    return OpenAIAssistant(server.base_url, key, CHAT_MODEL, TRANSCRIBE_MODEL,
                           timeout=timeout, max_retries=max_retries)


@pytest.fixture
async def assistant(server: OpenAIStandin) -> AsyncIterator[Assistant]:
    ai: Assistant = assistant_for(server)  # typed as the port, so mypy checks the match
    yield ai
    await ai.close()


async def test_assistant_transcribes_recording_returns_default_text(
        server: OpenAIStandin, assistant: Assistant) -> None:
    text = await assistant.transcribe(b"RIFF....WAVEfmt fake audio", "lesson.wav")
    assert text == DEFAULT_TRANSCRIPT
    path, sent = server.requests[-1]
    assert path == "/v1/audio/transcriptions"
    assert sent["model"] == TRANSCRIBE_MODEL
    assert sent["filename"] == "lesson.wav"
    assert sent["file_size"] == len(b"RIFF....WAVEfmt fake audio")


async def test_assistant_transcribes_scripted_audio_returns_stripped_text(
        server: OpenAIStandin, assistant: Assistant) -> None:
    server.transcripts[b"ogg-bytes"] = "  We practised recursion.\n"
    assert await assistant.transcribe(b"ogg-bytes", "voice.ogg") == "We practised recursion."


async def test_assistant_completes_chat_sends_model_and_messages(
        server: OpenAIStandin, assistant: Assistant) -> None:
    answer = await assistant.complete(QUESTION, max_tokens=123)
    assert answer == "Answer: What is a decorator?"
    [sent] = server.chats()
    assert sent["model"] == CHAT_MODEL
    assert sent["max_tokens"] == 123
    assert sent["messages"] == [{"role": "system", "content": "Course: Python basics, session 3."},
                                {"role": "user", "content": "What is a decorator?"}]


async def test_assistant_completes_scripted_reply_returns_it_stripped(
        server: OpenAIStandin, assistant: Assistant) -> None:
    server.replies.append("  A function that wraps another.  ")
    assert await assistant.complete(QUESTION) == "A function that wraps another."
    assert server.replies == []


async def test_assistant_with_wrong_key_raises_non_retryable_without_key(
        server: OpenAIStandin) -> None:
    ai = assistant_for(server, key="sk-wrong-key-123")
    with pytest.raises(AIError) as caught:
        await ai.complete(QUESTION)
    await ai.close()
    assert not caught.value.retryable
    assert "401" in str(caught.value)
    assert "sk-wrong-key-123" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert server.requests == []  # rejected before anything was recorded


async def test_assistant_on_server_error_raises_retryable(
        server: OpenAIStandin, assistant: Assistant) -> None:
    server.fail_next(1, status=500)
    with pytest.raises(AIError) as caught:
        await assistant.complete(QUESTION)
    assert caught.value.retryable
    assert "500" in str(caught.value)
    assert len(server.requests) == 1  # max_retries=0: no hidden second attempt


async def test_assistant_on_rate_limit_raises_retryable(
        server: OpenAIStandin, assistant: Assistant) -> None:
    server.fail_next(1, status=429)
    with pytest.raises(AIError) as caught:
        await assistant.transcribe(b"audio", "a.mp3")
    assert caught.value.retryable


async def test_assistant_on_bad_request_raises_non_retryable(
        server: OpenAIStandin, assistant: Assistant) -> None:
    server.fail_next(1, status=400)
    with pytest.raises(AIError) as caught:
        await assistant.complete(QUESTION)
    assert not caught.value.retryable
    assert "stand-in failure" in str(caught.value)


async def test_assistant_with_retries_recovers_from_one_failure(server: OpenAIStandin) -> None:
    ai = assistant_for(server, max_retries=1)
    server.fail_next(1, status=503)
    try:
        assert await ai.complete(QUESTION) == "Answer: What is a decorator?"
    finally:
        await ai.close()
    assert len(server.chats()) == 2


async def test_assistant_on_slow_server_raises_retryable_timeout(server: OpenAIStandin) -> None:
    ai = assistant_for(server, timeout=0.2)
    server.delay = 1.0
    with pytest.raises(AIError) as caught:
        await ai.complete(QUESTION)
    await ai.close()
    assert caught.value.retryable
    assert "timed out" in str(caught.value)


async def test_assistant_on_unreachable_server_raises_retryable(server: OpenAIStandin) -> None:
    url = server.base_url
    await server.stop()  # nothing listens on that port any more
    ai = OpenAIAssistant(url, KEY, CHAT_MODEL, TRANSCRIBE_MODEL, timeout=2.0, max_retries=0)
    with pytest.raises(AIError) as caught:
        await ai.transcribe(b"audio", "a.wav")
    await ai.close()
    assert caught.value.retryable


@pytest.mark.parametrize("content", ["", "   ", None])
async def test_assistant_on_empty_content_raises_error(
        server: OpenAIStandin, assistant: Assistant, content: str | None) -> None:
    server.replies.append(content)
    with pytest.raises(AIError) as caught:
        await assistant.complete(QUESTION)
    assert "no text" in str(caught.value)


async def test_assistant_without_key_sends_placeholder_bearer(server: OpenAIStandin) -> None:
    server.api_key = "not-needed"  # as a local Ollama or llama.cpp ignores the header
    ai = OpenAIAssistant(server.base_url, "", CHAT_MODEL, TRANSCRIBE_MODEL, max_retries=0)
    try:
        assert await ai.complete(QUESTION) == "Answer: What is a decorator?"
    finally:
        await ai.close()


async def test_assistant_with_unknown_role_raises_value_error(
        assistant: Assistant) -> None:
    with pytest.raises(ValueError, match="tool"):
        await assistant.complete([ChatMessage("tool", "x")])
