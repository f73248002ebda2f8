"""The load harness's stand-in Telegram Bot API: the strict test stand-in, plus a clock on
every answer, so a simulated user can wait for the bot's reply to its own update and measure
how long it took."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from tests.fake_telegram import BotMessage, FakeTelegram


class LoadTelegram(FakeTelegram):
    """Every message the bot sends or edits wakes whoever waits on that chat."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.waiters: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.latest: dict[int, BotMessage] = {}

    def _answered(self, message: BotMessage) -> None:
        self.latest[message.chat_id] = message
        self.waiters[message.chat_id].set()

    def _new(self, chat_id: int, text: str, markup: dict[str, Any] | None,
             kind: str = "text", file_name: str | None = None,
             file_ref: str | None = None) -> BotMessage:
        message = super()._new(chat_id, text, markup, kind, file_name, file_ref)
        # Under load nobody reads history; keeping every message would only grow memory.
        self.sent.clear()
        self._answered(message)
        return message

    async def _api_editMessageText(self, form: dict[str, Any]) -> dict[str, Any]:
        result = await super()._api_editMessageText(form)
        self._answered(self.messages[(int(form["chat_id"]), int(form["message_id"]))])
        return result

    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        self.calls.clear()  # the list of calls is for tests; here it would only grow
        return super()._push(update)

    async def reply(self, chat_id: int, needle: str, pushed_at: float,
                    within: float = 60.0) -> tuple[BotMessage, float]:
        """The bot's message in the chat containing ``needle`` (sent or edited after the
        update was pushed) and the seconds from the push to the bot's first answer."""
        first: float | None = None
        deadline = pushed_at + within
        event = self.waiters[chat_id]
        while True:
            message = self.latest.get(chat_id)
            if message is not None and event.is_set():
                first = first or time.perf_counter()
                if needle in message.text:
                    event.clear()
                    return message, first - pushed_at
                event.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                text = message.text[:200] if message else None
                raise TimeoutError(f"chat {chat_id}: no reply with {needle!r}; last {text!r}")
            try:
                await asyncio.wait_for(event.wait(), timeout=left)
            except TimeoutError:
                continue
