"""What the soak tests share: ``alphapeer run`` as a real process polling the Telegram
stand-in (killed and restarted at will, each life's stderr kept), and simulated Telegram
users who send, click and wait for the bot's answer to that one update."""

from __future__ import annotations

import asyncio
import bisect
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.models import Identity, InboundUpdate, OutboxMessage
from core.uow import Database
from tests.fake_telegram import BotMessage, FakeTelegram, Refused

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://alphapeer.example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Call:
    """One call by which the bot showed something in a chat, as the stand-in received it."""

    at: float  # time.time() when the stand-in handled it
    method: str
    chat_id: int | None  # None for answerCallbackQuery (it names the query instead)
    text: str
    query_id: str | None = None
    refused: str | None = None  # the stand-in's refusal, if it refused


# The Bot API methods by which a bot answers in a chat.
VISIBLE = ("sendMessage", "sendDocument", "sendPhoto", "editMessageText",
           "editMessageReplyMarkup")


class SoakTelegram(FakeTelegram):
    """The stand-in, also keeping every answering call in order (``answers``), refused ones
    too, so each of the bot's answers can be traced to the one update it answered."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.answers: list[Call] = []
        self.polls: list[float] = []  # time.time() of each getUpdates
        for method in (*VISIBLE, "answerCallbackQuery"):
            setattr(self, f"_api_{method}", self._recorded(method))

    async def _api_getUpdates(self, form: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls.append(time.time())
        return await super()._api_getUpdates(form)

    async def wait_acknowledged(self, within: float = 20.0) -> None:
        """Until the bot acknowledged (so stored) every update queued so far."""
        newest = max((u["update_id"] for u in self.updates), default=0)
        deadline = time.monotonic() + within
        while any(u["update_id"] <= newest for u in self.updates):
            assert time.monotonic() < deadline, f"updates not fetched: {self.updates[:3]}"
            await asyncio.sleep(0.02)

    def _recorded(self, method: str) -> Any:
        api = getattr(super(), f"_api_{method}")

        async def call(form: dict[str, Any]) -> Any:
            query = form.get("callback_query_id")
            chat = None if query is not None else int(form["chat_id"])
            text = str(form.get("text") or form.get("caption") or "")
            try:
                result = await api(form)
            except Refused as exc:
                self.answers.append(Call(time.time(), method, chat, text,
                                         None if query is None else str(query), exc.description))
                raise
            if method != "answerCallbackQuery":  # the text as the user sees it (entities parsed)
                text = self.messages[(chat, int(result["message_id"]))].text  # type: ignore[index]
            self.answers.append(Call(time.time(), method, chat, text,
                                     None if query is None else str(query)))
            return result
        return call


def process_env(database_url: str, data_dir: Path, fake: FakeTelegram, web_port: int,
                **extra: str) -> dict[str, str]:
    """The environment of a deployed process: its own settings only, nothing inherited."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ALPHAPEER_") and k != "DISCORD_BOT_TOKEN"}
    env.update(ALPHAPEER_DATABASE_URL=database_url, ALPHAPEER_APP_DATA_DIR=str(data_dir),
               ALPHAPEER_SECRET_KEY="s" * 40, ALPHAPEER_WEB_PORT=str(web_port),
               ALPHAPEER_WEB_PUBLIC_URL=PUBLIC_URL, ALPHAPEER_TELEGRAM_BASE_URL=fake.base_url,
               TELEGRAM_BOT_TOKEN=fake.token, **extra)
    return env


