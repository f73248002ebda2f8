"""A stand-in OpenAI-compatible server on loopback: the real ``openai`` client talks to it.

It answers ``POST /v1/audio/transcriptions`` (multipart) and ``POST /v1/chat/completions``
(JSON) the way OpenAI, Ollama and vLLM do, checks the bearer key, and records every request
that passed authentication in ``requests`` so tests can read the prompt that was sent.

Test-only controls: ``transcripts`` (audio bytes → text), ``replies`` (scripted chat answers,
``None`` for a null content), ``fail_next`` (the next calls fail with a status) and ``delay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from types import TracebackType
from typing import Any

from aiohttp import web

Obj = dict[str, Any]

DEFAULT_TRANSCRIPT = ("Today we covered list comprehensions and decorators. "
                      "Homework: write a decorator that times a function.")
ANSWER_PREFIX = "Answer: "
# The openai client waits this long before a retry; its default backoff would slow tests down.
RETRY_AFTER_MS = "10"


class OpenAIStandin:
    """An OpenAI-compatible API on 127.0.0.1 with scripted answers and injected faults."""

    def __init__(self, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[tuple[str, Obj]] = []
        self.transcripts: dict[bytes, str] = {}
        self.replies: list[str | None] = []
        self.delay = 0.0  # seconds before each answer, for timeout tests
        self._failures: list[int] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on a free loopback port and set ``base_url``."""
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/v1"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            if self._stopping is not None:
                self._stopping.set()  # cut delays short: a slow handler would stall cleanup
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpenAIStandin:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    # ---- test controls ---------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Make the next ``n`` authenticated requests fail with ``status``."""
        self._failures.extend([status] * n)

    def chats(self) -> list[Obj]:
        """The recorded chat completion request bodies, oldest first."""
        return [body for path, body in self.requests if path.endswith("/chat/completions")]

    # ---- the API ---------------------------------------------------------------------------
    async def _gate(self, request: web.Request, record: Obj) -> web.Response | None:
        """Authenticate, record, then apply injected faults and delay; None means go on."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
            # Real servers echo the presented key; the client must not pass it on.
            return _error(401, "invalid_request_error",
                          f"Incorrect API key provided: {presented}", "invalid_api_key")
        self.requests.append((request.path, record))
        if self.delay and self._stopping is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
        if self._failures:
            status = self._failures.pop(0)
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            return _error(status, kind, "stand-in failure", None,
                          headers={"retry-after-ms": RETRY_AFTER_MS})
        return None

    async def _transcribe(self, request: web.Request) -> web.Response:
        form = await request.post()
        record: Obj = {}
        audio = b""
        for name, value in form.items():
            if isinstance(value, web.FileField):
                audio = value.file.read()
                record.update(filename=value.filename, file_size=len(audio))
            else:
                record[name] = value if isinstance(value, str) else value.decode()
        denied = await self._gate(request, record)
        if denied is not None:
            return denied
        if not record.get("model") or "file_size" not in record:
            return _error(400, "invalid_request_error", "model and file are required", None)
        return web.json_response({"text": self.transcripts.get(audio, DEFAULT_TRANSCRIPT)})

    async def _complete(self, request: web.Request) -> web.Response:
        try:
            body: Obj = await request.json()
        except ValueError:
            return _error(400, "invalid_request_error", "body is not JSON", None)
        denied = await self._gate(request, body)
        if denied is not None:
            return denied
        messages = body.get("messages")
        if not body.get("model") or not isinstance(messages, list) or not messages:
            return _error(400, "invalid_request_error", "model and messages are required", None)
        content = self.replies.pop(0) if self.replies else _default_answer(messages)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len((content or "").split())
        return web.json_response({
            "id": f"chatcmpl-standin-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": None}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })


def _default_answer(messages: list[Obj]) -> str:
    """A deterministic answer that shows which question it answers."""
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    return ANSWER_PREFIX + (users[-1][:80] if users else "")


def _error(status: int, kind: str, message: str, code: str | None,
           headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)
