"""Runs tests/crash_scenario.py in a process that kills itself (SIGKILL) before a chosen SQL
statement or around a chosen provider call; run again, it carries on from wherever the last
process stopped.

By hand: ``CRASH_DB_URL=... CRASH_RECORD=/tmp/calls.jsonl [CRASH_AT=57] [CRASH_CALL=after:3]
[CRASH_ATTEMPT=1] .venv/bin/python -m tests.crash_worker`` exits 0 once the scenario finished.
``--serve`` runs a fork server instead (see ``serve``), so a test can restart the process
hundreds of times without paying the import time on each restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import FrozenClock
from core.db import create_engine
from core.uow import Database
from tests.crash_provider import die
from tests.crash_scenario import T0, play, settings_for

CHILD_SECONDS = 120  # a child still running after this is hung: it must not outlive the test

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Trace:
    """Statements of one run, and where its transactions began and ended (1-based statement
    numbers): enough for a test to choose a kill point inside every writing transaction."""

    statements: int = 0
    begun: int = 0
    last_begin: int = -1  # SQLite's BEGIN IMMEDIATE, sent by core.db's own "begin" listener
    wrote: bool = False
    txns: list[tuple[int, int, bool]] = field(default_factory=list)

    def watch(self, engine: AsyncEngine, crash_at: int) -> None:
        def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            self.statements += 1
            if self.statements == crash_at:
                die()
            verb = statement.lstrip()[:6].upper()
            if verb.startswith("BEGIN"):
                self.last_begin = self.statements
            self.wrote = self.wrote or verb.startswith(WRITES)

        def begin(_conn: Any) -> None:
            # Whichever "begin" listener runs first, the transaction starts at its BEGIN.
            here = self.statements == self.last_begin
            self.begun = self.statements if here else self.statements + 1
            self.wrote = False

        def end(_conn: Any) -> None:
            if self.statements >= self.begun:
                self.txns.append((self.begun, self.statements, self.wrote))

        target = engine.sync_engine
        event.listen(target, "before_cursor_execute", before)
        event.listen(target, "begin", begin)
        event.listen(target, "commit", end)
        event.listen(target, "rollback", end)


async def _run(url: str, record: Path, crash_at: int, crash_call: str,
               attempt: int) -> dict[str, Any]:
    engine = create_engine(url, pool_size=2)
    trace = Trace()
    trace.watch(engine, crash_at)
    clock = FrozenClock(T0)
    db = Database(engine, clock, settings_for(url, record.parent))
    try:
        calls = await play(db, clock, record, attempt, crash_call)
    finally:
        await engine.dispose()
    return {"statements": trace.statements, "txns": trace.txns, "calls": calls}


def run_scenario(url: str, record: str, crash_at: int = 0, crash_call: str = "",
                 attempt: int = 0, stats: str = "") -> None:
    """One process lifetime: play the scenario from wherever it stands; with ``crash_at``
    (1-based SQL statement of this run) or ``crash_call`` the process is killed there.
    ``stats`` receives the run's trace (statements, transactions, provider calls)."""
    trace = asyncio.run(_run(url, Path(record), crash_at, crash_call, attempt))
    if stats:
        Path(stats).write_text(json.dumps(trace))


def serve() -> int:
    """A fork server: everything is imported once, then each request line (the JSON keyword
    arguments of ``run_scenario``) runs in a forked child: a fresh process with no engine,
    connection or event loop inherited. Answers each line with the child's exit status
    (``-9``: killed by SIGKILL)."""
    for line in sys.stdin:
        kwargs = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.alarm(CHILD_SECONDS)
            code = 1
            try:
                run_scenario(**kwargs)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"exit": code}), flush=True)
    return 0


def main() -> int:
    if sys.argv[1:] == ["--serve"]:
        return serve()
    env = os.environ
    run_scenario(env["CRASH_DB_URL"], env["CRASH_RECORD"], int(env.get("CRASH_AT", "0")),
                 env.get("CRASH_CALL", ""), int(env.get("CRASH_ATTEMPT", "0")),
                 env.get("CRASH_STATS", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
