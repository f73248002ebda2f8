"""What a simulated Telegram user does: the whole booking journey against Alpha Peer (start,
pick a role and a timezone, book the first available time, hold it, pay on the checkout
page, see the receipt, list their bookings), or the same number of messages and button
presses against the echo bot. Each step records the seconds from update to reply."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import aiohttp

from bench.bot_api import LoadTelegram
from tests.fake_telegram import BotMessage

COURSE = "Bench Course"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    retries: int = 0  # a slot taken by someone faster: picked another time
    failures: list[str] = field(default_factory=list)


class User:
    def __init__(self, api: LoadTelegram, user_id: int, tally: Tally) -> None:
        self.api, self.id, self.tally = api, user_id, tally
        self.name = f"U{user_id}"

    async def _wait(self, needle: str, pushed: float) -> BotMessage:
        message, seconds = await self.api.reply(self.id, needle, pushed)
        self.tally.latencies.append(seconds)
        self.tally.updates += 1
        return message

    async def say(self, text: str, needle: str) -> BotMessage:
        self.api.waiters[self.id].clear()
        pushed = time.perf_counter()
        self.api.user_sends(self.id, text, self.name)
        return await self._wait(needle, pushed)

    async def click(self, message: BotMessage, label: str, needle: str) -> BotMessage:
        self.api.waiters[self.id].clear()
        pushed = time.perf_counter()
        self.api.user_clicks(self.id, message, label, self.name)
        return await self._wait(needle, pushed)


def _time_button(message: BotMessage) -> str:
    """The label of the first time offered (after a lost race the flow shows the day)."""
    for button in message.buttons:
        if ":" in button["text"] and "callback_data" in button:
            return str(button["text"])
    raise AssertionError(f"no time offered in {message.text[:200]!r}")


async def book(user: User, http: aiohttp.ClientSession, web: tuple[str, str],
               *, pay: bool = True) -> None:
    """/start → learn → timezone → /book → course → first available → hold → pay → receipt
    → /mybookings: eight updates, and one checkout over HTTP. ``web`` maps the public
    address in pay links to where the server listens."""
    m = await user.say("/start", "What brings you here?")
    m = await user.click(m, "I want to learn", "Which timezone")
    await user.click(m, "London", "You're all set")
    m = await user.say("/book", "Which course")
    m = await user.click(m, COURSE, "Who would you like to learn with?")
    m = await user.click(m, "First available", "Please check your session")
    for _ in range(5):
        m = await user.click(m, "Hold & pay", "")
        if "Held!" in m.text:
            break
        user.tally.retries += 1  # someone was faster: take the first time still free
        m = await user.click(m, _time_button(m), "Please check your session")
    else:
        user.tally.failures.append(f"user {user.id}: no hold after 5 tries")
        return
    if pay:
        link = next(b["url"] for b in m.buttons if "url" in b and "/pay/" in b["url"])
        link = link.replace(*web, 1)
        user.api.waiters[user.id].clear()
        async with http.get(link, allow_redirects=False) as resp:
            checkout = resp.headers["Location"].replace(*web, 1)
        async with http.post(checkout, data={"action": "pay"}) as resp:
            await resp.read()
        await user.api.reply(user.id, "Receipt", time.perf_counter())
    await user.say("/mybookings", "Your upcoming sessions")


async def echo(user: User) -> None:
    """The same shape against the echo bot: three messages and five presses."""
    m = await user.say("/start", "/start")
    m = await user.click(m, "Next", "pressed 1")
    m = await user.click(m, "Next", "pressed 2")
    m = await user.say("/book", "/book")
    for n in range(1, 4):
        m = await user.click(m, "Next", f"pressed {n}")
    await user.say("/mybookings", "/mybookings")


async def start_only(user: User) -> None:
    """A first contact: one update (the many-distinct-users memory run)."""
    await user.say("/start", "What brings you here?")