class BotProcess:
    """``alphapeer run``, started again after every kill; each life logs to its own file."""

    def __init__(self, env: dict[str, str], folder: Path, fake: FakeTelegram) -> None:
        self.env = env
        self.folder = folder
        self.fake = fake
        self.lives = 0
        self.started: list[float] = []  # time.time() at each life's start
        self.killed: list[float] = []  # ... and at each SIGKILL
        self.proc: asyncio.subprocess.Process | None = None
        self._calls_at_start = 0

    async def start(self) -> None:
        self.lives += 1
        self._calls_at_start = len(self.fake.calls)
        self.started.append(time.time())
        with (self.folder / f"life{self.lives:03d}.stderr").open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "alphapeer", "run", cwd=ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=err)

    async def ready(self, within: float = 60.0) -> None:
        """Until this life polls Telegram (it is serving chats from then on)."""
        deadline = time.monotonic() + within
        while "getUpdates" not in self.fake.calls[self._calls_at_start:]:
            assert self.running, f"alphapeer run exited {self.returncode}: {self.stderr()}"
            assert time.monotonic() < deadline, f"not polling after {within}s: {self.stderr()}"
            await asyncio.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def kill(self) -> None:
        assert self.proc is not None and self.running, f"it died by itself: {self.stderr()}"
        self.killed.append(time.time())
        self.proc.send_signal(signal.SIGKILL)  # no goodbye: whatever was in flight is cut
        await self.proc.wait()

    def startup_seconds(self, polls: list[float]) -> list[float]:
        """For each life that came to poll: seconds from its start to its first getUpdates."""
        out = []
        for n, started in enumerate(self.started):
            end = self.started[n + 1] if n + 1 < len(self.started) else float("inf")
            first = next((p for p in polls if started <= p < end), None)
            if first is not None:
                out.append(first - started)
        return out

    def life_at(self, at: float) -> int:
        """The life (0-based) that made a call or a claim at ``at``. Lives never overlap, and
        a new one needs over a second to import before it calls anything, so the boundary
        sits half a second after each start: a request the killed life had written to its
        socket may still reach the stand-in just after the next start."""
        return max(0, bisect.bisect_right(self.started, at - 0.5) - 1)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM, as a deployment stops it; the exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=within)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return int(self.proc.returncode or 0)

    def stderr(self, tail: int = 4000) -> str:
        return self.all_stderr()[-tail:]

    def all_stderr(self) -> str:
        return "".join(p.read_text(errors="replace")
                       for p in sorted(self.folder.glob("life*.stderr")))


@dataclass
class Sent:
    """One update a user sent, and where the bot's answer to it will show."""

    update_id: int
    chat_id: int
    at: float  # time.time() when it was queued at the stand-in
    after: int  # answers are messages newer than this message id, or ...
    clicked: BotMessage | None  # ... the clicked message, edited in place
    query_id: str | None  # a button press: the callback query the bot must answer once


@dataclass
class TelegramUser:
    """A person on Telegram: sends, clicks, and waits for the answer to what they sent."""

    fake: FakeTelegram
    user_id: int
    name: str
    sent: list[Sent] = field(default_factory=list)

    def _newest_id(self) -> int:
        mine = self.fake.chat(self.user_id)
        return mine[-1].message_id if mine else 0

    def send(self, text: str) -> Sent:
        after = self._newest_id()
        update = self.fake.user_sends(self.user_id, text, self.name)
        return self._record(update["update_id"], after, None, None)

    def click(self, message: BotMessage, label: str) -> Sent:
        after = self._newest_id()
        update = self.fake.user_clicks(self.user_id, message, label, self.name)
        return self._record(update["update_id"], after, message,
                            update["callback_query"]["id"])

    def _record(self, update_id: int, after: int, clicked: BotMessage | None,
                query_id: str | None) -> Sent:
        sent = Sent(update_id, self.user_id, time.time(), after, clicked, query_id)
        self.sent.append(sent)
        return sent

    def answers(self, sent: Sent) -> list[BotMessage]:
        """Messages that arrived after ``sent``, and the clicked message if it was edited."""
        out = [m for m in self.fake.chat(self.user_id) if m.message_id > sent.after]
        if sent.clicked is not None and sent.clicked not in out:
            out.insert(0, sent.clicked)
        return out

    async def answer(self, sent: Sent, *needles: str, within: float) -> BotMessage | None:
        """The first answer to ``sent`` containing one of ``needles``; None after ``within``
        seconds (the answer was lost, or the bot said something else)."""
        deadline = time.monotonic() + within
        while True:
            for message in self.answers(sent):
                if any(n in message.text for n in needles):
                    return message
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)

    def find(self, needle: str) -> BotMessage | None:
        """The newest message in this chat containing ``needle``."""
        found = [m for m in self.fake.chat(self.user_id) if needle in m.text]
        return found[-1] if found else None


# --- counting the bot's answers per update ----------------------------------------------


@dataclass
class Accounting:
    """Each update the users sent, with the calls that answered it."""

    calls: dict[int, list[Call]]  # update id → its answering calls
    cut: list[int]  # committed, then the process was killed before it could answer
    problems: list[str]  # answered twice, not answered, or an answer that answers nothing
    notices: int  # messages to people outside any turn (the outbox), delivered
    notices_again: int  # ... of them delivered a second time (a kill between send and mark)


