"""Replies → Discord message parts: escaped text, buttons that survive restarts."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from handlers.reply import Button, Reply

NO_PINGS = discord.AllowedMentions.none()
MAX_CONTENT = 2000  # characters of a message's content, counted after escaping


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


def _escaped(text: str) -> str:
    return discord.utils.escape_markdown(text)


def contents(reply: Reply) -> list[str]:
    """Handlers emit plain text: anything that looks like markdown is shown literally.

    Escaping can double a text's length (one backslash per character at most), so a reply
    within our 2,000 characters may not fit one Discord message: it is then cut into pieces
    of half the limit (at line ends where possible), each of which fits once escaped."""
    # Inside a code block nothing is markdown, so the grid needs no escaping; only fences.
    block = f"```\n{reply.pre.replace('`', 'ʼ')}\n```" if reply.pre else ""
    whole = f"{_escaped(reply.text)}\n{block}" if block else _escaped(reply.text)
    if len(whole) <= MAX_CONTENT:
        return [whole]
    half = MAX_CONTENT // 2
    pieces: list[str] = []
    current = ""
    for line in reply.text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > half and len(line) <= half:  # the line starts the next piece
            pieces.append(current)
            candidate = line
        while len(candidate) > half:  # a line longer than a piece: cut where it must be
            pieces.append(candidate[:half])
            candidate = candidate[half:]
        current = candidate
    pieces.append(current)
    texts = [_escaped(p) for p in pieces if p.strip()]
    if block and len(texts[-1]) + 1 + len(block) <= MAX_CONTENT:
        texts[-1] += f"\n{block}"
    elif block:
        texts.append(block)
    return texts


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


def messages(reply: Reply) -> list[dict[str, Any]]:
    """Keyword arguments for the send calls of one reply (usually one); the last message
    carries the buttons and the file."""
    texts = contents(reply)
    kwargs: dict[str, Any] = {
        "content": texts[-1],
        "allowed_mentions": NO_PINGS,
        "view": view_of(reply),
    }
    if reply.image is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.image), "image.png")
    elif reply.file is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.file), reply.file_name or "file")
    return [{"content": t, "allowed_mentions": NO_PINGS} for t in texts[:-1]] + [kwargs]
