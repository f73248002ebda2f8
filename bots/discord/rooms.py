"""Private Discord threads for sessions: opened under the configured channel, both
participants added, remembered in the database so every process finds the same one."""

from __future__ import annotations

import logging

import discord

from bots.discord.ingest import PLATFORM
from core.models import Booking
from core.session_thread import bind_room, room_of
from core.uow import Database
from handlers.reply import RoomRequest

log = logging.getLogger("alphapeer.discord")


class SessionRooms:
    def __init__(self, client: discord.Client, db: Database, channel_id: int) -> None:
        self.client = client
        self.db = db
        self.channel_id = channel_id

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | discord.Thread | None:
        found = self.client.get_channel(channel_id)
        if found is None:
            try:
                fetched = await self.client.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
            found = fetched if not isinstance(fetched, discord.abc.PrivateChannel) else None
        return found if not isinstance(found, discord.abc.PrivateChannel) else None

    async def _add(self, thread: discord.Thread, members: tuple[str, ...]) -> set[str]:
        added: set[str] = set()
        for key in members:
            try:
                await thread.add_user(discord.Object(id=int(key)))
                added.add(key)
            except discord.HTTPException as exc:  # not in this server: reached by DM instead
                log.info("could not add %s to thread %s: %s", key, thread.id, exc)
        return added

    async def ensure(self, request: RoomRequest) -> discord.Thread:
        """The session's thread, opened if it has none (or its thread was deleted)."""
        async with self.db.uow() as uow:
            known = await room_of(uow, request.booking_id, PLATFORM)
        if known is not None:
            thread = await self._channel(int(known.room_key))
            if isinstance(thread, discord.Thread):
                await self._remember(request, thread, await self._add(thread, request.members))
                return thread
        parent = await self._channel(self.channel_id)
        if not isinstance(parent, discord.TextChannel):
            raise LookupError(f"session channel {self.channel_id} is not a text channel")
        thread = await parent.create_thread(
            name=request.title, type=discord.ChannelType.private_thread, invitable=False)
        added = await self._add(thread, request.members)
        winner = await self._remember(request, thread, added, replacing=known is not None)
        if winner != str(thread.id):  # opened twice at once: the first one stored stays
            await thread.delete()
            other = await self._channel(int(winner))
            assert isinstance(other, discord.Thread)
            return other
        await thread.send(request.greeting, allowed_mentions=discord.AllowedMentions.none())
        return thread

    async def _remember(self, request: RoomRequest, thread: discord.Thread, added: set[str],
                        *, replacing: bool = False) -> str:
        async with self.db.uow() as uow:
            booking = await uow.session.get(Booking, request.booking_id)
            assert booking is not None
            room = await bind_room(uow, booking, PLATFORM, str(thread.id), added,
                                   replacing=replacing)
            return room.room_key