def account(fake: SoakTelegram, bot: BotProcess, sent: Iterable[Sent],
            claims: dict[int, float], notices: dict[int, Counter[str]]) -> Accounting:
    """Trace each of the bot's answers to the update it answered.

    A button press is answered by answerCallbackQuery with its query id: that count is
    exact. A text is traced through the inbox: a process handles one chat's updates one at a
    time, claiming each (``claims``: update id → handled_at) before it answers, so a message
    in a chat belongs to the update claimed last in that chat by the life that sent it.
    Messages the outbox sent (``notices``: chat → texts queued for it) answer no update.

    An update committed and then left unanswered is excused only when it was the last one its
    chat had in a life that was killed (the SIGKILL came between the commit and the answer);
    anything else is a problem.
    """
    updates = {s.update_id: s for s in sent}
    query_of = {s.query_id: s.update_id for s in updates.values() if s.query_id}
    problems: list[str] = []
    windows: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for s in updates.values():
        at = claims.get(s.update_id)
        if at is None:
            problems.append(f"update {s.update_id} was never handled")
            continue
        windows.setdefault((s.chat_id, bot.life_at(at)), []).append((at, s.update_id))
    for window in windows.values():
        window.sort()
    calls: dict[int, list[Call]] = {u: [] for u in updates}
    delivered: Counter[tuple[int, str]] = Counter()
    for call in fake.answers:
        if call.chat_id is None:
            owner = query_of.get(call.query_id)
            if owner is None:
                problems.append(f"a callback query nobody sent was answered: {call}")
            else:
                calls[owner].append(call)
            continue
        notice = _notice(notices.get(call.chat_id, Counter()), call)
        if notice is not None:
            delivered[(call.chat_id, notice)] += 1
            continue
        window = windows.get((call.chat_id, bot.life_at(call.at)), [])
        i = bisect.bisect_right(window, (call.at, float("inf"))) - 1
        if i < 0:
            problems.append(f"an answer before any update of that chat was handled: {call}")
            continue
        calls[window[i][1]].append(call)
    last_of_killed_life = {w[-1][1] for (_chat, life), w in windows.items()
                           if life < len(bot.killed)}
    cut: list[int] = []
    for update_id, mine in calls.items():
        if update_id not in claims:
            continue
        s = updates[update_id]
        queries = [c for c in mine if c.method == "answerCallbackQuery"]
        visible = [c for c in mine if c.method != "answerCallbackQuery"]
        sends = Counter((c.method, c.text) for c in visible if c.method.startswith("send"))
        if len(queries) > 1 or any(n > 1 for n in sends.values()):
            problems.append(f"update {update_id} answered twice: {mine}")
            continue
        if s.query_id is not None:
            # A toast (text on the query) is a whole answer; else the edit or message is.
            whole = bool(queries) and (bool(visible) or bool(queries[0].text))
        else:
            whole = bool(visible)
        if whole:
            continue
        if update_id in last_of_killed_life:
            cut.append(update_id)
        else:
            problems.append(f"update {update_id} was handled but not answered: {mine}")
    again = sum(max(0, n - notices[chat][text]) for (chat, text), n in delivered.items())
    return Accounting(calls, sorted(cut), problems, sum(delivered.values()), again)


def _notice(queued: Counter[str], call: Call) -> str | None:
    """The outbox text ``call`` delivered, if it was one (a file's caption is its start)."""
    if not call.method.startswith("send") or call.refused is not None:
        return None
    if queued[call.text]:
        return call.text
    if call.method != "sendMessage":
        return next((t for t in queued if call.text and t.startswith(call.text)), None)
    return None


async def inbox_and_outbox(db: Database) -> tuple[dict[int, float], dict[int, Counter[str]]]:
    """From the database: when each Telegram update was claimed (update id → time.time()),
    and the texts the outbox queued for each Telegram chat."""
    async with db.uow() as uow:
        q = uow.session
        claimed = (await q.execute(select(InboundUpdate.update_id, InboundUpdate.handled_at)
                                   .where(InboundUpdate.platform == "telegram",
                                          InboundUpdate.handled_at.is_not(None)))).all()
        queued = (await q.execute(select(Identity.external_id, OutboxMessage.text)
                                  .join(Identity, Identity.user_id == OutboxMessage.user_id)
                                  .where(Identity.platform == "telegram"))).all()
    notices: dict[int, Counter[str]] = {}
    for chat, text in queued:
        notices.setdefault(int(chat), Counter())[text] += 1
    return {int(u): at.timestamp() for u, at in claimed}, notices
