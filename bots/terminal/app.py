"""The terminal chat loop: read a line, hand it to the dispatcher, print the replies."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from bots.terminal.ingest import Notice, OpenUrl, SwitchUser, ingest
from bots.terminal.render import render
from handlers.reply import Button, Reply
from handlers.turn import Turn

Handle = Callable[[Turn], Awaitable[list[Reply]]]
BANNER = (
    "Alpha Peer terminal chat. Type /start to begin, /help for commands, a number to press "
    "that button, ':as NAME' to be someone else. End with Ctrl-D."
)


def _reader(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines from a daemon thread, so Ctrl-C never waits for a blocked read; "" = end."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=pump, name="terminal-stdin", daemon=True).start()
    return lines


async def run_terminal(
    handle: Handle, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
    settle: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Run until end of input; returns the exit status (0). ``settle`` runs after each
    reply (delivering what the turn queued), so notifications print beside their cause."""
    lines = _reader(stdin)
    interactive = stdin.isatty()
    buttons: list[Button] = []
    takes_text = False

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    if interactive:
        say(BANNER)
    while True:
        if interactive:
            stdout.write(f"{user}> ")
            stdout.flush()
        line = await lines.get()
        if not line:
            return 0
        if not interactive:
            say(f"{user}> {line.rstrip()}")
        event = ingest(line, user, buttons, takes_text)
        if event is None:
            continue
        if isinstance(event, SwitchUser):
            user, buttons, takes_text = event.name, [], False
            say(f"(you are now {user})")
        elif isinstance(event, OpenUrl):
            say(f"(open in your browser: {event.url})")
        elif isinstance(event, Notice):
            say(f"({event.text})")
        else:
            replies = await handle(event)
            text, buttons = render(replies)
            takes_text = any(r.takes_text for r in replies)
            say(text)
            if settle is not None:
                await settle()


def terminal_sender(stdout: TextIO) -> Callable[[str, Reply], Awaitable[None]]:
    """Outbox sender for terminal identities: notifications print inline, marked as such."""

    async def send(external_id: str, reply: Reply) -> None:
        # Numbers press the last reply's buttons, so a notification's are shown unnumbered.
        text, _buttons = render([reply], speaker=f"📨 to {external_id}", numbered=False)
        stdout.write(text + "\n")
        stdout.flush()

    return send
