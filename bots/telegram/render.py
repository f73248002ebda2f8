"""Replies → Bot API calls: HTML-escaped text, inline keyboards, edits in place."""

from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import ExtBot

from handlers.reply import Reply

log = logging.getLogger("alphapeer.telegram")
HTML = ParseMode.HTML


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.label, url=b.url) if b.url is not None
         else InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
        for row in reply.buttons])


def chunks(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Escaped pieces of at most ``limit`` characters, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(escape(candidate, quote=False)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(escape(line, quote=False)) > limit:
            cut = limit // 6  # worst case: every character escapes to six
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    pieces.append(current)
    return [escape(p, quote=False) for p in pieces if p]


async def _edit(bot: ExtBot[None], chat_id: int, message_id: int, reply: Reply) -> bool:
    """Edit the menu in place; False when it has to be sent as a new message instead."""
    try:
        text = escape(reply.text, quote=False)
        if reply.pre:
            text += f"\n<pre>{escape(reply.pre, quote=False)}</pre>"
        await bot.edit_message_text(text, chat_id=chat_id,
                                    message_id=message_id, parse_mode=HTML,
                                    reply_markup=markup(reply))
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True  # the same menu again (a repeated click): nothing to change
        log.info("could not edit message %s in %s (%s); sending anew", message_id, chat_id, exc)
        return False
    return True


async def deliver(bot: ExtBot[None], chat_id: int, replies: list[Reply], *,
                  edit_message_id: int | None = None) -> list[Message]:
    """Send replies in order; the first one that replaces a menu edits ``edit_message_id``."""
    sent: list[Message] = []
    for reply in replies:
        keyboard = markup(reply)
        if reply.shared is not None:  # a Telegram file id: sent again without a download
            caption = chunks(reply.text, MessageLimit.CAPTION_LENGTH)[0]
            send = bot.send_photo if reply.shared.kind == "photo" else bot.send_document
            sent.append(await send(chat_id, reply.shared.ref, caption=caption,
                                   parse_mode=HTML, reply_markup=keyboard))
            continue
        if reply.image is not None or reply.file is not None:
            caption = chunks(reply.text, MessageLimit.CAPTION_LENGTH)[0]
            if reply.image is not None:
                sent.append(await bot.send_photo(chat_id, reply.image, caption=caption,
                                                 parse_mode=HTML, reply_markup=keyboard))
            else:
                document = InputFile(reply.file or b"", filename=reply.file_name or "file")
                sent.append(await bot.send_document(chat_id, document, caption=caption,
                                                    parse_mode=HTML, reply_markup=keyboard))
            continue
        if reply.replace and edit_message_id is not None:
            target, edit_message_id = edit_message_id, None
            if await _edit(bot, chat_id, target, reply):
                continue
        parts = chunks(reply.text)
        if reply.pre:
            parts[-1] += f"\n<pre>{escape(reply.pre, quote=False)}</pre>"
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            sent.append(await bot.send_message(chat_id, part, parse_mode=HTML,
                                               reply_markup=keyboard if last else None))
    return sent
