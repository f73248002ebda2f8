"""User-facing wording shared across handlers (one place to review tone)."""

from __future__ import annotations

CANCEL_LABEL = "✖ Cancel"
FLOW_CANCELLED = "Stopped. Nothing was changed."
DONE = "Done."
MENU_EXPIRED = (
    "This menu has expired (a newer one replaced it, or it was already used). "
    "Nothing was changed. Send /help to start again."
)
BUTTON_INVALID = (
    "That button isn't valid any more. Nothing was changed. Send /help to see what I can do."
)
UNKNOWN_COMMAND = "I don't know /{name}. Send /help to see what I can do."
NOT_FOR_YOU = "/{name} isn't available to you."
NOT_UNDERSTOOD = (
    "I didn't catch that. Send /help to see what I can do, or /book to book a session."
)
NO_FILES_HERE = "I can't use a file here. Send /help to see what I can do."
FLOW_STOPPED_HINT = (
    "Stopped {what}. Nothing was changed.\nTo cancel a booking, send /cancel again."
)
APOLOGY = (
    "Sorry — something went wrong on our side. Nothing was charged or booked. "
    "Please try again; if it keeps happening, quote incident {incident}."
)
DB_UNAVAILABLE = (
    "We can't reach our database right now. Nothing was charged or booked. "
    "Please try again in a moment."
)

ROOM_UNAVAILABLE = ("I couldn't open a private thread for session #{booking} (the bot needs "
                    "to create private threads in the sessions channel). Use /thread "
                    "{booking} in a direct message with me instead.")
