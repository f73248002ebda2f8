"""Telegram updates → Turns."""

from __future__ import annotations

from telegram import Update

from handlers.turn import Attachment, Turn, parse_command_line

PLATFORM = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")


def to_turn(update: Update, receipt: int | None = None) -> Turn | None:
    """The Turn this update means, or None for updates we do not act on."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    base = {"platform": PLATFORM, "chat_key": str(chat.id), "user_key": str(user.id),
            "display_name": user.full_name[:64], "direct": chat.type == "private",
            "receipt": receipt}
    query = update.callback_query
    if query is not None:
        return Turn(**base, action=query.data) if isinstance(query.data, str) else None
    message = update.message
    if message is None:
        return None
    if message.text:
        command = parse_command_line(message.text.strip())
        if command is not None:
            return Turn(**base, command=command[0], args=command[1])
        return Turn(**base, text=message.text)
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return Turn(**base, attachment=Attachment("photo", photo.file_id,
                                                   size=photo.file_size or 0))
    if message.document:
        doc = message.document
        return Turn(**base, attachment=Attachment("document", doc.file_id, doc.file_name or "",
                                                   doc.mime_type or "", doc.file_size or 0))
    return None
