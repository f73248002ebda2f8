"""The Telegram surface: receive (long polling or webhook) → store → handle → render."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bots.telegram.ingest import ALLOWED_UPDATES, PLATFORM, to_turn
from bots.telegram.ratelimit import ChatRateLimiter
from bots.telegram.render import deliver
from core.account import list_external_ids_with_role
from core.config import Settings
from core.inbox import claim_update, list_unhandled, store_updates
from core.metrics import counting
from core.outage import log_failure
from core.uow import Database
from handlers import texts
from handlers.dispatcher import Dispatcher
from handlers.registry import Registry
from handlers.reply import Reply

log = logging.getLogger("alphapeer.telegram")
POLL_SECONDS = 25
REPLAY_AFTER = timedelta(seconds=60)  # unhandled this long: its worker died; handle it here
REPLAY_AT_MOST = timedelta(minutes=10)  # older than this: answering now would only confuse
TOAST_LIMIT = 200
ANSWERED_KEPT = 10_000
STORE_RETRY_MAX = 5.0  # seconds between tries to store updates while the database is away


def webhook_secret(secret_key: str) -> str:
    """The X-Telegram-Bot-Api-Secret-Token value, derived so it needs no setting of its own."""
    return hmac.new(secret_key.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()


class TelegramSurface:
    platform = PLATFORM

    def __init__(self, settings: Settings, db: Database, dispatcher: Dispatcher,
                 registry: Registry) -> None:
        self.settings = settings
        self.db = db
        self.dispatcher = dispatcher
        self.registry = registry
        self.bot: ExtBot[None] = ExtBot(
            settings.secrets.telegram_token, base_url=settings.telegram.base_url,
            request=HTTPXRequest(connection_pool_size=32),
            get_updates_request=HTTPXRequest(connection_pool_size=1,
                                             read_timeout=POLL_SECONDS + 10),
            # Telegram's own limits; a load test against a stand-in turns them off.
            rate_limiter=ChatRateLimiter() if settings.telegram.rate_limit else None)
        self.secret = webhook_secret(settings.secrets.secret_key)
        self._background: set[asyncio.Task[None]] = set()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        # Inbox rows this process answered (the newest ANSWERED_KEPT): the start-up replay
        # runs beside polling, so one row can be on its way here twice.
        self._answered: dict[int, None] = {}
        self._loops: list[asyncio.Task[None]] = []

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.bot.initialize()  # getMe: a wrong token fails here, at start-up
        await self._set_commands()
        if self.settings.telegram.mode == "webhook":
            url = self.settings.web.public_url.rstrip("/") + self.settings.telegram.webhook_path
            await self.bot.set_webhook(url, secret_token=self.secret,
                                       allowed_updates=list(ALLOWED_UPDATES))
        else:
            await self.bot.delete_webhook()
            self._loops.append(asyncio.create_task(self._poll(), name="telegram-poll"))
        await self.replay(older_than=timedelta(0))
        self._loops.append(asyncio.create_task(self._replay_forever(), name="telegram-replay"))
        log.info("Telegram surface started as @%s (%s)", self.bot.username,
                 self.settings.telegram.mode)

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.drain(within=10)
        await self.bot.shutdown()

    async def drain(self, within: float | None = None) -> None:
        """Wait for the updates being handled now (graceful stop; tests)."""
        while self._background:
            done, _ = await asyncio.wait(set(self._background), timeout=within)
            if not done:
                return

    async def _set_commands(self) -> None:
        public = [BotCommand(c.name, c.description) for c in self.registry.visible()
                  if c.roles is None]
        await self.bot.set_my_commands(public, scope=BotCommandScopeDefault())
        # Telegram scopes menus per chat, so people with extra roles get their own menu.
        for role in sorted({r for c in self.registry.all() if c.roles for r in c.roles}):
            commands = [BotCommand(c.name, c.description)
                        for c in self.registry.for_roles(frozenset({role}))]
            async with self.db.uow() as uow:
                chats = await list_external_ids_with_role(uow, PLATFORM, role, limit=200)
            for chat in chats:
                with contextlib.suppress(TelegramError, ValueError):
                    await self.bot.set_my_commands(commands,
                                                   scope=BotCommandScopeChat(int(chat)))

    # --- receiving ---------------------------------------------------------------------

    async def _poll(self) -> None:
        offset: int | None = None
        delay = store_delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_SECONDS, allowed_updates=list(ALLOWED_UPDATES),
                    read_timeout=POLL_SECONDS + 10)
            except (InvalidToken, Forbidden):
                log.exception("Telegram refused our token; polling stops")
                return
            except NetworkError as exc:
                log.warning("Telegram polling failed (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)
                continue
            delay = 1.0
            if not updates:
                continue
            try:
                # Stored before the next getUpdates acknowledges them to Telegram.
                await self.receive([u.to_dict() for u in updates])
            except Exception as exc:
                # Not stored, so not acknowledged: the same offset fetches them again.
                log_failure(log, f"could not store {len(updates)} Telegram updates", exc)
                await asyncio.sleep(store_delay)
                store_delay = min(store_delay * 2, STORE_RETRY_MAX)
                continue
            store_delay = 1.0
            offset = updates[-1].update_id + 1

    async def receive(self, payloads: list[dict[str, Any]]) -> None:
        """Store updates (committed), then handle the new ones in the background."""
        valid = [p for p in payloads if isinstance(p.get("update_id"), int)]
        with counting() as statements:
            async with self.db.uow() as uow:
                new = await store_updates(uow, PLATFORM, [(p["update_id"], p) for p in valid])
        for _ in valid:  # one statement stores a whole batch: each update's share
            self.dispatcher.metrics.inbox_statements.observe(statements[0] / len(valid))
        by_id = {p["update_id"]: p for p in valid}
        for row_id, update_id in new:
            self._spawn(self._handle(row_id, by_id[update_id]))
        if self.dispatcher.unsettled:  # the database answers again
            self._spawn(self._settle())

    async def _settle(self) -> None:
        try:
            await self.dispatcher.settle_answered()
        except Exception as exc:
            log_failure(log, "could not mark answered Telegram updates handled", exc)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def replay(self, *, older_than: timedelta) -> int:
        """Handle stored updates that never were (a crash came between)."""
        await self.dispatcher.settle_answered()  # answered "try again": not to be replayed
        async with self.db.uow() as uow:
            rows = await list_unhandled(uow, PLATFORM, older_than=older_than)
            stale = [r.id for r in rows if r.received_at < uow.clock.now() - REPLAY_AT_MOST]
            for row_id in stale:
                await claim_update(uow, row_id)
        if stale:
            log.warning("skipped %d Telegram updates too old to answer", len(stale))
        fresh = [r for r in rows if r.id not in set(stale)]
        for row in fresh:
            await self._handle(row.id, row.payload)
        return len(fresh)

    async def _replay_forever(self) -> None:
        while True:
            await asyncio.sleep(REPLAY_AFTER.total_seconds())
            try:
                await self.replay(older_than=REPLAY_AFTER)
            except Exception as exc:
                log_failure(log, "Telegram replay round failed", exc)

    # --- handling ----------------------------------------------------------------------

    async def _handle(self, row_id: int, payload: dict[str, Any]) -> None:
        update = Update.de_json(payload, self.bot)
        turn = to_turn(update, receipt=row_id)
        if turn is None:
            try:
                async with self.db.uow() as uow:
                    await claim_update(uow, row_id)
            except Exception as exc:  # the replay sweep will see it again
                log_failure(log, f"could not mark update {update.update_id} handled", exc)
            return
        lock = self._chat_locks.setdefault(turn.chat_key, asyncio.Lock())
        async with lock:  # one chat's updates in order; different chats in parallel
            if row_id in self._answered:
                return  # a replay met the poll: answering twice would fail at Telegram
            replies = await self.dispatcher.handle(turn)
            self._answered[row_id] = None
            if len(self._answered) > ANSWERED_KEPT:
                del self._answered[next(iter(self._answered))]
            try:
                await self._answer(update, replies)
            except TelegramError:
                log.exception("could not answer Telegram update %s", update.update_id)
                with contextlib.suppress(TelegramError):
                    await self.bot.send_message(int(turn.chat_key), texts.APOLOGY.format(
                        incident=f"tg-{update.update_id}"))
        if len(self._chat_locks) > 10_000:
            self._chat_locks = {k: v for k, v in self._chat_locks.items() if v.locked()}

    async def _answer(self, update: Update, replies: list[Reply]) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert chat is not None
        if query is None:
            await deliver(self.bot, chat.id, replies)
            return
        toast = None
        if (len(replies) == 1 and replies[0].private and not replies[0].buttons
                and len(replies[0].text) <= TOAST_LIMIT):
            toast, replies = replies[0], []
        # Every callback is answered, or the user's button keeps spinning.
        await self.bot.answer_callback_query(
            query.id, text=toast.text if toast else None,
            show_alert=bool(toast and toast.tone in ("warning", "error")))
        message = query.message
        await deliver(self.bot, chat.id, replies,
                      edit_message_id=message.message_id if message else None)

    async def send(self, external_id: str, reply: Reply) -> None:
        """Outbox sender: a message to someone who is not in this turn."""
        await deliver(self.bot, int(external_id), [reply])
