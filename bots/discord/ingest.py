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


def message_turn(message: discord.Message) -> Turn | None:
    """A direct message: text (or a command typed as text) or an attachment."""
    if message.author.bot or message.guild is not None:
        return None
    base = _base(message.author, message.channel.id, True)
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
    command = parse_command_line(text)
    if command is not None:
        return Turn(**base, command=command[0], args=command[1])  # type: ignore[arg-type]
    return Turn(**base, text=text)  # type: ignore[arg-type]
