"""Replies → Discord message parts: escaped text, buttons that survive restarts."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from handlers.reply import Button, Reply

NO_PINGS = discord.AllowedMentions.none()


class PayloadButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"v1:(?P<rest>.+)"):
    """A button whose custom_id is our payload; found again from the id after a restart."""

    def __init__(self, payload: str, label: str = "…", row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=payload, row=row, style=discord.ButtonStyle.secondary
            )
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PayloadButton:
        return cls(f"v1:{match['rest']}")

    async def callback(self, interaction: discord.Interaction) -> None:
        on_press = getattr(interaction.client, "on_payload", None)
        if on_press is not None:
            await on_press(interaction, self.payload)


def text_of(reply: Reply) -> str:
    """Handlers emit plain text: anything that looks like markdown is shown literally."""
    text = discord.utils.escape_markdown(reply.text)
    # Inside a code block nothing is markdown, so the grid needs no escaping; only fences.
    return f"{text}\n```\n{reply.pre.replace('`', 'ʼ')}\n```" if reply.pre else text


def view_of(reply: Reply) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    rows = reply.buttons
    if reply.shared is not None:  # a Discord attachment is passed on as its link
        rows = ((Button(f"📎 {reply.shared.name}"[:80], url=reply.shared.ref),), *rows)
    for row, buttons in enumerate(rows):
        for b in buttons:
            if b.url is not None:
                view.add_item(discord.ui.Button(label=b.label, url=b.url, row=row))
            else:
                assert b.action is not None
                view.add_item(PayloadButton(b.action, b.label, row=row))
    return view


def parts(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for send/edit calls."""
    kwargs: dict[str, Any] = {
        "content": text_of(reply),
        "allowed_mentions": NO_PINGS,
        "view": view_of(reply),
    }
    if reply.image is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.image), "image.png")
    elif reply.file is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.file), reply.file_name or "file")
    return kwargs
