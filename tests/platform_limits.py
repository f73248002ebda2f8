"""What Telegram and Discord would refuse, checked on what the real renderers would send."""

from __future__ import annotations

import html
import re
from typing import Any

from telegram import InlineKeyboardMarkup

from bots.discord import render as discord_render
from bots.telegram import render as telegram_render
from handlers.reply import Reply

TELEGRAM_TEXT = 4096  # characters of a message after entity parsing (UTF-16 code units)
TELEGRAM_CAPTION = 1024
TELEGRAM_CALLBACK_BYTES = 64
TELEGRAM_BUTTONS = 100  # an inline keyboard holds at most 100 buttons
DISCORD_TEXT = 2000
DISCORD_ROWS = 5
DISCORD_PER_ROW = 5
DISCORD_LABEL = 80
DISCORD_CUSTOM_ID = 100
DISCORD_URL = 512
_PRE_TAG = re.compile(r"</?pre>")


class RecordingBot:
    """Stands in for PTB's ExtBot: records what ``deliver`` would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, InlineKeyboardMarkup | None]] = []

    async def send_message(self, chat_id: int, text: str, **kw: Any) -> None:
        self.sent.append(("text", text, kw.get("reply_markup")))

    async def edit_message_text(self, text: str, **kw: Any) -> None:
        self.sent.append(("text", text, kw.get("reply_markup")))

    async def send_photo(self, chat_id: int, photo: Any, **kw: Any) -> None:
        self.sent.append(("caption", kw.get("caption") or "", kw.get("reply_markup")))

    async def send_document(self, chat_id: int, document: Any, **kw: Any) -> None:
        self.sent.append(("caption", kw.get("caption") or "", kw.get("reply_markup")))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def telegram_problems(replies: list[Reply], *, pressed: bool) -> list[str]:
    """Why the Bot API would refuse what ``deliver`` sends for these replies (none: fine)."""
    bot = RecordingBot()
    await telegram_render.deliver(bot, 1, replies,  # type: ignore[arg-type]
                                  edit_message_id=1 if pressed else None)
    problems = []
    for kind, sent, keyboard in bot.sent:
        shown = html.unescape(_PRE_TAG.sub("", sent))
        limit = TELEGRAM_TEXT if kind == "text" else TELEGRAM_CAPTION
        if kind == "text" and not shown.strip():
            problems.append(f"telegram: an empty message {sent!r}")
        if _utf16(shown) > limit:
            problems.append(f"telegram: {kind} of {_utf16(shown)} > {limit}: {sent[:80]!r}")
        if "<" in _PRE_TAG.sub("", sent) or ">" in _PRE_TAG.sub("", sent):
            problems.append(f"telegram: unescaped markup in {sent[:80]!r}")
        buttons = [b for row in keyboard.inline_keyboard for b in row] if keyboard else []
        if len(buttons) > TELEGRAM_BUTTONS:
            problems.append(f"telegram: {len(buttons)} buttons")
        for b in buttons:
            data = b.callback_data
            if not b.text or (data is not None and not
                              1 <= len(str(data).encode()) <= TELEGRAM_CALLBACK_BYTES):
                problems.append(f"telegram: button {b.text!r} with callback_data {data!r}")
    return problems


def discord_problems(reply: Reply) -> list[str]:
    """Why Discord would refuse the messages ``render.messages`` builds (none: fine)."""
    try:
        sends = discord_render.messages(reply)
    except ValueError as exc:  # discord.py refuses a view that doesn't fit
        return [f"discord: could not render: {exc}"]
    problems = []
    for kwargs in sends:
        content: str = kwargs["content"]
        if not content.strip() or len(content) > DISCORD_TEXT:
            problems.append(f"discord: content of {len(content)}: {content[:80]!r}")
    rows = sends[-1]["view"].to_components()
    # The app adds a row of its own ("Open the thread") above a reply that opens a room.
    if len(rows) + (reply.open_room is not None) > DISCORD_ROWS:
        problems.append(f"discord: {len(rows)} rows of buttons")
    for row in rows:
        if len(row["components"]) > DISCORD_PER_ROW:
            problems.append(f"discord: {len(row['components'])} buttons in a row")
        for b in row["components"]:
            if not 1 <= len(b.get("label") or "") <= DISCORD_LABEL:
                problems.append(f"discord: label {b.get('label')!r}")
            if len(b.get("custom_id", "")) > DISCORD_CUSTOM_ID:
                problems.append(f"discord: custom_id {b['custom_id']!r}")
            if len(b.get("url", "")) > DISCORD_URL:
                problems.append(f"discord: url of {len(b['url'])} characters")
    return problems


async def platform_problems(replies: list[Reply], *, pressed: bool) -> list[str]:
    """Everything either platform would refuse in these replies."""
    problems = await telegram_problems(replies, pressed=pressed)
    for reply in replies:
        problems += discord_problems(reply)
    return problems
