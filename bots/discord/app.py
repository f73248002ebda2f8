"""The Discord surface: slash commands from the registry, persistent buttons, DMs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from bots.discord.ingest import PLATFORM, action_turn, command_turn, message_turn
from bots.discord.render import NO_PINGS, PayloadButton, messages
from bots.discord.rooms import SessionRooms
from core.config import Settings
from core.uow import Database
from handlers import texts
from handlers.dispatcher import Dispatcher
from handlers.registry import Command, Registry
from handlers.reply import Button, Reply

log = logging.getLogger("alphapeer.discord")


def option_name(command: Command) -> str:
    """``[booking number]`` → ``booking_number`` (slash command options are identifiers)."""
    name = re.sub(r"[^a-z0-9]+", "_", command.args_hint.strip("[]").lower()).strip("_")
    return name[:32] or "text"


class AlphaPeerClient(discord.Client):
    """A discord.py client whose every command and button goes through the dispatcher."""

    def __init__(self, dispatcher: Dispatcher, registry: Registry, guild_id: int = 0,
                 session_channel_id: int = 0) -> None:
        # Default intents: DMs carry their text without the privileged message-content intent;
        # session threads need it (enable "Message Content Intent" for the bot).
        intents = discord.Intents.default()
        intents.message_content = bool(session_channel_id)
        super().__init__(intents=intents, allowed_mentions=NO_PINGS)
        self.dispatcher = dispatcher
        self.guild_id = guild_id
        self.session_channel_id = session_channel_id
        self.rooms = (SessionRooms(self, dispatcher.db, session_channel_id)
                      if session_channel_id else None)
        self.tree = app_commands.CommandTree(self)
        for command in registry.visible():
            self.tree.add_command(self._slash(command))
        self.tree.error(self._on_tree_error)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(PayloadButton)
        if self.guild_id:  # development: a guild sync shows changes at once
            guild = discord.Object(id=self.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    def _slash(self, command: Command) -> app_commands.Command[Any, Any, None]:
        name = command.name

        if command.args_hint:

            @app_commands.rename(args=option_name(command))
            @app_commands.describe(args=command.args_hint.strip("[]").capitalize())
            async def with_args(interaction: discord.Interaction, args: str | None = None) -> None:
                await self.on_command(interaction, name, args or "")

            slash = app_commands.Command(
                name=name, description=command.description, callback=with_args
            )
        else:

            async def bare(interaction: discord.Interaction) -> None:
                await self.on_command(interaction, name, "")

            slash = app_commands.Command(name=name, description=command.description, callback=bare)
        if command.roles is not None and "admin" in command.roles:
            # Hidden from everyone but server admins; the dispatcher checks roles as well.
            slash.default_permissions = discord.Permissions(administrator=True)
            slash.guild_only = True
        return slash

    @staticmethod
    def _private(interaction: discord.Interaction) -> bool:
        """In a server only the asker sees the conversation; DMs are private anyway."""
        return interaction.guild_id is not None

    async def on_command(self, interaction: discord.Interaction, name: str, args: str) -> None:
        # Acknowledge first: Discord allows 3 seconds, a turn may need more under load.
        await interaction.response.defer(ephemeral=self._private(interaction), thinking=True)
        replies = await self._rooms_opened(
            await self.dispatcher.handle(command_turn(interaction, name, args)))
        for reply in replies or [Reply(texts.DONE)]:
            for kwargs in messages(reply):
                await interaction.followup.send(**kwargs, ephemeral=self._private(interaction))

    async def on_payload(self, interaction: discord.Interaction, payload: str) -> None:
        await interaction.response.defer()  # an update to the message whose button it was
        replies = await self._rooms_opened(
            await self.dispatcher.handle(action_turn(interaction, payload)))
        edited = False
        for reply in replies:
            sends = messages(reply)
            if (reply.replace and not edited and reply.file is None and reply.image is None
                    and len(sends) == 1):
                await interaction.edit_original_response(**sends[0])
                edited = True
                continue
            for kwargs in sends:
                await interaction.followup.send(
                    **kwargs, ephemeral=self._private(interaction) or reply.private
                )

    async def _rooms_opened(self, replies: list[Reply]) -> list[Reply]:
        """Open the private threads replies ask for, and point the asker at them."""
        ready = []
        for reply in replies:
            request = reply.open_room
            if request is None:
                ready.append(reply)
                continue
            try:
                if self.rooms is None:
                    raise LookupError("no session channel configured")
                thread = await self.rooms.ensure(request)
            except (discord.HTTPException, LookupError) as exc:
                log.warning("session thread for #%s not opened: %s", request.booking_id, exc)
                ready.append(Reply(texts.ROOM_UNAVAILABLE.format(booking=request.booking_id),
                                   tone="warning"))
                continue
            opening = (Button("🔒 Open the thread", url=thread.jump_url),)
            ready.append(replace(reply, open_room=None, buttons=(opening, *reply.buttons)))
        return ready

    async def on_message(self, message: discord.Message) -> None:
        turn = message_turn(message, self.session_channel_id)
        if turn is None:
            return
        for reply in await self.dispatcher.handle(turn):
            for kwargs in messages(reply):
                await message.channel.send(**kwargs)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("Discord command failed", exc_info=error)
        apology = texts.APOLOGY.format(incident=f"dc-{interaction.id}")
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(apology, ephemeral=True)
            else:
                await interaction.response.send_message(apology, ephemeral=True)

    async def send_direct(self, user_id: int, reply: Reply) -> None:
        """Outbox sender: a DM to someone who is not in this turn, or a post in their
        session's private thread."""
        if reply.room is not None:
            channel = (self.get_channel(int(reply.room))
                       or await self.fetch_channel(int(reply.room)))
            if not isinstance(channel, discord.Thread):
                raise LookupError(f"session thread {reply.room} is gone")
            for kwargs in messages(reply):
                await channel.send(**kwargs)
            return
        user = self.get_user(user_id) or await self.fetch_user(user_id)
        for kwargs in messages(reply):
            await user.send(**kwargs)


class DiscordSurface:
    platform = PLATFORM

    def __init__(
        self, settings: Settings, db: Database, dispatcher: Dispatcher, registry: Registry
    ) -> None:
        self.client = AlphaPeerClient(dispatcher, registry, settings.discord.guild_id,
                                      settings.discord.session_channel_id)
        self.token = settings.secrets.discord_token
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.login(self.token)
        self._task = asyncio.create_task(self.client.connect(), name="discord-gateway")
        await asyncio.wait_for(self.client.wait_until_ready(), timeout=60)
        log.info("Discord surface started as %s", self.client.user)

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
                await self._task

    async def send(self, external_id: str, reply: Reply) -> None:
        await self.client.send_direct(int(external_id), reply)
