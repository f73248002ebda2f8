"""Conversational flows: declared once as steps, state kept in the database.

Each prompt gets a fresh nonce, so only the newest menu's buttons work: a double click
or an old menu gets a polite "expired" answer instead of acting twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.conversation import clear_conversation, find_conversation, save_conversation
from core.models import Conversation
from handlers import payload, texts
from handlers.context import Ctx
from handlers.reply import MAX_PER_ROW, MAX_ROWS, Button, Reply
from handlers.turn import Attachment, parse_id

CANCEL_VALUE = "x"


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Prompt:
    text: str
    rows: tuple[tuple[Choice, ...], ...] = ()
    links: tuple[Button, ...] = ()  # URL buttons shown in a final row
    cancel: bool = True
    pre: str = ""  # a monospaced block (a calendar grid)


@dataclass(frozen=True)
class Input:
    """A click (``value``) or typed text; typing a label or number counts as a click."""

    value: str | None = None
    text: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Next:
    note: str | None = None


@dataclass(frozen=True)
class Goto:
    step: str
    note: str | None = None


@dataclass(frozen=True)
class Reject:
    """Stay on this step, say why, ask again."""

    note: str


@dataclass(frozen=True)
class Stay:
    """Ask this step again (pagination, toggles)."""

    note: str | None = None


@dataclass(frozen=True)
class Finish:
    replies: tuple[Reply, ...]
    then: str | None = None  # a command line to run next, e.g. "book 3"


@dataclass(frozen=True)
class Cancel:
    note: str = texts.FLOW_CANCELLED


Outcome = Next | Goto | Reject | Stay | Finish | Cancel
Asker = Callable[[Ctx], Awaitable[Prompt]]
Consumer = Callable[[Ctx, Input], Awaitable[Outcome]]


@dataclass(frozen=True)
class Step:
    name: str
    ask: Asker
    on_input: Consumer
    skip: Callable[[Ctx], bool] | None = None
    free_text: bool = False  # typed numbers are text here, not choice numbers


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    # Reads command arguments into ctx.data; may answer at once by returning a Finish.
    start: Callable[[Ctx, str], Awaitable[Finish | None]] | None = None
    title: str = ""  # what the person was doing, for "Stopped booking."
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({s.name: i for i, s in enumerate(self.steps)})
        if len(self._index) != len(self.steps):
            raise ValueError(f"flow {self.name}: duplicate step names")

    def index(self, name: str) -> int:
        return self._index[name]


@dataclass
class FlowResult:
    replies: list[Reply]
    then: str | None = None


def _match(conv: Conversation, text: str, free_text: bool) -> str | None:
    """The choice value a typed text means, if any."""
    wanted = " ".join(text.split()).casefold()
    choices = conv.choices or []
    number = parse_id(wanted) if not free_text else None
    if number is not None and number <= len(choices):
        return choices[number - 1][1]
    for label, value in choices:
        if label.casefold() == wanted or _plain(label).casefold() == wanted:
            return value
    return None


def _plain(label: str) -> str:
    """A label without a leading emoji or arrow, so 'Cancel' matches '✖ Cancel'."""
    head, _, rest = label.partition(" ")
    return rest if rest and not head.isalnum() else label


def _render(
    prompt: Prompt, nonce: str, note: str | None, replace: bool, takes_text: bool = False
) -> tuple[Reply, list[list[str]]]:
    rows: list[list[Choice]] = [list(r) for r in prompt.rows if r]
    if prompt.cancel:
        cancel = Choice(texts.CANCEL_LABEL, CANCEL_VALUE)
        if rows and len(rows[-1]) < MAX_PER_ROW and len(rows) == MAX_ROWS - bool(prompt.links):
            rows[-1].append(cancel)
        else:
            rows.append([cancel])
    choices = [[c.label, c.value] for row in rows for c in row]
    buttons = [
        tuple(Button(c.label, action=payload.flow_choice(nonce, c.value)) for c in row)
        for row in rows
    ]
    if prompt.links:
        buttons.append(tuple(prompt.links))
    text = f"{note}\n\n{prompt.text}" if note else prompt.text
    return Reply(text, tuple(buttons), replace=replace, pre=prompt.pre,
                 takes_text=takes_text), choices


class FlowEngine:
    def __init__(self, flows: dict[str, Flow]) -> None:
        self.flows = flows

    async def begin(
        self, ctx: Ctx, flow: Flow, args: str, seed: dict[str, str] | None = None
    ) -> FlowResult:
        ctx.data = dict(seed or {})
        if flow.start is not None:
            early = await flow.start(ctx, args)
            if early is not None:
                return await self._apply(ctx, flow, 0, early)
        return await self._ask_from(ctx, flow, 0, note=None)

    async def resume(self, ctx: Ctx, conv: Conversation, inp: Input) -> FlowResult:
        flow = self.flows.get(conv.flow)
        if flow is None or conv.step not in flow._index:
            await clear_conversation(ctx.uow, ctx.turn.key)
            return FlowResult([Reply(texts.MENU_EXPIRED, tone="warning")])
        step = flow.steps[flow.index(conv.step)]
        ctx.data = dict(conv.data or {})
        if inp.value is None and inp.text is not None:
            inp = Input(value=_match(conv, inp.text, step.free_text), text=inp.text)
        if inp.value == CANCEL_VALUE:
            await clear_conversation(ctx.uow, ctx.turn.key)
            return FlowResult([Reply(texts.FLOW_CANCELLED, replace=ctx.clicked)])
        outcome = await step.on_input(ctx, inp)
        return await self._apply(ctx, flow, flow.index(conv.step), outcome)

    async def _apply(self, ctx: Ctx, flow: Flow, at: int, outcome: Outcome) -> FlowResult:
        if isinstance(outcome, Finish):
            await clear_conversation(ctx.uow, ctx.turn.key)
            return FlowResult(list(outcome.replies), outcome.then)
        if isinstance(outcome, Cancel):
            await clear_conversation(ctx.uow, ctx.turn.key)
            return FlowResult([Reply(outcome.note, replace=ctx.clicked)])
        if isinstance(outcome, Next):
            return await self._ask_from(ctx, flow, at + 1, outcome.note)
        if isinstance(outcome, Goto):
            return await self._ask_from(
                ctx, flow, flow.index(outcome.step), outcome.note, honour_skip=False
            )
        if isinstance(outcome, Reject):
            return await self._ask(ctx, flow, flow.steps[at], f"⚠️ {outcome.note}")
        return await self._ask(ctx, flow, flow.steps[at], outcome.note)

    async def _ask_from(
        self, ctx: Ctx, flow: Flow, at: int, note: str | None, honour_skip: bool = True
    ) -> FlowResult:
        while at < len(flow.steps):
            step = flow.steps[at]
            if honour_skip and step.skip is not None and step.skip(ctx):
                at += 1
                continue
            return await self._ask(ctx, flow, step, note)
        await clear_conversation(ctx.uow, ctx.turn.key)  # pragma: no cover - flows Finish
        return FlowResult([Reply(note or texts.DONE)])  # pragma: no cover

    async def _ask(self, ctx: Ctx, flow: Flow, step: Step, note: str | None) -> FlowResult:
        prompt = await step.ask(ctx)
        nonce = payload.new_nonce()
        reply, choices = _render(prompt, nonce, note, replace=ctx.clicked,
                                 takes_text=step.free_text)
        await save_conversation(
            ctx.uow,
            ctx.turn.key,
            flow=flow.name,
            step=step.name,
            nonce=nonce,
            data=ctx.data,
            choices=choices,
        )
        return FlowResult([reply])


async def find_active(ctx: Ctx) -> Conversation | None:
    return await find_conversation(ctx.uow, ctx.turn.key)
