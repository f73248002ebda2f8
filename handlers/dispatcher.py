"""One entry point for every surface: a Turn in, Replies out, one transaction per turn."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from sqlalchemy.orm.exc import StaleDataError

from core.account import ensure_user
from core.conversation import clear_conversation
from core.errors import DomainError
from core.inbox import claim_update
from core.metrics import Metrics, counting
from core.outage import is_outage, log_failure
from core.uow import Database
from handlers import payload, texts
from handlers.context import Ctx
from handlers.flow import Flow, FlowEngine, FlowResult, Input, find_active
from handlers.registry import Command, Registry
from handlers.reply import Reply
from handlers.session_room import room_message
from handlers.turn import Turn, parse_command_line

log = logging.getLogger("alphapeer.dispatch")
ONBOARDING = "start"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        extra_flows: dict[str, Flow] | None = None,
        after_commit: Callable[[], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        self.registry = registry
        self.engine = FlowEngine({**registry.flows(), **(extra_flows or {})})
        # Called when a committed turn queued messages for others (wakes the courier).
        self.after_commit = after_commit
        # Receipts of turns answered (say, "try again") but not yet marked handled, because
        # the database was away: settle_answered marks them once it is back.
        self.unsettled: set[int] = set()

    async def handle(self, turn: Turn) -> list[Reply]:
        """Handle one turn; never raises, never shows a traceback."""
        started = time.perf_counter()
        with counting() as statements:
            replies = await self._handle(turn)
        metrics = self.metrics
        metrics.turns += 1
        metrics.turn_statements.observe(statements[0])
        metrics.turn_seconds.observe(time.perf_counter() - started)
        return replies

    async def _handle(self, turn: Turn) -> list[Reply]:
        try:
            async with self.db.uow() as uow:
                if turn.receipt is not None and not await claim_update(uow, turn.receipt):
                    return []  # delivered again after it was handled: nothing to do
                user = await ensure_user(uow, turn.platform, turn.user_key, turn.display_name,
                                         turn.key)
                replies = await self._route(Ctx(uow, user, turn, registry=self.registry))
                queued = uow.notifications
            if queued and self.after_commit is not None:
                self.after_commit()
            return replies
        except DomainError as exc:
            await self._settle(turn)
            return [Reply(exc.user_message, tone="warning", private=True)]
        except StaleDataError:  # another turn moved this menu on first (a double click)
            await self._settle(turn)
            return [Reply(texts.MENU_EXPIRED, tone="warning", private=True)]
        except Exception as exc:
            if is_outage(exc):  # down, restarting, connections cut, pool exhausted
                log.warning("database unavailable: %s", exc)
                return self._unavailable(turn)
            await self._settle(turn)
            return [self._incident(turn)]

    async def _settle(self, turn: Turn) -> None:
        """A turn that was answered but rolled back still counts as handled (no replay loop)."""
        if turn.receipt is None:
            return
        try:
            async with self.db.uow() as uow:
                await claim_update(uow, turn.receipt)
        except Exception as exc:  # settle_answered tries again; the user has an answer
            log_failure(log, f"could not mark update {turn.receipt} handled", exc)
            self.unsettled.add(turn.receipt)

    def _unavailable(self, turn: Turn) -> list[Reply]:
        if turn.receipt is not None:  # told to try again: handled, not to be replayed
            self.unsettled.add(turn.receipt)
        return [Reply(texts.DB_UNAVAILABLE, tone="warning", private=True)]

    async def settle_answered(self) -> None:
        """Mark handled the turns answered while the database was away (raises while it
        still is), so a replay sweep does not answer them a second time."""
        for receipt in sorted(self.unsettled):
            async with self.db.uow() as uow:
                await claim_update(uow, receipt)
            self.unsettled.discard(receipt)

    def _incident(self, turn: Turn) -> Reply:
        self.metrics.errors += 1
        incident = secrets.token_hex(4)
        log.exception(
            "incident %s handling %s turn from %s", incident, turn.platform, turn.user_key
        )
        return Reply(texts.APOLOGY.format(incident=incident), tone="error", private=True)

    async def _route(self, ctx: Ctx) -> list[Reply]:
        turn = ctx.turn
        if turn.room is not None:
            return await room_message(ctx, turn.room)
        if turn.command is not None:
            return await self._command(ctx, turn.command, turn.args)
        if turn.action is not None:
            return await self._action(ctx, turn.action)
        conv = await find_active(ctx)
        if conv is not None:
            inp = Input(text=turn.text, attachment=turn.attachment)
            return await self._finish(ctx, await self.engine.resume(ctx, conv, inp))
        if ctx.user.onboarded_at is None:
            return await self._command(ctx, ONBOARDING, "")
        if turn.text is not None:
            line = parse_command_line(turn.text.strip())
            if line is not None:  # a command typed where the platform didn't parse it
                return await self._command(ctx, *line)
            return [Reply(texts.NOT_UNDERSTOOD)]
        return [Reply(texts.NO_FILES_HERE)]

    async def _command(self, ctx: Ctx, name: str, args: str) -> list[Reply]:
        command = self.registry.get(name)
        if command is None:
            return [Reply(texts.UNKNOWN_COMMAND.format(name=name[:32]), tone="warning")]
        if not command.allowed(ctx.user.role_names):
            return [Reply(texts.NOT_FOR_YOU.format(name=name), tone="warning")]
        if name == "cancel" and ctx.turn.command is not None and not args.strip():
            conv = await find_active(ctx)
            if conv is not None:  # /cancel first leaves whatever flow is running
                await clear_conversation(ctx.uow, ctx.turn.key)
                flow = self.engine.flows.get(conv.flow)
                what = flow.title if flow and flow.title else "what you were doing"
                return [Reply(texts.FLOW_STOPPED_HINT.format(what=what))]
        if command.needs_onboarding and ctx.user.onboarded_at is None:
            line = f"{name} {args}".strip()
            return await self._run(ctx, self._onboarding(), "", seed={"then": line})
        return await self._run(ctx, command, args)

    def _onboarding(self) -> Command:
        command = self.registry.get(ONBOARDING)
        assert command is not None, "the registry must define /start"
        return command

    async def _run(
        self, ctx: Ctx, command: Command, args: str, seed: dict[str, str] | None = None
    ) -> list[Reply]:
        if command.flow is not None:
            result = await self.engine.begin(ctx, command.flow, args, seed)
            return await self._finish(ctx, result)
        assert command.handler is not None
        return await command.handler(ctx, args)

    async def _finish(self, ctx: Ctx, result: FlowResult) -> list[Reply]:
        replies = list(result.replies)
        if result.then:
            line = parse_command_line("/" + result.then)
            if line is not None:
                replies += await self._command(ctx, *line)
        return replies

    async def _action(self, ctx: Ctx, raw: str) -> list[Reply]:
        parsed = payload.decode(raw)
        if parsed is None:
            return [Reply(texts.BUTTON_INVALID, tone="warning", private=True)]
        if parsed.kind == payload.COMMAND:
            return await self._command(ctx, parsed.tag, parsed.data)
        conv = await find_active(ctx)
        known = conv is not None and any(v == parsed.data for _, v in conv.choices or [])
        if conv is None or conv.nonce != parsed.tag or not known:
            return [Reply(texts.MENU_EXPIRED, tone="warning", private=True)]
        result = await self.engine.resume(ctx, conv, Input(value=parsed.data))
        return await self._finish(ctx, result)
