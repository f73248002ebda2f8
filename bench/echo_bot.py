"""The baseline: a bare python-telegram-bot echo bot (``Application``, polling, one handler
for messages and one for button presses, no database), run against the same stand-in Bot API
as Alpha Peer. ``python -m bench.echo_bot BASE_URL TOKEN CONCURRENCY``."""

from __future__ import annotations

import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

NEXT = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])


async def on_message(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text, reply_markup=NEXT)


async def on_press(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None and ctx.chat_data is not None
    presses = ctx.chat_data.setdefault(query.message.message_id, 0) + 1
    ctx.chat_data[query.message.message_id] = presses
    await query.answer()
    await query.edit_message_text(f"pressed {presses}", reply_markup=NEXT)


def main() -> None:
    base_url, token, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = (Application.builder().token(token).base_url(base_url)
           .concurrent_updates(concurrency).build())
    app.add_handler(MessageHandler(filters.TEXT, on_message))
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(poll_interval=0, timeout=25, drop_pending_updates=True)


if __name__ == "__main__":
    main()
