"""Discord interactions and direct messages → Turns."""

from __future__ import annotations

import discord

from handlers.turn import Attachment, Turn, parse_command_line

PLATFORM = "discord"


def _base(user: discord.abc.User, channel_id: int | None, direct: bool) -> dict[str, object]:
    return {
        "platform": PLATFORM,
        "chat_key": str(channel_id or user.id),
        "user_key": str(user.id),
        "display_name": user.display_name[:64],
        "direct": direct,
    }


def command_turn(interaction: discord.Interaction, name: str, args: str) -> Turn:
    direct = interaction.guild_id is None
    return Turn(
        **_base(interaction.user, interaction.channel_id, direct),  # type: ignore[arg-type]
        command=name,
        args=args.strip(),
    )


def action_turn(interaction: discord.Interaction, payload: str) -> Turn:
    direct = interaction.guild_id is None
    return Turn(
        **_base(interaction.user, interaction.channel_id, direct),  # type: ignore[arg-type]
        action=payload,
    )


def _in_room(message: discord.Message, session_channel_id: int) -> bool:
    channel = message.channel
    return (bool(session_channel_id) and isinstance(channel, discord.Thread)
            and channel.parent_id == session_channel_id)


def message_turn(message: discord.Message, session_channel_id: int = 0) -> Turn | None:
    """A direct message (text, a command typed as text, or an attachment), or a message in
    a session's private thread under ``session_channel_id``."""
    if message.author.bot:
        return None
    room = _in_room(message, session_channel_id)
    if message.guild is not None and not room:
        return None
    base = _base(message.author, message.channel.id, not room)
    if room:
        base["room"] = str(message.channel.id)
    if message.attachments:
        item = message.attachments[0]
        kind = "photo" if (item.content_type or "").startswith("image/") else "document"
        return Turn(
            **base,
            attachment=Attachment(
                kind,
                item.url,
                item.filename,  # type: ignore[arg-type]
                item.content_type or "",
                item.size,
            ),
        )
    text = message.content.strip()
    if not text:
        return None
    command = None if room else parse_command_line(text)
    if command is not None:
        return Turn(**base, command=command[0], args=command[1])  # type: ignore[arg-type]
    return Turn(**base, text=text)  # type: ignore[arg-type]
