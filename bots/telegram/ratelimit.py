"""Outbound limits: PTB's AIORateLimiter (30 messages/s overall, 20/min per group,
``retry_after`` honoured) plus about one message a second per private chat."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

JSONish = bool | dict[str, Any] | list[dict[str, Any]]


class ChatRateLimiter(AIORateLimiter):
    def __init__(self, *, per_chat_burst: int = 3, max_retries: int = 3) -> None:
        super().__init__(max_retries=max_retries)
        # A small burst lets a confirmation and the next menu arrive together;
        # the long-run rate stays at one message a second per chat.
        self._burst = per_chat_burst
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > 2048:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = AsyncLimiter(self._burst, self._burst)
        return self._chats[chat_id]

    async def process_request(  # type: ignore[override]
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONish]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONish:
        try:
            chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            chat_id = 0
        if chat_id <= 0:  # groups and channels are limited by AIORateLimiter itself
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        async with self._chat(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
